/** Health as the catalog shows it: per-entry summaries of the endpoint states serve-http's probes keep in the store. */
import type { HealthState, HealthStateName, HealthStore } from '../store/org-stores.js';

/**
 * The stdio server does not probe (probes belong to serve-http, one refresher among replicas): registry-find and
 * registry-info show what serve-http last wrote to the shared health store — the file under the home's cache, or
 * PostgreSQL with `database.url` — read again at most once a second. An entry nobody probed shows no health.
 */

/** What registry-find, registry-info and the API's `_meta` show for one entry. */
export interface HealthSummary {
  status: HealthStateName;
  checkedAt?: string;
  since: string;
  latencyMs?: number;
  lastError?: string;
  /** Per endpoint, when the entry has several. */
  endpoints?: { url: string; status: HealthStateName }[];
}

/** One entry's endpoints → its summary: the best endpoint speaks for the entry (one answering remote is enough). */
export function summarizeHealth(list: HealthState[]): HealthSummary {
  const rank = { ACTIVE: 0, UNKNOWN: 1, INACTIVE: 2 };
  const best = [...list].sort((a, b) => rank[a.state] - rank[b.state])[0]!;
  return {
    status: best.state,
    since: best.since,
    ...(best.checkedAt ? { checkedAt: best.checkedAt } : {}),
    ...(best.latencyMs !== undefined ? { latencyMs: best.latencyMs } : {}),
    ...(best.lastError && best.state !== 'ACTIVE' ? { lastError: best.lastError } : {}),
    ...(list.length > 1 ? { endpoints: list.map((s) => ({ url: s.url, status: s.state })) } : {}),
  };
}

/** States grouped by entry and summarised. */
export function summariesByEntry(list: readonly HealthState[]): Map<string, HealthSummary> {
  const grouped = new Map<string, HealthState[]>();
  for (const s of list) {
    let g = grouped.get(s.entryId);
    if (!g) grouped.set(s.entryId, (g = []));
    g.push(s);
  }
  return new Map([...grouped].map(([id, g]) => [id, summarizeHealth(g)]));
}

/** The store's health states, read when a tool call needs them (not more often than `minIntervalMs`). */
export class HealthView {
  private states: readonly HealthState[] | undefined;
  private byEntry = new Map<string, HealthSummary>();
  private loadedAt = 0;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly store: Pick<HealthStore, 'states'>,
    private readonly minIntervalMs = 1_000,
  ) {}

  /** Bring the summaries up to date; a store that cannot be read leaves the last ones (health is a hint). */
  prepare(): Promise<void> {
    if (Date.now() - this.loadedAt < this.minIntervalMs) return Promise.resolve();
    this.loading ??= this.store
      .states()
      .then((list) => {
        if (list !== this.states) this.byEntry = summariesByEntry(list);
        this.states = list;
      })
      .catch(() => undefined)
      .finally(() => {
        this.loadedAt = Date.now();
        this.loading = null;
      });
    return this.loading;
  }

  summary(entryId: string): HealthSummary | undefined {
    return this.byEntry.get(entryId);
  }
}
