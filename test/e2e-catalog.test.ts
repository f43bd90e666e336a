import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-http.js';
import { dockerBundle, sharedData } from './helpers/shared-data.js';
import { makeHome, startRegistry, type RunningRegistry } from './helpers/registry-client.js';

/**
 * Issue 2, "Done when": the real SDK client, spawning the built server over stdio, refreshes from the Docker bundle,
 * a local HTTP server serving real mcpservers.org pages and one serving the real official-registry page; finds servers
 * for natural-language and misspelled queries; reads merged info; sees per-source status; restarts and searches from cache.
 */
type Find = { results: { id: string; name: string; sources: string[]; runnable: boolean; requiresConfig: string[] }[] };

let mcpservers: FixtureServer;
let official: FixtureServer;
let home: string;
let reg: RunningRegistry;

beforeAll(async () => {
  const listing = sharedData('mcpservers/official-page2.pt-BR.excerpt.html');
  mcpservers = await startFixtureServer({ '/official': { file: listing } });
  const page = await readFile(sharedData('official-registry/list-page.json'), 'utf8');
  official = await startFixtureServer({
    '/v0.1/servers': (req) =>
      req.query.get('cursor') === 'a-proxima-pagina'
        ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ servers: [], metadata: { count: 0 } }) }
        : { headers: { 'content-type': 'application/json' }, body: page },
  });
  home = await makeHome({
    sources: [
      { name: 'docker', type: 'docker', url: dockerBundle(), ref: 'main' },
      { name: 'mcpservers', type: 'mcpservers', url: mcpservers.url, listings: ['/official'], delayMs: 20, maxPages: 2 },
      { name: 'official', type: 'official', url: official.url },
    ],
    refresh: { minInterval: '24h', cooldown: 0 },
  });
  reg = await startRegistry(home);
});

