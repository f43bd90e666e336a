import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEntry, type Entry } from '../../src/model/entry.js';
import { startHttpServer, type RegistryHttpServer } from '../../src/http/http-server.js';
import { OFFICIAL_KEY } from '../../src/http/server-json-out.js';
import { EntryList, get } from '../helpers/http-catalog.js';

/**
 * Issue 15 (versions): `/v0.1/servers/{name}/versions` lists every version the entry's source lists
 * (entry.versions), newest first by semver, each served at `/versions/{v}` with its own package; only the latest is
 * `isLatest`, and the list endpoint's `version=latest` keeps one row per server.
 */

const pkg = (version: string) => ({ type: 'package', registryType: 'npm', identifier: '@example/weather', version, transport: { type: 'stdio' } });
const weather = normalizeEntry({
  id: 'internal/com.example/weather',
  nativeName: 'com.example/weather',
  name: 'weather',
  description: 'Weather forecasts.',
  version: '1.10.0',
  sources: [{ source: 'internal', id: 'com.example/weather' }],
  launch: [pkg('1.10.0')],
  versions: [
    { version: '1.10.0', releasedAt: '2026-03-01T00:00:00Z', launch: [pkg('1.10.0')] },
    { version: '1.9.9', releasedAt: '2026-02-01T00:00:00Z', launch: [pkg('1.9.9')] },
    { version: '1.2.0', releasedAt: '2025-06-01T00:00:00Z', status: 'deprecated', launch: [pkg('1.2.0')] },
    { version: '0.9.0', status: 'deleted', launch: [pkg('0.9.0')] },
  ],
} as unknown as Entry);
const single = normalizeEntry({ id: 'internal/com.example/clock', nativeName: 'com.example/clock', name: 'clock', description: 'Tells the time.', version: '2.0.0', sources: [{ source: 'internal', id: 'com.example/clock' }], launch: [] } as unknown as Entry);

let srv: RegistryHttpServer;
const NAME = encodeURIComponent('com.example/weather');

beforeAll(async () => {
  srv = await startHttpServer({ catalog: new EntryList([weather, single]), port: 0, accessLog: false, rateLimit: false });
});
afterAll(() => srv?.close());

describe('every listed version served (issue 15)', () => {
  it('lists 1.10.0, 1.9.9 and 1.2.0 newest first by semver, not the deleted one; only 1.10.0 is latest', async () => {
    const r = await get(`${srv.url}/v0.1/servers/${NAME}/versions`);
    expect(r.status).toBe(200);
    expect(r.json.servers.map((s: any) => s.server.version)).toEqual(['1.10.0', '1.9.9', '1.2.0']);
    expect(r.json.metadata.count).toBe(3);
    expect(r.json.servers.map((s: any) => s._meta[OFFICIAL_KEY].isLatest)).toEqual([true, false, false]);
    expect(r.json.servers[2]._meta[OFFICIAL_KEY]).toMatchObject({ status: 'deprecated', publishedAt: '2025-06-01T00:00:00Z' });
  });

  it('serves each version with its own package at /versions/{v}, and 404 for one it does not list', async () => {
    const old = await get(`${srv.url}/v0.1/servers/${NAME}/versions/1.2.0`);
    expect(old.status).toBe(200);
    expect(old.json.server.version).toBe('1.2.0');
    expect(old.json.server.packages[0]).toMatchObject({ registryType: 'npm', identifier: '@example/weather', version: '1.2.0' });
    const latest = await get(`${srv.url}/v0.1/servers/${NAME}/versions/latest`);
    expect(latest.json.server.version).toBe('1.10.0');
    const gone = await get(`${srv.url}/v0.1/servers/${NAME}/versions/0.9.0`);
    expect(gone.status).toBe(404);
    expect(gone.json.detail).toContain('available: 1.10.0, 1.9.9, 1.2.0');
  });

  it('the list shows every version, and version=latest one row per server', async () => {
    const all = await get(`${srv.url}/v0.1/servers?limit=100`);
    expect(all.json.servers.map((s: any) => `${s.server.name}@${s.server.version}`)).toEqual(['com.example/clock@2.0.0', 'com.example/weather@1.10.0', 'com.example/weather@1.2.0', 'com.example/weather@1.9.9']);
    const latest = await get(`${srv.url}/v0.1/servers?limit=100&version=latest`);
    expect(latest.json.servers.map((s: any) => `${s.server.name}@${s.server.version}`)).toEqual(['com.example/clock@2.0.0', 'com.example/weather@1.10.0']);
  });
});
