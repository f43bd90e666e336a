import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { execa } from 'execa';
import { stringify as toYaml } from 'yaml';
import { ENTRY_LABEL, INSTANCE_LABEL, Podman } from '../../src/runtime/podman/podman.js';
import { cliPath, makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { requirePodman, TINY_IMAGE } from '../helpers/podman.js';
import { REPO, upstreamServerYaml } from '../helpers/merged-trust.js';

/**
 * Issue 9.1 and 9.2 through the BUILT server and real podman: the user's own file catalog and an upstream docker
 * source (a real git repository) list the same repository; what starts is judged by the source it comes from. And a
 * catalog's host mounts and root user never reach `podman run` unless policy.yaml allows exactly them (and some never).
 */

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
type LaunchView = {
  source: string;
  sourceId: string;
  launch: string;
  default: boolean;
  mounted?: boolean;
  trust: { status: string; reason: string; command?: string };
  problem?: string;
  container?: { image: string; user: string; network: string; mounts: { host?: string; volume?: string; container: string; mode: string; origin: string }[] };
};
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
const podman = new Podman();
const TOOLS_REPO = 'https://github.com/example/tools';
const ATTACKER_IMAGE = 'localhost/attacker/notes:1';
/** Our own tools image: the tiny server under a tag of this file's (the `mine` fixtures use tiny:1 itself; one image
 * in two catalogs would merge them). */
const OWN_IMAGE = `localhost/mcp-registry-test/tiny-own-${process.pid}:1`;
/** Upstream's tools image: the tiny server again under another name, so upstream's launch could really start. */
const UPSTREAM_TOOLS_IMAGE = `localhost/attacker/tools-${process.pid}:1`;

let home: string;
let data: string;
let reg: RunningRegistry;
const registries = new Set<number>();

async function call(name: string, args: Record<string, unknown> = {}): Promise<Result> {
  return (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
}
/** Containers of this file's registries for an entry (other test files run containers at the same time). */
async function containersOf(entry: string) {
  const all = await podman.listContainers({ [ENTRY_LABEL]: entry });
  return all.filter((c) => registries.has(Number((c.labels[INSTANCE_LABEL] ?? '').split('-')[0])));
}
async function inspect(name: string, format: string): Promise<string> {
  return (await execa('podman', ['inspect', '--format', format, name], { cwd: '/' })).stdout.trim();
}
const launchesOf = (r: Result) => (r.structuredContent as { launches: LaunchView[] }).launches;

/** A server.yaml of the user's own docker-layout catalog `mine`: the tiny image with this run block. */
async function mine(name: string, run: Record<string, unknown>): Promise<void> {
  await mkdir(join(home, 'mine', 'servers', name), { recursive: true });
  await writeFile(join(home, 'mine', 'servers', name, 'server.yaml'), toYaml({ name, image: TINY_IMAGE, type: 'server', about: { title: name, description: `fixture ${name}` }, run: { disableNetwork: true, ...run } }));
}

const config = (sources: string[]) => ({
  sources: sources.map((name) => ({
    internal: { name: 'internal', type: 'file', path: './internal.json' },
    upstream: { name: 'upstream', type: 'docker', url: './upstream-repo', ref: 'main' },
    mine: { name: 'mine', type: 'file', path: './mine' },
  })[name]),
  refresh: { onStart: false },
  runtime: { startTimeout: '60s', callTimeout: '60s' },
});

async function writePolicy(entries: Record<string, unknown>): Promise<void> {
  await writeFile(join(home, 'policy.yaml'), toYaml({ entries }));
}

beforeAll(async () => {
  home = await makeHome(config(['internal', 'upstream', 'mine']));
  // The user's own catalog: notes only as a NuGet package (not runnable here), tools as a stdio OCI package.
  await writeFile(
    join(home, 'internal.json'),
    JSON.stringify([
      { name: 'io.example/notes', description: 'Our notes server.', version: '1.0.0', repository: { url: REPO, source: 'github' }, packages: [{ registryType: 'nuget', identifier: 'Example.Notes', version: '1.0.0', transport: { type: 'stdio' } }] },
      { name: 'io.example/tools', description: 'Our tools server.', version: '1.0.0', repository: { url: TOOLS_REPO, source: 'github' }, packages: [{ registryType: 'oci', identifier: OWN_IMAGE, transport: { type: 'stdio' } }] },
    ]),
  );
  // Upstream, a docker-layout git repository anyone could publish to: same repositories, its own image, root, host mounts.
  const repo = join(home, 'upstream-repo');
  for (const [name, yaml] of [
    ['notes', upstreamServerYaml(ATTACKER_IMAGE)],
    // Nothing but trust stands in its way: no mounts, no root; it only says who it is.
    ['tools', { name: 'tools', image: UPSTREAM_TOOLS_IMAGE, type: 'server', about: { title: 'Tools' }, source: { project: TOOLS_REPO }, run: { disableNetwork: true, env: { WHO: 'upstream' } } }],
  ] as const) {
    await mkdir(join(repo, 'servers', name), { recursive: true });
    await writeFile(join(repo, 'servers', name, 'server.yaml'), toYaml(yaml));
  }
  const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: repo });
  await git('init', '-q', '-b', 'main');
  await git('add', '.');
  await git('commit', '-q', '-m', 'upstream catalog');

  await execa('podman', ['tag', TINY_IMAGE, OWN_IMAGE, UPSTREAM_TOOLS_IMAGE], { cwd: '/' });
  data = join(home, 'data');
  await mkdir(data);
  await mine('roothost', { volumes: ['/:/host'] });
  await mine('socket', { volumes: ['/run/podman/podman.sock:/var/run/docker.sock'] });
  await mine('rootuser', { user: '0:0' });
  await mine('data', { volumes: [`${data}:/data`] });
  // Even an explicit grant cannot open / to a catalog.
  await writePolicy({ 'mine/roothost': { mounts: ['/:/host:rw'] } });

  reg = await startRegistry(home, { clientName: 'launch-trust-test' });
  registries.add(reg.pid!);
  const r = await call('registry-refresh', {});
  expect(r.isError, text(r)).toBeFalsy();
  expect((r.structuredContent as { sources: { name: string; status: string }[] }).sources.map((s) => [s.name, s.status])).toEqual([
    ['internal', 'ok'],
    ['upstream', 'ok'],
    ['mine', 'ok'],
  ]);
}, 120_000);

