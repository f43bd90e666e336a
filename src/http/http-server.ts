/** serve-http's node:http server: the precomputed view, per-URL ETag/gzip cache, access log, per-IP rate limit. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { Entry } from '../model/entry.js';
import { createLogger, errorMessage, type Logger } from '../util/log.js';
import { VERSION } from '../util/version.js';
import { corsPath, handleApi, problem, type ApiContext, type ApiResponse, type CacheClass } from './api.js';
import { PAGE_CSP, PAGE_HTML } from './page.js';
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitOptions } from './rate-limit.js';
import type { EntryFilter, MappingOptions } from './server-json-out.js';
import { ServedStamps } from './stamps.js';
import { buildView, CallerView, ServedView, type CatalogView, type Row } from './view.js';
import { ANONYMOUS_CALLER, callers } from './entry-claims.js';
import { claimsMatch } from './auth.js';

/**
 * `mcp-registry serve-http`: the MCP Registry API v0.1 over plain node:http. The served view is precomputed on every
 * catalog update; responses are cached per URL with a strong ETag and a gzip variant, so a request is usually a
 * map lookup. Every response carries a request id and produces one access-log line on stderr; clients are rate
 * limited per IP; close() stops accepting and lets in-flight requests finish.
 */

/** What the server needs from the catalog (the lead's Catalog satisfies it). */
export interface CatalogLike {
  all(): readonly Entry[];
  on(event: 'updated', fn: () => void): unknown;
  off(event: 'updated', fn: () => void): unknown;
}

export interface HttpServerOptions {
  catalog: CatalogLike;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Also serve everything under this prefix (e.g. `/registry` → `/registry/v0.1/servers`). */
  basePath?: string;
  /** Policy: which entries are served, and which as deprecated. */
  filter?: EntryFilter;
  mapping?: MappingOptions;
  /** Where the served-timestamps file lives (updated_since across restarts); none keeps them in memory. */
  cacheDir?: string;
  rateLimit?: RateLimitOptions | false;
  /** Take the client address from X-Forwarded-For (only behind a proxy you run). */
  trustProxy?: boolean;
  /** Where access-log lines go (default: stderr); false for none. */
  accessLog?: ((lines: string) => void) | false;
  log?: Logger;
  /** Cache whole responses per URL between catalog updates (default true). */
  responseCache?: boolean;
  /** Cache-Control max-age of catalog responses, seconds (default 60). */
  maxAge?: number;
  /** Clock for timestamps (tests). */
  now?: () => Date;
  /** The served-timestamps store to use instead of the file under cacheDir (PostgreSQL: shared by replicas). */
  stamps?: ServedStamps;
  /** Runs before each view build (a replica re-reads the timestamps the refresher wrote). */
  beforeBuild?: () => Promise<void>;
  /** What is served, made from the built view (published entries laid over it, health added); see recompose(). */
  compose?: (base: ServedView) => CatalogView;
  /**
   * Sees every request first (after the rate limit): true when it answered it (auth refusals, publish, metrics…);
   * false to let this server answer from its view. A promise when it must wait (a token to verify).
   */
  intercept?: (r: InterceptedRequest) => boolean | Promise<boolean>;
}

/** A request as the intercept hook gets it: path without the base path, query without `?`. */
export interface InterceptedRequest {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: string;
  ip: string;
  rid: string;
}

const SERVED_STAMPS_FILE = 'http-served.json';
const GZIP_MIN = 1024;
const CACHE_MAX_BYTES = 64 * 1024 * 1024;
const MAX_CACHE_KEY = 2048;

interface CachedResponse {
  api: ApiResponse;
  body: Buffer;
  gz?: Buffer;
  etag: string;
  bytes: number;
  /** What this entry added to cacheBytes (body plus an allowance for its gzip variant); eviction subtracts it. */
  charged?: number;
}

export function normalizeBasePath(p: string | undefined): string {
  if (!p) return '';
  const t = '/' + p.trim().replace(/^\/+|\/+$/g, '');
  if (t === '/') return '';
  if (!/^\/[A-Za-z0-9._~\-/]+$/.test(t)) throw new Error(`base path "${p}" may only contain letters, digits and . _ ~ - / (e.g. /registry)`);
  return t;
}

