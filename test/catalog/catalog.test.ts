import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog } from '../../src/catalog/catalog.js';
import { parseConfig } from '../../src/config/config.js';
import { createSource } from '../../src/sources/index.js';
import { sharedData } from '../helpers/shared-data.js';
import { startFixtureServer } from '../helpers/fixture-http.js';

/** Refresh semantics of the catalog over real sources (the user's catalog file and the real official page). */
let dir: string;
let catalogFile: string;

const serverJson = (name: string, description: string, repo?: string) => ({
  name,
  description,
  version: '1.0.0',
  ...(repo ? { repository: { url: repo, source: 'github' } } : {}),
  packages: [{ registryType: 'oci', identifier: `ghcr.io/example/${name.split('/')[1]}:1`, transport: { type: 'stdio' } }],
});

function makeCatalog(extra: Record<string, unknown> = {}) {
  const officialPage = sharedData('official-registry/list-page.json');
  const cfg = parseConfig(
    {
      sources: [
        { name: 'internal', type: 'file', path: catalogFile },
        { name: 'copy', type: 'file', path: officialPage },
      ],
      refresh: { minInterval: '1h', cooldown: 0, ...extra },
    },
    dir,
  );
  return new Catalog(cfg, join(dir, 'cache'), join(dir, 'sources'), createSource);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'catalog-test-'));
  catalogFile = join(dir, 'catalog.yaml');
  await writeFile(catalogFile, JSON.stringify([serverJson('com.example/weather', 'Weather forecasts'), serverJson('com.example/notes', 'Take notes', 'https://github.com/pulsemcp/mcp-servers/tree/main/experimental/remote-filesystem')]));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Catalog', () => {
  it('refreshes, merges across sources in config order and serves aliases', async () => {
    const c = makeCatalog();
    const out = await c.refresh();
    expect(out.map((o) => [o.name, o.status])).toEqual([
      ['internal', 'ok'],
      ['copy', 'ok'],
    ]);
    // com.example/notes shares its repository (with subfolder) with the official page's remote-filesystem entry.
    const merged = c.get('copy/com.pulsemcp/remote-filesystem');
    expect(merged?.id).toBe('internal/com.example/notes');
    expect(c.size).toBe(2 + 4 - 1);
    expect(c.search('weather forecast')[0]?.entry.id).toBe('internal/com.example/weather');
  });

  it('a first-run search waits for the sources, but a slow one holds it only for the budget', async () => {
    const page = await readFile(sharedData('official-registry/list-page.json'), 'utf8');
    const json = { 'content-type': 'application/json' };
    const slow = await startFixtureServer({
      '/v0.1/servers': (req) =>
        req.query.get('cursor') ? { headers: json, body: JSON.stringify({ servers: [], metadata: { count: 0 } }) } : { delayMs: 4_000, headers: json, body: page },
    });
    try {
      const cfg = parseConfig(
        { sources: [{ name: 'internal', type: 'file', path: catalogFile }, { name: 'slow', type: 'official', url: slow.url }], refresh: { cooldown: 0 } },
        dir,
      );
      const c = new Catalog(cfg, join(dir, 'cache'), join(dir, 'sources'), createSource);
      const t0 = Date.now();
      await c.ready(undefined, 300);
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(c.get('internal/com.example/weather')).toBeDefined();
      expect(c.loadingSources).toEqual(['slow']);
      // The slow source is merged in when it finishes, without another refresh call.
      await new Promise<void>((resolve) => c.on('refreshed', () => resolve()));
      expect(c.get('slow/com.notion/mcp')).toBeDefined();
      expect(c.loadingSources).toEqual([]);
    } finally {
      await slow.close();
    }
  });

  it('starts from the cache without touching sources', async () => {
    await makeCatalog().refresh();
    await rm(catalogFile); // the source is gone; the cache must still serve
    const again = makeCatalog();
    await again.load();
    expect(again.size).toBe(5);
    expect(again.get('internal/com.example/weather')).toBeDefined();
  });

  it('loads the saved search index with the cache, and rebuilds it when the index file is damaged', async () => {
    await makeCatalog().refresh();
    const indexFile = join(dir, 'cache', 'search-index.bin');
    const bytes = await readFile(indexFile);
    expect(bytes.length).toBeGreaterThan(100);
    const warm = makeCatalog();
    await warm.load();
    expect(warm.search('weather forecast')[0]?.entry.id).toBe('internal/com.example/weather');
    bytes[bytes.length >> 1] ^= 0xff; // flip a byte in the middle
    await writeFile(indexFile, bytes);
    const damaged = makeCatalog();
    await damaged.load();
    expect(damaged.search('weather forecast')[0]?.entry.id).toBe('internal/com.example/weather');
    expect(damaged.size).toBe(5);
  });

  it('keeps the last good data of a source that fails and records its error', async () => {
    const c = makeCatalog();
    await c.refresh();
    await writeFile(catalogFile, 'servers: [ {name: broken');
    const [o] = await c.refresh({ source: 'internal', force: true });
    expect(o!.status).toBe('error');
    expect(o!.error).toMatch(/catalog\.yaml/);
    expect(o!.entries).toBe(2);
    expect(c.get('internal/com.example/weather')).toBeDefined();
    const st = (await c.status()).find((s) => s.name === 'internal')!;
    expect(st.lastError).toMatch(/catalog\.yaml/);
    expect(st.entries).toBe(2);
    // The on-disk cache still holds the good entries after a restart.
    const again = makeCatalog();
    await again.load();
    expect(again.get('internal/com.example/weather')).toBeDefined();
  });

  it('skips sources fetched within minInterval unless forced, and a forced refresh respects the cooldown', async () => {
    const c = makeCatalog({ cooldown: '1h' });
    await c.refresh();
    expect((await c.refresh()).map((o) => o.status)).toEqual(['skipped', 'skipped']);
    expect((await c.refresh({ force: true })).map((o) => o.status)).toEqual(['cooldown', 'cooldown']);
  });

  it('never runs two refreshes of one source at once', async () => {
    const a = makeCatalog();
    const b = makeCatalog();
    const [ra, rb] = await Promise.all([a.refresh({ source: 'internal' }), b.refresh({ source: 'internal' })]);
    const statuses = [ra[0]!.status, rb[0]!.status].sort();
    expect(statuses).toEqual(['busy', 'ok']);
    // Joining: two calls on one catalog share the running refresh.
    const c = makeCatalog();
    const [x, y] = await Promise.all([c.refresh({ source: 'copy', force: true }), c.refresh({ source: 'copy', force: true })]);
    expect(x[0]).toEqual(y[0]);
    expect(await readdir(join(dir, 'cache', 'locks'))).toEqual([]);
  });

  it('a 50 MB description is cut to a bounded size: the entry stays, the cache and results stay small', async () => {
    const big = 'weather radar imagery '.repeat(2_400_000); // ~50 MB
    await writeFile(catalogFile, JSON.stringify([serverJson('com.example/huge', big), serverJson('com.example/weather', 'Weather forecasts')]));
    const c = makeCatalog();
    const [o] = await c.refresh({ source: 'internal' });
    expect(o!.status).toBe('ok');
    const e = c.get('internal/com.example/huge')!;
    expect(e.description.length).toBeLessThanOrEqual(4_000);
    expect(c.search('radar imagery')[0]?.entry.id).toBe('internal/com.example/huge');
    const cacheBytes = (await readFile(join(dir, 'cache', 'catalog.json'))).length;
    expect(cacheBytes).toBeLessThan(100_000);
  });

  it('takes over a refresh lock left by a dead process, but not one held by a live process', async () => {
    const { hostname } = await import('node:os');
    const { mkdir } = await import('node:fs/promises');
    const c = makeCatalog();
    await mkdir(join(dir, 'cache', 'locks'), { recursive: true });
    const lock = join(dir, 'cache', 'locks', 'internal.lock');
    await writeFile(lock, `999999999 ${hostname()} ${Date.now()} deadbeef\n`); // no such pid: its holder died
    const [dead] = await c.refresh({ source: 'internal' });
    expect(dead!.status).toBe('ok');
    await writeFile(lock, `${process.pid} ${hostname()} ${Date.now()} cafebabe\n`); // a live holder
    const [live] = await c.refresh({ source: 'internal', force: true });
    expect(live!.status).toBe('busy');
    expect(await readFile(lock, 'utf8')).toMatch(/cafebabe/); // the live holder's lock is left alone
  });

  it('a source whose definition changed gets a fresh attempt at once: no cooldown, no minInterval, no stale error', async () => {
    const cfg = (path: string) => parseConfig({ sources: [{ name: 'internal', type: 'file', path }], refresh: { minInterval: '1h', cooldown: '1h' } }, dir);
    const made: string[] = [];
    const make = (c: Parameters<typeof createSource>[0]) => {
      made.push(c.type === 'file' ? c.path : c.url);
      return createSource(c);
    };
    const c = new Catalog(cfg(join(dir, 'missing.yaml')), join(dir, 'cache'), join(dir, 'sources'), make);
    const [broken] = await c.refresh();
    expect(broken!.status).toBe('error');
    // The same definition: the cooldown holds, and the error is current.
    expect((await c.refresh({ force: true }))[0]).toMatchObject({ status: 'cooldown', error: expect.stringMatching(/missing\.yaml/) });

    // The path is fixed (config.yaml edited while running): the source is new to fetch, now.
    expect(c.reconfigure(cfg(catalogFile))).toEqual(['internal']);
    expect((await c.status())[0]!.lastError).toBeUndefined(); // the old path's error is not shown as current
    const [fixed] = await c.refresh();
    expect(fixed!.status).toBe('ok');
    expect(c.get('internal/com.example/weather')).toBeDefined();
    expect(made).toEqual([join(dir, 'missing.yaml'), catalogFile]); // a new instance for the new definition
    expect(c.reconfigure(cfg(catalogFile))).toEqual([]); // nothing changed: nothing to fetch

    // Changed while no registry ran: the next start's refresh is a fresh attempt too, not "fetched recently".
    const restarted = new Catalog(cfg(join(dir, 'other.yaml')), join(dir, 'cache'), join(dir, 'sources'), createSource);
    await restarted.load();
    expect((await restarted.status())[0]).toMatchObject({ entries: 2 });
    expect((await restarted.status())[0]!.lastRefresh).toBeUndefined();
    const [other] = await restarted.refresh();
    expect(other).toMatchObject({ status: 'error', error: expect.stringMatching(/other\.yaml/) });
  });

  it('a source added or enabled while running is fetched, one removed leaves the catalog', async () => {
    const only = parseConfig({ sources: [{ name: 'internal', type: 'file', path: catalogFile }], refresh: { cooldown: 0 } }, dir);
    const c = new Catalog(only, join(dir, 'cache'), join(dir, 'sources'), createSource);
    await c.refresh();
    expect(c.size).toBe(2);
    const both = parseConfig({ sources: [{ name: 'internal', type: 'file', path: catalogFile }, { name: 'copy', type: 'file', path: sharedData('official-registry/list-page.json') }], refresh: { cooldown: 0 } }, dir);
    expect(c.reconfigure(both)).toEqual(['copy']);
    await c.refresh({ source: 'copy' });
    expect(c.size).toBe(5);
    c.reconfigure(only);
    await expect.poll(() => c.size).toBe(2);
  });

  it('a refresh leaves no torn files behind', async () => {
    const c = makeCatalog();
    await c.refresh();
    const files = await readdir(join(dir, 'cache'));
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(JSON.parse(await readFile(join(dir, 'cache', 'catalog.json'), 'utf8')).entries).toHaveLength(5);
  });
});
