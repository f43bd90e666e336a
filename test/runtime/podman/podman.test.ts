import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY_LABEL, INSTANCE_LABEL, Podman, containerName, instanceAlive, newInstanceId } from '../../../src/runtime/podman/podman.js';
import { ContainerSpecError, buildRunArgs, type ContainerSpec } from '../../../src/runtime/podman/run-args.js';
import { formatDoctor, runDoctor } from '../../../src/commands/doctor.js';
import { resolvePaths } from '../../../src/config/paths.js';
import { repoRoot } from '../../helpers/shared-data.js';
import { EVERYTHING_IMAGE, TINY_IMAGE, ROOTLESS_USER, requirePodman, requireRootless, rootlessPodman } from '../../helpers/podman.js';

/** Real containers from the tiny test image, started the way the registry starts them. */

const instance = newInstanceId();
const podman = new Podman();
let seq = 0;

function tinySpec(over: Partial<ContainerSpec> = {}): ContainerSpec {
  const prefix = `t${++seq}`;
  return {
    name: containerName(instance, prefix),
    image: TINY_IMAGE,
    labels: { [INSTANCE_LABEL]: instance, [ENTRY_LABEL]: `test/${prefix}` },
    env: {},
    secretEnv: {},
    network: 'none',
    readOnly: true,
    memory: '256m',
    cpus: '1',
    pidsLimit: 64,
    ...over,
  };
}

interface Connected {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
}

