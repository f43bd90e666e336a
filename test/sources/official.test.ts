import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../src/model/entry.js';
import { createLogger } from '../../src/util/log.js';
import { OfficialSource, type OfficialSourceOptions } from '../../src/sources/official.js';
import { entryAtVersion } from '../../src/model/versions.js';
import { OFFICIAL_META_KEY } from '../../src/sources/server-json.js';
import { SourceError, type FetchContext, type FetchResult, type SourceProgress } from '../../src/sources/source.js';
import { sequence, startFixtureServer, status, type FixtureServer, type Routes } from '../helpers/fixture-http.js';
import { sharedData } from '../helpers/shared-data.js';

const LIST_PAGE = sharedData('official-registry/list-page.json');
interface Envelope {
  server: Record<string, unknown>;
  _meta: { [OFFICIAL_META_KEY]: Record<string, unknown> };
}
const realPage = () => JSON.parse(readFileSync(LIST_PAGE, 'utf8')) as { servers: Envelope[]; metadata: Record<string, unknown> };
const real = (name: string): Envelope => structuredClone(realPage().servers.find((s) => s.server.name === name)!);

/** A real row with a different version / official facts (what the registry sends for another published version). */
function variant(name: string, version: string, official: Record<string, unknown>): Envelope {
  const e = real(name);
  e.server.version = version;
  e._meta[OFFICIAL_META_KEY] = { ...e._meta[OFFICIAL_META_KEY], ...official };
  return e;
}

const json = (body: unknown, date?: string) => ({
  headers: { 'content-type': 'application/json', ...(date ? { date } : {}) },
  body: JSON.stringify(body),
});

const T1 = 'Wed, 01 Jul 2026 12:00:00 GMT';
const T2 = 'Thu, 02 Jul 2026 08:30:00 GMT';
const CURSOR3 = 'com.notion/mcp:2.0.0-beta';

// Page 2 (answer to the real page's cursor) holds other versions of the real servers and a deleted one.
const page2 = () =>
  json({
    servers: [
      // Higher by semver but not flagged latest: the flagged 1.0.1 on page 1 must stay.
      variant('com.notion/mcp', '2.0.0-beta', { isLatest: false, publishedAt: '2026-07-01T00:00:00Z' }),
      // An older version of the npm server.
      variant('com.pulsemcp/remote-filesystem', '0.1.4', { isLatest: false }),
      // A newer version of the mcpb server, flagged latest; page 1's 1.2.1 was flagged too (a stale flag): semver decides.
      variant('io.github.rghsoftware/linux-filesystem', '1.3.0', { isLatest: true, publishedAt: '2026-07-01T00:00:00Z' }),
      // A taken-down server.
      {
        server: { name: 'io.github.someone/gone', description: 'Removed by moderation', version: '1.0.0' },
        _meta: { [OFFICIAL_META_KEY]: { status: 'deleted', isLatest: true, publishedAt: '2026-01-01T00:00:00Z' } },
      },
    ],
    metadata: { nextCursor: CURSOR3, count: 4 },
  });

/** Full crawl: real page, page 2 for its cursor, then an empty page that still carries a cursor. */
function fullCrawlRoutes(date = T1): Routes {
  return {
    '/v0.1/servers': (req) => {
      const cursor = req.query.get('cursor');
      if (cursor === null) return { ...json(realPage(), date) };
      if (cursor === 'a-proxima-pagina') return page2();
      if (cursor === CURSOR3) return json({ servers: [], metadata: { nextCursor: 'zzz:9', count: 0 } });
      return status(400, {}, `unexpected cursor ${cursor}`);
    },
  };
}

let server: FixtureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const log = createLogger('test');
function ctx(over: Partial<FetchContext> = {}): FetchContext & { events: SourceProgress[] } {
  const events: SourceProgress[] = [];
  return { previous: null, workDir: '/nonexistent', signal: new AbortController().signal, progress: (p) => events.push(p), log, force: false, events, ...over };
}
const fast: OfficialSourceOptions = { backoffMs: 5, maxBackoffMs: 20, timeoutMs: 5_000 };
const source = (opts: OfficialSourceOptions = fast, pageSize = 100) => new OfficialSource({ name: 'official', url: server!.url, pageSize }, opts);
const names = (r: FetchResult) => r.entries.map((e) => e.nativeName).sort();
const find = (r: FetchResult, n: string) => r.entries.find((e) => e.nativeName === n)!;
const previousOf = (r: FetchResult): FetchContext['previous'] => ({ entries: r.entries, state: r.state, fetchedAt: new Date().toISOString() });

