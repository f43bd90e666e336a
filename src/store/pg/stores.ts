/** The organisation stores in PostgreSQL: transactional writes that notify replicas, and shared served stamps. */
import { EventEmitter } from 'node:events';
import type { RegistryConfig } from '../../config/config.js';
import type { StampsBackend } from '../stamps-backend.js';
import type { Logger } from '../../util/log.js';
import { applyStatus, INSTANCE } from '../file-stores.js';
import type { ApiKeyRecord, ApiKeyStore, AuditSink, HealthCheck, HealthState, HealthStore, HttpAuditRecord, OrgStores, PublishedRecord, PublishedStore } from '../org-stores.js';
import { PgCatalogStore } from './catalog-store.js';
import { PgDatabase, type Notification } from './db.js';

/**
 * The organisation's stores in PostgreSQL (see org-stores.ts for what each keeps). Every write is a transaction
 * that notifies the other replicas; each store calls its change listeners for its own writes and for theirs, and
 * once more when the database comes back after an outage (a notification may have been missed meanwhile).
 */

/** Listeners of one kind of notification (plus reconnects). */
function changes(db: PgDatabase, kind: Notification['kind']) {
  const ee = new EventEmitter();
  ee.setMaxListeners(50);
  db.on('notify', (n: Notification) => {
    if (n.kind === kind) ee.emit('change', n);
  });
  db.on('up', () => ee.emit('change'));
  return (fn: () => void) => {
    ee.on('change', fn);
    return () => void ee.off('change', fn);
  };
}

class PgPublishedStore implements PublishedStore {
  readonly onChange: PublishedStore['onChange'];
  constructor(private readonly db: PgDatabase) {
    this.onChange = changes(db, 'published');
  }

  async list(source?: string): Promise<PublishedRecord[]> {
    const rows = source === undefined ? await this.db.query<{ record: PublishedRecord }>('SELECT record FROM published ORDER BY name, version') : await this.db.query<{ record: PublishedRecord }>('SELECT record FROM published WHERE source = $1 ORDER BY name, version', [source]);
    return rows.map((r) => r.record);
  }

  add(rec: PublishedRecord): Promise<'created' | 'exists'> {
    return this.db.tx(async (q, notify) => {
      // A deleted version may be published again; a live one is immutable.
      const rows = await q(
        `INSERT INTO published (source, name, version, status, record) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (source, name, version) DO UPDATE SET status = EXCLUDED.status, record = EXCLUDED.record WHERE published.status = 'deleted'
         RETURNING 1`,
        [rec.source, rec.name, rec.version, rec.status, JSON.stringify(rec)],
      );
      if (!rows.length) return 'exists' as const;
      await notify({ kind: 'published', source: rec.source });
      return 'created' as const;
    });
  }

  setStatus(change: Parameters<PublishedStore['setStatus']>[0]): Promise<PublishedRecord[]> {
    return this.db.tx(async (q, notify) => {
      const rows = change.version === undefined
        ? await q(`SELECT record FROM published WHERE source = $1 AND name = $2 AND status <> 'deleted' FOR UPDATE`, [change.source, change.name])
        : await q('SELECT record FROM published WHERE source = $1 AND name = $2 AND version = $3 FOR UPDATE', [change.source, change.name, change.version]);
      const out: PublishedRecord[] = [];
      for (const row of rows) {
        const r = row.record as PublishedRecord;
        applyStatus(r, change);
        await q('UPDATE published SET status = $4, record = $5 WHERE source = $1 AND name = $2 AND version = $3', [r.source, r.name, r.version, r.status, JSON.stringify(r)]);
        out.push(r);
      }
      if (out.length) await notify({ kind: 'published', source: change.source });
      return out;
    });
  }
}

class PgApiKeyStore implements ApiKeyStore {
  readonly onChange: ApiKeyStore['onChange'];
  constructor(private readonly db: PgDatabase) {
    this.onChange = changes(db, 'apikeys');
  }
  async list(): Promise<ApiKeyRecord[]> {
    return (await this.db.query<{ record: ApiKeyRecord }>('SELECT record FROM api_keys ORDER BY id')).map((r) => r.record);
  }
  async add(rec: ApiKeyRecord): Promise<void> {
    await this.db.tx(async (q, notify) => {
      await q('INSERT INTO api_keys (id, record) VALUES ($1, $2)', [rec.id, JSON.stringify(rec)]);
      await notify({ kind: 'apikeys' });
    });
  }
  revoke(id: string, at: string): Promise<ApiKeyRecord | undefined> {
    return this.db.tx(async (q, notify) => {
      const [row] = await q('SELECT record FROM api_keys WHERE id = $1 FOR UPDATE', [id]);
      if (!row) return undefined;
      const rec = row.record as ApiKeyRecord;
      if (!rec.revokedAt) {
        rec.revokedAt = at;
        await q('UPDATE api_keys SET record = $2 WHERE id = $1', [id, JSON.stringify(rec)]);
        await notify({ kind: 'apikeys' });
      }
      return rec;
    });
  }
}

