import { z } from 'zod';
import type { Catalog, RefreshOutcome, SnapshotUse } from '../catalog/catalog.js';
import { oneLine, type Entry } from '../catalog/entry.js';
import { emptyCatalogMessage, findItem, formatFindText, formatInfoText, formatLaunches, infoView, InfoViewSchema, LaunchViewSchema, type FindItem, type InfoView, type LaunchView, type Surface, type ViewHooks } from '../catalog/views.js';
import { closestName, defineTool, quoteInput, ToolError, type ToolDef } from './tool-def.js';
import { EntryIdArg, resolveEntry } from './resolve-entry.js';
import { CATEGORIES, categoryMatches, knownCategory } from '../catalog/categories.js';
import { FindGovernanceSchema, GovernanceFilterSchema, matchesGovernance } from '../catalog/governance-view.js';
import { formatToolFindText, ToolFinder, ToolFindItemSchema, type LiveMounts } from './tool-find.js';

export interface CatalogToolDeps {
  catalog: Catalog;
  hooks?: ViewHooks;
  /** Runtime facts for registry-status (issue 3 provides them). */
  runtimeStatus?: () => Promise<RuntimeStatusView>;
  /** How long registry-refresh waits before answering and letting the refresh go on in the background. */
  refreshWaitMs?: number;
  /** Hidden entries (policy: disabled, wrong environment) never appear in results. */
  visible?: (id: string) => boolean;
  /** Policy (issue 4): when given, it decides `visible` and `hooks.trust`, brought up to date before each search. */
  governance?: CatalogGovernance;
  /** Picks up an edited config.yaml before each call (App.checkConfig); a returned text is shown with the result. */
  checkConfig?: () => Promise<string | undefined>;
  /** Mounted servers and their tools, for registry-find kind "tools" (running, live tool lists). */
  mounts?: LiveMounts;
  /** One tool finder shared with registry-exec's just-in-time start (jit-exec.ts); made here when not given. */
  toolFinder?: ToolFinder;
}

/** The runtime's part of registry-status (runtime/index.ts fills it). */
export interface RuntimeStatusView {
  podman: string | null;
  rootless: boolean | null;
  active: number;
  /** False when podman cannot enforce memory, CPU and pids limits (rootless on cgroup v1); null without podman. */
  resourceLimits?: boolean | null;
  /** What missing limits mean, and the fix. */
  limits?: string;
  /** State files (state.json, secrets.json) found unreadable, and what they were restored from. */
  recovered?: StateRecoveryView[];
  /** npm/PyPI/MCPB images built here (runtime/build/), their own disk use, and the total with each base image once. */
  builtImages?: { images: { image: string; kind: string; package: string; version: string; ownBytes: number }[]; totalBytes: number };
}

/** A state file found unreadable (runtime/state.ts StateRecovery). */
export type StateRecoveryView = z.infer<typeof StateRecoverySchema>;

const StateRecoverySchema = z.object({
  file: z.string(),
  problem: z.string(),
  movedTo: z.string().optional(),
  restoredFrom: z.string().optional(),
  restoredWrittenAt: z.string().optional(),
  lost: z.string().optional(),
  at: z.string(),
});

/** An entry's standing under policy, as find/list/info show it. */
export interface GovernanceTrust {
  status: string;
  reason?: string;
  warning?: string;
  lifecycle?: 'active' | 'deprecated' | 'disabled';
  sunset?: string;
}

export interface CatalogGovernance {
  /** Bring the policy and approvals snapshot up to date (awaited before find, list and info). */
  prepare(): Promise<void>;
  visible(id: string): boolean;
  trust(entry: Entry): GovernanceTrust;
  /** Pins, changes waiting for approval and withheld tools of an entry (registry-info). */
  details?(entry: Entry): Promise<{ text: string[]; structured: Record<string, unknown> } | undefined>;
  /** Each launch with its source and trust, the default, and what a start would mount and as whom (registry-info). */
  launches?(entry: Entry): Promise<LaunchView[] | undefined>;
}

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

const FindItemSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  sources: z.array(z.string()),
  category: z.string().optional(),
  runnable: z.boolean(),
  runs: z.array(z.string()).optional(),
  requiresConfig: z.array(z.string()),
  score: z.number(),
  aliases: z.array(z.string()).optional(),
  status: z.string().optional(),
  warning: z.string().optional(),
  sunset: z.string().optional(),
  signature: z.string().optional(),
  governance: FindGovernanceSchema.optional(),
  /** The server's tools the query matched (names to call once it runs), best first. */
  matchedTools: z.array(z.string()).optional(),
});

