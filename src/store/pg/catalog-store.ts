/** The catalog's per-source store in PostgreSQL: snapshot generations, statuses, the refresh lock. */
import type { SourceSnapshot, SourceStatusRecord, CatalogStore } from '../source-store.js';
import { INSTANCE } from '../file-stores.js';
import type { PgDatabase } from './db.js';

/**
 * The catalog's per-source store in PostgreSQL: each source's last good data (newest KEEP generations), its status
 * record, and its refresh lock — what every replica merges its in-memory catalog from. A write is one transaction
 * that also notifies the other replicas, so a replica killed mid-refresh leaves the previous generation in place.
 * Only a process allowed to refresh (the elected refresher) gets a source's lock; the others, and the stdio server
 * reading the same database, only read.
 */

const KEEP = 3;

export class PgCatalogStore implements CatalogStore {
  /** The newest generation read per source, and its text: a remerge re-reads only what changed. */
  private readonly texts = new Map<string, { gen: string; text: string; fetchedAt: string; state: unknown }>();
  /** Whether this process may refresh now (serve-http: while it holds the refresher lock; stdio: never). */
  refreshAllowed: () => boolean = () => false;

  constructor(private readonly db: PgDatabase) {}

  async readSnapshot(name: string): Promise<SourceSnapshot | null> {
    const head = await this.db.query<{ gen: string }>('SELECT max(gen)::text AS gen FROM source_snapshots WHERE source = $1', [name]);
    const gen = head[0]?.gen;
    if (!gen) return null;
    let t = this.texts.get(name);
    if (t?.gen !== gen) {
      const rows = await this.db.query<{ entries: string; fetched_at: string; state: unknown }>('SELECT entries, fetched_at, state FROM source_snapshots WHERE source = $1 AND gen = $2', [name, gen]);
      if (!rows[0]) return null;
      t = { gen, text: rows[0].entries, fetchedAt: rows[0].fetched_at, state: rows[0].state ?? undefined };
      this.texts.set(name, t);
    }
    // Parsed per read, like the files: the catalog may fill details into its entries.
    return { fetchedAt: t.fetchedAt, entries: JSON.parse(t.text), state: t.state ?? undefined };
  }

  async hasSnapshot(name: string): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM source_snapshots WHERE source = $1 LIMIT 1', [name])).length > 0;
  }

  async writeSnapshot(name: string, snap: SourceSnapshot): Promise<void> {
    const text = JSON.stringify(snap.entries);
    await this.db.tx(async (q, notify) => {
      const [row] = await q(
        `INSERT INTO source_snapshots (source, gen, fetched_at, entry_count, entries, state, written_by)
         VALUES ($1, nextval('catalog_gen'), $2, $3, $4, $5, $6) RETURNING gen::text AS gen`,
        [name, snap.fetchedAt, snap.entries.length, text, snap.state === undefined ? null : JSON.stringify(snap.state), INSTANCE],
      );
      await q('DELETE FROM source_snapshots WHERE source = $1 AND gen NOT IN (SELECT gen FROM source_snapshots WHERE source = $1 ORDER BY gen DESC LIMIT $2)', [name, KEEP]);
      await notify({ kind: 'source', source: name });
      this.texts.set(name, { gen: String(row!.gen), text, fetchedAt: snap.fetchedAt, state: snap.state });
    });
  }

  async readStatus(): Promise<Record<string, SourceStatusRecord>> {
    const rows = await this.db.query<{ source: string; record: SourceStatusRecord }>('SELECT source, record FROM source_status');
    return Object.fromEntries(rows.map((r) => [r.source, r.record]));
  }

  async updateStatus(name: string, patch: SourceStatusRecord): Promise<SourceStatusRecord> {
    return this.db.tx(async (q) => {
      await q('INSERT INTO source_status (source, record) VALUES ($1, $2) ON CONFLICT (source) DO NOTHING', [name, '{}']);
      const [row] = await q('SELECT record FROM source_status WHERE source = $1 FOR UPDATE', [name]);
      const next = { ...(row?.record as SourceStatusRecord), ...patch };
      for (const k of Object.keys(next) as (keyof SourceStatusRecord)[]) if (next[k] === undefined) delete next[k];
      await q('UPDATE source_status SET record = $2 WHERE source = $1', [name, JSON.stringify(next)]);
      return next;
    });
  }

  async tryLock(name: string): Promise<(() => Promise<void>) | null> {
    if (!this.refreshAllowed()) return null;
    const lock = await this.db.tryLock(`mcp-registry:source:${name}`);
    return lock ? lock.release : null;
  }

  /** The catalog's versions: the generations kept per source. */
  async generations(): Promise<{ source: string; gen: number; fetchedAt: string; entries: number; writtenBy: string }[]> {
    const rows = await this.db.query<{ source: string; gen: string; fetched_at: string; entry_count: number; written_by: string }>(
      'SELECT source, gen::text AS gen, fetched_at, entry_count, written_by FROM source_snapshots ORDER BY source, gen DESC',
    );
    return rows.map((r) => ({ source: r.source, gen: Number(r.gen), fetchedAt: r.fetched_at, entries: r.entry_count, writtenBy: r.written_by }));
  }
}
