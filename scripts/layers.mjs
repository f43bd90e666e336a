// The dependency rule of src/ (docs/architecture.md): which top-level part may import which, checked over every
// import of every src/**/*.ts file. `node scripts/layers.mjs` prints the edges and any violation or cycle.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/**
 * Each part and the parts it may import (besides itself). A folder of src/ is a part; so is each top-level file:
 * `assemble.ts` (the composition root: builds the registry from the parts) and `cli.ts` (the entry point).
 */
export const ALLOWED = {
  util: [],
  config: ['util'],
  model: ['util'],
  // Catalog signatures (Ed25519 over canonical JSON): below sources, which verify a catalog as they read it, and
  // governance, which enforces signatures at launch.
  signing: ['util', 'model'],
  store: ['util', 'config', 'model'],
  // A `managed` source reads the entries published to the organisation's store.
  sources: ['util', 'config', 'model', 'signing', 'store'],
  search: ['util', 'model'],
  // The catalog keeps each source's data in a CatalogStore (store/source-store.ts files, or PostgreSQL).
  catalog: ['util', 'config', 'model', 'store', 'sources', 'search'],
  governance: ['util', 'config', 'model', 'signing', 'store', 'catalog'],
  runtime: ['util', 'config', 'model', 'store', 'catalog', 'governance'],
  // registry-find kind "tools" searches the tool index (search/tool-index.ts) directly.
  tools: ['util', 'config', 'model', 'store', 'catalog', 'governance', 'runtime', 'search'],
  // The publish API reads server.json as the official source does (sources/server-json.ts).
  http: ['util', 'config', 'model', 'store', 'catalog', 'governance', 'search', 'sources'],
  'assemble.ts': ['util', 'config', 'model', 'store', 'catalog', 'governance', 'runtime', 'tools', 'sources', 'search'],
  commands: ['util', 'config', 'model', 'signing', 'store', 'catalog', 'governance', 'runtime', 'tools', 'http', 'search', 'sources', 'assemble.ts'],
  'cli.ts': ['util', 'config', 'commands'],
};

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const partOf = (file) => {
  const rel = relative(root, file).replace(/\.js$/, '.ts').split(sep);
  return rel[0];
};

/** Every import between parts: `{ from, to, file, spec }` (static imports, re-exports and dynamic import()). */
export function edges() {
  const out = [];
  for (const file of walk(root)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.[^'"]+)['"]/g)) {
      const target = resolve(dirname(file), m[1]);
      if (!target.startsWith(root + sep)) continue;
      const from = partOf(file);
      const to = partOf(target);
      if (from !== to) out.push({ from, to, file: relative(root, file), spec: m[1] });
    }
  }
  return out;
}

/** Imports the table does not allow, and cycles between parts (a cycle always breaks the table too). */
export function violations() {
  return edges().filter((e) => !(ALLOWED[e.from] ?? []).includes(e.to));
}

export function cycles() {
  const graph = new Map();
  for (const e of edges()) (graph.get(e.from) ?? graph.set(e.from, new Set()).get(e.from)).add(e.to);
  const found = [];
  const visit = (node, path) => {
    for (const next of graph.get(node) ?? []) {
      const i = path.indexOf(next);
      if (i >= 0) found.push([...path.slice(i), next].join(' → '));
      else visit(next, [...path, next]);
    }
  };
  for (const n of graph.keys()) visit(n, [n]);
  return [...new Set(found)];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bad = violations();
  const cyc = cycles();
  for (const v of bad) console.log(`not allowed: ${v.from} → ${v.to} (${v.file} imports ${v.spec})`);
  for (const c of cyc) console.log(`cycle: ${c}`);
  const lost = unreachable();
  for (const f of lost) console.log(`not reached from cli.ts (only tests or benchmarks use it?): ${f}`);
  if (!bad.length && !cyc.length && !lost.length) console.log('layers: every import follows the dependency rule; no cycle between parts; every file is reached from cli.ts');
  process.exitCode = bad.length || cyc.length || lost.length ? 1 : 0;
}

/**
 * src/ files no import chain from the entry point (cli.ts) reaches: code only tests or benchmarks use, which
 * belongs in test/ or scripts/, not in the package.
 */
export function unreachable(entry = 'cli.ts') {
  const files = walk(root);
  const deps = new Map(files.map((f) => [f, []]));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.[^'"]+)['"]/g)) {
      const target = resolve(dirname(file), m[1]).replace(/\.js$/, '.ts');
      if (deps.has(target)) deps.get(file).push(target);
    }
  }
  const seen = new Set();
  const stack = [join(root, entry)];
  while (stack.length) {
    const f = stack.pop();
    if (seen.has(f)) continue;
    seen.add(f);
    stack.push(...(deps.get(f) ?? []));
  }
  return files.filter((f) => !seen.has(f)).map((f) => relative(root, f));
}
