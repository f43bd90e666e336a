import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Podman, INSTANCE_LABEL } from '../../src/runtime/podman/podman.js';
import { cliPath, makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { startRegistryV2, type RunningRegistryV2 } from '../helpers/registry-client-v2.js';
import { requirePodman } from '../helpers/podman.js';
import { repoRoot } from '../helpers/shared-data.js';

/**
 * Issue 13: the registry speaks both MCP eras on one stdio entry. A 2026-07-28 client (SDK v2, pinned: no
 * initialize, server/discover, per-request _meta, subscriptions/listen) and a 2025-11-25 client (SDK v1: initialize,
 * unsolicited notifications/tools/list_changed) each find the tiny test server, add it (a real container), hear the
 * change in their era's way, call its tool directly and through registry-exec, and remove it.
 */

const CATALOG = join(repoRoot, 'test/fixtures/runtime-catalog');
const podman = new Podman();
const homes: string[] = [];
const pids = new Set<number>();

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

async function home(): Promise<string> {
  const h = await makeHome({ sources: [{ name: 'test', type: 'file', path: CATALOG }], refresh: { onStart: false }, runtime: { startTimeout: '60s', callTimeout: '60s' } });
  homes.push(h);
  return h;
}

afterAll(async () => {
  const left = (await podman.listContainers({ [INSTANCE_LABEL]: '' }).catch(() => [])).filter((c) => pids.has(Number((c.labels[INSTANCE_LABEL] ?? '').split('-')[0])));
  if (left.length) await podman.remove(left.map((c) => c.id)).catch(() => {});
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

/** The era-neutral part: what either client does, through `call` and `listNames`, counting `changes()`. */
async function findAddCallRemove(call: (name: string, args?: Record<string, unknown>) => Promise<Result>, listNames: () => Promise<string[]>, changes: () => number) {
  expect((await call('registry-refresh')).isError).toBeFalsy();
  const found = await call('registry-find', { query: 'tiny test server echo' });
  expect((found.structuredContent as { results: { id: string }[] }).results.map((r) => r.id)).toContain('test/tiny');

  const before = changes();
  const add = await call('registry-add', { id: 'test/tiny' });
  expect(add.isError, text(add)).toBeFalsy();
  expect(add.structuredContent).toMatchObject({ id: 'test/tiny', prefix: 'tiny', state: 'running' });
  await expect.poll(changes, { timeout: 10_000 }).toBeGreaterThan(before);
  const names = await listNames();
  expect(names).toEqual(expect.arrayContaining(['registry-add', 'registry-exec', 'tiny__echo']));
  // Mounted tools come after the registry's own: the same order on every call.
  expect(await listNames()).toEqual(names);
  expect(names.indexOf('tiny__echo')).toBeGreaterThan(names.indexOf('registry-exec'));

  expect((await call('tiny__echo', { text: 'hello' })).content).toEqual([{ type: 'text', text: 'hello' }]);
  const exec = await call('registry-exec', { tool: 'tiny__echo', arguments: { text: 'via exec' } });
  expect(exec.content).toEqual([{ type: 'text', text: 'via exec' }]);

  const removedBefore = changes();
  const rm = await call('registry-remove', { id: 'test/tiny' });
  expect(rm.isError, text(rm)).toBeFalsy();
  await expect.poll(changes, { timeout: 10_000 }).toBeGreaterThan(removedBefore);
  expect(await listNames()).not.toContain('tiny__echo');
}

describe('both MCP eras on the stdio entry (issue 13)', () => {
  let modern: RunningRegistryV2 | undefined;
  let legacy: RunningRegistry | undefined;
  afterAll(async () => {
    await modern?.close();
    await legacy?.close();
  });

  it('a 2026-07-28 client (SDK v2, pinned): find, add, list change on its listen stream, call direct and via registry-exec, remove', async (ctx) => {
    await requirePodman(ctx);
    modern = await startRegistryV2(await home());
    pids.add(modern.pid!);
    const { client } = modern;
    expect(client.getProtocolEra()).toBe('modern');
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect(client.getDiscoverResult()?.capabilities).toMatchObject({ tools: { listChanged: true } });
    let changed = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => void changed++);
    // The 2026 revision sends list changes only on a subscription the client opened.
    const sub = await client.listen({ toolsListChanged: true });
    expect(sub.honoredFilter).toMatchObject({ toolsListChanged: true });
    const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args }, { timeout: 120_000 })) as Result;
    const listNames = async () => (await client.listTools({}, { cacheMode: 'refresh' })).tools.map((t) => t.name);
    await findAddCallRemove(call, listNames, () => changed);
  });

  it('a 2025-11-25 client (SDK v1, initialize): the same, with the unsolicited notifications/tools/list_changed', async (ctx) => {
    await requirePodman(ctx);
    legacy = await startRegistry(await home());
    pids.add(legacy.pid!);
    const { client } = legacy;
    expect(client.getServerVersion()?.name).toBe('mcp-registry');
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
    const listNames = async () => (await client.listTools()).tools.map((t) => t.name);
    await findAddCallRemove(call, listNames, () => changed);
  });

  it("a bare server/discover probe (the v2 client's sibling process) is answered at once, and the process exits at once when stdin closes, having started nothing", async () => {
    const h = await home();
    const child = spawn(process.execPath, [cliPath], { env: { ...process.env, MCP_REGISTRY_HOME: h, MCP_REGISTRY_LOG_LEVEL: 'debug' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const envelope = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'probe', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: envelope } }) + '\n');
    await expect.poll(() => out.includes('"id":1'), { timeout: 20_000 }).toBe(true);
    const answer = JSON.parse(out.split('\n')[0]!) as { result: { supportedVersions: string[]; capabilities: Record<string, unknown> } };
    expect(answer.result.supportedVersions).toContain('2026-07-28');
    expect(answer.result.capabilities).toMatchObject({ tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } });
    const t0 = performance.now();
    child.stdin.end();
    expect(await exited).toBe(0);
    const exitMs = performance.now() - t0;
    // The v2 client waits for this exit (SIGKILL after 1 s) before it spawns the real session: well under that.
    expect(exitMs).toBeLessThan(500);
    // Nothing of the registry started: no catalog read, no runtime, no state written.
    expect(err).not.toMatch(/\[(catalog|runtime|scheduler)\]/);
  });
});
