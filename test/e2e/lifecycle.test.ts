import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { stringify as toYaml } from 'yaml';
import { ENTRY_LABEL, INSTANCE_LABEL, Podman } from '../../src/runtime/podman/podman.js';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { requirePodman, STUBBORN_YAML } from '../helpers/podman.js';
import { repoRoot } from '../helpers/shared-data.js';

/** Idle stop, restart limits and stopping, with short limits in config.yaml so they show within a test. */

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
type Mount = { id: string; state: string; tools: string[]; restarts: number; lastError?: string };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
const podman = new Podman();

let home: string;
let reg: RunningRegistry;

async function call(name: string, args: Record<string, unknown> = {}): Promise<Result> {
  return (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
}
async function mount(id: string): Promise<Mount | undefined> {
  return ((await call('registry-active')).structuredContent as { mounts: Mount[] }).mounts.find((m) => m.id === id);
}
/** Containers of entry `id` started by the registry `r`. */
async function containersOf(r: RunningRegistry, id: string) {
  const all = await podman.listContainers({ [INSTANCE_LABEL]: '' });
  return all.filter((c) => c.labels[INSTANCE_LABEL]!.startsWith(`${r.pid}-`) && c.labels[ENTRY_LABEL] === id);
}
async function containers(): Promise<number> {
  return (await containersOf(reg, 'test/tiny')).length;
}

beforeAll(async () => {
  home = await makeHome({
    sources: [{ name: 'test', type: 'file', path: join(repoRoot, 'test/fixtures/runtime-catalog') }],
    refresh: { onStart: false },
    runtime: { idleTimeout: '2s', maxRestarts: 1 },
  });
  reg = await startRegistry(home);
});

afterAll(async () => {
  await reg?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('runtime lifecycle', () => {
  it('stops a server nobody used for idleTimeout, keeps its tools listed, and starts it again on the next call', async (ctx) => {
    await requirePodman(ctx);
    const add = await call('registry-add', { id: 'test/tiny' });
    expect(add.isError, text(add)).toBeFalsy();
    expect(await containers()).toBe(1);
    await expect.poll(async () => (await mount('test/tiny'))?.state, { timeout: 20_000, interval: 500 }).toBe('idle');
    await expect.poll(containers, { timeout: 10_000 }).toBe(0);
    expect((await reg.client.listTools()).tools.map((t) => t.name)).toContain('tiny__echo');
    expect((await call('tiny__echo', { text: 'awake' })).content).toEqual([{ type: 'text', text: 'awake' }]);
    expect(await mount('test/tiny')).toMatchObject({ state: 'running', restarts: 0 });
    expect(await containers()).toBe(1);
  });

  it('restarts a crashing server until runtime.maxRestarts, then refuses with the reason and what to do', async (ctx) => {
    await requirePodman(ctx);
    const first = await call('tiny__crash');
    expect(first.isError).toBe(true);
    expect(text(first)).toMatch(/exited.*the next call restarts it/);
    const second = await call('tiny__crash');
    expect(second.isError).toBe(true);
    // The call it died in already says that this was one crash too many.
    expect(text(second)).toMatch(/while crash was running; it is not restarted again: test\/tiny crashed or failed to start 2 times within 10m/);
    expect(await mount('test/tiny')).toMatchObject({ restarts: 1 });
    const third = await call('tiny__echo', { text: 'hello?' });
    expect(third.isError).toBe(true);
    expect(text(third)).toMatch(/crashed or failed to start 2 times within 10m \(runtime\.maxRestarts is 1, runtime\.restartWindow 10m\).*registry-add test\/tiny/);
    const m = await mount('test/tiny');
    expect(m).toMatchObject({ state: 'failed', restarts: 1 });
    expect(m!.lastError).toMatch(/^restart limit reached \(2 crashes or failed starts within 10m; runtime\.maxRestarts is 1\); last failure: .*crashing on request/);
    expect(await containers()).toBe(0);
    // Removing and adding again starts afresh.
    await call('registry-remove', { id: 'test/tiny' });
    const again = await call('registry-add', { id: 'test/tiny' });
    expect(again.isError, text(again)).toBeFalsy();
    expect((await call('tiny__echo', { text: 'fresh' })).content).toEqual([{ type: 'text', text: 'fresh' }]);
  });

  it('a start that fails after its secrets were stored leaves no podman secret behind', async (ctx) => {
    await requirePodman(ctx);
    const failHome = await makeHome({ sources: [{ name: 'test', type: 'file', path: join(repoRoot, 'test/fixtures/runtime-catalog') }], refresh: { onStart: false } });
    // 1 MB of memory: podman creates the container (reading its secret), then the runtime refuses to start it.
    await writeFile(join(failHome, 'policy.yaml'), toYaml({ entries: { 'test/tiny': { memory: '1m' } } }));
    const r = await startRegistry(failHome);
    try {
      const set = (await r.client.callTool({ name: 'registry-config-set', arguments: { id: 'test/tiny', values: { TINY_API_TOKEN: 'never-left-behind' } } })) as Result;
      expect(set.isError, text(set)).toBeFalsy();
      const add = (await r.client.callTool({ name: 'registry-add', arguments: { id: 'test/tiny' } }, undefined, { timeout: 120_000 })) as Result;
      expect(add.isError).toBe(true);
      expect(text(add)).toMatch(/memory limit/);
      const stored = /stored as podman secrets: TINY_API_TOKEN \((mcp-registry-[\w.-]+)\)/.exec(r.stderr())?.[1];
      expect(stored, r.stderr().slice(-2000)).toBeDefined();
      expect(await podman.listSecrets()).not.toContain(stored);
    } finally {
      await r.close();
      await rm(failHome, { recursive: true, force: true });
    }
  });
});

/**
 * A registry of its own for a test, on a fresh home with the runtime catalog — or, when `extra` is given, with only
 * those catalogs (one entry each; an entry with the tiny image would otherwise merge into test/tiny).
 */
async function ownRegistry(runtime: Record<string, unknown>, extra: Record<string, string> = {}): Promise<{ r: RunningRegistry; home: string; call: (name: string, args?: Record<string, unknown>) => Promise<Result> }> {
  const sources: unknown[] = Object.keys(extra).map((name) => ({ name, type: 'file', path: `./${name}` }));
  if (!sources.length) sources.push({ name: 'test', type: 'file', path: join(repoRoot, 'test/fixtures/runtime-catalog') });
  const h = await makeHome({ sources, refresh: { onStart: false }, runtime });
  for (const [name, yaml] of Object.entries(extra)) {
    const dir = join(h, name, 'servers', name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'server.yaml'), yaml);
  }
  const r = await startRegistry(h);
  cleanups.push(async () => {
    await r.close();
    const left = await podman.listContainers({ [INSTANCE_LABEL]: '' }).catch(() => []);
    const ours = left.filter((c) => c.labels[INSTANCE_LABEL]!.startsWith(`${r.pid}-`));
    if (ours.length) await podman.remove(ours.map((c) => c.id)).catch(() => {});
    await rm(h, { recursive: true, force: true });
  });
  const call = async (name: string, args: Record<string, unknown> = {}) => (await r.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
  return { r, home: h, call };
}
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => {});
});