async function connect(p: Podman, spec: ContainerSpec): Promise<Connected> {
  const cmd = p.runCommand(spec);
  const transport = new StdioClientTransport({ command: cmd.command, args: cmd.args, env: cmd.env as Record<string, string>, cwd: cmd.cwd, stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: 'podman-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, stderr: () => err };
}

type Info = {
  uid: number;
  gid: number;
  rootWritable: boolean;
  tmpWritable: boolean;
  interfaces: string[];
  capEff: string;
  capBnd: string;
  noNewPrivs: string;
  pid1: string[];
  memoryLimit: string | null;
  pidsLimit: string | null;
};
async function sandboxInfo(client: Client): Promise<Info> {
  const r = await client.callTool({ name: 'sandbox_info', arguments: {} });
  return r.structuredContent as Info;
}

async function waitGone(p: Podman, name: string): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if ((await p.listContainers({ [INSTANCE_LABEL]: '' })).every((c) => c.name !== name)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

afterAll(async () => {
  // Whatever a failed test left behind.
  const mine = await podman.listContainers({ [INSTANCE_LABEL]: instance }).catch(() => []);
  await podman.remove(mine.map((c) => c.id)).catch(() => undefined);
});

describe('buildRunArgs', () => {
  it('starts hardened, labelled, without pulling, and keeps secret values off the command line', () => {
    const args = buildRunArgs(
      tinySpec({ name: 'mcp-registry-x-demo', env: { LEVEL: 'debug' }, secretEnv: { API_TOKEN: 's3cr3t-value' }, command: ['--flag'] }),
    );
    const joined = args.join(' ');
    expect(args.slice(0, 8)).toEqual(['run', '-i', '--rm', '--init', '--pull', 'never', '--name', 'mcp-registry-x-demo']);
    for (const flag of ['--cap-drop ALL', '--security-opt no-new-privileges', '--read-only', '--tmpfs /tmp:', '--user 65534:65534', '--network none', '--memory 256m', '--cpus 1', '--pids-limit 64', '--http-proxy=false', '--log-driver none']) {
      expect(joined).toContain(flag);
    }
    expect(joined).toContain(`--label ${INSTANCE_LABEL}=${instance}`);
    expect(args).toContain('LEVEL=debug');
    expect(args[args.indexOf('API_TOKEN') - 1]).toBe('-e');
    expect(joined).not.toContain('s3cr3t-value');
    // Options end before the image: nothing after it (the server's own arguments included) is read by podman.
    expect(args.slice(-3)).toEqual(['--', TINY_IMAGE, '--flag']);
  });

  it('hands a stored podman secret over as an env secret, by name only', () => {
    const args = buildRunArgs(tinySpec({ podmanSecrets: { API_TOKEN: 'mcp-registry-1-2-abcdef0123-0123456789ab' } }));
    expect(args[args.indexOf('--secret') + 1]).toBe('mcp-registry-1-2-abcdef0123-0123456789ab,type=env,target=API_TOKEN');
    expect(args).not.toContain('API_TOKEN');
    expect(args.indexOf('--secret')).toBeLessThan(args.indexOf('--'));
    expect(() => buildRunArgs(tinySpec({ podmanSecrets: { API_TOKEN: 'a,type=mount' } }))).toThrow(/not a podman secret name/);
    expect(() => buildRunArgs(tinySpec({ env: { API_TOKEN: 'x' }, podmanSecrets: { API_TOKEN: 's1' } }))).toThrow(/both as a setting and as a secret/);
    expect(() => buildRunArgs(tinySpec({ secretEnv: { API_TOKEN: 'x' }, podmanSecrets: { API_TOKEN: 's1' } }))).toThrow(/twice as a secret/);
    // A stored secret never passes through podman's environment, so podman's own variable names are no risk there.
    expect(buildRunArgs(tinySpec({ podmanSecrets: { HOME: 's1' } }))).toContain('s1,type=env,target=HOME');
  });

  it('leaves out what is not asked for: limits where they cannot work, network none, read-only', () => {
    const args = buildRunArgs(tinySpec({ network: 'default', readOnly: false, user: '1000:1000' }), { resourceLimits: false });
    for (const flag of ['--memory', '--cpus', '--pids-limit', '--read-only', '--network']) expect(args).not.toContain(flag);
    expect(args.join(' ')).toContain('--user 1000:1000');
  });

  it('rootless podman gets a user namespace that keeps root inside from being the user outside; rootful gets none (keep-id is rootless-only)', () => {
    expect(buildRunArgs(tinySpec(), { rootless: true })).toContain('--userns=keep-id');
    expect(buildRunArgs(tinySpec()).some((a) => a.startsWith('--userns'))).toBe(false);
  });

  it('rejects names and variables that would break or bend the command line', () => {
    expect(() => buildRunArgs(tinySpec({ name: '--privileged' }))).toThrow(ContainerSpecError);
    expect(() => buildRunArgs(tinySpec({ env: { 'A=B': 'x' } }))).toThrow(/not an environment variable name/);
    expect(() => buildRunArgs(tinySpec({ secretEnv: { '1X': 'x' } }))).toThrow(/not an environment variable name/);
    expect(() => buildRunArgs(tinySpec({ env: { T: 'a' }, secretEnv: { T: 'b' } }))).toThrow(/both as a setting and as a secret/);
    expect(() => buildRunArgs(tinySpec({ image: '--rm' }))).toThrow(/not an image reference/);
    expect(() => buildRunArgs(tinySpec({ image: '--privileged' }))).toThrow(/"--privileged" is not an image reference: it starts with "-"/);
    expect(() => buildRunArgs(tinySpec({ image: 'Mcp/UPPER' }))).toThrow(ContainerSpecError);
    // What a pin runs: the image ID.
    expect(buildRunArgs(tinySpec({ image: 'a'.repeat(64) })).slice(-2)).toEqual(['--', 'a'.repeat(64)]);
    expect(() => buildRunArgs(tinySpec({ volumes: ['--privileged'] }))).toThrow(/not a volume/);
  });

  it('refuses a secret under a name podman itself reads (PATH, HOME, LD_PRELOAD, XDG_*, CONTAINER_HOST…): secrets travel in podman\'s environment', () => {
    // A catalog entry declaring such a secret would otherwise re-point or hijack the host's podman process.
    for (const name of ['PATH', 'HOME', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'XDG_RUNTIME_DIR', 'CONTAINER_HOST', 'CONTAINERS_CONF', 'TMPDIR', 'GODEBUG']) {
      expect(() => buildRunArgs(tinySpec({ secretEnv: { [name]: 'x' } })), name).toThrow(/podman itself reads/);
      expect(() => podman.runCommand(tinySpec({ secretEnv: { [name]: '/nonexistent' } })), name).toThrow(ContainerSpecError);
    }
    // Ordinary secret names, including ones that merely start alike, still work; as plain settings those names are fine.
    const ok = podman.runCommand(tinySpec({ env: { HOME: '/tmp' }, secretEnv: { GOOGLE_API_KEY: 'k1-secret', DOCKER_TOKEN: 'k2-secret', PATHFINDER_KEY: 'k3-secret', CONTAINER_REGISTRY_TOKEN: 'k4-secret' } }));
    expect(ok.env).toMatchObject({ GOOGLE_API_KEY: 'k1-secret', DOCKER_TOKEN: 'k2-secret', PATHFINDER_KEY: 'k3-secret', CONTAINER_REGISTRY_TOKEN: 'k4-secret', PATH: process.env.PATH });
  });

  it('names containers mcp-registry-<instance>-<prefix>, cleaned for podman', () => {
    expect(containerName('123-456-abcdef0123', 'git_hub')).toBe('mcp-registry-123-456-abcdef0123-git_hub');
    expect(containerName('1-2-abcdef0123', 'a b/c')).toBe('mcp-registry-1-2-abcdef0123-a-b-c');
  });
});

describe('instance liveness', () => {
  it('knows this process is alive, and a dead, reused or pre-reboot pid is not', async () => {
    expect(instanceAlive(instance)).toBe(true);
    const [pid, start, tail] = instance.split('-');
    // Same pid, another start time: the pid was reused by a different process.
    expect(instanceAlive(`${pid}-${Number(start) + 1}-${tail}`)).toBe(false);
    // Another boot.
    const otherBoot = (tail.slice(0, 6) === 'ffffff' ? '000000' : 'ffffff') + tail.slice(6);
    expect(instanceAlive(`${pid}-${start}-${otherBoot}`)).toBe(false);
    // A process that has exited.
    const child = spawn('sleep', ['30']);
    const childInstance = newInstanceId(child.pid!);
    expect(instanceAlive(childInstance)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(instanceAlive(childInstance)).toBe(false);
    // Not ours to judge: never reaped.
    expect(instanceAlive('some-other-format')).toBe(true);
  });
});

describe('podman (rootful, or whatever this user gets)', () => {
  it('reports its version, mode and runtime, and knows the test image by a stable id', async (ctx) => {
    await requirePodman(ctx);
    const v = await podman.version();
    expect(v?.version).toMatch(/^\d+\.\d+/);
    expect(v?.runtime).toBeTruthy();
    expect(v?.rootless).toBe(process.getuid?.() !== 0);
    expect(await podman.imageExists(TINY_IMAGE)).toBe(true);
    expect(await podman.imageId(TINY_IMAGE)).toMatch(/^[0-9a-f]{64}$/);
    expect(await podman.imageExists('localhost/mcp-registry-test/no-such-image:0')).toBe(false);
    expect(await podman.imageId('localhost/mcp-registry-test/no-such-image:0')).toBeNull();
  });

  it('remembers image ids only while the image list is unchanged: a re-tag is seen at once', async (ctx) => {
    await requirePodman(ctx);
    const p = new Podman();
    await p.probe();
    const tag = `localhost/mcp-registry-test/id-cache-${randomBytes(3).toString('hex')}:1`;
    try {
      execFileSync('podman', ['tag', TINY_IMAGE, tag], { cwd: '/' });
      const tinyId = await p.imageId(tag);
      expect(tinyId).toBe(await podman.imageId(TINY_IMAGE));
      expect(await p.imageId(tag)).toBe(tinyId); // answered from the cache
      execFileSync('podman', ['tag', EVERYTHING_IMAGE, tag], { cwd: '/' });
      expect(await p.imageId(tag)).toBe(await podman.imageId(EVERYTHING_IMAGE));
    } finally {
      execFileSync('podman', ['untag', tag, tag], { cwd: '/', stdio: 'ignore' }); // IMAGE NAME: without NAME, untag strips every name
    }
    expect(await p.imageId(tag)).toBeNull();
  });

  it('says it is missing instead of throwing when the binary does not exist', async () => {
    const missing = new Podman({ bin: '/nonexistent/podman' });
    expect(await missing.version()).toBeNull();
    expect(await missing.probe()).toMatchObject({ ok: false, reason: 'missing' });
    await expect(missing.listContainers({})).rejects.toThrow(/podman not found/);
  });

  it('runs the tiny server: initialize, paginated tools/list, tool calls with every kind of result', async (ctx) => {
    await requirePodman(ctx);
    const { client } = await connect(podman, tinySpec({ env: { TINY_PAGE_SIZE: '4' } }));
    try {
      expect(client.getServerVersion()?.name).toBe('tiny');
      const names: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await client.listTools(cursor ? { cursor } : {});
        names.push(...page.tools.map((t) => t.name));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBeGreaterThan(1);
      expect(names).toEqual(expect.arrayContaining(['echo', 'add', 'env_has', 'echo_env', 'fail', 'multi', 'slow', 'crash', 'sandbox_info']));
      expect(await client.callTool({ name: 'echo', arguments: { text: 'hello from the host' } })).toMatchObject({ content: [{ type: 'text', text: 'hello from the host' }] });
      expect((await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })).structuredContent).toEqual({ sum: 42 });
      expect(await client.callTool({ name: 'fail', arguments: { message: 'nope' } })).toMatchObject({ isError: true, content: [{ text: 'nope' }] });
      const multi = await client.callTool({ name: 'multi', arguments: {} });
      expect((multi.content as { type: string }[]).map((c) => c.type)).toEqual(['text', 'text', 'image', 'resource']);
      expect(multi.structuredContent).toMatchObject({ count: 4 });
    } finally {
      await client.close();
    }
  });

  it('enforces the hardening inside the container: nobody, read-only root, writable /tmp, no network, no capabilities, limits', async (ctx) => {
    await requirePodman(ctx);
    const v = await podman.version();
    const { client } = await connect(podman, tinySpec());
    try {
      const info = await sandboxInfo(client);
      expect(info.uid).toBe(65534);
      expect(info.gid).toBe(65534);
      expect(info.rootWritable).toBe(false);
      expect(info.tmpWritable).toBe(true);
      expect(info.interfaces).toEqual(['lo']);
      expect(BigInt(`0x${info.capEff}`)).toBe(0n);
      // The bounding set shows --cap-drop ALL even for a non-root user (whose effective set is empty anyway).
      expect(BigInt(`0x${info.capBnd}`)).toBe(0n);
      expect(info.noNewPrivs).toBe('1');
      expect(info.pid1.join(' ')).toMatch(/catatonit|init/); // --init: signals reach the server
      if (v?.resourceLimits) {
        expect(info.memoryLimit).toBe(String(256 * 1024 * 1024));
        expect(info.pidsLimit).toBe('64');
      }
    } finally {
      await client.close();
    }
  });

  it('delivers a secret to the container without putting it on podman\'s command line', async (ctx) => {
    await requirePodman(ctx);
    const secret = `tok-${randomBytes(12).toString('hex')}`;
    // podman would copy proxy variables (credentials and all) into every container unless told not to.
    const withProxy = new Podman({ env: { ...process.env, HTTPS_PROXY: 'http://user:pw@127.0.0.1:9', PATH_OF_HOST_ONLY: '1' } });
    const { client, transport } = await connect(withProxy, tinySpec({ secretEnv: { TINY_SECRET: secret }, env: { TINY_PLAIN: 'visible' } }));
    try {
      const argv = readFileSync(`/proc/${transport.pid}/cmdline`, 'utf8').split('\0');
      expect(argv[0]).toMatch(/podman$/);
      expect(argv).toContain('TINY_SECRET');
      expect(argv).toContain('TINY_PLAIN=visible');
      expect(argv.join(' ')).not.toContain(secret);
      expect(await client.callTool({ name: 'echo_env', arguments: { name: 'TINY_SECRET' } })).toMatchObject({ content: [{ text: secret }] });
      expect((await client.callTool({ name: 'env_has', arguments: { name: 'TINY_SECRET' } })).structuredContent).toEqual({ name: 'TINY_SECRET', set: true, length: secret.length });
      // Only what was named crosses over: this process's environment stays outside.
      expect((await client.callTool({ name: 'env_has', arguments: { name: 'PATH_OF_HOST_ONLY' } })).structuredContent).toMatchObject({ set: false });
      expect((await client.callTool({ name: 'env_has', arguments: { name: 'HTTPS_PROXY' } })).structuredContent).toMatchObject({ set: false });
    } finally {
      await client.close();
    }
  });

  it('stores a secret in podman for the start only: never in podman\'s argv, environment or container database, and gone once the server runs', async (ctx) => {
    await requirePodman(ctx);
    const v = (await podman.version())!;
    const secret = `ps-${randomBytes(12).toString('hex')}`;
    const staged = await podman.stageSecrets(instance, { TINY_SECRET: secret, TINY_EMPTY: '' }, { [INSTANCE_LABEL]: instance });
    expect(staged.fallback).toBeUndefined();
    const name = staged.refs.TINY_SECRET!;
    expect(name).toMatch(new RegExp(`^mcp-registry-${instance}-[0-9a-f]{12}$`));
    // podman refuses empty secrets, and an empty value hides nothing: it goes the plain way.
    expect(staged.env).toEqual({ TINY_EMPTY: '' });
    expect(await podman.listSecrets()).toContain(name);
    const spec = tinySpec({ secretEnv: staged.env, podmanSecrets: staged.refs });
    const { client, transport } = await connect(podman, spec);
    try {
      expect(await client.callTool({ name: 'echo_env', arguments: { name: 'TINY_SECRET' } })).toMatchObject({ content: [{ text: secret }] });
      // Once the server runs, podman's store may forget it: the container keeps what it was given.
      await podman.removeSecrets([name]);
      expect(await podman.listSecrets()).not.toContain(name);
      expect(await client.callTool({ name: 'echo_env', arguments: { name: 'TINY_SECRET' } })).toMatchObject({ content: [{ text: secret }] });
      // Not on podman's command line, not in its environment (the old way put it there) …
      expect(readFileSync(`/proc/${transport.pid}/cmdline`, 'utf8')).not.toContain(secret);
      expect(readFileSync(`/proc/${transport.pid}/environ`, 'utf8')).not.toContain(secret);
      // … not in podman's container database (the old way wrote it there, and it stayed after the container) …
      const dbs = [join(v.graphRoot!, 'libpod', 'bolt_state.db'), join(v.graphRoot!, 'db.sql')].filter((f) => existsSync(f));
      expect(dbs.length).toBeGreaterThan(0);
      for (const db of dbs) expect(readFileSync(db).includes(secret), db).toBe(false);
      // … and in "podman inspect" only where podman keeps every environment variable of a running container: its
      // runtime configuration (config.json), which podman 4.3 shows as Config.Env (5.3 and later mask podman secrets).
      const inspected = JSON.parse(execFileSync('podman', ['inspect', '--', spec.name], { cwd: '/' }).toString())[0] as { Config: { Env?: string[]; CreateCommand?: string[] } };
      const { Env: _env, ...config } = inspected.Config;
      expect(JSON.stringify({ ...inspected, Config: config })).not.toContain(secret);
      expect(config.CreateCommand).toContain(`${name},type=env,target=TINY_SECRET`);
    } finally {
      await client.close();
    }
  });

  it('falls back to podman\'s environment, leaving nothing in its store, when podman cannot store a secret', async (ctx) => {
    await requirePodman(ctx);
    const dir = await mkdtemp(join(tmpdir(), 'mcp-registry-secrets-'));
    try {
      // A secret store podman cannot use: every create fails. CONTAINERS_CONF makes podman read only that file, so it
      // carries what this machine's own configuration says (scripts/setup-podman.sh writes a drop-in).
      const own = process.env.CONTAINERS_CONF
        ? [process.env.CONTAINERS_CONF]
        : ['/etc/containers/containers.conf', ...(existsSync('/etc/containers/containers.conf.d') ? readdirSync('/etc/containers/containers.conf.d').sort().map((f) => join('/etc/containers/containers.conf.d', f)) : [])];
      const conf = join(dir, 'containers.conf');
      await writeFile(conf, `${own.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8')).join('\n')}\n[secrets]\ndriver = "no-such-driver"\n`);
      const broken = new Podman({ env: { ...process.env, CONTAINERS_CONF: conf } });
      await broken.probe();
      const before = await podman.listSecrets();
      const staged = await broken.stageSecrets(instance, { TINY_SECRET: 'fallback-value', OTHER: 'x' });
      expect(staged.refs).toEqual({});
      expect(staged.env).toEqual({ TINY_SECRET: 'fallback-value', OTHER: 'x' });
      expect(staged.fallback).toMatch(/podman secret create failed: .*driver/);
      expect(await podman.listSecrets()).toEqual(before);
      // The old way still delivers it.
      const { client } = await connect(broken, tinySpec({ secretEnv: staged.env }));
      try {
        expect(await client.callTool({ name: 'echo_env', arguments: { name: 'TINY_SECRET' } })).toMatchObject({ content: [{ text: 'fallback-value' }] });
      } finally {
        await client.close();
      }
      // doctor says so: a limitation, with where to look.
      const d = await runDoctor(resolvePaths({ MCP_REGISTRY_HOME: dir }), broken);
      expect(d.checks.find((c) => c.name === 'container secrets')).toMatchObject({
        ok: false,
        optional: true,
        detail: expect.stringMatching(/podman secret create failed .*invalid driver.*through podman's environment/),
        fix: expect.stringContaining('podman secret ls'),
      });
      expect(await podman.listSecrets()).toEqual(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reaps podman secrets a dead registry instance left, spares a live one\'s, and removes its own at shutdown', async (ctx) => {
    await requirePodman(ctx);
    await podman.probe();
    const child = spawn('sleep', ['30']);
    const deadInstance = newInstanceId(child.pid!);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const dead = new Podman();
    await dead.probe();
    const left = (await dead.stageSecrets(deadInstance, { A: 'dead-1', B: 'dead-2' })).refs;
    const kept = (await podman.stageSecrets(instance, { A: 'live-1' })).refs;
    try {
      // Only this test's two instances are judged: other test files' registries run at the same time.
      const ours = new Set([deadInstance, instance]);
      const reaped = await podman.reapOrphanSecrets((i) => !ours.has(i) || instanceAlive(i));
      expect(reaped.sort()).toEqual(Object.values(left).sort());
      const now = await podman.listSecrets();
      for (const n of Object.values(left)) expect(now).not.toContain(n);
      expect(now).toContain(kept.A);
      // Names that are not ours are never touched, and a name podman does not know is no error.
      await podman.removeSecrets(['mcp-registry-no-such-secret']);
    } finally {
      await podman.removeOwnSecrets();
    }
    expect(await podman.listSecrets()).not.toContain(kept.A);
  });

  it('removes the container when the client disconnects, and when the server crashes', async (ctx) => {
    await requirePodman(ctx);
    const a = tinySpec();
    const first = await connect(podman, a);
    expect((await podman.listContainers({ [INSTANCE_LABEL]: instance })).map((c) => c.name)).toContain(a.name);
    await first.client.close();
    expect(await waitGone(podman, a.name)).toBe(true);

    const b = tinySpec();
    const second = await connect(podman, b);
    await expect(second.client.callTool({ name: 'crash', arguments: {} })).rejects.toThrow(/closed/i);
    expect(await waitGone(podman, b.name)).toBe(true);
    await second.client.close();
  });

  it('reaps containers of a dead registry instance and leaves those of a live one', async (ctx) => {
    await requirePodman(ctx);
    const child = spawn('sleep', ['30']);
    const deadInstance = newInstanceId(child.pid!);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Servers that ignore stdin EOF, started detached: exactly what outlives a killed registry.
    const start = async (inst: string, name: string) => {
      const labels = { [INSTANCE_LABEL]: inst, [ENTRY_LABEL]: `test/${name}` };
      const args = buildRunArgs({ ...tinySpec({ env: { TINY_IGNORE_EOF: '1' } }), name, labels }).filter((a) => a !== '-i');
      args.splice(1, 0, '-d');
      const r = spawn('podman', args, { cwd: '/', stdio: 'ignore' });
      expect(await new Promise((res) => r.once('exit', res))).toBe(0);
    };
    const deadName = containerName(deadInstance, 'orphan');
    const liveName = containerName(instance, 'keeper');
    await start(deadInstance, deadName);
    await start(instance, liveName);
    try {
      // Judge only this test's two instances: other test files run registries (and deliberate orphans) at the same
      // time, and a machine-wide reap here removed them mid-test.
      const ours = new Set([deadInstance, instance]);
      const removed = await podman.reapOrphans((i) => !ours.has(i) || instanceAlive(i));
      expect(removed).toContain(deadName);
      expect(removed).not.toContain(liveName);
      const left = (await podman.listContainers({ [INSTANCE_LABEL]: '' })).map((c) => c.name);
      expect(left).not.toContain(deadName);
      expect(left).toContain(liveName);
      // Several labels must all match.
      expect((await podman.listContainers({ [INSTANCE_LABEL]: instance, [ENTRY_LABEL]: `test/${liveName}` })).map((c) => c.name)).toEqual([liveName]);
      expect(await podman.listContainers({ [INSTANCE_LABEL]: instance, [ENTRY_LABEL]: 'test/other' })).toEqual([]);
      // Shutdown's sweep: one call removes every container of an instance, running or not, and nobody else's.
      const other = containerName(deadInstance, 'bystander');
      await start(deadInstance, other);
      expect(await podman.removeLabelled(INSTANCE_LABEL, instance)).toHaveLength(1);
      expect(await podman.listContainers({ [INSTANCE_LABEL]: instance })).toEqual([]);
      expect((await podman.listContainers({ [INSTANCE_LABEL]: deadInstance })).map((c) => c.name)).toEqual([other]);
      await podman.remove([other]);
    } finally {
      await podman.remove([deadName, liveName]);
    }
    expect((await podman.listContainers({ [INSTANCE_LABEL]: instance })).map((c) => c.name)).not.toContain(liveName);
  });

  it('runs the real npm server-everything from its image over stdio', async (ctx) => {
    await requirePodman(ctx);
    const { client } = await connect(podman, tinySpec({ image: EVERYTHING_IMAGE, memory: '512m', pidsLimit: 128 }));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('echo');
      const r = await client.callTool({ name: 'echo', arguments: { message: 'through podman' } });
      expect(JSON.stringify(r.content)).toContain('through podman');
    } finally {
      await client.close();
    }
  });

  it('reports a pull that cannot succeed with podman\'s reason and its progress lines', async (ctx) => {
    await requirePodman(ctx);
    const lines: string[] = [];
    // localhost:443 refuses at once: no request leaves the machine.
    await expect(podman.pull('localhost/mcp-registry-test/not-there:1', (l) => lines.push(l))).rejects.toThrow(/cannot pull localhost\/mcp-registry-test\/not-there:1: .+/);
    expect(lines.join('\n')).toMatch(/not-there/);
  });
});

describe('rootless podman (as the unprivileged test user)', () => {
  it('runs the tiny server hardened, with the secret delivered, limits dropped where cgroup v1 ignores them', async (ctx) => {
    await requireRootless(ctx);
    const rl = rootlessPodman();
    const v = await rl.version();
    expect(v?.rootless).toBe(true);
    const secret = `rl-${randomBytes(8).toString('hex')}`;
    // Secrets are per user in podman: stored in the user's own store, not root's.
    const staged = await rl.stageSecrets(instance, { TINY_SECRET: secret });
    expect(staged.fallback).toBeUndefined();
    expect(await rl.listSecrets()).toContain(staged.refs.TINY_SECRET);
    expect(await podman.listSecrets()).not.toContain(staged.refs.TINY_SECRET);
    const spec = tinySpec({ secretEnv: staged.env, podmanSecrets: staged.refs });
    const cmd = rl.runCommand(spec);
    expect(cmd.args.slice(0, 4)).toEqual(['-u', ROOTLESS_USER, '--', 'podman']);
    if (!v?.resourceLimits) expect(cmd.args).not.toContain('--memory');
    const { client, stderr, transport } = await connect(rl, spec);
    try {
      await rl.removeSecrets(Object.values(staged.refs));
      expect(await rl.listSecrets()).not.toContain(staged.refs.TINY_SECRET);
      expect(readFileSync(`/proc/${transport.pid}/environ`, 'utf8')).not.toContain(secret);
      const db = join(v!.graphRoot!, 'libpod', 'bolt_state.db');
      if (existsSync(db)) expect(readFileSync(db).includes(secret)).toBe(false);
      const info = await sandboxInfo(client);
      expect(info.uid).toBe(65534);
      expect(info.rootWritable).toBe(false);
      expect(info.tmpWritable).toBe(true);
      expect(info.interfaces).toEqual(['lo']);
      expect(BigInt(`0x${info.capEff}`)).toBe(0n);
      expect(BigInt(`0x${info.capBnd}`)).toBe(0n);
      expect(await client.callTool({ name: 'echo_env', arguments: { name: 'TINY_SECRET' } })).toMatchObject({ content: [{ text: secret }] });
      // The container belongs to the user's podman, not root's.
      expect((await rl.listContainers({ [INSTANCE_LABEL]: instance })).map((c) => c.name)).toContain(spec.name);
      expect((await podman.listContainers({ [INSTANCE_LABEL]: instance })).map((c) => c.name)).not.toContain(spec.name);
    } finally {
      await client.close();
    }
    expect(stderr()).not.toMatch(/Resource limits are not supported/);
    expect(await waitGone(rl, spec.name)).toBe(true);
  });
});

describe('rootless podman: a user namespace of its own (issue 9.2)', () => {
  it('uid 0 inside a rootless container maps to one of the user\'s subordinate ids, not to the user', async (ctx) => {
    await requireRootless(ctx);
    const rl = rootlessPodman();
    await rl.probe();
    const spec = tinySpec({ user: '0:0' });
    expect(rl.runCommand(spec).args).toContain('--userns=keep-id');
    const { client } = await connect(rl, spec);
    try {
      expect((await sandboxInfo(client)).uid).toBe(0);
      const uid = execFileSync('id', ['-u', ROOTLESS_USER]).toString().trim();
      const maps = (JSON.parse(execFileSync('runuser', ['-u', ROOTLESS_USER, '--', 'podman', 'inspect', '--format', '{{json .HostConfig.IDMappings}}', spec.name], { cwd: '/' }).toString()) as { UidMap: string[] }).UidMap;
      // "inside:outside:count" of the rootless namespace, where outside 0 is the user: only the user's own uid maps to it.
      expect(maps).toContain(`${uid}:0:1`);
      expect(maps.find((m) => m.startsWith('0:'))).toBe(`0:1:${uid}`);
    } finally {
      await client.close();
    }
    expect(await waitGone(rl, spec.name)).toBe(true);
  });
});

describe('doctor', () => {
  it('passes on a machine set up by scripts/setup-podman.sh', async (ctx) => {
    await requirePodman(ctx);
    const home = await mkdtemp(join(tmpdir(), 'mcp-registry-doctor-'));
    try {
      // A catalog that can be read here: "Ready" also needs something to find (the public sites may be out of reach).
      await writeFile(join(home, 'config.yaml'), `sources:\n  - name: mine\n    type: file\n    path: ${join(repoRoot, 'test/fixtures/runtime-catalog')}\n`);
      const res = await runDoctor(resolvePaths({ MCP_REGISTRY_HOME: home }));
      const text = formatDoctor(res);
      expect(res.ok, text).toBe(true);
      expect(res.checks.find((c) => c.name === 'container start')).toMatchObject({ ok: true });
      expect(res.checks.find((c) => c.name === 'git')).toMatchObject({ ok: true });
      expect(res.checks.find((c) => c.name === 'container secrets')).toMatchObject({ ok: true, detail: expect.stringContaining('as podman secrets') });
      // "Ready" says whether that includes pulling images (on these machines no registry is reachable).
      const pulls = res.checks.find((c) => c.name === 'image pulls')!;
      expect(pulls.detail).toContain('registry-1.docker.io');
      expect(text).toMatch(pulls.ok ? /Ready to run servers\./ : /Ready to run servers whose images podman already has/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('says whether an image pull would work: the registry answering or not, and what podman would do with a short name', async (ctx) => {
    await requirePodman(ctx);
    const home = await mkdtemp(join(tmpdir(), 'mcp-registry-doctor-'));
    // A registry API that answers as Docker Hub's does without a token, and a port nobody listens on.
    const { createServer } = await import('node:http');
    const hub = createServer((req, res) => res.writeHead(req.url === '/v2/' ? 401 : 404, { 'www-authenticate': 'Bearer realm="x"' }).end());
    await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    try {
      const paths = resolvePaths({ MCP_REGISTRY_HOME: home });
      // A catalog readable here, so the public sites (maybe out of reach) add no limitation of their own.
      await writeFile(paths.configFile, `sources:\n  - name: mine\n    type: file\n    path: ${join(repoRoot, 'test/fixtures/runtime-catalog')}\n`);
      const up = await runDoctor(paths, undefined, { registryUrl: `http://127.0.0.1:${(hub.address() as { port: number }).port}/v2/` });
      expect(up.checks.find((c) => c.name === 'image pulls')).toMatchObject({ ok: true, detail: expect.stringContaining('answers (HTTP 401)') });
      // Ready; the only limitations this home may show are the package runners' base images (issue 12), not pulls.
      expect(formatDoctor(up)).toMatch(/Ready to run servers(?: \(\d+ limitations? noted above\))?\.$/);
      expect(up.checks.filter((c) => !c.ok && !c.info).map((c) => c.name).filter((n) => !/runner/.test(n))).toEqual([]);

      // podman's own search list, from a registries.conf that has one.
      const conf = join(home, 'registries.conf');
      await writeFile(conf, 'unqualified-search-registries = ["quay.io", "docker.io"]\n');
      const searching = new Podman({ env: { ...process.env, CONTAINERS_REGISTRIES_CONF: conf } });
      const down = await runDoctor(paths, searching, { registryUrl: `http://127.0.0.1:${closedPort}/v2/` });
      const pulls = down.checks.find((c) => c.name === 'image pulls')!;
      expect(pulls).toMatchObject({ ok: false, optional: true });
      expect(pulls.detail).toMatch(/cannot be reached .*ECONNREFUSED/);
      expect(pulls.detail).toContain('Podman itself would search quay.io, docker.io for a short name');
      expect(pulls.detail).toContain('mcp/postgres is docker.io/mcp/postgres');
      expect(pulls.fix).toContain('podman load');
      expect(pulls.fix).toContain('[[registry.mirror]]');
      // A limitation, not a failure: servers whose images are here run.
      expect(down.ok).toBe(true);
      expect(formatDoctor(down)).toMatch(/\[warn\] image pulls[\s\S]*Ready to run servers whose images podman already has/);
      expect(up.checks.find((c) => c.name === 'image pulls')!.detail).toContain('no unqualified-search registries');

      // Following the fix: a mirror for docker.io in registries.conf is where podman pulls from, so it counts.
      const hubPort = (hub.address() as { port: number }).port;
      await writeFile(conf, `[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "127.0.0.1:${hubPort}"\ninsecure = true\n`);
      const mirrored = await runDoctor(paths, new Podman({ env: { ...process.env, CONTAINERS_REGISTRIES_CONF: conf } }), { registryUrl: `http://127.0.0.1:${closedPort}/v2/` });
      expect(mirrored.checks.find((c) => c.name === 'image pulls')).toMatchObject({ ok: true, detail: expect.stringContaining(`mirror 127.0.0.1:${hubPort} answers (HTTP 401)`) });
    } finally {
      await new Promise((r) => hub.close(r));
      await rm(home, { recursive: true, force: true });
    }
  });

  it('names each problem with its fix: missing podman, ulimits podman cannot set, unwritable state, open secrets file', async (ctx) => {
    await requirePodman(ctx);
    const home = await mkdtemp(join(tmpdir(), 'mcp-registry-doctor-'));
    try {
      const paths = resolvePaths({ MCP_REGISTRY_HOME: home });
      // A state "directory" that is a file, and a secrets file others can read.
      await writeFile(paths.cacheDir, 'not a directory');
      await mkdir(paths.stateDir, { recursive: true });
      await writeFile(paths.secretsFile, '{}');
      await chmod(paths.secretsFile, 0o644);

      // The podman binary comes from config.yaml.
      await writeFile(paths.configFile, 'sources: []\nruntime:\n  podman: /nonexistent/podman\n');
      const missing = await runDoctor(paths);
      expect(missing.ok).toBe(false);
      expect(missing.checks.find((c) => c.name === 'podman')).toMatchObject({ ok: false, detail: expect.stringContaining('/nonexistent/podman'), fix: expect.stringContaining('apt-get install') });
      expect(missing.checks.find((c) => c.name === 'cache directory')).toMatchObject({ ok: false, detail: expect.stringContaining('not a directory') });
      expect(missing.checks.find((c) => c.name === 'secrets file')).toMatchObject({ ok: false, fix: `chmod 600 ${paths.secretsFile}` });

      // podman's stock ulimits, which this kind of machine refuses: the fix is the containers.conf lines.
      const conf = join(home, 'containers.conf');
      await writeFile(conf, '[containers]\ndefault_ulimits = ["nofile=1048576:1048576"]\n[engine]\nruntime = "runc"\n');
      const limits = readFileSync('/proc/self/limits', 'utf8');
      const hardNofile = Number(/^Max open files\s+\S+\s+(\d+)/m.exec(limits)?.[1]);
      const broken = await runDoctor(paths, new Podman({ env: { ...process.env, CONTAINERS_CONF: conf } }));
      const start = broken.checks.find((c) => c.name === 'container start');
      if (hardNofile < 1048576) {
        expect(start).toMatchObject({ ok: false, detail: expect.stringMatching(/rlimit/i) });
        expect(start?.fix).toContain(`default_ulimits = ["nofile=${hardNofile}:${hardNofile}"`);
        expect(formatDoctor(broken)).toMatch(/\[FAIL\] container start[\s\S]*fix: put these lines in/);
      } else {
        expect(start).toMatchObject({ ok: true }); // this machine grants the stock limits: nothing to fix
      }
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
