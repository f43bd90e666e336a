/** The mcpservers.org source: a polite, resumable crawl of listing and detail pages with retries. */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SourceConfig } from '../config/config.js';
import { normalizeEntry, type Entry, type EntryInput, type Launch } from '../model/entry.js';
import { normalizeCategory } from '../model/categories.js';
import { normalizeRepoUrl } from '../model/repo-url.js';
import { errorMessage } from '../util/log.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { VERSION } from '../util/version.js';
import { networkProblem, retryAfterMs, throwIfHostUnknown } from './network-error.js';
import { SourceError, type FetchContext, type FetchResult, type Source } from './source.js';
import { inferLaunch, snippetLaunch } from './inferred-launch.js';
import { isChallengePage, parseDetailPage, parseListingPage, remoteSlugOf, serverSlug, type DetailPage, type ListingCard } from './mcpservers-html.js';

/**
 * mcpservers.org, scraped politely: listing pages only during a refresh (a card already has name, description,
 * category, official flag and repository), detail pages lazily per entry. One request at a time, `delayMs` apart,
 * exponential backoff on 429/5xx, the Cloudflare challenge treated as a failure.
 *
 * A crawl is resumable: after every page its entries and the position are saved under `workDir/crawl/`. An
 * interrupted crawl makes fetch() throw (so the catalog keeps the last complete data and retries on its next
 * schedule instead of counting a half crawl as a fresh success); the next fetch continues at the next page.
 * Only a completed crawl is returned, and it replaces the previous data.
 */

type McpServersConfig = Extract<SourceConfig, { type: 'mcpservers' }>;
export type McpServersSourceConfig = Pick<McpServersConfig, 'name' | 'url'> & Partial<Pick<McpServersConfig, 'listings' | 'delayMs' | 'maxPages'>>;

export interface McpServersSourceOptions {
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Attempts per page on 429 / 5xx / network errors (first try included). */
  attempts?: number;
  /** Longest single backoff wait (a Retry-After header is honoured up to this). */
  maxBackoffMs?: number;
  /** How long a cached detail page stays fresh. */
  detailTtlMs?: number;
  /** A partial crawl older than this is discarded and restarted (its early pages would be stale). */
  partialMaxAgeMs?: number;
}

export const USER_AGENT = `mcp-registry/${VERSION} (+https://www.npmjs.com/package/mcp-registry; polite catalog crawler)`;

const PROGRESS_FORMAT = 1;
const MAX_WARNINGS = 50;
/** Cards on a full listing page. */
const PAGE_SIZE = 30;
/** A runaway stop: 12k servers are ~400 pages. */
const MAX_PAGES_PER_LISTING = 5_000;
const REPO_HOSTS = /^(github\.com|gitlab\.com|bitbucket\.org|codeberg\.org|gitee\.com|git\.sr\.ht)$/;

/** Crawl position, saved after every page. */
interface CrawlProgress {
  format: number;
  base: string;
  listings: string[];
  startedAt: string;
  /** Index into `listings` of the listing being crawled. */
  listing: number;
  /** Next page to request in that listing. */
  nextPage: number;
  /** Page count of the current listing, once known. */
  pageCount?: number;
  /** Page files written so far, in crawl order. */
  pageFiles: string[];
  warnings: string[];
  /** Ids of the last page crawled (detects a listing that repeats itself instead of paging). */
  lastPageIds?: string[];
}

interface DetailCacheFile {
  url: string;
  fetchedAt: string;
  detail: Partial<Entry>;
}

export class McpServersSource implements Source {
  readonly type = 'mcpservers';
  readonly name: string;
  private readonly base: string;
  private readonly listings: string[];
  private readonly delayMs: number;
  private readonly maxPages?: number;
  private readonly opts: Required<McpServersSourceOptions>;
  /** Requests of this source run one at a time: every request (crawl or detail) waits its turn here. */
  private queue: Promise<unknown> = Promise.resolve();
  private lastRequestEnd = 0;
  private readonly detailsInFlight = new Map<string, Promise<Partial<Entry>>>();

