import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHome } from '../helpers/registry-client.js';
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

  beforeAll(async () => {
    remote = await startRemoteMcp();
    gate = await startGate(remote.url);
    const home = await makeHome({});
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

    gate.open = true;
    await waitFor('the endpoint to be ACTIVE again', async () => ((await healthOf())?.status === 'ACTIVE' ? true : undefined), 30_000, 200);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toMatch(/^mcp_registry_health_endpoints\{state="ACTIVE"\} 1$/m);
  });
});
