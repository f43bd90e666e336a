/** The official MCP Registry source: paging its API with retries and backoff, remembered between fetches. */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { SourceConfig } from '../config/config.js';
import type { Entry, EntryVersion } from '../model/entry.js';
import { sortVersions } from '../model/versions.js';
import { errorMessage } from '../util/log.js';
import { networkProblem, retryAfterMs, throwIfHostUnknown } from './network-error.js';
import { SourceError, type FetchContext, type FetchResult, type Source } from './source.js';
import { officialMeta, pickLatest, serverJsonToEntry, ServerJsonError, type EnvelopeMeta } from './server-json.js';

export type OfficialSourceConfig = Pick<Extract<SourceConfig, { type: 'official' }>, 'name' | 'url' | 'pageSize'>;

export interface OfficialSourceOptions {
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Attempts per page on 429 / 5xx / network errors (first try included). */
  attempts?: number;
  /** First backoff delay; doubles each retry. A Retry-After header overrides it (capped by maxBackoffMs). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A safety stop for registries whose cursors never end. */
  maxPages?: number;
}

/** What the source remembers between fetches. */
export interface OfficialState {
  /** Server time when the last successful crawl started (RFC3339); the next refresh asks for rows updated after it. */
  watermark: string;
  /** The registry the watermark belongs to: a changed URL means a full crawl. */
  url: string;
}

const PageSchema = z.looseObject({
  servers: z.array(z.unknown()),
  metadata: z.looseObject({ nextCursor: z.string().nullish(), count: z.number().optional() }).nullish(),
});

const EnvelopeSchema = z.looseObject({ server: z.unknown(), _meta: z.record(z.string(), z.unknown()).nullish() });

interface Page {
  servers: unknown[];
  nextCursor?: string;
  /** Server time of the response (Date header), when it sent one. */
  date?: Date;
}

/**
 * The official MCP registry (or any registry speaking its v0.1 API). A full crawl pages through every published
 * version and keeps the latest per server, with every non-deleted version in `versions`; later refreshes ask only
 * for rows updated since the last crawl started.
 */
export class OfficialSource implements Source {
  readonly type = 'official';
  readonly name: string;
  private readonly base: string;
  private readonly pageSize: number;
  private readonly opts: Required<OfficialSourceOptions>;

  constructor(cfg: OfficialSourceConfig, opts: OfficialSourceOptions = {}) {
    this.name = cfg.name;
    // Accept the base URL with or without the API version path users sometimes copy along.
    this.base = cfg.url.replace(/\/+$/, '').replace(/\/v0(\.1)?$/, '');
    this.pageSize = cfg.pageSize ?? 100;
    this.opts = { timeoutMs: 30_000, attempts: 4, backoffMs: 1_000, maxBackoffMs: 30_000, maxPages: 10_000, ...opts };
  }

  async fetch(ctx: FetchContext): Promise<FetchResult> {
    const state = parseState(ctx.previous?.state);
    if (!ctx.force && ctx.previous && state && state.url === this.base) return this.incremental(ctx, state);
    return this.fullCrawl(ctx);
  }

  private async fullCrawl(ctx: FetchContext): Promise<FetchResult> {
    const warnings: string[] = [];
    const byName = new Map<string, Entry>();
    const versions = new Map<string, Map<string, EntryVersion>>();
    const t0 = await this.crawl(ctx, undefined, (e) => {
      const held = byName.get(e.nativeName);
      byName.set(e.nativeName, held ? pickLatest(held, e) : e);
      noteVersion(versions, e);
    }, warnings);
    const entries = withListedVersions(byName, versions);
    ctx.log.info(`official registry ${this.base}: ${entries.length} servers`);
    return { entries, state: { watermark: t0, url: this.base } satisfies OfficialState, warnings };
  }

