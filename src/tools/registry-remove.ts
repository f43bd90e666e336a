// registry-remove: stop a mounted server and remove its tools (it is no longer restored).
import { z } from 'zod';
import type { MountManager } from '../runtime/mounts/manager.js';
import { EntryIdArg } from './args.js';
import { defineTool, type ToolDef } from './tool-def.js';

export function registryRemove(manager: MountManager): ToolDef {
  return defineTool({
    name: 'registry-remove',
    audit: 'remove',
    title: 'Stop an MCP server',
    description: 'Stop a mounted server and remove its tools. It is no longer restored when the registry restarts.',
    input: z.strictObject({ id: EntryIdArg }),
    output: z.object({ id: z.string(), removed: z.boolean() }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async handler(args) {
      const removed = await manager.remove(args.id);
      return {
        text: removed ? `Removed ${args.id}: its container is stopped and its tools are gone.` : `${args.id} was not mounted; nothing to remove (registry-active lists what is).`,
        structured: { id: args.id, removed },
      };
    },
  });
}
