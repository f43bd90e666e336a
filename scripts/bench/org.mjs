// The organisation's registry: the built `mcp-registry serve-http` over the same warm 12k-entry catalog, once on the
// file store (the baseline) and once on PostgreSQL (a throw-away cluster, scripts/pg-cluster.mjs), with one replica
// and with two sharing the database; autocannon at 16 connections in all (two replicas: 8 each, throughput summed,
// latency of the slower; client-side latency over loopback). Rounds alternate the set-ups; figures are medians.
// Then publish on replica A → visible on replica B. PostgreSQL must be installed (scripts/setup-postgres.sh).
//   node scripts/bench/org.mjs          (after npm run build)
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { warmHome } from './startup.mjs';
import { startServer as startHttp } from './http.mjs';
import { startCluster } from '../pg-cluster.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONNECTIONS = 16;
const DURATION = Number(process.env.BENCH_ORG_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ORG_ROUNDS ?? 3);
const PUBLISHES = Number(process.env.BENCH_ORG_PUBLISHES ?? 40);
const LIST = '/v0.1/servers?limit=100';
const SEARCH = '/v0.1/servers?search=postgres&limit=30&version=latest';

async function startServer(home, log) {
  const srv = await startHttp(home, log);
  return { ...srv, stop: () => new Promise((r) => (srv.child.exitCode !== null ? r() : (srv.child.once('exit', r), srv.child.kill('SIGTERM')))) };
}

