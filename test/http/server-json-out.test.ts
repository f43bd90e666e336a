import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEntry, type Entry } from '../../src/model/entry.js';
import { startHttpServer, type RegistryHttpServer } from '../../src/http/http-server.js';
import { AGGREGATOR_KEY, OFFICIAL_KEY, fullImageRef, sourceNamespace } from '../../src/http/server-json-out.js';
import { syntheticEntries } from '../../scripts/synthetic-catalog.mjs';
import { EntryList, get, realCatalog, realMapping, type RealCatalog } from '../helpers/http-catalog.js';
import { sharedData } from '../helpers/shared-data.js';

const addFormats = addFormatsModule as unknown as (a: Ajv) => Ajv;
let validate: ValidateFunction;
let real: RealCatalog;
let srv: RegistryHttpServer;
let served: any[];

/** Every server of the catalog, paged through the API with the largest page. */
async function pageAll(base: string, extra = ''): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const r = await get(`${base}/v0.1/servers?limit=100${extra}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status).toBe(200);
    out.push(...r.json.servers);
    cursor = r.json.metadata.nextCursor;
    if (!cursor) return out;
  }
  throw new Error('paging did not end');
}

function schemaErrors(server: unknown): string {
  return validate(server) ? '' : JSON.stringify(validate.errors?.slice(0, 3));
}

beforeAll(async () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  validate = ajv.compile(JSON.parse(readFileSync(sharedData('official-registry/server.schema.2025-12-11.json'), 'utf8')));
  real = await realCatalog();
  srv = await startHttpServer({
    catalog: new EntryList(real.merged),
    port: 0,
    mapping: { ...realMapping, trust: (e) => ({ status: e.id.startsWith('docker/') ? 'reviewed' : 'unreviewed' }) },
    accessLog: false,
    rateLimit: false,
  });
  served = await pageAll(srv.url);
});
afterAll(() => srv?.close());

describe('every served server.json is valid against the official schema (2025-12-11)', () => {
  it('holds for the whole real catalog (Docker registry + official registry page, merged)', () => {
    expect(served).toHaveLength(real.merged.length);
    const bad = served.map((s) => [s.server.name, schemaErrors(s.server)]).filter(([, e]) => e);
    expect(bad).toEqual([]);
    for (const s of served) {
      // VS Code rejects a page whose entries lack these.
      for (const k of ['name', 'description', 'version'] as const) expect(typeof s.server[k] === 'string' && s.server[k].length > 0).toBe(true);
      expect(s.server.version).not.toBe('latest');
      expect(s._meta[OFFICIAL_KEY]).toMatchObject({ status: 'active', isLatest: true });
      for (const k of ['publishedAt', 'updatedAt', 'statusChangedAt']) expect(Number.isFinite(Date.parse(s._meta[OFFICIAL_KEY][k]))).toBe(true);
    }
    expect(new Set(served.map((s) => s.server.name)).size).toBe(served.length);
  });

  it('holds for entries with awkward fields (ranges, "latest", long text, odd names, plain-http icons)', async () => {
    const odd = [
      { id: 'docker/Weird Name!!', nativeName: 'Weird Name!!', name: 'x'.repeat(300), description: 'd'.repeat(5000), version: 'latest', icon: 'http://example.com/i.png', website: 'not a url' },
      { id: 'docker/ranged', nativeName: 'ranged', name: 'Ranged', description: '', version: '^1.2.3', repository: 'https://github.com/o/r/sub/dir' },
      { id: 'mcpservers/owner/repo', nativeName: 'owner/repo', name: 'Repo', description: 'emoji 😀'.repeat(30) },
      { id: 'docker/' + 'n'.repeat(250), nativeName: 'n'.repeat(250), name: 'Long', description: 'long name' },
    ].map((e) =>
      normalizeEntry({
        ...e,
        sources: [{ source: e.id.split('/')[0]!, id: e.id }],
        launch: [
          { type: 'image', image: 'ghcr.io/o/img', env: { FIXED: '1', FROM_SETTING: '{{ranged.path}}' } },
          { type: 'remote', url: 'https://x.example/mcp', transport: 'sse', headers: [{ name: 'Authorization', value: 'Bearer ${TOKEN}', secret: true }, { name: 'X-Plain', value: 'v' }] },
          { type: 'remote', url: 'not-a-url', transport: 'sse' },
          { type: 'package', registryType: 'npm', identifier: '@o/pkg', version: '>=1', transport: { type: 'stdio' }, fileSha256: 'nothex' },
        ],
        config: {
          secrets: [{ name: 'ranged.token', env: 'TOKEN', description: 'API token' }],
          env: [{ name: 'FROM_SETTING', value: '{{ranged.path}}' }],
          parameters: { type: 'object', properties: { path: { type: 'integer', enum: [1, 2], default: 1 } }, required: ['path'] },
        },
      }),
    );
    const s = await startHttpServer({ catalog: new EntryList(odd), port: 0, mapping: realMapping, accessLog: false, rateLimit: false });
    try {
      const all = await pageAll(s.url);
      expect(all).toHaveLength(4);
      expect(all.map((x) => [x.server.name, schemaErrors(x.server)]).filter(([, e]) => e)).toEqual([]);
      const weird = all.find((x) => x._meta[AGGREGATOR_KEY].id === 'docker/Weird Name!!').server;
      expect(weird.name).toBe('io.github.docker.mcp-registry/Weird.Name');
      expect(weird.description).toHaveLength(100);
      expect(weird.description.endsWith('…')).toBe(true);
      expect(weird.version).toMatch(/^0\.0\.0-\d{14}$/);
      expect(weird.icons).toBeUndefined();
      expect(weird.websiteUrl).toBeUndefined();
      const pkg = weird.packages.find((p: any) => p.registryType === 'oci');
      expect(pkg.identifier).toBe('ghcr.io/o/img:latest');
      expect(pkg.environmentVariables).toEqual(
        expect.arrayContaining([
          { name: 'TOKEN', isSecret: true, isRequired: true, description: 'API token' },
          { name: 'FIXED', value: '1' },
          expect.objectContaining({ name: 'FROM_SETTING', isRequired: true, format: 'number', default: '1', choices: ['1', '2'] }),
        ]),
      );
      expect(weird.remotes).toHaveLength(1);
      expect(weird.remotes[0].headers[0]).toEqual({ name: 'Authorization', isSecret: true, value: 'Bearer {TOKEN}', variables: { TOKEN: { isRequired: true, isSecret: true, description: 'API token' } } });
      const npm = weird.packages.find((p: any) => p.registryType === 'npm');
      expect(npm.version).toBeUndefined();
      expect(npm.fileSha256).toBeUndefined();
      const ranged = all.find((x) => x._meta[AGGREGATOR_KEY].id === 'docker/ranged').server;
      expect(ranged.version).toMatch(/^0\.0\.0-/);
      expect(ranged.repository).toEqual({ url: 'https://github.com/o/r', source: 'github', subfolder: 'sub/dir' });
      expect(all.find((x) => x._meta[AGGREGATOR_KEY].id === 'mcpservers/owner/repo').server.name).toBe('org.mcpservers/owner.repo');
      expect(all.find((x) => x.server.name.includes('nnnn')).server.name.length).toBeLessThanOrEqual(200);
    } finally {
      await s.close();
    }
  });

  it('holds for 2,000 synthetic mcpservers-shaped entries', async () => {
    const entries = (syntheticEntries(2000, 7) as unknown[]).map((e) => normalizeEntry(e as Entry));
    const s = await startHttpServer({ catalog: new EntryList(entries), port: 0, mapping: realMapping, accessLog: false, rateLimit: false });
    try {
      const all = await pageAll(s.url);
      expect(all).toHaveLength(2000);
      expect(all.map((x) => [x.server.name, schemaErrors(x.server)]).filter(([, e]) => e)).toEqual([]);
      expect(all[0].server.name.startsWith('org.mcpservers/')).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('mapping of the real entries', () => {
  const byId = (id: string) => {
    const s = served.find((x) => x._meta[AGGREGATOR_KEY].id === id || x._meta[AGGREGATOR_KEY].aliases?.includes(id));
    if (!s) throw new Error(`${id} is not served`);
    return s;
  };

  it('official entries keep their names; others get the documented reverse-DNS name of their source', () => {
    for (const e of real.official) expect(byId(e.id).server.name).toBe(e.nativeName);
    expect(sourceNamespace({ name: 'docker', url: 'https://github.com/docker/mcp-registry.git' })).toBe('io.github.docker.mcp-registry');
    expect(sourceNamespace({ name: 'mcpservers', url: 'https://mcpservers.org' })).toBe('org.mcpservers');
    expect(sourceNamespace({ name: 'internal', type: 'file' })).toBe('local.internal');
    expect(sourceNamespace({ name: 'corp', type: 'docker', url: 'https://git.corp.example.com/platform/mcp-registry.git' })).toBe('com.example.corp.git');
    // A mirror or bundle of a public catalog keeps that catalog's names.
    expect(sourceNamespace({ name: 'docker', type: 'docker', url: '/srv/mirrors/docker-mcp-registry.bundle' })).toBe('io.github.docker.mcp-registry');
    expect(sourceNamespace({ name: 'm', type: 'mcpservers', url: 'http://127.0.0.1:8080' })).toBe('org.mcpservers');
    const sqlite = byId('docker/SQLite');
    expect(sqlite.server.name).toBe('io.github.docker.mcp-registry/SQLite');
  });

  it('serves official entries the way the official registry published them (packages, remotes, inputs)', async () => {
    const page = JSON.parse(readFileSync(sharedData('official-registry/list-page.json'), 'utf8')) as { servers: { server: any }[] };
    // Inputs compare by name and meaning (false flags are the defaults; order is not significant).
    const inputs = (list: any[] | undefined) =>
      (list ?? [])
        .map((v) => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== false)))
        .sort((a: any, b: any) => (a.name < b.name ? -1 : 1));
    for (const { server: orig } of page.servers) {
      const got = served.find((x) => x.server.name === orig.name).server;
      expect(got.version).toBe(orig.version);
      expect(got.remotes?.map((r: any) => ({ ...r, headers: inputs(r.headers) }))).toEqual(orig.remotes?.map((r: any) => ({ ...r, headers: inputs(r.headers) })));
      expect(got.packages?.length).toBe(orig.packages?.length);
      for (const [i, p] of (orig.packages ?? []).entries()) {
        const { environmentVariables, ...rest } = got.packages[i];
        expect({ ...rest, environmentVariables: inputs(environmentVariables) }).toEqual({ ...p, environmentVariables: inputs(p.environmentVariables) });
      }
    }
  });

  it('turns image launches into OCI packages with the full image reference and their inputs', () => {
    for (const e of real.docker) {
      const img = e.launch.find((l) => l.type === 'image');
      if (!img || img.type !== 'image') continue;
      const pkg = byId(e.id).server.packages?.find((p: any) => p.registryType === 'oci');
      expect(pkg, e.id).toBeDefined();
      expect(pkg.identifier).toBe(fullImageRef(img.image));
      expect(pkg.identifier).toMatch(/^[a-z0-9.-]+(:\d+)?\/.+(:[\w.-]+|@sha256:[a-f0-9]{64})$/);
      const secrets = (pkg.environmentVariables ?? []).filter((v: any) => v.isSecret).map((v: any) => v.name);
      expect(secrets.sort()).toEqual([...new Set(e.config.secrets.map((s) => s.env))].sort());
    }
    expect(fullImageRef('mcp/sqlite')).toBe('docker.io/mcp/sqlite:latest');
    expect(fullImageRef('ghcr.io/o/i@sha256:' + 'a'.repeat(64))).toBe('ghcr.io/o/i@sha256:' + 'a'.repeat(64));
    expect(fullImageRef('localhost:5000/x:1')).toBe('localhost:5000/x:1');
  });

  it('turns remote launches into remotes whose secret headers are marked isSecret', () => {
    const remotes = real.docker.filter((e) => e.launch[0]?.type === 'remote');
    expect(remotes.length).toBeGreaterThan(50);
    let secretHeaders = 0;
    for (const e of remotes) {
      const l = e.launch[0]!;
      if (l.type !== 'remote') continue;
      const r = byId(e.id).server.remotes?.find((x: any) => x.url === l.url);
      expect(r, e.id).toMatchObject({ type: l.transport, url: l.url });
      for (const h of l.headers ?? []) {
        const out = r.headers.find((x: any) => x.name === h.name);
        if (h.secret) {
          secretHeaders++;
          expect(out.isSecret).toBe(true);
          expect(out.value ?? '').not.toMatch(/\$\{?[A-Z]/); // docker's ${VAR} became a server.json {VAR}
        }
      }
    }
    expect(secretHeaders).toBeGreaterThan(5);
  });

  it('puts our own facts (sources, aliases, trust, tools) under our own _meta key', () => {
    const merged = real.merged.find((e) => e.aliases.length > 0);
    expect(merged).toBeDefined();
    const s = byId(merged!.id);
    const ours = s._meta[AGGREGATOR_KEY];
    expect(ours.id).toBe(merged!.id);
    expect(ours.aliases).toEqual(merged!.aliases);
    expect(ours.sources.map((x: any) => x.source)).toEqual(merged!.sources.map((x) => x.source));
    expect(ours.trust).toEqual({ status: merged!.id.startsWith('docker/') ? 'reviewed' : 'unreviewed' });
    const withTools = real.docker.find((e) => e.tools.length > 5)!;
    expect(byId(withTools.id)._meta[AGGREGATOR_KEY].tools.map((t: any) => t.name)).toEqual(withTools.tools.map((t) => t.name));
    // Official facts of official entries come from the registry itself.
    const notionLike = byId(real.official[0]!.id);
    expect(notionLike._meta[OFFICIAL_KEY].publishedAt).toBe(real.official[0]!.publishedAt);
  });
});
