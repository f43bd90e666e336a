// Start-up cost with a warm 12k-entry cache: process start → initialize answered, → first registry-find answered,
// and the server's RSS with the catalog loaded. Baseline: a bare SDK server (node + SDK, no catalog) in the same run.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { mkdtemp, mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = join(root, '..', 'shared', 'data', 'docker-mcp-registry', 'docker-mcp-registry.bundle');

async function dockerEntries() {
  const { readDockerServersDir } = await import(pathToFileURL(join(root, 'dist/sources/docker-yaml.js')).href);
  const { createLogger } = await import(pathToFileURL(join(root, 'dist/util/log.js')).href);
  const tmp = await mkdtemp(join(tmpdir(), 'bench-dmr-'));
  execFileSync('git', ['clone', '-q', bundle, join(tmp, 'repo')]);
  const { entries } = await readDockerServersDir(join(tmp, 'repo', 'servers'), 'docker', createLogger('bench'));
  await rm(tmp, { recursive: true, force: true });
  return entries;
}

/** A home whose cache already holds the merged catalog (what a second start sees). */
export async function warmHome(n = 12_000) {
  const { syntheticEntries } = await import(pathToFileURL(join(root, 'scripts/synthetic-catalog.mjs')).href);
  const docker = await dockerEntries();
  const synth = syntheticEntries(n, 42);
  const home = await mkdtemp(join(tmpdir(), 'bench-home-'));
  await mkdir(join(home, 'cache', 'sources'), { recursive: true });
  const now = new Date().toISOString();
  await writeFile(
    join(home, 'config.yaml'),
    `sources:\n  - {name: docker, type: docker, url: ${bundle}}\n  - {name: mcpservers, type: mcpservers, url: http://127.0.0.1:9}\nrefresh: {minInterval: 24h, onStart: false}\n`,
  );
  await writeFile(join(home, 'cache', 'sources', 'docker.json'), JSON.stringify({ fetchedAt: now, entries: docker }));
  await writeFile(join(home, 'cache', 'sources', 'mcpservers.json'), JSON.stringify({ fetchedAt: now, entries: synth }));
  await writeFile(join(home, 'cache', 'source-status.json'), JSON.stringify({ docker: { lastRefresh: now, entries: docker.length }, mcpservers: { lastRefresh: now, entries: synth.length } }));
  return home;
}

async function once(command, args, env, find) {
  const t0 = performance.now();
  const transport = new StdioClientTransport({ command, args, env: { ...process.env, ...env }, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  const tInit = performance.now() - t0;
  let tFind;
  let rss;
  if (find) {
    await client.callTool({ name: 'registry-find', arguments: { query: 'query a postgres database' } });
    tFind = performance.now() - t0;
    const status = await readFile(`/proc/${transport.pid}/status`, 'utf8');
    rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
  }
  await client.close();
  return { tInit, tFind, rss };
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The first registry-find's time inside the server (its audit record: from the call to its answer). */
async function findServerTime(home) {
  const lines = (await readFile(join(home, 'state', 'audit', 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  return lines.find((r) => r.op === 'find').durationMs;
}

/**
 * A first run: no cache, the default (public) sources — the shipped snapshot answers. `refresh.onStart: false`
 * keeps the network out of it; the baseline is a warm cache holding the same entries.
 */
async function snapshotCase(report) {
  const { readShippedSnapshot } = await import(pathToFileURL(join(root, 'dist/catalog/snapshot.js')).href);
  const snap = await readShippedSnapshot();
  if (!snap) throw new Error('no shipped snapshot in snapshot/: run node scripts/build-snapshot.mjs');
  const config = 'refresh: {onStart: false}\n';
  const cold = [];
  const coldServer = [];
  const warm = [];
  const warmServer = [];
  const warmHomeDir = await mkdtemp(join(tmpdir(), 'bench-snapwarm-'));
  await mkdir(join(warmHomeDir, 'cache', 'sources'), { recursive: true });
  await writeFile(join(warmHomeDir, 'config.yaml'), config);
  const now = new Date().toISOString();
  for (const [name, entries] of Object.entries(snap.data.entries)) {
    await writeFile(join(warmHomeDir, 'cache', 'sources', `${name}.json`), JSON.stringify({ fetchedAt: now, entries }));
  }
  // The first start builds catalog.json and its index from those; the measured ones load them.
  await once(process.execPath, [join(root, 'dist/cli.js')], { MCP_REGISTRY_HOME: warmHomeDir }, true);
  for (let i = 0; i < 5; i++) {
    const home = await mkdtemp(join(tmpdir(), 'bench-snapshot-'));
    await writeFile(join(home, 'config.yaml'), config);
    cold.push((await once(process.execPath, [join(root, 'dist/cli.js')], { MCP_REGISTRY_HOME: home }, true)).tFind);
    coldServer.push(await findServerTime(home));
    await rm(home, { recursive: true, force: true });
    await rm(join(warmHomeDir, 'state'), { recursive: true, force: true });
    warm.push((await once(process.execPath, [join(root, 'dist/cli.js')], { MCP_REGISTRY_HOME: warmHomeDir }, true)).tFind);
    warmServer.push(await findServerTime(warmHomeDir));
  }
  const n = Object.values(snap.data.entries).reduce((a, e) => a + e.length, 0);
  report(`first run, no cache, offline: start → first find (${n} snapshot entries)`, median(cold), 'ms', median(warm), '≤ 600 ms');
  report('first run, no cache, offline: first find, server time', median(coldServer), 'ms', median(warmServer), '< 100 ms');
  await rm(warmHomeDir, { recursive: true, force: true });
}

export async function run(report) {
  const home = await warmHome(12_000);
  // First start builds catalog.json from the per-source snapshots; time the warm starts after it.
  await once(process.execPath, [join(root, 'dist/cli.js')], { MCP_REGISTRY_HOME: home }, true);
  const bareServer = join(tmpdir(), 'bench-bare-server.mjs');
  await writeFile(
    bareServer,
    `import { Server } from ${JSON.stringify(pathToFileURL(join(root, 'node_modules/@modelcontextprotocol/sdk/dist/esm/server/index.js')).href)};
import { StdioServerTransport } from ${JSON.stringify(pathToFileURL(join(root, 'node_modules/@modelcontextprotocol/sdk/dist/esm/server/stdio.js')).href)};
const s = new Server({ name: 'bare', version: '1' }, { capabilities: { tools: {} } });
await s.connect(new StdioServerTransport());`,
  );
  const ours = [];
  const bare = [];
  for (let i = 0; i < 5; i++) {
    ours.push(await once(process.execPath, [join(root, 'dist/cli.js')], { MCP_REGISTRY_HOME: home }, true));
    bare.push(await once(process.execPath, [bareServer], {}, false));
  }
  report('start → initialize answered (warm 12k cache, median of 5)', median(ours.map((r) => r.tInit)), 'ms', median(bare.map((r) => r.tInit)), '≤ 300 ms');
  report('start → first registry-find answered (median of 5)', median(ours.map((r) => r.tFind)), 'ms', undefined, '≤ 600 ms');
  report('server RSS with 12k+328 entries loaded', median(ours.map((r) => r.rss)), 'MB', undefined, '≤ 150 MB');
  await rm(home, { recursive: true, force: true });
  await snapshotCase(report);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run((l, v, u, b, t) => console.log(l, v, u, b ?? '', t ?? ''));
}
