/** The managed source: entries of the records published through the publish API. */
import type { SourceConfig } from '../config/config.js';
import type { Entry } from '../model/entry.js';
import type { PublishedRecord, PublishedStore } from '../store/org-stores.js';
import { SourceError, type FetchContext, type FetchResult, type Source } from './source.js';
import { latestPerName, serverJsonToEntry, OFFICIAL_META_KEY } from './server-json.js';

/**
 * A `managed` source: the entries an organisation publishes through serve-http's publish API (POST /v1/entries),
 * read from the registry's store (state/published.json, or PostgreSQL). Only the latest live version of each name
 * becomes a catalog entry; deprecated ones say so, disabled and deleted ones are left out (they never start).
 */

export type ManagedSourceConfig = Pick<Extract<SourceConfig, { type: 'managed' }>, 'name'>;

/** The entries of a managed source's records: what its catalog snapshot holds. */
export function publishedEntries(source: string, records: readonly PublishedRecord[], warn: (m: string) => void = () => {}): Entry[] {
  const entries: Entry[] = [];
  for (const r of records) {
    if (r.source !== source || r.status === 'disabled' || r.status === 'deleted') continue;
    const status = r.status === 'deprecated' ? 'deprecated' : 'active';
    const meta = { [OFFICIAL_META_KEY]: { status, statusMessage: r.statusMessage, publishedAt: r.publishedAt, updatedAt: r.updatedAt, statusChangedAt: r.statusChangedAt } };
    try {
      entries.push(serverJsonToEntry(r.server, source, meta));
    } catch (err) {
      warn(`published ${r.name} ${r.version}: ${(err as Error).message}`);
    }
  }
  return [...latestPerName(entries).values()];
}

export class ManagedSource implements Source {
  readonly type = 'managed';
  readonly name: string;

  constructor(
    cfg: ManagedSourceConfig,
    private readonly store?: () => Promise<PublishedStore>,
  ) {
    this.name = cfg.name;
  }

  async fetch(ctx: FetchContext): Promise<FetchResult> {
    if (!this.store) throw new SourceError(`source "${this.name}" (managed) has no store here`, 'published entries are read by the registry that owns the home or database');
    const records = await (await this.store()).list(this.name);
    // Records change only through the publish API: the same records are the same entries.
    const fingerprint = records.map((r) => `${r.name}@${r.version}:${r.status}:${r.updatedAt}`).sort().join('\n');
    const prev = ctx.previous?.state as { fingerprint?: string } | undefined;
    if (!ctx.force && ctx.previous && prev?.fingerprint === fingerprint) return { entries: ctx.previous.entries, state: prev, unchanged: true };
    const warnings: string[] = [];
    const entries = publishedEntries(this.name, records, (m) => warnings.push(m));
    return { entries, warnings, state: { fingerprint } };
  }
}
