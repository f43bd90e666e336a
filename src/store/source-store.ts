/** Per-source files: each source's last good result, its status record, a cross-process refresh lock. */
import { readFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EntrySchema, type Entry } from '../model/entry.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { tryLock, withFileLock } from '../util/file-lock.js';

/**
 * Per-source persistence: the last good result of each source (entries + its own state), a small status record
 * per source, and a cross-process lock so two registry processes sharing one home never refresh one source at once.
 */
export interface SourceSnapshot {
  fetchedAt: string;
  entries: Entry[];
  state?: unknown;
}

export interface SourceStatusRecord {
  lastRefresh?: string;
  lastAttempt?: string;
  lastError?: string;
  durationMs?: number;
  entries?: number;
  warnings?: string[];
  /** sourceFingerprint() of the definition this record was written under (config.yaml may change it). */
  fingerprint?: string;
}

/** What the catalog needs from its per-source store: these files, or PostgreSQL (src/store/pg/catalog-store.ts). */
export type CatalogStore = Pick<SourceStore, 'readSnapshot' | 'hasSnapshot' | 'writeSnapshot' | 'readStatus' | 'updateStatus' | 'tryLock'>;

export class SourceStore {
  constructor(private readonly cacheDir: string) {}

  private snapshotPath(name: string) {
    return join(this.cacheDir, 'sources', `${name}.json`);
  }
  private statusPath() {
    return join(this.cacheDir, 'source-status.json');
  }
  private lockPath(name: string) {
    return join(this.cacheDir, 'locks', `${name}.lock`);
  }

  async readSnapshot(name: string): Promise<SourceSnapshot | null> {
    let text: string;
    try {
      text = await readFile(this.snapshotPath(name), 'utf8');
    } catch {
      return null;
    }
    try {
      const raw = JSON.parse(text) as SourceSnapshot;
      // Entries were validated when written; trust them to keep start-up fast.
      if (!raw || !Array.isArray(raw.entries)) return null;
      return raw;
    } catch {
      return null; // a torn or foreign file is treated as no cache; the next refresh rewrites it
    }
  }

  async hasSnapshot(name: string): Promise<boolean> {
    return stat(this.snapshotPath(name)).then(
      (st) => st.isFile(),
      () => false,
    );
  }

  async writeSnapshot(name: string, snap: SourceSnapshot): Promise<void> {
    await writeJsonAtomic(this.snapshotPath(name), snap);
  }

  async readStatus(): Promise<Record<string, SourceStatusRecord>> {
    try {
      return JSON.parse(await readFile(this.statusPath(), 'utf8')) as Record<string, SourceStatusRecord>;
    } catch {
      return {};
    }
  }

  /**
   * Read-modify-write of one source's status under a lock: sources refresh side by side, and another registry
   * process may share this home, so each record must survive the others' updates.
   */
  async updateStatus(name: string, patch: SourceStatusRecord): Promise<SourceStatusRecord> {
    await mkdir(this.cacheDir, { recursive: true });
    return withFileLock(this.statusPath(), async () => {
      const all = await this.readStatus();
      const next = { ...all[name], ...patch };
      for (const k of Object.keys(next) as (keyof SourceStatusRecord)[]) if (next[k] === undefined) delete next[k];
      all[name] = next;
      await writeJsonAtomic(this.statusPath(), all);
      return next;
    });
  }

  /**
   * Take the refresh lock of a source. Returns a release function, or null when a live process holds it
   * (this one included: two catalogs in one process must not refresh one source at once either).
   */
  async tryLock(name: string): Promise<(() => Promise<void>) | null> {
    await mkdir(join(this.cacheDir, 'locks'), { recursive: true });
    return tryLock(this.lockPath(name));
  }
}

/** Validate entries before they are persisted: one bad entry is dropped with a warning, never the whole batch. */
export function validateEntries(entries: Entry[], warnings: string[]): Entry[] {
  const out: Entry[] = [];
  for (const e of entries) {
    const r = EntrySchema.safeParse(e);
    if (r.success) out.push(r.data);
    else warnings.push(`dropped entry ${(e as { id?: string })?.id ?? '(no id)'}: ${r.error.issues[0]?.message}`);
  }
  return out;
}
