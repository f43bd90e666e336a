// registry-exec: call any mounted tool by its mounted name (for clients that do not refresh their tool list).
import { z } from 'zod';
import type { MountManager } from '../runtime/mounts/manager.js';
import { defineTool, type ToolDef } from './tool-def.js';

/** registry-exec's input, shared by registry-exec-readonly (the same call, with a narrower gate). */
export const execInput = z.strictObject({
  tool: z.string().trim().min(1, 'tool is empty: pass a mounted tool name such as "tiny__echo"').max(64),
  arguments: z.record(z.string(), z.unknown()).optional(),
});

export function registryExec(manager: MountManager): ToolDef {
  return defineTool({
    name: 'registry-exec',
    audit: 'exec',
    title: 'Call a mounted tool',
    description:
      'Call any mounted tool by its name (<prefix>__<tool>, as registry-add or registry-active list them) with its arguments. Use it when your client does not show the mounted tools. Returns the tool\'s result as it came.',
    input: execInput,
    annotations: { readOnlyHint: false, openWorldHint: true },
    async handler(args, ctx) {
      return manager.exec(args.tool, args.arguments, ctx);
    },
  });
}
