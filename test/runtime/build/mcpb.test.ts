import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Podman } from '../../../src/runtime/podman/podman.js';
import { BuildError, PackageBuilder, type RunnersConfig } from '../../../src/runtime/build/index.js';
import { requirePodman } from '../../helpers/podman.js';

/**
 * Issue 12, "Done when" (MCPB): a bundle built by this test (a zip with manifest.json and a dependency-free node
 * server) served over loopback is built into an image when its bytes match the catalog's fileSha256, and refused
 * when one byte differs or no hash is published; the built image runs hardened and answers an SDK client.
 */

const RUNNER = 'localhost/mcp-registry/runner-node:20';
const runners: RunnersConfig = {
  npm: { image: RUNNER, registry: 'https://registry.npmjs.org/' },
  pypi: { image: 'localhost/mcp-registry/runner-python:3.11', index: 'https://pypi.org/simple/' },
  buildTimeout: 300_000,
  buildMemory: '1g',
};

// newline-delimited JSON-RPC over stdio, as an MCP stdio server speaks it (a bundle carries its own dependencies: none).
const SERVER_JS = `const rl = require('readline').createInterface({ input: process.stdin });
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
rl.on('line', (line) => {
  if (!line.trim()) return;
  const m = JSON.parse(line);
  if (m.id === undefined) return;
  if (m.method === 'initialize') return send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'bundled', version: '1.0.0' } } });
  if (m.method === 'tools/list') return send({ jsonrpc: '2.0', id: m.id, result: { tools: [{ name: 'greet', description: 'Greets.', inputSchema: { type: 'object', properties: { who: { type: 'string' } } } }] } });
  if (m.method === 'tools/call') return send({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: 'hello ' + m.params.arguments.who + ' from ' + process.env.GREETING_SOURCE }] } });
  send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'method not found' } });
});
`;
const MANIFEST = {
  manifest_version: '0.2',
  name: 'bundled-greeter',
  version: '1.0.0',
  server: { type: 'node', entry_point: 'server/index.js', mcp_config: { command: 'node', args: ['${__dirname}/server/index.js'], env: { GREETING_SOURCE: 'the bundle' } } },
};
const ZIP_PY = `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('manifest.json', open(sys.argv[2]).read())
    z.writestr('server/index.js', open(sys.argv[3]).read())
`;

let work: string;
let server: Server;
let base: string;
let bundle: Buffer;
let sha: string;
const podman = new Podman();
const builder = new PackageBuilder({ podman, runners, mcpb: { download: { allowPrivate: true, allowHttp: true } } });
const built: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mcp-registry-mcpb-test-'));
  await writeFile(join(work, 'manifest.json'), JSON.stringify(MANIFEST));
  await writeFile(join(work, 'index.js'), SERVER_JS);
  await writeFile(join(work, 'zip.py'), ZIP_PY);
  await execa('python3', [join(work, 'zip.py'), join(work, 'greeter.mcpb'), join(work, 'manifest.json'), join(work, 'index.js')]);
  bundle = await readFile(join(work, 'greeter.mcpb'));
  sha = createHash('sha256').update(bundle).digest('hex');
  const tampered = Buffer.from(bundle);
  tampered[tampered.length - 30]! ^= 0xff;
  server = createServer((req, res) => {
    if (req.url === '/greeter.mcpb') res.writeHead(200).end(bundle);
    else if (req.url === '/tampered/greeter.mcpb') res.writeHead(200).end(tampered);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const img of built) await execa('podman', ['rmi', '-f', img], { reject: false, cwd: '/' });
  await new Promise((r) => server?.close(r));
  if (work) await rm(work, { recursive: true, force: true });
});

describe('MCPB bundles (issue 12)', () => {
  it('a bundle whose sha256 matches is built, recorded by its hash, and runs hardened', async (ctx) => {
    await requirePodman(ctx);
    const rec = await builder.build({ kind: 'mcpb', identifier: `${base}/greeter.mcpb`, fileSha256: sha });
    built.push(rec.image);
    expect(rec).toMatchObject({ kind: 'mcpb', package: 'bundled-greeter', version: '1.0.0', image: `localhost/mcp-registry/mcpb/greeter:sha256-${sha.slice(0, 16)}`, tree: { digest: `sha256:${sha}` } });
    expect(rec.mcpb?.launch.command).toEqual(['node', '/app/server/index.js']);
    const env = Object.entries(rec.mcpb!.launch.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const transport = new StdioClientTransport({
      command: 'podman',
      args: ['run', '-i', '--rm', '--pull', 'never', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--read-only', '--user', '65534:65534', '--network', 'none', ...env, '--', rec.imageId, ...rec.mcpb!.launch.command],
      stderr: 'ignore',
      cwd: '/',
    });
    const client = new Client({ name: 'mcpb-test', version: '1' });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['greet']);
      expect((await client.callTool({ name: 'greet', arguments: { who: 'podman' } })).content).toEqual([{ type: 'text', text: 'hello podman from the bundle' }]);
    } finally {
      await client.close();
    }
  }, 300_000);

  it('refuses a bundle whose bytes differ from the published sha256, and one with no sha256 published', async (ctx) => {
    await requirePodman(ctx);
    // force: the image built from the verified bytes exists (and is what that hash names); this rebuild downloads.
    const changed = await builder.build({ kind: 'mcpb', identifier: `${base}/tampered/greeter.mcpb`, fileSha256: sha }, { force: true }).catch((e: unknown) => e);
    expect(changed).toBeInstanceOf(BuildError);
    expect((changed as BuildError).detail.code).toBe('checksum');
    expect((changed as BuildError).message).toContain(`but its catalog entry says ${sha}: the bytes are not the ones published, so it is not built`);
    const unverified = await builder.build({ kind: 'mcpb', identifier: `${base}/greeter.mcpb` }).catch((e: unknown) => e);
    expect((unverified as BuildError).message).toContain('publishes no fileSha256, so the bundle cannot be verified');
  }, 120_000);
});