/** Wait until a server serves the whole catalog (a replica fills its view from the database after it listens). */
async function waitServing(url, min) {
  const end = Date.now() + 120_000;
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const n = Number(/^mcp_registry_served_servers\{registry="default"\} (\d+)/m.exec(text)?.[1] ?? 0);
    if (n >= min) return n;
    if (Date.now() > end) throw new Error(`${url} serves ${n} servers, expected ${min}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function load(url, connections, duration = DURATION) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration, pipelining: 1 }, (err, res) => {
      if (err) return reject(err);
      if (res.errors || res.timeouts || res.non2xx) return reject(new Error(`${url}: ${res.errors} errors, ${res.timeouts} timeouts, ${res.non2xx} non-2xx of ${res.requests.total}`));
      resolve(res);
    });
  });
}

/** 16 connections over the given servers; latency percentiles of the slowest, throughput summed. */
async function measure(urls, path) {
  const per = Math.floor(CONNECTIONS / urls.length);
  const results = await Promise.all(urls.map((u) => load(`${u}${path}`, per)));
  return {
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    rps: results.reduce((n, r) => n + r.requests.average, 0),
  };
}

/** warmHome's config.yaml (its sources, no refresh at start) plus a managed source and `extra`. */
function config(base, extra) {
  return base.replace(/^sources:\n/m, 'sources:\n  - {name: internal, type: managed}\n') + `http: {health: {enabled: false}}\n${extra}\n`;
}

export async function run(report) {
  const cleanup = [];
  const fileHome = await warmHome(12_000);
  cleanup.push(() => rm(fileHome, { recursive: true, force: true }));
  const logs = await mkdtemp(join(tmpdir(), 'bench-org-'));
  cleanup.push(() => rm(logs, { recursive: true, force: true }));
  try {
    // ---- file store (the baseline) and PostgreSQL (the same snapshots written into a fresh database) ----
    const baseConfig = await readFile(join(fileHome, 'config.yaml'), 'utf8');
    await writeFile(join(fileHome, 'config.yaml'), config(baseConfig, ''));
    const file = await startServer(fileHome, join(logs, 'file.log'));
    cleanup.unshift(() => file.stop());
    const size = await waitServing(file.url, 12_000);

    const pg = await startCluster();
    cleanup.unshift(() => pg.stop());
    const dbUrl = await pg.createDatabase('bench_org');
    const { PgDatabase } = await import(pathToFileURL(join(root, 'dist/store/pg/db.js')).href);
    const { PgCatalogStore } = await import(pathToFileURL(join(root, 'dist/store/pg/catalog-store.js')).href);
    const { createLogger } = await import(pathToFileURL(join(root, 'dist/util/log.js')).href);
    const db = await PgDatabase.open(dbUrl, { log: createLogger('bench') });
    if (!(await db.connected)) throw new Error(`cannot reach ${dbUrl}: ${db.lastError}`);
    const store = new PgCatalogStore(db);
    const now = new Date().toISOString();
    for (const name of ['docker', 'mcpservers']) {
      const snap = JSON.parse(await readFile(join(fileHome, 'cache', 'sources', `${name}.json`), 'utf8'));
      await store.writeSnapshot(name, snap);
      await store.updateStatus(name, { lastRefresh: now, lastAttempt: now, entries: snap.entries.length });
    }
    await db.close();
    const pgHome = async () => {
      const home = await mkdtemp(join(tmpdir(), 'bench-org-home-'));
      cleanup.push(() => rm(home, { recursive: true, force: true }));
      await writeFile(join(home, 'config.yaml'), config(baseConfig, `database: {url: '${dbUrl}', leaderPoll: 1s}`));
      return home;
    };
    const homeA = await pgHome();
    const a = await startServer(homeA, join(logs, 'a.log'));
    cleanup.unshift(() => a.stop());
    await waitServing(a.url, size);
    const b = await startServer(await pgHome(), join(logs, 'b.log'));
    cleanup.unshift(() => b.stop());
    await waitServing(b.url, size);
    // Warm every server (JIT, response caches), then alternate the set-ups round by round so that the load other
    // work puts on this shared machine falls on all of them alike; medians of the rounds.
    for (const u of [file.url, a.url, b.url]) await load(`${u}${LIST}`, 4, 1);
    const runs = { fileList: [], pgList: [], twoList: [], fileSearch: [], pgSearch: [], twoSearch: [] };
    for (let round = 0; round < ROUNDS; round++) {
      runs.fileList.push(await measure([file.url], LIST));
      runs.pgList.push(await measure([a.url], LIST));
      runs.twoList.push(await measure([a.url, b.url], LIST));
      runs.fileSearch.push(await measure([file.url], SEARCH));
      runs.pgSearch.push(await measure([a.url], SEARCH));
      runs.twoSearch.push(await measure([a.url, b.url], SEARCH));
    }
    const med = (xs) => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const pick = (list) => ({ p50: med(list.map((r) => r.p50)), p99: med(list.map((r) => r.p99)), rps: med(list.map((r) => r.rps)) });
    const [fileList, pgList, twoList, fileSearch, pgSearch, twoSearch] = Object.values(runs).map(pick);

    report(`catalog served (entries)`, size, '');
    report(`list ${LIST} p50, file store`, fileList.p50, 'ms');
    report(`list p99, file store`, fileList.p99, 'ms');
    report(`list throughput, file store`, fileList.rps, 'req/s');
    report(`list p50, PostgreSQL, 1 replica`, pgList.p50, 'ms', fileList.p50);
    report(`list p99, PostgreSQL, 1 replica`, pgList.p99, 'ms', fileList.p99, '≤ 1.5× file');
    report(`list throughput, PostgreSQL, 1 replica`, pgList.rps, 'req/s', fileList.rps, '≥ file / 1.5');
    report(`list p99, PostgreSQL, 2 replicas`, twoList.p99, 'ms', fileList.p99);
    report(`list throughput, PostgreSQL, 2 replicas (sum)`, twoList.rps, 'req/s', fileList.rps);
    report(`search p50, file store`, fileSearch.p50, 'ms');
    report(`search p99, file store`, fileSearch.p99, 'ms');
    report(`search throughput, file store`, fileSearch.rps, 'req/s');
    report(`search p99, PostgreSQL, 1 replica`, pgSearch.p99, 'ms', fileSearch.p99, '≤ 1.5× file');
    report(`search throughput, PostgreSQL, 1 replica`, pgSearch.rps, 'req/s', fileSearch.rps, '≥ file / 1.5');
    report(`search p99, PostgreSQL, 2 replicas`, twoSearch.p99, 'ms', fileSearch.p99);
    report(`search throughput, PostgreSQL, 2 replicas (sum)`, twoSearch.rps, 'req/s', fileSearch.rps);

    // ---- publish on A → visible on B ----
    const key = await new Promise((resolve, reject) => {
      const c = spawn(process.execPath, [join(root, 'dist/cli.js'), 'apikey', 'create', '--scope', 'publish'], { env: { ...process.env, MCP_REGISTRY_HOME: homeA }, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`apikey create exited ${code}`))));
    });
    const times = [];
    for (let i = 0; i < PUBLISHES; i++) {
      const name = `com.example.bench/tool-${i}`;
      const server = { name, description: `Bench entry ${i}.`, version: '1.0.0', remotes: [{ type: 'streamable-http', url: `https://tool-${i}.example.com/mcp` }] };
      const t0 = performance.now();
      const res = await fetch(`${a.url}/v1/entries`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(server) });
      if (res.status !== 201) throw new Error(`publish ${name}: ${res.status} ${await res.text()}`);
      const end = t0 + 10_000;
      for (;;) {
        const r = await fetch(`${b.url}/v0.1/servers/${encodeURIComponent(name)}/versions/latest`);
        await r.arrayBuffer();
        if (r.status === 200) break;
        if (performance.now() > end) throw new Error(`${name} not visible on B after 10 s`);
        await new Promise((r2) => setTimeout(r2, 5));
      }
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    report(`publish on A → visible on B p50 (${PUBLISHES} publishes)`, times[Math.floor(times.length / 2)], 'ms');
    report(`publish on A → visible on B p99`, times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)], 'ms', undefined, '≤ 1000 ms');
  } finally {
    for (const c of cleanup) await c().catch(() => {});
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run((label, value, unit = '', baseline, target) => console.log(`${label.padEnd(58)} ${typeof value === 'number' ? value.toFixed(2) : value} ${unit}${baseline !== undefined ? `   baseline ${baseline.toFixed(2)}` : ''}${target ? `   (target ${target})` : ''}`));
}