class PgHealthStore implements HealthStore {
  readonly onChange: HealthStore['onChange'];
  constructor(private readonly db: PgDatabase) {
    this.onChange = changes(db, 'health');
  }
  async states(): Promise<HealthState[]> {
    return (await this.db.query<{ record: HealthState }>('SELECT record FROM health_states ORDER BY key')).map((r) => r.record);
  }
  async record(states: HealthState[], checks: HealthCheck[], keep: number): Promise<void> {
    await this.db.tx(async (q, notify) => {
      const keys = states.map((s) => s.key);
      await q('DELETE FROM health_states WHERE NOT (key = ANY($1::text[]))', [keys]);
      if (states.length) {
        await q(
          `INSERT INTO health_states (key, record) SELECT k, r FROM unnest($1::text[], $2::jsonb[]) AS t(k, r)
           ON CONFLICT (key) DO UPDATE SET record = EXCLUDED.record`,
          [keys, states.map((s) => JSON.stringify(s))],
        );
      }
      if (checks.length) {
        await q(
          `INSERT INTO health_checks (key, at, ok, latency_ms, error) SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::boolean[], $4::integer[], $5::text[])`,
          [checks.map((c) => c.key), checks.map((c) => c.at), checks.map((c) => c.ok), checks.map((c) => Math.round(c.latencyMs)), checks.map((c) => c.error ?? null)],
        );
        // History: the newest `keep` per endpoint.
        await q(
          `DELETE FROM health_checks h USING (
             SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY key ORDER BY at DESC, id DESC) AS n FROM health_checks WHERE key = ANY($1::text[])) x WHERE n > $2
           ) old WHERE h.id = old.id`,
          [[...new Set(checks.map((c) => c.key))], keep],
        );
      }
      await q('DELETE FROM health_checks WHERE NOT (key = ANY($1::text[]))', [keys]);
      await notify({ kind: 'health' });
    });
  }
  async history(key: string, limit: number): Promise<HealthCheck[]> {
    const rows = await this.db.query<{ at: Date; ok: boolean; latency_ms: number; error: string | null }>('SELECT at, ok, latency_ms, error FROM health_checks WHERE key = $1 ORDER BY at DESC, id DESC LIMIT $2', [key, limit]);
    return rows.map((r) => ({ key, at: r.at.toISOString(), ok: r.ok, latencyMs: r.latency_ms, ...(r.error ? { error: r.error } : {}) }));
  }
}

class PgAuditSink implements AuditSink {
  constructor(private readonly db: PgDatabase) {}
  async write(rec: HttpAuditRecord): Promise<void> {
    await this.db.query('INSERT INTO audit_events (time, action, outcome, actor_id, record) VALUES ($1, $2, $3, $4, $5)', [rec.time, rec.action, rec.outcome, rec.actor.id, JSON.stringify(rec)]);
  }
  async query(q: { since?: string; action?: string; limit: number }): Promise<HttpAuditRecord[]> {
    const rows = await this.db.query<{ record: HttpAuditRecord }>(
      `SELECT record FROM audit_events WHERE ($1::timestamptz IS NULL OR time >= $1) AND ($2::text IS NULL OR action = $2) ORDER BY time DESC, id DESC LIMIT $3`,
      [q.since ?? null, q.action ?? null, q.limit],
    );
    return rows.map((r) => r.record);
  }
}

/**
 * The served timestamps of one registry, shared: every replica reads them before it builds its view; only the
 * refresher writes them (so two replicas never stamp one change at two different times).
 */
export class PgStampsBackend implements StampsBackend {
  constructor(
    private readonly db: PgDatabase,
    private readonly registry: string,
    /** Whether this replica writes (the refresher). */
    private readonly writer: () => boolean,
  ) {}
  async read(): Promise<unknown> {
    return (await this.db.query<{ doc: unknown }>('SELECT doc FROM served_stamps WHERE registry = $1', [this.registry]))[0]?.doc;
  }
  async write(doc: unknown): Promise<void> {
    if (!this.writer()) return;
    await this.db.tx(async (q, notify) => {
      await q(
        `INSERT INTO served_stamps (registry, doc, written_by, written_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (registry) DO UPDATE SET doc = EXCLUDED.doc, written_by = EXCLUDED.written_by, written_at = now()`,
        [this.registry, JSON.stringify(doc), INSTANCE],
      );
      await notify({ kind: 'stamps', registry: this.registry });
    });
  }
}

export async function openPgStores(url: string, config: RegistryConfig, log: Logger): Promise<OrgStores> {
  const db = await PgDatabase.open(url, { poolSize: config.database?.pool, log });
  return {
    kind: 'postgres',
    database: db,
    catalogStore: new PgCatalogStore(db),
    published: new PgPublishedStore(db),
    apikeys: new PgApiKeyStore(db),
    health: new PgHealthStore(db),
    audit: new PgAuditSink(db),
    close: () => db.close(),
  };
}