export class RegistryHttpServer {
  readonly server: Server;
  private current: CatalogView;
  private base: ServedView;
  private readonly stamps: ServedStamps;
  private readonly limiter: RateLimiter | null;
  private readonly cache = new Map<string, CachedResponse>();
  private cacheBytes = 0;
  private readonly basePath: string;
  private readonly log: Logger;
  private readonly onUpdated = () => void this.rebuild();
  private building: Promise<void> | null = null;
  private again = false;
  private stopping = false;
  private closing: Promise<void> | null = null;
  private logLines: string[] = [];
  private logFlush: NodeJS.Immediate | null = null;
  private readonly ctx: ApiContext;
  private readonly maxAge: number;
  private address: AddressInfo | null = null;

  constructor(private readonly opts: HttpServerOptions) {
    this.basePath = normalizeBasePath(opts.basePath);
    this.log = opts.log ?? createLogger('http');
    this.stamps = opts.stamps ?? new ServedStamps(opts.cacheDir ? join(opts.cacheDir, SERVED_STAMPS_FILE) : undefined, this.log);
    this.limiter = opts.rateLimit === false ? null : new RateLimiter(opts.rateLimit ?? DEFAULT_RATE_LIMIT);
    this.current = this.base = new ServedView([]);
    this.maxAge = opts.maxAge ?? 60;
    this.ctx = {
      view: () => this.current,
      page: () => PAGE_HTML,
      version: {
        version: VERSION,
        git_commit: process.env.MCP_REGISTRY_GIT_COMMIT ?? 'unknown',
        build_time: process.env.MCP_REGISTRY_BUILD_TIME ?? 'unknown',
      },
    };
    this.server = createServer({ keepAliveTimeout: 5_000, requestTimeout: 30_000, headersTimeout: 20_000 }, (req, res) => this.handle(req, res));
  }

