import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { sharedData } from './shared-data.js';

/**
 * A real HTTP server on 127.0.0.1 (random port) that serves captured files, strings or handlers, so source tests
 * exercise real HTTP (headers, status codes, timing) against real pages instead of mocked fetch functions.
 */

/** What a route answers. `file` is read at request time (so tests can rewrite it between requests). */
export interface FixtureResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  file?: string;
  /** Wait this long before answering (a slow server). */
  delayMs?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as requested, e.g. `/all?page=2`. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Arrival time in milliseconds (high resolution, comparable between requests). */
  at: number;
  /** Status code that was sent back. */
  status?: number;
}

export interface HandlerContext {
  /** 1 for the first request this route has seen, 2 for the second … */
  hit: number;
  raw: IncomingMessage;
}

export type RouteHandler = (req: RecordedRequest, ctx: HandlerContext) => FixtureResponse | string | Promise<FixtureResponse | string>;

/** A string is the body (text/html); an object is a full response; a function decides per request. */
export type Route = string | FixtureResponse | RouteHandler;

/**
 * Routes are keyed by path+query (`/all?page=2`), by path alone (`/all`, matching any query), or `*` (fallback).
 * Unknown paths get a 404 naming the path so a test failure says what was asked for.
 */
export type Routes = Record<string, Route>;

export interface FixtureServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Every request in arrival order. */
  requests: RecordedRequest[];
  /** The live route table: tests may add, replace or delete routes between requests. */
  routes: Routes;
  close(): Promise<void>;
}

export async function startFixtureServer(routes: Routes = {}): Promise<FixtureServer> {
  const requests: RecordedRequest[] = [];
  const hits = new Map<string, number>();
  const table: Routes = { ...routes };

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fixture server error: ${err instanceof Error ? err.message : String(err)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const parsed = new URL(url, 'http://fixture.invalid');
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      url,
      path: parsed.pathname,
      query: parsed.searchParams,
      headers: req.headers,
      at: performance.timeOrigin + performance.now(),
    };
    requests.push(rec);
    const key = [url, parsed.pathname, '*'].find((k) => Object.hasOwn(table, k));
    if (key === undefined) {
      rec.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`no fixture route for ${url}`);
      return;
    }
    const hit = (hits.get(key) ?? 0) + 1;
    hits.set(key, hit);
    const route = table[key]!;
    let out: FixtureResponse | string = typeof route === 'function' ? await route(rec, { hit, raw: req }) : route;
    if (typeof out === 'string') out = { body: out };
    if (out.delayMs) await new Promise((r) => setTimeout(r, out.delayMs));
    const body = out.file !== undefined ? await readFile(out.file) : (out.body ?? '');
    const status = out.status ?? 200;
    rec.status = status;
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...out.headers });
    res.end(body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    routes: table,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answer with each response in turn; the last one repeats (e.g. `sequence(status(429), {file})`). */
export function sequence(...steps: Route[]): RouteHandler {
  return async (req, ctx) => {
    const step = steps[Math.min(ctx.hit, steps.length) - 1]!;
    return typeof step === 'function' ? step(req, ctx) : step;
  };
}

/** A bare status answer (429, 500, 503 …) with a short body. */
export function status(code: number, headers: Record<string, string> = {}, body = `HTTP ${code}`): FixtureResponse {
  return { status: code, headers: { 'content-type': 'text/plain', ...headers }, body };
}

/**
 * Cloudflare's "Just a moment..." bot challenge as the real site sends it: HTTP 200 with the captured page. No
 * `cf-mitigated` header by default (the capture does not show one), so clients must recognise the body.
 */
export function cloudflareChallenge(headers: Record<string, string> = {}): FixtureResponse {
  return { status: 200, headers, file: sharedData('mcpservers/cloudflare-challenge.html') };
}
