import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Podman, INSTANCE_LABEL } from '../../src/runtime/podman/podman.js';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { requirePodman } from '../helpers/podman.js';

/**
 * Issue 12 (MCPB through registry-add): a bundle built by this test (manifest.json with user_config, a
 * dependency-free node server) is served over loopback and listed in a `file` source as a server.json
 * `packages: [{registryType: mcpb, fileSha256}]` entry. registry-add refuses it while the bytes served are not the
 * published ones (both digests said), then builds it (progress) and starts it; its user_config is the entry's
 * settings and secrets (the secret reaches the server as a podman secret, never argv or the image); its tool answers
 * mounted and through registry-exec. A bundle without a published sha256 is refused until policy allows unverified
 * bundles for it. Real podman (rootful), real SDK client over stdio against dist/cli.js.
 */

const RUNNER = 'localhost/mcp-registry/runner-node:20';
const ID = 'pkgs/io.example/greeter';
const UNVERIFIED = 'pkgs/io.example/greeter-unverified';
const SECRET = 'mcpb-secret-never-in-argv-0123456789';
const podman = new Podman();

// newline-delimited JSON-RPC over stdio (a bundle carries its own dependencies: none here).
const SERVER_JS = `const rl = require('readline').createInterface({ input: process.stdin });
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
const greeting = process.argv[process.argv.indexOf('--greeting') + 1];
rl.on('line', (line) => {
  if (!line.trim()) return;
  const m = JSON.parse(line);
  if (m.id === undefined) return;
  if (m.method === 'initialize') return send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'greeter', version: '1.0.0' } } });
  if (m.method === 'tools/list') return send({ jsonrpc: '2.0', id: m.id, result: { tools: [{ name: 'greet', description: 'Greets.', inputSchema: { type: 'object', properties: { who: { type: 'string' } } } }] } });
  if (m.method === 'tools/call') {
    const token = process.env.GREETER_TOKEN || '';
    const text = greeting + ' ' + m.params.arguments.who + '; token of ' + token.length + ' chars, ' + (process.argv.join(' ').includes(token) && token ? 'in argv' : 'not in argv');
    return send({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text }] } });
  }
  send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'method not found' } });
});
`;
const MANIFEST = {
  manifest_version: '0.2',
  name: 'greeter',
  version: '1.0.0',
  server: {
    type: 'node',
    entry_point: 'server/index.js',
    mcp_config: { command: 'node', args: ['${__dirname}/server/index.js', '--greeting', '${user_config.greeting}'], env: { GREETER_TOKEN: '${user_config.api_key}' } },
  },
  user_config: {
    greeting: { type: 'string', title: 'Greeting', description: 'How to greet.', default: 'hello' },
    api_key: { type: 'string', title: 'API key', description: 'The service token.', sensitive: true, required: true },
  },
};
const ZIP_PY = `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('manifest.json', open(sys.argv[2]).read())
    z.writestr('server/index.js', open(sys.argv[3]).read())
`;

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

let home: string;
let reg: RunningRegistry;
let server: Server;
let base: string;
let bundle: Buffer;
let sha: string;
let serveTampered = true;
const progress: string[] = [];
const images = new Set<string>();

async function call(name: string, args: Record<string, unknown> = {}): Promise<Result> {
  return (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 300_000, onprogress: (p) => void progress.push(p.message ?? '') })) as Result;
}

async function ourContainers() {
  return (await podman.listContainers({ [INSTANCE_LABEL]: '' })).filter((c) => (c.labels[INSTANCE_LABEL] ?? '').startsWith(`${reg.pid}-`));
}

const entry = (name: string, url: string, fileSha256?: string) => ({
  name,
  description: 'Greets people; an MCPB bundle.',
  version: '1.0.0',
  packages: [{ registryType: 'mcpb', identifier: url, version: '1.0.0', ...(fileSha256 ? { fileSha256 } : {}), transport: { type: 'stdio' } }],
});

