import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { makeHome } from '../helpers/registry-client.js';
import { createKey, startServeHttp, waitFor, type ServeHttp } from '../helpers/serve-http.js';

/**
 * serve-http as an organisation's registry, one process on the embedded (file) store, driven over real HTTP:
 * who may publish (API keys by scope, audited with the key's id, never the key), OIDC bearer tokens verified
 * against a JWKS this test serves on loopback (its keys generated here), named registries shown by group claim,
 * and /metrics read with a Prometheus text-format parser.
 */

const ISSUER_AUD = 'mcp-registry-test';

function server(name: string, version = '1.0.0') {
  return {
    $schema: 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json',
    name,
    description: `The ${name} server, for tests.`,
    version,
    remotes: [{ type: 'streamable-http', url: `https://${name.replace(/[^a-z0-9]/gi, '-')}.example.com/mcp` }],
  };
}

interface Issuer {
  url: string;
  sign(claims: Record<string, unknown>, opts?: { expiresIn?: string | number; key?: 'good' | 'stranger' }): Promise<string>;
  close(): Promise<void>;
}

/** A tiny OIDC issuer: a JWKS on loopback, and a second key pair it does NOT publish (a forger's). */
async function startIssuer(): Promise<Issuer> {
  const good = await generateKeyPair('RS256');
  const stranger = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(good.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const srv: Server = createServer((req, res) => {
    if (req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return {
    url,
    async sign(claims, opts = {}) {
      const key = opts.key === 'stranger' ? stranger.privateKey : good.privateKey;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(url)
        .setAudience(ISSUER_AUD)
        .setSubject(String(claims.sub ?? 'alice'))
        .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
        .setExpirationTime(opts.expiresIn ?? '10m')
        .sign(key);
    },
    close: () => new Promise((r) => srv.close(() => r())),
  };
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const names = async (res: Response) => ((await res.json()) as { servers: { server: { name: string } }[] }).servers.map((s) => s.server.name).sort();

describe('serve-http: credentials, publish API, registries by group, metrics (file store)', () => {
  let issuer: Issuer;
  let home: string;
  let srv: ServeHttp;

  beforeAll(async () => {
    issuer = await startIssuer();
    home = await makeHome({});
    await writeFile(join(home, 'dev-catalog.json'), JSON.stringify([server('com.example.dev/sandbox')]));
    // Payroll carries claims of its own: within production, only callers of group finance see it.
    const payroll = { ...server('com.example.prod/payroll'), _meta: { 'io.github.mcp-registry/claims': { groups: ['finance'] } } };
    await writeFile(join(home, 'prod-catalog.json'), JSON.stringify([server('com.example.prod/billing'), payroll]));
    await writeFile(
      join(home, 'config.yaml'),
      JSON.stringify({
        sources: [
          { name: 'internal', type: 'managed' },
          { name: 'devonly', type: 'file', path: join(home, 'dev-catalog.json') },
          { name: 'prodonly', type: 'file', path: join(home, 'prod-catalog.json') },
        ],
        registries: [
          { name: 'dev', sources: ['internal', 'devonly'], claims: { groups: ['dev'] } },
          { name: 'production', sources: ['internal', 'prodonly'], claims: { groups: ['prod'] } },
        ],
        http: { auth: { oidc: { issuer: issuer.url, audience: ISSUER_AUD, jwksUri: `${issuer.url}/jwks` } }, health: { enabled: false } },
      }),
    );
    srv = await startServeHttp(home);
  });

  afterAll(async () => {
    await srv?.stop();
    await issuer?.close();
  });

  const publish = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${srv.url}/v1/entries`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('refuses a publish without a credential (401, pointing at the RFC 9728 metadata) and with a read key (403); a publish key publishes, audited with the key id and never the key', async () => {
    const anon = await publish(server('com.example/internal-tool'));
    expect(anon.status).toBe(401);
    const challenge = anon.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource"/);
    const meta = (await (await fetch(challenge.match(/resource_metadata="([^"]+)"/)![1]!)).json()) as { resource: string; authorization_servers: string[] };
    expect(meta.authorization_servers).toEqual([issuer.url]);

    const readKey = await createKey(home, 'read');
    const asReader = await publish(server('com.example/internal-tool'), auth(readKey));
    expect(asReader.status).toBe(403);
    expect(((await asReader.json()) as { detail: string }).detail).toMatch(/read scope; this needs publish/);

    const publishKey = await createKey(home, 'publish', ['--name', 'ci pipeline']);
    expect(publishKey).toMatch(/^mcpr_[a-z0-9]{12}_/);
    const keyId = /^mcpr_([a-z0-9]{12})_/.exec(publishKey)![1]!;
    const ok = await publish(server('com.example/internal-tool'), auth(publishKey));
    expect(ok.status).toBe(201);
    expect(ok.headers.get('location')).toBe('/v0.1/servers/com.example%2Finternal-tool/versions/1.0.0');
    // Served at once from the store, in the default registry.
    const latest = await fetch(`${srv.url}/v0.1/servers/${encodeURIComponent('com.example/internal-tool')}/versions/latest`);
    expect(latest.status).toBe(200);
    expect(((await latest.json()) as { server: { version: string } }).server.version).toBe('1.0.0');

    // Invalid server.json: 422 with the field, as `mcp-registry validate` would say.
    const bad = await publish({ ...server('com.example/broken'), remote: [] }, auth(publishKey));
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/unknown field "remote"/);

    const auditFile = join(home, 'state', 'audit', 'http-audit.jsonl');
    const events = await waitFor('the audit records', async () => {
      const lines = (await readFile(auditFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string; actor: { id: string }; target?: { name?: string }; client: { ip: string }; request?: { status: number } });
      return lines.filter((l) => l.action === 'entry.publish').length >= 4 ? lines : undefined;
    });
    const publishes = events.filter((e) => e.action === 'entry.publish');
    expect(publishes.map((e) => [e.outcome, e.actor.id, e.request?.status])).toEqual([
      ['denied', 'anonymous', 401],
      ['denied', `apikey:${/^mcpr_([a-z0-9]{12})_/.exec(readKey)![1]}`, 403],
      ['success', `apikey:${keyId}`, 201],
      ['failure', `apikey:${keyId}`, 422],
    ]);
    expect(publishes[2]!.target?.name).toBe('com.example/internal-tool');
    expect(publishes[2]!.client.ip).toMatch(/127\.0\.0\.1/);
    const trail = await readFile(auditFile, 'utf8');
    expect(trail).toContain('apikey.create');
    // The secret part of a key is in neither the audit trail, the key store nor the log.
    for (const key of [readKey, publishKey]) {
      const secret = key.split('_').slice(2).join('_');
      expect(trail).not.toContain(secret);
      expect(await readFile(join(home, 'state', 'apikeys.json'), 'utf8')).not.toContain(secret);
      expect(srv.log()).not.toContain(secret);
    }
  });

  it('sets a status and deletes a version with the publish scope, each audited; a read key may do neither', async () => {
    const key = await createKey(home, 'publish');
    const reader = await createKey(home, 'read');
    const name = encodeURIComponent('com.example/lifecycle');
    expect((await publish(server('com.example/lifecycle', '1.0.0'), auth(key))).status).toBe(201);
    expect((await publish(server('com.example/lifecycle', '1.1.0'), auth(key))).status).toBe(201);
    const patch = (headers: Record<string, string>) =>
      fetch(`${srv.url}/v1/entries/${name}/versions/1.1.0`, { method: 'PATCH', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ status: 'deprecated', statusMessage: 'Use 2.x.' }) });
    expect((await patch(auth(reader))).status).toBe(403);
    expect((await patch(auth(key))).status).toBe(200);
    const latest = (await (await fetch(`${srv.url}/v0.1/servers/${name}/versions/latest`)).json()) as { server: { version: string }; _meta: Record<string, { status?: string; statusMessage?: string }> };
    expect(latest.server.version).toBe('1.1.0');
    expect(Object.values(latest._meta).find((m) => m.status)).toMatchObject({ status: 'deprecated', statusMessage: 'Use 2.x.' });

    expect((await fetch(`${srv.url}/v1/entries/${name}/versions/1.1.0`, { method: 'DELETE', headers: auth(reader) })).status).toBe(403);
    expect((await fetch(`${srv.url}/v1/entries/${name}/versions/1.1.0`, { method: 'DELETE', headers: auth(key) })).status).toBe(200);
    expect((await fetch(`${srv.url}/v0.1/servers/${name}/versions/1.1.0`)).status).toBe(404);
    // A published version never changes: the same version again is a conflict.
    expect((await publish(server('com.example/lifecycle', '1.0.0'), auth(key))).status).toBe(409);

    const id = `apikey:${key.split('_')[1]}`;
    const trail = await waitFor('the delete in the audit trail', async () => {
      const lines = (await readFile(join(home, 'state', 'audit', 'http-audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string; actor: { id: string }; target?: { version?: string } });
      return lines.some((l) => l.action === 'entry.delete' && l.outcome === 'success') ? lines : undefined;
    });
    expect(trail.filter((l) => l.actor.id === id && l.action !== 'entry.publish').map((l) => [l.action, l.outcome, l.target?.version])).toEqual([
      ['entry.status', 'success', '1.1.0'],
      ['entry.delete', 'success', '1.1.0'],
    ]);
  });

  it('a revoked key is refused from then on', async () => {
    const key = await createKey(home, 'publish');
    expect((await publish(server('com.example/revoke-me'), auth(key))).status).toBe(201);
    const { execFile } = await import('node:child_process');
    const { cliPath } = await import('../helpers/registry-client.js');
    const out = await new Promise<string>((res, rej) =>
      execFile(process.execPath, [cliPath, 'apikey', 'revoke', key.split('_')[1]!], { env: { ...process.env, MCP_REGISTRY_HOME: home } }, (e, so) => (e ? rej(e) : res(so))),
    );
    expect(out).toMatch(/revoked/);
    // serve-http re-reads the key store at most once a second: a side-effect-free call shows when it did.
    await waitFor('the revocation to reach serve-http', async () => ((await fetch(`${srv.url}/v1/entries`, { headers: auth(key) })).status === 401 ? true : undefined), 10_000, 200);
    const after = await publish(server('com.example/revoke-me', '1.0.1'), auth(key));
    expect(after.status).toBe(401);
    expect(((await after.json()) as { detail: string }).detail).toMatch(/revoked/);
  });

  it('refuses an expired token and a token signed with a key the issuer does not publish; accepts a good one', async () => {
    const expired = await issuer.sign({ sub: 'alice', groups: ['dev'] }, { expiresIn: Math.floor(Date.now() / 1000) - 3600 });
    const r1 = await fetch(`${srv.url}/registry/dev/v0.1/servers`, { headers: auth(expired) });
    expect(r1.status).toBe(401);
    expect(((await r1.json()) as { detail: string }).detail).toMatch(/expired/);

    const forged = await issuer.sign({ sub: 'mallory', groups: ['dev'] }, { key: 'stranger' });
    const r2 = await fetch(`${srv.url}/registry/dev/v0.1/servers`, { headers: auth(forged) });
    expect(r2.status).toBe(401);
    expect(((await r2.json()) as { detail: string }).detail).toMatch(/signature does not verify/);

    // A token that is not ours (an IDE sends its GitHub token) leaves an anonymous read anonymous, as before
    // credentials existed; where a credential is required it is refused, and a write never passes with it.
    expect((await fetch(`${srv.url}/v0.1/servers?limit=1`, { headers: auth(forged) })).status).toBe(200);
    expect((await fetch(`${srv.url}/v0.1/servers?limit=1`, { headers: auth('gho_not-a-jwt') })).status).toBe(200);
    expect((await publish(server('com.example/forged'), auth(forged))).status).toBe(401);

    const good = await issuer.sign({ sub: 'alice', groups: ['dev'] });
    expect((await fetch(`${srv.url}/registry/dev/v0.1/servers`, { headers: auth(good) })).status).toBe(200);
    // A token with the publish scope may publish; its subject is who the audit names.
    const publisher = await issuer.sign({ sub: 'bob', scope: 'registry:publish' });
    expect((await publish(server('com.example/by-token'), auth(publisher))).status).toBe(201);
    // The audit record is written just after the answer.
    const trail = await waitFor('the token publish in the audit trail', async () => {
      const t = await readFile(join(home, 'state', 'audit', 'http-audit.jsonl'), 'utf8');
      return t.includes('"id":"oidc:bob"') ? t : undefined;
    });
    expect(trail).not.toContain(publisher.split('.')[2]!);
  });

  it('a token of group dev sees the dev registry (its sources and the published entries) and not the production one', async () => {
    const dev = await issuer.sign({ sub: 'carol', groups: ['dev'] });
    const inDev = await fetch(`${srv.url}/registry/dev/v0.1/servers`, { headers: auth(dev) });
    expect(inDev.status).toBe(200);
    const devNames = await names(inDev);
    expect(devNames).toContain('com.example.dev/sandbox');
    expect(devNames).toContain('com.example/internal-tool');
    expect(devNames).not.toContain('com.example.prod/billing');

    const inProd = await fetch(`${srv.url}/registry/production/v0.1/servers`, { headers: auth(dev) });
    expect(inProd.status).toBe(403);
    expect(await fetch(`${srv.url}/registry/production/v0.1/servers`)).toHaveProperty('status', 401);

    const prod = await issuer.sign({ sub: 'dave', groups: ['prod'] });
    const prodNames = await names(await fetch(`${srv.url}/registry/production/v0.1/servers`, { headers: auth(prod) }));
    expect(prodNames).toContain('com.example.prod/billing');
    expect(prodNames).not.toContain('com.example.dev/sandbox');
    // The default registry (loopback: anonymous reads) has every source.
    expect(await names(await fetch(`${srv.url}/v0.1/servers`))).toEqual(expect.arrayContaining(['com.example.dev/sandbox', 'com.example.prod/billing', 'com.example/internal-tool']));
  });

  it('an entry with claims of its own is served only to callers whose claims match, in every registry that lists it', async () => {
    const payroll = encodeURIComponent('com.example.prod/payroll');
    const prod = await issuer.sign({ sub: 'dave', groups: ['prod'] });
    const finance = await issuer.sign({ sub: 'erin', groups: ['prod', 'finance'] });
    const inProd = await names(await fetch(`${srv.url}/registry/production/v0.1/servers`, { headers: auth(prod) }));
    expect(inProd).toContain('com.example.prod/billing');
    expect(inProd).not.toContain('com.example.prod/payroll');
    expect((await fetch(`${srv.url}/registry/production/v0.1/servers/${payroll}/versions/latest`, { headers: auth(prod) })).status).toBe(404);
    expect(await names(await fetch(`${srv.url}/registry/production/v0.1/servers`, { headers: auth(finance) }))).toContain('com.example.prod/payroll');
    const detail = await fetch(`${srv.url}/registry/production/v0.1/servers/${payroll}/versions/latest`, { headers: auth(finance) });
    expect(detail.status).toBe(200);
    // The default registry: anonymous readers do not see it (nor in a search), a finance token does.
    expect(await names(await fetch(`${srv.url}/v0.1/servers`))).not.toContain('com.example.prod/payroll');
    expect(await names(await fetch(`${srv.url}/v0.1/servers?search=payroll`))).toEqual([]);
    expect(await names(await fetch(`${srv.url}/v0.1/servers?search=payroll`, { headers: auth(finance) }))).toEqual(['com.example.prod/payroll']);
    // Cached answers are per claim set: the anonymous list after the finance one still hides it.
    expect(await names(await fetch(`${srv.url}/v0.1/servers?search=payroll`))).toEqual([]);
  });

  it('/metrics parses as Prometheus text format and its request counters move', async () => {
    type Family = { name: string; type: string; metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string }[] };
    const scrape = async () => {
      const res = await fetch(`${srv.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return parsePrometheusTextFormat(await res.text()) as Family[];
    };
    const served = (fams: Family[]) =>
      fams
        .find((f) => f.name === 'mcp_registry_http_requests_total')
        ?.metrics.filter((m) => m.labels?.route === '/v0.1/servers' && m.labels?.status === '200' && m.labels?.registry === 'default')
        .reduce((n, m) => n + Number(m.value), 0) ?? 0;
    const before = await scrape();
    for (let i = 0; i < 3; i++) expect((await fetch(`${srv.url}/v0.1/servers?limit=5`)).status).toBe(200);
    const after = await waitFor('the counters to move', async () => {
      const f = await scrape();
      return served(f) >= served(before) + 3 ? f : undefined;
    });
    expect(served(after) - served(before)).toBe(3);
    const types = Object.fromEntries(after.map((f) => [f.name, f.type]));
    expect(types).toMatchObject({ mcp_registry_http_requests_total: 'COUNTER', mcp_registry_http_request_duration_seconds: 'HISTOGRAM', mcp_registry_catalog_entries: 'GAUGE' });
    // This parser folds a labelled histogram's series into one set of buckets; the per-route count is read as text.
    expect(after.find((f) => f.name === 'mcp_registry_http_request_duration_seconds')!.metrics[0]!.buckets).toHaveProperty('+Inf');
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    const count = /^mcp_registry_http_request_duration_seconds_count\{registry="default",route="\/v0\.1\/servers"\} (\d+)$/m.exec(text);
    expect(Number(count?.[1])).toBeGreaterThanOrEqual(3);
    const size = after.find((f) => f.name === 'mcp_registry_catalog_entries')!.metrics[0]!;
    expect(Number(size.value)).toBeGreaterThanOrEqual(2);
    const pubs = after.find((f) => f.name === 'mcp_registry_publish_total');
    expect(pubs?.metrics.some((m) => m.labels?.outcome === 'success' && Number(m.value) >= 1)).toBe(true);
  });
});
