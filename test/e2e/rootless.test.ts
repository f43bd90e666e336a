import { afterAll, describe, expect, it } from 'vitest';
import { chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { execa } from 'execa';
import { stringify as toYaml } from 'yaml';
import { ENTRY_LABEL, INSTANCE_LABEL } from '../../src/runtime/podman/podman.js';
import { cliPath } from '../helpers/registry-client.js';
import { requireRootless, rootlessEnv, rootlessPodman, ROOTLESS_USER, STUBBORN_YAML } from '../helpers/podman.js';
import { repoRoot } from '../helpers/shared-data.js';

/**
 * The mode users run: the registry itself runs as an unprivileged user (rootless podman), started by a client
 * over stdio. Add, call, hardening as seen from inside, what this machine's cgroup v1 means for limits, and clean-up
 * when the client goes away.
 */

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const homes: string[] = [];

afterAll(async () => {
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

/** The test user's uid and gid (asked for only once requireRootless knows the user exists). */
function rootlessIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, ROOTLESS_USER]).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** A home owned by the test user with `config` as config.yaml and `files` (paths relative to the home). */
async function rootlessHome(config: unknown, files: Record<string, string> = {}): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'mcp-registry-rootless-'));
  homes.push(home);
  const { uid, gid } = rootlessIds();
  for (const [rel, text] of Object.entries({ 'config.yaml': toYaml(config), ...files })) {
    const file = join(home, rel);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  execFileSync('chown', ['-R', `${uid}:${gid}`, home]);
  await chown(home, uid, gid);
  await chmod(home, 0o700);
  return home;
}

/** The built registry run as the test user by runuser, with an SDK client on its stdio. */
async function startRootless(home: string) {
  const userHome = execFileSync('getent', ['passwd', ROOTLESS_USER]).toString().split(':')[5]!;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(rootlessEnv())) if (v !== undefined) env[k] = v;
  Object.assign(env, { HOME: userHome, USER: ROOTLESS_USER, LOGNAME: ROOTLESS_USER, MCP_REGISTRY_HOME: home, MCP_REGISTRY_LOG_LEVEL: 'debug' });
  const transport = new StdioClientTransport({
    command: 'runuser',
    args: ['-u', ROOTLESS_USER, '--', process.execPath, cliPath],
    env,
    cwd: '/',
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'rootless-test', version: '1' });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
  return { client, call, env, stderr: () => stderr };
}

