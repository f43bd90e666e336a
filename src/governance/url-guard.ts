/** The remote URL guard: classifying addresses (private, metadata…) and refusing URLs policy does not permit. */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';

/**
 * The remote URL guard: a catalog entry's remote endpoint must be HTTPS to a public address. A catalog (or an
 * agent's `config`) pointing a "remote server" at 127.0.0.1, the LAN, a link-local address or a cloud metadata
 * service would turn the registry into a request forgery tool against the user's own machine and network.
 *
 * Host names are resolved (every address) so a public-looking name pointing inside is caught too. A name can
 * resolve differently later (DNS rebinding), so the connections themselves go through `guardedFetch`, which checks
 * the addresses each connection is actually made to by the same rules.
 */

export type AddressKind =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'unique-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

export interface AddressClass {
  kind: AddressKind;
  /** The range it fell in, for messages: "127.0.0.0/8". */
  range: string;
}

export interface RemoteGuardOptions {
  /** Permit loopback, private (RFC 1918, ULA), link-local and CGNAT addresses and local names. Never metadata. */
  allowPrivate?: boolean;
  /** Permit plain http:// (to any address the rest of the policy permits). */
  allowHttp?: boolean;
  /**
   * Hosts trusted whatever they resolve to (metadata included, so list them with care): exact names,
   * `*.example.com` (subdomains), IP addresses, or CIDR ranges (`10.1.0.0/16`, `fd00::/8`) matched against the
   * literal host and every resolved address.
   */
  allowHosts?: string[];
  /** Resolves a host name to every address (default: dns.lookup with all: true). Tests inject their own. */
  resolve?: (hostname: string) => Promise<string[]>;
  /** Give up resolving after this long (default 5 s). */
  resolveTimeoutMs?: number;
}

export type RemoteUrlCheck = { ok: true; url: URL; addresses: string[] } | { ok: false; reason: string };

/** Kinds `allowPrivate` permits; metadata, unspecified, multicast and reserved need an explicit allowHosts entry. */
const PRIVATE_KINDS = new Set<AddressKind>(['loopback', 'private', 'link-local', 'cgnat', 'unique-local']);

// ---- parsing addresses -----------------------------------------------------------------------------------------

/**
 * IPv4 in every form inet_aton accepts — `127.1`, `2130706433`, `0x7f.0.0.1`, `0177.0.0.1` — as four bytes, or
 * null. (WHATWG URL parsing already normalises these in http(s) hosts; this covers hosts from anywhere else.)
 */
export function parseIPv4(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length < 1 || parts.length > 4 || parts.some((p) => p === '')) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]+$/.test(p)) n = parseInt(p, 8);
    else if (/^(0|[1-9]\d*)$/.test(p)) n = Number(p);
    else return null;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((x) => x > 255) || last >= 256 ** (4 - nums.length)) return null;
  const bytes = [...nums];
  for (let i = 4 - nums.length - 1; i >= 0; i--) bytes.push(Math.floor(last / 256 ** i) % 256);
  return bytes;
}

