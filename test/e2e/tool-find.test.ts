import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { TINY_IMAGE } from '../helpers/podman.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { cliPath, makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';

/*
 * Issue 14, "Done when": through the SDK client over stdio, a tool query finds the right tool of a server that was
 * never started, with the name to call; once the server runs, the same query gives the same name, now live, and
 * registry-exec calls it. The catalog is the user's own docker-layout file source: the tiny test image, its tools
 * declared in tools.json (as the Docker catalog declares them).
 */

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
interface ToolItem {
  tool: string;
  name: string;
  description: string;
  inputSchema?: Record<string, unknown>;
  id: string;
  running: boolean;
  needs: string[];
  origin: string;
}

let home: string;
let reg: RunningRegistry;

async function call(name: string, args: Record<string, unknown> = {}): Promise<Result> {
  return (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
}
const toolHits = (r: Result) => (r.structuredContent as { results: ToolItem[] }).results;

async function server(name: string, yaml: Record<string, unknown>, tools: unknown[]): Promise<void> {
  const dir = join(home, 'mine', 'servers', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'server.yaml'), toYaml({ name, image: TINY_IMAGE, type: 'server', ...yaml }));
  await writeFile(join(dir, 'tools.json'), JSON.stringify(tools));
}

beforeAll(async () => {
  home = await makeHome({
    sources: [{ name: 'mine', type: 'file', path: './mine' }],
    refresh: { onStart: false },
    runtime: { startTimeout: '60s', callTimeout: '60s' },
  });
  await server('calculator', { about: { title: 'Calculator', description: 'Arithmetic for agents.' }, run: { disableNetwork: true } }, [
    { name: 'add', description: 'Adds two numbers.', inputSchema: { type: 'object', properties: { a: { type: 'number', examples: [1] }, b: { type: 'number' } }, required: ['a', 'b'] } },
    { name: 'echo', description: 'Returns its text unchanged.', inputSchema: { type: 'object', properties: { text: { type: 'string', description: 'what to echo' } } } },
  ]);
  await server(
    'weather-station',
    {
      about: { title: 'Weather station', description: 'Local weather readings.' },
      run: { disableNetwork: true },
      config: { secrets: [{ name: 'weather-station.api_key', env: 'WEATHER_KEY', required: true }] },
    },
    [{ name: 'current_temperature', description: 'The temperature outside right now, in a city.', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } }],
  );
  reg = await startRegistry(home);
  const r = await call('registry-refresh', {});
  expect(r.isError).toBeFalsy();
}, 180_000);

afterAll(async () => {
  if (reg) {
    await call('registry-remove', { id: 'mine/calculator' }).catch(() => {});
    await reg.close();
  }
  await rm(home, { recursive: true, force: true });
});