describe('runtime, rootless', () => {
  it('the registry running as an unprivileged user adds the tiny server in rootless podman and calls its tools', async (ctx) => {
    await requireRootless(ctx);
    const home = await rootlessHome({ sources: [{ name: 'test', type: 'file', path: join(repoRoot, 'test/fixtures/runtime-catalog') }], refresh: { onStart: false } });
    const { client, call, env, stderr } = await startRootless(home);
    const podman = rootlessPodman();
    let instance = '';
    try {
      const status = await call('registry-status');
      expect(status.structuredContent).toMatchObject({ runtime: { rootless: true } });
      // This machine's rootless mode is cgroup v1: no memory, CPU or pids limits, and every view says so with the fix.
      const rt = (status.structuredContent as { runtime: { resourceLimits?: boolean; limits?: string } }).runtime;
      expect(rt.resourceLimits).toBe(false);
      expect(rt.limits).toMatch(/^rootless podman on cgroup v1 cannot enforce memory, CPU or process limits: containers run without them .*Fix: boot the machine with cgroup v2 \(kernel parameter systemd\.unified_cgroup_hierarchy=1\).*or run the registry as root.*mcp-registry doctor/);
      expect((status.content[0] as { text: string }).text).toContain(`⚠ No resource limits: ${rt.limits}`);
      // A secret reaches the rootless container as a podman secret of the user's own store.
      const secret = `rootless-${Date.now().toString(36)}-secret-value`;
      const set = await call('registry-config-set', { id: 'test/tiny', values: { TINY_API_TOKEN: secret } });
      expect(set.isError, JSON.stringify(set)).toBeFalsy();
      const add = await call('registry-add', { id: 'test/tiny' });
      expect(add.isError, `${JSON.stringify(add)}\n${stderr().slice(-3000)}`).toBeFalsy();
      expect((add.structuredContent as { limits?: string }).limits).toBe(rt.limits);
      expect((add.content[0] as { text: string }).text).toMatch(/^⚠ No resource limits: rootless podman on cgroup v1/);
      expect((await call('tiny__env_has', { name: 'TINY_API_TOKEN' })).structuredContent).toMatchObject({ set: true, length: secret.length });
      expect((await call('tiny__echo', { text: 'rootless hello' })).content).toEqual([{ type: 'text', text: 'rootless hello' }]);
      const info = (await call('registry-exec', { tool: 'tiny__sandbox_info' })).structuredContent as Record<string, unknown>;
      expect(info).toMatchObject({ uid: 65534, rootWritable: false, tmpWritable: true, interfaces: ['lo'], capEff: '0000000000000000' });
      const mine = (await podman.listContainers({ [INSTANCE_LABEL]: '' })).filter((c) => c.labels[ENTRY_LABEL] === 'test/tiny');
      expect(mine.length).toBeGreaterThanOrEqual(1);
      const container = mine.find((c) => c.name.endsWith('-tiny'))!;
      instance = container.labels[INSTANCE_LABEL]!;
      // Its own user namespace (--userns=keep-id): uid 0 inside is a subordinate id; only the user's uid maps to the user.
      const { uid } = rootlessIds();
      const ids = JSON.parse(execFileSync('runuser', ['-u', ROOTLESS_USER, '--', 'podman', 'inspect', '--format', '{{json .HostConfig.IDMappings}}', container.name], { cwd: '/' }).toString()) as { UidMap: string[] };
      expect(ids.UidMap).toContain(`${uid}:0:1`);
      expect(ids.UidMap.find((m) => m.startsWith('0:'))).toBe(`0:1:${uid}`);
      // Gone from the user's secret store once the server runs; never in the environment of the podman running it.
      expect((await podman.listSecrets()).filter((n) => n.startsWith(`mcp-registry-${instance}-`))).toEqual([]);
      let checked = 0;
      for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
        const cmd = await readFile(`/proc/${pid}/cmdline`).catch(() => null);
        if (!cmd?.includes('target=TINY_API_TOKEN')) continue;
        checked++;
        expect((await readFile(`/proc/${pid}/environ`).catch(() => Buffer.from(''))).includes(secret)).toBe(false);
      }
      expect(checked).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
    await expect
      .poll(async () => (await podman.listContainers({ [INSTANCE_LABEL]: instance })).length, { timeout: 20_000 })
      .toBe(0);

    // doctor, run by the same user, flags it as a limitation with the commands that fix it.
    const doctor = await execa('runuser', ['-u', ROOTLESS_USER, '--', process.execPath, cliPath, 'doctor'], { env, cwd: '/', reject: false });
    expect(doctor.stdout).toMatch(/\[warn\] resource limits: rootless podman on cgroup v1 cannot enforce memory, CPU or process limits/);
    expect(doctor.stdout).toMatch(/fix: switch the machine to cgroup v2 and delegate the controllers to users, then reboot:\n\s+sudo sed -i 's\/\^GRUB_CMDLINE_LINUX="\/&systemd\.unified_cgroup_hierarchy=1 \/' \/etc\/default\/grub/);
    expect(doctor.stdout).toContain('Delegate=cpu cpuset io memory pids');
    expect(doctor.stdout).toContain('or run the registry as root');
  });

  it('closing the client stops a server that ignores stdin EOF and SIGTERM, and the registry exits before the client has to signal it', async (ctx) => {
    await requireRootless(ctx);
    const home = await rootlessHome({ sources: [{ name: 'stubborn', type: 'file', path: './stubborn' }], refresh: { onStart: false } }, { 'stubborn/servers/stubborn/server.yaml': STUBBORN_YAML });
    const { client, call, stderr } = await startRootless(home);
    const podman = rootlessPodman();
    const add = await call('registry-add', { id: 'stubborn/stubborn' });
    expect(add.isError, `${JSON.stringify(add)}\n${stderr().slice(-3000)}`).toBeFalsy();
    const [c] = (await podman.listContainers({ [INSTANCE_LABEL]: '' })).filter((x) => x.labels[ENTRY_LABEL] === 'stubborn/stubborn');
    expect(c).toBeDefined();
    const instance = c!.labels[INSTANCE_LABEL]!;
    const t0 = Date.now();
    await client.close();
    const ms = Date.now() - t0;
    expect(await podman.listContainers({ [INSTANCE_LABEL]: instance })).toEqual([]);
    // The SDK client closes stdin and sends SIGTERM 2 s later (runuser then kills the registry): it must be done by then.
    expect(ms).toBeLessThan(2_000);
    expect(stderr()).not.toContain('Session terminated');
    process.stderr.write(`[rootless] registry stop with a server ignoring EOF and SIGTERM: exited after ${ms} ms, container gone\n`);
  });
});
