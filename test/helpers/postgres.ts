// @ts-expect-error -- plain JavaScript shared with the benchmarks (scripts/bench/org.mjs); typed below.
import { startCluster as start, postgresBin } from '../../scripts/pg-cluster.mjs';
import { skipOrFail, type SkipContext } from './skip.js';

/**
 * A throw-away PostgreSQL cluster for one test file (scripts/pg-cluster.mjs: initdb + pg_ctl in a temp dir, a free
 * loopback port, as the unprivileged test user when root); each test creates its own database. Without PostgreSQL
 * installed the tests fail in CI and are skipped loudly elsewhere, like the container tests.
 */
export interface Cluster {
  port: number;
  url(name: string): string;
  createDatabase(name: string): Promise<string>;
  psql(db: string, sql: string): Promise<{ stdout: string }>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export const SETUP_POSTGRES = 'sudo bash scripts/setup-postgres.sh (installs Debian\'s postgresql; the tests start their own clusters)';

export async function postgresUnavailable(): Promise<string | null> {
  return (await postgresBin()) ? null : 'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)';
}

export function startCluster(): Promise<Cluster> {
  return start() as Promise<Cluster>;
}

let n = 0;
/** A database name no other test of this run uses. */
export function dbName(prefix: string): string {
  return `${prefix}_${process.pid}_${++n}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/** Call first in a test that needs PostgreSQL. */
export async function requirePostgres(ctx: SkipContext): Promise<void> {
  const why = await postgresUnavailable();
  if (why) skipOrFail(ctx, 'PostgreSQL', why, SETUP_POSTGRES);
}
