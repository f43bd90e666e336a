/** The catalog: merges every source's entries, keeps the saved index, answers search and lookups by id. */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { RegistryConfig, SourceConfig } from '../config/config.js';
import { createLogger, errorMessage, type Logger } from '../util/log.js';
import type { Source, SourceProgress } from '../sources/source.js';
import { sweepTempFiles, writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.js';
import { normalizeText, type Entry } from '../model/entry.js';
import { mergeEntries } from './merge.js';
import { SourceStore, validateEntries, type CatalogStore, type SourceStatusRecord } from '../store/source-store.js';
import { SearchIndex, type SearchFilters, type SearchHit } from '../search/search-index.js';
import { readShippedSnapshot, snapshotEntriesFor, SNAPSHOT_DIR, type ShippedSnapshot } from './snapshot.js';

/** 2: launches of merged entries carry their source and each source keeps its own config (`configs`). */
const CATALOG_FORMAT = 2;

/** What a refresh did for one source (registry-refresh's result reports `status` as any word, "running" too). */
export const RefreshOutcomeSchema = z.object({
  name: z.string(),
  status: z.string(),
  entries: z.number(),
  error: z.string().optional(),
  durationMs: z.number(),
});
export type RefreshStatus = 'ok' | 'unchanged' | 'skipped' | 'cooldown' | 'busy' | 'error' | 'disabled';
export type RefreshOutcome = z.infer<typeof RefreshOutcomeSchema> & { status: RefreshStatus };

export interface SourceStatus extends SourceStatusRecord {
  name: string;
  type: string;
  enabled: boolean;
  entries: number;
  refreshing: boolean;
  /** Its entries come from the catalog snapshot shipped with the package, as of this date, until it refreshes. */
  snapshot?: string;
}

/** The part of the catalog that is still the shipped snapshot (registry-find says how old it is). */
export const SnapshotUseSchema = z.object({ asOf: z.string(), sources: z.array(z.string()), refreshing: z.boolean() });
export type SnapshotUse = z.infer<typeof SnapshotUseSchema>;

export interface CatalogOptions {
  /** Where the shipped snapshot is (default: the package's snapshot/); null: none. */
  snapshotDir?: string | null;
  /** Keeps each source's last good data and status (default: files under the cache; PostgreSQL with database.url). */
  store?: CatalogStore;
}

export type ProgressFn = (p: SourceProgress & { source?: string }) => void;

interface CatalogFile {
  format: number;
  builtAt: string;
  sources: string[];
  entries: Entry[];
  /** Sources whose entries came from the shipped snapshot (no refresh of theirs yet): name → the data's date. */
  snapshot?: Record<string, string>;
}

/**
 * The merged catalog: loaded from cache at start (no network), refreshed source by source in the background,
 * merged in config order and indexed for search. Readers always see a complete catalog: a refresh builds the new
 * one aside and swaps it in.
 */
export class Catalog extends EventEmitter {
  private entries: Entry[] = [];
  private byId = new Map<string, Entry>();
  private index: SearchIndex = SearchIndex.build([]);
  private readonly store: CatalogStore;
  /** The refresh of each source in flight, for the definition (fingerprint) it fetches. */
  private readonly running = new Map<string, { outcome: Promise<RefreshOutcome>; fingerprint: string; abort: AbortController }>();
  /** Sources whose definition changed since their entries were merged: until their refresh ends, searches wait for them. */
  private readonly redefined = new Set<string>();
  private readonly sources = new Map<string, Promise<Source>>();
  readonly log: Logger;

  constructor(
    /** Replaced by reconfigure() when config.yaml changes while running. */
    public config: RegistryConfig,
    private readonly cacheDir: string,
    private readonly sourcesDir: string,
    private readonly makeSource: (cfg: SourceConfig) => Source | Promise<Source>,
    log?: Logger,
    private readonly opts: CatalogOptions = {},
  ) {
    super();
    this.store = opts.store ?? new SourceStore(cacheDir);
    this.log = log ?? createLogger('catalog');
  }

  /** Merge again from the store: another process (a replica sharing the database) wrote a source's data. */
  reload(): Promise<void> {
    return this.requestRemerge();
  }

  /** Sources whose entries are the shipped snapshot's: name → the date of that data. */
  private fromSnapshot = new Map<string, string>();
  private shipped: Promise<ShippedSnapshot | null> | null = null;

  /** The shipped snapshot, read once (and let go once no source uses it). */
  private shippedSnapshot(): Promise<ShippedSnapshot | null> {
    if (this.opts.snapshotDir === null) return Promise.resolve(null);
    this.shipped ??= readShippedSnapshot(this.opts.snapshotDir ?? SNAPSHOT_DIR);
    return this.shipped;
  }

  /** The enabled sources the shipped snapshot has entries for (matching name, type and URL). */
  private async snapshotFor(names: string[]): Promise<{ snap: ShippedSnapshot; bySource: Map<string, { entries: Entry[]; asOf: string }> } | null> {
    // Only sources fetched from a URL are in a snapshot: a catalog of `file` sources never reads it.
    const wanted = this.enabledSources.filter((cfg) => names.includes(cfg.name) && 'url' in cfg);
    if (!wanted.length) return null;
    const snap = await this.shippedSnapshot();
    if (!snap) return null;
    const bySource = new Map<string, { entries: Entry[]; asOf: string }>();
    for (const cfg of wanted) {
      const found = snapshotEntriesFor(snap.data, cfg);
      if (found) bySource.set(cfg.name, found);
    }
    return bySource.size ? { snap, bySource } : null;
  }

  private get catalogPath() {
    return join(this.cacheDir, 'catalog.json');
  }
  private get indexPath() {
    return join(this.cacheDir, 'search-index.bin');
  }

  get enabledSources(): SourceConfig[] {
    return this.config.sources.filter((s) => s.enabled);
  }

  private loading: Promise<void> | null = null;

  /** Load the merged catalog from cache. Never touches the network. Concurrent callers share one load. */
  load(): Promise<void> {
    this.loading ??= this.doLoad();
    return this.loading;
  }

  private async doLoad(): Promise<void> {
    // Temp files of a killed process (an exiting one removes its own); in the background, nothing waits for it.
    for (const dir of [this.cacheDir, join(this.cacheDir, 'sources')]) void sweepTempFiles(dir).catch(() => {});
    const order = this.enabledSources.map((s) => s.name);
    try {
      const file = JSON.parse(await readFile(this.catalogPath, 'utf8')) as CatalogFile;
      if (file.format === CATALOG_FORMAT && sameList(file.sources, order)) {
        // A saved index for exactly this catalog skips the build (the slowest part of a warm start).
        const bytes = await readFile(this.indexPath).catch(() => null);
        const saved = bytes ? SearchIndex.load(file.entries, bytes, file.builtAt) : undefined;
        this.fromSnapshot = new Map(Object.entries(file.snapshot ?? {}));
        this.swap(file.entries, saved);
        return;
      }
    } catch {
      /* no cache, or a foreign/torn one: rebuild from per-source snapshots */
    }
    if (await this.loadShippedOnly(order)) return;
    await this.requestRemerge();
  }

  /**
   * A first run (no source has data of its own yet): the shipped snapshot as it is, with its saved index — nothing
   * to merge from disk, nothing written — so the first search answers at once. The sources refresh in the
   * background and replace it source by source.
   */
  private async loadShippedOnly(order: string[]): Promise<boolean> {
    const own = await Promise.all(order.map((name) => this.store.hasSnapshot(name)));
    if (own.some(Boolean)) return false;
    const found = await this.snapshotFor(order);
    if (!found) return false;
    const merged = mergeEntries(new Map([...found.bySource].map(([name, s]) => [name, s.entries])), order);
    const index = found.snap.index ? SearchIndex.load(merged, found.snap.index, found.snap.data.builtAt) : undefined;
    this.fromSnapshot = new Map([...found.bySource].map(([name, s]) => [name, s.asOf]));
    this.swap(merged, index);
    this.log.info(`no cached catalog yet: using the catalog snapshot of ${[...this.fromSnapshot].map(([n, d]) => `${n} (${d.slice(0, 10)})`).join(', ')} until the sources refresh`);
    return true;
  }

  /** Which sources still show the shipped snapshot, and how old it is; undefined when none does. */
  snapshotUse(): SnapshotUse | undefined {
    if (!this.fromSnapshot.size) return undefined;
    const dates = [...this.fromSnapshot.values()].sort();
    return { asOf: dates[0]!, sources: [...this.fromSnapshot.keys()], refreshing: this.running.size > 0 };
  }

  /** True when there is something to search (cache or a finished refresh). */
  get hasData(): boolean {
    return this.entries.length > 0;
  }
  get size(): number {
    return this.entries.length;
  }

  /**
   * On a first run waits for the sources that have no entries yet: until they are done, or — once some source has
   * delivered entries — at most `budgetMs`, so one slow source (a polite 400-page crawl) never holds a search for
   * minutes. Resolves at once when no source is still filling in.
   */
  async ready(onProgress?: ProgressFn, budgetMs = 20_000): Promise<void> {
    await this.load();
    // refresh() registers its sources in `running` synchronously, so a second caller sees it and joins.
    if (!this.hasData && !this.running.size) void this.refresh();
    const mustWait = () => this.running.size > 0 && (!this.hasData || this.loadingSources.length > 0);
    if (!mustWait()) return;
    const listener = (p: SourceProgress & { source?: string }) => onProgress?.(p);
    this.on('progress', listener);
    let timer: NodeJS.Timeout | undefined;
    let check = () => {};
    try {
      await new Promise<void>((resolve) => {
        check = () => {
          if (!mustWait()) return resolve();
          if (this.hasData) timer ??= setTimeout(resolve, budgetMs);
        };
        this.on('updated', check);
        this.on('source-done', check);
        check();
      });
    } finally {
      clearTimeout(timer);
      this.off('updated', check);
      this.off('source-done', check);
      this.off('progress', listener);
    }
  }

  /** Sources being fetched right now that have no entries in the catalog yet (a first run still filling in). */
  get loadingSources(): string[] {
    return [...this.running.keys()].filter((name) => !this.withData.has(name) || this.redefined.has(name));
  }

  /**
   * Take a changed config.yaml: sources added, removed, reordered or redefined (url, path, ref…). A redefined source
   * gets a new instance, its refresh under the old definition is cancelled, and its next refresh is a fresh attempt
   * (no cooldown, no minInterval, no old error). Returns the enabled sources that are new or redefined: the caller
   * refreshes them.
   */
  reconfigure(next: RegistryConfig): string[] {
    const order = this.enabledSources.map((s) => s.name);
    const before = new Map(this.enabledSources.map((s) => [s.name, sourceFingerprint(s)]));
    this.config = next;
    const keep = new Set(next.sources.map((s) => sourceKey(s)));
    for (const key of this.sources.keys()) if (!keep.has(key)) this.sources.delete(key);
    // New, newly enabled, or redefined.
    const changed = this.enabledSources.filter((s) => before.get(s.name) !== sourceFingerprint(s)).map((s) => s.name);
    for (const name of changed) {
      if (this.withData.has(name) && before.has(name)) this.redefined.add(name);
      this.running.get(name)?.abort.abort(new Error('config.yaml changed the definition of this source'));
    }
    if (!sameList(order, this.enabledSources.map((s) => s.name))) void this.requestRemerge().catch(() => {});
    return changed;
  }

  search(query: string, opts: { limit?: number; filters?: SearchFilters } = {}): SearchHit[] {
    return this.index.search(query, opts);
  }

  /** Look up by id or alias (case-insensitive). */
  get(id: string): Entry | undefined {
    return this.byId.get(id.trim().toLowerCase());
  }

  all(): readonly Entry[] {
    return this.entries;
  }

  /** Ids that look like the given one, for "did you mean" messages. */
  suggest(id: string, limit = 3): string[] {
    const tail = id.split('/').pop() ?? id;
    return this.index.search(tail.replace(/[-_]/g, ' '), { limit }).map((h) => h.entry.id);
  }

  /** One instance per source (its politeness queue must be shared): the promise is cached, not the instance. */
  source(name: string): Promise<Source | undefined> {
    const cfg = this.config.sources.find((s) => s.name === name);
    if (!cfg) return Promise.resolve(undefined);
    // Keyed by the definition: a source whose url/path changed in config.yaml is a new instance.
    const key = sourceKey(cfg);
    let s = this.sources.get(key);
    if (!s) this.sources.set(key, (s = Promise.resolve(this.makeSource(cfg))));
    return s;
  }

  /**
   * Refresh sources (all enabled ones, or one), side by side; each keeps its last good data when it fails. Honours minInterval unless forced, and a short cooldown even when forced.
   */
  async refresh(opts: { source?: string; force?: boolean; onProgress?: ProgressFn; signal?: AbortSignal } = {}): Promise<RefreshOutcome[]> {
    const targets = opts.source ? this.config.sources.filter((s) => s.name === opts.source) : this.enabledSources;
    if (opts.source && !targets.length) {
      const names = this.config.sources.map((s) => s.name).join(', ');
      throw new Error(`unknown source "${opts.source}": configured sources are ${names || '(none)'}`);
    }
    // Sources are independent (each is polite to its own host), so they run side by side; each one's entries are
    // merged in as soon as it finishes, so a slow source never keeps the others' results from searches.
    const outcomes = await Promise.all(
      targets.map(async (cfg): Promise<RefreshOutcome> => {
        if (!cfg.enabled) return { name: cfg.name, status: 'disabled', entries: 0, durationMs: 0 };
        return this.refreshOne(cfg, !!opts.force, opts.onProgress, opts.signal);
      }),
    );
    if (!this.hasData) await this.requestRemerge();
    this.emit('refreshed', outcomes);
    return outcomes;
  }

  private mergeQueued: Promise<void> | null = null;
  private mergeTail: Promise<void> = Promise.resolve();

  /** Remerges one at a time; requests that arrive while one waits share it. */
  private requestRemerge(): Promise<void> {
    if (this.mergeQueued) return this.mergeQueued;
    const next = this.mergeTail.then(() => {
      this.mergeQueued = null;
      return this.remerge();
    });
    this.mergeQueued = next;
    this.mergeTail = next.catch((err) => this.log.error(`could not rebuild the merged catalog: ${errorMessage(err)}`));
    return next;
  }

  private refreshOne(cfg: SourceConfig, force: boolean, onProgress?: ProgressFn, signal?: AbortSignal): Promise<RefreshOutcome> {
    const fingerprint = sourceFingerprint(cfg);
    const existing = this.running.get(cfg.name);
    if (existing?.fingerprint === fingerprint) return existing.outcome; // never two refreshes of one source: join the running one
    // A refresh of an older definition (cancelled by reconfigure) ends first: it holds the source's lock.
    const before = existing?.outcome.catch(() => undefined);
    const abort = new AbortController();
    const signals = signal ? AbortSignal.any([signal, abort.signal]) : abort.signal;
    // A source counts as done only once its entries are merged in (searches waiting for it see them).
    const outcome = Promise.resolve(before)
      .then(() => this.doRefreshOne(cfg, force, onProgress, signals))
      .then(async (o) => {
        if (o.status === 'ok') await this.requestRemerge();
        return o;
      })
      .finally(() => {
        if (this.running.get(cfg.name)?.outcome !== outcome) return;
        this.running.delete(cfg.name);
        this.redefined.delete(cfg.name);
        this.emit('source-done', cfg.name);
      });
    this.running.set(cfg.name, { outcome, fingerprint, abort });
    return outcome;
  }

  private async doRefreshOne(cfg: SourceConfig, force: boolean, onProgress?: ProgressFn, signal?: AbortSignal): Promise<RefreshOutcome> {
    const started = Date.now();
    const fingerprint = sourceFingerprint(cfg);
    const record = (await this.store.readStatus())[cfg.name] ?? {};
    // A record of another definition of this source (config.yaml changed its url, path…): its times and error do
    // not hold for this one, so this is a fresh attempt. Records from before fingerprints existed count as current.
    const redefined = record.fingerprint !== undefined && record.fingerprint !== fingerprint;
    const status: SourceStatusRecord = redefined ? { entries: record.entries } : record;
    // Skip and cooldown are decided from the small status record: parsing a multi-megabyte snapshot only to skip it
    // would sit on every start-up tick. The snapshot is read only when the source is really fetched.
    const hasSnapshot = await this.store.hasSnapshot(cfg.name);
    const known = status.entries ?? 0;
    const minInterval = cfg.minInterval ?? this.config.refresh.minInterval;
    const since = (iso?: string) => (iso ? started - Date.parse(iso) : Infinity);
    if (!force && hasSnapshot && since(status.lastRefresh) < minInterval) {
      return { name: cfg.name, status: 'skipped', entries: known, durationMs: 0 };
    }
    if (since(status.lastAttempt) < this.config.refresh.cooldown) {
      return { name: cfg.name, status: 'cooldown', entries: known, durationMs: 0, error: status.lastError };
    }
    const release = await this.store.tryLock(cfg.name);
    if (!release) return { name: cfg.name, status: 'busy', entries: known, durationMs: 0 };
    const prev = hasSnapshot ? await this.store.readSnapshot(cfg.name) : null;
    const count = prev?.entries.length ?? 0;

    const source = (await this.source(cfg.name))!;
    const log = this.log.child(cfg.name);
    const progress = (p: SourceProgress) => {
      const ev = { ...p, source: cfg.name };
      this.emit('progress', ev);
      onProgress?.(ev);
    };
    log.info(`refreshing source ${cfg.name} (${cfg.type})`);
    const reset = redefined ? { lastRefresh: undefined, lastError: undefined, warnings: undefined, durationMs: undefined } : {};
    await this.store.updateStatus(cfg.name, { ...reset, lastAttempt: new Date(started).toISOString(), fingerprint });
    try {
      const res = await source.fetch({
        previous: prev,
        workDir: join(this.sourcesDir, cfg.name),
        signal: signal ?? new AbortController().signal,
        progress,
        log,
        force,
      });
      const durationMs = Date.now() - started;
      const warnings = [...(res.warnings ?? [])];
      if (res.unchanged && prev) {
        // Keep the source's newer state (e.g. a moved watermark) even when its entries did not change.
        if (res.state !== undefined && JSON.stringify(res.state) !== JSON.stringify(prev.state)) await this.store.writeSnapshot(cfg.name, { ...prev, state: res.state });
        await this.store.updateStatus(cfg.name, { lastRefresh: new Date().toISOString(), lastError: undefined, durationMs, entries: count, warnings: warnings.slice(0, 20) });
        log.info(`source ${cfg.name}: no change (${durationMs} ms)`);
        return { name: cfg.name, status: 'unchanged', entries: count, durationMs };
      }
      const entries = validateEntries(res.entries, warnings);
      await this.store.writeSnapshot(cfg.name, { fetchedAt: new Date().toISOString(), entries, state: res.state });
      await this.store.updateStatus(cfg.name, { lastRefresh: new Date().toISOString(), lastError: undefined, durationMs, entries: entries.length, warnings: warnings.slice(0, 20) });
      log.info(`source ${cfg.name}: ${entries.length} entries (${durationMs} ms)${warnings.length ? `, ${warnings.length} warnings` : ''}`);
      return { name: cfg.name, status: 'ok', entries: entries.length, durationMs };
    } catch (err) {
      const durationMs = Date.now() - started;
      const error = errorMessage(err);
      await this.store.updateStatus(cfg.name, { lastError: error, durationMs });
      log.warn(`source ${cfg.name} failed, keeping its last good data (${count} entries): ${error}`);
      return { name: cfg.name, status: 'error', entries: count, error, durationMs };
    } finally {
      await release();
    }
  }

  /** Rebuild the merged catalog from every enabled source's last good snapshot, persist it and swap it in. */
  private async remerge(): Promise<void> {
    const order = this.enabledSources.map((s) => s.name);
    const bySource = new Map<string, Entry[]>();
    for (const name of order) {
      const snap = await this.store.readSnapshot(name);
      if (snap) bySource.set(name, snap.entries);
    }
    // A source with no data of its own yet shows the shipped snapshot's entries until its first refresh succeeds.
    const shipped = await this.snapshotFor(order.filter((name) => !bySource.has(name)));
    const fromSnapshot = new Map<string, string>();
    for (const [name, s] of shipped?.bySource ?? []) {
      bySource.set(name, s.entries);
      fromSnapshot.set(name, s.asOf);
    }
    // Nothing uses it any more: its entries need not stay in memory for a later remerge.
    if (!fromSnapshot.size) this.shipped = Promise.resolve(null);
    const merged = mergeEntries(bySource, order);
    const file: CatalogFile = {
      format: CATALOG_FORMAT,
      builtAt: new Date().toISOString(),
      sources: order,
      entries: merged,
      ...(fromSnapshot.size ? { snapshot: Object.fromEntries(fromSnapshot) } : {}),
    };
    const index = SearchIndex.build(merged);
    // Index first: a crash between the two writes leaves an index whose stamp no catalog matches (rebuilt on load).
    await writeFileAtomic(this.indexPath, index.toBuffer(file.builtAt));
    await writeJsonAtomic(this.catalogPath, file);
    this.fromSnapshot = fromSnapshot;
    this.swap(merged, index);
  }

  private withData = new Set<string>();

  private swap(entries: Entry[], prebuilt?: SearchIndex): void {
    this.withData = new Set(entries.flatMap((e) => e.sources.map((s) => s.source)));
    const byId = new Map<string, Entry>();
    for (const e of entries) {
      for (const a of e.aliases) byId.set(a.toLowerCase(), e);
    }
    for (const e of entries) byId.set(e.id.toLowerCase(), e); // a real id beats an alias of another entry
    const index = prebuilt ?? SearchIndex.build(entries);
    this.entries = entries;
    this.byId = byId;
    this.index = index;
    this.emit('updated', entries.length);
  }

  /** Merge lazily fetched details (mcpservers detail page) into an entry, once. */
  async withDetail(entry: Entry, timeoutMs = 15_000): Promise<Entry> {
    if (entry.detailFetchedAt) return entry;
    for (const ref of entry.sources) {
      const src = await this.source(ref.source);
      if (!src?.detail) continue;
      try {
        // The source finds its own reference among entry.sources.
        const extra = await src.detail(entry, {
          workDir: join(this.sourcesDir, ref.source),
          signal: AbortSignal.timeout(timeoutMs),
          progress: () => {},
          log: this.log.child(ref.source),
        });
        normalizeText(extra);
        // What a detail page adds to run comes from that source, and is judged as such.
        if (extra.launch) extra.launch = extra.launch.map((l) => ({ ...l, source: l.source ?? ref.source }));
        fillGaps(entry, extra);
        entry.detailFetchedAt = new Date().toISOString();
      } catch (err) {
        this.log.warn(`could not fetch details of ${ref.id}: ${errorMessage(err)} (showing what the listing had)`);
      }
    }
    return entry;
  }

  async status(): Promise<SourceStatus[]> {
    const records = await this.store.readStatus();
    const out: SourceStatus[] = [];
    for (const s of this.config.sources) {
      let r = records[s.name] ?? {};
      // Written under another definition (config.yaml changed since): only the entries still served are current.
      if (r.fingerprint !== undefined && r.fingerprint !== sourceFingerprint(s)) r = { entries: r.entries };
      const asOf = this.fromSnapshot.get(s.name);
      // Until its first refresh, a source's entries are the snapshot's: count those.
      const entries = asOf ? this.entries.filter((e) => e.sources.some((ref) => ref.source === s.name)).length : (r.entries ?? 0);
      out.push({ name: s.name, type: s.type, enabled: s.enabled, refreshing: this.running.has(s.name), ...r, entries, ...(asOf ? { snapshot: asOf } : {}) });
    }
    return out;
  }
}

function fillGaps(entry: Entry, extra: Partial<Entry>): void {
  for (const [k, v] of Object.entries(extra) as [keyof Entry, unknown][]) {
    if (v === undefined || v === null) continue;
    const cur = entry[k] as unknown;
    if (k === 'description' && typeof v === 'string' && v.length > String(cur ?? '').length) (entry as Record<string, unknown>)[k] = v;
    else if (Array.isArray(cur) && cur.length === 0 && Array.isArray(v)) (entry as Record<string, unknown>)[k] = v;
    else if (cur === undefined || cur === '') (entry as Record<string, unknown>)[k] = v;
  }
}

/**
 * What a source fetches, as a short hash: name, enabled and timing settings left out (changing them is not a new
 * source), so editing url, path, ref, listings… makes the next refresh a fresh attempt.
 */
export function sourceFingerprint(cfg: SourceConfig): string {
  const { name: _name, enabled: _enabled, minInterval: _minInterval, ...definition } = cfg as SourceConfig & { delayMs?: number };
  delete (definition as { delayMs?: number }).delayMs; // mcpservers politeness: the same pages, fetched slower
  const sorted = Object.fromEntries(Object.entries(definition).sort(([a], [b]) => (a < b ? -1 : 1)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

const sourceKey = (cfg: SourceConfig) => `${cfg.name}\0${sourceFingerprint(cfg)}`;

function sameList(a: unknown, b: string[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
}
