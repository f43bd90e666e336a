// The shapes of a mount as tools report them (registry-add, registry-active, registry-info): zod schemas first,
// the types inferred, so a tool's outputSchema and the runtime's values cannot drift apart.
import { z } from 'zod';

export type MountState = 'starting' | 'running' | 'idle' | 'crashed' | 'failed';

/** A tool held back because it differs from the approved one (the others work). */
export const WithheldToolSchema = z.object({
  /** The mounted name it would have. */
  name: z.string(),
  reason: z.enum(['changed', 'new']),
  /** The description the server presents now, to review before approving. */
  description: z.string().optional(),
});
export type WithheldTool = z.infer<typeof WithheldToolSchema>;

/** A mounted tool with its input schema, as registry-add lists it. */
export const MountedToolSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()),
});
export type MountedTool = z.infer<typeof MountedToolSchema>;

/** One mounted server (registry-active). */
export const MountInfoSchema = z.object({
  id: z.string(),
  prefix: z.string(),
  state: z.string(),
  tools: z.array(z.string()),
  startedAt: z.string().optional(),
  /** The version registry-add asked for (absent: the latest). */
  version: z.string().optional(),
  restarts: z.number(),
  lastError: z.string().optional(),
  /** Tools held back because they differ from the approved ones; `approval` says how to accept. */
  withheld: z.array(WithheldToolSchema).optional(),
  /** Approved tools the server no longer offers. */
  removedTools: z.array(z.string()).optional(),
  /** What changed since approval, and the command that accepts it. */
  approval: z.string().optional(),
  /** The source whose launch runs. */
  source: z.string().optional(),
});
export type MountInfo = z.infer<typeof MountInfoSchema> & { state: MountState };

/** What registry-add answers: the mount, its tools with their schemas, and what to know about it. */
export interface AddResult {
  mount: MountInfo;
  tools: MountedTool[];
  /** Policy's warning (a deprecated entry). */
  warning?: string;
  /** The container runs without the memory, CPU and pids limits it asked for (rootless podman on cgroup v1), and the fix. */
  limits?: string;
}
