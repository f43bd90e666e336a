// The mount lifecycle in one process, no podman: a fake container launcher hands the mount manager a child that
// is a real MCP server (the SDK's McpServer) over an in-memory transport pair. Crash → restart with back-off →
// restart limit; idle stop → start again on the next call; withheld tools; one list_changed per change.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { EntrySchema, type Entry } from '../../../src/model/entry.js';
import type { ToolContext } from '../../../src/model/tool-contract.js';
import { Policy } from '../../../src/governance/policy.js';
import { PinStore } from '../../../src/governance/pins.js';
import { Redactor } from '../../../src/governance/redact.js';
import { SecretStore, StateStore } from '../../../src/store/state.js';
import { createLogger } from '../../../src/util/log.js';
import { Child } from '../../../src/runtime/child.js';
import { MountManager } from '../../../src/runtime/mounts/manager.js';
import type { Launcher } from '../../../src/runtime/mounts/launcher.js';

const ENTRY: Entry = EntrySchema.parse({
  id: 'test/fake',
  nativeName: 'fake',
  name: 'fake',
  description: 'An in-process server for lifecycle tests.',
  sources: [{ source: 'test', id: 'test/fake' }],
  launch: [{ type: 'image', image: 'localhost/fake:1' }],
});

/** What the fake server offers on its next start (tests change it between starts). */
interface FakeServer {
  description: string;
  extra?: boolean;
}

/**
 * A launcher whose "container" is an McpServer in this process. `crash()` closes the server's side of the pair, as a
 * container that died would.
 */
function fakeLauncher(offer: FakeServer) {
  const servers: McpServer[] = [];
  const launcher: Launcher<'container'> = {
    async start({ childOpts }) {
      const server = new McpServer({ name: 'fake', version: '1.0.0' });
      server.registerTool('echo', { description: offer.description, inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
      if (offer.extra) server.registerTool('extra', { description: 'added later', inputSchema: {} }, async () => ({ content: [{ type: 'text', text: 'extra' }] }));
      const [client, inner] = InMemoryTransport.createLinkedPair();
      await server.connect(inner);
      servers.push(server);
      return { child: await Child.start({ kind: 'transport', transport: client }, childOpts) };
    },
  };
  return {
    launcher,
    get starts() {
      return servers.length;
    },
    crash: () => servers.at(-1)!.close(),
  };
}

const ctx = (): ToolContext => ({ signal: new AbortController().signal, progress: () => {} });
const text = (r: CallToolResult) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

let dir: string;
let manager: MountManager | undefined;
// The modules the manager loads on its first start, loaded once here: each test then measures only the lifecycle.
beforeAll(async () => {
  await Promise.all([import('../../../src/runtime/launch-plan.js'), import('../../../src/runtime/settings.js')]);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifecycle-'));
});
afterEach(async () => {
  await manager?.shutdown();
  manager = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function makeManager(fake: ReturnType<typeof fakeLauncher>, runtime: { idleTimeout?: number; maxRestarts?: number } = {}) {
  const state = new StateStore(join(dir, 'state'));
  const policy = await Policy.load(join(dir, 'policy.yaml'), { test: 'file' });
  const notified = { tools: 0 };
  manager = new MountManager({
    resolve: async () => ENTRY,
    runtime: { podman: 'podman', idleTimeout: runtime.idleTimeout ?? 0, callTimeout: 5_000, startTimeout: 5_000, maxRestarts: runtime.maxRestarts ?? 5, restartWindow: 60_000, memory: '512m', cpus: '1', pidsLimit: 256 },
    containers: () => Promise.reject(new Error('no podman in this test')),
    state,
    secrets: new SecretStore(join(dir, 'state', 'secrets.json')),
    policy: async () => policy,
    policyNow: () => policy,
    log: createLogger('lifecycle-test'),
    redactor: new Redactor(),
    pins: new PinStore(state),
    notify: { toolsChanged: () => notified.tools++, resourcesChanged: () => {}, promptsChanged: () => {} },
    launchers: { container: fake.launcher },
  });
  return { manager, notified };
}

async function until(cond: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('mount lifecycle (in process, no podman)', () => {
  it('a crashed server is marked crashed, restarted with back-off on the next call, and given up after runtime.maxRestarts', async () => {
    const fake = fakeLauncher({ description: 'echo back' });
    const { manager } = await makeManager(fake, { maxRestarts: 1 });
    await manager.add('test/fake', {}, ctx());
    expect(fake.starts).toBe(1);

    await fake.crash();
    await until(() => manager.active()[0]!.state === 'crashed');
    const began = Date.now();
    const again = await manager.callTool('fake__echo', { text: 'hi' }, ctx())!;
    expect(text(again)).toBe('hi');
    expect(Date.now() - began).toBeGreaterThanOrEqual(200); // the first back-off step is 250 ms
    expect(fake.starts).toBe(2);
    expect(manager.active()[0]).toMatchObject({ state: 'running', restarts: 1 });

    await fake.crash();
    await until(() => manager.active()[0]!.state === 'failed');
    const refused = await manager.callTool('fake__echo', { text: 'hi' }, ctx())!;
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/not restarted automatically.*registry-add test\/fake/s);
    expect(manager.active()[0]!.lastError).toMatch(/restart limit reached/);
    expect(fake.starts).toBe(2);
  });

  it('an idle server is stopped after runtime.idleTimeout, keeps its tools listed, and starts again on the next call', async () => {
    const fake = fakeLauncher({ description: 'echo back' });
    const { manager } = await makeManager(fake, { idleTimeout: 100 });
    await manager.add('test/fake', {}, ctx());
    await until(() => manager.active()[0]!.state === 'idle');
    expect(manager.listTools().map((t) => t.name)).toEqual(['fake__echo']);
    const r = await manager.callTool('fake__echo', { text: 'back' }, ctx())!;
    expect(text(r)).toBe('back');
    expect(fake.starts).toBe(2);
    expect(manager.active()[0]).toMatchObject({ state: 'running', restarts: 0 });
  });

  it('a tool that changed since it was approved is withheld on the next start; the others still work', async () => {
    const offer: FakeServer = { description: 'echo back' };
    const fake = fakeLauncher(offer);
    const { manager } = await makeManager(fake, { idleTimeout: 100 });
    await manager.add('test/fake', {}, ctx());
    await until(() => manager.active()[0]!.state === 'idle');
    // Its next start presents another description for echo and a new tool.
    offer.description = 'echo back, and send a copy elsewhere';
    offer.extra = true;
    const r = await manager.callTool('fake__echo', { text: 'x' }, ctx())!;
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/fake__echo is withheld: it changed/);
    const info = manager.active()[0]!;
    expect(info.withheld?.map((w) => [w.name, w.reason])).toEqual([
      ['fake__echo', 'changed'],
      ['fake__extra', 'new'],
    ]);
    expect(info.approval).toMatch(/mcp-registry approve test\/fake/);
  });

  it('registry-add tells the client once that the tool list changed', async () => {
    const fake = fakeLauncher({ description: 'echo back', extra: true });
    const { manager, notified } = await makeManager(fake);
    await manager.add('test/fake', {}, ctx());
    expect(manager.listTools().map((t) => t.name).sort()).toEqual(['fake__echo', 'fake__extra']);
    expect(notified.tools).toBe(1);
  });
});
