/** The catalog as served: visible entries as server.json envelopes serialised once, sorted, sliced per request. */
import type { Entry } from '../model/entry.js';
import type { Logger } from '../util/log.js';
import { shortHash } from '../util/hash.js';
import type { CursorPosition, ListFilters } from './cursor.js';
import {
  AGGREGATOR_KEY,
  OFFICIAL_KEY,
  SERVER_SCHEMA_URL,
  defaultFilter,
  derivedVersion,
  mapEntry,
  servedName,
  type EntryFilter,
  type Json,
  type MappedEntry,
  type MappingOptions,
} from './server-json-out.js';
import type { ServedStamps, StampInput } from './stamps.js';
import { TrigramIndex } from './trigrams.js';
import { compareVersions, entryAtVersion } from '../model/versions.js';
import { entryClaims, type Claims } from './entry-claims.js';

/**
 * The catalog as served: every visible entry mapped to server.json, wrapped in its envelope and serialised once,
 * sorted by (name, version). Rebuilt when the catalog or the policy changes; requests only slice it.
 */

export interface Row {
  name: string;
  version: string;
  status: 'active' | 'deprecated' | 'deleted';
  isLatest: boolean;
  /** updatedAt in microseconds since the epoch (the official registry's timestamps have microseconds). */
  updatedUs: number;
  /** Lower-cased name, title and description: what `search` matches. */
  hay: string;
  /** The ServerResponse envelope `{server, _meta}` as JSON. */
  json: string;
  /** The catalog entry served (absent for tombstones): what health and other per-entry facts are keyed by. */
  id?: string;
  /** Shown only to callers whose claims match (entry-claims.ts). */
  claims?: Claims;
}

/** Up to `limit` rows of `v` after `after` that `skip` lets through (pages on while rows are skipped). */
export function listSkipping(v: CatalogView, skip: (r: Row) => boolean, after: CursorPosition | undefined, f: QueryFilters, limit: number): Row[] {
  const out: Row[] = [];
  let cur = after;
  for (;;) {
    const rows = v.list(cur, f, limit);
    for (const r of rows) if (!skip(r)) out.push(r);
    if (out.length >= limit || rows.length < limit) return out.slice(0, limit);
    cur = { name: rows.at(-1)!.name, version: rows.at(-1)!.version };
  }
}

/** What the API reads from a view: a ServedView, or one composed of several (published entries over the catalog). */
export type CatalogView = Pick<ServedView, 'size' | 'list' | 'versions'>;