/** IPv6 (with `::` and an embedded dotted IPv4 tail; brackets and a zone id are dropped) as 16 bytes, or null. */
export function parseIPv6(input: string): number[] | null {
  let s = input.replace(/^\[|\]$/g, '');
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(':')) return null;
  const lastColon = s.lastIndexOf(':');
  const v4 = s.slice(lastColon + 1);
  if (v4.includes('.')) {
    // ::ffff:1.2.3.4 → ::ffff:102:304
    const b = /^\d+\.\d+\.\d+\.\d+$/.test(v4) ? parseIPv4(v4) : null;
    if (!b) return null;
    s = `${s.slice(0, lastColon + 1)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const bytes: number[] = [];
  for (const g of [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail]) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
    const v = parseInt(g, 16);
    bytes.push(v >> 8, v & 255);
  }
  return bytes;
}

const parseAddress = (s: string) => (s.includes(':') ? parseIPv6(s) : parseIPv4(s));

/** Whether the first `bits` bits of two byte arrays agree. */
function prefixMatch(a: readonly number[], b: readonly number[], bits: number): boolean {
  for (let i = 0; i < a.length && i * 8 < bits; i++) {
    const take = Math.min(8, bits - i * 8);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

const V4_TABLE: [AddressKind, [number, number, number, number], number][] = [
  // Cloud metadata first: they sit inside ranges that allowPrivate would otherwise open.
  ['metadata', [169, 254, 169, 254], 32], // AWS, GCP, Azure, OpenStack, Oracle…
  ['metadata', [169, 254, 170, 2], 32], // AWS ECS task credentials
  ['metadata', [100, 100, 100, 200], 32], // Alibaba Cloud
  ['unspecified', [0, 0, 0, 0], 8],
  ['private', [10, 0, 0, 0], 8],
  ['cgnat', [100, 64, 0, 0], 10],
  ['loopback', [127, 0, 0, 0], 8],
  ['link-local', [169, 254, 0, 0], 16],
  ['private', [172, 16, 0, 0], 12],
  ['reserved', [192, 0, 0, 0], 24],
  ['reserved', [192, 0, 2, 0], 24],
  ['reserved', [192, 88, 99, 0], 24],
  ['private', [192, 168, 0, 0], 16],
  ['private', [198, 18, 0, 0], 15],
  ['reserved', [198, 51, 100, 0], 24],
  ['reserved', [203, 0, 113, 0], 24],
  ['multicast', [224, 0, 0, 0], 4],
  ['reserved', [240, 0, 0, 0], 4],
];

function classifyV4(b: number[]): AddressClass {
  for (const [kind, net, bits] of V4_TABLE) if (prefixMatch(b, net, bits)) return { kind, range: `${net.join('.')}/${bits}` };
  return { kind: 'public', range: 'public' };
}

const zeros = (b: number[], from: number, to: number) => b.slice(from, to).every((x) => x === 0);

function classifyV6(b: number[]): AddressClass {
  const w = (i: number) => (b[i * 2]! << 8) | b[i * 2 + 1]!;
  const embedded = (from: number, via: string): AddressClass => {
    const c = classifyV4(b.slice(from, from + 4));
    return c.kind === 'public' ? c : { kind: c.kind, range: `${c.range} via ${via}` };
  };
  if (b.every((x) => x === 0)) return { kind: 'unspecified', range: '::/128' };
  if (zeros(b, 0, 15) && b[15] === 1) return { kind: 'loopback', range: '::1/128' };
  if (w(0) === 0xfd00 && w(1) === 0x0ec2 && zeros(b, 4, 14) && w(7) === 0x254) return { kind: 'metadata', range: 'fd00:ec2::254/128' };
  if (zeros(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return embedded(12, '::ffff:0:0/96 (IPv4-mapped)');
  if (zeros(b, 0, 12)) return embedded(12, '::/96 (IPv4-compatible)');
  if (w(0) === 0x64 && w(1) === 0xff9b && zeros(b, 4, 12)) return embedded(12, '64:ff9b::/96 (NAT64)');
  if (w(0) === 0x64 && w(1) === 0xff9b && w(2) === 1) return { kind: 'private', range: '64:ff9b:1::/48' };
  if (w(0) === 0x2002) return embedded(2, '2002::/16 (6to4)');
  if (w(0) === 0x2001 && w(1) === 0) return { kind: 'reserved', range: '2001::/32 (Teredo)' };
  if (w(0) === 0x2001 && w(1) === 0x0db8) return { kind: 'reserved', range: '2001:db8::/32' };
  if (w(0) === 0x0100 && zeros(b, 2, 8)) return { kind: 'reserved', range: '100::/64' };
  if ((b[0]! & 0xfe) === 0xfc) return { kind: 'unique-local', range: 'fc00::/7' };
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return { kind: 'link-local', range: 'fe80::/10' };
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return { kind: 'private', range: 'fec0::/10' };
  if (b[0] === 0xff) return { kind: 'multicast', range: 'ff00::/8' };
  if ((b[0]! & 0xe0) !== 0x20) return { kind: 'reserved', range: 'outside 2000::/3' };
  return { kind: 'public', range: 'public' };
}

/** What kind of address `ip` is (IPv4 in any inet_aton form, or IPv6), or undefined when it is not an address. */
export function classifyAddress(ip: string): AddressClass | undefined {
  const v6 = ip.includes(':') ? parseIPv6(ip) : null;
  if (v6) return classifyV6(v6);
  const v4 = /^[0-9a-fx.]+$/i.test(ip) ? parseIPv4(ip) : null;
  return v4 ? classifyV4(v4) : undefined;
}

// ---- host names ------------------------------------------------------------------------------------------------

const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal', 'metadata.azure.com']);
/** Names that are local by definition (RFC 6761, 6762, 8375, ICANN's .internal). */
const LOCAL_SUFFIXES = ['.local', '.internal', '.home.arpa', '.lan', '.intranet', '.corp'];

function classifyName(host: string): AddressClass | undefined {
  if (METADATA_NAMES.has(host)) return { kind: 'metadata', range: `metadata host name ${host}` };
  if (host === 'localhost' || host.endsWith('.localhost')) return { kind: 'loopback', range: 'localhost' };
  if (!host.includes('.')) return { kind: 'private', range: 'single-label host name' };
  const suffix = LOCAL_SUFFIXES.find((s) => host.endsWith(s));
  if (suffix) return { kind: 'private', range: `*${suffix} names` };
  return undefined;
}

// ---- allowHosts ------------------------------------------------------------------------------------------------

function cidrContains(cidr: string, ip: string): boolean {
  const [net, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const a = parseAddress(net!);
  const b = parseAddress(ip);
  if (!a || !b || a.length !== b.length || !Number.isInteger(bits) || bits < 0 || bits > a.length * 8) return false;
  return prefixMatch(a, b, bits);
}

function sameAddress(a: string, b: string): boolean {
  const pa = parseAddress(a);
  const pb = parseAddress(b);
  return !!pa && !!pb && pa.length === pb.length && pa.every((x, i) => x === pb[i]);
}

/** Whether an allowHosts item covers a host name or an address. */
export function hostAllowed(item: string, hostOrIp: string): boolean {
  const it = item.trim().toLowerCase().replace(/^\[|\]$/g, '');
  const h = hostOrIp.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (!it) return false;
  if (it.includes('/')) return cidrContains(it, h);
  if (classifyAddress(it)) return classifyAddress(h) !== undefined && sameAddress(it, h);
  if (it.startsWith('*.')) return h.endsWith(it.slice(1));
  return h === it;
}

// ---- the check -------------------------------------------------------------------------------------------------

const DESCRIBE: Record<AddressKind, string> = {
  public: 'a public address',
  loopback: 'this machine (loopback)',
  private: 'a private network',
  'link-local': 'a link-local address',
  cgnat: 'a carrier-grade NAT range',
  'unique-local': 'a private IPv6 network (unique local)',
  metadata: 'a cloud metadata service',
  unspecified: 'the unspecified address (this machine)',
  multicast: 'a multicast address',
  reserved: 'a reserved, non-routable address',
};

function refusal(url: URL, what: string, cls: AddressClass, opts: RemoteGuardOptions): string {
  const how = PRIVATE_KINDS.has(cls.kind) && !opts.allowPrivate
    ? `set remote.allowPrivate: true in policy.yaml (globally or for this entry), or list the host in remote.allowHosts`
    : `list the host in remote.allowHosts in policy.yaml if you really mean it`;
  return `${url.origin} is refused: ${what} is ${DESCRIBE[cls.kind]} (${cls.range}). Remote servers must be public HTTPS endpoints; to allow this one, ${how}.`;
}

async function defaultResolve(hostname: string): Promise<string[]> {
  const all = await lookup(hostname, { all: true, verbatim: true });
  return all.map((a) => a.address);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
      timer.unref();
    }),
  ]);
}

/**
 * Whether a remote server URL may be connected to under the given policy. On success, the addresses the host
 * resolved to (empty for an allowHosts name, which is not resolved).
 */
export async function checkRemoteUrl(raw: string, opts: RemoteGuardOptions = {}): Promise<RemoteUrlCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `"${raw}" is not a valid URL; a remote server needs an https:// URL.` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, reason: `${url.protocol}// URLs are not remote MCP servers; only https:// is accepted.` };
  }
  if (url.protocol === 'http:' && !opts.allowHttp) {
    return {
      ok: false,
      reason: `${url.origin} is refused: plain http:// would send requests and credentials unencrypted. Use the https:// URL, or set remote.allowHttp: true in policy.yaml for this entry.`,
    };
  }
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  const allowHosts = opts.allowHosts ?? [];
  const listed = (h: string) => allowHosts.some((item) => hostAllowed(item, h));
  if (listed(host)) return { ok: true, url, addresses: [] };

  const judge = (cls: AddressClass, what: string): string | undefined => {
    if (cls.kind === 'public') return undefined;
    if (PRIVATE_KINDS.has(cls.kind) && opts.allowPrivate) return undefined;
    return refusal(url, what, cls, opts);
  };

  const literal = classifyAddress(host);
  if (literal) {
    const why = judge(literal, host);
    return why ? { ok: false, reason: why } : { ok: true, url, addresses: [host] };
  }
  const byName = classifyName(host);
  if (byName) {
    const why = judge(byName, host);
    if (why) return { ok: false, reason: why };
  }
  let addresses: string[];
  try {
    addresses = await withTimeout((opts.resolve ?? defaultResolve)(host), opts.resolveTimeoutMs ?? 5_000, `resolving ${host}`);
  } catch (err) {
    return { ok: false, reason: `${url.origin} is refused: ${host} could not be resolved (${(err as Error).message}), so it cannot be checked. Check the URL and your network.` };
  }
  if (!addresses.length) return { ok: false, reason: `${url.origin} is refused: ${host} resolved to no address.` };
  for (const a of addresses) {
    if (listed(a)) continue;
    const cls = classifyAddress(a);
    if (!cls) return { ok: false, reason: `${url.origin} is refused: ${host} resolved to "${a}", which is not an IP address.` };
    const why = judge(cls, `${host} (resolves to ${a})`);
    if (why) return { ok: false, reason: why };
  }
  return { ok: true, url, addresses };
}

