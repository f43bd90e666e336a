import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Podman, INSTANCE_LABEL } from '../../src/runtime/podman/podman.js';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { requirePodman } from '../helpers/podman.js';

/**
 * Issue 12, "Done when" (PyPI): a small stdlib-only Python MCP server, packaged by this test as a wheel and served
 * from a PEP 503 simple index on loopback (the public index is not reachable here), is installed by the pypi runner
 * with real pip in the build container, started by registry-add like a catalog image (network none: it needs none),
 * and answers through the SDK client.
 */

const PROJECT = 'pyecho-mcp';
const VERSION = '0.1.0';
const IMAGE = `localhost/mcp-registry/pypi/${PROJECT}:${VERSION}`;
const RUNNER = 'localhost/mcp-registry/runner-python:3.11';
const ID = 'py/io.example/pyecho';
const podman = new Podman();

// The server: newline-delimited JSON-RPC over stdio, as an MCP stdio server speaks it (no SDK in a stdlib image).
const SERVER_PY = `import json, sys

def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        mid, method = msg.get('id'), msg.get('method')
        if method == 'initialize':
            res = {'protocolVersion': msg['params'].get('protocolVersion', '2025-06-18'), 'capabilities': {'tools': {}}, 'serverInfo': {'name': 'pyecho', 'version': '${VERSION}'}}
        elif method == 'tools/list':
            res = {'tools': [{'name': 'shout', 'description': 'Upper-cases text.', 'inputSchema': {'type': 'object', 'properties': {'text': {'type': 'string'}}, 'required': ['text']}}]}
        elif method == 'tools/call':
            res = {'content': [{'type': 'text', 'text': msg['params']['arguments']['text'].upper()}]}
        elif mid is None:
            continue
        elif method == 'ping':
            res = {}
        else:
            print(json.dumps({'jsonrpc': '2.0', 'id': mid, 'error': {'code': -32601, 'message': 'method not found'}}), flush=True)
            continue
        print(json.dumps({'jsonrpc': '2.0', 'id': mid, 'result': res}), flush=True)
`;

// A wheel is a zip with the package and its .dist-info (METADATA, WHEEL, entry_points.txt, RECORD).
const MAKE_WHEEL = `import sys, zipfile
out, server = sys.argv[1], open(sys.argv[2]).read()
di = 'pyecho_mcp-${VERSION}.dist-info'
files = {
  'pyecho_mcp/__init__.py': '',
  'pyecho_mcp/server.py': server,
  di + '/METADATA': 'Metadata-Version: 2.1\\nName: ${PROJECT}\\nVersion: ${VERSION}\\n',
  di + '/WHEEL': 'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',
  di + '/entry_points.txt': '[console_scripts]\\npyecho-mcp = pyecho_mcp.server:main\\n',
}
with zipfile.ZipFile(out, 'w') as z:
    for n, c in files.items():
        z.writestr(n, c)
    z.writestr(di + '/RECORD', ''.join(n + ',,\\n' for n in files) + di + '/RECORD,,\\n')
`;

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

let home: string;
let work: string;
let index: Server;
let reg: RunningRegistry;
const requests: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mcp-registry-wheel-'));
  const wheelName = `pyecho_mcp-${VERSION}-py3-none-any.whl`;
  await writeFile(join(work, 'server.py'), SERVER_PY);
  await writeFile(join(work, 'make_wheel.py'), MAKE_WHEEL);
  await execa('python3', [join(work, 'make_wheel.py'), join(work, wheelName), join(work, 'server.py')]);
  const wheel = await readFile(join(work, wheelName));
  const sha = createHash('sha256').update(wheel).digest('hex');
  index = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === `/simple/${PROJECT}/`) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!DOCTYPE html><html><body><a href="/files/${wheelName}#sha256=${sha}">${wheelName}</a></body></html>`);
    } else if (req.url === `/files/${wheelName}`) res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(wheel);
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => index.listen(0, '127.0.0.1', r));
  const port = (index.address() as AddressInfo).port;
  home = await makeHome({
    sources: [{ name: 'py', type: 'file', path: './py.json' }],
    refresh: { onStart: false },
    // A build outlasts a 1 s wait: registry-add answers "preparing" first.
    runtime: { startTimeout: '120s', runners: { buildWait: '1s', pypi: { image: RUNNER, index: `http://127.0.0.1:${port}/simple/` } } },
  });
  await writeFile(
    join(home, 'py.json'),
    JSON.stringify([{ name: 'io.example/pyecho', description: 'Shouts, in Python.', version: VERSION, packages: [{ registryType: 'pypi', identifier: PROJECT, version: VERSION, runtimeHint: 'uvx', transport: { type: 'stdio' } }] }]),
  );
  await execa('podman', ['rmi', '-f', IMAGE], { reject: false, cwd: '/' });
  reg = await startRegistry(home);
  const r = (await reg.client.callTool({ name: 'registry-refresh', arguments: {} })) as Result;
  expect(r.isError, text(r)).toBeFalsy();
}, 120_000);

