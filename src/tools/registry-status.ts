// registry-status: each source's entries, last refresh and error; catalog size; active servers; podman.
import { z } from 'zod';
import { RuntimeStatusSchema, type RuntimeStatus } from '../runtime/status.js';
import { StateRecoverySchema } from '../store/state.js';
import { READ_ONLY } from './args.js';
import type { CatalogKit } from './catalog-kit.js';
import { defineTool, type ToolDef } from './tool-def.js';

/** registry-status's result: the catalog's sources as reported, and the runtime's facts. */
export const RegistryStatusSchema = z.object({
  sources: z.array(
    z.object({
      name: z.string(),
      type: z.string(),
      enabled: z.boolean(),
      entries: z.number(),
      lastRefresh: z.string().optional(),
      lastError: z.string().optional(),
      refreshing: z.boolean(),
      warnings: z.array(z.string()).optional(),
      snapshot: z.string().optional(),
    }),
  ),
  entries: z.number(),
  active: z.number(),
  runtime: RuntimeStatusSchema.pick({ podman: true, rootless: true, resourceLimits: true, limits: true, builtImages: true }),
  /** State files found unreadable since the registry started, and what each was restored from. */
  recovered: z.array(StateRecoverySchema).optional(),
});
export type RegistryStatus = z.infer<typeof RegistryStatusSchema>;

export function registryStatus(kit: CatalogKit): ToolDef {
  const { catalog, deps } = kit;
  return defineTool({
    name: 'registry-status',
    audit: 'status',
    title: 'Registry status',
    description: 'Per-source entry counts, last refresh and last error; catalog size; active servers; container runtime.',
    input: z.strictObject({}),
    output: RegistryStatusSchema,
    annotations: READ_ONLY,
    async handler() {
      const configNote = await kit.checkConfig();
      const sources = (await catalog.status()).map((s) => ({
        name: s.name,
        type: s.type,
        enabled: s.enabled,
        entries: s.entries,
        refreshing: s.refreshing,
        ...(s.lastRefresh ? { lastRefresh: s.lastRefresh } : {}),
        ...(s.lastError ? { lastError: s.lastError } : {}),
        ...(s.warnings?.length ? { warnings: s.warnings } : {}),
        ...(s.snapshot ? { snapshot: s.snapshot } : {}),
      }));
      const rt: RuntimeStatus = (await deps.runtimeStatus?.()) ?? { podman: null, rootless: null, active: 0 };
      const runtime = {
        podman: rt.podman,
        rootless: rt.rootless,
        ...(rt.resourceLimits !== undefined ? { resourceLimits: rt.resourceLimits } : {}),
        ...(rt.limits ? { limits: rt.limits } : {}),
        ...(rt.builtImages ? { builtImages: rt.builtImages } : {}),
      };
      const structured: RegistryStatus = { sources, entries: catalog.size, active: rt.active, runtime, ...(rt.recovered?.length ? { recovered: rt.recovered } : {}) };
      return { text: formatStatus(structured) + configNote, structured };
    },
  });
}

function formatStatus(s: RegistryStatus): string {
  const lines = [`Catalog: ${s.entries} entries; ${s.active} active server${s.active === 1 ? '' : 's'}; podman: ${s.runtime.podman ?? 'not found'}${s.runtime.rootless === null ? '' : s.runtime.rootless ? ' (rootless)' : ' (rootful)'}`];
  if (s.runtime.limits) lines.push(`⚠ No resource limits: ${s.runtime.limits}`);
  const b = s.runtime.builtImages;
  const mb = (n: number) => `${Math.round(n / 1e6)} MB`;
  if (b) lines.push(`Built package images (${mb(b.totalBytes)} with their base images; mcp-registry prepare <id> --remove deletes one): ${b.images.map((i) => `${i.image} (${i.kind} ${i.package} ${i.version}, ${mb(i.ownBytes)} own)`).join('; ')}`);
  for (const r of s.recovered ?? []) {
    const kept = r.movedTo ? `kept as ${r.movedTo}` : 'could not be kept';
    const outcome = r.restoredFrom
      ? `restored the previous generation from ${r.restoredFrom} (written ${r.restoredWrittenAt}): at most the change made after that is lost`
      : `started empty (${r.lost}): its mounts, settings or secrets must be set again`;
    lines.push(`⚠ ${r.problem}, found ${r.at}; ${kept}; ${outcome}.`);
  }
  for (const src of s.sources) {
    lines.push(
      `- ${src.name}: ${src.enabled ? `${src.entries} entries` : 'disabled'}${src.snapshot ? ` (snapshot from ${src.snapshot.slice(0, 10)})` : ''}${src.lastRefresh ? `, refreshed ${src.lastRefresh}` : ', never refreshed'}${src.refreshing ? ', refreshing now' : ''}${src.lastError ? `; last error: ${src.lastError}` : ''}`,
    );
  }
  return lines.join('\n');
}
