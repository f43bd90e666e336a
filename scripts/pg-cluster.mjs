// A throw-away PostgreSQL cluster for tests and benchmarks: initdb + pg_ctl from the Debian packages into a temp
// dir, listening on a free loopback port only, trust authentication (nothing but this machine can reach it), fsync
// off (nothing in it must survive a crash). Postgres refuses to run as root, so as root the cluster runs as an
// unprivileged user (MCP_REGISTRY_TEST_USER, default mcpreg: scripts/setup-postgres.sh creates it).
//   const pg = await startCluster(); const url = await pg.createDatabase('t1'); … await pg.stop();
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The newest /usr/lib/postgresql/<n>/bin, or a reason why there is none. */
export async function postgresBin() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? (await readdir(root)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  return undefined;
}

export const POSTGRES_MISSING = 'PostgreSQL is not installed: run `sudo bash scripts/setup-postgres.sh` (apt-get install postgresql)';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Start a cluster. `user`: who runs it when this process is root. */
export async function startCluster({ user = process.env.MCP_REGISTRY_TEST_USER ?? 'mcpreg', settings = {} } = {}) {
  const bin = await postgresBin();
  if (!bin) throw new Error(POSTGRES_MISSING);
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'mcp-registry-pg-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  const as = (cmd, args) => (asRoot ? run('runuser', ['-u', user, '--', cmd, ...args]) : run(cmd, args));
  if (asRoot) {
    await run('chown', [user, dir]);
    await chmod(dir, 0o700);
  }
  await as('mkdir', [sock]);
  await as(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const options = { listen_addresses: "'127.0.0.1'", port, unix_socket_directories: `'${sock}'`, fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: 200, ...settings };
  const o = Object.entries(options)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  await as(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'postgres.log'), '-o', o, '-w', '-t', '60', 'start']);
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const psql = (db, sql) => run(join(bin, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', `postgres://postgres@127.0.0.1:${port}/${db}`, '-c', sql]);
  let stopped = false;
  return {
    port,
    dir,
    /** A connection URL for database `name` (not created). */
    url: (name) => `postgres://postgres@127.0.0.1:${port}/${name}`,
    admin,
    /** Create an empty database and return its URL. */
    async createDatabase(name) {
      if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`database name "${name}": lower-case letters, digits and _`);
      await psql('postgres', `CREATE DATABASE ${name}`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    psql,
    /** Stop the server (fast shutdown: open connections are cut) and remove its files. */
    async stop() {
      if (stopped) return;
      stopped = true;
      await as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
    /** Stop or start the server but keep its data (a database outage). */
    async pause() {
      await as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    async resume() {
      await as(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'postgres.log'), '-o', o, '-w', '-t', '60', 'start']);
    },
  };
}
