import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, setLogLevel } from '../../src/util/log.js';
import type { Entry } from '../../src/model/entry.js';
import { SourceError, type FetchContext, type SourceProgress } from '../../src/sources/source.js';
import { McpServersSource, type McpServersSourceConfig, type McpServersSourceOptions } from '../../src/sources/mcpservers.js';
import { cloudflareChallenge, sequence, startFixtureServer, status, type FixtureServer, type RecordedRequest, type Routes } from '../helpers/fixture-http.js';
import { sharedData } from '../helpers/shared-data.js';

const LISTING = sharedData('mcpservers/official-page2.pt-BR.excerpt.html');
const REMOTE_INDEX = sharedData('mcpservers/remote-index.pt-BR.trimmed.html');
const ANKI = sharedData('mcpservers/server-detail-anki.pt-BR.excerpt.html');
const B12 = sharedData('mcpservers/remote-detail-b12.pt-BR.excerpt.html');
const DELAY = 50;
/** The captured listing says "31-60 of 647" and links pages up to 22: served as every page, the crawl ends at 22. */
const PAGES = 22;

let server: FixtureServer | undefined;
const dirs: string[] = [];

beforeAll(() => setLogLevel('error'));
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup(routes: Routes, cfg: Partial<McpServersSourceConfig> = {}, opts: McpServersSourceOptions = {}) {
  server = await startFixtureServer(routes);
  const workDir = await mkdtemp(join(tmpdir(), 'mcpservers-test-'));
  dirs.push(workDir);
  const source = new McpServersSource({ name: 'mcpservers', url: server.url, delayMs: DELAY, ...cfg }, opts);
  return { source, workDir, server };
}

function ctx(workDir: string, extra: Partial<FetchContext> = {}): FetchContext {
  return { previous: null, workDir, signal: new AbortController().signal, progress: () => {}, log: createLogger('test'), force: false, ...extra };
}

/** Every page of /all answered with the real captured listing (routes match the path whatever ?page is). */
const realSite = (): Routes => ({ '/all': { file: LISTING }, '/remote-mcp-servers': { file: REMOTE_INDEX } });

function gaps(reqs: RecordedRequest[]): number[] {
  return reqs.slice(1).map((r, i) => r.at - reqs[i]!.at);
}

function byId(entries: Entry[], id: string): Entry {
  const e = entries.find((x) => x.id === id);
  if (!e) throw new Error(`no entry ${id} among ${entries.map((x) => x.id).join(', ')}`);
  return e;
}