beforeAll(async () => {
  home = await makeHome({
    sources: [{ name: 'pkgs', type: 'file', path: './pkgs.json' }],
    refresh: { onStart: false },
    runtime: { startTimeout: '60s', callTimeout: '30s', runners: { npm: { image: RUNNER }, buildWait: '5m' } },
  });
  await writeFile(join(home, 'manifest.json'), JSON.stringify(MANIFEST));
  await writeFile(join(home, 'index.js'), SERVER_JS);
  await writeFile(join(home, 'zip.py'), ZIP_PY);
  await execa('python3', [join(home, 'zip.py'), join(home, 'greeter.mcpb'), join(home, 'manifest.json'), join(home, 'index.js')]);
  bundle = await readFile(join(home, 'greeter.mcpb'));
  sha = createHash('sha256').update(bundle).digest('hex');
  const tampered = Buffer.from(bundle);
  tampered[tampered.length - 30]! ^= 0xff;
  server = createServer((req, res) => {
    if (req.url === '/greeter.mcpb') res.writeHead(200).end(serveTampered ? tampered : bundle);
    else if (req.url === '/unverified/greeter-unverified.mcpb') res.writeHead(200).end(bundle);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await writeFile(join(home, 'pkgs.json'), JSON.stringify([entry('io.example/greeter', `${base}/greeter.mcpb`, sha), entry('io.example/greeter-unverified', `${base}/unverified/greeter-unverified.mcpb`)]));
  // The bundles are on loopback over http: the remote rules of policy.yaml say where a bundle may come from.
  await writeFile(join(home, 'policy.yaml'), 'remote: { allowPrivate: true, allowHttp: true }\n');
  reg = await startRegistry(home);
  const r = await call('registry-refresh');
  expect(r.isError, text(r)).toBeFalsy();
  // The image is tagged by the published hash: one left by an earlier run would be found without a download.
  const ref = `localhost/mcp-registry/mcpb/greeter:sha256-${sha.slice(0, 16)}`;
  images.add(ref);
  await execa('podman', ['rmi', '-f', ref], { reject: false, cwd: '/' });
}, 120_000);

afterAll(async () => {
  await reg?.close();
  const left = await ourContainers().catch(() => []);
  if (left.length) await podman.remove(left.map((c) => c.id)).catch(() => {});
  const built = (await execa('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=localhost/mcp-registry/mcpb/greeter*'], { cwd: '/', reject: false })).stdout.split('\n').filter(Boolean);
  for (const img of new Set([...images, ...built])) await execa('podman', ['rmi', '-f', img], { reject: false, cwd: '/' });
  await new Promise((r) => server?.close(r));
  if (home) await rm(home, { recursive: true, force: true });
});

describe('MCPB bundles start through registry-add (issue 12)', () => {
  it('find says it runs as mcpb; registry-add refuses bytes that are not the published ones, saying both digests', async (ctx) => {
    await requirePodman(ctx);
    const find = await call('registry-find', { query: 'greets people', runnable: true });
    const item = (find.structuredContent as { results: { id: string; runnable: boolean; runs?: string[] }[] }).results.find((x) => x.id === ID);
    expect(item).toMatchObject({ runnable: true, runs: ['mcpb'] });
    const add = await call('registry-add', { id: ID });
    expect(add.isError).toBe(true);
    expect(text(add)).toContain(`but its catalog entry says ${sha}`);
    expect(text(add)).toMatch(/the bundle's sha256 is [0-9a-f]{64}/);
    expect(text(add)).not.toContain(`the bundle's sha256 is ${sha}`);
    expect(await ourContainers()).toEqual([]);
  }, 120_000);

  it('with the published bytes it builds (progress), asks for its user_config, and runs with the secret as a podman secret', async (ctx) => {
    await requirePodman(ctx);
    serveTampered = false;
    progress.length = 0;
    const first = await call('registry-add', { id: ID });
    expect(progress.some((m) => m.startsWith(`downloading ${base}/greeter.mcpb`))).toBe(true);
    expect(progress.some((m) => m.includes('(matches the catalog)'))).toBe(true);
    // Built; its manifest asks for an API key (sensitive: a secret) before it can start.
    expect(first.isError).toBe(true);
    expect(text(first)).toContain('api_key');

    // registry-info knows the bundle's options now (the manifest came with the bytes).
    const info = await call('registry-info', { id: ID });
    expect((info.structuredContent as { launches: unknown[] }).launches[0]).toMatchObject({ missing: ['api_key'], problem: expect.stringContaining('api_key (secret, env GREETER_TOKEN: The service token.)') });
    const set = await call('registry-config-set', { id: ID, values: { api_key: SECRET, greeting: 'hi' } });
    expect(set.isError, text(set)).toBeFalsy();
    expect(set.structuredContent).toMatchObject({ set: expect.arrayContaining(['api_key', 'greeting']), missing: [] });
    const ready = await call('registry-info', { id: ID });
    expect((ready.structuredContent as { launches: unknown[] }).launches[0]).toMatchObject({ build: { kind: 'mcpb', built: true, command: ['node', '/app/server/index.js', '--greeting', '{{greeting}}'] } });

    const add = await call('registry-add', { id: ID });
    expect(add.isError, text(add)).toBeFalsy();
    expect(add.structuredContent).toMatchObject({ id: ID, state: 'running' });
    const names = ((add.structuredContent as { tools: { name: string }[] }).tools ?? []).map((x) => x.name);
    expect(names).toHaveLength(1);
    const greet = await call(names[0]!, { who: 'podman' });
    expect(text(greet)).toBe(`hi podman; token of ${SECRET.length} chars, not in argv`);
    const viaExec = await call('registry-exec', { tool: names[0]!, arguments: { who: 'exec' } });
    expect(text(viaExec)).toBe(`hi exec; token of ${SECRET.length} chars, not in argv`);

    const [c] = await ourContainers();
    const [inspect] = JSON.parse((await execa('podman', ['inspect', c!.id], { cwd: '/' })).stdout) as {
      Config: { User: string; CreateCommand: string[]; Labels: Record<string, string> };
      HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[]; SecurityOpt: string[] };
    }[];
    expect(inspect!.HostConfig.ReadonlyRootfs).toBe(true);
    expect(inspect!.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(inspect!.Config.User).toBe('65534:65534');
    expect(JSON.stringify(inspect!.Config.CreateCommand)).not.toContain(SECRET);
    expect(JSON.stringify(inspect!.Config.Labels)).not.toContain(SECRET);
    const image = `localhost/mcp-registry/mcpb/greeter:sha256-${sha.slice(0, 16)}`;
    const img = (await execa('podman', ['image', 'inspect', image], { cwd: '/' })).stdout + (await execa('podman', ['history', '--no-trunc', image], { cwd: '/' })).stdout;
    expect(img).not.toContain(SECRET);
    const rmv = await call('registry-remove', { id: ID });
    expect(rmv.isError, text(rmv)).toBeFalsy();
  }, 300_000);

  it('a bundle with no published sha256 is refused until policy allows unverified bundles for it', async (ctx) => {
    await requirePodman(ctx);
    const refused = await call('registry-add', { id: UNVERIFIED });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain('publishes no fileSha256, so the bundle cannot be verified');
    expect(text(refused)).toContain('allowUnverifiedBundles');
    await writeFile(join(home, 'policy.yaml'), `remote: { allowPrivate: true, allowHttp: true }\nentries:\n  "${UNVERIFIED}": { allowUnverifiedBundles: true }\n`);
    progress.length = 0;
    const add = await call('registry-add', { id: UNVERIFIED });
    expect(progress.some((m) => m.includes('(unverified: the catalog publishes none)'))).toBe(true);
    // Built from the bytes it got (tagged by their hash); it asks for its key like the verified one.
    expect(text(add)).toContain('api_key');
    images.add(`localhost/mcp-registry/mcpb/greeter-unverified:sha256-${sha.slice(0, 16)}`);
  }, 300_000);
});