  /** Base URL, e.g. http://127.0.0.1:8080 (without the base path). */
  get url(): string {
    const a = this.address;
    if (!a) throw new Error('server is not listening');
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  get view(): CatalogView {
    return this.current;
  }

  /** Build the view and follow catalog updates, without listening (a named registry answers through another's port). */
  async prepare(): Promise<void> {
    await this.stamps.load();
    await this.rebuild();
    this.opts.catalog.on('updated', this.onUpdated);
  }

  /** Serve the same built view again through `compose` (its layers changed, the catalog did not). */
  recompose(): void {
    if (!this.opts.compose) return;
    this.current = this.opts.compose(this.base);
    this.cache.clear();
    this.cacheBytes = 0;
  }

  async start(): Promise<void> {
    await this.prepare();
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.opts.port ?? 8080, this.opts.host ?? '127.0.0.1', () => {
        this.server.off('error', onError);
        this.address = this.server.address() as AddressInfo;
        resolve();
      });
    });
  }

  /** Recompute the served view (catalog or policy changed). Concurrent calls coalesce into one more build. */
  rebuild(): Promise<void> {
    if (this.building) {
      this.again = true;
      return this.building;
    }
    this.building = (async () => {
      do {
        this.again = false;
        const t0 = performance.now();
        try {
          await this.opts.beforeBuild?.();
          this.base = await buildView(this.opts.catalog.all(), { filter: this.opts.filter, mapping: this.opts.mapping, stamps: this.stamps, now: this.opts.now?.(), log: this.log });
          this.current = this.opts.compose ? this.opts.compose(this.base) : this.base;
          this.cache.clear();
          this.cacheBytes = 0;
          this.log.info(`serving ${this.current.size} servers (view built in ${(performance.now() - t0).toFixed(0)} ms)`);
        } catch (err) {
          this.log.error(`could not rebuild the served catalog; still serving the previous one: ${errorMessage(err)}`);
        }
        await this.stamps.save();
      } while (this.again);
    })().finally(() => (this.building = null));
    return this.building;
  }

  /** Stop accepting connections, let in-flight requests finish (up to graceMs), then close what is left. */
  close(graceMs = 10_000): Promise<void> {
    if (this.closing) return this.closing;
    this.stopping = true;
    this.opts.catalog.off('updated', this.onUpdated);
    this.closing = new Promise<void>((resolve) => {
      const force = setTimeout(() => this.server.closeAllConnections(), graceMs);
      force.unref();
      this.server.close(() => {
        clearTimeout(force);
        resolve();
      });
      this.server.closeIdleConnections();
    }).then(async () => {
      this.flushLog();
      await this.building?.catch(() => {});
      await this.stamps.save();
    });
    return this.closing;
  }

  private clientAddress(req: IncomingMessage): string {
    if (this.opts.trustProxy) {
      const xff = req.headers['x-forwarded-for'];
      const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
      if (first) return first;
    }
    return req.socket.remoteAddress ?? 'unknown';
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const t0 = performance.now();
    const incoming = req.headers['x-request-id'];
    const rid = typeof incoming === 'string' && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    const ip = this.clientAddress(req);
    res.setHeader('X-Request-Id', rid);
    if (this.stopping) res.setHeader('Connection', 'close');
    res.once('close', () => this.access(req, res, ip, rid, t0));

    const method = req.method ?? 'GET';
    let url = req.url ?? '/';
    if (/^https?:\/\//i.test(url)) url = url.replace(/^https?:\/\/[^/?#]*/i, '') || '/';
    const qi = url.indexOf('?');
    let path = qi < 0 ? url : url.slice(0, qi);
    const query = qi < 0 ? '' : url.slice(qi + 1);
    if (this.basePath && (path === this.basePath || path.startsWith(this.basePath + '/'))) path = path.slice(this.basePath.length) || '/';

    try {
      if (this.limiter && path !== '/v0.1/health') {
        const wait = this.limiter.take(ip);
        if (wait > 0) {
          const p = problem(429, `too many requests from ${ip}: retry in ${wait} s (limit ${this.opts.rateLimit ? this.opts.rateLimit.perSecond : DEFAULT_RATE_LIMIT.perSecond}/s)`, {
            cors: corsPath(path),
            headers: { 'Retry-After': String(wait) },
          });
          return this.send(req, res, p, null);
        }
      }
      const intercepted = this.opts.intercept?.({ req, res, method, path, query, ip, rid });
      if (intercepted === true) return;
      if (intercepted) {
        intercepted.then(
          (done) => done || this.respond(req, res, method, path, query, url, rid),
          (err: unknown) => this.failed(req, res, method, url, rid, err),
        );
        return;
      }
      this.respond(req, res, method, path, query, url, rid);
    } catch (err) {
      this.failed(req, res, method, url, rid, err);
    }
  }

  /** Answer from this server's view (the org front calls it for the named registry a path names). */
  respond(req: IncomingMessage, res: ServerResponse, method: string, path: string, query: string, url: string, rid: string): void {
    try {
      const cacheable = (method === 'GET' || method === 'HEAD') && this.opts.responseCache !== false && url.length <= MAX_CACHE_KEY;
      const seen = this.callerView(req);
      const key = path + '?' + query + seen.key;
      if (cacheable) {
        const hit = this.cache.get(key);
        if (hit) return this.send(req, res, hit.api, hit);
      }
      const api = handleApi({ method, path, query }, seen.ctx);
      let entry: CachedResponse | null = null;
      if (api.status === 200 && api.cache !== 'none') {
        const body = Buffer.from(api.body);
        entry = { api, body, etag: `"${createHash('sha1').update(body).digest('base64url')}"`, bytes: body.length };
        if (cacheable) this.remember(key, entry);
      }
      this.send(req, res, api, entry);
    } catch (err) {
      this.failed(req, res, method, url, rid, err);
    }
  }

  /**
   * What this caller is served: entries with claims (entry-claims.ts) only when the caller's claims match. The
   * response cache is keyed by which of the view's claim sets the caller matches, so callers who see the same rows
   * share cached answers.
   */
  private callerView(req: IncomingMessage): { ctx: ApiContext; key: string } {
    const base = this.base;
    const caller = callers.get(req) ?? ANONYMOUS_CALLER;
    if (!base.restricted.length || caller.all) return { ctx: this.ctx, key: base.restricted.length ? '#all' : '' };
    const matched = new Set(base.claimSets.filter((c) => claimsMatch(c, caller.claims)).map((c) => JSON.stringify(c)));
    const hidden = (r: Row) => !!r.claims && !matched.has(JSON.stringify(r.claims));
    const current = this.current;
    const size = current.size - base.restricted.filter((r) => r.status !== 'deleted' && hidden(r)).length;
    const view = new CallerView(current, hidden, size);
    return { ctx: { ...this.ctx, view: () => view }, key: '#' + base.claimSets.map((c) => (matched.has(JSON.stringify(c)) ? '1' : '0')).join('') };
  }

  /** Send a response made elsewhere (the org layer's answers), with this server's headers and access log. */
  answer(req: IncomingMessage, res: ServerResponse, api: ApiResponse): void {
    this.send(req, res, api, null);
  }

  private failed(req: IncomingMessage, res: ServerResponse, method: string, url: string, rid: string, err: unknown): void {
    this.log.error(`request ${rid} ${method} ${url} failed: ${errorMessage(err)}`, { stack: (err as Error).stack?.split('\n').slice(0, 4).join(' | ') });
    if (!res.headersSent) this.send(req, res, problem(500, `internal error (request id ${rid}); the server log has the details`), null);
    else res.destroy();
  }

  private remember(key: string, entry: CachedResponse): void {
    this.cache.set(key, entry);
    entry.charged = entry.bytes * 1.3;
    this.cacheBytes += entry.charged;
    if (this.cacheBytes > CACHE_MAX_BYTES) {
      // Oldest first: Map keeps insertion order.
      for (const [k, v] of this.cache) {
        if (this.cacheBytes <= CACHE_MAX_BYTES * 0.8) break;
        this.cache.delete(k);
        this.cacheBytes -= v.charged ?? 0;
      }
    }
  }

  private cacheControl(c: CacheClass): string {
    return c === 'public' ? `public, max-age=${this.maxAge}` : c === 'page' ? 'no-cache' : 'no-store';
  }

  private send(req: IncomingMessage, res: ServerResponse, api: ApiResponse, entry: CachedResponse | null): void {
    res.statusCode = api.status;
    if (api.cors) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Allow-Methods', 'GET, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.setHeader('Access-Control-Expose-Headers', 'ETag, X-Request-Id, Retry-After');
      if (api.status === 204) res.setHeader('Access-Control-Max-Age', '86400');
    }
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (api.cache === 'page') {
      res.setHeader('Content-Security-Policy', PAGE_CSP);
      res.setHeader('Referrer-Policy', 'no-referrer');
    }
    for (const [k, v] of Object.entries(api.headers ?? {})) res.setHeader(k, v);
    res.setHeader('Cache-Control', this.cacheControl(api.cache));
    if (api.status === 204) return void res.end();

    let body = entry?.body ?? Buffer.from(api.body);
    res.setHeader('Content-Type', api.contentType);
    if (entry) {
      res.setHeader('Vary', 'Accept-Encoding');
      const gzip = body.length >= GZIP_MIN && acceptsGzip(req.headers['accept-encoding']);
      const etag = gzip ? entry.etag.slice(0, -1) + '-gz"' : entry.etag;
      res.setHeader('ETag', etag);
      if (matchesEtag(req.headers['if-none-match'], entry.etag)) {
        res.statusCode = 304;
        res.removeHeader('Content-Type');
        return void res.end();
      }
      if (gzip) {
        entry.gz ??= gzipSync(body, { level: 6 });
        body = entry.gz;
        res.setHeader('Content-Encoding', 'gzip');
      }
    }
    res.setHeader('Content-Length', body.length);
    if (req.method === 'HEAD') return void res.end();
    res.end(body);
  }

  private access(req: IncomingMessage, res: ServerResponse, ip: string, rid: string, t0: number): void {
    if (this.opts.accessLog === false) return;
    const ms = performance.now() - t0;
    const len = res.getHeader('Content-Length') ?? 0;
    const ua = req.headers['user-agent'] ?? '';
    const done = res.writableFinished ? '' : ' aborted';
    this.logLines.push(`${new Date().toISOString()} http ${ip} ${JSON.stringify(`${req.method} ${req.url}`)} ${res.statusCode} ${len}B ${ms.toFixed(1)}ms id=${rid}${done} ua=${JSON.stringify(ua)}`);
    // One write per event-loop turn, not one per request.
    this.logFlush ??= setImmediate(() => this.flushLog());
  }

  private flushLog(): void {
    if (this.logFlush) clearImmediate(this.logFlush);
    this.logFlush = null;
    if (!this.logLines.length) return;
    const text = this.logLines.join('\n') + '\n';
    this.logLines = [];
    const sink = this.opts.accessLog;
    if (typeof sink === 'function') sink(text);
    else process.stderr.write(text);
  }
}

function acceptsGzip(h: string | undefined): boolean {
  if (!h) return false;
  for (const part of h.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  }
  return false;
}

/** If-None-Match uses weak comparison: `W/` and our `-gz` variant suffix do not matter. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.slice(1, -1);
  return header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
    return v === bare || v === bare + '-gz';
  });
}

/** Build the view, start listening and follow catalog updates. */
export async function startHttpServer(opts: HttpServerOptions): Promise<RegistryHttpServer> {
  const s = new RegistryHttpServer(opts);
  await s.start();
  return s;
}