type LookupCallback = (err: Error | null, address: string | { address: string; family: number }[], family?: number) => void;

/** `url` with another host (a bare IPv6 address gets its brackets back). */
function withHost(url: URL, hostname: string, protocol = url.protocol, port = url.port): string {
  const target = new URL(url.href);
  target.protocol = protocol;
  target.hostname = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
  target.port = port;
  return target.href;
}

/**
 * A `lookup` (as net.connect takes) for connections to `url`'s server: the host is resolved and judged by the rules
 * of checkRemoteUrl at connect time, and the connection goes to the addresses that were judged.
 */
export function guardedLookup(url: URL, opts: RemoteGuardOptions = {}): (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback) => void {
  return (hostname, options, callback) => {
    const judged = async () => {
      const check = await checkRemoteUrl(withHost(url, hostname), opts);
      if (!check.ok) throw new Error(check.reason);
      // A host listed in allowHosts is trusted whatever it resolves to: the check did not need its addresses.
      const addresses = check.addresses.length ? check.addresses : await (opts.resolve ?? defaultResolve)(hostname);
      const family = options.family === 'IPv6' || options.family === 6 ? 6 : options.family === 'IPv4' || options.family === 4 ? 4 : 0;
      const list = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })).filter((a) => !family || a.family === family);
      if (!list.length) throw new Error(`${hostname} resolved to no${family ? ` IPv${family}` : ''} address.`);
      return list;
    };
    judged().then(
      (list) => (options.all ? callback(null, list) : callback(null, list[0]!.address, list[0]!.family)),
      (err: Error) => callback(err, []),
    );
  };
}

