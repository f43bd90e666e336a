// A registry's tool layer in one process, no podman: a MountManager whose "containers" are low-level MCP servers
// in this process (any names, annotations, prompts and resources a test wants a child to send), its tool table
// served by the registry's own MCP server, and an SDK client connected over an in-memory transport pair.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { EntrySchema, type Entry } from '../../src/model/entry.js';
import { Policy } from '../../src/governance/policy.js';
import { PinStore } from '../../src/governance/pins.js';
import { Redactor } from '../../src/governance/redact.js';
import { SecretStore, StateStore } from '../../src/store/state.js';
import { createLogger } from '../../src/util/log.js';
import { Child } from '../../src/runtime/child.js';
import { MountManager } from '../../src/runtime/mounts/manager.js';
import type { Launcher } from '../../src/runtime/mounts/launcher.js';
import { createRegistryServer } from '../../src/tools/mcp-server.js';
import type { ToolDef } from '../../src/tools/tool-def.js';

/** What one fake child offers: tools (each answers with its own name), prompts and resources by name/uri. */
export interface FakeOffer {
  tools: Array<Pick<Tool, 'name' | 'description' | 'annotations'>>;
  prompts?: string[];
  resources?: Array<{ uri: string; name: string }>;
  /** prompts/list and resources/list answer after this long (to let another child answer first). */
  listDelayMs?: number;
}

export function fakeEntry(id: string, extra: Record<string, unknown> = {}): Entry {
  const name = id.split('/').pop()!;
  return EntrySchema.parse({ id, nativeName: name, name, description: `${name}, an in-process test server.`, sources: [{ source: 'test', id }], launch: [{ type: 'image', image: `localhost/${name}:1` }], ...extra });
}

/** A launcher starting, per entry id, a server that offers what `offers` says for that id. */
export function fakeLauncher(offers: Record<string, FakeOffer>) {
  const started: string[] = [];
  /** `<entry id> <tool>` of every tools/call a child received. */
  const calls: string[] = [];
  const launcher: Launcher<'container'> = {
    async start({ childOpts, entryId }) {
      const offer = offers[entryId];
      if (!offer) throw new Error(`no fake offer for ${entryId}`);
      started.push(entryId);
      const caps: Record<string, object> = { tools: {} };
      if (offer.prompts) caps.prompts = {};
      if (offer.resources) caps.resources = {};
      const server = new Server({ name: entryId, version: '1.0.0' }, { capabilities: caps });
      server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: offer.tools.map((t) => ({ ...t, inputSchema: { type: 'object' as const } })) }));
      server.setRequestHandler(CallToolRequestSchema, async (req): Promise<CallToolResult> => {
        calls.push(`${entryId} ${req.params.name}`);
        return { content: [{ type: 'text', text: `called ${req.params.name}` }] };
      });
      const later = () => new Promise((r) => setTimeout(r, offer.listDelayMs ?? 0));
      if (offer.prompts) {
        server.setRequestHandler(ListPromptsRequestSchema, async () => (await later(), { prompts: offer.prompts!.map((name) => ({ name })) }));
        server.setRequestHandler(GetPromptRequestSchema, async (req) => ({ messages: [{ role: 'user' as const, content: { type: 'text' as const, text: `prompt ${req.params.name}` } }] }));
      }
      if (offer.resources) {
        server.setRequestHandler(ListResourcesRequestSchema, async () => (await later(), { resources: offer.resources! }));
        server.setRequestHandler(ReadResourceRequestSchema, async (req) => ({ contents: [{ uri: req.params.uri, text: `resource ${req.params.uri}` }] }));
      }
      const [client, inner] = InMemoryTransport.createLinkedPair();
      await server.connect(inner);
      return { child: await Child.start({ kind: 'transport', transport: client }, childOpts) };
    },
  };
  return { launcher, started, calls };
}

/**
 * What every in-process manager of the tests shares: no podman, a real state and secrets store under `dir`, the
 * policy the test holds, and `launcher` for every container start. Callers add `resolve` and `notify`.
 */
export function inProcessDeps(o: { dir: string; state: StateStore; policy: () => Policy; launcher: Launcher<'container'>; label: string }) {
  return {
    runtime: { podman: 'podman', idleTimeout: 0, callTimeout: 5_000, startTimeout: 5_000, maxRestarts: 5, restartWindow: 60_000, memory: '512m', cpus: '1', pidsLimit: 256 },
    containers: () => Promise.reject(new Error('no podman in this test')),
    state: o.state,
    secrets: new SecretStore(join(o.dir, 'state', 'secrets.json')),
    policy: async () => o.policy(),
    policyNow: () => o.policy(),
    log: createLogger(o.label),
    redactor: new Redactor(),
    pins: new PinStore(o.state),
    launchers: { container: o.launcher },
  };
}

export interface FakeRegistry {
  dir: string;
  manager: MountManager;
  client: Client;
  close(): Promise<void>;
}

/**
 * A mount manager over `entries` with the fake launcher, and a client of the registry server whose tool table
 * `tools(manager)` builds (e.g. runtimeTools). `dir` is the home (state/, policy.yaml).
 */
export async function fakeRegistry(entries: Entry[], launcher: Launcher<'container'>, tools: (m: MountManager, dir: string) => ToolDef[] | Promise<ToolDef[]>, opts: { dir?: string; policyYaml?: string; onToolsSeen?: (id: string, tools: Tool[]) => void } = {}): Promise<FakeRegistry> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'fake-reg-')));
  if (opts.policyYaml !== undefined) await (await import('node:fs/promises')).writeFile(join(dir, 'policy.yaml'), opts.policyYaml);
  const state = new StateStore(join(dir, 'state'));
  const policy = await Policy.load(join(dir, 'policy.yaml'), { test: 'file' });
  const byId = new Map(entries.map((e) => [e.id, e]));
  let reg: ReturnType<typeof createRegistryServer> | undefined;
  const manager = new MountManager({
    ...inProcessDeps({ dir, state, policy: () => policy, launcher, label: 'fake-registry' }),
    resolve: async (id) => {
      const e = byId.get(id);
      if (!e) throw new Error(`no entry ${id}`);
      return e;
    },
    notify: { toolsChanged: () => reg?.notifyToolsChanged(), resourcesChanged: () => reg?.notifyResourcesChanged(), promptsChanged: () => reg?.notifyPromptsChanged() },
    ...(opts.onToolsSeen ? { onToolsSeen: opts.onToolsSeen } : {}),
  });
  reg = createRegistryServer(await tools(manager, dir));
  reg.addProvider(manager);
  reg.addResourceProvider(manager);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await reg.server.connect(a);
  const client = new Client({ name: 'fake-test', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  await client.connect(b);
  return {
    dir,
    manager,
    client,
    async close() {
      await client.close().catch(() => {});
      await manager.shutdown();
      if (!opts.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
