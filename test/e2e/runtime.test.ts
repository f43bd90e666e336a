import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ErrorCode,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { stringify as toYaml } from 'yaml';
import { Podman, INSTANCE_LABEL, ENTRY_LABEL } from '../../src/runtime/podman/podman.js';
import { readAudit } from '../../src/governance/audit-read.js';
import { cliPath, makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { requirePodman } from '../helpers/podman.js';
import { startRemoteMcp, type RemoteMcp } from '../helpers/remote-mcp.js';
import { repoRoot } from '../helpers/shared-data.js';

/**
 * Issue 3, "Done when": the real SDK client drives the BUILT server over stdio. A `file` source lists the tiny test
 * image, the real npm server-everything packed into a local image, and a local streamable-HTTP server standing in
 * for a remote. Containers are real (podman).
 */

const CATALOG = join(repoRoot, 'test/fixtures/runtime-catalog');
// Unique per run: podman's database keeps what older code wrote into it, and other runs share that database.
const SECRET = `sekr1t-Value-that-must-never-leak-${randomBytes(6).toString('hex')}`;
const REMOTE_KEY = 'remote-key-0123456789';
const podman = new Podman();

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

async function call(r: RunningRegistry, name: string, args: Record<string, unknown> = {}): Promise<Result> {
  return (await r.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
}

/** Pids of the registries this file started (other test files run registries of their own at the same time). */
const ours = new Set<number>();
/** Containers started by the registries of this file. */
async function ourContainers() {
  const all = await podman.listContainers({ [INSTANCE_LABEL]: '' });
  return all.filter((c) => ours.has(Number((c.labels[INSTANCE_LABEL] ?? '').split('-')[0])));
}
const instanceOf = (r: RunningRegistry) => `${r.pid}-`;

let remote: RemoteMcp;
let home: string;
let reg: RunningRegistry;
let listChanged = 0;

async function start(extraEnv: Record<string, string> = {}, capabilities?: Record<string, unknown>): Promise<RunningRegistry> {
  const r = await startRegistry(home, { env: extraEnv, capabilities });
  ours.add(r.pid!);
  return r;
}

beforeAll(async () => {
  remote = await startRemoteMcp({ auth: { header: 'X-Api-Key', value: REMOTE_KEY } });
  home = await makeHome({
    sources: [
      { name: 'test', type: 'file', path: CATALOG },
      { name: 'remote', type: 'file', path: './remote.json' },
    ],
    refresh: { onStart: false },
    runtime: { startTimeout: '60s', callTimeout: '60s' },
  });
  await writeFile(
    join(home, 'remote.json'),
    JSON.stringify([
      {
        name: 'io.example/standin',
        description: 'A local streamable-HTTP server standing in for a remote MCP endpoint.',
        version: '1.0.0',
        remotes: [{ type: 'streamable-http', url: remote.url, headers: [{ name: 'X-Api-Key', description: 'API key', isRequired: true, isSecret: true }] }],
      },
    ]),
  );
  // Own file sources are trusted by default; this policy trusts only what it lists, so test/stranger needs approval.
  // The remote stand-in listens on plain http at 127.0.0.1, which the URL guard refuses unless policy allows it.
  await writeFile(
    join(home, 'policy.yaml'),
    toYaml({
      allow: ['test/tiny', 'test/tiny-secret', 'test/everything', 'remote/*'],
      trust: { fileSources: false },
      entries: { 'remote/*': { remote: { allowPrivate: true, allowHttp: true } } },
    }),
  );
  reg = await start();
  reg.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
  // Fill the catalog cache (first run) so every later registry starts from it.
  const r = await call(reg, 'registry-refresh', {});
  expect(r.isError).toBeFalsy();
});

afterAll(async () => {
  await reg?.close();
  await remote?.close();
  const left = await ourContainers().catch(() => []);
  if (left.length) await podman.remove(left.map((c) => c.id)).catch(() => {});
  if (home) await rm(home, { recursive: true, force: true });
});

describe('runtime over stdio (issue 3)', () => {
  it('adds the tiny server: the result lists its tools with input schemas, list_changed arrives, tools answer directly and via registry-exec', async (ctx) => {
    await requirePodman(ctx);
    const before = listChanged;
    const add = await call(reg, 'registry-add', { id: 'test/tiny' });
    expect(add.isError, text(add)).toBeFalsy();
    const s = add.structuredContent as { id: string; prefix: string; state: string; tools: { name: string; inputSchema: { properties?: Record<string, unknown> } }[] };
    expect(s).toMatchObject({ id: 'test/tiny', prefix: 'tiny', state: 'running' });
    const echo = s.tools.find((t) => t.name === 'tiny__echo')!;
    expect(echo.inputSchema.properties).toHaveProperty('text');
    expect(text(add)).toContain('tiny__echo(text: string)');
    // Rootful podman enforces the limits (on cgroup v1 too): nothing to warn about.
    expect(s).not.toHaveProperty('limits');
    expect((await call(reg, 'registry-status')).structuredContent).toMatchObject({ runtime: { rootless: false, resourceLimits: true } });
    await expect.poll(() => listChanged).toBeGreaterThan(before);
    const names = (await reg.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['registry-add', 'registry-exec', 'tiny__echo', 'tiny__multi', 'tiny__crash']));

    expect((await call(reg, 'tiny__echo', { text: 'hello' })).content).toEqual([{ type: 'text', text: 'hello' }]);
    const multi = await call(reg, 'registry-exec', { tool: 'tiny__multi' });
    expect(multi.content.map((b) => b.type)).toEqual(['text', 'text', 'image', 'resource']);
    expect(multi.structuredContent).toEqual({ count: 4, kinds: ['text', 'text', 'image', 'resource'] });
    const add2 = await call(reg, 'tiny__add', { a: 20, b: 22 });
    expect(add2.structuredContent).toEqual({ sum: 42 });
    const fail = await call(reg, 'registry-exec', { tool: 'tiny__fail', arguments: { message: 'as designed' } });
    expect(fail).toMatchObject({ isError: true, content: [{ type: 'text', text: 'as designed' }] });
    const unknown = await call(reg, 'registry-exec', { tool: 'tiny__nope' });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toMatch(/no tool "tiny__nope".*tiny__echo/);
  });

  it('an 11 MB request is refused with an error while the registry keeps serving: its container keeps running, the next call is answered', async (ctx) => {
    await requirePodman(ctx);
    const before = (await ourContainers()).filter((c) => c.labels[ENTRY_LABEL] === 'test/tiny');
    expect(before).toHaveLength(1);
    const err = await reg.client.callTool({ name: 'tiny__echo', arguments: { text: 'x'.repeat(11 * 1024 * 1024) } }, undefined, { timeout: 60_000 }).then(
      () => null,
      (e: unknown) => e as McpError,
    );
    // Before: the connection closed (-32000) and the registry stopped, taking the container with it.
    expect(err).toBeInstanceOf(McpError);
    expect(err!.code).toBe(ErrorCode.InvalidRequest);
    expect(err!.message).toMatch(/Request too large: 11 MB \(limit 10 MB\)/);
    expect((await call(reg, 'tiny__echo', { text: 'next' })).content).toEqual([{ type: 'text', text: 'next' }]);
    const after = (await ourContainers()).filter((c) => c.labels[ENTRY_LABEL] === 'test/tiny');
    expect(after.map((c) => c.id)).toEqual(before.map((c) => c.id));
  });

  it('runs the container hardened: nobody, read-only root, writable /tmp, no network, no capabilities, labelled', async (ctx) => {
    await requirePodman(ctx);
    const info = (await call(reg, 'tiny__sandbox_info')).structuredContent as Record<string, unknown>;
    expect(info).toMatchObject({ uid: 65534, gid: 65534, rootWritable: false, tmpWritable: true, interfaces: ['lo'], capEff: '0000000000000000', noNewPrivs: '1' });
    const mine = (await ourContainers()).filter((c) => c.labels[ENTRY_LABEL] === 'test/tiny');
    expect(mine).toHaveLength(1);
    expect(mine[0]!.labels[INSTANCE_LABEL]!.startsWith(instanceOf(reg))).toBe(true);
    expect(mine[0]!.name).toBe(`mcp-registry-${mine[0]!.labels[INSTANCE_LABEL]}-tiny`);
  });

  it('adds the real npm server-everything and proxies its tools, resources and prompts', async (ctx) => {
    await requirePodman(ctx);
    const add = await call(reg, 'registry-add', { id: 'test/everything' });
    expect(add.isError, text(add)).toBeFalsy();
    expect((add.structuredContent as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain('everything__get-sum');
    expect(text(await call(reg, 'everything__echo', { message: 'über' }))).toBe('Echo: über');
    const sum = await call(reg, 'registry-exec', { tool: 'everything__get-sum', arguments: { a: 2, b: 3 } });
    expect(text(sum)).toContain('5');
    const structured = await call(reg, 'everything__get-structured-content', { location: 'New York' });
    expect(structured.structuredContent).toMatchObject({ temperature: expect.any(Number) });

    const { resources } = await reg.client.listResources();
    const doc = resources.find((r) => r.uri.startsWith('mcp-registry://everything/'));
    expect(doc, JSON.stringify(resources.slice(0, 3))).toBeDefined();
    const read = await reg.client.readResource({ uri: doc!.uri });
    expect(read.contents[0]!.uri).toBe(doc!.uri);
    const { prompts } = await reg.client.listPrompts();
    expect(prompts.map((p) => p.name)).toContain('everything__simple-prompt');
    const prompt = await reg.client.getPrompt({ name: 'everything__simple-prompt' });
    expect(JSON.stringify(prompt.messages)).toContain('simple prompt');
  });

  it('reports missing secrets before starting anything, then starts once they are set', async (ctx) => {
    await requirePodman(ctx);
    const r = await call(reg, 'registry-add', { id: 'test/tiny-secret' });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('tiny-secret.token');
    expect(text(r)).toContain('registry-config-set');
    expect((await ourContainers()).filter((c) => c.labels[ENTRY_LABEL] === 'test/tiny-secret')).toHaveLength(0);
    let found = await call(reg, 'registry-find', { query: 'tiny token' });
    const item = () => (found.structuredContent as { results: { id: string; requiresConfig: string[] }[] }).results.find((x) => x.id === 'test/tiny-secret')!;
    expect(item().requiresConfig).toEqual(['tiny-secret.token']);
    const set = await call(reg, 'registry-config-set', { id: 'test/tiny-secret', values: { TINY_REQUIRED_TOKEN: 'short-lived-token-1' } });
    expect(set.structuredContent).toEqual({ id: 'test/tiny-secret', set: ['tiny-secret.token'], missing: [] });
    found = await call(reg, 'registry-find', { query: 'tiny token' });
    expect(item().requiresConfig).toEqual([]);
    const add = await call(reg, 'registry-add', { id: 'test/tiny-secret', prefix: 'locked' });
    expect(add.isError, text(add)).toBeFalsy();
    expect((await call(reg, 'locked__env_has', { name: 'TINY_REQUIRED_TOKEN' })).structuredContent).toMatchObject({ set: true });
    const removed = await call(reg, 'registry-remove', { id: 'test/tiny-secret' });
    expect(removed.structuredContent).toEqual({ id: 'test/tiny-secret', removed: true });
    expect((await reg.client.listTools()).tools.map((t) => t.name)).not.toContain('locked__echo');
    await expect.poll(async () => (await ourContainers()).filter((c) => c.labels[ENTRY_LABEL] === 'test/tiny-secret').length).toBe(0);
  });

  it('a secret set with registry-config-set reaches the running server (restarted) and is never shown, logged, stored elsewhere or put on a command line', async (ctx) => {
    await requirePodman(ctx);
    const set = await call(reg, 'registry-config-set', { id: 'test/tiny', values: { TINY_API_TOKEN: SECRET, variant: 'v2' } });
    expect(set.isError, text(set)).toBeFalsy();
    expect(set.structuredContent).toEqual({ id: 'test/tiny', set: ['variant', 'tiny.api_token'], missing: [] });
    expect(JSON.stringify(set)).not.toContain(SECRET);
    // Delivered (and the running server was restarted to get it): the server sees a value of the right length.
    const has = await call(reg, 'tiny__env_has', { name: 'TINY_API_TOKEN' });
    expect(has.structuredContent).toEqual({ name: 'TINY_API_TOKEN', set: true, length: SECRET.length });
    // The non-secret setting too: the echo tool's description changed — a change to an approved tool, so it is
    // withheld (the others work) until approved in a terminal; the running registry picks the approval up.
    const active = (await call(reg, 'registry-active')).structuredContent as { mounts: { id: string; withheld?: { name: string; description?: string }[] }[] };
    expect(active.mounts.find((m) => m.id === 'test/tiny')!.withheld).toEqual([{ name: 'tiny__echo', reason: 'changed', description: expect.stringContaining('[variant v2]') }]);
    expect((await reg.client.listTools()).tools.map((t) => t.name)).not.toContain('tiny__echo');
    const { execa } = await import('execa');
    await execa(process.execPath, [cliPath, 'approve', 'test/tiny'], { env: { ...process.env, MCP_REGISTRY_HOME: home } });
    await expect.poll(async () => (await reg.client.listTools()).tools.find((t) => t.name === 'tiny__echo')?.description).toContain('[variant v2]');
    // A server that echoes the secret back gets it redacted on the way to the agent.
    const leaked = await call(reg, 'registry-exec', { tool: 'tiny__echo_env', arguments: { name: 'TINY_API_TOKEN' } });
    expect(text(leaked)).toBe('[redacted secret]');
    const direct = await call(reg, 'tiny__echo', { text: `the token is ${SECRET}!` });
    expect(text(direct)).toBe('the token is [redacted secret]!');

    // Not in the registry's log (stderr, debug level) …
    expect(reg.stderr()).not.toContain(SECRET);
    // … not in any file of the home except the secrets file (0600) …
    const files = await listFiles(home);
    const holders: string[] = [];
    for (const f of files) if ((await readFile(f)).includes(SECRET)) holders.push(f);
    expect(holders).toEqual([join(home, 'state', 'secrets.json')]);
    expect((await stat(join(home, 'state', 'secrets.json'))).mode & 0o777).toBe(0o600);
    // … and on no command line of any process …
    expect(await cmdlinesContaining(SECRET)).toEqual([]);
    const runs = await cmdlinesContaining('target=TINY_API_TOKEN');
    expect(runs).not.toEqual([]);
    // … nor in the environment of the podman that runs it (it gets a podman secret), nor in podman's container
    // database; and the podman secret itself is gone from podman's store once the server runs.
    for (const hit of runs) expect((await readFile(`/proc/${hit.split(':')[0]}/environ`).catch(() => Buffer.from(''))).includes(SECRET), hit).toBe(false);
    const graphRoot = (await podman.version())!.graphRoot!;
    expect((await readFile(join(graphRoot, 'libpod', 'bolt_state.db'))).includes(SECRET)).toBe(false);
    expect((await podman.listSecrets()).filter((n) => n.startsWith(`mcp-registry-${instanceOf(reg)}`))).toEqual([]);
  });

  it('adds the remote stand-in: header secret sent, tools proxied, its own list_changed forwarded', async () => {
    const missing = await call(reg, 'registry-add', { id: 'remote/io.example/standin' });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toContain('X-Api-Key');
    await call(reg, 'registry-config-set', { id: 'remote/io.example/standin', values: { 'X-Api-Key': REMOTE_KEY } });
    const add = await call(reg, 'registry-add', { id: 'remote/io.example/standin' });
    expect(add.isError, text(add)).toBeFalsy();
    const prefix = (add.structuredContent as { prefix: string }).prefix;
    expect(prefix).toBe('standin');
    expect(text(await call(reg, 'standin__greet', { name: 'Ada' }))).toBe('hello Ada');
    expect((await call(reg, 'registry-exec', { tool: 'standin__whoami' })).structuredContent).toEqual({ authenticated: true });

    // Let the notification of the add itself arrive first, so the count below is about the server's own change.
    await new Promise((r) => setTimeout(r, 200));
    // A tool the server adds while running is new since approval: withheld until `mcp-registry approve`, then
    // mounted in the running registry, with list_changed.
    await call(reg, 'standin__add_tool', { name: 'fresh' });
    const withheld = async () => ((await call(reg, 'registry-active')).structuredContent as { mounts: { id: string; withheld?: { name: string }[] }[] }).mounts.find((m) => m.id === 'remote/io.example/standin')!.withheld;
    await expect.poll(withheld).toEqual([{ name: 'standin__fresh', reason: 'new', description: 'Added at run time: fresh.' }]);
    const early = await call(reg, 'standin__fresh');
    expect(early.isError).toBe(true);
    expect(text(early)).toContain('mcp-registry approve remote/io.example/standin');
    const before = listChanged;
    const { execa } = await import('execa');
    await execa(process.execPath, [cliPath, 'approve', 'remote/io.example/standin'], { env: { ...process.env, MCP_REGISTRY_HOME: home } });
    await expect.poll(() => listChanged).toBeGreaterThan(before);
    await expect.poll(async () => (await reg.client.listTools()).tools.map((t) => t.name)).toContain('standin__fresh');
    expect(text(await call(reg, 'standin__fresh'))).toBe('ran fresh');
    expect(reg.stderr()).not.toContain(REMOTE_KEY);
  });

  it('refuses a server that is not on the allowlist with the exact command, asks by elicitation when the client can', async (ctx) => {
    await requirePodman(ctx);
    const r = await call(reg, 'registry-add', { id: 'test/stranger' });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('mcp-registry allow test/stranger');
    expect(text(r).match(/not on the allowlist/g)).toHaveLength(1); // the reason is said once, not nested in itself
    expect((await ourContainers()).filter((c) => c.labels[ENTRY_LABEL] === 'test/stranger')).toHaveLength(0);

    // Running the command it names takes effect in the running registry, no restart needed.
    const policyBefore = await readFile(join(home, 'policy.yaml'), 'utf8');
    const { execa } = await import('execa');
    await execa(process.execPath, [cliPath, 'allow', 'test/stranger'], { env: { ...process.env, MCP_REGISTRY_HOME: home } });
    const allowed = await call(reg, 'registry-add', { id: 'test/stranger' });
    expect(allowed.isError, text(allowed)).toBeFalsy();
    await call(reg, 'registry-remove', { id: 'test/stranger' });
    await writeFile(join(home, 'policy.yaml'), policyBefore);
    expect((await call(reg, 'registry-add', { id: 'test/stranger' })).isError).toBe(true);

    // A second registry on the same home (two clients at once), whose client supports elicitation.
    const asked: string[] = [];
    let answer: 'decline' | 'accept' = 'decline';
    const other = await start({}, { elicitation: {} });
    try {
      other.client.setRequestHandler(ElicitRequestSchema, async (req) => {
        asked.push(req.params.message);
        return answer === 'accept' ? { action: 'accept', content: { start: 'always' } } : { action: 'decline' };
      });
      const declined = await call(other, 'registry-add', { id: 'test/stranger' });
      expect(declined.isError).toBe(true);
      expect(text(declined)).toMatch(/not approved.*mcp-registry allow test\/stranger/);
      answer = 'accept';
      const accepted = await call(other, 'registry-add', { id: 'test/stranger' });
      expect(accepted.isError, text(accepted)).toBeFalsy();
      expect(asked).toHaveLength(2);
      expect(asked[0]).toContain('test/stranger');
      expect(asked[0]!.match(/allowlist/g)).toHaveLength(1); // the question states the reason once too
      // Both answers are in the audit log as approvals (declined, then given), by this client.
      const { records } = await readAudit(join(home, 'state'), { entry: 'test/stranger', op: 'approve' });
      expect(records.map((x) => [x.client, x.outcome])).toEqual([
        ['registry-test', 'refused'],
        ['registry-test', 'ok'],
      ]);
      expect(text(await call(other, 'stranger__echo', { text: 'approved' }))).toBe('approved');
      // "always" is kept: the first registry (no elicitation) may start it now.
      const again = await call(reg, 'registry-add', { id: 'test/stranger', prefix: 'stranger2' });
      expect(again.isError, text(again)).toBeFalsy();
      await call(reg, 'registry-remove', { id: 'test/stranger' });
      await call(other, 'registry-remove', { id: 'test/stranger' });
    } finally {
      await other.close();
    }
    // Closing a registry stops its containers.
    await expect.poll(async () => (await ourContainers()).filter((c) => c.labels[INSTANCE_LABEL]!.startsWith(instanceOf(other))).length).toBe(0);
  });

  it('a killed container is reported, and the next call restarts it and answers', async (ctx) => {
    await requirePodman(ctx);
    const [tiny] = (await ourContainers()).filter((c) => c.labels[ENTRY_LABEL] === 'test/tiny' && c.labels[INSTANCE_LABEL]!.startsWith(instanceOf(reg)));
    expect(tiny).toBeDefined();
    await podmanCli(['kill', tiny!.name]);
    const state = async () => ((await call(reg, 'registry-active')).structuredContent as { mounts: { id: string; state: string; restarts: number; lastError?: string }[] }).mounts.find((m) => m.id === 'test/tiny')!;
    await expect.poll(async () => (await state()).state, { timeout: 15_000 }).toBe('crashed');
    expect((await state()).lastError).toMatch(/exited/);
    const r = await call(reg, 'tiny__echo', { text: 'back again' });
    expect(r.content).toEqual([{ type: 'text', text: 'back again' }]);
    const after = await state();
    expect(after).toMatchObject({ state: 'running', restarts: 1 });
    // The secret and settings survive the restart.
    expect((await call(reg, 'tiny__env_has', { name: 'TINY_API_TOKEN' })).structuredContent).toMatchObject({ set: true });
  });

  it('after kill -9 of the registry, a new one restores the mounts (calls wait for them) and leaves no orphan, sparing a live registry\'s containers', async (ctx) => {
    await requirePodman(ctx);
    // Make tiny ignore stdin EOF, so killing its registry really leaves an orphan container behind.
    const set = await call(reg, 'registry-config-set', { id: 'test/tiny', values: { ignore_eof: '1' } });
    expect(set.isError, text(set)).toBeFalsy();
    // A second, live registry with a container of its own: its containers must survive the reaping.
    const live = await start();
    const liveAdd = await call(live, 'registry-add', { id: 'test/tiny-secret', prefix: 'live' });
    expect(liveAdd.isError, text(liveAdd)).toBeFalsy();
    try {
      const oldInstance = instanceOf(reg);
      process.kill(reg.pid!, 'SIGKILL');
      await reg.close();
      await new Promise((r) => setTimeout(r, 1500));
      const orphans = (await ourContainers()).filter((c) => c.labels[INSTANCE_LABEL]!.startsWith(oldInstance));
      expect(orphans.map((c) => c.labels[ENTRY_LABEL])).toContain('test/tiny');

      reg = await start();
      // Called at once: the restore is still running, so the call waits for it instead of failing as unknown.
      const echo = await call(reg, 'tiny__echo', { text: 'restored' });
      expect(echo.content).toEqual([{ type: 'text', text: 'restored' }]);
      expect(text(await call(reg, 'standin__greet', { name: 'again' }))).toBe('hello again');
      expect(text(await call(reg, 'everything__echo', { message: 'x' }))).toBe('Echo: x');
      // Every saved mount is back (the live registry's add was saved to the shared home too).
      const mounts = ((await call(reg, 'registry-active')).structuredContent as { mounts: { id: string; state: string }[] }).mounts;
      expect(mounts.map((m) => m.id).sort()).toEqual(['remote/io.example/standin', 'test/everything', 'test/tiny', 'test/tiny-secret']);
      await expect.poll(async () => (await ourContainers()).filter((c) => c.labels[INSTANCE_LABEL]!.startsWith(oldInstance)).length, { timeout: 15_000 }).toBe(0);
      // The live registry's container is untouched and still answers.
      const liveOnes = (await ourContainers()).filter((c) => c.labels[INSTANCE_LABEL]!.startsWith(instanceOf(live)));
      expect(liveOnes.map((c) => c.name)).toContainEqual(expect.stringMatching(/-live$/));
      expect((await call(live, 'live__echo', { text: 'still alive' })).content).toEqual([{ type: 'text', text: 'still alive' }]);
    } finally {
      await call(live, 'registry-remove', { id: 'test/tiny-secret' }).catch(() => {});
      await live.close();
    }
  });

  it('registry-remove of a server with resources and prompts sends the tools, resources and prompts list_changed notifications', async (ctx) => {
    await requirePodman(ctx);
    const seen = { tools: 0, resources: 0, prompts: 0 };
    reg.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void seen.tools++);
    reg.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => void seen.resources++);
    reg.client.setNotificationHandler(PromptListChangedNotificationSchema, () => void seen.prompts++);
    // Running (called in the test before), so its resources and prompts are listed now.
    expect((await reg.client.listPrompts()).prompts.map((p) => p.name)).toContain('everything__simple-prompt');
    await new Promise((r) => setTimeout(r, 100)); // notifications of the start itself have arrived
    Object.assign(seen, { tools: 0, resources: 0, prompts: 0 });
    const removed = await call(reg, 'registry-remove', { id: 'test/everything' });
    expect(removed.structuredContent).toEqual({ id: 'test/everything', removed: true });
    // Before: only tools/list_changed, although its resources and prompts vanished too.
    await expect.poll(() => ({ ...seen }), { timeout: 5_000 }).toEqual({ tools: 1, resources: 1, prompts: 1 });
    expect((await reg.client.listPrompts()).prompts.map((p) => p.name)).not.toContain('everything__simple-prompt');
    expect((await reg.client.listResources()).resources.filter((r) => r.uri.startsWith('mcp-registry://everything/'))).toEqual([]);
  });

  it('closing the client stops every container of the registry, even one that ignores stdin closing', async (ctx) => {
    await requirePodman(ctx);
    const inst = instanceOf(reg);
    expect((await ourContainers()).filter((c) => c.labels[INSTANCE_LABEL]!.startsWith(inst)).length).toBeGreaterThan(0);
    await reg.close();
    await expect.poll(async () => (await ourContainers()).filter((c) => c.labels[INSTANCE_LABEL]!.startsWith(inst)).length, { timeout: 20_000 }).toBe(0);
  });
});

describe('values no start could use (issue 9.7)', () => {
  let vHome: string;
  let v: RunningRegistry;
  const stateFile = () => join(vHome, 'state', 'state.json');
  const stored = async () => `${await readFile(stateFile(), 'utf8').catch(() => '')}${await readFile(join(vHome, 'state', 'secrets.json'), 'utf8').catch(() => '')}`;
  beforeAll(async () => {
    vHome = await makeHome({ sources: [{ name: 'test', type: 'file', path: CATALOG }], refresh: { onStart: false } });
    v = await startRegistry(vHome);
    expect((await call(v, 'registry-refresh', {})).isError).toBeFalsy();
  });
  afterAll(async () => {
    await v?.close();
    if (vHome) await rm(vHome, { recursive: true, force: true });
  });

  it('NUL and oversized settings, and a stored secret as a plain setting, are refused at config-set naming the key; nothing is stored', async () => {
    const nul = await call(v, 'registry-config-set', { id: 'test/tiny', values: { variant: 'v1\u0000rm -rf' } });
    expect(nul.isError).toBe(true);
    expect(text(nul)).toBe('Not saved — setting "variant" contains a NUL character (\\u0000), which no command line or environment variable can carry; remove it. Fix these and call again (nothing was changed).');
    const big = await call(v, 'registry-config-set', { id: 'test/tiny', values: { variant: 'x'.repeat(200_000) } });
    expect(big.isError).toBe(true);
    expect(text(big)).toContain('setting "variant" is 195 KiB; a setting may be at most 16 KiB');
    const secretNul = await call(v, 'registry-config-set', { id: 'test/tiny', values: { TINY_API_TOKEN: `${SECRET}\u0000` } });
    expect(text(secretNul)).toContain('secret "tiny.api_token" (TINY_API_TOKEN) contains a NUL character');
    expect(await stored()).not.toContain('\\u0000');
    expect(await stored()).not.toContain('xxxxxxxx');

    expect((await call(v, 'registry-config-set', { id: 'test/tiny', values: { TINY_API_TOKEN: SECRET } })).isError).toBeFalsy();
    const asSetting = await call(v, 'registry-config-set', { id: 'test/tiny', values: { variant: SECRET } });
    expect(asSetting.isError).toBe(true);
    expect(text(asSetting)).toContain('setting "variant" holds the value of the secret "tiny.api_token": a plain setting goes onto the container\'s command line and into state.json');
    expect(text(asSetting)).not.toContain(SECRET);
    expect(await readFile(stateFile(), 'utf8').catch(() => '')).not.toContain(SECRET);
  });

  it('a bad value written into state.json by hand makes the start fail naming the setting and the call that fixes it', async () => {
    const state = JSON.parse(await readFile(stateFile(), 'utf8').catch(() => '{"settings":{}}')) as { settings: Record<string, Record<string, unknown>> };
    state.settings['test/tiny'] = { variant: 'v2\u0000' };
    await writeFile(stateFile(), JSON.stringify(state));
    const add = await call(v, 'registry-add', { id: 'test/tiny' });
    expect(add.isError).toBe(true);
    expect(text(add)).toMatch(/^test\/tiny needs one more value before it can start: variant \(setting: the stored value contains a NUL character \(\\u0000\), which no command line or environment variable can carry; set it again\)\. Provide it with registry-config-set \{"id":"test\/tiny","values":\{"variant":"…"\}\}/);
    const active = (await call(v, 'registry-active')).structuredContent as { mounts: unknown[] };
    expect(active.mounts).toEqual([]);
    // The call it names fixes it.
    const fix = await call(v, 'registry-config-set', { id: 'test/tiny', values: { variant: 'v2' } });
    expect(fix.structuredContent).toMatchObject({ id: 'test/tiny', set: ['variant'], missing: [] });
  });
});

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await listFiles(p)));
    else if (d.isFile()) out.push(p);
  }
  return out;
}

/** Pids whose command line contains `needle` (every process on the machine). */
async function cmdlinesContaining(needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`).catch(() => null);
    if (cmd?.includes(needle)) hits.push(`${pid}: ${cmd.toString().replace(/\0/g, ' ').slice(0, 200)}`);
  }
  return hits;
}

async function podmanCli(args: string[]): Promise<void> {
  const { execa } = await import('execa');
  await execa('podman', args, { cwd: '/' });
}