describe('McpServersSource crawl over a local server serving the real pages', () => {
  it('crawls every listing page until the page count, one request at a time, delayMs apart', async () => {
    const { source, workDir, server } = await setup(realSite());
    const seen: SourceProgress[] = [];
    const res = await source.fetch(ctx(workDir, { progress: (p) => seen.push(p) }));

    const urls = server.requests.map((r) => r.url);
    expect(urls).toEqual(['/all', ...Array.from({ length: PAGES - 1 }, (_, i) => `/all?page=${i + 2}`), '/remote-mcp-servers']);
    for (const g of gaps(server.requests)) expect(g).toBeGreaterThanOrEqual(DELAY);
    expect(server.requests[0]!.headers['user-agent']).toMatch(/^mcp-registry\/\d+\.\d+\.\d+ \(\+https:\/\//);
    expect(seen.at(-2)).toMatchObject({ current: PAGES, total: PAGES });

    // 6 catalog cards (the sponsor card skipped), the same on every page: one entry each; plus 10 remote servers.
    expect(res.entries).toHaveLength(16);
    const audiense = byId(res.entries, 'mcpservers/audienseco/mcp-audiense-insights');
    expect(audiense).toMatchObject({
      nativeName: 'AudienseCo/mcp-audiense-insights',
      name: 'Audiense Insights',
      category: 'productivity',
      official: true,
      repository: 'https://github.com/audienseco/mcp-audiense-insights',
      sources: [{ source: 'mcpservers', id: 'mcpservers/audienseco/mcp-audiense-insights', url: `${server.url}/servers/AudienseCo/mcp-audiense-insights` }],
    });
    // A logo made from the vendor's website is a website, not a repository.
    expect(byId(res.entries, 'mcpservers/alter-mcp')).toMatchObject({ website: 'https://truealter.com', repository: undefined, category: 'other' });
    expect(res.entries.some((e) => /alpha vantage/i.test(e.name))).toBe(false);
    const github = byId(res.entries, 'mcpservers/remote-mcp-servers/github');
    expect(github).toMatchObject({ name: 'GitHub', tags: ['remote'], sources: [{ url: `${server.url}/remote-mcp-servers/github` }] });

    // The excerpt keeps 7 of 30 cards: the source says so instead of silently publishing a thin page.
    expect(res.warnings?.some((w) => /lists servers 31-60 but only 6 cards/.test(w))).toBe(true);
    expect(existsSync(join(workDir, 'crawl'))).toBe(false);
  });

  it('stops at the page the count line calls the last, and at maxPages', async () => {
    const text = readFileSync(LISTING, 'utf8');
    const { source, workDir, server } = await setup({
      '/all': { file: LISTING },
      // The same capture, its count line saying the listing ends on this page.
      '/all?page=2': text.replace('31-60 de 647', '31-60 de 60'),
      '/remote-mcp-servers': { file: REMOTE_INDEX },
    });
    await source.fetch(ctx(workDir));
    expect(server.requests.map((r) => r.url)).toEqual(['/all', '/all?page=2', '/remote-mcp-servers']);

    const capped = new McpServersSource({ name: 'mcpservers', url: server.url, delayMs: DELAY, maxPages: 1, listings: ['/all'] });
    server.requests.length = 0;
    server.routes['/all?page=2'] = { file: LISTING };
    const res = await capped.fetch(ctx(workDir));
    expect(server.requests.map((r) => r.url)).toEqual(['/all']);
    expect(res.warnings?.some((w) => /maxPages \(1\) of 22 pages/.test(w))).toBe(true);
  });

  it('backs off exponentially on 429 and 5xx, then succeeds', async () => {
    const { source, workDir, server } = await setup({
      '/all': sequence(status(429), status(503), { file: LISTING }),
      '/remote-mcp-servers': { file: REMOTE_INDEX },
    }, { listings: ['/all'], maxPages: 1 });
    const res = await source.fetch(ctx(workDir));
    expect(res.entries).toHaveLength(6);
    expect(server.requests.map((r) => r.status)).toEqual([429, 503, 200]);
    const [first, second] = gaps(server.requests);
    // Twice the politeness delay, then doubling.
    expect(first).toBeGreaterThanOrEqual(2 * DELAY);
    expect(second).toBeGreaterThanOrEqual(4 * DELAY);
  });

  it('gives up after bounded retries with an error that says the last good data is kept', async () => {
    const { source, workDir, server } = await setup({ '/all': status(500) }, { listings: ['/all'] }, { attempts: 3 });
    const err = await source.fetch(ctx(workDir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/\/all failed 3 times \(last: HTTP 500\)/);
    expect((err as Error).message).toMatch(/last (good|complete) data is kept/);
    expect((err as Error).message.match(/data is kept/g)).toHaveLength(1); // said once, not by each layer
    expect(server.requests).toHaveLength(3);
  });

  it('treats the Cloudflare challenge (HTTP 200) as a failure, without hammering the site', async () => {
    const { source, workDir, server } = await setup({ '/all': cloudflareChallenge() }, { listings: ['/all'] });
    const err = await source.fetch(ctx(workDir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/Cloudflare bot check/);
    expect((err as Error).message).toMatch(/last good data is kept/);
    expect((err as Error).message.match(/data is kept/g)).toHaveLength(1);
    expect((err as Error).message).toMatch(/try again/);
    expect(server.requests).toHaveLength(1);
  });

  it('fails loudly when a page counts servers but no card parses (markup changed)', async () => {
    const changed = readFileSync(LISTING, 'utf8').replace(/data-slot="card"/g, 'data-slot="tile"');
    const { source, workDir, server } = await setup({ '/all': changed }, { listings: ['/all'] });
    const err = await source.fetch(ctx(workDir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toContain(`${server.url}/all says it lists 647 servers but no server card could be read`);
    expect((err as Error).message).toContain('src/sources/mcpservers-html.ts must be updated');
  });

  it('resumes an interrupted crawl at the next page and publishes only the completed crawl', async () => {
    const { source, workDir, server } = await setup(realSite(), { listings: ['/all'], maxPages: 4 });
    const ac = new AbortController();
    const first = await source
      .fetch(ctx(workDir, { signal: ac.signal, progress: (p) => p.current === 2 && ac.abort() }))
      .catch((e: unknown) => e);
    expect(first).toBeInstanceOf(SourceError);
    expect((first as Error).message).toMatch(/stopped at \/all page 3 of 22: the refresh was cancelled/);
    expect((first as Error).message).toMatch(/2 pages are saved and the next refresh resumes/);
    expect(server.requests.map((r) => r.url)).toEqual(['/all', '/all?page=2']);

    // A new instance (a restarted process) continues from the saved position.
    server.requests.length = 0;
    const again = new McpServersSource({ name: 'mcpservers', url: server.url, delayMs: DELAY, listings: ['/all'], maxPages: 4 });
    const res = await again.fetch(ctx(workDir));
    expect(server.requests.map((r) => r.url)).toEqual(['/all?page=3', '/all?page=4']);
    expect(res.entries).toHaveLength(6);
    expect(res.state).toMatchObject({ pages: 4 });
  });

  it('resumes at the page that failed after a challenge', async () => {
    const { source, workDir, server } = await setup(
      { '/all': { file: LISTING }, '/all?page=3': cloudflareChallenge() },
      { listings: ['/all'], maxPages: 3 },
    );
    const err = await source.fetch(ctx(workDir)).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/stopped at \/all page 3 of 22: .*Cloudflare/);
    server.routes['/all?page=3'] = { file: LISTING };
    server.requests.length = 0;
    const res = await source.fetch(ctx(workDir));
    expect(server.requests.map((r) => r.url)).toEqual(['/all?page=3']);
    expect(res.entries).toHaveLength(6);
  });

  it('stops waiting and reports cancellation when ctx.signal aborts mid-backoff', async () => {
    const { source, workDir } = await setup({ '/all': status(429) }, { listings: ['/all'], delayMs: 1_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const t0 = Date.now();
    const err = await source.fetch(ctx(workDir, { signal: ac.signal })).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect((err as Error).message).toMatch(/stopped at \/all page 1: the refresh was cancelled/);
  });
});

describe('McpServersSource.detail', () => {
  it('fetches a detail page lazily, once, and caches it on disk', async () => {
    const { source, workDir, server } = await setup({ ...realSite(), '/servers/anki-mcp/anki-mcp-desktop': { file: ANKI } }, { listings: ['/all'], maxPages: 1 });
    const entry: Entry = {
      ...(await source.fetch(ctx(workDir))).entries[0]!,
      id: 'mcpservers/anki-mcp/anki-mcp-desktop',
      nativeName: 'anki-mcp/anki-mcp-desktop',
      sources: [{ source: 'mcpservers', id: 'mcpservers/anki-mcp/anki-mcp-desktop', url: `${server.url}/servers/anki-mcp/anki-mcp-desktop` }],
    };
    server.requests.length = 0;
    const dctx = { workDir, signal: new AbortController().signal, progress: () => {}, log: createLogger('test') };
    const [a, b] = await Promise.all([source.detail(entry, dctx), source.detail(entry, dctx)]);
    expect(a).toEqual(b);
    expect(a).toMatchObject({
      name: 'Anki MCP',
      official: true,
      repository: 'https://github.com/ankimcp/anki-mcp-server',
      category: 'productivity',
      meta: { githubStars: 474, related: ['rember/rember-mcp', 'MCP-Mirror/samefarrar_mcp-ankiconnect', 'jasperket/clanki', 'flashmemorize-com'] },
    });
    expect(a.description).toMatch(/^Um servidor MCP que permite/);
    expect(a.readme).toMatch(/## Servidor Anki MCP/);

    // A new instance (another process) reads the disk cache instead of asking the site again.
    const other = new McpServersSource({ name: 'mcpservers', url: server.url, delayMs: DELAY });
    expect(await other.detail(entry, dctx)).toEqual(a);
    expect(server.requests.map((r) => r.url)).toEqual(['/servers/anki-mcp/anki-mcp-desktop']);
  });

  it('fills the remote endpoint of a remote listing entry from its detail page', async () => {
    const { source, workDir, server } = await setup({ '/remote-mcp-servers': { file: REMOTE_INDEX }, '/remote-mcp-servers/b12': { file: B12 } }, { listings: ['/remote-mcp-servers'] });
    const { entries } = await source.fetch(ctx(workDir));
    expect(entries.every((e) => e.launch.length === 0)).toBe(true);
    const b12: Entry = { ...entries[0]!, id: 'mcpservers/remote-mcp-servers/b12', nativeName: 'remote-mcp-servers/b12', sources: [{ source: 'mcpservers', id: 'mcpservers/remote-mcp-servers/b12' }] };
    const d = await source.detail(b12, { workDir, signal: new AbortController().signal, progress: () => {}, log: createLogger('test') });
    expect(d.launch).toEqual([{ type: 'remote', url: 'https://b12.io/mcp', transport: 'streamable-http' }]);
    expect(server.requests.at(-1)!.url).toBe('/remote-mcp-servers/b12');
    const spacing = gaps(server.requests);
    expect(spacing.every((g) => g >= DELAY)).toBe(true);
  });

  it('a detail request queued behind a backing-off crawl gives up when its own signal does, without being sent', async () => {
    const { source, workDir, server } = await setup({ '/all': status(429), '/servers/a/b': { file: ANKI } }, { listings: ['/all'], delayMs: 500 });
    const crawl = new AbortController();
    const fetching = source.fetch(ctx(workDir, { signal: crawl.signal })).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100)); // the crawl got its 429 and is backing off (1 s)
    const entry: Entry = { id: 'mcpservers/a/b', nativeName: 'a/b', name: 'b', description: '', tags: [], aliases: [], tools: [], launch: [], config: { secrets: [], env: [] }, sources: [{ source: 'mcpservers', id: 'mcpservers/a/b' }] };
    const t0 = Date.now();
    const err = await source.detail(entry, { workDir, signal: AbortSignal.timeout(150), progress: () => {}, log: createLogger('test') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/details of a\/b could not be fetched from .*timeout/i);
    expect(Date.now() - t0).toBeLessThan(600);
    crawl.abort();
    expect(await fetching).toBeInstanceOf(SourceError);
    expect(server.requests.map((r) => r.url)).toEqual(['/all']);
  });

  it('reports a challenge on a detail page as a SourceError and caches nothing', async () => {
    const { source, workDir, server } = await setup({ '/servers/a/b': cloudflareChallenge() });
    const entry: Entry = { id: 'mcpservers/a/b', nativeName: 'a/b', name: 'b', description: '', tags: [], aliases: [], tools: [], launch: [], config: { secrets: [], env: [] }, sources: [{ source: 'mcpservers', id: 'mcpservers/a/b' }] };
    const dctx = { workDir, signal: new AbortController().signal, progress: () => {}, log: createLogger('test') };
    await expect(source.detail(entry, dctx)).rejects.toThrow(/Cloudflare bot check/);
    server.routes['/servers/a/b'] = { file: ANKI };
    await expect(source.detail(entry, dctx)).resolves.toMatchObject({ name: 'Anki MCP' });
    expect(server.requests).toHaveLength(2);
  });
});