  constructor(cfg: McpServersSourceConfig, opts: McpServersSourceOptions = {}) {
    this.name = cfg.name;
    this.base = cfg.url.replace(/\/+$/, '');
    this.listings = (cfg.listings ?? ['/all', '/remote-mcp-servers']).map((l) => '/' + l.replace(/^\/+/, '').replace(/\/+$/, ''));
    this.delayMs = cfg.delayMs ?? 2_000;
    this.maxPages = cfg.maxPages;
    this.opts = {
      timeoutMs: 30_000,
      attempts: 5,
      maxBackoffMs: 60_000,
      detailTtlMs: 7 * 86_400_000,
      partialMaxAgeMs: 7 * 86_400_000,
      ...opts,
    };
  }

  // ------------------------------------------------------------------------------------------------- crawl

  async fetch(ctx: FetchContext): Promise<FetchResult> {
    const dir = join(ctx.workDir, 'crawl');
    const progressFile = join(dir, 'progress.json');
    const saved = await this.loadProgress(progressFile, ctx);
    if (saved) ctx.log.info(`resuming the ${this.name} crawl started ${saved.startedAt} at ${this.listings[saved.listing] ?? 'the end'} page ${saved.nextPage}`);
    else await rm(dir, { recursive: true, force: true });
    const prog: CrawlProgress = saved ?? {
      format: PROGRESS_FORMAT,
      base: this.base,
      listings: this.listings,
      startedAt: new Date().toISOString(),
      listing: 0,
      nextPage: 1,
      pageFiles: [],
      warnings: [],
    };
    const warn = (msg: string) => {
      ctx.log.warn(msg);
      if (prog.warnings.length < MAX_WARNINGS) prog.warnings.push(msg);
    };

    while (prog.listing < this.listings.length) {
      const listing = this.listings[prog.listing]!;
      const page = prog.nextPage;
      if (this.maxPages !== undefined && page > this.maxPages) {
        if (prog.pageCount && prog.pageCount > this.maxPages) warn(`${listing}: stopped after maxPages (${this.maxPages}) of ${prog.pageCount} pages`);
        await this.nextListing(prog, progressFile);
        continue;
      }
      const url = this.listingUrl(listing, page);
      let html: string;
      try {
        html = await this.get(url, ctx.signal, ctx.log);
      } catch (err) {
        throw this.interrupted(err, prog, listing, page);
      }
      const parsed = parseListingPage(html, this.base);
      const pageCount = parsed.pageCount ?? (parsed.total && parsed.range ? Math.ceil(parsed.total / Math.max(1, parsed.range.to - parsed.range.from + 1)) : undefined);

      if (parsed.cards.length === 0) {
        // An empty page past the known end closes a listing; one inside the known range means the markup changed.
        const knownEnd = Math.max(prog.pageCount ?? 0, pageCount ?? 0);
        const beyondEnd = page > 1 && !parsed.total && page > knownEnd;
        if (!beyondEnd) {
          throw new SourceError(
            `${url} ${parsed.total ? `says it lists ${parsed.total} servers` : 'is a listing page'} but no server card could be read from it: mcpservers.org changed its markup`,
            `src/sources/mcpservers-html.ts must be updated to the new markup; the last good data is kept (crawl progress is saved and resumes at this page)`,
          );
        }
        await this.nextListing(prog, progressFile);
        continue;
      }

      const entries: Entry[] = [];
      for (const card of parsed.cards) {
        try {
          entries.push(this.cardToEntry(card));
        } catch (err) {
          warn(`${url}: card ${JSON.stringify(card.slug)} skipped: ${errorMessage(err)}`);
        }
      }
      const ids = entries.map((e) => e.id);
      const paged = parsed.total !== undefined || parsed.pageCount !== undefined;
      if (!paged && page > 1 && ids.every((id) => prog.lastPageIds?.includes(id))) {
        // A listing without count or pagination that ignores ?page answers with the same cards again: its end.
        await this.nextListing(prog, progressFile);
        continue;
      }
      const expected = parsed.range ? parsed.range.to - parsed.range.from + 1 : undefined;
      if (expected && parsed.cards.length < expected / 2) {
        warn(`${url}: the page lists servers ${parsed.range!.from}-${parsed.range!.to} but only ${parsed.cards.length} cards could be read (markup partly changed?)`);
      }
      const pageFile = `page-${prog.listing}-${page}.json`;
      await writeJsonAtomic(join(dir, pageFile), { url, entries });
      if (!prog.pageFiles.includes(pageFile)) prog.pageFiles.push(pageFile);
      prog.pageCount = pageCount;
      prog.lastPageIds = ids;
      // The count line and the page count are the end markers; a page without either is the last one unless it
      // is full (then the next page is tried, and an empty or repeated page ends the listing).
      const last =
        page >= MAX_PAGES_PER_LISTING ||
        (parsed.total !== undefined && parsed.range !== undefined && parsed.range.to >= parsed.total) ||
        (pageCount !== undefined && page >= pageCount) ||
        (!paged && parsed.cards.length < PAGE_SIZE);
      if (last) await this.nextListing(prog, progressFile);
      else {
        prog.nextPage = page + 1;
        await writeJsonAtomic(progressFile, prog);
      }
      ctx.progress({
        message: `${listing} page ${page}${pageCount ? ` of ${pageCount}` : ''}`,
        current: page,
        total: pageCount,
      });
    }

    const entries = await this.assemble(dir, prog);
    const warnings = prog.warnings;
    await rm(dir, { recursive: true, force: true });
    ctx.log.info(`${this.name}: crawl complete, ${entries.length} servers from ${prog.pageFiles.length} pages`);
    return { entries, warnings, state: { completedAt: new Date().toISOString(), pages: prog.pageFiles.length, startedAt: prog.startedAt } };
  }