afterAll(async () => {
  await reg?.close();
  for (const pid of registries) {
    const left = (await podman.listContainers({ [INSTANCE_LABEL]: '' }).catch(() => [])).filter((c) => (c.labels[INSTANCE_LABEL] ?? '').startsWith(`${pid}-`));
    if (left.length) await podman.remove(left.map((c) => c.id)).catch(() => {});
  }
  await execa('podman', ['rmi', OWN_IMAGE, UPSTREAM_TOOLS_IMAGE], { cwd: '/', reject: false });
  if (home) await rm(home, { recursive: true, force: true });
});

describe('trust follows the launch, not the merge (issue 9.1)', () => {
  it('the reproduction: registry-info says the upstream launch runs by default and needs approval; registry-add refuses and starts nothing', async (ctx) => {
    await requirePodman(ctx);
    const info = await call('registry-info', { id: 'internal/io.example/notes' });
    expect(info.isError, text(info)).toBeFalsy();
    expect(info.structuredContent).toMatchObject({ id: 'internal/io.example/notes', aliases: ['upstream/notes'], trust: { status: 'needs-approval' } });
    const [ours, theirs] = launchesOf(info);
    expect(ours).toMatchObject({ source: 'internal', default: false, launch: 'nuget package Example.Notes@1.0.0', trust: { status: 'allowed' }, problem: expect.stringContaining('nuget package Example.Notes has no runner here') });
    expect(theirs).toMatchObject({
      source: 'upstream',
      sourceId: 'upstream/notes',
      default: true,
      launch: `image ${ATTACKER_IMAGE}`,
      trust: { status: 'needs-approval', command: 'mcp-registry allow upstream/notes' },
    });
    // Before anything starts, it says what that launch would do: here, mount the host's root, which is refused.
    expect(theirs!.problem).toContain("would mount / at /victim: that is the host's root directory, which is never mounted from a catalog");
    const shown = text(info);
    expect(shown).toContain(`▶ source "upstream": image ${ATTACKER_IMAGE} [default] — needs-approval`);
    expect(shown).toMatch(/Trust: needs-approval — .*the launch that would start is image localhost\/attacker\/notes:1 from upstream \(docker\)/);

    const add = await call('registry-add', { id: 'internal/io.example/notes' });
    expect(add.isError).toBe(true);
    expect(text(add)).toContain('is not on the allowlist');
    expect(text(add)).toContain('mcp-registry allow upstream/notes');
    expect(await containersOf('internal/io.example/notes')).toEqual([]);

    // The command it names allows exactly that launch: the rule keeps upstream's id, not our listing's.
    const allowed = await execa(process.execPath, [cliPath, 'allow', 'upstream/notes'], { env: { ...process.env, MCP_REGISTRY_HOME: home } });
    expect(allowed.stdout).toContain('Added "upstream/notes" to allow');
    expect(allowed.stdout).toContain('internal/io.example/notes (its default launch, from source "upstream") is now allowed');
    expect(allowed.stderr).not.toContain('another name of');
    const after = launchesOf(await call('registry-info', { id: 'internal/io.example/notes' }));
    expect(after.find((l) => l.source === 'upstream')!.trust.status).toBe('allowed');
    await writePolicy({ 'mine/roothost': { mounts: ['/:/host:rw'] } });
  });

  it('our own launch starts when it is the one chosen (as nobody, nothing mounted); choosing upstream\'s asks for approval; an unknown source lists the sources', async (ctx) => {
    await requirePodman(ctx);
    const info = await call('registry-info', { id: 'internal/io.example/tools' });
    expect(launchesOf(info).map((l) => [l.source, l.default, l.trust.status])).toEqual([
      ['internal', true, 'allowed'],
      ['upstream', false, 'needs-approval'],
    ]);
    expect(launchesOf(info)[0]!.container).toEqual({ image: OWN_IMAGE, user: '65534:65534', network: 'default', mounts: [] });

    const theirs = await call('registry-add', { id: 'internal/io.example/tools', source: 'upstream' });
    expect(theirs.isError).toBe(true);
    expect(text(theirs)).toMatch(/not on the allowlist.*image localhost\/attacker\/tools-\d+:1 from upstream \(docker\).*"source": "internal"/);
    const unknown = await call('registry-add', { id: 'internal/io.example/tools', source: 'nowhere' });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain('has no launch from source "nowhere"; the sources with a launch are: "internal", "upstream"');
    expect(await containersOf('internal/io.example/tools')).toEqual([]);

    const add = await call('registry-add', { id: 'internal/io.example/tools', source: 'internal' });
    expect(add.isError, text(add)).toBeFalsy();
    expect(add.structuredContent).toMatchObject({ id: 'internal/io.example/tools', source: 'internal', state: 'running' });
    const [c] = await containersOf('internal/io.example/tools');
    expect(await inspect(c!.name, '{{.Config.User}}')).toBe('65534:65534');
    expect(await inspect(c!.name, '{{json .Mounts}}')).toBe('[]');
    expect(await inspect(c!.name, '{{.Image}}')).toBe((await execa('podman', ['image', 'inspect', '--format', '{{.Id}}', OWN_IMAGE], { cwd: '/' })).stdout.trim());
    // Mounted with that source: asking for another one while it runs is refused, not silently switched.
    const other = await call('registry-add', { id: 'internal/io.example/tools', source: 'upstream' });
    expect(text(other)).toContain('already mounted running the launch from source "internal"');
    await call('registry-remove', { id: 'internal/io.example/tools' });
  });
});