  private async incremental(ctx: FetchContext, state: OfficialState): Promise<FetchResult> {
    const warnings: string[] = [];
    const byName = new Map<string, Entry>(ctx.previous!.entries.map((e) => [e.nativeName, e]));
    // The versions held (a snapshot from before versions were kept has only its latest), updated row by row.
    const versions = new Map<string, Map<string, EntryVersion>>();
    for (const e of ctx.previous!.entries) {
      for (const v of e.versions?.length ? e.versions : []) noteListed(versions, e.nativeName, v);
      if (!e.versions?.length) noteVersion(versions, e);
    }
    let changed = 0;
    const t0 = await this.crawl(ctx, state.watermark, (e) => {
      changed++;
      noteVersion(versions, e);
      const held = byName.get(e.nativeName);
      // A row flagged latest supersedes what we hold (it clears the flag on older local versions); an update of
      // the version we hold replaces it (status changes, deletions); anything else competes by version order.
      const wins = !held || officialMeta(e)?.isLatest === true || held.version === e.version || pickLatest(held, e) === e;
      if (wins) byName.set(e.nativeName, e);
    }, warnings);
    if (changed === 0) return { entries: ctx.previous!.entries, state: { watermark: t0, url: this.base } satisfies OfficialState, warnings, unchanged: true };
    const entries = withListedVersions(byName, versions);
    ctx.log.info(`official registry ${this.base}: ${changed} updated rows since ${state.watermark}, ${entries.length} servers`);
    return { entries, state: { watermark: t0, url: this.base } satisfies OfficialState, warnings };
  }

  /** Page through `/v0.1/servers`, handing every mapped row to `onEntry`. Returns T0 (RFC3339). */
  private async crawl(ctx: FetchContext, updatedSince: string | undefined, onEntry: (e: Entry) => void, warnings: string[]): Promise<string> {
    const localStart = new Date();
    let t0: Date | undefined;
    let cursor: string | undefined;
    const seen = new Set<string>();
    let rows = 0;
    for (let page = 1; ; page++) {
      if (page > this.opts.maxPages) throw new SourceError(`${this.base} returned more than ${this.opts.maxPages} pages`, 'the registry keeps paging; check the source URL');
      const url = this.pageUrl(cursor, updatedSince);
      const res = await this.getPage(url, ctx);
      t0 ??= res.date ?? localStart;
      for (const [i, raw] of res.servers.entries()) {
        const entry = this.mapRow(raw, url, i, warnings, ctx);
        if (entry) {
          rows++;
          onEntry(entry);
        }
      }
      ctx.progress({ message: `page ${page}, ${rows} rows`, current: rows });
      const next = res.nextCursor;
      if (!next || res.servers.length === 0) break;
      if (seen.has(next)) throw new SourceError(`${url} returned cursor "${next}" a second time`, 'the registry is paging in a loop; try again later or report it to the registry operator');
      seen.add(next);
      cursor = next;
    }
    return t0!.toISOString();
  }

  private pageUrl(cursor: string | undefined, updatedSince: string | undefined): string {
    const q = new URLSearchParams({ limit: String(this.pageSize) });
    if (cursor) q.set('cursor', cursor);
    if (updatedSince) q.set('updated_since', updatedSince);
    return `${this.base}/v0.1/servers?${q.toString()}`;
  }

  private mapRow(raw: unknown, url: string, index: number, warnings: string[], ctx: FetchContext): Entry | undefined {
    const env = EnvelopeSchema.safeParse(raw);
    if (!env.success || env.data.server === undefined) {
      warnings.push(`${url}: row ${index} is not a {server, _meta} envelope; skipped`);
      return undefined;
    }
    const name = (env.data.server as { name?: unknown })?.name;
    const sourceUrl = typeof name === 'string' ? `${this.base}/v0.1/servers/${encodeURIComponent(name)}/versions/latest` : undefined;
    try {
      return serverJsonToEntry(env.data.server, this.name, (env.data._meta ?? undefined) as EnvelopeMeta | undefined, { sourceUrl });
    } catch (err) {
      if (!(err instanceof ServerJsonError)) throw err;
      const msg = `${url}: ${err.message}; skipped`;
      warnings.push(msg);
      ctx.log.warn(msg);
      return undefined;
    }
  }

