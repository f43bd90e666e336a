// registry-info: everything about one entry — sources, how it runs, settings and secrets, tools, trust, pins.
import { z } from 'zod';
import { entryInfo, EntryInfoSchema } from '../catalog/pages.js';
import { EntryIdArg, READ_ONLY } from './args.js';
import type { CatalogKit } from './catalog-kit.js';
import { defineTool, type ToolDef } from './tool-def.js';

export function registryInfo(kit: CatalogKit): ToolDef {
  return defineTool({
    name: 'registry-info',
    audit: 'info',
    title: 'Details of a catalog entry',
    description: 'Everything about one server: sources, repository, how it runs, the settings and secrets it needs, its known tools and trust status. Accepts an id or any alias.',
    input: z.strictObject({ id: EntryIdArg }),
    output: EntryInfoSchema,
    annotations: { ...READ_ONLY, openWorldHint: true },
    async handler(args, ctx) {
      const configNote = await kit.checkConfig();
      await kit.prepare(ctx.progress);
      const g = kit.governance;
      const res = await entryInfo(kit.catalog, args.id, { visible: kit.visible, hooks: kit.hooks, details: g?.details, launches: g?.launches }, 'mcp');
      return { text: res.text + configNote, structured: res.structured };
    },
  });
}
