import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeHome } from '../helpers/registry-client.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-http.js';
import { dbName, postgresUnavailable, requirePostgres, startCluster, type Cluster } from '../helpers/postgres.js';
import { createKey, startServeHttp, waitFor, type ServeHttp } from '../helpers/serve-http.js';

/**
 * Two `mcp-registry serve-http` processes (the built CLI) on one real PostgreSQL (a throw-away cluster of this file,
 * a database per test): what one replica is told, the other serves; one replica refreshes the sources; a refresher
 * killed in the middle of a refresh leaves the served catalog whole, and the other replica takes over and finishes.
 */

const OFFICIAL = 'io.modelcontextprotocol.registry/official';

function row(name: string) {
  const at = '2026-11-01T10:00:00Z';
  return {
    server: { name, description: `The ${name} server.`, version: '1.0.0', remotes: [{ type: 'streamable-http', url: `https://${name.split('/')[1]}.example.com/mcp` }] },
    _meta: { [OFFICIAL]: { status: 'active', publishedAt: at, updatedAt: at, statusChangedAt: at, isLatest: true } },
  };
}
const page = (names: string[], nextCursor?: string) => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ servers: names.map(row), metadata: { count: names.length, ...(nextCursor ? { nextCursor } : {}) } }),
});

function published(name: string, version = '1.0.0') {
  return { name, description: `Published ${name}.`, version, remotes: [{ type: 'streamable-http', url: `https://${name.split('/')[1]}.internal.example.com/mcp` }] };
}

const names = async (url: string) => {
  const res = await fetch(`${url}/v0.1/servers?limit=100`);
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return ((await res.json()) as { servers: { server: { name: string } }[] }).servers.map((s) => s.server.name).sort();
};

