import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEntry, type Entry } from '../../src/model/entry.js';
import { startHttpServer, type RegistryHttpServer } from '../../src/http/http-server.js';
import { AGGREGATOR_KEY, OFFICIAL_KEY, type EntryFilter } from '../../src/http/server-json-out.js';
import { syntheticEntries } from '../../scripts/synthetic-catalog.mjs';
import { EntryList, get, realCatalog, realMapping, type Fetched } from '../helpers/http-catalog.js';

/**
 * The v0.1 API as clients use it: VS Code's paging (probe, version=latest, unencoded cursors, search dropped on
 * later pages), parameter validation, problem+json errors, routing of encoded names, CORS, a path prefix, policy.
 */

let entries: Entry[];
let srv: RegistryHttpServer;
let base: string;

// Policy of the "approved tools only" kind: hide some entries, deprecate others.
const hidden = (e: Entry) => /postgres|mysql/i.test(e.id) || e.id === 'official/io.github.rghsoftware/linux-filesystem';
const deprecated = (e: Entry) => e.id.startsWith('docker/a');
const policy: EntryFilter = (e) =>
  hidden(e) ? { visible: false, status: 'active' } : deprecated(e) ? { visible: true, status: 'deprecated', statusMessage: 'replaced by the internal build' } : { visible: true, status: 'active' };

const ids = (page: any[]) => page.map((s) => s._meta[AGGREGATOR_KEY]?.id as string);

function expectProblem(r: Fetched, status: number, detail: RegExp) {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.json).toMatchObject({ status, title: expect.any(String) });
  expect(r.json.detail).toMatch(detail);
  // Copilot reads errors from a browser context: CORS on errors too.
  expect(r.headers.get('access-control-allow-origin')).toBe('*');
}

/** Page the way VS Code does: `url + '&cursor=' + cursor`, no encoding, and without `search` after page 1. */
async function vscodePages(first: string, later: string): Promise<{ servers: any[]; pages: number }> {
  const servers: any[] = [];
  let r = await get(first);
  let pages = 1;
  for (;;) {
    expect(r.status).toBe(200);
    expect(r.json.metadata).toBeDefined();
    servers.push(...r.json.servers);
    const c = r.json.metadata.nextCursor;
    if (!c) return { servers, pages };
    expect(c).toMatch(/^[A-Za-z0-9._~:/-]+$|^[A-Za-z0-9_-]+$/);
    r = await get(later + '&cursor=' + c);
    pages++;
  }
}

beforeAll(async () => {
  const real = await realCatalog();
  entries = [...real.merged, ...(syntheticEntries(700, 3) as unknown[]).map((e) => normalizeEntry(e as Entry))];
  srv = await startHttpServer({ catalog: new EntryList(entries), port: 0, mapping: realMapping, filter: policy, accessLog: false, rateLimit: false });
  base = srv.url;
});
afterAll(() => srv?.close());

