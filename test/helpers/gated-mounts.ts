// A mount manager with no podman: its "containers" are McpServers in this process over an in-memory transport pair,
// and policy.yaml is a real file the test rewrites (governance tests: every path answers to the same gates).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { EntrySchema, type Entry } from '../../src/model/entry.js';
import type { ToolContext } from '../../src/model/tool-contract.js';
import { Policy } from '../../src/governance/policy.js';
import { PinStore } from '../../src/governance/pins.js';
import { Redactor } from '../../src/governance/redact.js';
import { SecretStore, StateStore } from '../../src/store/state.js';
import { createLogger } from '../../src/util/log.js';
import { Child } from '../../src/runtime/child.js';
import { MountManager, type MountManagerDeps } from '../../src/runtime/mounts/manager.js';
import type { Launcher } from '../../src/runtime/mounts/launcher.js';
import { inProcessDeps } from './fake-mounts.js';

export const FAKE: Entry = EntrySchema.parse({
  id: 'test/fake',
  nativeName: 'fake',
  name: 'fake',
  description: 'An in-process server for governance tests.',
  sources: [{ source: 'test', id: 'test/fake' }],
  launch: [{ type: 'image', image: 'localhost/fake:1' }],
  config: { parameters: { type: 'object', properties: { mode: { type: 'string' } } } },
});

export const ctx = (over: Partial<ToolContext> = {}): ToolContext => ({ signal: new AbortController().signal, progress: () => {}, ...over });
export const text = (r: CallToolResult) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

/** A home with state and policy.yaml; `policy(yaml)` rewrites the file and makes it the policy of now. */
export async function fakeHome() {
  const dir = await mkdtemp(join(tmpdir(), 'gates-'));
  const file = join(dir, 'policy.yaml');
  let policy = await Policy.load(file, { test: 'file' });
  const state = new StateStore(join(dir, 'state'));
  const managers: MountManager[] = [];
  let starts = 0;
  const launcher: Launcher<'container'> = {
    async start({ childOpts }) {
      starts++;
      const server = new McpServer({ name: 'fake', version: '1.0.0' });
      server.registerTool('echo', { description: 'echo back', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
      server.registerTool('wipe', { description: 'deletes everything', inputSchema: {}, annotations: { destructiveHint: true } }, async () => ({ content: [{ type: 'text', text: 'wiped' }] }));
      const [client, inner] = InMemoryTransport.createLinkedPair();
      await server.connect(inner);
      return { child: await Child.start({ kind: 'transport', transport: client }, childOpts) };
    },
  };
  return {
    get starts() {
      return starts;
    },
    async policy(yaml: string) {
      await writeFile(file, yaml);
      policy = await Policy.load(file, { test: 'file' });
    },
    manager(over: Partial<MountManagerDeps> = {}) {
      const m = new MountManager({
        ...inProcessDeps({ dir, state, policy: () => policy, launcher, label: 'gates-test' }),
        resolve: async () => FAKE,
        notify: { toolsChanged: () => {}, resourcesChanged: () => {}, promptsChanged: () => {} },
        ...over,
      });
      managers.push(m);
      return m;
    },
    state,
    dir,
    async close() {
      await Promise.all(managers.map((m) => m.shutdown()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