describe('approvals name the launch they approved (issue 9.1)', () => {
  it('approving upstream\'s launch "always" through the client records it under upstream\'s id and source, and starts exactly that launch', async (ctx) => {
    await requirePodman(ctx);
    const asking = await startRegistry(home, { clientName: 'launch-trust-test', capabilities: { elicitation: {} } });
    registries.add(asking.pid!);
    const asked: string[] = [];
    asking.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return { action: 'accept', content: { start: 'always' } };
    });
    const file = join(home, 'state', 'state.json');
    try {
      const add = (await asking.client.callTool({ name: 'registry-add', arguments: { id: 'internal/io.example/tools', source: 'upstream' } }, undefined, { timeout: 120_000 })) as Result;
      expect(add.isError, text(add)).toBeFalsy();
      expect(asked).toHaveLength(1);
      expect(asked[0]).toContain(`Image: ${UPSTREAM_TOOLS_IMAGE} (from source "upstream").`);
      const approvals = (JSON.parse(await readFile(file, 'utf8')) as { approvals: Record<string, { source?: string }> }).approvals;
      expect(Object.keys(approvals)).toEqual(['upstream/tools']);
      expect(approvals['upstream/tools']).toMatchObject({ source: 'upstream' });
      const [c] = (await podman.listContainers({ [INSTANCE_LABEL]: '' })).filter((x) => (x.labels[INSTANCE_LABEL] ?? '').startsWith(`${asking.pid}-`));
      expect(await inspect(c!.name, '{{json .Config.Env}}')).toContain('WHO=upstream');
      await asking.client.callTool({ name: 'registry-remove', arguments: { id: 'internal/io.example/tools' } });
    } finally {
      await asking.close();
      // Later tests start from no approval.
      const state = JSON.parse(await readFile(file, 'utf8')) as { approvals: Record<string, unknown> };
      state.approvals = {};
      await writeFile(file, JSON.stringify(state));
    }
  });
});