const SnapshotUseSchema = z.object({ asOf: z.string(), sources: z.array(z.string()), refreshing: z.boolean() });

const RefreshOutcomeSchema = z.object({
  name: z.string(),
  status: z.string(),
  entries: z.number(),
  error: z.string().optional(),
  durationMs: z.number(),
});

export function catalogTools(deps: CatalogToolDeps): ToolDef[] {
  const { catalog, governance } = deps;
  const hooks: ViewHooks = governance ? { ...deps.hooks, trust: (e) => governance.trust(e) } : (deps.hooks ?? {});
  const visible = governance ? (id: string) => governance.visible(id) : (deps.visible ?? (() => true));
  const tools = deps.toolFinder ?? new ToolFinder({ all: () => catalog.all(), mounts: deps.mounts, hooks, trust: hooks.trust });

  const waitForData = async (progress: (p: number, t: number | undefined, m: string) => void) => {
    await catalog.load();
    if (catalog.hasData && !catalog.loadingSources.length) return;
    let step = 0;
    progress(0, undefined, 'First run: fetching the catalog sources now…');
    await catalog.ready((p) => progress(++step, undefined, `${p.source}: ${p.message}`));
  };
  const checkConfig = async () => {
    const problem = await deps.checkConfig?.();
    return problem ? `\n⚠ ${problem}` : '';
  };
  // Each handler calls checkConfig first: a source an edit adds or fixes is known to the argument checks and is
  // being fetched before waitForData looks.
  const prepare = async (progress: (p: number, t: number | undefined, m: string) => void) => {
    await Promise.all([waitForData(progress), governance?.prepare()]);
  };

  const find = defineTool({
    name: 'registry-find',
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
      const configNote = await checkConfig();
      // `source` as registry-list and registry-refresh spell it: unambiguous here, one more source.
      const sources = args.source === undefined ? args.sources : [...new Set([...(args.sources ?? []), args.source])];
      checkSources(catalog, sources ?? []);
      checkCategory(args.category);
      await prepare(ctx.progress);
      if (args.kind === 'tools') {
        const filters = { sources, category: args.category, runnable: args.runnable, visible: (e: Entry) => visible(e.id) };
        const results = tools.find(args.query, args.limit, filters);
        if (!catalog.hasData) throw new ToolError(emptyCatalogMessage(await catalog.status()));
        return { text: formatToolFindText(args.query, results) + configNote, structured: { results } };
      }
      const hits = catalog.search(args.query, {
        limit: args.limit,
        filters: { sources, category: args.category, runnable: args.runnable, visible: (e) => visible(e.id) && matchesGovernance(e, args.governance) },
      });
      // Which tools of each server the query matched: what to call once it runs.
      const matched = tools.matchedTools(args.query, hits.map((h) => h.entry));
      const results = hits.map((h) => {
        const item = findItem(h.entry, h.score, hooks);
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

  const list = defineTool({
    name: 'registry-list',
    title: 'List catalog entries',
    description: 'Browse the catalog page by page (sorted by id), optionally by source or category. Pass nextCursor back as cursor for the next page.',
    input: z.strictObject({
      source: z.string().min(1).max(SOURCE_NAME_MAX).optional(),
      category: z.string().min(1).max(100).optional(),
      cursor: z.string().max(200).optional(),
      limit: z.number().int().min(1, 'limit must be at least 1').max(200, 'limit must be at most 200').default(50),
    }),
    output: z.object({ entries: z.array(FindItemSchema), nextCursor: z.string().optional(), total: z.number() }),
    annotations: READ_ONLY,
    async handler(args, ctx) {
      const configNote = await checkConfig();
      if (args.source !== undefined) checkSources(catalog, [args.source]);
      checkCategory(args.category);
      await prepare(ctx.progress);
      const page = listPage(catalog, args, { visible, hooks }, 'mcp');
      return { text: page.text + configNote, structured: page.structured };
    },
  });

  const info = defineTool({
    name: 'registry-info',
    title: 'Details of a catalog entry',
    description: 'Everything about one server: sources, repository, how it runs, the settings and secrets it needs, its known tools and trust status. Accepts an id or any alias.',
    input: z.strictObject({ id: EntryIdArg }),
    output: z.looseObject({ ...InfoViewSchema.shape, launches: z.array(LaunchViewSchema).optional(), pins: z.record(z.string(), z.unknown()).optional() }),
    annotations: { ...READ_ONLY, openWorldHint: true },
    async handler(args, ctx) {
      const configNote = await checkConfig();
      await prepare(ctx.progress);
      const res = await entryInfo(catalog, args.id, { visible, hooks, details: governance?.details, launches: governance?.launches }, 'mcp');
      return { text: res.text + configNote, structured: res.structured };
    },
  });

  const refresh = defineTool({
    name: 'registry-refresh',
    title: 'Refresh catalog sources',
    description:
      'Fetch the catalog sources again (all, or one). Sources fetched recently are skipped unless force is true; a refresh that takes long goes on in the background and registry-status shows its end.',
    input: z.strictObject({ source: z.string().min(1).max(SOURCE_NAME_MAX).optional(), force: z.boolean().default(false) }),
    output: z.object({ sources: z.array(RefreshOutcomeSchema) }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async handler(args, ctx) {
      const configNote = await checkConfig();
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
      return { text: formatRefresh(outcomes as RefreshOutcome[]) + configNote, structured: { sources: outcomes } };
    },
  });

  const status = defineTool({
    name: 'registry-status',
    title: 'Registry status',
    description: 'Per-source entry counts, last refresh and last error; catalog size; active servers; container runtime.',
    input: z.strictObject({}),
    output: z.object({
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
      runtime: z.object({
        podman: z.string().nullable(),
        rootless: z.boolean().nullable(),
        /** False when podman cannot enforce memory, CPU and pids limits (rootless on cgroup v1). */
        resourceLimits: z.boolean().nullable().optional(),
        limits: z.string().optional(),
        builtImages: z
          .object({ images: z.array(z.object({ image: z.string(), kind: z.string(), package: z.string(), version: z.string(), ownBytes: z.number() })), totalBytes: z.number() })
          .optional(),
      }),
      /** State files found unreadable since the registry started, and what each was restored from. */
      recovered: z.array(StateRecoverySchema).optional(),
    }),
    annotations: READ_ONLY,
    async handler() {
      const configNote = await checkConfig();
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
      const rt: RuntimeStatusView = (await deps.runtimeStatus?.()) ?? { podman: null, rootless: null, active: 0 };
      const runtime = {
        podman: rt.podman,
        rootless: rt.rootless,
        ...(rt.resourceLimits !== undefined ? { resourceLimits: rt.resourceLimits } : {}),
        ...(rt.limits ? { limits: rt.limits } : {}),
        ...(rt.builtImages ? { builtImages: rt.builtImages } : {}),
      };
      const structured = { sources, entries: catalog.size, active: rt.active, runtime, ...(rt.recovered?.length ? { recovered: rt.recovered } : {}) };
      return { text: formatStatus(structured) + configNote, structured };
    },
  });

  return [find, list, info, refresh, status];
}

/** Longer than any source name config.yaml could hold: refused before it is looked up or echoed. */
const SOURCE_NAME_MAX = 100;

/** Source names not in config.yaml are an error listing the configured ones (they used to filter out everything). */
export function checkSources(catalog: Pick<Catalog, 'config'>, names: readonly string[]): void {
  const known = catalog.config.sources.map((s) => s.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (!unknown.length) return;
  const near = unknown.length === 1 ? closestName(unknown[0]!, known) : undefined;
  throw new ToolError(
    `Unknown source${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 5).map((n) => quoteInput(n)).join(', ')}${near ? ` (did you mean "${near}"?)` : ''}: the configured sources are ${known.join(', ') || '(none)'}.`,
  );
}

/** A category filter must be a category (or a synonym of one): an unknown word is an error listing them. */
export function checkCategory(word: string | undefined): void {
  if (word === undefined || knownCategory(word)) return;
  const near = closestName(word, CATEGORIES);
  throw new ToolError(`Unknown category ${quoteInput(word)}${near ? ` (did you mean "${near}"?)` : ''}: the categories are ${CATEGORIES.join(', ')}.`);
}

/** One page of the catalog (registry-list and `mcp-registry list`): sorted by id, by source and category. */
export function listPage(
  catalog: Catalog,
  args: { source?: string; category?: string; cursor?: string; limit: number },
  view: { visible: (id: string) => boolean; hooks: ViewHooks },
  surface: Surface,
): { text: string; structured: { entries: FindItem[]; total: number; nextCursor?: string } } {
  const offset = decodeCursor(args.cursor, surface);
  const all = catalog
    .all()
    .filter((e) => view.visible(e.id))
    .filter((e) => !args.source || e.sources.some((s) => s.source === args.source))
    .filter((e) => !args.category || categoryMatches(e.category, args.category))
    .slice()
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const page = all.slice(offset, offset + args.limit);
  const entries = page.map((e) => findItem(e, 1, view.hooks));
  const next = offset + args.limit < all.length ? encodeCursor(offset + args.limit) : undefined;
  // The CLI's hint is a command line to paste (no full stop after it).
  const more =
    surface === 'mcp'
      ? `call registry-list with cursor "${next}".`
      : `mcp-registry list --cursor ${next}${args.source ? ` --source ${args.source}` : ''}${args.category ? ` --category ${args.category}` : ''}${args.limit !== 50 ? ` --limit ${args.limit}` : ''}`;
  const text = entries.length
    ? `${offset + 1}-${offset + entries.length} of ${all.length}:\n` + entries.map((e) => `${oneLine(e.id)} — ${oneLine(e.name)}`).join('\n') + (next ? `\nMore: ${more}` : '')
    : `No entries${args.source ? ` from source ${args.source}` : ''}${args.category ? ` in category ${args.category}` : ''}.`;
  return { text, structured: { entries, total: all.length, ...(next ? { nextCursor: next } : {}) } };
}

/** Everything about one entry (registry-info and `mcp-registry info`): details fetched once, policy standing, pins. */
export async function entryInfo(
  catalog: Catalog,
  id: string,
  view: { visible: (id: string) => boolean; hooks: ViewHooks; details?: CatalogGovernance['details']; launches?: CatalogGovernance['launches'] },
  surface: Surface,
): Promise<{ text: string; structured: InfoView & { launches?: LaunchView[]; pins?: Record<string, unknown> } }> {
  const entry = resolveEntry(catalog, id, view.visible, surface);
  const [detailed, pins] = await Promise.all([catalog.withDetail(entry), view.details?.(entry)]);
  const launches = await view.launches?.(detailed);
  const info = infoView(detailed, view.hooks);
  const lines = [formatInfoText(info, surface)];
  if (launches) lines.push(...formatLaunches(launches));
  if (info.trust.warning) lines.push(`⚠ ${info.trust.warning}`);
  if (pins) lines.push(...pins.text);
  return { text: lines.join('\n'), structured: { ...info, ...(launches ? { launches } : {}), ...(pins ? { pins: pins.structured } : {}) } };
}

function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}
function decodeCursor(cursor: string | undefined, surface: Surface): number {
  if (!cursor) return 0;
  const m = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new ToolError(`cursor ${quoteInput(cursor)} is not one ${surface === 'mcp' ? 'registry-list' : 'mcp-registry list'} gave out: omit it to start from the first page.`);
  return Number(m[1]);
}

export function formatRefresh(outcomes: RefreshOutcome[], surface: Surface = 'mcp'): string {
  return outcomes
    .map((o) => {
      const what = {
        ok: `refreshed, ${o.entries} entries`,
        unchanged: `no change, ${o.entries} entries`,
        skipped: `fetched recently, skipped (${o.entries} entries; ${surface === 'mcp' ? 'force: true' : '--force'} fetches anyway)`,
        cooldown: `refreshed moments ago, try again shortly (${o.entries} entries)`,
        busy: `being refreshed by another registry process (${o.entries} entries)`,
        error: `FAILED — ${o.error}; keeping the last good ${o.entries} entries`,
        disabled: 'disabled in config.yaml',
      }[o.status];
      return `${o.name}: ${what}${o.durationMs ? ` (${o.durationMs} ms)` : ''}`;
    })
    .join('\n');
}

/** "catalog snapshot from 2026-07-08 (docker, official); refreshing in the background". */
export function describeSnapshot(s: SnapshotUse, refresh = 'registry-refresh'): string {
  return `catalog snapshot from ${s.asOf.slice(0, 10)} (${s.sources.join(', ')}); ${s.refreshing ? 'refreshing in the background' : `${refresh} fetches current data`}`;
}

function formatStatus(s: {
  sources: { name: string; entries: number; lastRefresh?: string; lastError?: string; refreshing: boolean; enabled: boolean; snapshot?: string }[];
  entries: number;
  active: number;
  runtime: { podman: string | null; rootless: boolean | null; limits?: string; builtImages?: RuntimeStatusView['builtImages'] };
  recovered?: StateRecoveryView[];
}): string {
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
