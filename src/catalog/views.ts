/** How entries appear in results (registry-find/-list, `search`): FindItem, its trust and governance view. */
import { z } from 'zod';
import { EntrySchema, isRunnable, oneLine, requiredConfig, type Entry } from '../model/entry.js';
import { tryQualifyImageRef } from '../model/image-ref.js';
import type { RefreshOutcome, SnapshotUse } from './catalog.js';
import { findGovernance, FindGovernanceSchema, governanceMarks } from './governance-view.js';
import type { HealthSummary } from './health-view.js';
import { notRunnableWhy, runKindsOf, type RunKind } from '../model/runner-kind.js';

/**
 * The shapes tools return (contract.md): compact for search results, whole for registry-info.
 * Pure functions of an entry, so the CLI, the MCP tools and tests share them.
 */
/** One search or list result (registry-find, registry-list, `mcp-registry search`). */
export const FindItemSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  sources: z.array(z.string()),
  category: z.string().optional(),
  runnable: z.boolean(),
  /** How it runs (model/runner-kind.ts): image, oci, npm, pypi, mcpb, remote, poci, other; the runnable ways first. */
  runs: z.array(z.string()).optional(),
  /** An npm or PyPI package: built already (starts like an image), or false — the first registry-add builds it. */
  built: z.boolean().optional(),
  requiresConfig: z.array(z.string()),
  score: z.number(),
  aliases: z.array(z.string()).optional(),
  status: z.string().optional(),
  warning: z.string().optional(),
  sunset: z.string().optional(),
  /** The signature outcome (file sources with verify.keys) and the governance facts its catalog states. */
  signature: z.string().optional(),
  governance: FindGovernanceSchema.optional(),
  /** registry-find: the server's tools the query matched (names to call once it runs), best first. */
  matchedTools: z.array(z.string()).optional(),
  /** Remote endpoints' health as serve-http's probes last saw it (catalog/health-view.ts); absent when never probed. */
  health: z.object({ status: z.string(), checkedAt: z.string().optional() }).optional(),
});
export type FindItem = Omit<z.infer<typeof FindItemSchema>, 'runs' | 'matchedTools'> & { runs: RunKind[] };

/** An entry's standing under policy, as find/list/info show it (policy's TrustView has more, passed on as is). */
export const GovernanceTrustSchema = z.looseObject({
  status: z.string(),
  reason: z.string().optional(),
  warning: z.string().optional(),
  lifecycle: z.enum(['active', 'deprecated', 'disabled']).optional(),
  sunset: z.string().optional(),
});
/** `signature`: the signature outcome when policy requires signatures (passed on, like the rest of TrustView). */
export type GovernanceTrust = z.infer<typeof GovernanceTrustSchema> & { signature?: string };

export interface ViewHooks {
  /** Setting/secret names the user has already set for an entry. */
  configured?(entry: Entry): Set<string>;
  /** Policy's view of an entry. */
  trust?(entry: Entry): GovernanceTrust;
  /** Whether the npm or PyPI package its default launch builds is built already; undefined when it builds nothing or it is not known yet. */
  built?(entry: Entry): boolean | undefined;
  /** Health of its remote endpoints (serve-http's probes, read from the shared store). */
  health?(entry: Entry): HealthSummary | undefined;
}

/**
 * Policy as registry-find, -list and -info apply it (governance/catalog-view.ts builds it): `prepare` brings the
 * policy and approvals snapshot up to date, then visibility and trust answer synchronously.
 */
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

/** Who reads a text: an agent through MCP (hints name MCP tools) or a person at the CLI (hints name commands). */
export type Surface = 'mcp' | 'cli';

const SHORT = 240;

export function shortDescription(s: string, max = SHORT): string {
  const one = oneLine(s);
  return one.length > max ? one.slice(0, max - 1) + '…' : one;
}

export function missingConfig(entry: Entry, hooks: ViewHooks = {}): string[] {
  const set = hooks.configured?.(entry) ?? new Set<string>();
  return requiredConfig(entry).filter((n) => !set.has(n));
}

