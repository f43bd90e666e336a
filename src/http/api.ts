/** The MCP Registry API v0.1 routes: requests, responses, cache classes, paging and problem details. */
import { decodeCursor, encodeCursor, type ListFilters } from './cursor.js';
import { rfc3339Micros, type CatalogView, type QueryFilters, type Row } from './view.js';

/**
 * MCP Registry API v0.1 routing and handlers, independent of node:http: a request (method, raw path, raw query)
 * in, a response (status, body, caching class) out. Paths are routed on their raw form, so an encoded `/` (`%2F`)
 * inside a server name stays inside its segment; the unencoded two-segment form is accepted as well.
 */

export interface ApiRequest {
  method: string;
  /** Raw (still percent-encoded) path, without query, base path already removed. */
  path: string;
  /** Raw query string without `?`. */
  query: string;
}

/** public: cacheable catalog data; none: never cache (errors, health); page: the HTML page. */
export type CacheClass = 'public' | 'none' | 'page';

export interface ApiResponse {
  status: number;
  body: string;
  contentType: string;
  cache: CacheClass;
  /** The CORS headers GitHub Copilot needs (every /v0.1 response, errors included). */
  cors: boolean;
  headers?: Record<string, string>;
}

export interface ApiContext {
  view(): CatalogView;
  /** The HTML page for `/`. */
  page(): string;
  version: { version: string; git_commit: string; build_time: string };
}

const DEFAULT_LIMIT = 30;
export const MAX_LIMIT = 100;
const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** RFC 9457 problem details (`error` repeats `detail` for clients that read that field). */
export function problem(status: number, detail: string, extra: Partial<ApiResponse> = {}): ApiResponse {
  const title = TITLES[status] ?? 'Error';
  return { status, body: JSON.stringify({ title, status, detail, error: detail }), contentType: PROBLEM_TYPE, cache: 'none', cors: true, ...extra };
}

/** Paths under /v0 get CORS headers (also the 404 for the old /v0/… and the 429 of the rate limiter). */
export const corsPath = (path: string): boolean => path.startsWith('/v0');

const json = (body: string, cache: CacheClass = 'public'): ApiResponse => ({ status: 200, body, contentType: JSON_TYPE, cache, cors: true });

export function handleApi(req: ApiRequest, ctx: ApiContext): ApiResponse {
  let path = req.path;
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const method = req.method.toUpperCase();

  if (path === '' || path === '/' || path === '/index.html') {
    if (method !== 'GET' && method !== 'HEAD') return { ...problem(405, `${method} is not allowed here; use GET`), cors: false, headers: { Allow: 'GET, HEAD' } };
    return { status: 200, body: ctx.page(), contentType: 'text/html; charset=utf-8', cache: 'page', cors: false };
  }
  if (!path.startsWith('/v0.1/')) {
    const hint = path.startsWith('/v0/') ? ' This registry serves API version v0.1 only: use /v0.1/…' : ' The API is under /v0.1/ (e.g. /v0.1/servers).';
    return { ...problem(404, `nothing at ${truncate(path)}.${hint}`), cors: corsPath(path) };
  }
  if (method === 'OPTIONS') return { status: 204, body: '', contentType: 'text/plain', cache: 'none', cors: true };
  if (path === '/v0.1/publish') return problem(501, 'publishing is not supported: this registry serves a curated catalog; add servers to one of its sources instead');
  if (method !== 'GET' && method !== 'HEAD') {
    return problem(405, `${method} is not allowed: this API is read-only (GET, HEAD, OPTIONS)`, { headers: { Allow: 'GET, HEAD, OPTIONS' } });
  }

  if (path === '/v0.1/health') return json(JSON.stringify({ status: 'ok', servers: ctx.view().size }), 'none');
  if (path === '/v0.1/version') return json(JSON.stringify(ctx.version), 'none');
  if (path === '/v0.1/servers') return listServers(new URLSearchParams(req.query), ctx.view());
  if (path.startsWith('/v0.1/servers/')) return serverRoutes(path.slice('/v0.1/servers/'.length), ctx.view());
  return problem(404, `nothing at ${truncate(path)}; endpoints: /v0.1/servers, /v0.1/servers/{name}/versions[/latest|/{version}], /v0.1/health, /v0.1/version`);
}

function truncate(s: string, max = 200): string {
  return s.length > max ? s.slice(0, max) + '…' : s;
}

const TRUE = new Set(['1', 't', 'true']);
const FALSE = new Set(['0', 'f', 'false']);

