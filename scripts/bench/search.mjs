// Search quality and speed, ours (dist/search/search-index.js) against plain fuse.js (the baseline, unless a
// line says otherwise: a saved index load is compared with a build):
//  - Recall@5 / MRR over the labelled Docker queries (test/fixtures/docker-queries.json), real Docker catalog;
//  - in-process latency p50/p99 for a query mix over real docker + 12,000 synthetic entries, and over 100,000;
//  - index build time (and loading a saved index instead), heap and RSS with 12k loaded.
// Build first (npx tsc -p .). Alone: node scripts/bench/search.mjs
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = process.env.MCP_REGISTRY_SHARED ?? join(root, '..', 'shared');
const bundle = join(shared, 'data', 'docker-mcp-registry', 'docker-mcp-registry.bundle');
const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href);

/** Everyday queries beyond the labelled set: keywords, phrases, typos and unfinished words, as agents send them. */
const EXTRA_QUERIES = [
  'slack', 'postgres mcp', 'kubernetes cluster', 'send email', 'github pull requests', 'notion', 'weather', 'stock prices',
  'web scraping', 'vector database', 'knowledge graph memory', 'jira issues', 'google drive files', 'spotify playlists',
  'translate documents', 'home assistant', 'figma designs', 'aws s3 buckets', 'mysql query', 'redis', 'twitter posts',
  'youtube transcripts', 'calendar events', 'pdf to text', 'browser automation playwright', 'terraform plans',
  'discord bot messages', 'stripe invoices', 'elasticsearch index', 'sqlite database',
  'notoin', 'gihub', 'postgrse', 'kubernetse', 'slakc', 'elasticsaerch', 'playwrigth', 'databse',
  'kube', 'pupp', 'postg', 'scrap', 'transl',
  'list_tables', 'create_issue', 'send_message', 'get_weather',
  'an mcp server that can read my email and summarize it', 'search the web for recent news articles',
  'zzzqqq xylophone', 'qwertyuiop',
];

function percentile(xs, p) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/**
 * Time every query `rounds` times (the first round pays for cold typo-correction caches). Wall time is what a
 * caller waits; CPU time is the same figure without the waits a busy machine adds (this box runs other jobs).
 */
function latency(search, queries, rounds) {
  const wall = [];
  const cpu = [];
  const warm = [];
  for (let r = 0; r < rounds; r++) {
    for (const q of queries) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      search(q);
      const t = performance.now() - t0;
      const c = process.cpuUsage(c0);
      wall.push(t);
      cpu.push((c.user + c.system) / 1000);
      if (r > 0) warm.push(t);
    }
  }
  return { p50: percentile(wall, 50), p99: percentile(wall, 99), cpuP50: percentile(cpu, 50), cpuP99: percentile(cpu, 99), warmP99: warm.length ? percentile(warm, 99) : NaN };
}