export function findItem(entry: Entry, score: number, hooks: ViewHooks = {}): FindItem {
  const item: FindItem = {
    id: entry.id,
    name: entry.name,
    description: shortDescription(entry.description),
    sources: [...new Set(entry.sources.map((s) => s.source))],
    runnable: isRunnable(entry),
    runs: runKindsOf(entry.launch),
    requiresConfig: missingConfig(entry, hooks),
    score: Math.round(score * 1000) / 1000,
  };
  if (entry.category) item.category = entry.category;
  if (entry.aliases.length) item.aliases = entry.aliases;
  const trust = hooks.trust?.(entry);
  // Marked when it was checked (signed, or a bad signature), or when policy requires signatures (trust says so).
  const signature = trust?.signature ?? (entry.provenance?.signature !== 'unsigned' ? entry.provenance?.signature : undefined);
  if (signature) item.signature = signature;
  const gov = findGovernance(entry);
  if (gov) item.governance = gov;
  const built = hooks.built?.(entry);
  if (built !== undefined) item.built = built;
  if (trust?.warning) item.warning = trust.warning;
  if (entry.status && entry.status !== 'active') item.status = entry.status;
  // Policy's lifecycle: a deprecated entry says so, with its sunset date.
  if (trust?.lifecycle === 'deprecated') {
    item.status = 'deprecated';
    if (trust.sunset) item.sunset = trust.sunset;
  }
  const health = hooks.health?.(entry);
  if (health) item.health = { status: health.status, ...(health.checkedAt ? { checkedAt: health.checkedAt } : {}) };
  return item;
}

/**
 * Text output puts every catalog string through oneLine: sources normalise names already (entry.ts), but a cache
 * written before that, tool names (the server's own) and the agent's query are not, and none may forge a line.
 */
export function formatFindText(query: string, items: FindItem[], surface: Surface = 'mcp'): string {
  query = oneLine(query);
  if (!items.length) {
    const browse = surface === 'mcp' ? 'registry-list' : 'mcp-registry list';
    return `No servers match "${query}". Try other words for what the server should do (e.g. "query a postgres database"), fewer filters, or ${browse} to browse.`;
  }
  const lines = [`${items.length} server${items.length > 1 ? 's' : ''} for "${query}":`];
  for (const [i, it] of items.entries()) {
    const flags = [it.runnable ? 'runnable' : 'not runnable here', it.built === false ? 'needs a first build' : it.built ? 'built' : '', it.requiresConfig.length ? `needs ${oneLine(it.requiresConfig.join(', '))}` : '', it.health ? `health ${it.health.status}` : '']
      .filter(Boolean)
      .join('; ');
    lines.push(`${i + 1}. ${oneLine(it.id)} — ${oneLine(it.name)}${it.category ? ` [${oneLine(it.category)}]` : ''} (${flags})`);
    if (it.description) lines.push(`   ${shortDescription(it.description, 160)}`);
    if (it.warning) lines.push(`   ⚠ ${oneLine(it.warning)}`);
    const marks = governanceMarks(it);
    if (marks) lines.push(`   ${oneLine(marks)}`);
  }
  lines.push(
    surface === 'mcp'
      ? 'Use registry-info <id> for details, registry-add <id> to start one.'
      : 'Details: mcp-registry info <id>. To start one, ask your agent (MCP tool registry-add <id>).',
  );
  return lines.join('\n');
}

const entryField = EntrySchema.shape;

/** One setting, secret or environment variable an entry needs. */
const ConfigItemSchema = z.object({
  name: z.string(),
  kind: z.enum(['setting', 'secret', 'env']),
  secret: z.boolean(),
  required: z.boolean(),
  description: z.string().optional(),
  /** As the catalog's JSON Schema of settings declares it. */
  type: z.unknown().optional(),
  default: z.unknown().optional(),
  env: z.string().optional(),
  set: z.boolean(),
});

/**
 * registry-info's result: its output schema and its type in one definition. Fields that come from the entry reuse
 * the entry's schemas. Open objects (the whole view, trust) so that a field added elsewhere without coming here
 * still validates in clients; add it here all the same, so clients learn of it.
 */
export const InfoViewSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  nativeName: z.string(),
  description: z.string(),
  category: z.string().optional(),
  tags: z.array(z.string()),
  repository: z.string().optional(),
  website: z.string().optional(),
  icon: z.string().optional(),
  official: z.boolean().optional(),
  version: z.string().optional(),
  status: z.string(),
  updatedAt: z.string().optional(),
  sources: entryField.sources,
  aliases: z.array(z.string()),
  runnable: z.boolean(),
  /** How it runs, and why not when it cannot (runner-kind.ts). */
  runs: z.array(z.string()),
  notRunnable: z.string().optional(),
  launch: entryField.launch,
  requiredConfig: z.array(ConfigItemSchema),
  missingConfig: z.array(z.string()),
  tools: entryField.tools,
  dynamicTools: z.boolean(),
  oauth: entryField.oauth,
  trust: GovernanceTrustSchema,
  readme: z.string().optional(),
  /** What the catalog states about ownership, approval and review (registry.yaml, servers/<name>.yaml). */
  governance: entryField.governance,
  lifecycle: entryField.lifecycle,
  versions: entryField.versions,
  provenance: entryField.provenance,
  /** Remote endpoints' health (serve-http's probes): state, since when, last check, latency, last error. */
  health: z
    .object({ status: z.string(), since: z.string(), checkedAt: z.string().optional(), latencyMs: z.number().optional(), lastError: z.string().optional(), endpoints: z.array(z.object({ url: z.string(), status: z.string() })).optional() })
    .optional(),
});
export type InfoView = z.infer<typeof InfoViewSchema>;

