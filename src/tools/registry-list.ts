// registry-list: browse the catalog page by page (sorted by id), by source or category.
import { z } from 'zod';
import { checkCategory, checkSources } from '../catalog/lookups.js';
import { listPage, ListPageSchema } from '../catalog/pages.js';
import { READ_ONLY, SOURCE_NAME_MAX } from './args.js';
import type { CatalogKit } from './catalog-kit.js';
import { defineTool, type ToolDef } from './tool-def.js';

export function registryList(kit: CatalogKit): ToolDef {
  const { catalog } = kit;
  return defineTool({
    name: 'registry-list',
    audit: 'list',
    title: 'List catalog entries',
    description: 'Browse the catalog page by page (sorted by id), optionally by source or category. Pass nextCursor back as cursor for the next page.',
    input: z.strictObject({
      source: z.string().min(1).max(SOURCE_NAME_MAX).optional(),
      category: z.string().min(1).max(100).optional(),
      cursor: z.string().max(200).optional(),
      limit: z.number().int().min(1, 'limit must be at least 1').max(200, 'limit must be at most 200').default(50),
    }),
    output: ListPageSchema,
    annotations: READ_ONLY,
    async handler(args, ctx) {
      const configNote = await kit.checkConfig();
      if (args.source !== undefined) checkSources(catalog, [args.source]);
      checkCategory(args.category);
      await kit.prepare(ctx.progress);
      const page = listPage(catalog, args, { visible: kit.visible, hooks: kit.hooks }, 'mcp');
      return { text: page.text + configNote, structured: page.structured };
    },
  });
}