  private listingUrl(listing: string, page: number): string {
    return page === 1 ? this.base + listing : `${this.base}${listing}?page=${page}`;
  }

  private async nextListing(prog: CrawlProgress, file: string): Promise<void> {
    prog.listing++;
    prog.nextPage = 1;
    prog.pageCount = undefined;
    prog.lastPageIds = undefined;
    await writeJsonAtomic(file, prog);
  }

  /** The saved position when it belongs to this configuration and is recent enough; null means start over. */
  private async loadProgress(file: string, ctx: FetchContext): Promise<CrawlProgress | null> {
    let raw: string;
    try {
      raw = await readFile(file, 'utf8');
    } catch {
      return null;
    }
    let p: CrawlProgress;
    try {
      p = JSON.parse(raw) as CrawlProgress;
    } catch {
      ctx.log.warn(`${file} is not valid JSON; starting the crawl from page 1`);
      return null;
    }
    const valid =
      p?.format === PROGRESS_FORMAT &&
      Number.isInteger(p.listing) &&
      Number.isInteger(p.nextPage) &&
      p.nextPage >= 1 &&
      Array.isArray(p.pageFiles) &&
      Array.isArray(p.warnings) &&
      typeof p.startedAt === 'string';
    if (!valid) return null;
    if (p.base !== this.base || JSON.stringify(p.listings) !== JSON.stringify(this.listings)) {
      ctx.log.info(`the saved ${this.name} crawl was for another url or listings; starting from page 1`);
      return null;
    }
    const age = Date.now() - Date.parse(p.startedAt);
    if (!(age <= this.opts.partialMaxAgeMs)) {
      ctx.log.info(`the saved ${this.name} crawl started ${p.startedAt} is too old to finish; starting from page 1`);
      return null;
    }
    return p;
  }

