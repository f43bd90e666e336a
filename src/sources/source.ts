/** The Source contract: what a fetch gets (previous result, work dir, progress) and what it returns. */
import type { Entry } from '../model/entry.js';
import type { Logger } from '../util/log.js';

export interface SourceProgress {
  /** What is happening, without the source's name: whoever shows it prefixes the name once. */
  message: string;
  current?: number;
  total?: number;
}

/** What a source gets for one fetch. */
export interface FetchContext {
  /** The last good result of this source (entries and the source's own state), or null on the first fetch. */
  previous: { entries: Entry[]; state?: unknown; fetchedAt: string } | null;
  /** A directory this source owns for working files (git clone, partial crawl state). Survives restarts. */
  workDir: string;
  signal: AbortSignal;
  progress(p: SourceProgress): void;
  log: Logger;
  /** The user asked for this refresh explicitly (bypasses "nothing changed" shortcuts a source may take). */
  force: boolean;
}

export interface FetchResult {
  /** The source's complete entry list after this fetch (normalised with normalizeEntry). */
  entries: Entry[];
  /** Opaque state the source wants back next time (watermark, commit, crawl position). */
  state?: unknown;
  /** Non-fatal problems (a bad server.yaml, a page that failed): shown in status, the fetch still counts. */
  warnings?: string[];
  /** True when nothing changed since `previous` (lets the catalog skip re-merging). */
  unchanged?: boolean;
}

/**
 * One catalog source: fetch → entries. A fetch that throws leaves the last good data in place;
 * error messages must say what went wrong and what to do next.
 */
export interface Source {
  readonly name: string;
  readonly type: string;
  fetch(ctx: FetchContext): Promise<FetchResult>;
  /** Fill in details that only a per-entry request reveals (mcpservers detail page). Cached by the caller. */
  detail?(entry: Entry, ctx: Omit<FetchContext, 'previous' | 'force'>): Promise<Partial<Entry>>;
}

/** An error that tells the user what to do next; its message is shown as is. */
export class SourceError extends Error {
  constructor(
    /** What went wrong, without the hint. */
    readonly problem: string,
    readonly hint?: string,
  ) {
    super(hint ? `${problem} — ${hint}` : problem);
  }
}