describe('OfficialSource full crawl', () => {
  it('follows the cursor, maps every real entry, keeps the latest version and drops deleted servers', async () => {
    server = await startFixtureServer(fullCrawlRoutes());
    const c = ctx();
    const res = await source({ ...fast }, 4).fetch(c);

    // Paging: three requests, the limit sent each time, the cursor URL-encoded, stopped at the empty page.
    expect(server.requests.map((r) => r.query.get('cursor'))).toEqual([null, 'a-proxima-pagina', CURSOR3]);
    expect(server.requests.every((r) => r.path === '/v0.1/servers' && r.query.get('limit') === '4')).toBe(true);
    expect(server.requests[2].url).toContain('cursor=com.notion%2Fmcp%3A2.0.0-beta');
    expect(server.requests[0].headers.accept).toBe('application/json');

    expect(names(res)).toEqual(['ae.propick/propick', 'com.notion/mcp', 'com.pulsemcp/remote-filesystem', 'io.github.rghsoftware/linux-filesystem']);
    expect(find(res, 'com.notion/mcp').version).toBe('1.0.1'); // flagged latest beats a higher unflagged version
    expect(find(res, 'com.pulsemcp/remote-filesystem').version).toBe('0.1.5');
    expect(find(res, 'io.github.rghsoftware/linux-filesystem').version).toBe('1.3.0'); // both flagged: semver
    expect(res.entries.find((e) => e.nativeName === 'io.github.someone/gone')).toBeUndefined();

    // The real entries are mapped in full: remote with secret header, npm package with its env, mcpb.
    const propick = find(res, 'ae.propick/propick');
    expect(propick.id).toBe('official/ae.propick/propick');
    expect(propick.config.secrets).toEqual([expect.objectContaining({ name: 'Authorization', required: true })]);
    expect(propick.sources[0].url).toBe(`${server.url}/v0.1/servers/ae.propick%2Fpropick/versions/latest`);
    const pulse = find(res, 'com.pulsemcp/remote-filesystem');
    expect(pulse.launch[0]).toMatchObject({ type: 'package', registryType: 'npm', identifier: 'remote-filesystem-mcp-server' });
    expect(pulse.config.secrets.map((s) => s.env)).toEqual(['GCS_PRIVATE_KEY']);
    expect(find(res, 'io.github.rghsoftware/linux-filesystem').launch[0]).toMatchObject({ registryType: 'mcpb' });

    // Watermark = the server's time at the first response, not the max updatedAt.
    expect(res.state).toEqual({ watermark: new Date(T1).toISOString(), url: server.url });
    expect(res.warnings).toEqual([]);
    expect(c.events.map((e) => e.current)).toEqual([4, 8, 8]);
    expect(c.events[1].message).toContain('page 2');
  });

  it('keeps every non-deleted version of a server, newest first by semver, and registry-add can pick an older one', async () => {
    server = await startFixtureServer(fullCrawlRoutes());
    const res = await source({ ...fast }, 4).fetch(ctx());
    const listed = (n: string) => find(res, n).versions?.map((v) => v.version);
    expect(listed('com.notion/mcp')).toEqual(['2.0.0-beta', '1.0.1']);
    expect(listed('com.pulsemcp/remote-filesystem')).toEqual(['0.1.5', '0.1.4']);
    expect(listed('io.github.rghsoftware/linux-filesystem')).toEqual(['1.3.0', '1.2.1']);
    expect(find(res, 'com.notion/mcp').version).toBe('1.0.1');
    expect(find(res, 'com.notion/mcp').versions?.[0]).toMatchObject({ releasedAt: '2026-07-01T00:00:00Z' });
    const older = entryAtVersion(find(res, 'com.pulsemcp/remote-filesystem'), '0.1.4');
    expect('entry' in older && older.entry.version).toBe('0.1.4');
    expect('entry' in older && older.entry.launch[0]).toMatchObject({ type: 'package', registryType: 'npm', source: 'official' });

    // Incremental: a new version joins the list, a deleted old one leaves it, a deleted server goes.
    server.routes['/v0.1/servers'] = json(
      {
        servers: [
          variant('com.pulsemcp/remote-filesystem', '0.2.0', { isLatest: true }),
          variant('io.github.rghsoftware/linux-filesystem', '1.2.1', { status: 'deleted', isLatest: false }),
        ],
        metadata: { count: 2 },
      },
      T2,
    );
    const second = await source().fetch(ctx({ previous: previousOf(res) }));
    expect(find(second, 'com.pulsemcp/remote-filesystem').versions?.map((v) => v.version)).toEqual(['0.2.0', '0.1.5', '0.1.4']);
    // One version left: nothing to list beside the entry's own.
    expect(find(second, 'io.github.rghsoftware/linux-filesystem').versions).toBeUndefined();
    expect(find(second, 'io.github.rghsoftware/linux-filesystem').version).toBe('1.3.0');
    expect(find(second, 'com.notion/mcp').versions?.map((v) => v.version)).toEqual(['2.0.0-beta', '1.0.1']);
  });

  it('stops on a page without nextCursor and strips a copied /v0.1 from the configured URL', async () => {
    server = await startFixtureServer({ '/v0.1/servers': json({ servers: realPage().servers.slice(0, 2), metadata: { count: 2 } }) });
    const res = await new OfficialSource({ name: 'reg', url: `${server.url}/v0.1/`, pageSize: 100 }, fast).fetch(ctx());
    expect(server.requests).toHaveLength(1);
    expect(res.entries.map((e) => e.id)).toEqual(['reg/com.notion/mcp', 'reg/ae.propick/propick']);
  });

  it('skips a malformed row with a warning and keeps the rest of the page', async () => {
    const body = realPage();
    (body.servers[1].server as Record<string, unknown>).name = 42;
    body.servers.push('not an envelope' as never);
    delete (body.metadata as Record<string, unknown>).nextCursor;
    server = await startFixtureServer({ '/v0.1/servers': json(body) });
    const res = await source().fetch(ctx());
    expect(names(res)).toEqual(['com.notion/mcp', 'com.pulsemcp/remote-filesystem', 'io.github.rghsoftware/linux-filesystem']);
    expect(res.warnings).toHaveLength(2);
    expect(res.warnings![0]).toMatch(/v0\.1\/servers\?limit=100.*field "name"/);
    expect(res.warnings![1]).toMatch(/row 4 is not a \{server, _meta\} envelope/);
  });
});

