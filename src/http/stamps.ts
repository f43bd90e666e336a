/** Served timestamps per name (first seen, changed, status changed) and tombstones, so updated_since is exact. */
import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { errorMessage, type Logger } from '../util/log.js';
import type { StampsBackend } from '../store/stamps-backend.js';

/**
 * When each served name was first seen, last changed and changed status, so `updated_since` returns exactly what
 * changed after a refresh even for sources that carry no timestamps (docker, mcpservers). Changes are detected by a
 * hash of the served content; names that disappear (removed upstream, hidden by policy) become tombstones served
 * as `status: deleted`, so incremental clients learn about removals too. Kept in a small JSON file under the cache.
 */

export type StampStatus = 'active' | 'deprecated' | 'deleted';

export interface Stamp {
  /** Content hash of what was served. */
  h: string;
  /** updatedAt (ISO). */
  u: string;
  /** publishedAt: first seen, or the source's own date (ISO). */
  p: string;
  s: StampStatus;
  /** statusChangedAt (ISO). */
  c: string;
  /** Last served version (what a tombstone answers with). */
  v?: string;
  /** Removed at (ISO): a tombstone. */
  d?: string;
}

export interface StampInput {
  name: string;
  hash: string;
  status: 'active' | 'deprecated';
  /** The source's own dates, when it has them (official registry). */
  updatedAt?: string;
  publishedAt?: string;
  statusChangedAt?: string;
}

const FORMAT = 1;

export type { StampsBackend };
/** Tombstones older than this are forgotten (an incremental client that is 90 days behind should do a full sync). */
const TOMBSTONE_TTL_MS = 90 * 86_400_000;

const isoOrUndefined = (s: string | undefined): string | undefined => {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? s : undefined;
};
const later = (a: string, b: string): string => (Date.parse(a) >= Date.parse(b) ? a : b);

export class ServedStamps {
  private stamps = new Map<string, Stamp>();
  private dirty = false;

  constructor(
    private readonly file?: string | StampsBackend,
    private readonly log?: Logger,
  ) {}

  /** Read the stored stamps, replacing those in memory (a replica re-reads what the refresher wrote). */
  async load(): Promise<void> {
    if (!this.file) return;
    try {
      const raw = (typeof this.file === 'string' ? JSON.parse(await readFile(this.file, 'utf8')) : await this.file.read()) as { format?: number; names?: Record<string, Stamp> } | undefined;
      if (!raw || raw.format !== FORMAT || !raw.names || typeof raw.names !== 'object') return;
      this.stamps.clear();
      this.dirty = false;
      for (const [name, s] of Object.entries(raw.names)) {
        if (s && typeof s.h === 'string' && typeof s.u === 'string' && typeof s.p === 'string' && typeof s.c === 'string') this.stamps.set(name, s);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log?.warn(`cannot read ${typeof this.file === 'string' ? this.file : 'the served timestamps'} (${errorMessage(err)}); served entries get fresh timestamps`);
      }
    }
  }

  get(name: string): Stamp | undefined {
    return this.stamps.get(name);
  }

  /** Names removed from what is served, newest first not guaranteed. */
  tombstones(): [string, Stamp][] {
    return [...this.stamps].filter(([, s]) => s.d !== undefined);
  }

  /** Record what is served now (marks the file dirty when anything changed). */
  update(current: StampInput[], now: Date = new Date()): void {
    const at = now.toISOString();
    const seen = new Set<string>();
    let changed = false;
    for (const c of current) {
      seen.add(c.name);
      const prev = this.stamps.get(c.name);
      if (!prev) {
        const u = isoOrUndefined(c.updatedAt) ?? at;
        const p = isoOrUndefined(c.publishedAt) ?? u;
        this.stamps.set(c.name, { h: c.hash, u, p, s: c.status, c: isoOrUndefined(c.statusChangedAt) ?? p });
        changed = true;
        continue;
      }
      if (prev.d !== undefined) {
        // Back after a removal: a change like any other.
        this.stamps.set(c.name, { h: c.hash, u: at, p: prev.p, s: c.status, c: at });
        changed = true;
        continue;
      }
      if (prev.h !== c.hash) {
        prev.h = c.hash;
        prev.u = later(at, isoOrUndefined(c.updatedAt) ?? at);
        changed = true;
      }
      if (prev.s !== c.status) {
        prev.s = c.status;
        prev.c = at;
        changed = true;
      }
    }
    const cutoff = now.getTime() - TOMBSTONE_TTL_MS;
    for (const [name, s] of this.stamps) {
      if (seen.has(name)) continue;
      if (s.d === undefined) {
        Object.assign(s, { d: at, u: at, s: 'deleted', c: at });
        changed = true;
      } else if (Date.parse(s.d) < cutoff) {
        this.stamps.delete(name);
        changed = true;
      }
    }
    if (changed) this.dirty = true;
  }

  /** The version served for a name (a tombstone keeps answering with it). */
  noteVersion(name: string, version: string): void {
    const s = this.stamps.get(name);
    if (s && s.v !== version) {
      s.v = version;
      this.dirty = true;
    }
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    this.dirty = false;
    try {
      const doc = { format: FORMAT, names: Object.fromEntries(this.stamps) };
      if (typeof this.file === 'string') await writeJsonAtomic(this.file, doc);
      else await this.file.write(doc);
    } catch (err) {
      this.dirty = true;
      this.log?.warn(`cannot write ${typeof this.file === 'string' ? this.file : 'the served timestamps'} (${errorMessage(err)}); timestamps of served entries may reset on restart`);
    }
  }
}