/** Everything a user or agent needs to decide about and run an entry. */
export function infoView(entry: Entry, hooks: ViewHooks = {}): InfoView {
  const configured = hooks.configured?.(entry) ?? new Set<string>();
  const params = (entry.config.parameters ?? {}) as { properties?: Record<string, { description?: string; type?: unknown; default?: unknown }>; required?: string[] };
  const requiredParams = new Set(params.required ?? []);
  const settings = [
    ...Object.entries(params.properties ?? {}).map(([name, p]) => ({
      name,
      kind: 'setting' as const,
      secret: false,
      required: requiredParams.has(name),
      // The settings schema is the catalog's, unchecked: only a string is a description.
      description: typeof p?.description === 'string' ? p.description : undefined,
      type: p?.type,
      default: p?.default,
      env: undefined as string | undefined,
      set: configured.has(name),
    })),
    ...entry.config.secrets.map((s) => ({ name: s.name, kind: 'secret' as const, secret: true, required: s.required, env: s.env, description: s.description, set: configured.has(s.name) })),
    ...entry.config.env
      .filter((v) => !v.value)
      .map((v) => ({ name: v.name, kind: 'env' as const, secret: false, required: !!v.required, env: v.name, description: v.description, set: configured.has(v.name) })),
  ];
  return {
    id: entry.id,
    name: entry.name,
    nativeName: entry.nativeName,
    description: entry.description,
    category: entry.category,
    tags: entry.tags,
    repository: entry.repository,
    website: entry.website,
    icon: entry.icon,
    official: entry.official,
    version: entry.version,
    status: entry.status ?? 'active',
    updatedAt: entry.updatedAt,
    sources: entry.sources,
    aliases: entry.aliases,
    runnable: isRunnable(entry),
    runs: runKindsOf(entry.launch),
    ...(isRunnable(entry) ? {} : { notRunnable: notRunnableWhy(entry.launch) }),
    launch: entry.launch,
    requiredConfig: settings,
    missingConfig: missingConfig(entry, hooks),
    tools: entry.tools,
    dynamicTools: entry.dynamicTools ?? false,
    oauth: entry.oauth,
    trust: hooks.trust?.(entry) ?? { status: 'unknown' },
    readme: entry.readme,
    ...(entry.governance ? { governance: entry.governance } : {}),
    ...(entry.lifecycle ? { lifecycle: entry.lifecycle } : {}),
    ...(entry.versions?.length ? { versions: entry.versions } : {}),
    ...(entry.provenance ? { provenance: entry.provenance } : {}),
    ...withHealth(hooks.health?.(entry)),
  };
}

const withHealth = (h: HealthSummary | undefined) => (h ? { health: h } : {});

/** "ACTIVE since …, checked …, 120 ms" — or INACTIVE with the last error. */
function healthLine(h: NonNullable<InfoView['health']>): string {
  const facts = [`since ${h.since}`, h.checkedAt && `checked ${h.checkedAt}`, h.latencyMs !== undefined && `${h.latencyMs} ms`, h.lastError && `last error: ${oneLine(h.lastError)}`];
  return `Health: ${h.status} (${facts.filter(Boolean).join(', ')})`;
}

