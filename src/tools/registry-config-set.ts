// registry-config-set: store the settings and secrets a server needs (validated; secrets never shown again).
import { z } from 'zod';
import type { MountManager } from '../runtime/mounts/manager.js';
import { EntryIdArg } from './args.js';
import { defineTool, type ToolDef } from './tool-def.js';

export function registryConfigSet(manager: MountManager): ToolDef {
  return defineTool({
    name: 'registry-config-set',
    audit: 'config-set',
    title: 'Set settings and secrets of a server',
    description:
      'Set settings and secrets a server needs (names from registry-info). Values are validated against what the server declares; secrets are kept in a private file and never shown again. A running server restarts to pick them up.',
    input: z.strictObject({
      id: EntryIdArg,
      values: z.record(z.string(), z.unknown()).refine((v) => Object.keys(v).length > 0, 'values is empty: pass e.g. {"API_TOKEN": "…"}'),
    }),
    output: z.object({ id: z.string(), set: z.array(z.string()), missing: z.array(z.string()) }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async handler(args, ctx) {
      const r = await manager.configSet(args.id, args.values, ctx);
      const lines = [`${r.id}: set ${r.set.length ? r.set.join(', ') : 'nothing'}.`];
      if (r.missing.length) lines.push(`Still missing: ${r.missing.join(', ')}.`);
      else lines.push(r.restarted ? 'It was running and has been restarted with the new values.' : 'Everything it needs is set; registry-add starts it.');
      return { text: lines.join(' '), structured: { id: r.id, set: r.set, missing: r.missing } };
    },
  });
}