describe('paging like VS Code', () => {
  it('answers the ?limit=1 discovery probe with one server, its _meta and metadata', async () => {
    const r = await get(`${base}/v0.1/servers?limit=1`, { headers: { Accept: 'application/json' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.json.servers).toHaveLength(1);
    expect(r.json.metadata).toEqual({ count: 1, nextCursor: expect.any(String) });
    expect(r.json.servers[0]._meta[OFFICIAL_KEY]).toBeDefined();
  });

  it('shows every allowed entry exactly once, in (name, version) order, and nothing the policy hides', async () => {
    const { servers, pages } = await vscodePages(`${base}/v0.1/servers?version=latest&limit=50`, `${base}/v0.1/servers?version=latest&limit=50`);
    const allowed = entries.filter((e) => !hidden(e)).map((e) => e.id);
    expect(ids(servers).sort()).toEqual(allowed.sort());
    expect(new Set(ids(servers)).size).toBe(servers.length);
    expect(pages).toBe(Math.floor(allowed.length / 50) + 1);
    const keys = servers.map((s) => [s.server.name, s.server.version]);
    expect(keys).toEqual([...keys].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)));
    expect(entries.filter(hidden).length).toBeGreaterThan(2);
  });

  it('keeps the search of page 1 on later pages although VS Code drops it', async () => {
    const { servers, pages } = await vscodePages(`${base}/v0.1/servers?search=GIT&version=latest&limit=7`, `${base}/v0.1/servers?version=latest&limit=7`);
    expect(pages).toBeGreaterThan(3);
    const hay = (s: any) => `${s.server.name}\n${s.server.title ?? ''}\n${s.server.description}`.toLowerCase();
    for (const s of servers) expect(hay(s)).toContain('git');
    // The same set as filtering the full listing ourselves.
    const { servers: all } = await vscodePages(`${base}/v0.1/servers?limit=100`, `${base}/v0.1/servers?limit=100`);
    expect(ids(servers)).toEqual(ids(all.filter((s) => hay(s).includes('git'))));
  });

  it('finds exactly the servers whose name, title or description contain the text, for short, long and odd texts', async () => {
    const { servers: all } = await vscodePages(`${base}/v0.1/servers?limit=100`, `${base}/v0.1/servers?limit=100`);
    const hay = (s: any) => `${s.server.name}\n${s.server.title ?? ''}\n${s.server.description}`.toLowerCase();
    for (const term of ['g', 'Sq', 'sql', 'server for', 'io.github.docker.mcp-registry/', '…', 'ü', 'no-such-server-anywhere', 'API KEY']) {
      const { servers } = await vscodePages(`${base}/v0.1/servers?limit=100&search=${encodeURIComponent(term)}`, `${base}/v0.1/servers?limit=100`);
      expect(ids(servers), term).toEqual(ids(all.filter((s) => hay(s).includes(term.toLowerCase()))));
    }
  });

  it('ends with an empty page when the last page was exactly full', async () => {
    const all = (await get(`${base}/v0.1/servers?search=notion&limit=100`)).json.servers.length;
    expect(all).toBeGreaterThan(1);
    expect(all).toBeLessThan(100);
    const r1 = await get(`${base}/v0.1/servers?search=notion&limit=${all}`);
    expect(r1.json.metadata.count).toBe(all);
    const r2 = await get(`${base}/v0.1/servers?limit=${all}&cursor=${r1.json.metadata.nextCursor}`);
    expect(r2.json).toEqual({ servers: [], metadata: { count: 0 } });
  });

  it("accepts the official registry's plain name:version cursor", async () => {
    const page = (await get(`${base}/v0.1/servers?limit=12`)).json.servers;
    const c = `${page[9].server.name}:${page[9].server.version}`;
    const next = await get(`${base}/v0.1/servers?limit=2&cursor=${encodeURIComponent(c)}`);
    expect(next.json.servers.map((s: any) => s.server.name)).toEqual([page[10].server.name, page[11].server.name]);
  });

  it('filters by exact version and by version=latest', async () => {
    const notion = await get(`${base}/v0.1/servers?search=com.notion&version=1.0.1`);
    expect(notion.json.servers.map((s: any) => s.server.name)).toEqual(['com.notion/mcp']);
    expect((await get(`${base}/v0.1/servers?search=com.notion&version=9.9.9`)).json.servers).toEqual([]);
    expect((await get(`${base}/v0.1/servers?search=com.notion&version=latest`)).json.servers).toHaveLength(1);
  });
});

describe('parameters and errors', () => {
  it('rejects a limit outside 1..100 or not a number with 422', async () => {
    for (const l of ['0', '101', 'abc', '', '-1', '1.5']) expectProblem(await get(`${base}/v0.1/servers?limit=${l}`), 422, /limit must be a whole number from 1 to 100/);
    expect((await get(`${base}/v0.1/servers?limit=100`)).json.servers).toHaveLength(100);
    expect((await get(`${base}/v0.1/servers`)).json.servers).toHaveLength(30);
  });

  it('rejects a malformed updated_since and the include_deleted=false combination with 400', async () => {
    for (const v of ['yesterday', '2025-09-01', '2025-13-01T00:00:00Z', '2025-02-30T00:00:00Z', '2025-09-01 00:00:00Z']) {
      expectProblem(await get(`${base}/v0.1/servers?updated_since=${encodeURIComponent(v)}`), 400, /RFC 3339/);
    }
    expectProblem(await get(`${base}/v0.1/servers?updated_since=2025-01-01T00:00:00Z&include_deleted=false`), 400, /include_deleted=false cannot be combined/);
    expectProblem(await get(`${base}/v0.1/servers?include_deleted=maybe`), 422, /include_deleted must be true or false/);
    expect((await get(`${base}/v0.1/servers?updated_since=2025-01-01T00:00:00%2B02:00&limit=1`)).status).toBe(200);
  });

  it('rejects a cursor that is neither ours nor name:version with 400', async () => {
    expectProblem(await get(`${base}/v0.1/servers?cursor=%25%25%25`), 400, /cursor is not valid/);
    expectProblem(await get(`${base}/v0.1/servers?cursor=bm90IGpzb24`), 400, /cursor is not valid/);
  });

  it('answers unknown names, versions and paths with 404 problem+json', async () => {
    expectProblem(await get(`${base}/v0.1/servers/com.example%2Fnope/versions/latest`), 404, /no server named "com.example\/nope"/);
    expectProblem(await get(`${base}/v0.1/servers/com.notion%2Fmcp/versions/0.0.1`), 404, /has no version "0.0.1"; available: 1.0.1/);
    expectProblem(await get(`${base}/v0.1/servers/com.notion%2Fmcp/versions/latest/extra`), 404, /expected \/v0.1\/servers\/\{name\}\/versions/);
    expectProblem(await get(`${base}/v0.1/nothing`), 404, /endpoints: \/v0.1\/servers/);
    const v0 = await get(`${base}/v0/servers`);
    expect(v0.status).toBe(404);
    expect(v0.json.detail).toMatch(/v0.1 only/);
  });

  it('hides policy-disabled entries from the detail routes and search too', async () => {
    const pg = entries.find((e) => hidden(e) && e.id.startsWith('docker/'))!;
    const name = `io.github.docker.mcp-registry/${pg.nativeName}`;
    expectProblem(await get(`${base}/v0.1/servers/${encodeURIComponent(name)}/versions/latest`), 404, /no server named/);
    const found = await get(`${base}/v0.1/servers?search=${encodeURIComponent(pg.nativeName)}&limit=100`);
    expect(ids(found.json.servers)).not.toContain(pg.id);
    expectProblem(await get(`${base}/v0.1/servers/io.github.rghsoftware%2Flinux-filesystem/versions/latest`), 404, /no server named/);
  });

  it('serves deprecated entries with the official status "deprecated" and its message', async () => {
    const dep = entries.find((e) => deprecated(e) && !hidden(e))!;
    const r = await get(`${base}/v0.1/servers/${encodeURIComponent(`io.github.docker.mcp-registry/${dep.nativeName}`)}/versions/latest`);
    expect(r.status).toBe(200);
    expect(r.json._meta[OFFICIAL_KEY]).toMatchObject({ status: 'deprecated', statusMessage: 'replaced by the internal build', isLatest: true });
  });
});

