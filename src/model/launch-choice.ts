/** Choosing which source's launch of an entry runs, with that source's id and settings. */
import type { Entry, EntryConfig, Launch } from './entry.js';
import { notRunnableWhy, runnerOf } from './runner-kind.js';

/**
 * Which launch of an entry would start, and from which source. A merged entry pools the descriptions of several
 * sources for search, but what starts is always ONE source's launch with that source's own run block and settings:
 * the source it comes from is what policy judges. This module is the one place that decides it.
 */

export interface LaunchChoice {
  launch: Launch;
  /** The source that listed this launch. */
  source: string;
  /** The id under which that source lists the server (e.g. "upstream/notes" for a merged "internal/…"). */
  sourceId: string;
  /** That source's settings, secrets and env (never another source's). */
  config: EntryConfig;
}

export type LaunchPick = { ok: true; choice: LaunchChoice } | { ok: false; reason: string; /** Sources with launches, for a choice. */ sources: string[] };

/** The source a launch came from: tagged by the merge, else the entry's own (single-source) source. */
export function launchSourceOf(entry: Pick<Entry, 'sources'>, launch: Launch): string {
  return launch.source ?? entry.sources[0]!.source;
}

/** The id under which `source` lists the entry. */
export function sourceIdOf(entry: Pick<Entry, 'id' | 'sources'>, source: string): string {
  return entry.sources.find((s) => s.source === source)?.id ?? entry.id;
}

/** The settings schema, secrets and env `source` declares for the entry. */
export function configOf(entry: Pick<Entry, 'config' | 'configs'>, source: string): EntryConfig {
  return entry.configs?.[source] ?? entry.config;
}

/** Distinct sources that list at least one launch, in precedence order. */
export function launchSources(entry: Pick<Entry, 'sources' | 'launch'>): string[] {
  return [...new Set(entry.launch.map((l) => launchSourceOf(entry, l)))];
}

/** A launch the runtime can start: an image, a stdio OCI package, a built (npm, PyPI) package or a remote endpoint (in that preference). */
function runnableRank(l: Launch): number {
  const r = runnerOf(l);
  if (!r.runnable) return -1;
  // An inferred launch only when the source has nothing it published itself.
  return r.runs === 'inferred' ? 4 : r.runs === 'image' ? 0 : r.runs === 'oci' ? 1 : r.built ? 2 : 3;
}

/** The preferred runnable launch of one source's launches, if it has one. */
function bestOf(launches: Launch[]): Launch | undefined {
  let best: Launch | undefined;
  for (const l of launches) {
    const r = runnableRank(l);
    if (r >= 0 && (!best || r < runnableRank(best))) best = l;
  }
  return best;
}

/**
 * The launch that would start: `source` when the user chose one, else the first source (in precedence order) that
 * has a runnable launch; within a source, an image before an OCI package before a remote endpoint.
 */
export function pickLaunch(entry: Pick<Entry, 'id' | 'sources' | 'launch' | 'config' | 'configs'>, source?: string): LaunchPick {
  const sources = launchSources(entry);
  if (source !== undefined && !sources.includes(source)) {
    const listed = entry.sources.some((s) => s.source === source);
    return {
      ok: false,
      sources,
      reason: sources.length
        ? `${entry.id} has no launch from source "${source}"${listed ? ' (it lists the server, but no way to run it)' : ''}; the sources with a launch are: ${sources.map((s) => `"${s}"`).join(', ')}`
        : `${entry.id} lists no way to run it (no image, package or remote endpoint) in any source`,
    };
  }
  for (const s of source !== undefined ? [source] : sources) {
    const own = entry.launch.filter((l) => launchSourceOf(entry, l) === s);
    const best = bestOf(own);
    if (best) return { ok: true, choice: { launch: best, source: s, sourceId: sourceIdOf(entry, s), config: configOf(entry, s) } };
  }
  const considered = source !== undefined ? entry.launch.filter((l) => launchSourceOf(entry, l) === source) : entry.launch;
  const from = source !== undefined ? ` from source "${source}"` : '';
  return { ok: false, sources, reason: notRunnableReason(entry.id, considered, from) };
}

function notRunnableReason(id: string, launches: Launch[], from: string): string {
  return `not runnable: ${id}${from} cannot be started here: ${notRunnableWhy(launches)}`;
}

/** The entry as the chosen launch sees it: only that launch, and its own source's settings. */
export function launchEntry<E extends Entry>(entry: E, choice: LaunchChoice): E {
  return { ...entry, launch: [choice.launch], config: choice.config };
}

/** A short name of a launch for people: "image x:1", "npm package y", "remote https://…". */
export function describeLaunchRef(l: Launch): string {
  switch (l.type) {
    case 'image':
      return `image ${l.image}${inferredNote(l)}`;
    case 'package':
      return `${l.registryType} package ${l.identifier}${l.version ? `@${l.version}` : ''}${inferredNote(l)}`;
    case 'remote':
      return `remote ${l.transport} ${l.url}`;
    case 'poci':
      return 'per-tool containers';
  }
}

/** ", inferred from <page> (`npx -y …`)": where a launch no catalog published was read. */
function inferredNote(l: { inferred?: { page: string; snippet: string } }): string {
  return l.inferred ? `, inferred from ${l.inferred.page} (\`${l.inferred.snippet}\`)` : '';
}
