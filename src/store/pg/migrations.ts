/** The PostgreSQL schema as numbered migrations, and applying the missing ones under a lock. */
import type { Pool } from 'pg';

/**
 * The schema, as numbered migrations applied in order at start-up (under an advisory lock, so replicas starting
 * together apply each one once), recorded in `schema_migrations`. Never edit a released migration: add the next.
 * Large documents (a source's entries) are text, not jsonb: the database stores and returns them, only this
 * program reads them, and text skips jsonb's parse and re-serialisation of megabytes.
 */
export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'catalog, published entries, stamps, api keys, health, audit',
    sql: `
      CREATE SEQUENCE catalog_gen;
      -- Each source's last good data (the newest few generations are kept: the catalog's versions).
      CREATE TABLE source_snapshots (
        source text NOT NULL,
        gen bigint NOT NULL,
        fetched_at text NOT NULL,
        entry_count integer NOT NULL,
        entries text NOT NULL,
        state jsonb,
        written_by text NOT NULL,
        written_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source, gen)
      );
      CREATE TABLE source_status (source text PRIMARY KEY, record jsonb NOT NULL);
      CREATE TABLE published (
        source text NOT NULL,
        name text NOT NULL,
        version text NOT NULL,
        status text NOT NULL,
        record jsonb NOT NULL,
        PRIMARY KEY (source, name, version)
      );
      CREATE TABLE served_stamps (registry text PRIMARY KEY, doc jsonb NOT NULL, written_by text NOT NULL, written_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE api_keys (id text PRIMARY KEY, record jsonb NOT NULL);
      CREATE TABLE health_states (key text PRIMARY KEY, record jsonb NOT NULL);
      CREATE TABLE health_checks (id bigserial PRIMARY KEY, key text NOT NULL, at timestamptz NOT NULL, ok boolean NOT NULL, latency_ms integer NOT NULL, error text);
      CREATE INDEX health_checks_key_at ON health_checks (key, at DESC);
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        time timestamptz NOT NULL,
        action text NOT NULL,
        outcome text NOT NULL,
        actor_id text NOT NULL,
        record jsonb NOT NULL
      );
      CREATE INDEX audit_events_time ON audit_events (time);
    `,
  },
];

/** Apply the migrations this database lacks; returns the versions applied. */
export async function migrate(pool: Pool, lockKey: number): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await client.query('SELECT version FROM schema_migrations')).rows.map((r: { version: number }) => r.version));
    const newest = Math.max(0, ...done);
    const known = Math.max(...MIGRATIONS.map((m) => m.version));
    if (newest > known) {
      throw new Error(`the database has schema version ${newest}, newer than this mcp-registry knows (${known}): upgrade this replica before connecting it`);
    }
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
