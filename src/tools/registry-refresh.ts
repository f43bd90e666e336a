// registry-refresh: fetch the catalog sources again (all, or one); a long refresh goes on in the background.
import { z } from 'zod';
import { RefreshOutcomeSchema } from '../catalog/catalog.js';
import { checkSources } from '../catalog/lookups.js';
import { formatRefresh } from '../catalog/views.js';
import { SOURCE_NAME_MAX } from './args.js';
import type { CatalogKit } from './catalog-kit.js';
import { defineTool, type ToolDef } from './tool-def.js';

export function registryRefresh(kit: CatalogKit): ToolDef {
  const { catalog, deps } = kit;
  return defineTool({
    name: 'registry-refresh',
    audit: 'refresh',
    title: 'Refresh catalog sources',
    description:
      'Fetch the catalog sources again (all, or one). Sources fetched recently are skipped unless force is true; a refresh that takes long goes on in the background and registry-status shows its end.',
    input: z.strictObject({ source: z.string().min(1).max(SOURCE_NAME_MAX).optional(), force: z.boolean().default(false) }),
    output: z.object({ sources: z.array(RefreshOutcomeSchema) }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async handler(args, ctx) {
      const configNote = await kit.checkConfig();
      if (args.source !== undefined) checkSources(catalog, [args.source]);
      let step = 0;
      const running = catalog.refresh({ source: args.source, force: args.force, onProgress: (p) => ctx.progress(++step, undefined, `${p.source}: ${p.message}`) });
      const waitMs = deps.refreshWaitMs ?? 45_000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), waitMs)));
      const outcomes = await Promise.race([running, timeout]).finally(() => clearTimeout(timer));
      if (!outcomes) {
        running.catch(() => {});
        const status = await catalog.status();
        const sources = status
          .filter((s) => !args.source || s.name === args.source)
          .map((s) => ({ name: s.name, status: s.refreshing ? 'running' : 'pending', entries: s.entries, durationMs: waitMs }));
        return {
          text: `Refresh still running after ${Math.round(waitMs / 1000)} s; it goes on in the background. Search keeps working on the current catalog; registry-status shows when it is done.${configNote}`,
          structured: { sources },
        };
      }
      return { text: formatRefresh(outcomes) + configNote, structured: { sources: outcomes } };
    },
  });
}
