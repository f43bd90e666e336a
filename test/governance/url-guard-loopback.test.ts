import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loopbackPortFetch } from '../../src/governance/url-guard.js';

/** The fetch of a container's HTTP server reaches its one published loopback port, and nothing else on this machine. */
let ours: Server;
let other: Server;
const port = (s: Server) => (s.address() as AddressInfo).port;
const listen = () =>
  new Promise<Server>((resolve) => {
    const s = createServer((req, res) => (req.url === '/jump' ? res.writeHead(302, { location: `http://127.0.0.1:${port(other)}/` }).end() : res.end('hello')));
    s.listen(0, '127.0.0.1', () => resolve(s));
  });

beforeAll(async () => {
  ours = await listen();
  other = await listen();
});
afterAll(() => {
  ours.close();
  other.close();
});

describe('loopbackPortFetch', () => {
  it('reaches the published port over plain http', async () => {
    const g = loopbackPortFetch(port(ours));
    expect(await (await g.fetch(`http://127.0.0.1:${port(ours)}/mcp`)).text()).toBe('hello');
    await g.close();
  });

  it('refuses another loopback port, a name, https, and a redirect elsewhere', async () => {
    const g = loopbackPortFetch(port(ours));
    await expect(g.fetch(`http://127.0.0.1:${port(other)}/`)).rejects.toThrow(/reachable only at http:\/\/127\.0\.0\.1:\d+/);
    await expect(g.fetch(`http://localhost:${port(ours)}/`)).rejects.toThrow(/is refused/);
    await expect(g.fetch(`https://127.0.0.1:${port(ours)}/`)).rejects.toThrow(/is refused/);
    await expect(g.fetch(`http://127.0.0.1:${port(ours)}/jump`)).rejects.toThrow(/is refused/);
    await g.close();
  });
});
