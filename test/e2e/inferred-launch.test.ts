import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm } from 'node:fs/promises';
import { execa } from 'execa';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Podman, INSTANCE_LABEL } from '../../src/runtime/podman/podman.js';
import { cliPath, makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-http.js';
import { sharedData } from '../helpers/shared-data.js';
import { requirePodman } from '../helpers/podman.js';

/**
 * Issue 12 point 5, end to end over stdio: an mcpservers.org entry with only a repository (the real listing page,
 * served on loopback) whose detail page (the real anki capture, with a README client config put where the capture cut
 * it) says `npx -y @modelcontextprotocol/server-memory@2026.8.31`. registry-info fetches the page and shows the
 * launch as inferred from it; registry-add refuses it without approval and names the exact command; after
 * `mcp-registry allow` the add builds the npm package (from the real npm registry, CA bundle as at
 * test/build-start-e2e.test.ts) and runs it. Real podman (rootful), real SDK client against dist/cli.js.
 */

const ID = 'mcpservers/audienseco/mcp-audiense-insights';
const SNIPPET = 'npx -y @modelcontextprotocol/server-memory@2026.8.31';
const RUNNER = 'localhost/mcp-registry/runner-node:20';
const CA = '/etc/ssl/certs/ca-certificates.crt';
const podman = new Podman();

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

let site: FixtureServer;
let home: string;
let reg: RunningRegistry;
const progress: string[] = [];

async function call(name: string, args: Record<string, unknown> = {}): Promise<Result> {
  return (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 900_000, onprogress: (p) => void progress.push(p.message ?? '') })) as Result;
}

async function ourContainers() {
  return (await podman.listContainers({ [INSTANCE_LABEL]: '' })).filter((c) => (c.labels[INSTANCE_LABEL] ?? '').startsWith(`${reg.pid}-`));
}

beforeAll(async () => {
  const anki = await readFile(sharedData('mcpservers/server-detail-anki.pt-BR.excerpt.html'), 'utf8');
  const config = JSON.stringify({ mcpServers: { memory: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory@2026.8.31'] } } }, null, 2);
  const detail = anki.replace('<h2>Servidor Anki MCP</h2>', `<h2>Servidor Anki MCP</h2><p>Configure o seu cliente:</p><pre><code class="language-json">${config.replace(/"/g, '&quot;')}</code></pre>`);
  site = await startFixtureServer({
    '/official': { file: sharedData('mcpservers/official-page2.pt-BR.excerpt.html') },
    '/servers/AudienseCo/mcp-audiense-insights': { body: detail, headers: { 'content-type': 'text/html; charset=utf-8' } },
  });
  home = await makeHome({
    sources: [{ name: 'mcpservers', type: 'mcpservers', url: site.url, listings: ['/official'], delayMs: 20, maxPages: 1 }],
    refresh: { onStart: false },
    runtime: { startTimeout: '120s', callTimeout: '60s', caBundle: CA, runners: { npm: { image: RUNNER }, buildWait: '15m' } },
  });
  reg = await startRegistry(home, { env: { NODE_EXTRA_CA_CERTS: CA } });
  const r = await call('registry-refresh');
  expect(r.isError, text(r)).toBeFalsy();
}, 120_000);

afterAll(async () => {
  await reg?.close();
  const left = await ourContainers().catch(() => []);
  if (left.length) await podman.remove(left.map((c) => c.id)).catch(() => {});
  await site?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('inferred launches from mcpservers.org detail pages (issue 12)', () => {
  it('registry-info reads the launch from the detail page and shows it as inferred, from where', async () => {
    const info = await call('registry-info', { id: ID });
    expect(info.isError, text(info)).toBeFalsy();
    expect(text(info)).toContain(`npm package @modelcontextprotocol/server-memory@2026.8.31, inferred from ${site.url}/servers/AudienseCo/mcp-audiense-insights (\`${SNIPPET}\`)`);
    expect(text(info)).toContain('needs-approval');
    expect(site.requests.filter((r) => r.path === '/servers/AudienseCo/mcp-audiense-insights')).toHaveLength(1);
    const find = await call('registry-find', { query: 'audiense' });
    expect((find.structuredContent as { results: { id: string; runs?: string[] }[] }).results.find((x) => x.id === ID)).toMatchObject({ runs: ['inferred'] });
  });

  it('registry-add refuses it without approval, naming the command; after mcp-registry allow it builds and runs', async (ctx) => {
    await requirePodman(ctx);
    const refused = await call('registry-add', { id: ID });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain('was inferred from');
    expect(text(refused)).toContain(`mcp-registry allow ${ID}`);
    expect(await ourContainers()).toEqual([]);

    const allow = await execa(process.execPath, [cliPath, 'allow', ID], { env: { ...process.env, MCP_REGISTRY_HOME: home }, reject: false });
    expect(allow.exitCode, allow.stderr).toBe(0);
    expect(allow.stdout).toContain('is now allowed');

    progress.length = 0;
    const add = await call('registry-add', { id: ID });
    expect(add.isError, text(add)).toBeFalsy();
    expect(add.structuredContent).toMatchObject({ id: ID, state: 'running' });
    // Built now, or found built by an earlier run (the image is the package's, whoever asked for it).
    expect(progress.some((m) => /installing @modelcontextprotocol\/server-memory|server-memory:2026\.8\.31 is already built/.test(m))).toBe(true);
    const names = ((add.structuredContent as { tools: { name: string }[] }).tools ?? []).map((x) => x.name);
    const readGraph = names.find((n) => n.endsWith('__read_graph'));
    expect(readGraph).toBeDefined();
    const graph = await call('registry-exec', { tool: readGraph!, arguments: {} });
    expect(graph.isError, text(graph)).toBeFalsy();
    expect(text(graph)).toContain('entities');
    const removed = await call('registry-remove', { id: ID });
    expect(removed.isError, text(removed)).toBeFalsy();
  }, 900_000);

  it('a fresh registry process adds it straight away (no registry-info first): the launch comes from the cached page', async (ctx) => {
    await requirePodman(ctx);
    await reg.close();
    reg = await startRegistry(home, { env: { NODE_EXTRA_CA_CERTS: CA } });
    const fetched = site.requests.filter((r) => r.path === '/servers/AudienseCo/mcp-audiense-insights').length;
    const add = await call('registry-add', { id: ID });
    expect(add.isError, text(add)).toBeFalsy();
    expect(add.structuredContent).toMatchObject({ id: ID, state: 'running' });
    expect(site.requests.filter((r) => r.path === '/servers/AudienseCo/mcp-audiense-insights')).toHaveLength(fetched);
    const removed = await call('registry-remove', { id: ID });
    expect(removed.isError, text(removed)).toBeFalsy();
  }, 300_000);
});