afterAll(async () => {
  await reg?.close();
  await mcpservers?.close();
  await official?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

async function call<T>(r: RunningRegistry, name: string, args: Record<string, unknown> = {}, onprogress?: (p: unknown) => void) {
  const res = await r.client.callTool({ name, arguments: args }, undefined, { onprogress: onprogress as never, timeout: 120_000 });
  return res as { content: { type: string; text: string }[]; structuredContent?: T; isError?: boolean };
}

describe('catalog over stdio (issue 2)', () => {
  it('a first search with every source unreachable says the catalog is empty and why, quickly', async () => {
    const offline = await makeHome({
      sources: [
        { name: 'docker', type: 'docker', url: '/nonexistent/registry.bundle' },
        { name: 'official', type: 'official', url: 'http://no-such-host.invalid' },
      ],
    });
    const r = await startRegistry(offline);
    try {
      const t0 = Date.now();
      const res = await call(r, 'registry-find', { query: 'send a slack message' });
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(res.isError).toBe(true);
      expect(res.content[0]!.text).toMatch(/catalog is empty: no source could be fetched/);
      expect(res.content[0]!.text).toMatch(/official: cannot resolve no-such-host\.invalid/);
      expect(res.content[0]!.text).toMatch(/docker: /);
    } finally {
      await r.close();
      await rm(offline, { recursive: true, force: true });
    }
  });

  it('lists the catalog tools with output schemas and read-only hints', async () => {
    const { tools } = await reg.client.listTools();
    const names = tools.map((t) => t.name);
    for (const n of ['registry-find', 'registry-list', 'registry-info', 'registry-refresh', 'registry-status']) expect(names).toContain(n);
    const find = tools.find((t) => t.name === 'registry-find')!;
    expect(find.outputSchema).toBeDefined();
    expect(find.annotations?.readOnlyHint).toBe(true);
  });

  it('a first search on an empty cache waits for the first refresh instead of answering "nothing found"', async () => {
    const res = await call<Find>(reg, 'registry-find', { query: 'kubernetes pods' });
    expect(res.isError).toBeFalsy();
    expect(res.structuredContent!.results.map((r) => r.id).slice(0, 5)).toContain('docker/kubernetes');
  });

  it('refreshes every source with progress notifications and reports per-source outcomes', async () => {
    const progress: unknown[] = [];
    const res = await call<{ sources: { name: string; status: string; entries: number }[] }>(reg, 'registry-refresh', { force: true }, (p) => progress.push(p));
    expect(res.isError).toBeFalsy();
    const by = Object.fromEntries(res.structuredContent!.sources.map((s) => [s.name, s]));
    expect(by.docker!.entries).toBe(328);
    expect(by.mcpservers!.entries).toBeGreaterThanOrEqual(6);
    expect(by.official!.entries).toBe(4);
    expect(progress.length).toBeGreaterThan(0);
  });

  it('finds the expected servers for natural-language and misspelled queries', async () => {
    const top = async (query: string, n = 5) => (await call<Find>(reg, 'registry-find', { query, limit: n })).structuredContent!.results.map((r) => r.id);
    // The query names the product: it must rank first, above servers that merely "send messages".
    expect((await top('send a slack message'))[0]).toBe('docker/slack');
    expect(await top('kubernets pods')).toContain('docker/kubernetes');
    expect(await top('query a postgres database')).toEqual(expect.arrayContaining([expect.stringMatching(/postgres|database/)]));
    expect(await top('githb issues')).toEqual(expect.arrayContaining([expect.stringMatching(/^docker\/github/)]));
    expect(await top('zzzqqq xylophone vortexx')).toEqual([]);
  });

  it('filters by source before ranking', async () => {
    const res = await call<Find>(reg, 'registry-find', { query: 'notion', sources: ['official'] });
    expect(res.structuredContent!.results.length).toBeGreaterThan(0);
    for (const r of res.structuredContent!.results) expect(r.sources).toContain('official');
  });

  it('reads full info for an entry merged from two sources, by id and by alias', async () => {
    const byId = await call<Record<string, unknown>>(reg, 'registry-info', { id: 'docker/notion-remote' });
    expect(byId.isError).toBeFalsy();
    const info = byId.structuredContent as { id: string; aliases: string[]; sources: { source: string }[]; launch: { type: string }[] };
    expect(info.aliases).toContain('official/com.notion/mcp');
    expect(info.sources.map((s) => s.source)).toEqual(['docker', 'official']);
    const byAlias = await call<{ id: string }>(reg, 'registry-info', { id: 'official/com.notion/mcp' });
    expect(byAlias.structuredContent!.id).toBe('docker/notion-remote');

    const audiense = await call<{ id: string; aliases: string[] }>(reg, 'registry-info', { id: 'docker/audiense-insights' });
    expect(audiense.structuredContent!.aliases.map((a) => a.toLowerCase())).toContain('mcpservers/audienseco/mcp-audiense-insights');
  });

  it('rejects bad input with a clear message and stays up', async () => {
    const empty = await call(reg, 'registry-find', { query: '   ' });
    expect(empty.isError).toBe(true);
    expect(empty.content[0]!.text).toMatch(/query is empty/);
    const absurd = await call(reg, 'registry-find', { query: 'git', limit: 100000 });
    expect(absurd.isError).toBe(true);
    expect(absurd.content[0]!.text).toMatch(/limit must be at most 50/);
    const unknown = await call(reg, 'registry-info', { id: 'docker/githubb' });
    expect(unknown.isError).toBe(true);
    expect(unknown.content[0]!.text).toMatch(/No catalog entry with id "docker\/githubb"\. Did you mean/);
    const badSource = await call(reg, 'registry-refresh', { source: 'nope' });
    expect(badSource.isError).toBe(true);
    expect(badSource.content[0]!.text).toMatch(/unknown source "nope"/);
    const stillUp = await call<Find>(reg, 'registry-find', { query: 'github' });
    expect(stillUp.structuredContent!.results.length).toBeGreaterThan(0);
  });

  it('shows per-source status, including the last error of a source that broke, and keeps its data', async () => {
    await official.close(); // the official registry becomes unreachable
    const res = await call<{ sources: { name: string; status: string; entries: number; error?: string }[] }>(reg, 'registry-refresh', { source: 'official', force: true });
    const o = res.structuredContent!.sources[0]!;
    expect(o.status).toBe('error');
    expect(o.entries).toBe(4);
    const st = await call<{ sources: { name: string; entries: number; lastRefresh?: string; lastError?: string }[]; entries: number }>(reg, 'registry-status');
    const by = Object.fromEntries(st.structuredContent!.sources.map((s) => [s.name, s]));
    expect(by.official!.lastError).toBeTruthy();
    expect(by.official!.entries).toBe(4);
    expect(by.docker!.lastRefresh).toBeTruthy();
    expect(by.docker!.lastError).toBeUndefined();
    const still = await call<{ id: string }>(reg, 'registry-info', { id: 'official/com.notion/mcp' });
    expect(still.structuredContent!.id).toBe('docker/notion-remote');
  });

  it('restarts and searches immediately from cache, without waiting for any source', async () => {
    await reg.close();
    await mcpservers.close(); // nothing reachable now except the local bundle
    const config = await readFile(join(home, 'config.yaml'), 'utf8');
    await import('node:fs/promises').then((fs) => fs.writeFile(join(home, 'config.yaml'), config.replace(/url: .*bundle/, 'url: /nonexistent/registry.bundle')));
    reg = await startRegistry(home);
    const res = await call<Find>(reg, 'registry-find', { query: 'send a slack message' });
    expect(res.structuredContent!.results.map((r) => r.id)).toContain('docker/slack');
  });

  it('the CLI searches the same cache with the same policy view, from the command line', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { cliPath } = await import('./helpers/registry-client.js');
    const run = (args: string[]) => promisify(execFile)(process.execPath, [cliPath, ...args], { env: { ...process.env, MCP_REGISTRY_HOME: home } });
    const before = JSON.parse((await run(['search', 'send a slack message', '--json'])).stdout) as Find;
    expect(before.results[0]!.id).toBe('docker/slack');
    await import('node:fs/promises').then((fs) => fs.writeFile(join(home, 'policy.yaml'), 'entries:\n  "docker/slack": { status: disabled }\n'));
    const after = JSON.parse((await run(['search', 'send a slack message', '--json'])).stdout) as Find;
    expect(after.results.map((r) => r.id)).not.toContain('docker/slack');
    const bad = await run(['search', 'x', '--limit', '0']).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(/--limit must be a whole number from 1 to 50/);
  });

  it('stops cleanly on SIGHUP (a closed terminal), like SIGTERM', async () => {
    const r = await startRegistry(home);
    const child = (r.transport as unknown as { _process?: import('node:child_process').ChildProcess })._process!;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await call(r, 'registry-status');
    process.kill(r.pid!, 'SIGHUP');
    expect(await exited).toBe(0);
    expect(r.stderr()).toMatch(/shutting down \(SIGHUP\)/);
  });
});
