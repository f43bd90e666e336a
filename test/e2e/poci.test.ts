import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { execa } from 'execa';
import { stringify as toYaml } from 'yaml';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { registryContainers, removeRegistryContainers, requirePodman, TINY_IMAGE } from '../helpers/podman.js';

/**
 * Issue 12: a Docker "poci" server (server.yaml `type: poci` with inline `tools[]`, each with its own
 * `container{image,command}`), in the user's own docker-layout catalog, through the BUILT server and real podman.
 * The registry lists the tools itself; every call is one hardened `podman run --rm` of the tool's image (the tiny
 * test image's node here), its arguments filled into the command template. Nothing is left behind — not after a
 * call, not after a cancelled or timed-out one.
 */

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
const ID = 'mine/echoer';
const node = (code: string, ...rest: string[]) => ['/usr/bin/node', '-e', code, ...rest];

let home: string;
let reg: RunningRegistry;

async function call(name: string, args: Record<string, unknown> = {}, signal?: AbortSignal): Promise<Result> {
  return (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000, ...(signal ? { signal } : {}) })) as Result;
}
const containers = () => registryContainers(ID, reg.pid);
async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  home = await makeHome({
    sources: [{ name: 'mine', type: 'file', path: './mine' }],
    refresh: { onStart: false },
    // A call that outlives this is cancelled by the registry (and its container removed).
    runtime: { startTimeout: '60s', callTimeout: '6s' },
  });
  const yaml = {
    name: 'echoer',
    type: 'poci',
    about: { title: 'Echoer', description: 'Per-call containers that echo, fail and sleep.' },
    tools: [
      {
        name: 'say',
        description: 'Print the words, and who printed them.',
        parameters: { type: 'object', properties: { words: { type: 'array', items: { type: 'string' } } }, required: ['words'] },
        container: { image: TINY_IMAGE, command: node("console.log(`uid=${process.getuid()} ${process.argv.slice(1).join('|')}`)", '{{words|into}}') },
      },
      {
        name: 'fail',
        description: 'Exit 3 with a complaint.',
        parameters: { type: 'object', properties: {} },
        container: { image: TINY_IMAGE, command: node("console.error('something broke'); process.exit(3)") },
      },
      {
        name: 'nap',
        description: 'Sleep for a long time.',
        parameters: { type: 'object', properties: {} },
        container: { image: TINY_IMAGE, command: node('setTimeout(() => {}, 600000)') },
      },
    ],
  };
  await mkdir(join(home, 'mine', 'servers', 'echoer'), { recursive: true });
  await writeFile(join(home, 'mine', 'servers', 'echoer', 'server.yaml'), toYaml(yaml));
  reg = await startRegistry(home, { clientName: 'poci-test' });
  const r = await call('registry-refresh', {});
  expect(r.isError, text(r)).toBeFalsy();
}, 120_000);

afterAll(async () => {
  await reg?.close();
  await removeRegistryContainers(ID, reg?.pid);
  if (home) await rm(home, { recursive: true, force: true });
});

describe('a Docker poci server: one container per tool call (issue 12)', () => {
  let prefix = '';

  it('find says it runs as poci and is runnable; info lists each tool with its image and command', async () => {
    const found = await call('registry-find', { query: 'echoer' });
    const item = (found.structuredContent as { results: { id: string; runnable: boolean; runs: string[] }[] }).results.find((r) => r.id === ID);
    expect(item).toMatchObject({ runnable: true, runs: ['poci'] });
    const info = await call('registry-info', { id: ID });
    expect(info.isError, text(info)).toBeFalsy();
    const [launch] = (info.structuredContent as { launches: { poci?: { tools: { name: string; image: string }[] } }[] }).launches;
    expect(launch!.poci?.tools.map((t) => [t.name, t.image])).toEqual([
      ['say', TINY_IMAGE],
      ['fail', TINY_IMAGE],
      ['nap', TINY_IMAGE],
    ]);
    expect(text(info)).toContain('tool say: one container per call');
  });

  it('add lists its tools without starting a container; a call runs one (as nobody, arguments as separate argv items) and it is gone after', async (ctx) => {
    await requirePodman(ctx);
    const added = await call('registry-add', { id: ID });
    expect(added.isError, text(added)).toBeFalsy();
    const mount = added.structuredContent as { prefix: string; state: string; tools: { name: string; inputSchema: { required?: string[] } }[] };
    prefix = mount.prefix;
    expect(mount.state).toBe('running');
    expect(mount.tools.map((t) => t.name)).toEqual([`${prefix}__say`, `${prefix}__fail`, `${prefix}__nap`]);
    expect(mount.tools[0]!.inputSchema.required).toEqual(['words']);
    expect(await containers()).toEqual([]);

    // A value that looks like a template or a shell expansion stays literal text in its own argument.
    const said = await call(`${prefix}__say`, { words: ['hello world', '$HOME', '{{words}}'] });
    expect(said.isError, text(said)).toBeFalsy();
    expect(text(said).trim()).toBe('uid=65534 hello world|$HOME|{{words}}');
    expect(await containers()).toEqual([]);

    const viaExec = await call('registry-exec', { tool: `${prefix}__say`, arguments: { words: ['via', 'exec'] } });
    expect(text(viaExec).trim()).toBe('uid=65534 via|exec');
  }, 120_000);

  it('a failing tool returns an error with its exit code and standard error; a missing argument is refused before any container runs', async (ctx) => {
    await requirePodman(ctx);
    const failed = await call(`${prefix}__fail`);
    expect(failed.isError).toBe(true);
    expect(text(failed)).toMatch(/exited with code 3; its standard error ends with:\nsomething broke/);
    const missing = await call(`${prefix}__say`, {});
    expect(missing.isError).toBe(true);
    expect(text(missing)).toContain('missing required argument "words" of tool say');
    const unknown = await call(`${prefix}__say`, { words: ['x'], loud: true });
    expect(text(unknown)).toContain('unknown argument "loud" of tool say (it takes: words)');
    expect(await containers()).toEqual([]);
  }, 60_000);

  it('a call cancelled by the client removes its container; one that outlives runtime.callTimeout too', async (ctx) => {
    await requirePodman(ctx);
    const abort = new AbortController();
    const napping = call(`${prefix}__nap`, {}, abort.signal).catch((err: Error) => err);
    const running = await until('the nap container', async () => (await containers())[0]);
    // The call's container is hardened like any server's.
    const inspect = JSON.parse((await execa('podman', ['inspect', running.id], { cwd: '/' })).stdout)[0] as { HostConfig: { ReadonlyRootfs: boolean; SecurityOpt: string[] }; Config: { User: string } };
    expect(inspect.HostConfig.ReadonlyRootfs).toBe(true);
    expect(inspect.HostConfig.SecurityOpt.join(' ')).toContain('no-new-privileges');
    expect(inspect.Config.User).toBe('65534:65534');
    abort.abort();
    expect(await napping).toBeInstanceOf(Error);
    await until('the cancelled call\'s container to go', async () => ((await containers()).length === 0 ? true : undefined), 15_000);

    const t0 = Date.now();
    const timedOut = await call(`${prefix}__nap`);
    expect(timedOut.isError).toBe(true);
    expect(text(timedOut)).toContain('did not answer within 6000 ms (runtime.callTimeout');
    expect(Date.now() - t0).toBeLessThan(30_000);
    await until('the timed-out call\'s container to go', async () => ((await containers()).length === 0 ? true : undefined), 15_000);

    const removed = await call('registry-remove', { id: ID });
    expect(removed.isError, text(removed)).toBeFalsy();
    expect(await containers()).toEqual([]);
  }, 120_000);
});
