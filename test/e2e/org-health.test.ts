import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { chromium } from '../helpers/chromium.js';
import { startRemoteMcp, type RemoteMcp } from '../helpers/remote-mcp.js';
import { startServeHttp, waitFor, type ServeHttp } from '../helpers/serve-http.js';

/**
 * Health checks of the catalog's remote endpoints through a real serve-http process: a real MCP server (the SDK's
 * streamable HTTP transport) behind a gate that can stop answering (requests held, never answered), probed with real
 * MCP initialize round trips under a timeout.
 */

/** A pass-through to `target` that, while closed, accepts requests and never answers them. */
async function startGate(target: string): Promise<{ url: string; open: boolean; close(): Promise<void> }> {
  const t = new URL(target);
  const held: ServerResponse[] = [];
  const gate = {
    url: '',
    open: true,
    close: () => new Promise<void>((r) => (srv.closeAllConnections(), srv.close(() => r()))),
  };
  const srv: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!gate.open) {
      held.push(res);
      req.resume();
      return;
    }
    const fwd = request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: { ...req.headers, host: t.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  gate.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}${t.pathname}`;
  return gate;
}

type Health = { status: string; lastError?: string; checkedAt?: string };

describe('serve-http: health of remote endpoints', () => {
  let remote: RemoteMcp;
  let gate: Awaited<ReturnType<typeof startGate>>;
  let srv: ServeHttp;
  let home: string;
  let stdio: RunningRegistry | undefined;

  beforeAll(async () => {
    remote = await startRemoteMcp();
    gate = await startGate(remote.url);
    home = await makeHome({});
    await writeFile(
      join(home, 'remotes.json'),
      JSON.stringify([{ name: 'com.example/flaky', description: 'A remote that comes and goes.', version: '1.0.0', remotes: [{ type: 'streamable-http', url: gate.url }] }]),
    );
    await writeFile(
      join(home, 'config.yaml'),
      JSON.stringify({
        sources: [{ name: 'mine', type: 'file', path: join(home, 'remotes.json') }],
        http: { health: { interval: '1s', timeout: '700ms', failureThreshold: 2, successThreshold: 1 } },
      }),
    );
    // The probe goes through the runtime's URL guard: this loopback http endpoint must be allowed, as for a start.
    await writeFile(join(home, 'policy.yaml'), 'remote: { allowPrivate: true, allowHttp: true }\n');
    srv = await startServeHttp(home);
  });
  afterAll(async () => {
    await stdio?.close();
    await srv?.stop();
    await gate?.close();
    await remote?.close();
  });

  const healthOf = async (): Promise<Health | undefined> => {
    const res = await fetch(`${srv.url}/v0.1/servers/${encodeURIComponent('com.example/flaky')}/versions/latest`);
    if (res.status !== 200) return undefined;
    const body = (await res.json()) as { _meta?: Record<string, { health?: Health }> };
    return Object.values(body._meta ?? {}).find((m) => m && typeof m === 'object' && 'health' in m)?.health;
  };
  const endpoint = async () => ((await (await fetch(`${srv.url}/v1/health`)).json()) as { endpoints: { url: string; state: string; consecutiveFailures: number }[] }).endpoints.find((e) => e.url === gate.url);

  type ToolResult = { content: { type: string; text?: string }[]; structuredContent?: Record<string, any> };
  const tool = async (name: string, args: Record<string, unknown>) => (await stdio!.client.callTool({ name, arguments: args })) as ToolResult;
  const toolText = (r: ToolResult) => r.content.map((c) => c.text ?? '').join('\n');
  const ID = 'mine/com.example/flaky';

  it('shows health in registry-find and registry-info of the stdio server (read from the store serve-http writes) and on the catalog page', async () => {
    await waitFor('the endpoint to be ACTIVE', async () => ((await healthOf())?.status === 'ACTIVE' ? true : undefined), 30_000, 200);
    // The stdio server probes nothing: it reads the health serve-http keeps under the same home.
    stdio = await startRegistry(home);
    expect((await tool('registry-refresh', {})).content).toBeDefined();
    const found = await tool('registry-find', { query: 'remote that comes and goes' });
    const item = (found.structuredContent!.results as { id: string; health?: { status: string; checkedAt?: string } }[]).find((r) => r.id === ID);
    expect(item?.health).toMatchObject({ status: 'ACTIVE', checkedAt: expect.any(String) });
    expect(toolText(found)).toContain('health ACTIVE');
    const info = await tool('registry-info', { id: ID });
    expect(info.structuredContent!.health).toMatchObject({ status: 'ACTIVE', since: expect.any(String) });
    expect(toolText(info)).toMatch(/^Health: ACTIVE \(since .*checked .* ms\)$/m);

    const dom = await chromium(['--virtual-time-budget=10000', '--dump-dom', `${srv.url}/#server=${encodeURIComponent('com.example/flaky')}`]);
    // The state may have moved on by now (a loaded machine misses the 700 ms probe timeout): the line is what counts.
    expect(dom).toMatch(/<div id="detail-health" class="d">Health: (ACTIVE|INACTIVE) since [^<]*checked/);
  });

  it('turns ACTIVE, INACTIVE once the remote stops answering for the threshold, and ACTIVE again after it recovers', async () => {
    await waitFor('the endpoint to be ACTIVE', async () => ((await healthOf())?.status === 'ACTIVE' ? true : undefined), 30_000, 200);

    gate.open = false;
    // One missed probe is not enough (failureThreshold 2): it stays ACTIVE with one failure counted.
    const first = await waitFor('one failed probe', async () => {
      const e = await endpoint();
      return e && e.consecutiveFailures === 1 ? e : undefined;
    }, 30_000, 50);
    expect(first.state).toBe('ACTIVE');
    const down = await waitFor('the endpoint to be INACTIVE', async () => {
      const h = await healthOf();
      return h?.status === 'INACTIVE' ? h : undefined;
    }, 30_000, 200);
    expect(down.lastError).toMatch(/no answer within 700 ms|timed out|timeout/i);
    expect(srv.log()).toMatch(/health: .*com\.example\/flaky.* is INACTIVE/);
    // registry-info follows the store (re-read at most once a second).
    const info = await waitFor('registry-info to show INACTIVE', async () => {
      const r = await tool('registry-info', { id: ID });
      return r.structuredContent?.health?.status === 'INACTIVE' ? r : undefined;
    }, 10_000, 300);
    expect(toolText(info)).toMatch(/^Health: INACTIVE \(since .*last error: /m);
    const dom = await chromium(['--virtual-time-budget=10000', '--dump-dom', `${srv.url}/?q=flaky`]);
    expect(dom).toContain('<span class="badge health">INACTIVE</span>');

    gate.open = true;
    await waitFor('the endpoint to be ACTIVE again', async () => ((await healthOf())?.status === 'ACTIVE' ? true : undefined), 30_000, 200);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toMatch(/^mcp_registry_health_endpoints\{state="ACTIVE"\} 1$/m);
  });
});
