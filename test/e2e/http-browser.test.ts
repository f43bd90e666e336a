import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-http.js';
import { chromium } from '../helpers/chromium.js';
import { cliPath, makeHome } from '../helpers/registry-client.js';
import { dockerBundle, repoRoot, sharedData } from '../helpers/shared-data.js';

/**
 * The built `mcp-registry serve-http` as a browser sees it: the catalog page at `/` rendered by headless Chromium
 * (Debian's `chromium`), and the API fetched cross-origin from a page on another origin (CORS). The catalog fills in
 * the background from the real Docker bundle and a loopback copy of the official registry while the server runs.
 */

const shots = join(repoRoot, 'test', '.tmp');

let official: FixtureServer;
let origin: FixtureServer;
let home: string;
let child: ChildProcess;
let stderr = '';
let api: string;

const unescapeHtml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; server stderr:\n${stderr.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// A page on another origin that calls the registry the way Copilot's web context does.
const CORS_PAGE = `<!doctype html><html><body><pre id="out">pending</pre><script>
(async () => {
  const api = new URLSearchParams(location.search).get('api');
  const out = {};
  const probe = async (key, url, init) => {
    try {
      const r = await fetch(url, init);
      const type = r.headers.get('content-type') || '';
      const body = type.includes('json') ? await r.json() : null;
      out[key] = { status: r.status, body };
    } catch (e) {
      out[key] = { error: e.name + ': ' + e.message };
    }
  };
  await probe('list', api + '/v0.1/servers?limit=1&version=latest');
  await probe('withAuth', api + '/v0.1/servers?limit=1', { headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' } });
  await probe('missing', api + '/v0.1/servers/com.example%2Fnope/versions/latest');
  await probe('delete', api + '/v0.1/servers?limit=1', { method: 'DELETE' });
  await probe('page', api + '/');
  document.getElementById('out').textContent = JSON.stringify(out);
})();
</script></body></html>`;

const POLICY = `entries:
  "docker/brave": { status: disabled }
  "docker/git*": { environments: [prod] }
  "docker/fetch": { status: deprecated, message: "use the internal fetch server" }
`;
const DOCKER_NS = 'io.github.docker.mcp-registry';

beforeAll(async () => {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run "npm run build" first (npm test does it)`);
  const page = await readFile(sharedData('official-registry/list-page.json'), 'utf8');
  const json = { 'content-type': 'application/json' };
  official = await startFixtureServer({
    '/v0.1/servers': (req) => ({ headers: json, body: req.query.get('cursor') ? JSON.stringify({ servers: [], metadata: { count: 0 } }) : page }),
  });
  origin = await startFixtureServer({ '/cors.html': CORS_PAGE });
  home = await makeHome({
    sources: [
      { name: 'docker', type: 'docker', url: dockerBundle(), ref: 'main' },
      { name: 'official', type: 'official', url: official.url },
    ],
    refresh: { minInterval: '24h', cooldown: 0 },
  });
  // Governance: one server disabled, the git ones only for prod (this registry runs as dev), one deprecated.
  await writeFile(join(home, 'policy.yaml'), POLICY);
  child = spawn(process.execPath, [cliPath, 'serve-http', '--port', '0'], { env: { ...process.env, MCP_REGISTRY_HOME: home, MCP_REGISTRY_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (stderr += `[stdout!] ${d}`));
  api = await waitFor('the listening line', async () => /API v0\.1 at (http:\/\/[\d.:]+)\/v0\.1\/servers/.exec(stderr)?.[1]);
  // Served while the first refresh (git clone of the bundle, official crawl) runs in the background.
  await waitFor('the background refresh', async () => {
    const h = (await (await fetch(`${api}/v0.1/health`)).json()) as { servers: number };
    return h.servers > 300 ? h : undefined;
  });
  await mkdir(shots, { recursive: true });
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await official?.close();
  await origin?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('serve-http in headless Chromium', () => {
  it('renders the catalog page: search results from the URL and the details of the chosen server', async () => {
    const name = 'io.github.docker.mcp-registry/SQLite';
    const url = `${api}/?q=sqlite#server=${encodeURIComponent(name)}`;
    const dom = await chromium(['--virtual-time-budget=10000', '--dump-dom', url]);
    const results = [...dom.matchAll(/<button type="button" data-name="([^"]+)"/g)].map((m) => m[1]);
    expect(results).toContain(name);
    expect(results.length).toBeGreaterThan(0);
    expect(dom).toMatch(/<div id="status" role="status">\d+ servers?<\/div>/);
    expect(dom).toContain(`<code id="detail-name">${name}</code>`);
    expect(dom).toContain('oci docker.io/mcp/sqlite:latest');
    expect(dom).toMatch(/<h3>Sources<\/h3>/);

    const shot = join(shots, 'http-catalog-page.png');
    await rm(shot, { force: true });
    await chromium(['--virtual-time-budget=10000', '--hide-scrollbars', '--window-size=1280,900', `--screenshot=${shot}`, url]);
    const png = await readFile(shot);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.length).toBeGreaterThan(20_000);
    console.log(`screenshot of the catalog page: ${shot}`);
  });

  it('lets a page on another origin GET the API (CORS), also with Authorization, and blocks a DELETE', async () => {
    const dom = await chromium(['--virtual-time-budget=10000', '--dump-dom', `${origin.url}/cors.html?api=${encodeURIComponent(api)}`]);
    const m = /<pre id="out">([\s\S]*?)<\/pre>/.exec(dom);
    expect(m?.[1]).not.toBe('pending');
    const out = JSON.parse(unescapeHtml(m![1]!));
    expect(out.list.status).toBe(200);
    expect(out.list.body.metadata.count).toBe(1);
    expect(out.withAuth.status).toBe(200);
    // Errors are readable cross-origin too (CORS headers on problem responses).
    expect(out.missing).toMatchObject({ status: 404, body: { status: 404 } });
    // Not allowed by the preflight: the browser refuses to send it.
    expect(out.delete.error).toMatch(/^TypeError/);
    // Control: the HTML page has no CORS headers, so the browser does block what CORS does not allow.
    expect(out.page.error).toMatch(/^TypeError/);
    expect(stderr).toMatch(/"OPTIONS \/v0\.1\/servers\?limit=1" 204 /);
    expect(stderr).not.toMatch(/"DELETE \/v0\.1\/servers/);
  });

  it('serves only what policy.yaml allows in this environment, and follows edits to it without a restart', async () => {
    const latest = (n: string) => fetch(`${api}/v0.1/servers/${encodeURIComponent(`${DOCKER_NS}/${n}`)}/versions/latest`).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    expect((await latest('brave')).status).toBe(404);
    for (const n of ['git', 'github', 'github-official', 'gitlab']) expect((await latest(n)).status, n).toBe(404);
    const fetchServer = await latest('fetch');
    expect(fetchServer.body._meta['io.modelcontextprotocol.registry/official']).toMatchObject({ status: 'deprecated', statusMessage: 'use the internal fetch server' });
    expect(fetchServer.body._meta['io.github.mcp-registry/aggregator'].trust.status).toMatch(/allowed|needs-approval/);
    // docker/git* hides every docker server whose name starts with "git", in listings and search alike.
    const git = (await (await fetch(`${api}/v0.1/servers?search=${encodeURIComponent(DOCKER_NS + '/git')}&limit=100`)).json()) as any;
    expect(git.servers).toEqual([]);
    const gitlike = (await (await fetch(`${api}/v0.1/servers?search=git&limit=100`)).json()) as any;
    expect(gitlike.servers.length).toBeGreaterThan(0);

    // The admin lifts the ban on brave: the running server picks it up.
    await writeFile(join(home, 'policy.yaml'), POLICY.replace(/^.*docker\/brave.*\n/m, ''));
    const back = await waitFor('brave after the policy edit', async () => ((await latest('brave')).status === 200 ? true : undefined), 20_000);
    expect(back).toBe(true);
    expect(stderr).toMatch(/policy\.yaml changed: re-applying policy/);
  });

  it('logs one access line per request and stops cleanly on SIGTERM', async () => {
    const before = (stderr.match(/ http 127\.0\.0\.1 "/g) ?? []).length;
    const r = await fetch(`${api}/v0.1/servers?limit=3`, { headers: { 'User-Agent': 'sigterm-test' } });
    const rid = r.headers.get('x-request-id');
    await r.text();
    await waitFor('the access line', async () => (stderr.includes(`id=${rid} ua="sigterm-test"`) ? true : undefined), 5_000);
    // Counted by request id: a late line of the previous test's polling must not count as this request's.
    expect(stderr.split(`id=${rid} `).length - 1).toBe(1);
    expect((stderr.match(/ http 127\.0\.0\.1 "/g) ?? []).length).toBeGreaterThan(before);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/SIGTERM: no new connections/);
    expect(stderr).toMatch(/\] stopped/);
  });
});