  /** Every saved page's entries, one entry per id (a server seen in several listings is one entry). */
  private async assemble(dir: string, prog: CrawlProgress): Promise<Entry[]> {
    const byId = new Map<string, Entry>();
    for (const f of prog.pageFiles) {
      let page: { entries: Entry[] };
      try {
        page = JSON.parse(await readFile(join(dir, f), 'utf8')) as { entries: Entry[] };
      } catch (err) {
        // A lost page file would silently drop servers: better to crawl again than to publish a hole.
        await rm(dir, { recursive: true, force: true });
        throw new SourceError(`the saved crawl page ${join(dir, f)} cannot be read (${errorMessage(err)})`, 'the crawl state was reset; the next refresh crawls again from page 1, the last good data is kept');
      }
      for (const e of page.entries) {
        const held = byId.get(e.id);
        if (!held) byId.set(e.id, e);
        else {
          if (e.official) held.official = true;
          held.category ??= e.category;
          held.repository ??= e.repository;
          held.website ??= e.website;
          if (e.description.length > held.description.length) held.description = e.description;
        }
      }
    }
    return [...byId.values()];
  }

  private interrupted(err: unknown, prog: CrawlProgress, listing: string, page: number): SourceError {
    const where = `${this.name} crawl stopped at ${listing} page ${page}${prog.pageCount ? ` of ${prog.pageCount}` : ''}`;
    // The one place a failed crawl says that its data is kept: the request errors it wraps do not.
    const resume = `${prog.pageFiles.length} pages are saved and the next refresh resumes at that page; the last good data is kept`;
    if (err instanceof SourceError) return new SourceError(`${where}: ${err.problem}`, err.hint ? `${err.hint}; ${resume}` : resume);
    const e = err as Error;
    if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return new SourceError(`${where}: the refresh was cancelled`, resume);
    return new SourceError(`${where}: ${errorMessage(err)}`, resume);
  }

  private cardToEntry(card: ListingCard): Entry {
    const native = card.kind === 'remote' ? `remote-mcp-servers/${card.slug}` : card.slug;
    // Ids are lower-case: the site's links vary the case of one slug; nativeName and URLs keep it as written.
    const id = `${this.name}/${native.toLowerCase()}`;
    const { repository, website } = splitTarget(card.logoTarget);
    const input: EntryInput = {
      id,
      nativeName: native,
      name: card.name || card.slug,
      description: card.description,
      category: card.category ? normalizeCategory(card.category) : undefined,
      repository,
      website,
      icon: card.icon,
      official: card.official || undefined,
      sources: [{ source: this.name, id, url: this.pageUrl(native) }],
      tags: card.kind === 'remote' ? ['remote'] : [],
      launch: card.endpoint ? [remoteLaunch(card.endpoint, undefined)] : [],
    };
    return normalizeEntry(input);
  }

  private pageUrl(native: string): string {
    const path = native.split('/').map(encodeURIComponent).join('/');
    return native.startsWith('remote-mcp-servers/') ? `${this.base}/${path}` : `${this.base}/servers/${path}`;
  }

  // ------------------------------------------------------------------------------------------------ detail

  async detail(entry: Entry, ctx: Omit<FetchContext, 'previous' | 'force'>): Promise<Partial<Entry>> {
    const native = this.nativeOf(entry);
    const url = this.pageUrl(native);
    const running = this.detailsInFlight.get(url);
    if (running) return running;
    const p = this.loadDetail(url, native, ctx).finally(() => this.detailsInFlight.delete(url));
    this.detailsInFlight.set(url, p);
    return p;
  }

  /** The slug with its original case: from this source's page URL, else the id (which is lower-cased). */
  private nativeOf(entry: Entry): string {
    const ref = entry.sources.find((s) => s.source === this.name);
    if (!ref) return entry.nativeName;
    if (ref.url) {
      const slug = serverSlug(ref.url, ref.url);
      if (slug) return slug;
      const remote = remoteSlugOf(ref.url, ref.url);
      if (remote) return `remote-mcp-servers/${remote}`;
    }
    const fromId = ref.id.startsWith(this.name + '/') ? ref.id.slice(this.name.length + 1) : ref.id;
    return entry.nativeName.toLowerCase() === fromId.toLowerCase() ? entry.nativeName : fromId;
  }