export function formatInfoText(v: InfoView, surface: Surface = 'mcp'): string {
  const t = oneLine;
  const lines = [`${t(v.id)} — ${t(v.name)}${v.status !== 'active' ? ` (${v.status})` : ''}`];
  if (v.description) lines.push(shortDescription(v.description, 600));
  lines.push(`Sources: ${t(v.sources.map((s) => s.id).join(', '))}`);
  if (v.repository) lines.push(`Repository: ${t(v.repository)}`);
  if (v.category) lines.push(`Category: ${t(v.category)}${v.tags.length ? ` · tags: ${t(v.tags.slice(0, 10).join(', '))}` : ''}`);
  // The image as podman will be asked for it (`mcp/x` is docker.io/mcp/x); the structured `launch` keeps the catalog's words.
  const launches = v.launch.map((l) => (l.type === 'image' ? `image ${tryQualifyImageRef(l.image) ?? l.image}` : l.type === 'remote' ? `remote ${l.transport} ${l.url}` : l.type === 'package' ? `${l.registryType} package ${l.identifier}` : 'per-tool containers'));
  lines.push(`Runnable: ${v.runnable ? 'yes' : 'no'}${launches.length ? ` (${t(launches.join('; '))})` : ''}${v.runs.length ? ` — runs as ${v.runs.join(', ')}` : ''}`);
  if (v.notRunnable) lines.push(`Why not: ${t(v.notRunnable)}`);
  lines.push(`Trust: ${v.trust.status}${'reason' in v.trust && v.trust.reason ? ` — ${t(v.trust.reason)}` : ''}`);
  const g = v.governance;
  if (g) {
    const facts = [g.owner && `owner ${g.owner}`, g.contact && `contact ${g.contact}`, g.approvedBy && `approved by ${g.approvedBy}${g.approvedAt ? ` on ${g.approvedAt}` : ''}`, g.risk && `risk ${g.risk}`, g.dataAccess && `data access ${g.dataAccess}`, g.prodAllowed !== undefined && `prod ${g.prodAllowed ? 'allowed' : 'not allowed'}`, g.reviewedAt && `reviewed ${g.reviewedAt}${g.reviewers?.length ? ` by ${g.reviewers.join(', ')}` : ''}`, g.dataClassification && `data ${g.dataClassification}`];
    lines.push(`Governance: ${t(facts.filter(Boolean).join('; '))}`);
  }
  if (v.provenance) lines.push(`Signature: ${v.provenance.signature}${v.provenance.keyId ? ` (key ${v.provenance.keyId})` : ''}${v.provenance.reason ? ` — ${t(v.provenance.reason)}` : ''}`);
  if (v.health) lines.push(healthLine(v.health));
  if (v.versions && v.versions.length > 1) lines.push(`Versions: ${t(v.versions.map((x) => x.version).join(', '))}`);
  if (v.requiredConfig.length) {
    lines.push('Configuration:');
    for (const s of v.requiredConfig) {
      lines.push(`  - ${t(s.name)}${s.secret ? ' (secret' + (s.env ? `, env ${t(s.env)}` : '') + ')' : ''}${s.required ? ' required' : ''}${s.set ? ' — set' : ''}${s.description ? `: ${shortDescription(s.description, 120)}` : ''}`);
    }
    if (v.missingConfig.length) {
      lines.push(
        surface === 'mcp'
          ? `Set missing values with registry-config-set {"id":"${t(v.id)}","values":{…}} before registry-add.`
          : `Missing values are set through your agent (MCP tool registry-config-set) before it starts the server.`,
      );
    }
  }
  if (v.tools.length) {
    lines.push(`Tools (${v.tools.length}): ${t(v.tools.slice(0, 30).map((x) => x.name).join(', '))}${v.tools.length > 30 ? ', …' : ''}`);
  } else if (v.dynamicTools) lines.push('Tools: known only once the server runs.');
  return lines.join('\n');
}

/**
 * One launch of an entry as registry-info shows it before anything starts: the source it comes from and that
 * source's trust, whether it runs by default, and for a container who it runs as and what it mounts.
 */
