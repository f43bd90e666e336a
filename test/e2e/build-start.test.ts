import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Podman, INSTANCE_LABEL, ENTRY_LABEL } from '../../src/runtime/podman/podman.js';
import { cliPath, makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { requirePodman } from '../helpers/podman.js';

/**
 * Issue 12, "Done when" (npm): a real third-party npm server, listed in a `file` source as a server.json
 * `packages: [{registryType: npm}]` entry, is built by `registry-add` (fetched from the npm registry inside the build
 * container, with the host's CA bundle as runtime.caBundle: TLS is intercepted here), started hardened like a
 * catalog image, its tools called mounted and through registry-exec; removed, the second add is fast; a rebuild that
 * installed another tree is refused until `mcp-registry approve`. Real podman (rootful), real SDK client over stdio.
 */

const PKG = '@modelcontextprotocol/server-memory';
const VERSION = '2026.8.31';
const IMAGE = `localhost/mcp-registry/npm/modelcontextprotocol/server-memory:${VERSION}`;
const ID = 'pkgs/io.github.modelcontextprotocol/server-memory';
const RUNNER = 'localhost/mcp-registry/runner-node:20';
const CA = '/etc/ssl/certs/ca-certificates.crt';
const SECRET = 'build-must-never-see-this-0123456789';
const podman = new Podman();

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

let home: string;
let reg: RunningRegistry;
const progress: string[] = [];

async function call(name: string, args: Record<string, unknown> = {}): Promise<Result> {
  return (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 600_000, onprogress: (p) => void progress.push(p.message ?? '') })) as Result;
}

async function ourContainers() {
  return (await podman.listContainers({ [INSTANCE_LABEL]: '' })).filter((c) => (c.labels[INSTANCE_LABEL] ?? '').startsWith(`${reg.pid}-`));
}

beforeAll(async () => {
  home = await makeHome({
    sources: [{ name: 'pkgs', type: 'file', path: './pkgs.json' }],
    refresh: { onStart: false },
    runtime: { startTimeout: '120s', callTimeout: '60s', caBundle: CA, runners: { npm: { image: RUNNER }, buildWait: '15m' } },
  });
  await writeFile(
    join(home, 'pkgs.json'),
    JSON.stringify([
      {
        name: 'io.github.modelcontextprotocol/server-memory',
        description: 'Knowledge-graph memory, published on npm.',
        version: VERSION,
        packages: [
          {
            registryType: 'npm',
            identifier: PKG,
            version: VERSION,
            runtimeHint: 'npx',
            runtimeArguments: [{ type: 'positional', value: '-y' }],
            transport: { type: 'stdio' },
            environmentVariables: [
              // The root file system is read-only: the graph goes to the container's /tmp.
              { name: 'MEMORY_FILE_PATH', value: '/tmp/memory.jsonl' },
              // A secret the server gets at run time (bare -e NAME), never the build.
              { name: 'UNUSED_TOKEN', isSecret: true, isRequired: false },
            ],
          },
        ],
      },
    ]),
  );
  reg = await startRegistry(home, { env: { NODE_EXTRA_CA_CERTS: CA } });
  const r = await call('registry-refresh');
  expect(r.isError, text(r)).toBeFalsy();
  // The first add must build: an image left by an earlier run is removed.
  await execa('podman', ['rmi', '-f', IMAGE], { reject: false, cwd: '/' });
}, 120_000);

afterAll(async () => {
  await reg?.close();
  const left = await ourContainers().catch(() => []);
  if (left.length) await podman.remove(left.map((c) => c.id)).catch(() => {});
  if (home) await rm(home, { recursive: true, force: true });
});