describe('OfficialSource incremental refresh', () => {
  it('sends updated_since=<previous T0>, merges updates and deletions, and advances the watermark', async () => {
    server = await startFixtureServer(fullCrawlRoutes());
    const src = source();
    const first = await src.fetch(ctx());
    server.requests.length = 0;

    const newServer: Envelope = {
      server: { name: 'io.github.example/new-one', description: 'Published after the crawl', version: '0.1.0', remotes: [{ type: 'sse', url: 'https://new.example.com/sse' }] },
      _meta: { [OFFICIAL_META_KEY]: { status: 'active', isLatest: true, publishedAt: '2026-07-01T13:00:00Z', updatedAt: '2026-07-01T13:00:00Z' } },
    };
    server.routes['/v0.1/servers'] = json(
      {
        servers: [
          variant('ae.propick/propick', '1.0.0', { status: 'deleted', isLatest: false, updatedAt: '2026-07-01T12:30:00Z' }), // the version we hold, taken down
          variant('com.notion/mcp', '1.0.1', { status: 'deprecated', isLatest: true }), // status change of the held version
          variant('com.pulsemcp/remote-filesystem', '0.2.0', { isLatest: true }), // a new latest version
          variant('io.github.rghsoftware/linux-filesystem', '1.0.0', { status: 'deleted', isLatest: false }), // an old version removed
          newServer,
        ],
        metadata: { count: 5 },
      },
      T2,
    );
    const second = await src.fetch(ctx({ previous: previousOf(first) }));

    expect(server.requests).toHaveLength(1);
    expect(server.requests[0].query.get('updated_since')).toBe('2026-07-01T12:00:00.000Z');
    expect(server.requests[0].query.get('cursor')).toBeNull();
    expect(names(second)).toEqual(['com.notion/mcp', 'com.pulsemcp/remote-filesystem', 'io.github.example/new-one', 'io.github.rghsoftware/linux-filesystem']);
    expect(find(second, 'com.notion/mcp').status).toBe('deprecated');
    expect(find(second, 'com.pulsemcp/remote-filesystem').version).toBe('0.2.0');
    expect(find(second, 'io.github.rghsoftware/linux-filesystem').version).toBe('1.3.0');
    expect(find(second, 'io.github.example/new-one').launch).toEqual([{ type: 'remote', url: 'https://new.example.com/sse', transport: 'sse' }]);
    expect(second.unchanged).toBeFalsy();
    expect(second.state).toEqual({ watermark: new Date(T2).toISOString(), url: server.url });
  });

  it('reports unchanged when nothing was updated, and a forced refresh crawls in full', async () => {
    server = await startFixtureServer(fullCrawlRoutes());
    const src = source();
    const first = await src.fetch(ctx());
    server.routes['/v0.1/servers'] = (req) => (req.query.has('updated_since') ? json({ servers: [], metadata: { count: 0 } }, T2) : fullCrawlRoutes()['/v0.1/servers'] as never);
    server.requests.length = 0;

    const quiet = await src.fetch(ctx({ previous: previousOf(first) }));
    expect(quiet.unchanged).toBe(true);
    expect(quiet.entries).toBe(first.entries);

    server.routes['/v0.1/servers'] = fullCrawlRoutes()['/v0.1/servers'];
    const forced = await src.fetch(ctx({ previous: previousOf(first), force: true }));
    expect(server.requests.slice(1).map((r) => r.query.has('updated_since'))).toEqual([false, false, false]);
    expect(names(forced)).toEqual(names(first));
  });

  it('crawls in full when the configured URL changed since the watermark', async () => {
    server = await startFixtureServer(fullCrawlRoutes());
    const first = await source().fetch(ctx());
    server.requests.length = 0;
    const moved = await source().fetch(ctx({ previous: { ...previousOf(first)!, state: { watermark: '2026-01-01T00:00:00Z', url: 'http://elsewhere.invalid' } } }));
    expect(server.requests[0].query.has('updated_since')).toBe(false);
    expect(moved.entries).toHaveLength(4);
  });
});

