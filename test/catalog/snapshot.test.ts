import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Catalog } from '../../src/catalog/catalog.js';
import { mergeEntries } from '../../src/catalog/merge.js';
import { readShippedSnapshot, SNAPSHOT_CATALOG, SNAPSHOT_DIR, SNAPSHOT_INDEX, type ShippedSnapshot } from '../../src/catalog/snapshot.js';
import { DEFAULT_SOURCES, parseConfig, type SourceConfig } from '../../src/config/config.js';
import { readAudit } from '../../src/governance/audit-read.js';
import { createLogger, setLogLevel } from '../../src/util/log.js';
import { SearchIndex } from '../../src/search/search-index.js';
import { createSource } from '../../src/sources/index.js';
import { loadDockerEntries, type DockerEntries } from '../helpers/docker-entries.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-http.js';
import { makeHome, startRegistry } from '../helpers/registry-client.js';
import { repoRoot, sharedData } from '../helpers/shared-data.js';

/**
 * Issue 10.9: a compact catalog snapshot ships with the package (snapshot/, built by scripts/build-snapshot.mjs
 * from the real data) and answers from the first second, offline included, until the sources refresh.
 */

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
/** The Docker registry bundle's HEAD (2026-07-08): the date the snapshot's docker data is from. */
const DOCKER_DATE = '2026-07-08';

let shipped: ShippedSnapshot;
let docker: DockerEntries;

beforeAll(async () => {
  setLogLevel('error');
  const s = await readShippedSnapshot();
  if (!s) throw new Error(`no catalog snapshot in ${SNAPSHOT_DIR}: build it with "npm run build && node scripts/build-snapshot.mjs"`);
  shipped = s;
  docker = await loadDockerEntries('snapshot-test-');
});
afterAll(() => docker?.cleanup());

describe('the committed snapshot (issue 10.9)', () => {
  it('is current: every server of the Docker registry bundle at its commit date, the captured pages under their public sites, no readmes, an index that fits, a few hundred KiB', () => {
    const { data } = shipped;
    expect(Object.keys(data.sources)).toEqual(DEFAULT_SOURCES.map((s) => s.name));
    for (const s of DEFAULT_SOURCES) expect(data.sources[s.name]).toMatchObject({ type: s.type, url: s.url, entries: data.entries[s.name]!.length });

    // The same servers as the bundle, as of its HEAD commit.
    expect(data.entries.docker!.map((e) => e.id).sort()).toEqual(docker.all.map((e) => e.id).sort());
    const head = execFileSync('git', ['-C', join(docker.dir, 'repo'), 'log', '-1', '--format=%cI'], { encoding: 'utf8' }).trim();
    expect(data.sources.docker!.asOf).toBe(new Date(head).toISOString());
    expect(data.sources.docker!.asOf.slice(0, 10)).toBe(DOCKER_DATE);
    // What the real sources hold of the captured pages, linked to where they came from, not to the loopback server.
    expect(data.entries.mcpservers!.length).toBe(16);
    expect(data.entries.official!.length).toBe(JSON.parse(readFileSync(sharedData('official-registry/list-page.json'), 'utf8')).servers.length);
    for (const name of ['mcpservers', 'official'] as const) {
      for (const e of data.entries[name]!) expect(e.sources[0]!.url, e.id).toMatch(new RegExp(`^${data.sources[name]!.url.replace(/[.]/g, '\\.')}/`));
    }
    const all = Object.values(data.entries).flat();
    expect(all.filter((e) => e.readme !== undefined).map((e) => e.id)).toEqual([]);
    // The index is the one of their merge in the default order: a first run loads it instead of building one.
    const merged = mergeEntries(new Map(Object.entries(data.entries)), DEFAULT_SOURCES.map((s) => s.name));
    expect(SearchIndex.load(merged, shipped.index!, data.builtAt)).toBeDefined();
    const bytes = statSync(join(SNAPSHOT_DIR, SNAPSHOT_CATALOG)).size + statSync(join(SNAPSHOT_DIR, SNAPSHOT_INDEX)).size;
    expect(bytes).toBeLessThan(1024 * 1024);
    // It ships with the package.
    expect(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).files).toContain('snapshot');
  });
});