describe('serve-http replicas on one PostgreSQL', () => {
  let pg: Cluster;
  let upstream: FixtureServer;
  const running: ServeHttp[] = [];

  beforeAll(async () => {
    if (await postgresUnavailable()) return; // each test says so (requirePostgres), and fails in CI
    pg = await startCluster();
    upstream = await startFixtureServer();
  });
  afterAll(async () => {
    await upstream?.close();
    await pg?.stop();
  });
  beforeEach(() => async () => {
    for (const s of running.splice(0)) await s.stop();
  });

  async function homeFor(db: string) {
    return makeHome({
      sources: [
        { name: 'upstream', type: 'official', url: upstream.url },
        { name: 'internal', type: 'managed' },
      ],
      refresh: { cooldown: 0 },
      database: { url: db, leaderPoll: '300ms' },
      http: { health: { enabled: false } },
    });
  }
  async function replica(home: string) {
    const s = await startServeHttp(home);
    running.push(s);
    return s;
  }
  /** A fresh database, replica A (the refresher: it starts first), then replica B; both serving upstream's two. */
  async function twoReplicas(prefix: string) {
    upstream.routes['/v0.1/servers'] = page(['io.github.acme/alpha', 'io.github.acme/beta']);
    const db = await pg.createDatabase(dbName(prefix));
    const homeA = await homeFor(db);
    const a = await replica(homeA);
    await a.waitLog(/this replica refreshes the sources now/);
    const b = await replica(await homeFor(db));
    await waitFor('both replicas to serve the upstream catalog', async () => ((await names(a.url)).length === 2 && (await names(b.url)).length === 2 ? true : undefined));
    return { db, homeA, a, b };
  }

  it('an entry published on one replica is served by the other within a second; only one refreshes; ETags and cursors agree', async ({ skip, task }) => {
    await requirePostgres({ skip, task });
    const { homeA, a, b } = await twoReplicas('pub');

    // A key made against one home lives in the database: the other replica accepts it too.
    const key = await createKey(homeA, 'publish');
    const t0 = performance.now();
    const res = await fetch(`${a.url}/v1/entries`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(published('com.acme/internal-tool')) });
    expect(res.status).toBe(201);
    await waitFor('the publish to reach replica B', async () => ((await names(b.url)).includes('com.acme/internal-tool') ? true : undefined), 10_000, 20);
    const visibleMs = performance.now() - t0;
    // The issue asks for p99 <= 1 s (measured by the bench); one sample on a shared machine gets some slack.
    expect(visibleMs).toBeLessThan(2_000);

    const onB = await fetch(`${b.url}/v1/entries`, { headers: { authorization: `Bearer ${key}` } });
    expect(onB.status).toBe(200);

    // The same answer, validator and cursor whichever replica answers.
    const [ra, rb] = await Promise.all([fetch(`${a.url}/v0.1/servers?limit=1`), fetch(`${b.url}/v0.1/servers?limit=1`)]);
    const [ja, jb] = (await Promise.all([ra.json(), rb.json()])) as { metadata: { nextCursor?: string } }[];
    expect(ra.headers.get('etag')).toBeTruthy();
    expect(rb.headers.get('etag')).toBe(ra.headers.get('etag'));
    expect(jb).toEqual(ja);
    expect(ja!.metadata.nextCursor).toBeTruthy();

    // What a load balancer asks: both ready, on the database, one of them the refresher.
    const probes = (await Promise.all([a, b].map(async (r) => (await fetch(`${r.url}/readyz`)).json()))) as { status: string; database: string; refresher: boolean }[];
    expect(probes.map((p) => [p.status, p.database])).toEqual([['ok', 'up'], ['ok', 'up']]);
    expect(probes.map((p) => p.refresher)).toEqual([true, false]);

    // Only A refreshed the upstream source.
    expect(a.log()).toMatch(/refreshing source upstream/);
    expect(b.log()).not.toMatch(/refreshing source upstream/);
    expect(b.log()).not.toMatch(/this replica refreshes the sources now/);
  });

  it('killing the refresher mid-refresh leaves the served catalog whole; the other replica takes over and finishes it', async ({ skip, task }) => {
    await requirePostgres({ skip, task });
    const { db, homeA, a, b } = await twoReplicas('kill');
    const before = await names(b.url);

    // The next crawl: page 1 answers with new servers, page 2 hangs (the refresher is mid-refresh when killed).
    let page2Asked!: () => void;
    const page2 = new Promise<void>((r) => (page2Asked = r));
    let release!: () => void;
    const hang = new Promise<void>((r) => (release = r));
    upstream.routes['/v0.1/servers'] = async (req) => {
      if (req.query.get('cursor') === 'p2') {
        page2Asked();
        await hang;
        return page(['io.github.acme/epsilon']);
      }
      return page(['io.github.acme/gamma', 'io.github.acme/delta'], 'p2');
    };
    const admin = await createKey(homeA, 'admin');
    expect((await fetch(`${a.url}/v1/refresh?source=upstream`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } })).status).toBe(202);
    await page2;
    await a.kill();
    running.splice(running.indexOf(a), 1);

    // B still serves the last complete catalog: nothing of the half-read crawl.
    expect(await names(b.url)).toEqual(before);

    // Upstream answers again; B becomes the refresher and redoes the refresh A never finished.
    upstream.routes['/v0.1/servers'] = page(['io.github.acme/gamma', 'io.github.acme/delta', 'io.github.acme/epsilon']);
    release();
    await b.waitLog(/this replica refreshes the sources now/, 20_000);
    const after = await waitFor('B to serve the finished refresh', async () => {
      const n = await names(b.url);
      return n.includes('io.github.acme/epsilon') ? n : undefined;
    }, 30_000, 100);
    expect(after).toEqual(['io.github.acme/delta', 'io.github.acme/epsilon', 'io.github.acme/gamma']);
    expect(b.log()).toMatch(/source upstream: its last refresh \(.*\) never finished; refreshing it again/);

    // And a replica started now sees the same whole catalog from the database.
    const c = await replica(await homeFor(db));
    expect(await waitFor('C to serve the catalog', async () => ((await names(c.url)).length === 3 ? names(c.url) : undefined))).toEqual(after);
  });

  it('a replica that loses the database answers from its last good view with a Warning header, and recovers', async ({ skip, task }) => {
    await requirePostgres({ skip, task });
    upstream.routes['/v0.1/servers'] = page(['io.github.acme/alpha', 'io.github.acme/beta']);
    const db = await pg.createDatabase(dbName('outage'));
    const a = await replica(await homeFor(db));
    await waitFor('A to serve the upstream catalog', async () => ((await names(a.url)).length === 2 ? true : undefined));
    const etag = (await fetch(`${a.url}/v0.1/servers?limit=100`)).headers.get('etag');

    await pg.pause();
    try {
      const res = await waitFor('the Warning header', async () => {
        const r = await fetch(`${a.url}/v0.1/servers?limit=100`);
        return r.headers.get('warning') ? r : (await r.arrayBuffer(), undefined);
      }, 30_000, 200);
      expect(res.status).toBe(200);
      expect(res.headers.get('warning')).toMatch(/^199 mcp-registry "the database is unavailable since .*: serving the last good view"$/);
      expect(res.headers.get('etag')).toBe(etag);
      expect(((await res.json()) as { servers: unknown[] }).servers).toHaveLength(2);
      expect(((await (await fetch(`${a.url}/readyz`)).json()) as { status: string; database: string })).toMatchObject({ status: 'ok', database: 'down' });
    } finally {
      await pg.resume();
    }
    await waitFor('the database to be back', async () => ((await fetch(`${a.url}/v0.1/servers?limit=100`)).headers.get('warning') === null ? true : undefined), 60_000, 250);
    expect(a.log()).toMatch(/is reachable again/);
  });
});
