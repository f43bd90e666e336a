/** The publish API: publishing, deprecating and deleting server versions in managed sources, audited. */
import type { HealthChecker } from './health.js';
import type { AuditSink, HttpAuditRecord, KeyScope, PublishedRecord, PublishedStatus, PublishedStore } from '../store/org-stores.js';
import { problem, type ApiResponse } from './api.js';
import { writeRefusal, type Identity } from './auth.js';
import { validateServerJson } from './publish-validate.js';

/**
 * The organisation's API beside v0.1: the publish API of the `managed` sources (publish a server.json, delete a
 * version, set a status), plus health, audit and refresh for operators. Every write needs a credential with the
 * publish scope (operator routes: admin), whatever the origin — no CORS here, so a web page cannot call it with a
 * visitor's cookies or keys — and says what the audit trail should record.
 */

export interface OrgApiContext {
  published: PublishedStore;
  /** Managed sources in config order: where publishes go (the first unless `?source=` names another). */
  managedSources: string[];
  health: HealthChecker;
  audit: AuditSink;
  /** Ask for a refresh of every stale source (or one); says who will run it. */
  refresh(source?: string): Promise<string>;
  /** The store changed through this process: serve it now. */
  changed(): Promise<void>;
  now?: () => Date;
}

export interface OrgApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body?: Buffer;
  contentType?: string;
}

/** The response, and what the audit trail records of it (undefined: a read that is not audited). */
export interface OrgApiResult {
  api: ApiResponse;
  audit?: { action: string; target?: HttpAuditRecord['target']; reason?: string; write: boolean };
}

const STATUSES = ['active', 'deprecated', 'disabled'] as const;
const JSON_TYPE = 'application/json; charset=utf-8';

const ok = (status: number, body: unknown, headers?: Record<string, string>): ApiResponse => ({ status, body: JSON.stringify(body), contentType: JSON_TYPE, cache: 'none', cors: false, ...(headers ? { headers } : {}) });
const fail = (status: number, detail: string, extra: Record<string, unknown> = {}): ApiResponse => {
  const p = problem(status, detail, { cors: false });
  return Object.keys(extra).length ? { ...p, body: JSON.stringify({ ...JSON.parse(p.body), ...extra }) } : p;
};