describe('OfficialSource failures', () => {
  it('retries a 500 and a 429 (honouring Retry-After) and then succeeds', async () => {
    server = await startFixtureServer({ '/v0.1/servers': sequence(status(500), status(429, { 'retry-after': '0' }), json({ servers: realPage().servers, metadata: {} })) });
    const res = await source().fetch(ctx());
    expect(server.requests.map((r) => r.status)).toEqual([500, 429, 200]);
    expect(res.entries).toHaveLength(4);
  });

  it('gives up after the bounded attempts with an error naming the URL', async () => {
    server = await startFixtureServer({ '/v0.1/servers': status(503) });
    const err = await source({ ...fast, attempts: 3 }).fetch(ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toContain(`${server.url}/v0.1/servers?limit=100 failed 3 times (last: HTTP 503)`);
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry a 404 and says the URL is probably wrong', async () => {
    server = await startFixtureServer({});
    const err = await source().fetch(ctx()).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/answered HTTP 404.*check the source url/);
    expect(server.requests).toHaveLength(1);
  });

  it('rejects a non-JSON page and a page that is not a server list, naming the URL', async () => {
    server = await startFixtureServer({ '/v0.1/servers': '<html><body>Just a moment...</body></html>' });
    const err = await source().fetch(ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(new RegExp(`^${server.url.replace(/\./g, '\\.')}/v0\\.1/servers\\?limit=100 did not return JSON: "<html>`));

    server.routes['/v0.1/servers'] = json({ servers: 'none', metadata: {} });
    const err2 = await source().fetch(ctx()).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/servers\?limit=100 returned a page that is not a v0\.1 server list \(field "servers"/);
  });

  it('stops with an error when the registry repeats a cursor', async () => {
    server = await startFixtureServer({ '/v0.1/servers': json({ servers: realPage().servers, metadata: { nextCursor: 'same' } }) });
    const err = await source().fetch(ctx()).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/returned cursor "same" a second time/);
    expect(server.requests).toHaveLength(2);
  });

  it('times out a silent registry and stops at once when aborted', async () => {
    server = await startFixtureServer({ '/v0.1/servers': { ...json(realPage()), delayMs: 2_000 } });
    const err = await source({ ...fast, timeoutMs: 100, attempts: 2 }).fetch(ctx()).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/failed 2 times \(last: no answer within 100 ms\)/);

    const ac = new AbortController();
    const pending = source({ ...fast, timeoutMs: 5_000 }).fetch(ctx({ signal: ac.signal }));
    setTimeout(() => ac.abort(new Error('refresh cancelled')), 50);
    const started = Date.now();
    await expect(pending).rejects.toThrow('refresh cancelled');
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});

// Guard against a silent mapping change: every entry of a crawl is a valid, normalised Entry with its source.
describe('OfficialSource output', () => {
  it('tags every entry with the source and keeps the official _meta', async () => {
    server = await startFixtureServer(fullCrawlRoutes());
    const res = await source().fetch(ctx());
    for (const e of res.entries as Entry[]) {
      expect(e.sources).toEqual([{ source: 'official', id: e.id, url: expect.stringContaining('/versions/latest') }]);
      expect(e.meta?.[OFFICIAL_META_KEY]).toMatchObject({ status: 'active' });
    }
  });
});
