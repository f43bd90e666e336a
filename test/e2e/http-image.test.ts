import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { execa } from 'execa';
import { Podman } from '../../src/runtime/podman/podman.js';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { EVERYTHING_IMAGE, registryContainers, removeRegistryContainers, requirePodman } from '../helpers/podman.js';

/**
 * Issue 12: an OCI package whose server speaks streamable HTTP (server.json `transport: {type: streamable-http, url:
 * "http://localhost:{PORT}/mcp"}`), through the BUILT server and real podman: it runs hardened like a stdio image,
 * its port is published on 127.0.0.1 only, and it is gone once removed. The image is server-everything's test image
 * started with its `streamableHttp` argument (its server listens on $PORT).
 */

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
const podman = new Podman();
const ID = 'internal/io.example/everything-http';
const BROKEN = 'internal/io.example/http-broken';
const SERVER_JS = '/app/node_modules/@modelcontextprotocol/server-everything/dist/index.js';

let home: string;
let reg: RunningRegistry;

async function call(name: string, args: Record<string, unknown> = {}): Promise<Result> {
  return (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
}
const containers = () => registryContainers(ID, reg.pid);

beforeAll(async () => {
  home = await makeHome({
    sources: [{ name: 'internal', type: 'file', path: './internal.json' }],
    refresh: { onStart: false },
    runtime: { startTimeout: '60s', callTimeout: '60s' },
  });
  await writeFile(
    join(home, 'internal.json'),
    JSON.stringify([
      {
        name: 'io.example/everything-http',
        description: 'The everything server, over streamable HTTP.',
        version: '1.0.0',
        packages: [
          {
            registryType: 'oci',
            identifier: EVERYTHING_IMAGE,
            transport: { type: 'streamable-http', url: 'http://localhost:{PORT}/mcp' },
            environmentVariables: [{ name: 'PORT', description: 'Port to listen on', default: '3555' }],
            packageArguments: ['/usr/bin/node', SERVER_JS, 'streamableHttp'].map((value) => ({ type: 'positional', value })),
          },
        ],
      },
      {
        name: 'io.example/http-broken',
        description: 'A server that dies before it listens.',
        version: '1.0.0',
        packages: [
          {
            registryType: 'oci',
            identifier: EVERYTHING_IMAGE,
            transport: { type: 'streamable-http', url: 'http://localhost:3555/mcp' },
            packageArguments: ['/usr/bin/node', '-e', "console.error('cannot bind: no port for me'); process.exit(2)"].map((value) => ({ type: 'positional', value })),
          },
        ],
      },
    ]),
  );
  reg = await startRegistry(home, { clientName: 'http-image-test' });
  const r = await call('registry-refresh', {});
  expect(r.isError, text(r)).toBeFalsy();
}, 120_000);

afterAll(async () => {
  await reg?.close();
  await removeRegistryContainers(ID, reg?.pid);
  await removeRegistryContainers(BROKEN, reg?.pid);
  if (home) await rm(home, { recursive: true, force: true });
});

describe('an OCI image that serves streamable HTTP (issue 12)', () => {
  it('find and info say it runs as an OCI image, where it listens, and that it is runnable', async () => {
    const found = await call('registry-find', { query: 'everything streamable HTTP' });
    expect(found.isError, text(found)).toBeFalsy();
    const item = (found.structuredContent as { results: { id: string; runnable: boolean; runs: string[] }[] }).results.find((r) => r.id === ID);
    expect(item).toMatchObject({ runnable: true, runs: ['oci'] });
    const info = await call('registry-info', { id: ID });
    expect(info.isError, text(info)).toBeFalsy();
    const [launch] = (info.structuredContent as { launches: { container?: Record<string, unknown> }[] }).launches;
    expect(launch!.container).toMatchObject({ image: EVERYTHING_IMAGE, network: 'default', serves: { transport: 'streamable-http', port: 3555, path: '/mcp' } });
    expect(text(info)).toContain('published on a random port of 127.0.0.1 only');
  });

  it('add → its tools over HTTP, called mounted and through registry-exec → remove leaves no container; the port is on 127.0.0.1 only and the container hardened', async (ctx) => {
    await requirePodman(ctx);
    const added = await call('registry-add', { id: ID });
    expect(added.isError, text(added)).toBeFalsy();
    const mount = added.structuredContent as { prefix: string; state: string; tools: { name: string }[] };
    const tools = mount.tools;
    expect(mount.state).toBe('running');
    expect(tools.map((t) => t.name)).toContain(`${mount.prefix}__echo`);

    const mounted = await call(`${mount.prefix}__echo`, { message: 'over http' });
    expect(mounted.isError, text(mounted)).toBeFalsy();
    expect(text(mounted)).toContain('over http');
    const viaExec = await call('registry-exec', { tool: `${mount.prefix}__echo`, arguments: { message: 'through exec' } });
    expect(viaExec.isError, text(viaExec)).toBeFalsy();
    expect(text(viaExec)).toContain('through exec');

    const [c] = await containers();
    expect(c, 'its container runs while mounted').toBeDefined();
    const inspect = JSON.parse((await execa('podman', ['inspect', c!.id], { cwd: '/' })).stdout)[0] as {
      HostConfig: { PortBindings: Record<string, { HostIp: string; HostPort: string }[]>; ReadonlyRootfs: boolean; CapDrop: string[]; SecurityOpt: string[] };
      Config: { User: string };
    };
    const bindings = Object.entries(inspect.HostConfig.PortBindings);
    expect(bindings.map(([port]) => port)).toEqual(['3555/tcp']);
    // Published on loopback and nowhere else, on a port the kernel picked (not the container's own 3555).
    for (const [, hosts] of bindings) for (const h of hosts) expect(h.HostIp).toBe('127.0.0.1');
    expect(Number(bindings[0]![1][0]!.HostPort)).toBeGreaterThan(0);
    expect(inspect.HostConfig.ReadonlyRootfs).toBe(true);
    expect(inspect.HostConfig.CapDrop.map((x) => x.toUpperCase())).toEqual(expect.arrayContaining(['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_SETUID', 'CAP_NET_BIND_SERVICE', 'CAP_DAC_OVERRIDE']));
    expect(inspect.HostConfig.SecurityOpt.join(' ')).toContain('no-new-privileges');
    expect(inspect.Config.User).toBe('65534:65534');

    const removed = await call('registry-remove', { id: ID });
    expect(removed.isError, text(removed)).toBeFalsy();
    expect(await containers()).toEqual([]);
  }, 180_000);

  it('a server that ends before it answers fails the add with its exit code and its last log lines, and leaves no container', async (ctx) => {
    await requirePodman(ctx);
    const added = await call('registry-add', { id: BROKEN });
    expect(added.isError).toBe(true);
    expect(text(added)).toMatch(/its container ended \(exit code 2\) before its server answered on port 3555; its last log lines:\n.*cannot bind: no port for me/);
    expect(await registryContainers(BROKEN, reg.pid)).toEqual([]);
  }, 120_000);

  it('its container ending under a running mount is a crash: the mount says so, and the next call starts it again', async (ctx) => {
    await requirePodman(ctx);
    const added = await call('registry-add', { id: ID });
    expect(added.isError, text(added)).toBeFalsy();
    const prefix = (added.structuredContent as { prefix: string }).prefix;
    const [first] = await containers();
    await podman.remove([first!.id]);
    const state = async () => ((await call('registry-active')).structuredContent as { mounts: { id: string; state: string; lastError?: string }[] }).mounts.find((m) => m.id === ID)!;
    const end = Date.now() + 20_000;
    while ((await state()).state !== 'crashed' && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    expect(await state()).toMatchObject({ state: 'crashed', lastError: expect.stringContaining('exited') });
    const again = await call(`${prefix}__echo`, { message: 'back again' });
    expect(again.isError, text(again)).toBeFalsy();
    expect(text(again)).toContain('back again');
    const [second] = await containers();
    expect(second!.id).not.toBe(first!.id);
    await call('registry-remove', { id: ID });
    expect(await containers()).toEqual([]);
  }, 180_000);
});