describe('registry-find kind "tools" over stdio', () => {
  it('finds the tool of a server never started, with the name to call, a compact schema and what it needs', async () => {
    const r = await call('registry-find', { query: 'add two numbers', kind: 'tools' });
    expect(r.isError).toBeFalsy();
    const [top] = toolHits(r);
    expect(top).toMatchObject({ tool: 'calculator__add', name: 'add', id: 'mine/calculator', running: false, needs: [], origin: 'declared' });
    // Compact: what a call needs, without the examples.
    expect(top!.inputSchema).toEqual({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] });
    expect(r.content[0]!.type === 'text' && r.content[0]!.text).toContain('calculator__add');

    const [weather] = toolHits(await call('registry-find', { query: 'temperature outside', kind: 'tools' }));
    expect(weather).toMatchObject({ tool: 'weather-station__current_temperature', running: false });
    expect(weather!.needs.join(' ')).toContain('weather-station.api_key');
  });

  it('servers stay the default kind, with the shape they always had', async () => {
    const r = await call('registry-find', { query: 'calculator' });
    const [top] = (r.structuredContent as { results: Array<Record<string, unknown>> }).results;
    expect(top).toMatchObject({ id: 'mine/calculator', runnable: true });
    expect(top).not.toHaveProperty('tool');
    // A server result says which of its tools the query matched.
    const [adder] = (await call('registry-find', { query: 'add numbers' })).structuredContent!.results as Array<{ id: string; matchedTools?: string[] }>;
    expect(adder).toMatchObject({ id: 'mine/calculator', matchedTools: ['calculator__add'] });
  });

  it('registry-exec of a never-started server\'s tool starts it and returns the tool\'s result, in one call', async () => {
    expect((await call('registry-active')).structuredContent).toEqual({ mounts: [] });
    const [hit] = toolHits(await call('registry-find', { query: 'add two numbers', kind: 'tools' }));
    const res = await call('registry-exec', { tool: hit!.tool, arguments: { a: 2, b: 3 } });
    expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
    expect(res.structuredContent).toEqual({ sum: 5 });
    const mounts = (await call('registry-active')).structuredContent as { mounts: Array<{ id: string; state: string }> };
    expect(mounts.mounts.map((m) => [m.id, m.state])).toEqual([['mine/calculator', 'running']]);
  }, 180_000);

  it('registry-exec of a tool whose server lacks a required secret starts nothing and says what to set', async () => {
    const res = await call('registry-exec', { tool: 'weather-station__current_temperature', arguments: { city: 'Oslo' } });
    expect(res.isError).toBe(true);
    const t = res.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
    expect(t).toContain('weather-station.api_key');
    expect(t).toContain('registry-config-set');
    const mounts = (await call('registry-active')).structuredContent as { mounts: Array<{ id: string }> };
    expect(mounts.mounts.map((m) => m.id)).not.toContain('mine/weather-station');
  }, 60_000);

  it('once the server runs, the same query gives the same name, live, and registry-exec calls it', async () => {
    const add = await call('registry-add', { id: 'mine/calculator' });
    expect(add.isError, JSON.stringify(add.content)).toBeFalsy();
    const [top] = toolHits(await call('registry-find', { query: 'add two numbers', kind: 'tools' }));
    expect(top).toMatchObject({ tool: 'calculator__add', running: true, origin: 'live', needs: [] });
    const res = await call('registry-exec', { tool: top!.tool, arguments: { a: 2, b: 40 } });
    expect(res.isError).toBeFalsy();
    expect(res.structuredContent).toEqual({ sum: 42 });
  }, 180_000);

  it('registry-exec-readonly refuses a tool without readOnlyHint, running or not, and starts nothing for it', async () => {
    const textOf = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
    const running = await call('registry-exec-readonly', { tool: 'calculator__add', arguments: { a: 1, b: 2 } });
    expect(running.isError).toBe(true);
    expect(textOf(running)).toMatch(/calculator__add.*does not mark it read-only.*registry-exec instead/);
    const stopped = await call('registry-exec-readonly', { tool: 'weather-station__current_temperature', arguments: { city: 'Oslo' } });
    expect(textOf(stopped)).toMatch(/not running and the catalog does not say.*nothing was started/);
    const mounts = (await call('registry-active')).structuredContent as { mounts: Array<{ id: string }> };
    expect(mounts.mounts.map((m) => m.id)).toEqual(['mine/calculator']);
  }, 60_000);

  it('refuses an unknown kind with the ones it accepts', async () => {
    const r = await call('registry-find', { query: 'add', kind: 'prompts' });
    expect(r.isError).toBe(true);
    const t = r.content[0]!.type === 'text' ? r.content[0]!.text : '';
    expect(t).toMatch(/servers/);
    expect(t).toMatch(/tools/);
  });
});

describe('tools.expose lazy', () => {
  async function startWith(expose: { config?: 'lazy'; flag?: 'lazy' | 'all' }): Promise<RunningRegistry> {
    await writeFile(
      join(home, 'config.yaml'),
      toYaml({ sources: [{ name: 'mine', type: 'file', path: './mine' }], refresh: { onStart: false }, runtime: { startTimeout: '60s', callTimeout: '60s' }, ...(expose.config ? { tools: { expose: expose.config } } : {}) }),
    );
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [cliPath, ...(expose.flag ? ['--tools', expose.flag] : [])],
      env: { ...(process.env as Record<string, string>), MCP_REGISTRY_HOME: home },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'lazy-test', version: '1.0.0' });
    await client.connect(transport);
    return { client, transport, stderr: () => '', pid: transport.pid, close: () => client.close() };
  }

  it('keeps mounted tools out of tools/list, still callable by name and through registry-exec; --tools all overrides', async () => {
    await reg.close();
    reg = await startWith({ config: 'lazy' });
    // The mount of the tests above is restored: callable, not listed.
    const r = await call('calculator__add', { a: 1, b: 1 });
    expect(r.structuredContent).toEqual({ sum: 2 });
    const names = (await reg.client.listTools()).tools.map((t) => t.name);
    expect(names.every((n) => n.startsWith('registry-'))).toBe(true);
    expect((await call('registry-exec', { tool: 'calculator__add', arguments: { a: 2, b: 2 } })).structuredContent).toEqual({ sum: 4 });
    await reg.close();
    reg = await startWith({ config: 'lazy', flag: 'all' });
    await call('calculator__add', { a: 1, b: 1 });
    expect((await reg.client.listTools()).tools.map((t) => t.name)).toContain('calculator__add');
  }, 180_000);
});

