#!/usr/bin/env node
// Builds the catalog snapshot shipped in the package (snapshot/catalog.json.gz + snapshot/search-index.bin.gz): what a
// first run searches, offline too, until its sources have refreshed. It runs the project's own code (dist/: the
// sources, the catalog, the merge and the index), so the snapshot is exactly what a refresh would produce.
//
//   npm run build && node scripts/build-snapshot.mjs          from the real data in ../shared/data (this repository):
//       docker: a real git clone of the Docker registry bundle; mcpservers: the captured pages, served on 127.0.0.1;
//       official: the captured list page, served on 127.0.0.1 — their entries then name the public sites, which
//       is where those pages came from
//   node scripts/build-snapshot.mjs --live                  from the public sources themselves (release time; network)
//   options: --out DIR (default snapshot/), --as-of NAME=DATE (the data's date when it is older than the fetch)
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.MCP_REGISTRY_SHARED ?? resolve(root, '..', 'shared');
const { values: args } = parseArgs({
  options: { live: { type: 'boolean', default: false }, out: { type: 'string', default: join(root, 'snapshot') }, 'as-of': { type: 'string', multiple: true, default: [] } },
});

const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
if (!existsSync(join(root, 'dist', 'catalog', 'snapshot.js'))) {
  console.error('build-snapshot: dist/ is missing or old; run "npm run build" first.');
  process.exit(1);
}
const [{ Catalog }, { parseConfig, DEFAULT_SOURCES }, { createSource }, { createLogger }, { mergeEntries }, { SearchIndex }, snapshot] = await Promise.all([
  dist('catalog/catalog.js'),
  dist('config/config.js'),
  dist('sources/index.js'),
  dist('util/log.js'),
  dist('catalog/merge.js'),
  dist('search/search-index.js'),
  dist('catalog/snapshot.js'),
]);
const publicUrl = Object.fromEntries(DEFAULT_SOURCES.map((s) => [s.name, s.url]));

/** The captured pages on 127.0.0.1, answered as the real sites answer those paths. */
async function serveCaptured() {
  const data = (rel) => {
    const p = join(shared, 'data', rel);
    if (!existsSync(p)) throw new Error(`missing shared data ${p} (set MCP_REGISTRY_SHARED, or use --live)`);
    return p;
  };
  const routes = {
    // The captured listing is a page of /official (cards of official servers); one page of each listing is all there is.
    '/official': { file: data('mcpservers/official-page2.pt-BR.excerpt.html'), type: 'text/html; charset=utf-8' },
    '/remote-mcp-servers': { file: data('mcpservers/remote-index.pt-BR.trimmed.html'), type: 'text/html; charset=utf-8' },
    '/v0.1/servers': { file: data('official-registry/list-page.json'), type: 'application/json' },
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const route = routes[url.pathname];
      if (!route) return res.writeHead(404).end(`no captured page for ${url.pathname}`);
      // The captured list page names a next cursor whose page was not captured: that page is the last.
      if (url.searchParams.has('cursor')) return res.writeHead(200, { 'content-type': route.type }).end(JSON.stringify({ servers: [], metadata: { count: 0 } }));
      res.writeHead(200, { 'content-type': route.type }).end(await readFile(route.file));
    })().catch((err) => res.writeHead(500).end(String(err)));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

const home = await mkdtemp(join(tmpdir(), 'mcp-registry-snapshot-'));
const served = args.live ? null : await serveCaptured();
try {
  const sources = args.live
    ? DEFAULT_SOURCES
    : [
        { name: 'docker', type: 'docker', url: join(shared, 'data', 'docker-mcp-registry', 'docker-mcp-registry.bundle'), ref: 'main' },
        { name: 'mcpservers', type: 'mcpservers', url: served.url, listings: ['/official', '/remote-mcp-servers'], maxPages: 1, delayMs: 0 },
        { name: 'official', type: 'official', url: served.url },
      ];
  const config = parseConfig({ sources, refresh: { cooldown: 0 } }, home);
  const log = createLogger('snapshot');
  const catalog = new Catalog(config, join(home, 'cache'), join(home, 'sources'), createSource, log, { snapshotDir: null });
  const outcomes = await catalog.refresh({ force: true, onProgress: (p) => process.stderr.write(`  ${p.source}: ${p.message}\n`) });
  const failed = outcomes.filter((o) => o.status !== 'ok');
  if (failed.length) throw new Error(`could not fetch ${failed.map((o) => `${o.name} (${o.status}${o.error ? `: ${o.error}` : ''})`).join(', ')}`);

  const asOfGiven = Object.fromEntries(args['as-of'].map((a) => a.split('=', 2)));
  const builtAt = new Date().toISOString();
  const data = { format: snapshot.SNAPSHOT_FORMAT, builtAt, sources: {}, entries: {} };
  for (const cfg of config.sources) {
    const cached = JSON.parse(await readFile(join(home, 'cache', 'sources', `${cfg.name}.json`), 'utf8'));
    // Served locally, the pages' own links name 127.0.0.1: they name the site the pages were captured from.
    let text = JSON.stringify(cached.entries);
    if (served) text = text.split(served.url).join(publicUrl[cfg.name].replace(/\/+$/, ''));
    // Readmes are the bulk of a catalog and only registry-info shows them: they arrive with the first refresh.
    const entries = JSON.parse(text).map(({ readme, detailFetchedAt, ...e }) => e);
    let asOf = asOfGiven[cfg.name] ? new Date(asOfGiven[cfg.name]).toISOString() : cached.fetchedAt;
    if (cfg.type === 'docker' && !asOfGiven[cfg.name]) {
      // The registry's data is as old as its last commit, whenever it was cloned.
      const clone = join(home, 'sources', cfg.name, 'repo');
      asOf = new Date(execFileSync('git', ['-C', clone, 'show', '-s', '--format=%cI', cached.state.commit], { encoding: 'utf8' }).trim()).toISOString();
    }
    data.sources[cfg.name] = { type: cfg.type, url: publicUrl[cfg.name] ?? cfg.url, asOf, fetchedAt: cached.fetchedAt, entries: entries.length };
    data.entries[cfg.name] = entries;
  }
  // The index of the merge in the default source order: a first run with the default sources loads it as it is.
  const merged = mergeEntries(new Map(Object.entries(data.entries)), config.sources.map((s) => s.name));
  const index = SearchIndex.build(merged).toBuffer(builtAt);
  const json = gzipSync(JSON.stringify(data), { level: 9 });
  const bin = gzipSync(index, { level: 9 });
  await mkdir(args.out, { recursive: true });
  await writeFile(join(args.out, snapshot.SNAPSHOT_CATALOG), json);
  await writeFile(join(args.out, snapshot.SNAPSHOT_INDEX), bin);
  for (const [name, s] of Object.entries(data.sources)) console.log(`${name}: ${s.entries} entries as of ${s.asOf.slice(0, 10)} (${s.url})`);
  console.log(`${merged.length} merged entries; ${snapshot.SNAPSHOT_CATALOG} ${(json.length / 1024).toFixed(0)} KiB, ${snapshot.SNAPSHOT_INDEX} ${(bin.length / 1024).toFixed(0)} KiB, in ${args.out}`);
} finally {
  await served?.close();
  await rm(home, { recursive: true, force: true });
}
