// Tool-level search and what it saves in the context window (issue 14), in one run:
//  - Recall@3 / MRR over the labelled tool queries (test/fixtures/tool-queries.json) for three rankers: the tool
//    index (dist/search/tool-index.js), ranking by server (the server search, its hits' tools in plain-BM25 order),
//    and a plain BM25 over tool text;
//  - the everyday server phrasings (test/fixtures/docker-everyday-queries.json), reported apart from the main set;
//  - tool-search latency p50/p99 over 12,000 synthetic entries given tools sampled from the real Docker catalog
//    (renamed per entry), ≥ 50,000 tools;
//  - tokens (gpt-tokenizer, o200k_base: a real BPE tokenizer, not characters/4) of the tool definitions a client
//    holds with the five Docker servers that declare the most tools mounted (`all`) vs only the registry's own tools
//    plus the registry-find kind "tools" results three tasks need (`lazy`); and of the registry's own descriptions.
// Build first (npx tsc -p .). Alone: node scripts/bench.mjs toolsearch
import { readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { countTokens } from 'gpt-tokenizer';
import { dockerEntries } from './search.mjs';
import { labelledToolQueries, toolRankers } from './tool-rankers.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
const fixture = async (name) => JSON.parse(await readFile(join(root, 'test', 'fixtures', name), 'utf8'));

/** Tasks an agent does with five big servers mounted; each needs one tool-search call. */
const TASKS = [
  ['list kubernetes pods in a namespace', 'docker/kubectl-mcp-server', 'get_pods'],
  ['deactivate a user account in okta', 'docker/okta-mcp-server', 'deactivate_user'],
  ['list the tables in my keboola project', 'docker/keboola-mcp', 'list_tables'],
];

function percentile(xs, p) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Synthetic entries with tool lists sampled from real ones, renamed by the entry's own service word. */
function withRealTools(entries, pool, seed) {
  const r = rng(seed);
  return entries.map((e) => {
    const n = 2 + Math.floor(r() * 6);
    const word = e.id.split('/').pop().split(/[-_]/).find((w) => w && w !== 'mcp' && w !== 'server') ?? 'svc';
    const tools = Array.from({ length: n }, (_, i) => {
      const t = pool[Math.floor(r() * pool.length)];
      return { ...t, name: i % 2 ? `${word}_${t.name}` : t.name, description: `${t.description ?? ''} (${word})` };
    });
    return { ...e, tools };
  });
}

/** The registry's own tool definitions, from the built server's tools/list (nothing mounted). */
async function registryTools() {
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const home = await mkdtemp(join(tmpdir(), 'bench-toolsearch-'));
  await writeFile(join(home, 'config.yaml'), 'sources: []\nrefresh:\n  onStart: false\n');
  const transport = new StdioClientTransport({ command: process.execPath, args: [join(root, 'dist', 'cli.js')], env: { ...process.env, MCP_REGISTRY_HOME: home, MCP_REGISTRY_LOG_LEVEL: 'error' }, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '1' });
  try {
    await client.connect(transport);
    return (await client.listTools()).tools;
  } finally {
    await client.close().catch(() => {});
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * Just-in-time registry-exec of a not-running image server vs registry-add + registry-exec, through the built server
 * over stdio with the tiny test image in a file source; median of a few rounds (each round removes the mount).
 */
async function jitTiming(report) {
  const { mkdtemp, writeFile, mkdir } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const home = await mkdtemp(join(tmpdir(), 'bench-jit-'));
  const dir = join(home, 'mine', 'servers', 'calculator');
  await mkdir(dir, { recursive: true });
  await writeFile(join(home, 'config.yaml'), 'sources:\n  - {name: mine, type: file, path: ./mine}\nrefresh:\n  onStart: false\n');
  await writeFile(join(dir, 'server.yaml'), 'name: calculator\nimage: localhost/mcp-registry-test/tiny:1\ntype: server\nabout: {title: Calculator, description: Arithmetic.}\nrun: {disableNetwork: true}\n');
  await writeFile(join(dir, 'tools.json'), JSON.stringify([{ name: 'add', description: 'Adds two numbers.', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } } }]));
  const transport = new StdioClientTransport({ command: process.execPath, args: [join(root, 'dist', 'cli.js')], env: { ...process.env, MCP_REGISTRY_HOME: home, MCP_REGISTRY_LOG_LEVEL: 'error' }, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '1' });
  const call = async (name, args) => {
    const r = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
    if (r.isError) throw new Error(`${name}: ${r.content.map((c) => c.text).join(' ')}`);
    return r;
  };
  try {
    await client.connect(transport);
    await call('registry-refresh', {});
    const jit = [];
    const two = [];
    for (let round = 0; round < 4; round++) {
      let t = performance.now();
      await call('registry-exec', { tool: 'calculator__add', arguments: { a: 1, b: 2 } });
      if (round) jit.push(performance.now() - t);
      await call('registry-remove', { id: 'mine/calculator' });
      t = performance.now();
      await call('registry-add', { id: 'mine/calculator' });
      await call('registry-exec', { tool: 'calculator__add', arguments: { a: 1, b: 2 } });
      if (round) two.push(performance.now() - t);
      await call('registry-remove', { id: 'mine/calculator' });
    }
    report('just-in-time registry-exec of a not-running image server (median)', percentile(jit, 50), 'ms', percentile(two, 50), 'no slower than registry-add + call (baseline)');
  } finally {
    await client.close().catch(() => {});
    await rm(home, { recursive: true, force: true });
  }
}

/** A tool definition as a client sends it to the model: name, description, input schema. */
const definitionTokens = (t) => countTokens(JSON.stringify({ name: t.name, description: t.description ?? '', input_schema: t.inputSchema ?? { type: 'object' } }));

export async function run(report) {
  const { ToolIndex } = await dist('search/tool-index.js');
  const { SearchIndex } = await dist('search/search-index.js');
  const { evaluate } = await import('./lib/evaluate.mjs');
  const { ToolFinder, formatToolFindText } = await dist('tools/tool-find.js');
  const { derivePrefix, Namer } = await dist('model/naming.js');
  const docker = await dockerEntries();

  // Relevance, three rankers side by side.
  const set = labelledToolQueries(await fixture('tool-queries.json'));
  const rankers = toolRankers(docker, { ToolIndex, SearchIndex });
  const evals = Object.fromEntries(Object.entries(rankers).map(([k, f]) => [k, evaluate(f, set, 3)]));
  const tools = docker.reduce((s, e) => s + e.tools.length, 0);
  console.log(`  (${set.length} labelled tool queries over ${tools} declared tools of ${docker.filter((e) => e.tools.length).length} Docker servers)`);
  report('tool search Recall@3 (ours / by server)', evals.ours.recallAtK, '', evals.byServer.recallAtK);
  report('tool search Recall@3 (ours / plain BM25 over tool text)', evals.ours.recallAtK, '', evals.bm25.recallAtK);
  report('tool search MRR (ours / by server)', evals.ours.mrr, '', evals.byServer.mrr);
  report('tool search MRR (ours / plain BM25 over tool text)', evals.ours.mrr, '', evals.bm25.mrr);

  // Everyday server phrasings: their own figures, apart from the main labelled set (search bench).
  const everyday = (await fixture('docker-everyday-queries.json')).queries;
  const servers = SearchIndex.build(docker);
  const ev = evaluate((q, limit) => servers.search(q, { limit }).map((h) => h.entry.id), everyday, 5);
  report(`everyday phrasings (${everyday.length}) Recall@5`, ev.recallAtK, '', 0.385);
  report('everyday phrasings MRR', ev.mrr, '', 0.264);
  report('everyday nonsense queries answered with nothing', ev.emptyWhenNoMatch, '', 0);

  // Latency over ≥ 50k tools in a 12k-entry catalog.
  const { syntheticEntries } = await import(pathToFileURL(join(root, 'scripts', 'synthetic-catalog.mjs')).href);
  const { normalizeEntry } = await dist('model/entry.js');
  const pool = docker.flatMap((e) => e.tools);
  const big = [...docker, ...withRealTools(syntheticEntries(12_000, 42).map((e) => normalizeEntry(e)), pool, 7)];
  const t0 = performance.now();
  const index = ToolIndex.build(big);
  const buildMs = performance.now() - t0;
  const queries = [...set.map((q) => q.q), ...TASKS.map((t) => t[0]), 'get_pods', 'sendMessage', 'refnd a paymnt', 'flimsy gardon tortle bakery'];
  // Every warm sample (what a caller waits on this machine, shared with other jobs), and per query the best of
  // the rounds (what the search costs when nothing preempts it: the figure the target is about).
  const times = [];
  const best = new Map();
  for (let round = 0; round < 8; round++) {
    for (const q of queries) {
      const s = performance.now();
      index.search(q, { limit: 10 });
      const t = performance.now() - s;
      if (round === 0) continue;
      times.push(t);
      best.set(q, Math.min(best.get(q) ?? Infinity, t));
    }
  }
  const bests = [...best.values()];
  console.log(`  (${big.length} entries, ${index.size} tools; index built in ${buildMs.toFixed(0)} ms; load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`);
  report(`tool search latency p50, best of 7 rounds (${index.size} tools)`, percentile(bests, 50), 'ms', undefined, '≤ 2 ms');
  report(`tool search latency p99, best of 7 rounds (${index.size} tools)`, percentile(bests, 99), 'ms', undefined, '≤ 10 ms');
  report('tool search latency p50, every warm sample', percentile(times, 50), 'ms');
  report('tool search latency p99, every warm sample', percentile(times, 99), 'ms');

  // Tokens of the definitions a client holds: all vs lazy.
  const own = await registryTools();
  const ownTokens = own.reduce((s, t) => s + definitionTokens(t), 0);
  const ownDescTokens = own.reduce((s, t) => s + countTokens(t.description ?? ''), 0);
  const largest = docker.filter((e) => e.tools.length).sort((a, b) => b.tools.length - a.tools.length || a.id.localeCompare(b.id)).slice(0, 5);
  const taken = new Set();
  let mountedTokens = 0;
  let mountedCount = 0;
  for (const e of largest) {
    const prefix = derivePrefix(e.nativeName, (p) => taken.has(p));
    taken.add(prefix);
    const namer = new Namer(prefix);
    namer.assign(e.tools.map((t) => t.name));
    for (const t of e.tools) mountedTokens += definitionTokens({ ...t, name: namer.mounted(t.name) });
    mountedCount += e.tools.length;
  }
  const finder = new ToolFinder({ all: () => largest, hooks: {} });
  let searchTokens = 0;
  let found = 0;
  for (const [task, id, tool] of TASKS) {
    const results = finder.find(task, 3);
    if (results.some((r) => r.id === id && r.name === tool)) found++;
    // What the client receives: the text block and the structured content.
    searchTokens += countTokens(formatToolFindText(task, results)) + countTokens(JSON.stringify({ results }));
  }
  console.log(`  (all: ${own.length} registry tools + ${mountedCount} tools of ${largest.map((e) => e.id.replace('docker/', '')).join(', ')}; lazy: the registry's tools + 3 registry-find kind "tools" results, limit 3)`);
  const all = ownTokens + mountedTokens;
  const lazy = ownTokens + searchTokens;
  report('tokens of tool definitions, all (five largest mounted)', all, 'tokens');
  report('tokens, lazy (registry tools + 3 tool searches)', lazy, 'tokens', all);
  report('tasks whose tool the lazy search put in its top 3', found, `of ${TASKS.length}`);
  report('token reduction lazy vs all', (1 - lazy / all) * 100, '%', undefined, '≥ 90 %');
  report(`tokens of the registry's own ${own.length} tool definitions`, ownTokens, 'tokens');
  report("tokens of the registry's own tool descriptions", ownDescTokens, 'tokens');
  await jitTiming(report);
}
