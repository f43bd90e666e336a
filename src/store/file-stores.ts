/** The organisation stores as JSON files under the home, each changed under its lock and replaced atomically. */
import { EventEmitter } from 'node:events';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { RegistryPaths } from '../config/paths.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { withFileLock } from '../util/file-lock.js';
import type { ApiKeyRecord, ApiKeyStore, AuditSink, HealthCheck, HealthState, HealthStore, HttpAuditRecord, OrgStores, PublishedRecord, PublishedStore } from './org-stores.js';

/**
 * The embedded stores: small JSON files under the home, each read-modify-written under its file lock and replaced
 * atomically, so the CLI (`apikey create`) and a running serve-http can share them. Secrets-bearing files (API key
 * hashes) are 0600. A running server notices another process's change by the file's identity (mtime, size, inode).
 */

export function openFileStores(paths: RegistryPaths): OrgStores {
  return {
    kind: 'file',
    published: new FilePublishedStore(join(paths.stateDir, 'published.json')),
    apikeys: new FileApiKeyStore(join(paths.stateDir, 'apikeys.json')),
    health: new FileHealthStore(join(paths.cacheDir, 'health.json')),
    audit: new FileAuditSink(join(paths.stateDir, 'audit', 'http-audit.jsonl')),
    close: async () => {},
  };
}

/** A JSON document in a file, cached until the file changes. */
class JsonFile<T> {
  private cached: { key: string; value: T } | undefined;
  readonly changes = new EventEmitter();

  constructor(
    readonly file: string,
    private readonly empty: () => T,
    private readonly mode = 0o600,
  ) {}

  private async key(): Promise<string> {
    const st = await stat(this.file).catch(() => null);
    return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : 'absent';
  }

