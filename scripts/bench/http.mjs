// HTTP registry API under load: the built `mcp-registry serve-http` over a warm 12k-entry catalog (synthetic
// mcpservers-shaped entries + the real Docker registry), driven by autocannon at 200 concurrent connections on
// loopback. Baseline: a bare node:http server answering the very same bytes (the floor for Node on this machine).
// Also: uncached handler time for varied searches (the response cache cannot help there) and the view build time.
//   node scripts/bench/http.mjs          (after npm run build)
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { warmHome } from './startup.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONNECTIONS = 200;
const DURATION = Number(process.env.BENCH_HTTP_SECONDS ?? 8);

export async function startServer(home, log) {
  const fh = await open(log, 'w');
  // A rate limit high enough never to trigger: the limiter's code still runs on every request.
  const child = spawn(process.execPath, [join(root, 'dist/cli.js'), 'serve-http', '--port', '0', '--rate-limit', '100000000'], {
    env: { ...process.env, MCP_REGISTRY_HOME: home, MCP_REGISTRY_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', fh.fd],
  });
  await fh.close();
  const end = Date.now() + 60_000;
  for (;;) {
    const text = await readFile(log, 'utf8').catch(() => '');
    const m = /API v0\.1 at (http:\/\/[\d.:]+)\/v0\.1\/servers.*\((\d+) servers\)/.exec(text);
    if (m) return { child, url: m[1], servers: Number(m[2]), log: () => readFile(log, 'utf8') };
    if (child.exitCode !== null || Date.now() > end) throw new Error(`serve-http did not start:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A plain node:http server that answers every request with the given body and headers. */
async function startBare(body, headers, file) {
  await writeFile(file + '.body', body);
  await writeFile(
    file,
    `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const body = readFileSync(${JSON.stringify(file + '.body')});
const headers = ${JSON.stringify(headers)};
const s = createServer((req, res) => { res.writeHead(200, { ...headers, 'content-length': body.length }); res.end(body); });
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));`,
  );
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  return { child, url: `http://127.0.0.1:${port}` };
}

function load(url, headers = {}, requests) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: DURATION, pipelining: 1, headers, requests }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** p99 of the server's own time per request (access-log `…ms` field) for log lines written after byte `from`. */
async function serverP99(log, from) {
  const text = (await readFile(log)).subarray(from).toString();
  const ms = [...text.matchAll(/ (\d+(?:\.\d+)?)ms id=/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  return ms.length ? ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))] : NaN;
}
const size = (f) => readFile(f).then((b) => b.length);

function check(res, what) {
  if (res.errors || res.timeouts || res.non2xx) throw new Error(`${what}: ${res.errors} errors, ${res.timeouts} timeouts, ${res.non2xx} non-2xx of ${res.requests.total}`);
  return res;
}

/** Uncached cost of a search over the built view: the handler alone, in-process, many different queries. */
async function handlerTimes(home) {
  const { normalizeEntry } = await import(pathToFileURL(join(root, 'dist/model/entry.js')).href);
  const { buildView } = await import(pathToFileURL(join(root, 'dist/http/view.js')).href);
  const { ServedStamps } = await import(pathToFileURL(join(root, 'dist/http/stamps.js')).href);
  const { handleApi } = await import(pathToFileURL(join(root, 'dist/http/api.js')).href);
  const snap = (n) => readFile(join(home, 'cache', 'sources', `${n}.json`), 'utf8').then((t) => JSON.parse(t).entries.map(normalizeEntry));
  const entries = [...(await snap('docker')), ...(await snap('mcpservers'))];
  const builds = [];
  let view;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    view = await buildView(entries, { stamps: new ServedStamps() });
    builds.push(performance.now() - t0);
  }
  const ctx = { view: () => view, page: () => '', version: {} };
  const words = ['postgres', 'git', 'slack', 'notion', 'kube', 'weather', 'xyzzy-nothing', 'search', 'file', 'mcp', 'zen', 'torvi', 'stripe', 'browser', 'sql'];
  const times = [];
  for (let i = 0; i < 3000; i++) {
    const q = `search=${encodeURIComponent(words[i % words.length] + (i % 7 ? '' : 'x'))}&limit=${i % 2 ? 30 : 100}&version=latest`;
    const t0 = performance.now();
    const r = handleApi({ method: 'GET', path: '/v0.1/servers', query: q }, ctx);
    times.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(`search ${q}: ${r.status}`);
  }
  times.sort((a, b) => a - b);
  return { build: builds.sort((a, b) => a - b)[1], p50: times[Math.floor(times.length * 0.5)], p99: times[Math.floor(times.length * 0.99)], size: view.size };
}