/** `{name}` as one encoded segment or two plain ones, then optionally `/versions/{version}`. */
function parseEntryPath(rest: string): { name: string; version?: string } | undefined {
  const segs = rest.split('/').filter((s, i, a) => s !== '' || i < a.length - 1);
  let dec: string[];
  try {
    dec = segs.map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const at = dec.indexOf('versions');
  const nameParts = at < 0 ? dec : dec.slice(0, at);
  if (!nameParts.length || nameParts.length > 2 || nameParts.some((p) => !p)) return undefined;
  if (at >= 0 && (dec.length !== at + 2 || !dec[at + 1])) return undefined;
  return { name: nameParts.join('/'), ...(at >= 0 ? { version: dec[at + 1] } : {}) };
}

function summary(r: PublishedRecord) {
  return { source: r.source, name: r.name, version: r.version, status: r.status, ...(r.statusMessage ? { statusMessage: r.statusMessage } : {}), publishedAt: r.publishedAt, updatedAt: r.updatedAt, publishedBy: r.publishedBy, updatedBy: r.updatedBy };
}

export async function handleOrgApi(ctx: OrgApiContext, req: OrgApiRequest, who: Identity, base: string, scopeNames: Record<'publish' | 'admin', string>): Promise<OrgApiResult> {
  const { method, path } = req;
  const need = (scope: KeyScope) => writeRefusal(who, scope, base, scope === 'admin' ? scopeNames.admin : scopeNames.publish);
  const now = () => (ctx.now?.() ?? new Date()).toISOString();

  if (path === '/v1/health' || path.startsWith('/v1/health/')) {
    if (method !== 'GET' && method !== 'HEAD') return { api: fail(405, `${method} is not allowed here; use GET`) };
    const id = path.length > '/v1/health/'.length ? decodeURIComponent(path.slice('/v1/health/'.length)) : undefined;
    const states = ctx.health.all().filter((s) => id === undefined || s.entryId === id);
    if (id !== undefined && !states.length) return { api: fail(404, `no remote endpoint of "${id}" is health-checked (only entries with remote endpoints are)`) };
    return { api: ok(200, { endpoints: states, counts: ctx.health.counts() }) };
  }

  if (path === '/v1/audit') {
    const refused = need('admin');
    if (refused) return { api: refused, audit: { action: 'audit.read', reason: 'refused', write: false } };
    const limit = Math.min(1000, Math.max(1, Number(req.query.get('limit') ?? 100) || 100));
    const since = req.query.get('since') ?? undefined;
    if (since !== undefined && !Number.isFinite(Date.parse(since))) return { api: fail(400, `since must be an ISO 8601 date-time (got "${since.slice(0, 40)}")`) };
    const records = await ctx.audit.query({ since, action: req.query.get('action') ?? undefined, limit });
    return { api: ok(200, { events: records, count: records.length }), audit: { action: 'audit.read', write: false } };
  }

  if (path === '/v1/refresh') {
    if (method !== 'POST') return { api: fail(405, `${method} is not allowed here; use POST`) };
    const refused = need('admin');
    if (refused) return { api: refused, audit: { action: 'catalog.refresh', reason: 'refused', write: true } };
    const source = req.query.get('source') ?? undefined;
    const by = await ctx.refresh(source);
    return { api: ok(202, { accepted: true, by }), audit: { action: 'catalog.refresh', target: source ? { source } : undefined, write: true } };
  }

  if (path !== '/v1/entries' && !path.startsWith('/v1/entries/')) {
    return { api: fail(404, `nothing at ${path.slice(0, 200)}; endpoints: POST /v1/entries, GET /v1/entries, PATCH /v1/entries/{name}[/versions/{version}], DELETE /v1/entries/{name}/versions/{version}, GET /v1/health, GET /v1/audit, POST /v1/refresh`) };
  }
  const wanted = req.query.get('source');
  if (!ctx.managedSources.length) {
    return { api: fail(404, 'publishing needs a managed source: add one to config.yaml (sources: - {name: internal, type: managed}) and restart serve-http') };
  }
  const source = wanted ?? ctx.managedSources[0]!;
  if (!ctx.managedSources.includes(source)) return { api: fail(404, `"${source.slice(0, 80)}" is not a managed source here; managed sources: ${ctx.managedSources.join(', ')}`) };

  if (path === '/v1/entries') {
    if (method === 'GET' || method === 'HEAD') {
      const refused = need('publish');
      if (refused) return { api: refused, audit: { action: 'entry.list', reason: 'refused', write: false } };
      return { api: ok(200, { entries: (await ctx.published.list(wanted ?? undefined)).map(summary) }) };
    }
    if (method !== 'POST') return { api: fail(405, `${method} is not allowed here; use POST (publish) or GET (list)`, {}) };
    const refused = need('publish');
    if (refused) return { api: refused, audit: { action: 'entry.publish', target: { source }, reason: 'refused', write: true } };
    if (!/^application\/(.+\+)?json\b/i.test(req.contentType ?? '')) return { api: fail(415, 'send the server.json as Content-Type: application/json'), audit: { action: 'entry.publish', target: { source }, reason: 'not JSON', write: true } };
    let body: unknown;
    try {
      body = JSON.parse((req.body ?? Buffer.alloc(0)).toString('utf8'));
    } catch (err) {
      return { api: fail(400, `the body is not valid JSON: ${(err as Error).message}`), audit: { action: 'entry.publish', target: { source }, reason: 'invalid JSON', write: true } };
    }
    // A ServerResponse envelope {server, _meta} is accepted too (what GET /v0.1/... returns).
    const server = body && typeof body === 'object' && 'server' in body && !('name' in body) ? (body as { server: unknown }).server : body;
    const check = validateServerJson(server, source);
    if (!check.ok) {
      const first = check.issues[0]!;
      return {
        api: fail(422, `the server.json is not valid: ${first.path} ${first.message}${check.issues.length > 1 ? ` (and ${check.issues.length - 1} more)` : ''}`, { errors: check.issues }),
        audit: { action: 'entry.publish', target: { source, ...nameOf(server) }, reason: 'invalid server.json', write: true },
      };
    }
    const at = now();
    const rec: PublishedRecord = { source, name: check.name, version: check.version, server: server as Record<string, unknown>, status: 'active', publishedAt: at, updatedAt: at, statusChangedAt: at, publishedBy: who.id, updatedBy: who.id };
    const target = { source, name: check.name, version: check.version };
    if ((await ctx.published.add(rec)) === 'exists') {
      return { api: fail(409, `${check.name} ${check.version} is already published; a published version never changes: publish a new version, or delete this one first`), audit: { action: 'entry.publish', target, reason: 'version exists', write: true } };
    }
    await ctx.changed();
    const location = `/v0.1/servers/${encodeURIComponent(check.name)}/versions/${encodeURIComponent(check.version)}`;
    return { api: ok(201, summary(rec), { Location: location }), audit: { action: 'entry.publish', target, write: true } };
  }

  const parsed = parseEntryPath(path.slice('/v1/entries/'.length));
  if (!parsed) return { api: fail(404, 'expected /v1/entries/{name} or /v1/entries/{name}/versions/{version}, the name URL-encoded (com.example%2Fserver)') };
  const target = { source, name: parsed.name, ...(parsed.version ? { version: parsed.version } : {}) };
  if (method === 'GET' || method === 'HEAD') {
    const refused = need('publish');
    if (refused) return { api: refused };
    const rows = (await ctx.published.list(source)).filter((r) => r.name === parsed.name && (!parsed.version || r.version === parsed.version));
    if (!rows.length) return { api: fail(404, `nothing published as ${parsed.name}${parsed.version ? ` ${parsed.version}` : ''} in ${source}`) };
    return { api: ok(200, { entries: rows.map((r) => ({ ...summary(r), server: r.server })) }) };
  }
  if (method === 'DELETE') {
    const refused = need('publish');
    if (refused) return { api: refused, audit: { action: 'entry.delete', target, reason: 'refused', write: true } };
    if (!parsed.version) return { api: fail(405, 'DELETE takes one version: /v1/entries/{name}/versions/{version} (to retire every version, PATCH the name with status disabled)'), audit: { action: 'entry.delete', target, reason: 'no version', write: true } };
    const changed = await ctx.published.setStatus({ source, name: parsed.name, version: parsed.version, status: 'deleted', statusMessage: 'Deleted by its publisher.', actor: who.id, at: now() });
    if (!changed.length) return { api: fail(404, `nothing published as ${parsed.name} ${parsed.version} in ${source}`), audit: { action: 'entry.delete', target, reason: 'not found', write: true } };
    await ctx.changed();
    return { api: ok(200, summary(changed[0]!)), audit: { action: 'entry.delete', target, write: true } };
  }
  if (method === 'PATCH' || method === 'PUT') {
    const refused = need('publish');
    if (refused) return { api: refused, audit: { action: 'entry.status', target, reason: 'refused', write: true } };
    let body: { status?: unknown; statusMessage?: unknown; [k: string]: unknown };
    try {
      body = JSON.parse((req.body ?? Buffer.alloc(0)).toString('utf8') || '{}');
    } catch (err) {
      return { api: fail(400, `the body is not valid JSON: ${(err as Error).message}`), audit: { action: 'entry.status', target, reason: 'invalid JSON', write: true } };
    }
    const unknown = Object.keys(body ?? {}).filter((k) => k !== 'status' && k !== 'statusMessage');
    if (unknown.length) return { api: fail(422, `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}: send {"status": "active" | "deprecated" | "disabled", "statusMessage": "…"}`), audit: { action: 'entry.status', target, reason: 'unknown fields', write: true } };
    if (!STATUSES.includes(body.status as (typeof STATUSES)[number])) {
      return { api: fail(422, `status must be one of ${STATUSES.join(', ')} (got ${JSON.stringify(body.status ?? null)}); delete a version with DELETE`), audit: { action: 'entry.status', target, reason: 'bad status', write: true } };
    }
    if (body.statusMessage !== undefined && (typeof body.statusMessage !== 'string' || body.statusMessage.length > 500)) {
      return { api: fail(422, 'statusMessage must be a string of at most 500 characters'), audit: { action: 'entry.status', target, reason: 'bad message', write: true } };
    }
    const changed = await ctx.published.setStatus({ source, name: parsed.name, version: parsed.version, status: body.status as PublishedStatus, statusMessage: body.statusMessage as string | undefined, actor: who.id, at: now() });
    if (!changed.length) return { api: fail(404, `nothing published as ${parsed.name}${parsed.version ? ` ${parsed.version}` : ''} in ${source}`), audit: { action: 'entry.status', target, reason: 'not found', write: true } };
    await ctx.changed();
    return { api: ok(200, { entries: changed.map(summary) }), audit: { action: 'entry.status', target, write: true } };
  }
  return { api: fail(405, `${method} is not allowed here; use GET, PATCH or DELETE`) };
}

function nameOf(server: unknown): { name?: string; version?: string } {
  const s = server as { name?: unknown; version?: unknown } | null;
  return {
    ...(typeof s?.name === 'string' ? { name: s.name.slice(0, 200) } : {}),
    ...(typeof s?.version === 'string' ? { version: s.version.slice(0, 100) } : {}),
  };
}
