// registry-find: search the catalog by what a server does, by name or by tool name.
import { z } from 'zod';
import { SnapshotUseSchema } from '../catalog/catalog.js';
import { checkCategory, checkSources } from '../catalog/lookups.js';
import { describeSnapshot, emptyCatalogMessage, findItem, FindItemSchema, formatFindText } from '../catalog/views.js';
import { GovernanceFilterSchema, matchesGovernance } from '../catalog/governance-view.js';
import type { Entry } from '../model/entry.js';
import { ToolError } from '../model/tool-contract.js';
import { formatToolFindText, ToolFindItemSchema } from './tool-find.js';
import { READ_ONLY, SOURCE_NAME_MAX } from './args.js';
import type { CatalogKit } from './catalog-kit.js';
import { defineTool, type ToolDef } from './tool-def.js';

export function registryFind(kit: CatalogKit): ToolDef {
  const { catalog } = kit;
  return defineTool({
    name: 'registry-find',
    audit: 'find',
    title: 'Find MCP servers',
    description:
      'Search the catalog of MCP servers by what they do, by name, or by tool name. Typo-tolerant; natural-language queries work ("query a postgres database", "send a slack message"). Returns ids for registry-info / registry-add. kind "tools": single tools of any server, running or not, with the name to call.',
    input: z.strictObject({
      query: z.string().trim().min(1, 'query is empty: describe what the server should do, e.g. "query a postgres database"').max(500, 'query is longer than 500 characters: use a few keywords'),
      limit: z.number().int().min(1, 'limit must be at least 1').max(50, 'limit must be at most 50').default(10),
      sources: z.array(z.string().min(1).max(SOURCE_NAME_MAX)).max(20).optional().describe('only entries from these sources (e.g. ["docker"])'),
      source: z.string().min(1).max(SOURCE_NAME_MAX).optional().describe('one source: the same as sources: [source]'),
      category: z.string().min(1).max(100).optional().describe('e.g. database, development, communication'),
      runnable: z.boolean().optional().describe('true: only servers the registry can start'),
      governance: GovernanceFilterSchema.optional(),
      kind: z.enum(['servers', 'tools']).optional().describe('servers (default), or tools: single tools across all servers, running or not, with the name to call'),
    }),
    // `snapshot`: some sources still show the catalog snapshot shipped with the package (a first run), this old.
    output: z.object({ results: z.array(z.union([FindItemSchema, ToolFindItemSchema])), snapshot: SnapshotUseSchema.optional() }),
    annotations: READ_ONLY,
    async handler(args, ctx) {
      const configNote = await kit.checkConfig();
      // `source` as registry-list and registry-refresh spell it: unambiguous here, one more source.
      const sources = args.source === undefined ? args.sources : [...new Set([...(args.sources ?? []), args.source])];
      checkSources(catalog, sources ?? []);
      checkCategory(args.category);
      await kit.prepare(ctx.progress);
      if (args.kind === 'tools') {
        const filters = { sources, category: args.category, runnable: args.runnable, visible: (e: Entry) => kit.visible(e.id) };
        const results = kit.tools.find(args.query, args.limit, filters);
        if (!catalog.hasData) throw new ToolError(emptyCatalogMessage(await catalog.status()));
        return { text: formatToolFindText(args.query, results) + configNote, structured: { results } };
      }
      const hits = catalog.search(args.query, {
        limit: args.limit,
        filters: { sources, category: args.category, runnable: args.runnable, visible: (e) => kit.visible(e.id) && matchesGovernance(e, args.governance) },
      });
      // Which tools of each server the query matched: what to call once it runs.
      const matched = kit.tools.matchedTools(args.query, hits.map((h) => h.entry));
      const results = hits.map((h) => {
        const item = findItem(h.entry, h.score, kit.hooks);
        const names = matched.get(h.entry.id);
        return names ? { ...item, matchedTools: names } : item;
      });
      if (!catalog.hasData) throw new ToolError(emptyCatalogMessage(await catalog.status()));
      const loading = catalog.loadingSources;
      const snapshot = catalog.snapshotUse();
      const note =
        (loading.length ? `\n(First run: still fetching ${loading.join(', ')}; search again in a minute for more results.)` : '') +
        (snapshot ? `\n(${describeSnapshot(snapshot)})` : '');
      return { text: formatFindText(args.query, results) + note + configNote, structured: { results, ...(snapshot ? { snapshot } : {}) } };
    },
  });
}