async function mountOf(call: (name: string, args?: Record<string, unknown>) => Promise<Result>, id: string): Promise<Mount | undefined> {
  return ((await call('registry-active')).structuredContent as { mounts: Mount[] }).mounts.find((m) => m.id === id);
}

describe('restart accounting: crashes and failed starts within runtime.restartWindow count against runtime.maxRestarts', () => {
  it('a server killed again and again (podman kill) is restarted maxRestarts times, then left failed, saying so in registry-active and in the call', async (ctx) => {
    await requirePodman(ctx);
    const { r, call } = await ownRegistry({ maxRestarts: 2 });
    const add = await call('registry-add', { id: 'test/tiny' });
    expect(add.isError, text(add)).toBeFalsy();
    for (let kill = 1; kill <= 3; kill++) {
      const [c] = await containersOf(r, 'test/tiny');
      expect(c, `container before kill ${kill}`).toBeDefined();
      await execa('podman', ['kill', c!.name], { cwd: '/' });
      await expect.poll(async () => (await mountOf(call, 'test/tiny'))?.state, { timeout: 15_000, interval: 200 }).not.toBe('running');
      if (kill === 3) break;
      // Each successful call after a restart used to wipe the count, so a server killed after every call ran forever.
      expect((await call('tiny__echo', { text: `after kill ${kill}` })).content).toEqual([{ type: 'text', text: `after kill ${kill}` }]);
      expect(await mountOf(call, 'test/tiny')).toMatchObject({ state: 'running', restarts: kill });
    }
    const m = await mountOf(call, 'test/tiny');
    expect(m).toMatchObject({ state: 'failed', restarts: 2 });
    expect(m!.lastError).toMatch(/^restart limit reached \(3 crashes or failed starts within 10m; runtime\.maxRestarts is 2\); last failure: the server exited/);
    const refused = await call('tiny__echo', { text: 'again?' });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/^test\/tiny crashed or failed to start 3 times within 10m \(runtime\.maxRestarts is 2, runtime\.restartWindow 10m\), so it is not restarted automatically\. Last failure: the server exited.*registry-add test\/tiny for a fresh start/);
    expect(await containersOf(r, 'test/tiny')).toHaveLength(0);
    expect((await mountOf(call, 'test/tiny'))!.restarts).toBe(2);
    // registry-add is the fresh start it names.
    const again = await call('registry-add', { id: 'test/tiny' });
    expect(again.isError, text(again)).toBeFalsy();
    expect((await call('tiny__echo', { text: 'fresh' })).content).toEqual([{ type: 'text', text: 'fresh' }]);
  });

  it('crashes that have left the window no longer count: a server that crashes now and then keeps being restarted', async (ctx) => {
    await requirePodman(ctx);
    const { call } = await ownRegistry({ maxRestarts: 1, restartWindow: '3s' });
    expect((await call('registry-add', { id: 'test/tiny' })).isError).toBeFalsy();
    for (let crash = 1; crash <= 3; crash++) {
      const r = await call('tiny__crash');
      expect(text(r)).toMatch(/exited.*while crash was running; the next call restarts it\.$/);
      expect((await call('tiny__echo', { text: `up again ${crash}` })).content).toEqual([{ type: 'text', text: `up again ${crash}` }]);
      await new Promise((res) => setTimeout(res, 3_200));
    }
    expect(await mountOf(call, 'test/tiny')).toMatchObject({ state: 'running', restarts: 3 });
  });
});