  private async loadDetail(url: string, native: string, ctx: Omit<FetchContext, 'previous' | 'force'>): Promise<Partial<Entry>> {
    const file = join(ctx.workDir, 'details', createHash('sha256').update(url.toLowerCase()).digest('hex').slice(0, 32) + '.json');
    try {
      const cached = JSON.parse(await readFile(file, 'utf8')) as DetailCacheFile;
      if (cached.url === url && Date.now() - Date.parse(cached.fetchedAt) < this.opts.detailTtlMs) return cached.detail;
    } catch {
      /* no usable cache: fetch */
    }
    let html: string;
    try {
      html = await this.get(url, ctx.signal, ctx.log);
    } catch (err) {
      if (err instanceof SourceError) throw err;
      throw new SourceError(`details of ${native} could not be fetched from ${url}: ${errorMessage(err)}`, 'the listing data is shown; try again later');
    }
    const page = parseDetailPage(html, this.base);
    if (!page.name && !page.description && !page.readme && !page.remote) {
      throw new SourceError(`${url} has no title, description, README or endpoint that could be read: mcpservers.org changed its markup`, 'src/sources/mcpservers-html.ts must be updated; the listing data is kept');
    }
    const detail = detailToEntry(page, url);
    await writeJsonAtomic(file, { url, fetchedAt: new Date().toISOString(), detail } satisfies DetailCacheFile);
    return detail;
  }

  // ------------------------------------------------------------------------------------------------- HTTP