afterAll(async () => {
  await reg?.close();
  const left = (await podman.listContainers({ [INSTANCE_LABEL]: '' }).catch(() => [])).filter((c) => (c.labels[INSTANCE_LABEL] ?? '').startsWith(`${reg?.pid}-`));
  if (left.length) await podman.remove(left.map((c) => c.id)).catch(() => {});
  await execa('podman', ['rmi', '-f', IMAGE], { reject: false, cwd: '/' });
  await new Promise((r) => index?.close(r));
  for (const d of [home, work]) if (d) await rm(d, { recursive: true, force: true });
});

describe('PyPI packages run as built images (issue 12)', () => {
  it('registry-add installs the wheel from the loopback index with real pip, runs it with no network, and its tool answers', async (ctx) => {
    await requirePodman(ctx);
    const addOnce = async () => (await reg.client.callTool({ name: 'registry-add', arguments: { id: ID } }, undefined, { timeout: 600_000 })) as Result;
    const first = await addOnce();
    expect(first.isError, text(first)).toBeFalsy();
    expect(first.structuredContent).toMatchObject({ id: ID, state: 'preparing', tools: [], next: `registry-add ${ID}` });
    expect(text(first)).toContain(`${ID} is being prepared: its pypi package ${PROJECT} is still building`);
    // Called again, it waits for the same build (at most buildWait each time), then starts the server.
    let add = first;
    for (let i = 0; i < 300 && (add.structuredContent as { state: string }).state === 'preparing'; i++) add = await addOnce();
    expect(add.isError, text(add)).toBeFalsy();
    expect(add.structuredContent).toMatchObject({ state: 'running' });
    expect(requests.filter((r) => r.startsWith('/files/'))).toHaveLength(1);
    expect(requests).toEqual(expect.arrayContaining([`/simple/${PROJECT}/`, `/files/pyecho_mcp-${VERSION}-py3-none-any.whl`]));
    const tools = (add.structuredContent as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(tools).toEqual(['pyecho__shout']);
    const r = (await reg.client.callTool({ name: 'pyecho__shout', arguments: { text: 'built once' } })) as Result;
    expect(r.content).toEqual([{ type: 'text', text: 'BUILT ONCE' }]);
    const info = (await reg.client.callTool({ name: 'registry-info', arguments: { id: ID } })) as Result;
    expect((info.structuredContent as { launches: unknown[] }).launches[0]).toMatchObject({
      build: { kind: 'pypi', image: IMAGE, built: true, version: VERSION, network: 'none', command: [expect.stringMatching(/python3/), '/app/site/bin/pyecho-mcp'] },
    });
    const [c] = (await podman.listContainers({ [INSTANCE_LABEL]: '' })).filter((x) => (x.labels[INSTANCE_LABEL] ?? '').startsWith(`${reg.pid}-`));
    const [ins] = JSON.parse((await execa('podman', ['inspect', c!.id], { cwd: '/' })).stdout) as { HostConfig: { NetworkMode: string; ReadonlyRootfs: boolean }; Config: { User: string } }[];
    expect(ins).toMatchObject({ HostConfig: { NetworkMode: 'none', ReadonlyRootfs: true }, Config: { User: '65534:65534' } });
    const state = JSON.parse(await readFile(join(home, 'state', 'state.json'), 'utf8')) as { buildPins: Record<string, { packages: string[]; treeDigest: string }> };
    expect(state.buildPins[ID]).toMatchObject({ packages: [`${PROJECT}@${VERSION}`] });
  }, 600_000);
});