describe('stopping a server that ignores stdin EOF and SIGTERM', () => {
  it('registry-remove stops it by its container: gone when the answer comes, within a bounded time', async (ctx) => {
    await requirePodman(ctx);
    const { r, call } = await ownRegistry({}, { stubborn: STUBBORN_YAML });
    const add = await call('registry-add', { id: 'stubborn/stubborn' });
    expect(add.isError, text(add)).toBeFalsy();
    expect(await containersOf(r, 'stubborn/stubborn')).toHaveLength(1);
    const t0 = Date.now();
    const removed = await call('registry-remove', { id: 'stubborn/stubborn' });
    const ms = Date.now() - t0;
    expect(removed.structuredContent).toEqual({ id: 'stubborn/stubborn', removed: true });
    // Before, the SDK's SIGKILL (after 4 s) ended only `podman run`, and the container ran on until the registry stopped.
    expect(await containersOf(r, 'stubborn/stubborn')).toHaveLength(0);
    expect(ms).toBeLessThan(6_000);
    expect(r.stderr()).toMatch(/still running 2000 ms after its stdin closed: stopped by force/);
    process.stderr.write(`[lifecycle] registry-remove of a server ignoring EOF and SIGTERM: ${ms} ms, container gone\n`);
  });

  it('when the registry stops, its container is removed and the registry exits within a bounded time', async (ctx) => {
    await requirePodman(ctx);
    const { r, call } = await ownRegistry({}, { stubborn: STUBBORN_YAML });
    expect((await call('registry-add', { id: 'stubborn/stubborn' })).isError).toBeFalsy();
    expect(await containersOf(r, 'stubborn/stubborn')).toHaveLength(1);
    const t0 = Date.now();
    await r.close();
    const closeMs = Date.now() - t0;
    expect(await containersOf(r, 'stubborn/stubborn')).toHaveLength(0);
    expect(closeMs).toBeLessThan(3_000);
    process.stderr.write(`[lifecycle] registry stop with a server ignoring EOF and SIGTERM: exited after ${closeMs} ms, container gone\n`);
  });
});
