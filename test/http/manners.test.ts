import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog } from '../../src/catalog/catalog.js';
import { parseConfig } from '../../src/config/config.js';
import { createSource } from '../../src/sources/index.js';
import type { Entry } from '../../src/model/entry.js';
import { startHttpServer, type RegistryHttpServer } from '../../src/http/http-server.js';
import { OFFICIAL_KEY } from '../../src/http/server-json-out.js';
import { EntryList, get, realCatalog, realMapping } from '../helpers/http-catalog.js';
import { sharedData } from '../helpers/shared-data.js';

/** Production manners: conditional requests, compression, rate limits, request ids and logs, shutdown, freshness. */

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request that shows the bytes on the wire (fetch would decompress silently). */
function raw(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

let entries: Entry[];
beforeAll(async () => {
  entries = (await realCatalog()).merged;
});

describe('caching and compression', () => {
  let srv: RegistryHttpServer;
  let list: EntryList;
  let stampsDir: string;
  beforeEach(async () => {
    stampsDir = await mkdtemp(join(tmpdir(), 'http-etag-'));
    list = new EntryList(entries);
    srv = await startHttpServer({ catalog: list, port: 0, mapping: realMapping, accessLog: false, rateLimit: false, maxAge: 120 });
  });
  afterEach(async () => {
    await srv.close();
    await rm(stampsDir, { recursive: true, force: true });
  });

  it('sends a strong ETag and Cache-Control, answers If-None-Match with 304, and a new ETag once the content changes', async () => {
    const url = `${srv.url}/v0.1/servers?limit=100`;
    const first = await raw(url);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{20,}"$/);
    expect(first.headers['cache-control']).toBe('public, max-age=120');
    const again = await raw(url, { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.etag).toBe(etag);
    expect(again.headers['access-control-allow-origin']).toBe('*');
    expect((await raw(url, { 'If-None-Match': `"other", W/${etag}` })).status).toBe(304);
    // Same bytes → same tag, also after a restart that keeps its timestamps (strong: derived from the content).
    expect((await raw(url)).headers.etag).toBe(etag);
    const tagAfterStart = async () => {
      const s = await startHttpServer({ catalog: new EntryList(entries), port: 0, mapping: realMapping, accessLog: false, rateLimit: false, cacheDir: stampsDir });
      try {
        return (await raw(`${s.url}/v0.1/servers?limit=100`)).headers.etag;
      } finally {
        await s.close();
      }
    };
    expect(await tagAfterStart()).toBe(await tagAfterStart());

    const changed = structuredClone(entries);
    const target = changed.sort((a, b) => (a.id < b.id ? -1 : 1)).find((e) => e.id.startsWith('docker/'))!;
    target.description = 'A new description after a refresh';
    list.replace(changed);
    await srv.rebuild();
    const after = await raw(url, { 'If-None-Match': etag });
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(etag);
    expect(after.body.toString()).toContain('A new description after a refresh');
    // Errors are never cached.
    expect((await raw(`${srv.url}/v0.1/servers?limit=0`)).headers['cache-control']).toBe('no-store');
  });

  it('compresses with gzip when the client accepts it, with the same content', async () => {
    const url = `${srv.url}/v0.1/servers?limit=100`;
    const plain = await raw(url);
    const gz = await raw(url, { 'Accept-Encoding': 'br, gzip;q=0.8' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('Accept-Encoding');
    expect(gz.body.length).toBeLessThan(plain.body.length / 3);
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    expect(gz.headers.etag).not.toBe(plain.headers.etag);
    expect((await raw(url, { 'Accept-Encoding': 'gzip', 'If-None-Match': gz.headers.etag as string })).status).toBe(304);
    expect((await raw(url, { 'Accept-Encoding': 'gzip;q=0' })).headers['content-encoding']).toBeUndefined();
    const head = await raw(url, { 'Accept-Encoding': 'gzip' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(gz.body.length);
  });
});

describe('request ids, access log and rate limit', () => {
  it('gives every response a request id and writes one access-log line per request', async () => {
    const lines: string[] = [];
    const srv = await startHttpServer({ catalog: new EntryList(entries), port: 0, accessLog: (t) => lines.push(...t.trimEnd().split('\n')), rateLimit: false });
    try {
      const a = await raw(`${srv.url}/v0.1/servers?limit=2`, { 'User-Agent': 'vscode-test' });
      const b = await raw(`${srv.url}/v0.1/servers/x%2Fy/versions/latest`, { 'X-Request-Id': 'client-chosen-1' });
      const c = await raw(`${srv.url}/v0.1/servers?limit=2`, { 'X-Request-Id': 'bad id with spaces' });
      expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(b.headers['x-request-id']).toBe('client-chosen-1');
      expect(c.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      await new Promise((r) => setTimeout(r, 20));
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(new RegExp(`"GET /v0.1/servers\\?limit=2" 200 \\d+B [\\d.]+ms id=${a.headers['x-request-id']} ua="vscode-test"$`));
      expect(lines[1]).toContain('404');
      expect(lines[1]).toContain('id=client-chosen-1');
    } finally {
      await srv.close();
    }
  });

  it('limits each client with a token bucket: 429 problem+json with Retry-After, health exempt', async () => {
    const srv = await startHttpServer({ catalog: new EntryList(entries.slice(0, 5)), port: 0, accessLog: false, rateLimit: { perSecond: 0.5, burst: 3 } });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await get(`${srv.url}/v0.1/servers?limit=1`)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await get(`${srv.url}/v0.1/servers?limit=1`);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(limited.headers.get('retry-after')).toBe('2');
      expect(limited.headers.get('access-control-allow-origin')).toBe('*');
      expect(limited.json.detail).toMatch(/too many requests/);
      expect((await get(`${srv.url}/v0.1/health`)).status).toBe(200);
    } finally {
      await srv.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('stops accepting connections but finishes a request already in flight', async () => {
    const srv = await startHttpServer({ catalog: new EntryList(entries.slice(0, 5)), port: 0, accessLog: false, rateLimit: false });
    const { port } = new URL(srv.url);
    const sock = connect(Number(port), '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let received = '';
    sock.on('data', (d) => (received += d.toString()));
    const ended = new Promise((r) => sock.once('close', r));
    // Half a request: in flight when the shutdown starts.
    sock.write('GET /v0.1/servers?limit=1 HTTP/1.1\r\nHost: x\r\n');
    // Long enough for the server to have read the partial request, even on a busy machine.
    await new Promise((r) => setTimeout(r, 200));
    const closed = srv.close(5_000);
    await new Promise((r) => setTimeout(r, 50));
    await expect(fetch(`${srv.url}/v0.1/health`)).rejects.toThrow();
    sock.write('Accept: application/json\r\n\r\n');
    await ended;
    await closed;
    expect(received).toMatch(/^HTTP\/1.1 200 OK/);
    expect(received).toMatch(/connection: close/i);
    expect(received).toContain('"servers":[');
  });
});

describe('updated_since after a refresh (real catalog, file source)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'http-updated-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('returns exactly what changed, appeared or disappeared after the refresh, across restarts too', async () => {
    const page = JSON.parse(await readFile(sharedData('official-registry/list-page.json'), 'utf8'));
    const mine = (name: string, description: string) => ({ server: { name, description, version: '1.0.0', remotes: [{ type: 'streamable-http', url: `https://${name.split('/')[1]}.example.com/mcp` }] } });
    const file = join(dir, 'catalog.json');
    const servers = [...page.servers, mine('com.example/weather', 'Weather'), mine('com.example/notes', 'Notes')];
    await writeFile(file, JSON.stringify({ servers }));
    const cfg = parseConfig({ sources: [{ name: 'internal', type: 'file', path: file }], refresh: { cooldown: 0 } }, dir);
    const catalog = new Catalog(cfg, join(dir, 'cache'), join(dir, 'sources'), createSource);
    await catalog.load();
    await catalog.refresh({ force: true });
    const opts = { catalog, port: 0, cacheDir: join(dir, 'cache'), accessLog: false as const, rateLimit: false as const, mapping: { serverJsonSources: new Set(['internal']) } };
    let srv = await startHttpServer(opts);
    try {
      const before = (await get(`${srv.url}/v0.1/servers`)).json.servers;
      expect(before).toHaveLength(6);
      // The official registry's own dates are kept for its entries.
      const notion = before.find((s: any) => s.server.name === 'com.notion/mcp');
      expect(notion._meta[OFFICIAL_KEY].updatedAt).toBe(page.servers[0]._meta[OFFICIAL_KEY].updatedAt);
      await new Promise((r) => setTimeout(r, 5));
      const t = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      expect((await get(`${srv.url}/v0.1/servers?updated_since=${t}`)).json.servers).toEqual([]);

      // The catalog changes: one description edited, one server removed, one added, one untouched.
      servers[4] = mine('com.example/weather', 'Weather forecasts, now hourly');
      servers.splice(5, 1);
      servers.push(mine('com.example/calendar', 'Calendars'));
      await writeFile(file, JSON.stringify({ servers }));
      await catalog.refresh({ force: true });
      await srv.rebuild();

      const since = await get(`${srv.url}/v0.1/servers?updated_since=${t}`);
      const got = since.json.servers.map((s: any) => [s.server.name, s._meta[OFFICIAL_KEY].status]);
      expect(got).toEqual([
        ['com.example/calendar', 'active'],
        ['com.example/notes', 'deleted'],
        ['com.example/weather', 'active'],
      ]);
      for (const s of since.json.servers) expect(Date.parse(s._meta[OFFICIAL_KEY].updatedAt)).toBeGreaterThan(Date.parse(t));
      // The removed one is gone from ordinary listings and detail routes, and listed with include_deleted.
      expect((await get(`${srv.url}/v0.1/servers`)).json.servers.map((s: any) => s.server.name)).not.toContain('com.example/notes');
      expect((await get(`${srv.url}/v0.1/servers/com.example%2Fnotes/versions/latest`)).json.detail).toMatch(/was removed/);
      expect((await get(`${srv.url}/v0.1/servers?include_deleted=true&search=notes`)).json.servers).toHaveLength(1);

      // A restart keeps the timestamps (they live in the cache directory).
      await srv.close();
      srv = await startHttpServer(opts);
      const again = await get(`${srv.url}/v0.1/servers?updated_since=${t}`);
      expect(again.json).toEqual(since.json);
    } finally {
      await srv.close();
    }
  });
});