function timeIt(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const c = process.cpuUsage(c0);
  return { value, ms: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

function gcNow() {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc');
    gc();
    gc();
  } catch {
    /* without gc the heap figures are just less precise */
  }
}

export async function dockerEntries() {
  const { readDockerServersDir } = await dist('sources/docker-yaml.js');
  const { createLogger, setLogLevel } = await dist('util/log.js');
  setLogLevel('error');
  const tmp = await mkdtemp(join(tmpdir(), 'bench-search-'));
  try {
    execFileSync('git', ['clone', '-q', bundle, join(tmp, 'repo')]);
    const { entries } = await readDockerServersDir(join(tmp, 'repo', 'servers'), 'docker', createLogger('bench'));
    return entries;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Build and load the index in a new node process, where nothing is JIT-compiled yet: what start-up pays. */
async function freshProcess(entries, bytes) {
  const tmp = await mkdtemp(join(tmpdir(), 'bench-search-cold-'));
  try {
    await writeFile(join(tmp, 'entries.json'), JSON.stringify(entries));
    await writeFile(join(tmp, 'index.bin'), bytes);
    const script = `
      import { readFileSync } from 'node:fs';
      const { SearchIndex } = await import(${JSON.stringify(pathToFileURL(join(root, 'dist', 'search', 'search-index.js')).href)});
      const entries = JSON.parse(readFileSync(${JSON.stringify(join(tmp, 'entries.json'))}, 'utf8'));
      const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
      const mode = process.argv[1];
      let t = cpu();
      const idx = mode === 'load' ? SearchIndex.load(entries, readFileSync(${JSON.stringify(join(tmp, 'index.bin'))}), 'bench') : SearchIndex.build(entries);
      const made = cpu() - t;
      t = cpu();
      idx.search('query a postgres database', { limit: 10 });
      process.stdout.write(JSON.stringify({ made, first: cpu() - t }));`;
    const runOnce = (mode) => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, mode], { encoding: 'utf8' }));
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const builds = [1, 2, 3].map(() => runOnce('build'));
    const loads = [1, 2, 3].map(() => runOnce('load'));
    return { build: median(builds.map((r) => r.made)), first: median(builds.map((r) => r.first)), load: median(loads.map((r) => r.made)) };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export async function run(report) {
  const { SearchIndex } = await dist('search/search-index.js');
  const { FuseBaseline } = await import('./lib/fuse-baseline.mjs');
  const { evaluate } = await import('./lib/evaluate.mjs');
  const { syntheticEntries } = await import(pathToFileURL(join(root, 'scripts', 'synthetic-catalog.mjs')).href);
  const { queries: labelled } = JSON.parse(await readFile(join(root, 'test', 'fixtures', 'docker-queries.json'), 'utf8'));

  const docker = await dockerEntries();

  // Quality over the real Docker catalog.
  const oursDocker = SearchIndex.build(docker);
  const fuseDocker = FuseBaseline.build(docker);
  const evOurs = evaluate((q, l) => oursDocker.search(q, { limit: l }).map((h) => h.entry.id), labelled);
  const evFuse = evaluate((q, l) => fuseDocker.search(q, l).map((h) => h.entry.id), labelled);
  report(`Recall@5, ${labelled.length} labelled queries, docker catalog`, evOurs.recallAtK, 'ratio', evFuse.recallAtK, '≥ 0.85');
  report('MRR, same queries', evOurs.mrr, 'ratio', evFuse.mrr);
  report('no-match queries answered with []', evOurs.emptyWhenNoMatch, 'ratio', evFuse.emptyWhenNoMatch, '1');
  for (const kind of ['nl', 'keyword', 'typo', 'tool']) {
    const sub = labelled.filter((q) => q.kind === kind);
    const o = evaluate((q, l) => oursDocker.search(q, { limit: l }).map((h) => h.entry.id), sub);
    const f = evaluate((q, l) => fuseDocker.search(q, l).map((h) => h.entry.id), sub);
    report(`  Recall@5 on ${kind} queries (${sub.length})`, o.recallAtK, 'ratio', f.recallAtK);
  }

  const mix = [...labelled.map((q) => q.q), ...EXTRA_QUERIES];

  // 12k: docker + 12,000 synthetic (the size of mcpservers.org plus docker).
  const synth12 = syntheticEntries(12_000, 42);
  const all12 = [...docker, ...synth12];
  gcNow();
  const before = process.memoryUsage();
  const built12 = timeIt(() => SearchIndex.build(all12));
  const ours12 = built12.value;
  // The first search builds the typo-correction and completion dictionaries lazily: part of start-up too.
  const first12 = timeIt(() => ours12.search('kubernets pods', { limit: 10 }));
  gcNow();
  const mem = process.memoryUsage();
  const fuse12 = timeIt(() => FuseBaseline.build(all12));
  report(`index build, ${all12.length} entries`, built12.ms, 'ms', fuse12.ms, 'small (start-up ≤ 600 ms)');
  report('  same, CPU time', built12.cpu, 'ms', fuse12.cpu);
  report('first search after build (lazy dictionaries)', first12.ms, 'ms');
  const bytes = ours12.toBuffer('bench');
  const loaded12 = timeIt(() => SearchIndex.load(all12, bytes, 'bench'));
  if (!loaded12.value) throw new Error('SearchIndex.load refused the bytes toBuffer just wrote');
  report('index saved with toBuffer (12k)', bytes.length / 1048576, 'MB');
  const cold = await freshProcess(all12, bytes);
  report('fresh process (as at start-up): index build (12k)', cold.build, 'ms CPU');
  report('fresh process: index load from bytes (12k)', cold.load, 'ms CPU', cold.build);
  report('fresh process: first search after build', cold.first, 'ms CPU');
  const l12 = latency((q) => ours12.search(q, { limit: 10 }), mix, 3);
  const f12 = latency((q) => fuse12.value.search(q, 10), mix, 1);
  report(`search p50, ${mix.length}-query mix, ${all12.length} entries`, l12.p50, 'ms', f12.p50, '≤ 2 ms');
  report('search p99, same (first pass pays cold typo caches)', l12.p99, 'ms', f12.p99, '≤ 10 ms');
  report('search p99, warm passes only', l12.warmP99, 'ms');
  report('search CPU time p50 (12k)', l12.cpuP50, 'ms', f12.cpuP50);
  report('search CPU time p99 (12k)', l12.cpuP99, 'ms', f12.cpuP99);
  // Postings live in typed arrays, outside the JS heap: count both.
  report('memory held by the index (12k: heap + array buffers)', (mem.heapUsed + mem.arrayBuffers - before.heapUsed - before.arrayBuffers) / 1048576, 'MB');
  report('heap used, entries + index loaded (12k)', mem.heapUsed / 1048576, 'MB');
  report('RSS, entries + index loaded (12k)', mem.rss / 1048576, 'MB');
  const filtered = latency((q) => ours12.search(q, { limit: 10, filters: { sources: ['docker'], runnable: true } }), mix, 2);
  report('search p50 with source + runnable filters (12k)', filtered.p50, 'ms');

  // 100k: how it grows.
  const all100 = [...docker, ...syntheticEntries(100_000, 7)];
  const built100 = timeIt(() => SearchIndex.build(all100));
  const l100 = latency((q) => built100.value.search(q, { limit: 10 }), mix, 3);
  const fuse100 = timeIt(() => FuseBaseline.build(all100));
  // Plain fuse needs a full scan per query; a sample keeps the run short.
  const f100 = latency((q) => fuse100.value.search(q, 10), mix.filter((_, i) => i % 6 === 0), 1);
  report(`index build, ${all100.length} entries`, built100.ms, 'ms', fuse100.ms);
  report('  same, CPU time', built100.cpu, 'ms', fuse100.cpu);
  report(`search p50, ${all100.length} entries`, l100.p50, 'ms', f100.p50);
  report(`search p99, ${all100.length} entries`, l100.p99, 'ms', f100.p99);
  report(`search CPU time p99, ${all100.length} entries`, l100.cpuP99, 'ms', f100.cpuP99);
  report('load average while measuring (2 cores)', loadavg()[0], '');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));
  await run((label, value, unit = '', baseline, target) => {
    const base = baseline === undefined ? '' : `   baseline ${fmt(baseline)} ${unit}`;
    console.log(`${label.padEnd(58)} ${fmt(value).padStart(10)} ${unit}${base}${target ? `   (target ${target})` : ''}`);
  });
}
