// The runtime's part of registry-status: podman, rootless or not, resource limits, active mounts, and state files
// found unreadable since start (its schema is the one the tool's outputSchema reuses).
import { z } from 'zod';
import { StateRecoverySchema } from '../store/state.js';

export const RuntimeStatusSchema = z.object({
  podman: z.string().nullable(),
  rootless: z.boolean().nullable(),
  active: z.number(),
  /** False when podman cannot enforce memory, CPU and pids limits (rootless on cgroup v1); null without podman. */
  resourceLimits: z.boolean().nullable().optional(),
  /** What missing limits mean, and the fix. */
  limits: z.string().optional(),
  /** npm/PyPI/MCPB images built here (runtime/build/), their own disk use, and the total with each base image once. */
  builtImages: z
    .object({ images: z.array(z.object({ image: z.string(), kind: z.string(), package: z.string(), version: z.string(), ownBytes: z.number() })), totalBytes: z.number() })
    .optional(),
  /** State files (state.json, secrets.json) found unreadable, and what they were restored from. */
  recovered: z.array(StateRecoverySchema).optional(),
});
export type RuntimeStatus = z.infer<typeof RuntimeStatusSchema>;