  /** GET one page: queued behind every other request of this source, `delayMs` after the previous one ended. */
  private get(url: string, signal: AbortSignal, log: FetchContext['log']): Promise<string> {
    const run = this.queue.then(() => this.getWithRetries(url, signal, log));
    this.queue = run.catch(() => undefined);
    // A caller that gives up (timeout, cancel) must not wait for the requests queued before its own; its own
    // request then finds the signal aborted and is never sent.
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      run.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private async getWithRetries(url: string, signal: AbortSignal, log: FetchContext['log']): Promise<string> {
    let problem = '';
    for (let attempt = 1; attempt <= this.opts.attempts; attempt++) {
      await this.waitTurn(signal);
      let status: number;
      let retryAfter: string | null = null;
      let body = '';
      try {
        const res = await fetch(url, {
          headers: { 'user-agent': USER_AGENT, accept: 'text/html,application/xhtml+xml', 'accept-language': 'en' },
          signal: AbortSignal.any([signal, AbortSignal.timeout(this.opts.timeoutMs)]),
        });
        status = res.status;
        retryAfter = res.headers.get('retry-after');
        body = await res.text();
        if (res.headers.get('cf-mitigated') === 'challenge' || isChallengePage(body)) {
          throw new SourceError(
            `mcpservers.org answered ${url} with its Cloudflare bot check ("Just a moment...") instead of the page`,
            'this counts as a failure, not an empty page; try again in a few hours (a larger delayMs makes this less likely)',
          );
        }
      } catch (err) {
        if (err instanceof SourceError) throw err;
        if (signal.aborted) throw signal.reason ?? err;
        throwIfHostUnknown(err, url);
        problem = networkProblem(err, this.opts.timeoutMs);
        await this.backoff(attempt, null, url, problem, signal, log);
        continue;
      } finally {
        this.lastRequestEnd = Date.now();
      }
      if (status === 429 || status >= 500) {
        problem = `HTTP ${status}`;
        await this.backoff(attempt, retryAfter, url, problem, signal, log);
        continue;
      }
      if (status >= 400) {
        throw new SourceError(
          `${url} answered HTTP ${status}`,
          status === 404 ? 'check `url` and `listings` of this source in config.yaml (listing paths look like /all or /category/database)' : 'the site refused the request; try again later',
        );
      }
      return body;
    }
    throw new SourceError(`${url} failed ${this.opts.attempts} times (last: ${problem})`, 'mcpservers.org may be down or rate-limiting; try again later');
  }

  /** One request at a time, at least `delayMs` after the previous response finished. */
  private async waitTurn(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const wait = this.lastRequestEnd + this.delayMs - Date.now();
    if (wait > 0) await sleep(wait, undefined, { signal });
  }

  private async backoff(attempt: number, retryAfter: string | null, url: string, problem: string, signal: AbortSignal, log: FetchContext['log']): Promise<void> {
    if (attempt >= this.opts.attempts) return;
    // Exponential from twice the politeness delay; the site sends no Retry-After, but honour one if it appears.
    let wait = Math.max(this.delayMs * 2, 100) * 2 ** (attempt - 1);
    const ra = retryAfterMs(retryAfter);
    if (ra !== undefined) wait = Math.max(wait, ra);
    wait = Math.min(wait, this.opts.maxBackoffMs);
    log.warn(`${url}: ${problem}; waiting ${wait} ms before attempt ${attempt + 1} of ${this.opts.attempts}`);
    await sleep(wait, undefined, { signal });
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** A logo target is the repository when it points at a code host, else the vendor's website. */
function splitTarget(target: string | undefined): { repository?: string; website?: string } {
  if (!target) return {};
  let host = '';
  try {
    host = new URL(target).hostname.toLowerCase().replace(/^www\./, '');
  } catch {
    return {};
  }
  const repository = REPO_HOSTS.test(host) ? normalizeRepoUrl(target) : undefined;
  return repository ? { repository } : { website: target };
}

function remoteLaunch(url: string, transport: 'streamable-http' | 'sse' | undefined): Launch {
  return { type: 'remote', url, transport: transport ?? (/\/sse\/?$/i.test(url) ? 'sse' : 'streamable-http') };
}

/** What a detail page adds to a listing entry. */
export function detailToEntry(page: DetailPage, url?: string): Partial<Entry> {
  const out: Partial<Entry> = {};
  const description = [page.about, page.description].filter((d): d is string => !!d).sort((a, b) => b.length - a.length)[0];
  if (description) out.description = description;
  if (page.name) out.name = page.name;
  if (page.official) out.official = true;
  const repo = splitTarget(page.repositoryUrl);
  if (repo.repository) out.repository = repo.repository;
  if (page.websiteUrl) out.website = page.websiteUrl;
  else if (repo.website) out.website = repo.website;
  const category = page.category ? normalizeCategory(page.category) : undefined;
  if (category) out.category = category;

  const readme: string[] = [];
  if (page.useCases) readme.push(page.useCases);
  if (page.readme) readme.push(page.readme);
  // Snippets past the README cap would be lost; they are what a user needs to run the server.
  const missing = page.installSnippets.filter((s) => !readme.some((r) => r.replace(/\s+/g, ' ').includes(s)));
  if (missing.length) readme.push('## Install\n\n```\n' + missing.join('\n') + '\n```');
  if (readme.length) out.readme = readme.join('\n\n');

  const launch: Launch[] = [];
  if (page.remote) launch.push(remoteLaunch(page.remote.url, page.remote.transport));
  // Not published by any catalog: read from the page's client configuration, so marked (and approved) as inferred.
  const inferred = page.remote ? undefined : inferLaunch(page.installSnippets, url ?? 'its mcpservers.org page');
  if (inferred) launch.push(inferred);
  if (launch.length) out.launch = launch;
  if (page.kind === 'remote') out.tags = ['remote'];

  const meta: Record<string, unknown> = {};
  if (page.githubStars !== undefined) meta.githubStars = page.githubStars;
  if (page.installSnippets.length) meta.installSnippets = page.installSnippets;
  if (page.remote?.details.length) meta.connection = page.remote.details;
  if (page.related.length) meta.related = page.related;
  if (Object.keys(meta).length) out.meta = meta;
  return out;
}

/** `docker run [flags] <image> [command…]` → an image launch; undefined for anything else or a placeholder image. */
export function dockerRunImage(snippet: string): Extract<Launch, { type: 'image' }> | undefined {
  const l = snippetLaunch(snippet);
  return l?.type === 'image' ? l : undefined;
}
