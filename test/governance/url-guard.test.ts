import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkRemoteUrl, classifyAddress, guardedFetch, hostAllowed, parseIPv4, parseIPv6, type RemoteGuardOptions } from '../../src/governance/url-guard.js';

// No test resolves a real name: every host name goes through this table (unknown names fail like NXDOMAIN).
const DNS: Record<string, string[]> = {
  'mcp.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'rebind.example.com': ['93.184.216.34', '10.0.0.5'],
  'sneaky.example.com': ['::ffff:127.0.0.1'],
  'meta.example.com': ['169.254.169.254'],
  'dev.example.com': ['127.0.0.1', '::1'],
  'office.example.com': ['10.20.3.4'],
  'other-office.example.com': ['10.21.0.1'],
  localhost: ['127.0.0.1', '::1'],
};
const resolve = async (host: string) => {
  const a = DNS[host];
  if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return a;
};
const check = (url: string, opts: RemoteGuardOptions = {}) => checkRemoteUrl(url, { resolve, ...opts });
const reasonOf = async (url: string, opts: RemoteGuardOptions = {}) => {
  const r = await check(url, opts);
  return r.ok ? 'ok' : r.reason;
};

describe('IP parsing', () => {
  it('IPv4 in every inet_aton form', () => {
    expect(parseIPv4('127.0.0.1')).toEqual([127, 0, 0, 1]);
    expect(parseIPv4('2130706433')).toEqual([127, 0, 0, 1]);
    expect(parseIPv4('0x7f000001')).toEqual([127, 0, 0, 1]);
    expect(parseIPv4('0177.0.0.1')).toEqual([127, 0, 0, 1]);
    expect(parseIPv4('127.1')).toEqual([127, 0, 0, 1]);
    expect(parseIPv4('10.1.258')).toEqual([10, 1, 1, 2]);
    expect(parseIPv4('0x7f.0x0.0.01')).toEqual([127, 0, 0, 1]);
    for (const bad of ['256.0.0.1', '1.2.3.4.5', '1..2.3', '08.0.0.1', 'abc', '4294967296', '']) expect(parseIPv4(bad), bad).toBeNull();
  });

  it('IPv6 with ::, embedded IPv4, brackets and zone ids', () => {
    expect(parseIPv6('::1')).toEqual([...Array(15).fill(0), 1]);
    expect(parseIPv6('[::ffff:127.0.0.1]')).toEqual([...Array(10).fill(0), 0xff, 0xff, 127, 0, 0, 1]);
    expect(parseIPv6('::ffff:7f00:1')).toEqual(parseIPv6('::ffff:127.0.0.1'));
    expect(parseIPv6('fe80::1%eth0')).toEqual([0xfe, 0x80, ...Array(13).fill(0), 1]);
    expect(parseIPv6('2001:db8:0:0:0:0:2:1')).toEqual(parseIPv6('2001:db8::2:1'));
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', ':::', '12345::', 'g::1', '1:2:3:4:5:6:7', '::ffff:1.2.3', '1.2.3.4']) expect(parseIPv6(bad), bad).toBeNull();
  });

  it('classifies the ranges that matter', () => {
    const kinds: [string, string][] = [
      ['127.9.9.9', 'loopback'],
      ['2130706433', 'loopback'],
      ['10.255.0.1', 'private'],
      ['172.16.5.4', 'private'],
      ['172.31.255.255', 'private'],
      ['172.32.0.1', 'public'],
      ['192.168.1.1', 'private'],
      ['169.254.1.1', 'link-local'],
      ['169.254.169.254', 'metadata'],
      ['100.64.0.1', 'cgnat'],
      ['100.127.255.255', 'cgnat'],
      ['100.128.0.1', 'public'],
      ['100.100.100.200', 'metadata'],
      ['0.0.0.0', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['192.0.2.7', 'reserved'],
      ['8.8.8.8', 'public'],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:169.254.169.254', 'metadata'],
      ['::ffff:8.8.8.8', 'public'],
      ['::127.0.0.1', 'loopback'],
      ['64:ff9b::7f00:1', 'loopback'],
      ['2002:a00:1::', 'private'],
      ['fd00:ec2::254', 'metadata'],
      ['fd12:3456::1', 'unique-local'],
      ['fc00::1', 'unique-local'],
      ['fe80::1', 'link-local'],
      ['febf::1', 'link-local'],
      ['fec0::1', 'private'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'reserved'],
      ['2606:4700::1111', 'public'],
    ];
    for (const [ip, kind] of kinds) expect(classifyAddress(ip)?.kind, ip).toBe(kind);
    expect(classifyAddress('mcp.example.com')).toBeUndefined();
    expect(classifyAddress('deadbeef')).toBeUndefined();
  });
});

describe('checkRemoteUrl', () => {
  it('a public HTTPS endpoint passes, with the addresses it resolved to', async () => {
    expect(await check('https://mcp.example.com/mcp')).toMatchObject({ ok: true, addresses: DNS['mcp.example.com'] });
    expect(await check('https://93.184.216.34:8443/sse')).toMatchObject({ ok: true, addresses: ['93.184.216.34'] });
    expect(await check('https://[2606:4700::1111]/mcp')).toMatchObject({ ok: true });
  });

  it('plain http is refused unless policy allows it; other schemes and garbage always', async () => {
    expect(await reasonOf('http://mcp.example.com/mcp')).toMatch(/plain http:\/\/ would send requests and credentials unencrypted.*remote\.allowHttp: true/);
    expect(await reasonOf('http://mcp.example.com/mcp', { allowHttp: true })).toBe('ok');
    expect(await reasonOf('ftp://mcp.example.com/')).toMatch(/only https:\/\/ is accepted/);
    expect(await reasonOf('file:///etc/passwd')).toMatch(/only https:\/\/ is accepted/);
    expect(await reasonOf('not a url')).toMatch(/is not a valid URL/);
  });

  it('loopback in every disguise is refused by default, saying how to allow it', async () => {
    const urls = [
      'https://127.0.0.1/mcp',
      'https://127.1/',
      'https://2130706433/',
      'https://0x7f000001/',
      'https://0177.0.0.1/',
      'https://0x7f.1/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:7f00:1]/',
      'https://[0:0:0:0:0:ffff:127.0.0.1]/',
      'https://[::127.0.0.1]/',
      'https://[64:ff9b::127.0.0.1]/',
      'https://[2002:7f00:1::]/',
      'https://localhost/',
      'https://LOCALHOST./',
      'https://api.localhost/',
      'https://sneaky.example.com/',
      'https://dev.example.com/',
    ];
    for (const u of urls) {
      const reason = await reasonOf(u);
      expect(reason, u).toMatch(/is refused: .* is this machine \(loopback\)/);
      expect(reason, u).toContain('remote.allowPrivate: true');
    }
  });

  it('private, link-local, CGNAT and ULA addresses and local names are refused by default', async () => {
    for (const [u, what] of [
      ['https://10.0.0.1/', 'a private network (10.0.0.0/8)'],
      ['https://172.20.1.1/', 'a private network (172.16.0.0/12)'],
      ['https://192.168.178.1/', 'a private network (192.168.0.0/16)'],
      ['https://169.254.10.10/', 'a link-local address (169.254.0.0/16)'],
      ['https://100.100.1.1/', 'a carrier-grade NAT range (100.64.0.0/10)'],
      ['https://[fd12:3456::1]/', 'a private IPv6 network (unique local) (fc00::/7)'],
      ['https://[fe80::1]/', 'a link-local address (fe80::/10)'],
      ['https://printer.local/', 'a private network (*.local names)'],
      ['https://intranet/', 'a private network (single-label host name)'],
    ] as const) {
      expect(await reasonOf(u), u).toContain(`is ${what}`);
    }
  });

  it('a public name that resolves inside (any one of its addresses) is refused, naming the address', async () => {
    expect(await reasonOf('https://rebind.example.com/mcp')).toBe(
      'https://rebind.example.com is refused: rebind.example.com (resolves to 10.0.0.5) is a private network (10.0.0.0/8). Remote servers must be public HTTPS endpoints; to allow this one, set remote.allowPrivate: true in policy.yaml (globally or for this entry), or list the host in remote.allowHosts.',
    );
    expect(await reasonOf('https://meta.example.com/')).toContain('is a cloud metadata service (169.254.169.254/32)');
  });

  it('allowPrivate opens loopback and private networks, but never metadata or the unspecified address', async () => {
    const open = { allowPrivate: true };
    for (const u of ['https://127.0.0.1:8443/mcp', 'https://localhost/', 'https://dev.example.com/', 'https://10.1.2.3/', 'https://[fd00::1]/', 'https://office.example.com/']) {
      expect(await reasonOf(u, open), u).toBe('ok');
    }
    expect(await reasonOf('http://127.0.0.1:3000/mcp', { ...open, allowHttp: true })).toBe('ok');
    for (const u of ['https://169.254.169.254/latest/meta-data/', 'https://[fd00:ec2::254]/', 'https://[::ffff:169.254.169.254]/', 'https://metadata.google.internal/computeMetadata/v1/', 'https://meta.example.com/']) {
      const reason = await reasonOf(u, open);
      expect(reason, u).toContain('a cloud metadata service');
      expect(reason, u).toContain('remote.allowHosts');
    }
    expect(await reasonOf('https://0.0.0.0/', open)).toContain('the unspecified address');
    expect(await reasonOf('https://[::]/', open)).toContain('the unspecified address');
  });

  it('allowHosts: names and *.suffix skip resolving; addresses and CIDR ranges match the resolved addresses', async () => {
    const noDns = async () => {
      throw new Error('must not resolve');
    };
    expect(await checkRemoteUrl('https://mcp.corp.example/mcp', { allowHosts: ['*.corp.example'], resolve: noDns })).toMatchObject({ ok: true, addresses: [] });
    expect(await checkRemoteUrl('https://corp.example/', { allowHosts: ['*.corp.example'], resolve: noDns })).toMatchObject({ ok: false });
    expect(await reasonOf('https://office.example.com/', { allowHosts: ['10.20.0.0/16'] })).toBe('ok');
    expect(await reasonOf('https://other-office.example.com/', { allowHosts: ['10.20.0.0/16'] })).toContain('resolves to 10.21.0.1');
    expect(await reasonOf('https://169.254.169.254/', { allowHosts: ['169.254.169.254'] })).toBe('ok');
    expect(await reasonOf('https://[fd12::5]/', { allowHosts: ['fd12::/16'] })).toBe('ok');
    // allowHosts does not lift the https rule.
    expect(await reasonOf('http://mcp.corp.example/', { allowHosts: ['*.corp.example'] })).toMatch(/plain http/);
    expect(hostAllowed('MCP.Example.com', 'mcp.example.com.')).toBe(true);
    expect(hostAllowed('[::1]', '0:0::1')).toBe(true);
    expect(hostAllowed('10.0.0.0/33', '10.0.0.1')).toBe(false);
  });

  it('a name that does not resolve, or resolves too slowly, is refused with the cause', async () => {
    expect(await reasonOf('https://nowhere.example.com/')).toMatch(/nowhere\.example\.com could not be resolved \(getaddrinfo ENOTFOUND nowhere\.example\.com\)/);
    const slow = () => new Promise<string[]>(() => {});
    expect(await reasonOf('https://slow.example.com/', { resolve: slow, resolveTimeoutMs: 30 })).toMatch(/resolving slow\.example\.com took longer than 30 ms/);
    expect(await reasonOf('https://empty.example.com/', { resolve: async () => [] })).toMatch(/resolved to no address/);
  });

  it('without an injected resolver, localhost is judged by name before any lookup', async () => {
    expect(await checkRemoteUrl('https://localhost:9/mcp')).toMatchObject({ ok: false, reason: expect.stringContaining('loopback') });
  });
});

describe('guardedFetch: the connection itself is checked', () => {
  it('a name that passed the start check but resolves inside when connecting (DNS rebinding) is refused', async () => {
    const server = createServer((_req, res) => res.end('inside'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    // First answer public (the start check), every later one loopback: the classic rebinding pattern.
    let lookups = 0;
    const rebinding = async (host: string) => (host === 'rebind.test' ? (lookups++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']) : resolve(host));
    const url = `http://rebind.test:${port}/mcp`;
    const opts: RemoteGuardOptions = { resolve: rebinding, allowHttp: true };
    const guarded = guardedFetch(new URL(url), opts);
    try {
      expect((await checkRemoteUrl(url, opts)).ok).toBe(true);
      const err = await guarded.fetch(url).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/fetch failed: .*rebind\.test \(resolves to 127\.0\.0\.1\).*loopback/);
      expect(lookups).toBe(2);

      // Where policy allows the address, the request goes exactly where the guard resolved it (no real DNS knows
      // rebind.test): the pinned lookup is what the connection uses.
      const open = guardedFetch(new URL(url), { ...opts, allowPrivate: true });
      try {
        const res = await open.fetch(url);
        expect(await res.text()).toBe('inside');
      } finally {
        await open.close();
      }
    } finally {
      await guarded.close();
      await new Promise((r) => server.close(r));
    }
  });

  it('a redirect to an address the guard refuses is not followed; failures say why; close does not wait for a hung connect', async () => {
    const inside = createServer((_req, res) => res.end('inside'));
    await new Promise<void>((r) => inside.listen(0, '127.0.0.1', () => r()));
    const insidePort = (inside.address() as AddressInfo).port;
    // "public.test" is the public endpoint (served here on loopback, trusted by allowHosts); it redirects inside.
    const front = createServer((_req, res) => res.writeHead(307, { location: `http://127.0.0.1:${insidePort}/secret` }).end());
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
    const frontPort = (front.address() as AddressInfo).port;
    const dns = async (host: string) => (host === 'public.test' ? ['127.0.0.1'] : host === 'two.test' ? ['127.0.0.1', '::1'] : resolve(host));
    const opts: RemoteGuardOptions = { resolve: dns, allowHttp: true, allowHosts: ['public.test'] };
    const url = `http://public.test:${frontPort}/mcp`;
    const guarded = guardedFetch(new URL(url), opts);
    try {
      const err = await guarded.fetch(url, { method: 'POST', body: '{}' }).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/fetch failed: .*127\.0\.0\.1.*loopback/);

      // Every address of a name refusing the connection: the message still says what happened.
      const closedPort = insidePort; // about to be closed
      await new Promise((r) => inside.close(r));
      const two = guardedFetch(new URL(`http://two.test:${closedPort}/`), { resolve: dns, allowHttp: true, allowPrivate: true });
      const refused = await two.fetch(`http://two.test:${closedPort}/`).then(
        () => null,
        (e: Error) => e,
      );
      expect(refused?.message).toMatch(/fetch failed: .*ECONNREFUSED/);
      await two.close();

      // A lookup that never answers: stopping the child must not wait for undici's connect timeout.
      const hung = guardedFetch(new URL('http://hung.test/'), { resolve: () => new Promise<string[]>(() => {}), allowHttp: true });
      const pending = hung.fetch('http://hung.test/').catch(() => null);
      await new Promise((r) => setTimeout(r, 50));
      const t0 = performance.now();
      await hung.close();
      expect(performance.now() - t0).toBeLessThan(2_000);
      await pending;
    } finally {
      await guarded.close();
      if (inside.listening) await new Promise((r) => inside.close(r));
      await new Promise((r) => front.close(r));
    }
  });
});