function listServers(q: URLSearchParams, view: CatalogView): ApiResponse {
  const rawLimit = q.get('limit');
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== null) {
    const n = /^\d{1,4}$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(n >= 1 && n <= MAX_LIMIT)) return problem(422, `limit must be a whole number from 1 to ${MAX_LIMIT} (got "${truncate(rawLimit, 40)}")`);
    limit = n;
  }

  // Filters of the first page travel inside the cursor (VS Code drops `search` on later pages); parameters that
  // are present override them.
  let filters: ListFilters = {};
  let after;
  const rawCursor = q.get('cursor');
  if (rawCursor) {
    const c = decodeCursor(rawCursor);
    if (!c) return problem(400, 'cursor is not valid: pass back the metadata.nextCursor of the previous page unchanged, or start again without cursor');
    after = c.after;
    filters = { ...c.filters };
  }
  const search = q.get('search');
  if (search !== null) {
    const s = search.trim().toLowerCase();
    if (s) filters.search = s;
    else delete filters.search;
  }
  const version = q.get('version');
  if (version !== null) {
    if (version.trim()) filters.version = version.trim();
    else delete filters.version;
  }
  const rawDeleted = q.get('include_deleted');
  let explicitDeleted: boolean | undefined;
  if (rawDeleted !== null) {
    const v = rawDeleted.toLowerCase();
    if (!TRUE.has(v) && !FALSE.has(v)) return problem(422, `include_deleted must be true or false (got "${truncate(rawDeleted, 40)}")`);
    explicitDeleted = TRUE.has(v);
    filters.includeDeleted = explicitDeleted;
  }
  const since = q.get('updated_since');
  if (since !== null) filters.updatedSince = since;
  const query: QueryFilters = { search: filters.search, version: filters.version, includeDeleted: filters.includeDeleted };
  if (filters.updatedSince !== undefined) {
    const us = rfc3339Micros(filters.updatedSince);
    if (us === undefined) return problem(400, `updated_since must be an RFC 3339 date-time such as 2025-09-01T00:00:00Z (got "${truncate(filters.updatedSince, 60)}")`);
    if (explicitDeleted === false) return problem(400, 'include_deleted=false cannot be combined with updated_since: incremental updates must include deleted servers so clients can remove them');
    query.updatedSinceUs = us;
    // Incremental sync must see removals.
    query.includeDeleted = filters.includeDeleted = true;
  }

  const rows = view.list(after, query, limit);
  const metadata: { nextCursor?: string; count: number } = { count: rows.length };
  const last = rows.at(-1);
  if (rows.length === limit && last) metadata.nextCursor = encodeCursor({ name: last.name, version: last.version }, filters);
  return json(`{"servers":[${rows.map((r) => r.json).join(',')}],"metadata":${JSON.stringify(metadata)}}`);
}

function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function serverRoutes(rest: string, view: CatalogView): ApiResponse {
  const segs = rest.split('/');
  // `{name}` is one encoded segment (io.github.owner%2Frepo); accept the unencoded two-segment form too.
  const at = segs[1] === 'versions' ? 1 : segs[2] === 'versions' ? 2 : -1;
  if (at < 0 || segs.length > at + 2) {
    return problem(404, 'expected /v0.1/servers/{name}/versions, /versions/latest or /versions/{version}, with the name URL-encoded (io.github.owner%2Frepo)');
  }
  const parts = segs.slice(0, at).map(decodeSegment);
  if (parts.some((p) => p === undefined || p === '')) return problem(400, 'the server name in the path is not valid percent-encoding');
  const name = parts.join('/');
  const rows = view.versions(name);
  const live = rows.filter((r) => r.status !== 'deleted');
  const tail = segs[at + 1];

  if (tail === undefined) {
    if (!live.length) return notFound(name, rows);
    return json(`{"servers":[${live.map((r) => r.json).join(',')}],"metadata":{"count":${live.length}}}`);
  }
  const wanted = decodeSegment(tail);
  if (wanted === undefined || wanted === '') return problem(400, 'the version in the path is not valid percent-encoding');
  let row: Row | undefined;
  if (wanted === 'latest') {
    row = rows.find((r) => r.isLatest);
    if (!row || row.status === 'deleted') return notFound(name, rows);
  } else {
    row = live.find((r) => r.version === wanted);
    if (!row) {
      if (!live.length) return notFound(name, rows);
      return problem(404, `server "${truncate(name)}" has no version "${truncate(wanted, 60)}"; available: ${live.map((r) => r.version).join(', ')} (or use /versions/latest)`);
    }
  }
  return json(row.json);
}

function notFound(name: string, rows: Row[]): ApiResponse {
  if (rows.length) return problem(404, `server "${truncate(name)}" was removed from this registry`);
  return problem(404, `no server named "${truncate(name)}" in this registry; list or search with GET /v0.1/servers?search=…`);
}