export interface GuardedFetch {
  fetch: (input: string | URL, init?: RequestInit) => Promise<Response>;
  /** Drops its connections at once (a connect still in progress included). */
  close(): Promise<void>;
}

/** What went wrong, from undici's "fetch failed" and its cause (an AggregateError when every address failed). */
function failureText(err: Error): string {
  const cause = err.cause as (Error & { code?: string; errors?: Error[] }) | undefined;
  if (!cause) return err.message;
  const why = cause.message || cause.errors?.map((e) => e.message).join('; ') || cause.code || String(cause);
  return `${err.message}: ${why}`;
}

/**
 * A fetch whose every connection passes the guard when it is made (for the MCP SDK's HTTP transports): host names
 * through `guardedLookup`, IP addresses (which never reach a lookup) checked before connecting — so a redirect or a
 * later resolution cannot reach an address checkRemoteUrl would refuse.
 */
export function guardedFetch(url: URL, opts: RemoteGuardOptions = {}): GuardedFetch {
  const connectNamed = buildConnector({ lookup: guardedLookup(url, opts) });
  const connect: buildConnector.connector = (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    if (!isIP(host)) return connectNamed(options, callback);
    checkRemoteUrl(withHost(url, host, options.protocol, options.port), opts).then(
      (check) => (check.ok ? connectNamed(options, callback) : callback(new Error(check.reason), null)),
      (err: Error) => callback(err, null),
    );
  };
  return fetchThrough(connect);
}

function fetchThrough(connect: buildConnector.connector): GuardedFetch {
  const dispatcher = new Agent({ connect });
  return {
    // undici's own fetch, since the global one takes no dispatcher of another undici copy; same Request/Response API.
    fetch: (input, init) =>
      (undiciFetch(input, { ...(init as object), dispatcher }) as unknown as Promise<Response>).catch((err: Error) => {
        throw new Error(failureText(err), { cause: err });
      }),
    close: () => dispatcher.destroy(),
  };
}

/**
 * The fetch of a container's own HTTP server, published on `http://127.0.0.1:<port>`: it connects there and nowhere
 * else — not another loopback port (the user's own services), not a host a redirect names. Policy's `remote`
 * options do not apply: the registry published that one port itself, and no other is opened by it.
 */
export function loopbackPortFetch(port: number): GuardedFetch {
  const connectAny = buildConnector({});
  const connect: buildConnector.connector = (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    const at = Number(options.port || (options.protocol === 'https:' ? 443 : 80));
    if (options.protocol !== 'http:' || host !== '127.0.0.1' || at !== port) {
      return callback(new Error(`${options.protocol}//${options.hostname}:${at} is refused: this server's container is reachable only at http://127.0.0.1:${port}`), null);
    }
    return connectAny(options, callback);
  };
  return fetchThrough(connect);
}