/** Filters after parsing: `updatedSince` as microseconds. */
export interface QueryFilters extends Omit<ListFilters, 'updatedSince'> {
  updatedSinceUs?: number;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** RFC 3339 date-time → microseconds since the epoch; undefined when malformed or impossible (Feb 30). */
export function rfc3339Micros(s: string): number | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m as unknown as string[];
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined;
  const day = Date.UTC(Number(y), Number(mo) - 1, Number(d));
  if (new Date(day).toISOString().slice(0, 10) !== `${y}-${mo}-${d}`) return undefined;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}${zone!.toUpperCase()}`);
  if (!Number.isFinite(ms)) return undefined;
  const micros = frac ? Math.floor(Number((frac.slice(1) + '000000').slice(0, 6))) : 0;
  return ms * 1000 + micros;
}

export function compareKey(aName: string, aVersion: string, bName: string, bVersion: string): number {
  if (aName !== bName) return aName < bName ? -1 : 1;
  if (aVersion !== bVersion) return aVersion < bVersion ? -1 : 1;
  return 0;
}

export interface ViewOptions {
  filter?: EntryFilter;
  mapping?: MappingOptions;
  stamps: ServedStamps;
  now?: Date;
  log?: Logger;
}

interface Prepared {
  entry: Entry;
  mapped: MappedEntry;
  status: 'active' | 'deprecated';
  statusMessage?: string;
}

export class ServedView {
  private readonly byName = new Map<string, Row[]>();
  private readonly lowerNames = new Map<string, string>();
  /** A search verifies only the rows that can match. */
  private readonly trigrams: TrigramIndex;
  /** Served (not deleted) entries. */
  readonly size: number;
  /** Rows shown only to some callers (entries with claims), and the distinct claim sets they ask for. */
  readonly restricted: Row[] = [];
  readonly claimSets: Claims[] = [];

  constructor(
    /** Sorted by (name, version). */
    readonly rows: readonly Row[],
  ) {
    this.trigrams = new TrigramIndex(rows.map((r) => r.hay));
    let size = 0;
    for (const r of rows) {
      if (r.status !== 'deleted') size++;
      if (r.claims) this.restricted.push(r);
      let list = this.byName.get(r.name);
      if (!list) {
        this.byName.set(r.name, (list = []));
        this.lowerNames.set(r.name.toLowerCase(), r.name);
      }
      list.push(r);
    }
    this.size = size;
    const sets = new Map(this.restricted.map((r) => [JSON.stringify(r.claims), r.claims!]));
    this.claimSets = [...sets.values()];
  }

  /** Every version of a name (exact, else case-insensitive), newest first; tombstones included. */
  versions(name: string): Row[] {
    const exact = this.byName.get(name) ?? this.byName.get(this.lowerNames.get(name.toLowerCase()) ?? '');
    // Newest first: the latest, then the others by version order (semver, else release date).
    return exact ? [...exact].sort((a, b) => Number(b.isLatest) - Number(a.isLatest) || compareVersions({ version: b.version }, { version: a.version }) || b.updatedUs - a.updatedUs) : [];
  }

  /** One page: rows after `after` that pass the filters, in order, at most `limit`. */
  list(after: CursorPosition | undefined, f: QueryFilters, limit: number): Row[] {
    const rows = this.rows;
    let i = 0;
    if (after) {
      // First row strictly after the cursor (binary search: the cursor need not be a row that still exists).
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareKey(rows[mid]!.name, rows[mid]!.version, after.name, after.version) <= 0) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    const out: Row[] = [];
    const latestOnly = f.version === 'latest';
    const keep = (r: Row) =>
      (r.status !== 'deleted' || f.includeDeleted) &&
      (latestOnly ? r.isLatest : f.version === undefined || r.version === f.version) &&
      (f.updatedSinceUs === undefined || r.updatedUs > f.updatedSinceUs);
    if (!f.search) {
      for (; i < rows.length && out.length < limit; i++) if (keep(rows[i]!)) out.push(rows[i]!);
      return out;
    }
    const search = f.search;
    const candidates = this.trigrams.candidates(search);
    if (!candidates) {
      for (; i < rows.length && out.length < limit; i++) if (rows[i]!.hay.includes(search) && keep(rows[i]!)) out.push(rows[i]!);
      return out;
    }
    // First candidate at or after row i.
    let lo = 0;
    let hi = candidates.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (candidates[mid]! < i) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < candidates.length && out.length < limit; k++) {
      const r = rows[candidates[k]!]!;
      if (r.hay.includes(search) && keep(r)) out.push(r);
    }
    return out;
  }
}

/** The served view without the rows `hidden` says the caller may not see. */
export class CallerView implements CatalogView {
  constructor(
    private readonly base: CatalogView,
    private readonly hidden: (r: Row) => boolean,
    readonly size: number,
  ) {}

  list(after: CursorPosition | undefined, f: QueryFilters, limit: number): Row[] {
    return listSkipping(this.base, this.hidden, after, f, limit);
  }

  versions(name: string): Row[] {
    return this.base.versions(name).filter((r) => !this.hidden(r));
  }
}

/** Names must be unique: an entry that keeps its own reverse-DNS name beats a derived one; then the smaller id. */
function assignNames(entries: Entry[], mapping: MappingOptions): Map<Entry, string> {
  const groups = new Map<string, Entry[]>();
  for (const e of entries) {
    const n = servedName(e, mapping);
    let g = groups.get(n);
    if (!g) groups.set(n, (g = []));
    g.push(e);
  }
  const out = new Map<Entry, string>();
  for (const [name, g] of groups) {
    if (g.length > 1) {
      const own = (e: Entry) => e.sources.some((s) => s.id === name || s.id.endsWith('/' + name));
      g.sort((a, b) => Number(own(b)) - Number(own(a)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    }
    g.forEach((e, i) => out.set(e, i === 0 ? name : `${name.slice(0, 190)}-${shortHash(e.id)}`));
  }
  return out;
}

const officialOf = (e: Entry) => (e.meta?.[OFFICIAL_KEY] ?? {}) as { statusChangedAt?: string };

/** Entries mapped between two yields to the event loop: a 12k rebuild must not stall requests for its whole length. */
const CHUNK = 500;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The entry's other listed versions (entry.versions: every version its source lists), each served as the entry at
 * that version (its own launches), `isLatest: false`, published when the source says it was released. A version
 * the source marks deleted is not served.
 */
function olderVersionRows(p: Prepared, latest: string, st: { p: string; u: string; c: string }, hay: string, mapping: MappingOptions, log: Logger | undefined): Row[] {
  const out: Row[] = [];
  for (const v of p.entry.versions ?? []) {
    if (v.version === latest || v.status === 'deleted') continue;
    const at = entryAtVersion(p.entry, v.version);
    const entry = 'entry' in at ? at.entry : { ...p.entry, version: v.version, launch: [] };
    let mapped: MappedEntry;
    try {
      mapped = mapEntry(entry, p, mapping, p.mapped.name);
    } catch (err) {
      log?.warn(`cannot serve ${p.entry.id} ${v.version}: ${String(err)}`);
      continue;
    }
    if (!mapped.version) continue;
    const status = v.status === 'deprecated' ? 'deprecated' : p.status;
    const publishedAt = v.releasedAt && rfc3339Micros(v.releasedAt) !== undefined ? v.releasedAt : st.p;
    const official: Json = { status, statusChangedAt: st.c, publishedAt, updatedAt: st.u, isLatest: false };
    const json = `{"server":${mapped.serverJson.slice(0, -1)},"version":${JSON.stringify(mapped.version)}},"_meta":{${JSON.stringify(OFFICIAL_KEY)}:${JSON.stringify(official)},${JSON.stringify(AGGREGATOR_KEY)}:${mapped.aggregatorJson}}}`;
    out.push({ name: p.mapped.name, version: mapped.version, status, isLatest: false, updatedUs: rfc3339Micros(publishedAt) ?? 0, hay, json, id: p.entry.id });
  }
  return out;
}

/** Map, stamp, serialise and sort the visible entries (plus tombstones of removed ones). */
export async function buildView(entries: readonly Entry[], opts: ViewOptions): Promise<ServedView> {
  const filter = opts.filter ?? defaultFilter;
  const mapping = opts.mapping ?? {};
  const visible: { entry: Entry; status: 'active' | 'deprecated'; statusMessage?: string }[] = [];
  for (const entry of entries) {
    let vis;
    try {
      vis = filter(entry);
    } catch (err) {
      // A policy that throws for one entry must not take the API down; hiding is the safe answer.
      opts.log?.warn(`policy filter failed for ${entry.id}; not served`, { error: String(err) });
      continue;
    }
    if (vis.visible) visible.push({ entry, status: vis.status, statusMessage: vis.statusMessage });
  }
  const names = assignNames(
    visible.map((v) => v.entry),
    mapping,
  );
  const prepared: Prepared[] = [];
  for (const [i, v] of visible.entries()) {
    if (i % CHUNK === CHUNK - 1) await yieldToLoop();
    try {
      const mapped = mapEntry(v.entry, v, mapping, names.get(v.entry)!);
      prepared.push({ entry: v.entry, mapped, status: v.status, statusMessage: v.statusMessage });
    } catch (err) {
      opts.log?.warn(`cannot serve ${v.entry.id}: ${String(err)}`);
    }
  }

  const inputs: StampInput[] = prepared.map((p) => ({
    name: p.mapped.name,
    hash: p.mapped.contentHash,
    status: p.status,
    updatedAt: p.entry.updatedAt,
    publishedAt: p.entry.publishedAt,
    statusChangedAt: officialOf(p.entry).statusChangedAt,
  }));
  opts.stamps.update(inputs, opts.now);

  const rows: Row[] = [];
  for (const [i, p] of prepared.entries()) {
    if (i % CHUNK === CHUNK - 1) await yieldToLoop();
    const st = opts.stamps.get(p.mapped.name)!;
    const version = p.mapped.version ?? derivedVersion(st.u);
    opts.stamps.noteVersion(p.mapped.name, version);
    const official: Json = { status: p.status, statusChangedAt: st.c };
    if (p.statusMessage) official.statusMessage = p.statusMessage;
    Object.assign(official, { publishedAt: st.p, updatedAt: st.u, isLatest: true });
    // Spliced from the JSON made while mapping: serialising 12k entries twice is most of a rebuild.
    const serverJson = `${p.mapped.serverJson.slice(0, -1)},"version":${JSON.stringify(version)}}`;
    const json = `{"server":${serverJson},"_meta":{${JSON.stringify(OFFICIAL_KEY)}:${JSON.stringify(official)},${JSON.stringify(AGGREGATOR_KEY)}:${p.mapped.aggregatorJson}}}`;
    const server = p.mapped.server;
    const hay = `${p.mapped.name}\n${(server.title as string | undefined) ?? ''}\n${server.description as string}`.toLowerCase();
    const claims = entryClaims(p.entry);
    rows.push({ name: p.mapped.name, version, status: p.status, isLatest: true, updatedUs: rfc3339Micros(st.u) ?? 0, hay, json, id: p.entry.id, ...(claims ? { claims } : {}) });
    rows.push(...olderVersionRows(p, version, st, hay, mapping, opts.log).map((r) => (claims ? { ...r, claims } : r)));
  }
  for (const [name, st] of opts.stamps.tombstones()) {
    const version = st.v ?? derivedVersion(st.u);
    const server = { $schema: SERVER_SCHEMA_URL, name, description: 'Removed from this registry.', version };
    const official = { status: 'deleted', statusChangedAt: st.c, statusMessage: 'Removed from this registry (upstream or by policy).', publishedAt: st.p, updatedAt: st.u, isLatest: true };
    rows.push({ name, version, status: 'deleted', isLatest: true, updatedUs: rfc3339Micros(st.u) ?? 0, hay: name.toLowerCase(), json: JSON.stringify({ server, _meta: { [OFFICIAL_KEY]: official } }) });
  }
  rows.sort((a, b) => compareKey(a.name, a.version, b.name, b.version));
  return new ServedView(rows);
}