describe('a catalog\'s host mounts and users (issue 9.2)', () => {
  it('/:/host (even granted), the engine socket and user 0:0 never reach podman run', async (ctx) => {
    await requirePodman(ctx);
    const cases: [string, RegExp][] = [
      ['mine/roothost', /would mount \/ at \/host: that is the host's root directory, which is never mounted from a catalog, whatever policy\.yaml says/],
      ['mine/socket', /\/run\/podman\/podman\.sock at \/var\/run\/docker\.sock: that is a container engine's socket/],
      ['mine/rootuser', /mine\/rootuser was not started: its catalog entry would run it as "0:0", which is root inside the container .*entries: \{"mine\/rootuser": \{user: "0:0"\}\}/],
    ];
    for (const [id, why] of cases) {
      const add = await call('registry-add', { id });
      expect(add.isError, id).toBe(true);
      expect(text(add)).toMatch(why);
      expect(await containersOf(id)).toEqual([]);
    }
  });

  it('another fixed host path needs that exact mount in policy.yaml, shown before the start; then it is mounted read-only', async (ctx) => {
    await requirePodman(ctx);
    const line = `entries: {"mine/data": {mounts: ["${data}:/data"]}}`;
    const refused = await call('registry-add', { id: 'mine/data' });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain(`mounts the host path ${data} at /data, which you did not choose; a catalog's own host mounts need your say-so in policy.yaml: ${line}`);
    expect(await containersOf('mine/data')).toEqual([]);
    expect(launchesOf(await call('registry-info', { id: 'mine/data' }))[0]!.problem).toContain(line);

    await writePolicy({ 'mine/roothost': { mounts: ['/:/host:rw'] }, 'mine/data': { mounts: [`${data}:/data`] } });
    const info = await call('registry-info', { id: 'mine/data' });
    expect(launchesOf(info)[0]!.container).toMatchObject({ user: '65534:65534', network: 'none', mounts: [{ host: data, container: '/data', mode: 'ro', origin: 'policy' }] });
    expect(text(info)).toContain(`would run as user 65534:65534, network none; mounts: ${data} → /data (ro, allowed by policy.yaml)`);
    const add = await call('registry-add', { id: 'mine/data' });
    expect(add.isError, text(add)).toBeFalsy();
    const [c] = await containersOf('mine/data');
    const mounts = JSON.parse(await inspect(c!.name, '{{json .Mounts}}')) as { Source: string; Destination: string; RW: boolean }[];
    expect(mounts).toEqual([expect.objectContaining({ Source: data, Destination: '/data', RW: false })]);
    await call('registry-remove', { id: 'mine/data' });
  });
});

describe('a mount stays with the source it was added with (issue 9.1)', () => {
  it('when a source listing the server ahead of ours appears, the restore still runs our launch, not the new default', async (ctx) => {
    await requirePodman(ctx);
    const add = await call('registry-add', { id: 'internal/io.example/tools' });
    expect(add.isError, text(add)).toBeFalsy();
    expect(add.structuredContent).toMatchObject({ source: 'internal' });
    await reg.close();
    // Now upstream comes first: for a new add, its launch would be the default (and would need approval).
    await writeFile(join(home, 'config.yaml'), toYaml(config(['upstream', 'internal', 'mine'])));
    reg = await startRegistry(home, { clientName: 'launch-trust-test' });
    registries.add(reg.pid!);
    const mountOf = async () => ((await call('registry-active')).structuredContent as { mounts: { id: string; state: string; source?: string }[] }).mounts[0];
    await expect.poll(async () => (await mountOf())?.state, { timeout: 60_000 }).toBe('running');
    expect(await mountOf()).toMatchObject({ id: 'internal/io.example/tools', source: 'internal' });
    const info = await call('registry-info', { id: 'internal/io.example/tools' });
    expect(launchesOf(info).map((l) => [l.source, l.default, l.mounted ?? false])).toEqual([
      ['upstream', true, false],
      ['internal', false, true],
    ]);
    const [c] = (await podman.listContainers({ [INSTANCE_LABEL]: '' })).filter((x) => (x.labels[INSTANCE_LABEL] ?? '').startsWith(`${reg.pid}-`));
    expect(await inspect(c!.name, '{{json .Config.Env}}')).not.toContain('WHO=upstream');
    expect(await inspect(c!.name, '{{.HostConfig.NetworkMode}}')).not.toBe('none');
  });

  it('a mount saved before records named their source is not restored into a launch nobody approved', async (ctx) => {
    await requirePodman(ctx);
    await reg.close();
    const file = join(home, 'state', 'state.json');
    const state = JSON.parse(await readFile(file, 'utf8')) as { mounts: { id: string; source?: string }[] };
    expect(state.mounts.map((m) => [m.id, m.source])).toEqual([['internal/io.example/tools', 'internal']]);
    for (const m of state.mounts) delete m.source;
    await writeFile(file, JSON.stringify(state));
    reg = await startRegistry(home, { clientName: 'launch-trust-test' });
    registries.add(reg.pid!);
    const mountOf = async () => ((await call('registry-active')).structuredContent as { mounts: { state: string; lastError?: string }[] }).mounts[0];
    await expect.poll(async () => (await mountOf())?.state, { timeout: 60_000 }).toBe('failed');
    // Restored as the launch that is the default now, which nobody approved: refused, with the command naming it.
    expect((await mountOf())!.lastError).toMatch(/upstream\/tools is not on the allowlist \(.*the launch that would start is image localhost\/attacker\/tools-\d+:1 from upstream \(docker\).*mcp-registry allow upstream\/tools/);
    expect((await podman.listContainers({ [INSTANCE_LABEL]: '' })).filter((x) => (x.labels[INSTANCE_LABEL] ?? '').startsWith(`${reg.pid}-`))).toEqual([]);
  });
});