describe('a first run from the snapshot (issue 10.9)', () => {
  it('answers registry-find with no network and no cache in under 100 ms of server time, saying how old the data is; registry-status says "snapshot from <date>"', async () => {
    const times: number[] = [];
    // Fresh first runs until one makes it, at most five: this 2-core machine is shared with other test runs, whose
    // load can only add to the time (a calm machine needs one run).
    while (times.length < 5 && !times.some((t) => t < 100)) times.push(await firstRunFind());
    process.stderr.write(`first registry-find from the snapshot, server time: ${times.join(', ')} ms\n`);
    expect(Math.min(...times)).toBeLessThan(100);
  });
});

/** A registry on a fresh home with the default sources, offline; its first find checked. Returns the find's server time. */
async function firstRunFind(): Promise<number> {
  // refresh.onStart: false keeps every source off the network; nothing is cached in the fresh home.
  const home = await makeHome({ refresh: { onStart: false } });
  try {
    const reg = await startRegistry(home, { env: { MCP_REGISTRY_LOG_LEVEL: 'info' } });
    try {
      // As a client does: the tool list, then at once the find, which waits for whatever of the snapshot is still loading.
      await reg.client.listTools();
      const found = (await reg.client.callTool({ name: 'registry-find', arguments: { query: 'query a postgres database' } })) as Result;
      expect(found.isError, text(found)).toBeFalsy();
      const results = (found.structuredContent as { results: { id: string }[] }).results;
      expect(results.map((r) => r.id)).toContain('docker/prisma-postgres');
      expect(found.structuredContent!.snapshot).toMatchObject({ asOf: expect.stringMatching(new RegExp(`^${DOCKER_DATE}`)), sources: ['docker', 'mcpservers', 'official'], refreshing: false });
      expect(text(found)).toContain(`(catalog snapshot from ${DOCKER_DATE} (docker, mcpservers, official); registry-refresh fetches current data)`);

      const status = (await reg.client.callTool({ name: 'registry-status', arguments: {} })) as Result;
      const sources = (status.structuredContent as { sources: { name: string; entries: number; snapshot?: string; lastRefresh?: string }[] }).sources;
      expect(sources.find((s) => s.name === 'docker')).toMatchObject({ entries: shipped.data.entries.docker!.length, snapshot: shipped.data.sources.docker!.asOf });
      expect(sources.every((s) => s.snapshot && !s.lastRefresh)).toBe(true);
      expect(text(status)).toContain(`- docker: ${shipped.data.entries.docker!.length} entries (snapshot from ${DOCKER_DATE}), never refreshed`);
    } finally {
      await reg.close();
    }
    // Nothing was fetched, nothing cached: no source was even tried.
    expect(existsSync(join(home, 'cache', 'source-status.json'))).toBe(false);
    expect(existsSync(join(home, 'cache', 'sources'))).toBe(false);
    // The find's time in the server (from the call reaching its handler to the answer), from its audit record,
    // written at the latest when the server stops.
    const { records } = await readAudit(join(home, 'state'), { op: 'find' });
    expect(records).toHaveLength(1);
    return records[0]!.durationMs;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

describe('Catalog with the snapshot (issue 10.9)', () => {
  let dir: string;
  let official: FixtureServer | undefined;
  afterEach(async () => {
    await official?.close();
    official = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * The default sources as configured (so the snapshot applies); their sites are out of reach here, so the
   * sources are pointed elsewhere: official at a local server with the real page, the others at a closed port.
   */
  async function defaultCatalog() {
    dir = await mkdtemp(join(tmpdir(), 'snapshot-catalog-'));
    const page = JSON.parse(await readFile(sharedData('official-registry/list-page.json'), 'utf8'));
    official = await startFixtureServer({
      '/v0.1/servers': { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ servers: page.servers.slice(0, 2), metadata: { count: 2 } }) },
    });
    const reachable: Record<string, string> = { docker: 'http://127.0.0.1:9/mcp-registry.git', mcpservers: 'http://127.0.0.1:9', official: official.url };
    const config = parseConfig({ refresh: { cooldown: 0 } }, dir);
    const make = () => new Catalog(config, join(dir, 'cache'), join(dir, 'sources'), (cfg: SourceConfig) => createSource({ ...cfg, url: reachable[cfg.name]! } as SourceConfig), createLogger('test'));
    return { config, make };
  }

  it("a source's refresh replaces the snapshot's entries with its own, a failed one keeps them, and a restart remembers which is which", async () => {
    const { make } = await defaultCatalog();
    const c = make();
    await c.load();
    expect(c.size).toBe(mergeEntries(new Map(Object.entries(shipped.data.entries)), ['docker', 'mcpservers', 'official']).length);
    expect(c.snapshotUse()).toMatchObject({ sources: ['docker', 'mcpservers', 'official'] });
    expect(c.search('propick real estate')[0]?.entry.id).toBe('official/ae.propick/propick');

    const [off] = await c.refresh({ source: 'official' });
    expect(off).toMatchObject({ name: 'official', status: 'ok', entries: 2 });
    const [dock] = await c.refresh({ source: 'docker' });
    expect(dock).toMatchObject({ name: 'docker', status: 'error' });
    const status = Object.fromEntries((await c.status()).map((s) => [s.name, s]));
    expect(status.official).toMatchObject({ entries: 2, lastRefresh: expect.any(String) });
    expect(status.official!.snapshot).toBeUndefined();
    expect(status.docker).toMatchObject({ entries: shipped.data.entries.docker!.length, snapshot: shipped.data.sources.docker!.asOf, lastError: expect.any(String) });
    // Official now holds what it fetched (2 servers), not the snapshot's 4; docker still answers from the snapshot.
    const officialIds = () => c.all().flatMap((e) => e.sources.filter((s) => s.source === 'official').map((s) => s.id)).sort();
    expect(officialIds()).toEqual(['official/ae.propick/propick', 'official/com.notion/mcp']);
    expect(c.get('docker/github-official')).toBeDefined();
    expect(c.snapshotUse()?.sources).toEqual(['docker', 'mcpservers']);

    // A restart loads the merged cache and still knows which sources are the snapshot's.
    const again = make();
    await again.load();
    expect(again.snapshotUse()?.sources).toEqual(['docker', 'mcpservers']);
    expect(again.size).toBe(c.size);
    expect((await again.status()).find((s) => s.name === 'docker')?.snapshot).toBe(shipped.data.sources.docker!.asOf);
  });

  it('is used only for the very source it came from: a "docker" source pointing at another repository does not show it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'snapshot-catalog-'));
    const config = parseConfig({ sources: [{ name: 'docker', type: 'docker', url: 'https://github.com/someone/fork.git' }], refresh: { onStart: false } }, dir);
    const c = new Catalog(config, join(dir, 'cache'), join(dir, 'sources'), createSource, createLogger('test'));
    await c.load();
    expect(c.size).toBe(0);
    expect(c.snapshotUse()).toBeUndefined();
    // And a catalog told to use none uses none.
    const none = new Catalog(parseConfig({}, dir), join(dir, 'cache2'), join(dir, 'sources'), createSource, createLogger('test'), { snapshotDir: null });
    await none.load();
    expect(none.size).toBe(0);
  });
});

describe('scripts/build-snapshot.mjs', () => {
  it('rebuilds the snapshot from the real data with the built code: the same servers as the committed one', async () => {
    const out = await mkdtemp(join(tmpdir(), 'snapshot-build-'));
    try {
      execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-snapshot.mjs'), '--out', out], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCP_REGISTRY_LOG_LEVEL: 'error' } });
      const rebuilt = (await readShippedSnapshot(out))!;
      expect(rebuilt).not.toBeNull();
      for (const name of Object.keys(shipped.data.entries)) {
        expect(rebuilt.data.entries[name]!.map((e) => e.id), name).toEqual(shipped.data.entries[name]!.map((e) => e.id));
      }
      expect(rebuilt.data.sources.docker!.asOf).toBe(shipped.data.sources.docker!.asOf);
      // Rebuilt with today's code, the entries are what the committed snapshot holds (the dates aside).
      expect(JSON.stringify(rebuilt.data.entries)).toBe(JSON.stringify(shipped.data.entries));
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