describe('npm packages run as built images (issue 12)', () => {
  it('find says how it runs; the first registry-add builds it (progress), starts it hardened, and its tools answer mounted and via registry-exec', async (ctx) => {
    await requirePodman(ctx);
    const find = await call('registry-find', { query: 'memory knowledge graph', runnable: true });
    const item = (find.structuredContent as { results: { id: string; runnable: boolean; runs?: string[] }[] }).results.find((x) => x.id === ID);
    expect(item).toMatchObject({ runnable: true, runs: ['npm'] });
    // registry-info: not built yet, and the image the first add builds.
    const before = await call('registry-info', { id: ID });
    expect((before.structuredContent as { launches: unknown[] }).launches[0]).toMatchObject({ build: { kind: 'npm', image: IMAGE, built: false } });
    expect(text(before)).toContain(`not built yet: the first registry-add builds ${IMAGE}`);

    const cfg = await call('registry-config-set', { id: ID, values: { UNUSED_TOKEN: SECRET } });
    expect(cfg.isError, text(cfg)).toBeFalsy();
    const t0 = Date.now();
    const add = await call('registry-add', { id: ID });
    const firstMs = Date.now() - t0;
    expect(add.isError, text(add)).toBeFalsy();
    expect(add.structuredContent).toMatchObject({ id: ID, state: 'running' });
    expect(progress.some((m) => /installing @modelcontextprotocol\/server-memory from https:\/\/registry\.npmjs\.org/.test(m))).toBe(true);
    expect(progress.some((m) => m.startsWith(`built ${IMAGE}`))).toBe(true);
    console.log(`first registry-add (build + start): ${firstMs} ms`);

    // registry-status lists the built image and its disk use (its own layers; the base counted once in the total).
    const status = await call('registry-status');
    const built = (status.structuredContent as { runtime: { builtImages?: { images: { image: string; ownBytes: number }[]; totalBytes: number } } }).runtime.builtImages;
    const mine = built?.images.find((i) => i.image === IMAGE);
    expect(mine?.ownBytes).toBeGreaterThan(1e6);
    expect(built!.totalBytes).toBeGreaterThan(mine!.ownBytes);
    expect(text(status)).toContain(`${IMAGE} (npm ${PKG} ${VERSION}, `);
    const after = await call('registry-info', { id: ID });
    expect((after.structuredContent as { launches: unknown[] }).launches[0]).toMatchObject({
      build: { kind: 'npm', image: IMAGE, built: true, version: VERSION, command: ['/usr/bin/node', `/app/node_modules/${PKG}/dist/index.js`], network: 'default' },
    });
    const names = ((add.structuredContent as { tools: { name: string }[] }).tools ?? []).map((x) => x.name);
    expect(names).toEqual(expect.arrayContaining(['memory__create_entities', 'memory__read_graph']));
    const prefix = names[0]!.split('__')[0]!;
    const created = await call(`${prefix}__create_entities`, { entities: [{ name: 'podman', entityType: 'tool', observations: ['runs containers'] }] });
    expect(created.isError, text(created)).toBeFalsy();
    const graph = await call('registry-exec', { tool: `${prefix}__read_graph`, arguments: {} });
    expect(graph.isError, text(graph)).toBeFalsy();
    expect(text(graph)).toContain('runs containers');

    // The same hardening as a catalog image.
    const [c] = await ourContainers();
    expect(c).toBeDefined();
    const [info] = JSON.parse((await execa('podman', ['inspect', c!.id], { cwd: '/' })).stdout) as {
      ImageName: string;
      Config: { User: string; Env: string[]; Labels: Record<string, string> };
      HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[]; SecurityOpt: string[]; NetworkMode: string };
    }[];
    expect(info!.ImageName.startsWith('sha256:') || info!.ImageName.includes('server-memory')).toBe(true);
    expect(info!.Config.Labels[ENTRY_LABEL]).toBe(ID);
    expect(info!.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info!.HostConfig.CapDrop.length).toBeGreaterThan(10);
    expect(info!.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(info!.Config.User).toBe('65534:65534');
    // A secret means it talks to something: it keeps the network, with the CA bundle.
    expect(info!.HostConfig.NetworkMode).not.toBe('none');
    expect(info!.Config.Env).toContain('NODE_EXTRA_CA_CERTS=/etc/mcp-registry/ca-bundle.crt');
    // The secret reaches the server's environment as a podman secret, never its command line or labels.
    expect(info!.Config.Env).toContain(`UNUSED_TOKEN=${SECRET}`);
    expect(JSON.stringify((info as unknown as { Config: { CreateCommand: string[] } }).Config.CreateCommand)).not.toContain(SECRET);
    expect(JSON.stringify(info!.Config.Labels)).not.toContain(SECRET);

    // No secret reached the build: the image (its history, env, labels) never saw it.
    const img = (await execa('podman', ['image', 'inspect', IMAGE], { cwd: '/' })).stdout + (await execa('podman', ['history', '--no-trunc', IMAGE], { cwd: '/' })).stdout;
    expect(img).not.toContain(SECRET);
    expect(img).not.toContain('UNUSED_TOKEN');

    const pins = JSON.parse(await readFile(join(home, 'state', 'state.json'), 'utf8')) as { pins: Record<string, { imageId: string }>; buildPins: Record<string, { treeDigest: string; imageId: string; packages: string[] }> };
    expect(pins.buildPins[ID]).toMatchObject({ treeDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), packages: expect.arrayContaining([`${PKG}@${VERSION}`]) });
    expect(pins.pins[ID]!.imageId.replace(/^sha256:/, '')).toBe(pins.buildPins[ID]!.imageId.replace(/^sha256:/, ''));
  }, 900_000);

  it('removed, the second add runs the built image without building (fast)', async (ctx) => {
    await requirePodman(ctx);
    const rm1 = await call('registry-remove', { id: ID });
    expect(rm1.isError, text(rm1)).toBeFalsy();
    progress.length = 0;
    const t0 = Date.now();
    const add = await call('registry-add', { id: ID });
    const ms = Date.now() - t0;
    expect(add.isError, text(add)).toBeFalsy();
    expect(progress.some((m) => m.includes('installing'))).toBe(false);
    console.log(`second registry-add (built image): ${ms} ms`);
    expect(ms).toBeLessThan(10_000);
    const rm2 = await call('registry-remove', { id: ID });
    expect(rm2.isError, text(rm2)).toBeFalsy();
  }, 120_000);

  it('a rebuild that installed another tree is refused until mcp-registry approve', async (ctx) => {
    await requirePodman(ctx);
    // What a registry serving other dependencies under the same version would build: the same tag, another tree.
    const rec = JSON.parse(Buffer.from((await execa('podman', ['image', 'inspect', IMAGE, '--format', '{{index .Labels "io.mcp-registry.build.record"}}'], { cwd: '/' })).stdout.trim(), 'base64url').toString('utf8')) as { tree: { digest: string; packages: string[] } };
    rec.tree = { digest: `sha256:${'1'.repeat(64)}`, packages: [...rec.tree.packages, 'left-pad@1.3.0'].sort() };
    const ctr = (await execa('podman', ['create', IMAGE], { cwd: '/' })).stdout.trim();
    try {
      await execa('podman', ['commit', '-q', '--change', `LABEL io.mcp-registry.build.record=${Buffer.from(JSON.stringify(rec)).toString('base64url')}`, ctr, IMAGE], { cwd: '/' });
    } finally {
      await execa('podman', ['rm', '-f', ctr], { cwd: '/', reject: false });
    }
    const refused = await call('registry-add', { id: ID });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain('installed a different dependency tree than the one approved (now left-pad@1.3.0');
    expect(text(refused)).toContain(`mcp-registry approve ${ID}`);
    expect(await ourContainers()).toEqual([]);

    const approve = await execa(process.execPath, [cliPath, 'approve', ID], { env: { ...process.env, MCP_REGISTRY_HOME: home }, reject: false });
    expect(approve.exitCode, approve.stderr).toBe(0);
    const add = await call('registry-add', { id: ID });
    expect(add.isError, text(add)).toBeFalsy();
    const rm3 = await call('registry-remove', { id: ID });
    expect(rm3.isError, text(rm3)).toBeFalsy();
    // mcp-registry prepare: a no-op when built; --remove deletes the entry's images (the doctored one is a stand-in).
    const cli = (...args: string[]) => execa(process.execPath, [cliPath, ...args], { env: { ...process.env, MCP_REGISTRY_HOME: home }, reject: false });
    const prepared = await cli('prepare', ID);
    expect(prepared.exitCode, prepared.stderr).toBe(0);
    expect(prepared.stderr).toContain(`${IMAGE} is already built`);
    expect(prepared.stdout).toContain(`${ID}: ${IMAGE}`);
    const removed = await cli('prepare', ID, '--remove');
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.stdout).toBe(`Removed ${IMAGE}.`);
    expect((await execa('podman', ['image', 'exists', IMAGE], { cwd: '/', reject: false })).exitCode).toBe(1);
  }, 300_000);
});
