import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server as HttpServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { stringify as toYaml } from 'yaml';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { repoRoot } from '../helpers/shared-data.js';

/**
 * The built registry with a 2026-07-28 child (SDK v2, per-request HTTP) and a 2025 child (SDK v1, sessionful
 * Streamable HTTP) mounted as remotes (issue 13), driven by a real 2025-era SDK client: tools called mounted, an
 * elicitation raised by each child answered by the client, progress received, then removed.
 */
const FIXTURES = join(repoRoot, 'test/fixtures/era-children');
type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

const servers: HttpServer[] = [];
async function listen(handler: Parameters<typeof createServer>[0] & object): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/mcp`;
}

async function modernChild(): Promise<string> {
  const { build } = await import(join(FIXTURES, 'modern.mjs'));
  const node = toNodeHandler(createMcpHandler(build));
  return listen((req, res) => void node(req, res));
}

async function legacyChild(): Promise<string> {
  const { build } = await import(join(FIXTURES, 'legacy.mjs'));
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  return listen(async (req, res) => {
    const id = req.headers['mcp-session-id'];
    let t = typeof id === 'string' ? sessions.get(id) : undefined;
    if (!t) {
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => void sessions.set(sid, created) });
      await build().connect(created);
      t = created;
    }
    await t.handleRequest(req, res);
  });
}

let reg: RunningRegistry;
beforeAll(async () => {
  const [modern, legacy] = await Promise.all([modernChild(), legacyChild()]);
  const home = await makeHome({ sources: [{ name: 'eras', type: 'file', path: './eras.json' }], refresh: { onStart: false }, runtime: { startTimeout: '30s', callTimeout: '30s' } });
  const remote = (name: string, url: string) => ({ name: `io.example/${name}`, description: `A ${name}-era MCP server.`, version: '1.0.0', remotes: [{ type: 'streamable-http', url }] });
  await writeFile(join(home, 'eras.json'), JSON.stringify([remote('modern', modern), remote('legacy', legacy)]));
  await writeFile(join(home, 'policy.yaml'), toYaml({ allow: ['eras/*'], entries: { 'eras/*': { remote: { allowPrivate: true, allowHttp: true } } } }));
  reg = await startRegistry(home, { capabilities: { elicitation: {} } });
  reg.client.setRequestHandler(ElicitRequestSchema, async (req) => ({ action: 'accept', content: { name: `e2e-${String(req.params.message).match(/\((\w+)\)/)?.[1]}` } }));
  expect((await reg.client.callTool({ name: 'registry-refresh', arguments: {} })).isError).toBeFalsy();
}, 120_000);

afterAll(async () => {
  await reg?.close();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

describe.each(['modern', 'legacy'] as const)('a %s-era child mounted', (era) => {
  it('is added, its tools called mounted, its question answered by the client, its progress received, and removed', async () => {
    const id = `eras/io.example/${era}`;
    const add = (await reg.client.callTool({ name: 'registry-add', arguments: { id } }, undefined, { timeout: 60_000 })) as Result;
    expect(add.isError, text(add)).toBeFalsy();
    const prefix = (add.structuredContent as { prefix: string }).prefix;
    const echo = (await reg.client.callTool({ name: `${prefix}__echo`, arguments: { text: 'hi' } })) as Result;
    expect(echo.structuredContent).toEqual({ text: 'hi', era });
    const ask = (await reg.client.callTool({ name: `${prefix}__ask`, arguments: {} })) as Result;
    expect(ask.isError, text(ask)).toBeFalsy();
    expect(text(ask)).toBe(`hello e2e-${era} from ${era}`);
    const steps: number[] = [];
    const work = (await reg.client.callTool({ name: `${prefix}__work`, arguments: {} }, undefined, { onprogress: (p) => void steps.push(p.progress) })) as Result;
    expect(text(work)).toBe('worked');
    expect(steps).toEqual([1, 2, 3]);
    const removed = (await reg.client.callTool({ name: 'registry-remove', arguments: { id } })) as Result;
    expect(removed.isError, text(removed)).toBeFalsy();
  }, 120_000);
});