export const LaunchViewSchema = z.object({
  source: z.string(),
  /** The id under which that source lists the entry (what `mcp-registry allow` takes for this launch). */
  sourceId: z.string(),
  /** "image x:1", "npm package y", … */
  launch: z.string(),
  /** It runs when registry-add names no source. */
  default: z.boolean(),
  /** It is the one mounted now. */
  mounted: z.boolean().optional(),
  trust: z.object({ status: z.enum(['allowed', 'denied', 'needs-approval']), reason: z.string(), command: z.string().optional() }),
  /** Why it would not start now (not runnable, a refused mount or user, values still to set). */
  problem: z.string().optional(),
  /** Values still to set before it can start. */
  missing: z.array(z.string()).optional(),
  container: z
    .object({
      image: z.string(),
      user: z.string(),
      network: z.enum(['none', 'default']),
      mounts: z.array(
        z.object({
          host: z.string().optional(),
          volume: z.string().optional(),
          container: z.string(),
          mode: z.enum(['ro', 'rw']),
          origin: z.enum(['setting', 'policy', 'volume']),
        }),
      ),
      /** The server speaks HTTP on this port and path of its container, published on a random loopback port of the host. */
      serves: z.object({ transport: z.enum(['streamable-http', 'sse']), port: z.number(), path: z.string() }).optional(),
    })
    .optional(),
  /** A Docker "poci" server: each tool call runs this image with this command template (arguments filled in). */
  poci: z.object({ tools: z.array(z.object({ name: z.string(), image: z.string(), command: z.array(z.string()).optional() })) }).optional(),
  remote: z.object({ url: z.string() }).optional(),
  /** An npm, PyPI or MCPB package: the image it is (or will be) built into, whether it is built, and the command it runs. */
  build: z
    .object({ kind: z.enum(['npm', 'pypi', 'mcpb']), image: z.string(), built: z.boolean(), version: z.string().optional(), command: z.array(z.string()).optional(), network: z.enum(['none', 'default']) })
    .optional(),
});
export type LaunchView = z.infer<typeof LaunchViewSchema>;

const ORIGIN = { setting: 'a path you set', policy: 'allowed by policy.yaml', volume: "this server's own volume" } as const;

/** The launches part of registry-info's text. */
export function formatLaunches(launches: LaunchView[]): string[] {
  if (!launches.length) return [];
  const lines = [`Launches (${launches.length === 1 ? 'one source' : 'registry-add runs the default unless it names a "source"'}):`];
  for (const l of launches) {
    const marks = [l.default ? 'default' : '', l.mounted ? 'mounted' : ''].filter(Boolean).join(', ');
    // The default launch's reason is the Trust line above; the others say their own.
    const why = l.default ? (l.trust.command ? ` (to allow: ${l.trust.command})` : '') : `: ${shortDescription(l.trust.reason, 300)}`;
    lines.push(`  ${l.default ? '▶' : '·'} source "${l.source}": ${l.launch}${marks ? ` [${marks}]` : ''} — ${l.trust.status}${why}`);
    if (l.container) {
      const c = l.container;
      const mounts = c.mounts.map((m) => `${m.host ?? `volume ${m.volume}`} → ${m.container} (${m.mode}, ${ORIGIN[m.origin]})`);
      lines.push(`      would run as user ${c.user}, network ${c.network}; mounts: ${mounts.length ? mounts.join('; ') : 'none'}`);
      if (c.serves) lines.push(`      serves ${c.serves.transport} at ${c.serves.path} on port ${c.serves.port} of its container, published on a random port of 127.0.0.1 only`);
    } else if (l.remote) lines.push(`      would connect to ${l.remote.url}`);
    if (l.poci) for (const t of l.poci.tools) lines.push(`      tool ${t.name}: one container per call, ${t.image}${t.command ? ` ${oneLine(t.command.join(' '))}` : ''}`);
    if (l.build) {
      const b = l.build;
      lines.push(`      ${b.kind} package, ${b.built ? `built as ${b.image}${b.command ? `; the container runs: ${oneLine(b.command.join(' '))}` : ''}` : `not built yet: the first registry-add builds ${b.image}`}`);
    }
    if (l.problem) lines.push(`      would not start: ${shortDescription(l.problem, 600)}`);
  }
  return lines;
}

/** What to say when a search finds an empty catalog: that is not "no match", it is "nothing could be fetched". */
export function emptyCatalogMessage(sources: { name: string; enabled: boolean; lastError?: string }[], surface: Surface = 'mcp'): string {
  const [refresh, status] = surface === 'mcp' ? ['call registry-refresh', 'registry-status'] : ['run mcp-registry refresh', 'mcp-registry status and mcp-registry doctor'];
  const enabled = sources.filter((s) => s.enabled);
  if (!enabled.length) return `The catalog is empty: every source is disabled in config.yaml. Enable one (enabled: true) and ${refresh}.`;
  const errors = enabled.filter((s) => s.lastError).map((s) => `${s.name}: ${shortDescription(s.lastError!, 200)}`);
  return (
    'The catalog is empty: no source could be fetched yet, so there is nothing to search.' +
    (errors.length ? `\n${errors.map((e) => `- ${e}`).join('\n')}` : '') +
    `\nCheck the network and the sources in config.yaml, then ${refresh} (${status} show${surface === 'mcp' ? 's' : ''} each source).`
  );
}

/** One line per source: what a refresh did (registry-refresh, `mcp-registry refresh`). */
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
