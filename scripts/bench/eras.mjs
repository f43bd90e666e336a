// Issue 13: start → first answered request for a 2026-07-28 client (SDK v2 pinned: server/discover) and a 2025-era
// client (SDK v1: initialize), and → first tools/list, against a bare SDK v2 server (serveStdio) in the same run.
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One connect: ms to the first answered request (the connect) and to the first tools/list. */
async function once(era, args, env) {
  const t0 = performance.now();
  const params = { command: process.execPath, args, env: { ...process.env, ...env }, stderr: 'ignore' };
  const client =
    era === 'modern'
      ? new ClientV2({ name: 'bench', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
      : new ClientV1({ name: 'bench', version: '1' });
  await client.connect(era === 'modern' ? new StdioV2(params) : new StdioV1(params));
  const connect = performance.now() - t0;
  await client.listTools();
  const list = performance.now() - t0;
  await client.close();
  return { connect, list };
}

export async function run(report) {
  const home = await mkdtemp(join(tmpdir(), 'bench-eras-'));
  await writeFile(join(home, 'config.yaml'), 'sources: []\nrefresh: {onStart: false}\nruntime: {podman: /nonexistent/podman}\n');
  const bare = join(tmpdir(), 'bench-bare-v2-server.mjs');
  const server = pathToFileURL(join(root, 'node_modules/@modelcontextprotocol/server/dist/index.mjs')).href;
  const stdio = pathToFileURL(join(root, 'node_modules/@modelcontextprotocol/server/dist/stdio.mjs')).href;
  await writeFile(
    bare,
    `import { Server } from ${JSON.stringify(server)};
import { serveStdio } from ${JSON.stringify(stdio)};
serveStdio(() => {
  const s = new Server({ name: 'bare', version: '1' }, { capabilities: { tools: { listChanged: true } } });
  s.setRequestHandler('tools/list', async () => ({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }] }));
  return s;
});`,
  );
  const cli = [join(root, 'dist/cli.js')];
  const env = { MCP_REGISTRY_HOME: home };
  const runs = { modern: { ours: [], bare: [] }, legacy: { ours: [], bare: [] } };
  await once('legacy', cli, env); // the first start writes the home's state
  // Interleaved, so the machine's noise falls on both sides alike.
  for (let i = 0; i < 5; i++) {
    for (const era of ['modern', 'legacy']) {
      runs[era].ours.push(await once(era, cli, env));
      runs[era].bare.push(await once(era, [bare], {}));
    }
  }
  for (const [era, label] of [['modern', '2026-07-28 client (v2 pinned)'], ['legacy', '2025-11-25 client (v1)']]) {
    const r = runs[era];
    const ours = median(r.ours.map((x) => x.connect));
    const base = median(r.bare.map((x) => x.connect));
    report(`${label}: start → first answer (median of 5)`, ours, 'ms', base, '≤ 1.3× bare');
    report(`${label}: ratio to a bare SDK v2 server`, ours / base, '×', undefined, '≤ 1.3');
    report(`${label}: start → first tools/list`, median(r.ours.map((x) => x.list)), 'ms', median(r.bare.map((x) => x.list)));
  }
  await rm(home, { recursive: true, force: true });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run((l, v, u, b, t) => console.log(l, v, u, b ?? '', t ?? ''));
}