export async function run(report) {
  const home = await warmHome(12_000);
  const tmp = join(tmpdir(), `bench-http-${process.pid}`);
  const logFile = tmp + '.log';
  const srv = await startServer(home, logFile);
  const cleanup = [];
  try {
    report('servers served (12k synthetic + real Docker registry)', srv.servers, '');
    const list = `${srv.url}/v0.1/servers?limit=100`;
    const search = `${srv.url}/v0.1/servers?search=postgres&limit=30&version=latest`;
    // Warm the JIT and the response cache the way a running server is.
    await load(list);

    let mark = await size(logFile);
    const listRes = check(await load(list), 'list');
    const listServer = await serverP99(logFile, mark);
    const body = Buffer.from(await (await fetch(list)).arrayBuffer());
    const bare = await startBare(body, { 'content-type': 'application/json; charset=utf-8' }, tmp + '-bare.mjs');
    cleanup.push(() => bare.child.kill());
    await load(bare.url);
    const bareRes = check(await load(bare.url), 'bare');
    report(`/v0.1/servers?limit=100 p99 (${CONNECTIONS} conns, ${Math.round(body.length / 1024)} KB)`, listRes.latency.p99, 'ms', bareRes.latency.p99, '≤ 10 ms');
    report('/v0.1/servers?limit=100 throughput', listRes.requests.average, 'req/s', bareRes.requests.average);
    report('/v0.1/servers?limit=100 server-side time p99 (access log)', listServer, 'ms', undefined, '≤ 10 ms');

    const gz = check(await load(list, { 'accept-encoding': 'gzip' }), 'list gzip');
    report('/v0.1/servers?limit=100 gzip p99', gz.latency.p99, 'ms', undefined, '≤ 10 ms');
    report('/v0.1/servers?limit=100 gzip throughput', gz.requests.average, 'req/s');

    mark = await size(logFile);
    const s = check(await load(search), 'search');
    const searchServer = await serverP99(logFile, mark);
    report(`search (?search=postgres&limit=30&version=latest) p99`, s.latency.p99, 'ms', undefined, '≤ 10 ms');
    report('search throughput', s.requests.average, 'req/s');
    report('search server-side time p99 (access log)', searchServer, 'ms', undefined, '≤ 10 ms');

    // Many different queries and pages: VS Code typing and paging.
    const terms = ['post', 'postg', 'postgres', 'git', 'gith', 'github', 'sla', 'slack', 'not', 'notion', 'kub', 'weather', 'sql', 'file', 'brows', 'stripe'];
    let n = 0;
    const varied = check(
      await load(srv.url, {}, [
        {
          setupRequest: (req) => ({ ...req, path: `/v0.1/servers?search=${terms[n++ % terms.length]}&limit=${n % 3 ? 30 : 100}&version=latest` }),
        },
      ]),
      'varied search',
    );
    report(`varied searches (${terms.length} queries × 2 limits) p99`, varied.latency.p99, 'ms', undefined, '≤ 10 ms');
    report('varied searches throughput', varied.requests.average, 'req/s');

    const h = await handlerTimes(home);
    report(`view build for ${h.size} entries (catalog update; yields every 500)`, h.build, 'ms');
    report('uncached search handler p50 (in-process, 3000 queries)', h.p50, 'ms');
    report('uncached search handler p99', h.p99, 'ms');

    const rss = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${srv.child.pid}/status`, 'utf8'))[1]) / 1024;
    report('serve-http RSS after the runs', rss, 'MB');
  } finally {
    for (const c of cleanup) c();
    srv.child.kill('SIGTERM');
    await new Promise((r) => srv.child.once('exit', r));
    await rm(home, { recursive: true, force: true });
    await rm(logFile, { force: true });
    await rm(tmp + '-bare.mjs', { force: true });
    await rm(tmp + '-bare.mjs.body', { force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run((l, v, u, b, t) => console.log(`${l.padEnd(60)} ${typeof v === 'number' ? v.toFixed(2) : v} ${u ?? ''}${b === undefined ? '' : `  baseline ${b.toFixed(2)}`}${t ? `  (target ${t})` : ''}`));
}
