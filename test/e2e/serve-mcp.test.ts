import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { Podman, INSTANCE_LABEL } from '../../src/runtime/podman/podman.js';
import { cliPath, makeHome } from '../helpers/registry-client.js';
import { requirePodman } from '../helpers/podman.js';
import { repoRoot } from '../helpers/shared-data.js';

/**
 * `mcp-registry serve-mcp`: the registry's own MCP server over Streamable HTTP. Loopback only unless asked, a bearer
 * token on every request, Host/Origin checked (DNS rebinding), and several clients of both eras sharing one registry
 * and one set of containers.
 */

const CATALOG = join(repoRoot, 'test/fixtures/runtime-catalog');
const TOKEN = 'serve-mcp-test-token-0123456789abcdef';
const podman = new Podman();

interface Served {
  child: ChildProcess;
  url: URL;
  stderr(): string;
  exited: Promise<number | null>;
}

async function serve(home: string, args: string[] = [], env: Record<string, string> = { MCP_REGISTRY_TOKEN: TOKEN }): Promise<Served> {
  const child = spawn(process.execPath, [cliPath, 'serve-mcp', '--port', '0', ...args], { env: { ...process.env, MCP_REGISTRY_HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await expect.poll(() => /at (http:\S+)/.exec(err)?.[1] ?? (child.exitCode !== null ? 'exited' : undefined), { timeout: 30_000 }).toBeDefined();
  const m = /at (http:\S+)/.exec(err);
  if (!m) throw new Error(`serve-mcp did not start: ${err}`);
  return { child, url: new URL(m[1]!), stderr: () => err, exited };
}

let home: string;
let served: Served | undefined;
beforeAll(async () => {
  home = await makeHome({ sources: [{ name: 'test', type: 'file', path: CATALOG }], refresh: { onStart: false }, runtime: { startTimeout: '60s', callTimeout: '60s' } });
});
afterAll(async () => {
  served?.child.kill('SIGTERM');
  await served?.exited;
  const pid = served?.child.pid;
  const left = (await podman.listContainers({ [INSTANCE_LABEL]: '' }).catch(() => [])).filter((c) => (c.labels[INSTANCE_LABEL] ?? '').startsWith(`${pid}-`));
  if (left.length) await podman.remove(left.map((c) => c.id)).catch(() => {});
  await rm(home, { recursive: true, force: true });
});

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };

describe('serve-mcp (issue 13)', () => {
  it('refuses a non-loopback host without --allow-remote, saying how to allow it', async () => {
    const child = spawn(process.execPath, [cliPath, 'serve-mcp', '--host', '0.0.0.0', '--port', '0'], { env: { ...process.env, MCP_REGISTRY_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    expect(await new Promise((r) => child.on('exit', r))).toBe(2);
    expect(err).toMatch(/--host 0\.0\.0\.0 is not a loopback address.*--allow-remote/);
  });

  it('a generated token is printed once; requests without it, or with a foreign Host or Origin, are refused', async () => {
    const s = await serve(home, [], {});
    let code: number | null | undefined;
    try {
      await expect.poll(() => /bearer token .*: (\S+)\n/.exec(s.stderr())?.[1]).toBeDefined();
      const token = /bearer token .*: (\S+)\n/.exec(s.stderr())?.[1];
      expect(token).toMatch(/^[\w-]{40,}$/);
      const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
      const post = (headers: Record<string, string>) =>
        fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(init) });
      const none = await post({});
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await post({ authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
      expect((await post({ authorization: `Bearer ${token}`, origin: 'http://evil.example' })).status).toBe(403);
      expect((await post({ authorization: `Bearer ${token}` })).status).toBe(200);
      // Shown that once, never logged again.
      expect(s.stderr().split(token!).length - 1).toBe(1);
    } finally {
      s.child.kill('SIGTERM');
      code = await s.exited;
    }
    expect(code, s.stderr()).toBe(0);
  });

  it('a 2026-07-28 client and a 2025 client share one registry: a mount by one reaches both as a change notification, both call it', async (ctx) => {
    await requirePodman(ctx);
    served = await serve(home);
    const headers = { authorization: `Bearer ${TOKEN}` };
    const modern = new ClientV2({ name: 'modern', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await modern.connect(new HttpV2(served.url, { requestInit: { headers } }));
    expect(modern.getProtocolEra()).toBe('modern');
    let modernChanged = 0;
    modern.setNotificationHandler('notifications/tools/list_changed', () => void modernChanged++);
    await modern.listen({ toolsListChanged: true });
    const legacy = new ClientV1({ name: 'legacy', version: '1' });
    await legacy.connect(new HttpV1(served.url, { requestInit: { headers } }));
    let legacyChanged = 0;
    legacy.setNotificationHandler(ToolListChangedNotificationSchema, () => void legacyChanged++);
    try {
      const names = async () => ({
        modern: (await modern.listTools({}, { cacheMode: 'refresh' })).tools.map((t) => t.name),
        legacy: (await legacy.listTools()).tools.map((t) => t.name),
      });
      const before = await names();
      expect(before.modern).toEqual(before.legacy);

      expect(((await legacy.callTool({ name: 'registry-refresh', arguments: {} }, undefined, { timeout: 120_000 })) as Result).isError).toBeFalsy();
      const add = (await legacy.callTool({ name: 'registry-add', arguments: { id: 'test/tiny' } }, undefined, { timeout: 120_000 })) as Result;
      expect(add.isError, JSON.stringify(add.content)).toBeFalsy();
      await expect.poll(() => legacyChanged, { timeout: 10_000 }).toBeGreaterThan(0);
      await expect.poll(() => modernChanged, { timeout: 10_000 }).toBeGreaterThan(0);
      const after = await names();
      expect(after.modern).toEqual(after.legacy);
      expect(after.modern).toContain('tiny__echo');

      // The container the 2025 client started answers the 2026 client: one registry, one set of containers.
      const echo = (await modern.callTool({ name: 'tiny__echo', arguments: { text: 'shared' } })) as Result;
      expect(echo.content).toEqual([{ type: 'text', text: 'shared' }]);
      const exec = (await legacy.callTool({ name: 'registry-exec', arguments: { tool: 'tiny__echo', arguments: { text: 'exec' } } })) as Result;
      expect(exec.content).toEqual([{ type: 'text', text: 'exec' }]);
      const mine = (await podman.listContainers({ [INSTANCE_LABEL]: '' })).filter((c) => (c.labels[INSTANCE_LABEL] ?? '').startsWith(`${served!.child.pid}-`));
      expect(mine).toHaveLength(1);

      const removed = (await modern.callTool({ name: 'registry-remove', arguments: { id: 'test/tiny' } })) as Result;
      expect(removed.isError).toBeFalsy();
      await expect.poll(async () => (await names()).legacy.includes('tiny__echo'), { timeout: 10_000 }).toBe(false);
    } finally {
      await legacy.close().catch(() => {});
      await modern.close().catch(() => {});
    }
    expect(served.stderr()).not.toContain(TOKEN);
  });
});
