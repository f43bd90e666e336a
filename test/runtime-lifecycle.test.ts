import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { stringify as toYaml } from 'yaml';
import { ENTRY_LABEL, INSTANCE_LABEL, Podman } from '../src/runtime/podman.js';
import { makeHome, startRegistry, type RunningRegistry } from './helpers/registry-client.js';
import { requirePodman } from './helpers/podman.js';
import { repoRoot } from './helpers/shared-data.js';

/** Idle stop and restart limits, with short limits in config.yaml so they show within a test. */

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
async function containers(): Promise<number> {
  const all = await podman.listContainers({ [INSTANCE_LABEL]: '' });
  return all.filter((c) => c.labels[INSTANCE_LABEL]!.startsWith(`${reg.pid}-`) && c.labels[ENTRY_LABEL] === 'test/tiny').length;
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
    expect(await mount('test/tiny')).toMatchObject({ restarts: 1 });
    const third = await call('tiny__echo', { text: 'hello?' });
    expect(third.isError).toBe(true);
    expect(text(third)).toMatch(/failed 2 times in a row.*runtime\.maxRestarts is 1.*registry-remove and registry-add/);
    const m = await mount('test/tiny');
    expect(m).toMatchObject({ restarts: 1 });
    expect(m!.lastError).toMatch(/^restart limit reached \(1\); last failure: .*crashing on request/);
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
