/** Published records as API rows, and the view that layers them over the built catalog view. */
import type { Entry } from '../model/entry.js';
import type { CursorPosition } from './cursor.js';
import { compareSemver, OFFICIAL_META_KEY, serverJsonToEntry } from '../sources/server-json.js';
import type { PublishedRecord } from '../store/org-stores.js';
import { AGGREGATOR_KEY, mapEntry, OFFICIAL_KEY, type EntryFilter, type MappingOptions } from './server-json-out.js';
import { compareKey, listSkipping, rfc3339Micros, ServedView, type CatalogView, type QueryFilters, type Row } from './view.js';

/**
 * Published entries served the moment they are published: their rows are made straight from the store's records
 * (the server.json as published, every version, the store's own timestamps — the same bytes on every replica) and
 * laid over the catalog's built view, instead of waiting for the catalog to merge and index 12k entries again.
 * Where a published name is also in the catalog, the source listed first in the registry wins. Health and other
 * per-entry facts are added to rows as they are listed (`decorate`).
 */

/** Rows of the published records of `sources`, as policy shows them. */
export function publishedRows(records: readonly PublishedRecord[], sources: ReadonlySet<string>, filter: EntryFilter, mapping: MappingOptions): ServedView {
  const byName = new Map<string, { rec: PublishedRecord; entry: Entry; status: Row['status']; message?: string }[]>();
  for (const rec of records) {
    if (!sources.has(rec.source)) continue;
    let entry: Entry;
    try {
      entry = serverJsonToEntry(rec.server, rec.source, { [OFFICIAL_META_KEY]: { status: rec.status === 'deprecated' ? 'deprecated' : 'active', publishedAt: rec.publishedAt, updatedAt: rec.updatedAt } });
    } catch {
      continue; // validated when published; a record the mapping no longer takes is not served
    }
    let status: Row['status'] = rec.status === 'deprecated' ? 'deprecated' : rec.status === 'active' ? 'active' : 'deleted';
    let message = rec.statusMessage;
    if (status !== 'deleted') {
      const vis = safe(filter, entry);
      if (!vis.visible) continue;
      if (vis.status === 'deprecated' && status === 'active') {
        status = 'deprecated';
        message = vis.statusMessage ?? message;
      }
    }
    let list = byName.get(rec.name);
    if (!list) byName.set(rec.name, (list = []));
    list.push({ rec, entry, status, ...(message ? { message } : {}) });
  }
  const rows: Row[] = [];
  for (const [name, list] of byName) {
    const live = list.filter((v) => v.status !== 'deleted');
    const latest = pickLatest(live.length ? live : list);
    for (const v of list) {
      const isLatest = v === latest;
      const official: Record<string, unknown> = { status: v.status, statusChangedAt: v.rec.statusChangedAt };
      if (v.message) official.statusMessage = v.message;
      Object.assign(official, { publishedAt: v.rec.publishedAt, updatedAt: v.rec.updatedAt, isLatest });
      const mapped = mapEntry(v.entry, { status: v.status === 'deprecated' ? 'deprecated' : 'active' }, mapping, name);
      const json = `{"server":${JSON.stringify(v.rec.server)},"_meta":{${JSON.stringify(OFFICIAL_KEY)}:${JSON.stringify(official)},${JSON.stringify(AGGREGATOR_KEY)}:${mapped.aggregatorJson}}}`;
      const s = v.rec.server as { title?: string; description?: string };
      const hay = `${name}\n${s.title ?? ''}\n${s.description ?? ''}`.toLowerCase();
      rows.push({ name, version: v.rec.version, status: v.status, isLatest, updatedUs: rfc3339Micros(v.rec.updatedAt) ?? 0, hay, json, id: v.entry.id });
    }
  }
  rows.sort((a, b) => compareKey(a.name, a.version, b.name, b.version));
  return new ServedView(rows);
}

function safe(filter: EntryFilter, entry: Entry) {
  try {
    return filter(entry);
  } catch {
    return { visible: false, status: 'active' as const };
  }
}

/** The newest version: by semver when both are, else the later publication. */
function pickLatest<T extends { rec: PublishedRecord }>(list: T[]): T | undefined {
  let best: T | undefined;
  for (const v of list) {
    if (!best) {
      best = v;
      continue;
    }
    const c = compareSemver(v.rec.version, best.rec.version);
    if (c === 1 || (c === null && v.rec.publishedAt > best.rec.publishedAt)) best = v;
  }
  return best;
}

/** The source of a row: the prefix of its entry id (`internal/com.example/x` → `internal`). */
const sourceOf = (r: Row) => (r.id ? r.id.slice(0, r.id.indexOf('/')) : undefined);

/** A view of the built catalog view with the published rows over it. */
export class LayeredView implements CatalogView {
  readonly size: number;
  private readonly hiddenBase = new Set<string>();
  private readonly hiddenOverlay = new Set<string>();

  constructor(
    private readonly base: CatalogView,
    private readonly overlay: ServedView,
    /** Precedence of a source in this registry (lower wins). */
    rank: (source: string | undefined) => number,
    private readonly decorate: (r: Row) => Row = (r) => r,
  ) {
    let size = base.size + overlay.size;
    for (const r of overlay.rows) {
      if (this.hiddenBase.has(r.name) || this.hiddenOverlay.has(r.name)) continue;
      const under = base.versions(r.name).filter((b) => b.name === r.name);
      if (!under.length) continue;
      // A tombstone in the catalog view never hides a published entry.
      const live = under.filter((b) => b.status !== 'deleted');
      if (!live.length || rank(sourceOf(r)) <= rank(sourceOf(live[0]!))) {
        this.hiddenBase.add(r.name);
        size -= live.length;
      } else {
        this.hiddenOverlay.add(r.name);
        size -= overlay.versions(r.name).filter((o) => o.status !== 'deleted').length;
      }
    }
    this.size = size;
  }

  list(after: CursorPosition | undefined, f: QueryFilters, limit: number): Row[] {
    const a = this.page(this.base, this.hiddenBase, after, f, limit);
    const b = this.page(this.overlay, this.hiddenOverlay, after, f, limit);
    const out: Row[] = [];
    let i = 0;
    let j = 0;
    while (out.length < limit && (i < a.length || j < b.length)) {
      const x = a[i];
      const y = b[j];
      if (y === undefined || (x !== undefined && compareKey(x.name, x.version, y.name, y.version) <= 0)) out.push(x!), i++;
      else out.push(y), j++;
    }
    return out.map(this.decorate);
  }

  /** Up to `limit` rows of one layer after `after`, skipping the names the other layer serves. */
  private page(v: CatalogView, hidden: Set<string>, after: CursorPosition | undefined, f: QueryFilters, limit: number): Row[] {
    if (!hidden.size) return v.list(after, f, limit);
    return listSkipping(v, (r) => hidden.has(r.name), after, f, limit);
  }

  versions(name: string): Row[] {
    const o = this.overlay.versions(name);
    if (o.length && !this.hiddenOverlay.has(o[0]!.name)) return o.map(this.decorate);
    return this.base
      .versions(name)
      .filter((r) => !this.hiddenBase.has(r.name))
      .map(this.decorate);
  }
}

/** A row with `extra` added to our `_meta` key (rows of entries only: tombstones have none). */
export function withAggregatorFacts(r: Row, extra: Record<string, unknown>): Row {
  if (!r.id || !r.json.endsWith('}}}')) return r;
  const add = Object.entries(extra)
    .map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join('');
  return { ...r, json: `${r.json.slice(0, -3)}${add}}}}` };
}