  async read(): Promise<T> {
    const key = await this.key();
    if (this.cached?.key === key) return this.cached.value;
    let value: T;
    try {
      value = JSON.parse(await readFile(this.file, 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${this.file}: ${(err as Error).message}; fix or remove it`);
      value = this.empty();
    }
    this.cached = { key, value };
    return value;
  }

  /** Read, change and write back under the file's lock (the CLI and the server may write at once). */
  async update<R>(fn: (value: T) => R): Promise<R> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const out = await withFileLock(this.file, async () => {
      this.cached = undefined;
      const value = structuredClone(await this.read());
      const result = fn(value);
      await writeJsonAtomic(this.file, value, this.mode);
      this.cached = undefined;
      return result;
    });
    this.changes.emit('change');
    return out;
  }

  onChange(fn: () => void): () => void {
    this.changes.on('change', fn);
    return () => this.changes.off('change', fn);
  }
}

interface PublishedFile {
  format: 1;
  records: PublishedRecord[];
}

class FilePublishedStore implements PublishedStore {
  private readonly doc: JsonFile<PublishedFile>;
  constructor(file: string) {
    this.doc = new JsonFile<PublishedFile>(file, () => ({ format: 1, records: [] }), 0o644);
  }

  async list(source?: string): Promise<PublishedRecord[]> {
    const { records } = await this.doc.read();
    return source === undefined ? records : records.filter((r) => r.source === source);
  }

  add(rec: PublishedRecord): Promise<'created' | 'exists'> {
    return this.doc.update((d) => {
      const i = d.records.findIndex((r) => r.source === rec.source && r.name === rec.name && r.version === rec.version);
      if (i >= 0 && d.records[i]!.status !== 'deleted') return 'exists';
      if (i >= 0) d.records.splice(i, 1);
      d.records.push(rec);
      return 'created';
    });
  }

  setStatus(change: Parameters<PublishedStore['setStatus']>[0]): Promise<PublishedRecord[]> {
    return this.doc.update((d) => {
      const out: PublishedRecord[] = [];
      for (const r of d.records) {
        if (r.source !== change.source || r.name !== change.name || (change.version !== undefined && r.version !== change.version)) continue;
        // A deleted version stays deleted unless it is re-published; a status change of the whole name skips it.
        if (r.status === 'deleted' && change.version === undefined) continue;
        applyStatus(r, change);
        out.push({ ...r });
      }
      return out;
    });
  }

  onChange(fn: () => void) {
    return this.doc.onChange(fn);
  }
}

/** The fields a status change sets (both stores). */
export function applyStatus(r: PublishedRecord, change: Parameters<PublishedStore['setStatus']>[0]): void {
  if (r.status !== change.status) r.statusChangedAt = change.at;
  r.status = change.status;
  if (change.statusMessage) r.statusMessage = change.statusMessage;
  else delete r.statusMessage;
  r.updatedAt = change.at;
  r.updatedBy = change.actor;
}

class FileApiKeyStore implements ApiKeyStore {
  private readonly doc: JsonFile<{ format: 1; keys: ApiKeyRecord[] }>;
  constructor(file: string) {
    // 0600: the hashes are slow to attack, not impossible.
    this.doc = new JsonFile(file, () => ({ format: 1 as const, keys: [] }), 0o600);
  }
  async list(): Promise<ApiKeyRecord[]> {
    return (await this.doc.read()).keys;
  }
  async add(rec: ApiKeyRecord): Promise<void> {
    await this.doc.update((d) => void d.keys.push(rec));
  }
  revoke(id: string, at: string): Promise<ApiKeyRecord | undefined> {
    return this.doc.update((d) => {
      const k = d.keys.find((x) => x.id === id);
      if (k && !k.revokedAt) k.revokedAt = at;
      return k && { ...k };
    });
  }
  onChange(fn: () => void) {
    return this.doc.onChange(fn);
  }
}

interface HealthFile {
  format: 1;
  states: HealthState[];
  history: Record<string, HealthCheck[]>;
}

class FileHealthStore implements HealthStore {
  private readonly doc: JsonFile<HealthFile>;
  constructor(file: string) {
    this.doc = new JsonFile<HealthFile>(file, () => ({ format: 1, states: [], history: {} }), 0o644);
  }
  async states(): Promise<HealthState[]> {
    return (await this.doc.read()).states;
  }
  async record(states: HealthState[], checks: HealthCheck[], keep: number): Promise<void> {
    await this.doc.update((d) => {
      d.states = states;
      const live = new Set(states.map((s) => s.key));
      for (const k of Object.keys(d.history)) if (!live.has(k)) delete d.history[k];
      for (const c of checks) (d.history[c.key] ??= []).push(c);
      for (const k of Object.keys(d.history)) d.history[k] = d.history[k]!.slice(-keep);
    });
  }
  async history(key: string, limit: number): Promise<HealthCheck[]> {
    return ((await this.doc.read()).history[key] ?? []).slice(-limit).reverse();
  }
  onChange(fn: () => void) {
    return this.doc.onChange(fn);
  }
}

/** JSON lines, one append per record (0600: it names who did what). */
class FileAuditSink implements AuditSink {
  constructor(private readonly file: string) {}
  async write(rec: HttpAuditRecord): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    await appendFile(this.file, JSON.stringify(rec) + '\n', { mode: 0o600 });
  }
  async query(q: { since?: string; action?: string; limit: number }): Promise<HttpAuditRecord[]> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    const since = q.since ? Date.parse(q.since) : -Infinity;
    const out: HttpAuditRecord[] = [];
    for (const line of text.split('\n').reverse()) {
      if (!line.trim()) continue;
      let r: HttpAuditRecord;
      try {
        r = JSON.parse(line) as HttpAuditRecord;
      } catch {
        continue; // a torn last line
      }
      if (Date.parse(r.time) < since) break;
      if (q.action && r.action !== q.action) continue;
      out.push(r);
      if (out.length >= q.limit) break;
    }
    return out;
  }
}

/** `host:pid`, the replica field of audit records. */
export const INSTANCE = `${hostname()}:${process.pid}`;