describe('routing, CORS and the path prefix', () => {
  it('routes an encoded name (%2F) on the raw path, and the unencoded two-segment form as well', async () => {
    const enc = await get(`${base}/v0.1/servers/com.notion%2Fmcp/versions/latest`);
    expect(enc.status).toBe(200);
    expect(enc.json.server).toMatchObject({ name: 'com.notion/mcp', version: '1.0.1' });
    expect(enc.json._meta[OFFICIAL_KEY].isLatest).toBe(true);
    expect((await get(`${base}/v0.1/servers/com.notion/mcp/versions/latest`)).json).toEqual(enc.json);
    expect((await get(`${base}/v0.1/servers/com.notion%2Fmcp/versions/1.0.1`)).json).toEqual(enc.json);
    expect((await get(`${base}/v0.1/servers/com.notion%2fmcp/versions/1%2E0%2E1`)).json).toEqual(enc.json);
    const versions = await get(`${base}/v0.1/servers/com.notion%2Fmcp/versions`);
    expect(versions.json).toEqual({ servers: [enc.json], metadata: { count: 1 } });
    expectProblem(await get(`${base}/v0.1/servers/com.notion%ZZmcp/versions`), 400, /percent-encoding/);
  });

  it('answers the CORS preflight with 204 and the headers Copilot needs; refuses writes', async () => {
    const pre = await fetch(`${base}/v0.1/servers?limit=1`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://github.com', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, OPTIONS');
    expect(pre.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type');
    expect((await fetch(`${base}/v0.1/servers/com.notion%2Fmcp/versions/latest`, { method: 'OPTIONS' })).status).toBe(204);
    const del = await get(`${base}/v0.1/servers/com.notion%2Fmcp/versions/latest`, { method: 'DELETE' });
    expectProblem(del, 405, /read-only/);
    expect(del.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expectProblem(await get(`${base}/v0.1/publish`, { method: 'POST', body: '{}' }), 501, /publishing is not supported/);
  });

  it('serves health and version', async () => {
    const h = await get(`${base}/v0.1/health`);
    expect(h.json).toEqual({ status: 'ok', servers: entries.filter((e) => !hidden(e)).length });
    const v = await get(`${base}/v0.1/version`);
    expect(v.json).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), git_commit: expect.any(String), build_time: expect.any(String) });
  });

  it('works behind a path prefix, and without it', async () => {
    const s = await startHttpServer({ catalog: new EntryList(entries.slice(0, 40)), port: 0, basePath: '/registry/', accessLog: false, rateLimit: false });
    try {
      const a = await get(`${s.url}/registry/v0.1/servers?limit=1`);
      const b = await get(`${s.url}/v0.1/servers?limit=1`);
      expect(a.status).toBe(200);
      expect(a.json).toEqual(b.json);
      const enc = await get(`${s.url}/registry/v0.1/servers/${encodeURIComponent(a.json.servers[0].server.name)}/versions/latest`);
      expect(enc.json.server.name).toBe(a.json.servers[0].server.name);
      for (const p of ['/registry/', '/registry', '/']) {
        const page = await get(s.url + p);
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toMatch(/^text\/html/);
        expect(page.headers.get('content-security-policy')).toMatch(/script-src 'sha256-/);
      }
    } finally {
      await s.close();
    }
    await expect(startHttpServer({ catalog: new EntryList([]), port: 0, basePath: '/bad path?' })).rejects.toThrow(/base path/);
  });
});