  /** One page, with bounded retries on 429 / 5xx / network errors and a timeout per attempt. */
  private async getPage(url: string, ctx: FetchContext): Promise<Page> {
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.opts.attempts; attempt++) {
      ctx.signal.throwIfAborted();
      let res: Response;
      try {
        res = await fetch(url, {
          headers: { accept: 'application/json', 'user-agent': 'mcp-registry (+https://github.com/modelcontextprotocol/registry API v0.1 client)' },
          signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(this.opts.timeoutMs)]),
        });
      } catch (err) {
        if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
        throwIfHostUnknown(err, url);
        lastProblem = networkProblem(err, this.opts.timeoutMs);
        await this.backoff(attempt, undefined, url, lastProblem, ctx);
        continue;
      }
      if (res.status === 429 || res.status >= 500) {
        lastProblem = `HTTP ${res.status}`;
        await res.body?.cancel().catch(() => undefined);
        await this.backoff(attempt, res.headers.get('retry-after'), url, lastProblem, ctx);
        continue;
      }
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
        lastProblem = `reading the body failed: ${errorMessage(err)}`;
        await this.backoff(attempt, undefined, url, lastProblem, ctx);
        continue;
      }
      if (!res.ok) {
        throw new SourceError(
          `${url} answered HTTP ${res.status}${snippet(text)}`,
          res.status === 404 ? 'check the source url: it should be the registry base, e.g. https://registry.modelcontextprotocol.io' : 'check the source url in config.yaml',
        );
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new SourceError(`${url} did not return JSON${snippet(text)}`, 'is this an MCP registry (API v0.1)? check the source url in config.yaml');
      }
      const page = PageSchema.safeParse(body);
      if (!page.success) {
        const issue = page.error.issues[0];
        throw new SourceError(
          `${url} returned a page that is not a v0.1 server list (field "${issue?.path.join('.') || '(top)'}": ${issue?.message})`,
          'is this an MCP registry (API v0.1)? check the source url in config.yaml',
        );
      }
      const dateHeader = res.headers.get('date');
      const date = dateHeader ? new Date(dateHeader) : undefined;
      return {
        servers: page.data.servers,
        nextCursor: page.data.metadata?.nextCursor || undefined,
        date: date && Number.isFinite(date.getTime()) ? date : undefined,
      };
    }
    throw new SourceError(`${url} failed ${this.opts.attempts} times (last: ${lastProblem})`, 'the registry may be down or rate-limiting; the last good data is kept, try again later');
  }

  private async backoff(attempt: number, retryAfter: string | null | undefined, url: string, problem: string, ctx: FetchContext): Promise<void> {
    if (attempt >= this.opts.attempts) return;
    let delay = this.opts.backoffMs * 2 ** (attempt - 1);
    const ra = retryAfterMs(retryAfter);
    if (ra !== undefined) delay = ra;
    delay = Math.min(delay, this.opts.maxBackoffMs);
    ctx.log.warn(`${url}: ${problem}; retrying in ${delay} ms (attempt ${attempt + 1} of ${this.opts.attempts})`);
    await sleep(delay, undefined, { signal: ctx.signal });
  }
}

/**
 * Every published version of a server, kept (not only the latest): a row's version as the entry lists it, its
 * launches with it (registry-add {id, version} runs one). A deleted version is dropped; a later row of the same
 * version (a status change) replaces it.
 */
function noteVersion(all: Map<string, Map<string, EntryVersion>>, e: Entry): void {
  if (!e.version) return;
  if (e.status === 'deleted') all.get(e.nativeName)?.delete(e.version);
  else noteListed(all, e.nativeName, { version: e.version, ...(e.publishedAt ? { releasedAt: e.publishedAt } : {}), ...(e.status ? { status: e.status } : {}), launch: e.launch, ...(e.artefacts ? { artefacts: e.artefacts } : {}) });
}

function noteListed(all: Map<string, Map<string, EntryVersion>>, name: string, v: EntryVersion): void {
  let held = all.get(name);
  if (!held) all.set(name, (held = new Map()));
  held.set(v.version, v);
}

/** The latest entry per server (deleted ones dropped), with its versions newest first when it has several (model/versions.ts). */
function withListedVersions(byName: Map<string, Entry>, versions: Map<string, Map<string, EntryVersion>>): Entry[] {
  const out: Entry[] = [];
  for (const e of byName.values()) {
    if (e.status === 'deleted') continue;
    const listed = [...(versions.get(e.nativeName)?.values() ?? [])];
    // One version says nothing the entry does not: listed only when there are several (the snapshot stays lean).
    // (An entry from the previous snapshot may still carry the versions it had.)
    if (listed.length > 1) out.push({ ...e, versions: sortVersions(listed) });
    else if (e.versions) {
      const { versions: _gone, ...rest } = e;
      out.push(rest);
    } else out.push(e);
  }
  return out;
}

function parseState(s: unknown): OfficialState | undefined {
  const r = z.object({ watermark: z.string(), url: z.string() }).safeParse(s);
  if (!r.success || !Number.isFinite(Date.parse(r.data.watermark))) return undefined;
  return r.data;
}

function snippet(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t ? `: "${t.slice(0, 120)}${t.length > 120 ? '…' : ''}"` : '';
}

