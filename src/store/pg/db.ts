/** The shared PostgreSQL database: pool, notification channel, advisory locks, outage state and reconnects. */
import { EventEmitter } from 'node:events';
import type { Pool, PoolClient, Client } from 'pg';
import { errorMessage, type Logger } from '../../util/log.js';
import { INSTANCE } from '../file-stores.js';
import { migrate } from './migrations.js';

/**
 * One PostgreSQL database shared by every replica: a connection pool for queries, one listening connection for
 * notifications (channel `mcp_registry`, JSON payloads `{kind, from, …}`), advisory locks on dedicated connections,
 * and the outage state: when the database cannot be reached the replica says so (`available`, `downSince`) and
 * reconnects in the background; on the way back it emits `up` so everything reloads what it may have missed.
 */

export const CHANNEL = 'mcp_registry';

/** Advisory lock keys (one 64-bit space per database; `hashtext` of a name for per-source locks). */
export const LOCKS = { migrate: 7_345_001, refresher: 7_345_002 } as const;

export interface Notification {
  kind: 'source' | 'published' | 'stamps' | 'health' | 'apikeys' | 'refresh';
  /** The replica that sent it (host:pid). */
  from: string;
  source?: string;
  registry?: string;
}

const RECONNECT_MS = 1_000;

/** The URL with its password masked: what logs and messages may show. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

/** Errors that mean "the database is not there" rather than "this query is wrong". */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004'].includes(code) ||
    /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(e?.message ?? '')
  );
}

export class PgDatabase extends EventEmitter {
  private listener: Client | null = null;
  private closed = false;
  private reconnecting: NodeJS.Timeout | null = null;
  available = false;
  downSince: Date | undefined = new Date();
  lastError: string | undefined;

  private constructor(
    readonly pool: Pool,
    private readonly pgModule: typeof import('pg'),
    readonly url: string,
    readonly log: Logger,
  ) {
    super();
    this.setMaxListeners(50);
    // An idle pooled connection that breaks (the server restarted) must not crash the process.
    pool.on('error', (err) => this.down(err));
  }

  /**
   * Start connecting (migrations, then LISTEN) without waiting: the stdio server must not wait for a database to
   * answer initialize. An unreachable database is not fatal: it is retried in the background. `connected` settles
   * after the first attempt.
   */
  static async open(url: string, opts: { poolSize?: number; log: Logger; connectTimeoutMs?: number }): Promise<PgDatabase> {
    const pgModule = (await import('pg')).default as unknown as typeof import('pg');
    const pool = new pgModule.Pool({ connectionString: url, max: opts.poolSize ?? 10, connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000, idleTimeoutMillis: 30_000 });
    const db = new PgDatabase(pool, pgModule, url, opts.log);
    db.connected = db.connect();
    return db;
  }

  /** The first connection attempt: true when the database answered. */
  connected: Promise<boolean> = Promise.resolve(false);

  /** First connection, and every reconnection: migrations, then LISTEN. */
  private async connect(): Promise<boolean> {
    let client: Client | null = null;
    try {
      const applied = await migrate(this.pool, LOCKS.migrate);
      if (applied.length) this.log.info(`database ${safeUrl(this.url)}: applied migrations ${applied.join(', ')}`);
      client = new this.pgModule.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
      client.on('error', (err) => this.down(err));
      client.on('end', () => {
        if (this.listener === client) this.down(new Error('the notification connection closed'));
      });
      await client.connect();
      client.on('notification', (msg) => {
        if (msg.channel !== CHANNEL || !msg.payload) return;
        try {
          this.emit('notify', JSON.parse(msg.payload) as Notification);
        } catch {
          /* not ours */
        }
      });
      await client.query(`LISTEN ${CHANNEL}`);
      this.listener = client;
      const was = this.downSince;
      this.available = true;
      this.downSince = undefined;
      this.lastError = undefined;
      if (was && this.listenerCount('up')) this.log.info(`database ${safeUrl(this.url)} is reachable${this.everUp ? ' again' : ''}`);
      this.everUp = true;
      this.emit('up');
      return true;
    } catch (err) {
      await client?.end().catch(() => {});
      this.down(err);
      return false;
    }
  }

  private everUp = false;

  /** The database went away: say so once, serve what is in memory, keep trying to reconnect. */
  down(err: unknown): void {
    if (this.closed) return;
    const msg = errorMessage(err);
    if (this.available || this.downSince === undefined || !this.lastError) {
      this.log.warn(`database ${safeUrl(this.url)} is unreachable (${msg}): serving the last good view, retrying every ${RECONNECT_MS / 1000}s`);
    }
    this.lastError = msg;
    if (this.available) this.emit('down', msg);
    this.available = false;
    this.downSince ??= new Date();
    const l = this.listener;
    this.listener = null;
    void l?.end().catch(() => {});
    if (this.reconnecting) return;
    this.reconnecting = setTimeout(() => {
      this.reconnecting = null;
      if (!this.closed) void this.connect();
    }, RECONNECT_MS);
    this.reconnecting.unref();
  }

  async query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<R[]> {
    // Nothing may read a table before the first connection applied the migrations (a fresh database has none).
    if (!this.everUp) await this.connected;
    try {
      const res = await this.pool.query(text, params);
      return res.rows as R[];
    } catch (err) {
      if (isConnectionError(err)) this.down(err);
      throw err;
    }
  }

  /** Run `fn` in a transaction; `notify` inside it is delivered when it commits. */
  async tx<T>(fn: (q: (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>, notify: (n: Omit<Notification, 'from'>) => Promise<void>) => Promise<T>): Promise<T> {
    let client: PoolClient;
    if (!this.everUp) await this.connected;
    try {
      client = await this.pool.connect();
    } catch (err) {
      if (isConnectionError(err)) this.down(err);
      throw err;
    }
    const q = async (text: string, params: unknown[] = []) => (await client.query(text, params)).rows as Record<string, unknown>[];
    const notify = async (n: Omit<Notification, 'from'>) => void (await client.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ ...n, from: INSTANCE })]));
    try {
      await client.query('BEGIN');
      const out = await fn(q, notify);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      if (isConnectionError(err)) this.down(err);
      throw err;
    } finally {
      client.release();
    }
  }

  async notify(n: Omit<Notification, 'from'>): Promise<void> {
    await this.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ ...n, from: INSTANCE })]);
  }

  /**
   * A session advisory lock on a connection of its own (held until released, or until this process dies and the
   * database drops its connection). Resolves null when another session holds it.
   */
  async tryLock(key: number | string): Promise<{ release(): Promise<void>; client: Client } | null> {
    const client = new this.pgModule.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      const sql = typeof key === 'number' ? 'SELECT pg_try_advisory_lock($1::bigint) AS ok' : 'SELECT pg_try_advisory_lock(hashtext($1)) AS ok';
      const res = await client.query(sql, [key]);
      if (!res.rows[0]?.ok) {
        await client.end().catch(() => {});
        return null;
      }
    } catch (err) {
      await client.end().catch(() => {});
      if (isConnectionError(err)) this.down(err);
      throw err;
    }
    return { client, release: () => client.end().catch(() => {}) };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnecting) clearTimeout(this.reconnecting);
    await this.listener?.end().catch(() => {});
    this.listener = null;
    await this.pool.end().catch(() => {});
  }
}
