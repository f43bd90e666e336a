/** Persistent runtime state (mounts, settings, approvals; secrets apart, 0600): locked atomic writes, backups. */
import { chmod, copyFile, link, mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import { z } from 'zod';
import { keepPrevious, sweepTempFiles, writeFileAtomic } from '../util/atomic-write.js';
import { createLogger, errorMessage } from '../util/log.js';
import { withFileLock, type LockOptions } from '../util/file-lock.js';

/**
 * Persistent runtime state: what is mounted, each entry's settings, approvals — and, in a separate 0600 file, secrets.
 * Two registry processes may share one home, so every change is lock → re-read → change → atomic write → unlock
 * (lowdb's own writer is atomic within a process but not across processes, and it neither fsyncs nor keeps a
 * file mode; the adapter here does both). A crash mid-write leaves the old file intact and at most a temp file,
 * which readers ignore and the next writer removes.
 *
 * Every write keeps the file it replaces as `<file>.bak` (the previous generation). A file found torn or corrupt
 * anyway (a disk that lost a write, an editor) is set aside as `<file>.corrupt-<time>` and the previous generation
 * restored from the backup, so at most the last write is lost; each such recovery is kept for registry-status.
 *
 * Where approvals live: `policy.yaml` holds durable allow/deny decisions (edited by `mcp-registry allow|deny`);
 * `state.approvals` holds approvals granted at run time (e.g. a user accepting a prompt), which Policy.decide
 * takes as its second argument. A deny in policy.yaml beats both.
 */

export interface MountRecord {
  id: string;
  prefix: string;
  addedAt: string;
  config?: Record<string, unknown>;
  /** The source whose launch was added: restores and restarts run that one, never another source's added later. */
  source?: string;
  /** The version asked for (registry-add {id, version}); absent: the latest, as the catalog says at each start. */
  version?: string;
}

/** A run-time approval; `source` is the source whose launch was approved (absent in records from before). */
export interface ApprovalRecord {
  approvedAt: string;
  by: string;
  source?: string;
}

export interface StateData {
  version: 1;
  mounts: MountRecord[];
  settings: Record<string, Record<string, unknown>>;
  approvals: Record<string, ApprovalRecord>;
  [k: string]: unknown;
}

interface SecretData {
  version: 1;
  secrets: Record<string, Record<string, string>>;
}

const STATE_VERSION = 1;
const log = createLogger('state');

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class StateFileError extends Error {}

/** A state file that was found unreadable, and what became of it (registry-status shows these). */
export const StateRecoverySchema = z.object({
  file: z.string(),
  /** What was wrong with it. */
  problem: z.string(),
  /** Where the unreadable file was kept for the user. */
  movedTo: z.string().optional(),
  /** The previous generation it was restored from, and when that was written; both absent when there was none. */
  restoredFrom: z.string().optional(),
  restoredWrittenAt: z.string().optional(),
  /** Why nothing could be restored (the backup was missing or unreadable too): the file started empty. */
  lost: z.string().optional(),
  at: z.string(),
});
export type StateRecovery = z.infer<typeof StateRecoverySchema>;

/** A lowdb adapter writing through writeFileAtomic (temp file, fsync, rename) with a fixed file mode. */
class AtomicJsonFile<T> implements Adapter<T> {
  constructor(
    readonly file: string,
    private readonly mode: number,
  ) {}

  /** The document, or null when there is no file. A file that is empty, torn, not JSON or not an object throws. */
  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StateFileError(`cannot read ${this.file}: ${errorMessage(err)}`);
    }
    // Nothing here writes an empty file: one is a write that was lost (a rename that reached the disk before the data).
    if (!text.trim()) throw new StateFileError(`${this.file} is empty`);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      // Never the parser's own words: they quote the file, which may be the secrets file.
      const msg = errorMessage(err);
      const at = /at position (\d+)/.exec(msg)?.[1];
      const where = /end of JSON input/i.test(msg) ? 'it ends in mid-document, as a torn write does' : at ? `error at byte ${at}` : 'cannot be parsed';
      throw new StateFileError(`${this.file} is not valid JSON (${where}; ${Buffer.byteLength(text)} bytes)`);
    }
    if (!isObj(doc)) throw new StateFileError(`${this.file} does not hold a JSON object`);
    return doc as T;
  }

  /** Atomic, fsynced (directory too); the replaced file becomes `backup` unless that is null. */
  async write(data: T, backup: string | null = null): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(data, null, 2) + '\n', this.mode, { ...(backup ? { backup } : {}), syncDir: true });
  }
}

/**
 * One JSON document under a cross-process lock. `normalize` turns whatever is on disk into a valid document,
 * dropping (and logging) bad records instead of failing on them.
 */
class LockedJson<T extends object> {
  private readonly adapter: AtomicJsonFile<T>;
  private readonly backupFile: string;
  /** Recoveries this process made, oldest first. */
  readonly recoveries: StateRecovery[] = [];

  constructor(
    readonly file: string,
    private readonly empty: () => T,
    private readonly normalize: (raw: unknown, file: string) => T,
    private readonly mode: number,
    private readonly lockOptions: LockOptions = {},
  ) {
    this.adapter = new AtomicJsonFile<T>(file, mode);
    this.backupFile = `${file}.bak`;
  }

  /**
   * Fresh from disk, without the lock (writes are atomic, so this sees a whole old or a whole new document). A file
   * found unreadable is repaired at once, under the lock: set aside, previous generation restored.
   */
  async read(): Promise<T> {
    try {
      return this.normalize((await this.adapter.read()) ?? this.empty(), this.file);
    } catch (err) {
      if (!(err instanceof StateFileError)) throw err;
    }
    try {
      let out!: T;
      await this.update((d) => void (out = d));
      return out;
    } catch (err) {
      // Cannot repair it now (lock held too long, read-only disk): serve the previous generation meanwhile.
      log.warn(`${this.file} is unreadable and could not be repaired now (${errorMessage(err)}); using its previous generation until the next change`);
      const backup = await this.readBackup();
      return backup && 'data' in backup ? backup.data : this.empty();
    }
  }

  /**
   * Lock → re-read → change → write (the replaced file kept as the backup) → unlock. `forgetPrevious` (asked after
   * `fn` ran): the backup becomes the new content too — a removed secret must not live on in the backup.
   */
  async update<R>(fn: (d: T) => R, opts: { forgetPrevious?: () => boolean } = {}): Promise<R> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    return withFileLock(
      this.file,
      async () => {
        await this.fixMode();
        let raw: T | null;
        let intact = true;
        try {
          raw = await this.adapter.read();
        } catch (err) {
          if (!(err instanceof StateFileError)) throw err;
          raw = await this.recover(err);
          intact = false;
        }
        const data = this.normalize(raw ?? this.empty(), this.file);
        const result = fn(data);
        // An unreadable file must not become the backup: the backup still holds the generation restored from.
        await this.adapter.write(data, intact ? this.backupFile : null);
        if (opts.forgetPrevious?.()) await keepPrevious(this.file, this.backupFile, this.mode);
        // Temp files of this file (and its backup's) left by a process that died mid-write.
        await sweepTempFiles(dirname(this.file), basename(this.file));
        return result;
      },
      this.lockOptions,
    );
  }

  /** Under the lock: keep the unreadable file for the user, and return the previous generation (null: none). */
  private async recover(err: StateFileError): Promise<T | null> {
    const at = new Date().toISOString();
    const aside = `${this.file}.corrupt-${at.replace(/[:.]/g, '-')}`;
    // A second name (not a rename), so the file is never missing: a crash now leaves it to be recovered again.
    const kept = await link(this.file, aside)
      .catch(() => copyFile(this.file, aside))
      .then(
        () => true,
        () => false,
      );
    const backup = await this.readBackup();
    const rec: StateRecovery = { file: this.file, problem: errorMessage(err), ...(kept ? { movedTo: aside } : {}), at };
    if (backup && 'data' in backup) {
      rec.restoredFrom = this.backupFile;
      rec.restoredWrittenAt = backup.writtenAt;
      log.warn(`${rec.problem}; kept it as ${aside} and restored the previous generation from ${this.backupFile} (written ${backup.writtenAt}): at most its last change is lost`);
    } else {
      rec.lost = backup ? `${this.backupFile} is unreadable too (${backup.problem})` : `there is no ${this.backupFile}`;
      log.warn(`${rec.problem}; kept it as ${aside} and started it empty: ${rec.lost}`);
    }
    this.recoveries.push(rec);
    return backup && 'data' in backup ? backup.data : null;
  }

  /** The previous generation: its document and when it was written, why it is unusable, or null when absent. */
  private async readBackup(): Promise<{ data: T; writtenAt: string } | { problem: string } | null> {
    const st = await stat(this.backupFile).catch(() => null);
    if (!st) return null;
    try {
      const raw = await new AtomicJsonFile<T>(this.backupFile, this.mode).read();
      return raw ? { data: this.normalize(raw, this.backupFile), writtenAt: st.mtime.toISOString() } : null;
    } catch (err) {
      return { problem: errorMessage(err) };
    }
  }

  /** Files created before (or by hand) may be more open than they should be. */
  private async fixMode(): Promise<void> {
    try {
      const st = await stat(this.file);
      if ((st.mode & 0o777 & ~this.mode) !== 0) await chmod(this.file, this.mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

function emptyState(): StateData {
  return { version: STATE_VERSION, mounts: [], settings: {}, approvals: {} };
}

function normalizeState(raw: unknown, file: string): StateData {
  if (!isObj(raw)) return emptyState();
  if (typeof raw.version === 'number' && raw.version > STATE_VERSION) {
    throw new Error(`${file} was written by a newer mcp-registry (state version ${raw.version}); upgrade mcp-registry to use it`);
  }
  const out: StateData = { ...raw, version: STATE_VERSION, mounts: [], settings: {}, approvals: {} };
  const dropped: string[] = [];
  const seen = new Set<string>();
  for (const m of Array.isArray(raw.mounts) ? raw.mounts : []) {
    if (isObj(m) && typeof m.id === 'string' && m.id && typeof m.prefix === 'string' && typeof m.addedAt === 'string' && !seen.has(m.id)) {
      seen.add(m.id);
      out.mounts.push({ id: m.id, prefix: m.prefix, addedAt: m.addedAt, ...(isObj(m.config) ? { config: m.config } : {}), ...(typeof m.source === 'string' ? { source: m.source } : {}), ...(typeof m.version === 'string' ? { version: m.version } : {}) });
    } else dropped.push(`mount ${JSON.stringify(isObj(m) ? (m.id ?? null) : m)}`);
  }
  for (const [id, s] of Object.entries(isObj(raw.settings) ? raw.settings : {})) {
    if (isObj(s)) out.settings[id] = s;
    else dropped.push(`settings of ${id}`);
  }
  for (const [id, a] of Object.entries(isObj(raw.approvals) ? raw.approvals : {})) {
    if (isObj(a) && typeof a.approvedAt === 'string') {
      out.approvals[id] = { approvedAt: a.approvedAt, by: typeof a.by === 'string' ? a.by : 'unknown', ...(typeof a.source === 'string' ? { source: a.source } : {}) };
    }
    else dropped.push(`approval of ${id}`);
  }
  if (dropped.length) log.warn(`${file}: ignored ${dropped.length} malformed record(s)`, { records: dropped.slice(0, 10) });
  return out;
}

/** Merge settings: nested objects merge, `null`/`undefined` removes a key, anything else replaces. */
export function mergeSettings(target: Obj, values: Obj): Obj {
  const out: Obj = { ...target };
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined) delete out[k];
    else if (isObj(v) && isObj(out[k])) {
      const merged = mergeSettings(out[k] as Obj, v);
      if (Object.keys(merged).length) out[k] = merged;
      else delete out[k];
    } else if (isObj(v)) {
      const merged = mergeSettings({}, v);
      if (Object.keys(merged).length) out[k] = merged;
    } else out[k] = v;
  }
  return out;
}

export class StateStore {
  readonly file: string;
  private readonly doc: LockedJson<StateData>;

  constructor(stateDir: string, lockOptions: LockOptions = {}) {
    this.file = join(stateDir, 'state.json');
    this.doc = new LockedJson(this.file, emptyState, normalizeState, 0o600, lockOptions);
  }

  read(): Promise<StateData> {
    return this.doc.read();
  }

  update<T>(fn: (d: StateData) => T): Promise<T> {
    return this.doc.update(fn);
  }

  /** state.json files this process found unreadable, and what it restored them from. */
  get recoveries(): readonly StateRecovery[] {
    return this.doc.recoveries;
  }

  async mounts(): Promise<MountRecord[]> {
    return (await this.read()).mounts;
  }

  async putMount(r: MountRecord): Promise<void> {
    await this.update((d) => {
      const i = d.mounts.findIndex((m) => m.id === r.id);
      if (i >= 0) d.mounts[i] = r;
      else d.mounts.push(r);
    });
  }

  async removeMount(id: string): Promise<boolean> {
    return this.update((d) => {
      const before = d.mounts.length;
      d.mounts = d.mounts.filter((m) => m.id !== id);
      return d.mounts.length !== before;
    });
  }

  async settings(id: string): Promise<Record<string, unknown>> {
    return (await this.read()).settings[id] ?? {};
  }

  /** Merge into the entry's settings (see mergeSettings: `null` removes a setting). */
  async setSettings(id: string, values: Record<string, unknown>): Promise<void> {
    await this.update((d) => {
      const merged = mergeSettings(d.settings[id] ?? {}, values);
      if (Object.keys(merged).length) d.settings[id] = merged;
      else delete d.settings[id];
    });
  }

  /** Record an approval under the id the launch's source lists the entry by, naming that source. */
  async approve(id: string, by: string, source?: string): Promise<void> {
    await this.update((d) => {
      d.approvals[id] = { approvedAt: new Date().toISOString(), by, ...(source ? { source } : {}) };
    });
  }

  async revokeApproval(id: string): Promise<boolean> {
    return this.update((d) => {
      const had = id in d.approvals;
      delete d.approvals[id];
      return had;
    });
  }
}

function emptySecrets(): SecretData {
  return { version: STATE_VERSION, secrets: {} };
}

function normalizeSecrets(raw: unknown, file: string): SecretData {
  const out = emptySecrets();
  if (!isObj(raw)) return out;
  let dropped = 0;
  for (const [id, values] of Object.entries(isObj(raw.secrets) ? raw.secrets : {})) {
    if (!isObj(values)) {
      dropped++;
      continue;
    }
    const kept: Record<string, string> = {};
    for (const [name, v] of Object.entries(values)) {
      if (typeof v === 'string' && v) kept[name] = v;
      else dropped++;
    }
    if (Object.keys(kept).length) out.secrets[id] = kept;
  }
  // Never log names with values; the count is enough to notice.
  if (dropped) log.warn(`${file}: ignored ${dropped} malformed secret record(s)`);
  return out;
}

/** Secrets in their own file, mode 0600 (created so, tightened if found wider), under the same locking. */
export class SecretStore {
  private readonly doc: LockedJson<SecretData>;

  constructor(
    readonly file: string,
    lockOptions: LockOptions = {},
  ) {
    this.doc = new LockedJson(file, emptySecrets, normalizeSecrets, 0o600, lockOptions);
  }

  async get(entryId: string): Promise<Record<string, string>> {
    return { ...((await this.doc.read()).secrets[entryId] ?? {}) };
  }

  /**
   * Merge into the entry's secrets; an empty string removes that secret. A value removed or replaced is dropped from
   * the backup too (the backup keeps the previous generation only for what was added).
   */
  async set(entryId: string, values: Record<string, string>): Promise<void> {
    let dropped = false;
    await this.doc.update(
      (d) => {
        const cur = { ...(d.secrets[entryId] ?? {}) };
        for (const [name, v] of Object.entries(values)) {
          const next = v === '' || v === null || v === undefined ? undefined : String(v);
          if (cur[name] !== undefined && cur[name] !== next) dropped = true;
          if (next === undefined) delete cur[name];
          else cur[name] = next;
        }
        if (Object.keys(cur).length) d.secrets[entryId] = cur;
        else delete d.secrets[entryId];
      },
      { forgetPrevious: () => dropped },
    );
  }

  /** secrets.json files this process found unreadable, and what it restored them from. */
  get recoveries(): readonly StateRecovery[] {
    return this.doc.recoveries;
  }

  async names(entryId: string): Promise<string[]> {
    return Object.keys((await this.doc.read()).secrets[entryId] ?? {}).sort();
  }

  /** Names of the stored secrets of every entry, in one read. */
  async namesByEntry(): Promise<Record<string, string[]>> {
    const d = await this.doc.read();
    return Object.fromEntries(Object.entries(d.secrets).map(([id, s]) => [id, Object.keys(s).sort()]));
  }

  /** Every entry's secrets, by entry id (config-set checks that a value is not stored as a setting elsewhere). */
  async byEntry(): Promise<Record<string, Record<string, string>>> {
    return structuredClone((await this.doc.read()).secrets);
  }

  /** Every stored secret value, for log redaction. */
  async allValues(): Promise<string[]> {
    const d = await this.doc.read();
    return [...new Set(Object.values(d.secrets).flatMap((s) => Object.values(s)))];
  }

  /** Remove every secret of an entry (from the backup too). */
  async clear(entryId: string): Promise<void> {
    let had = false;
    await this.doc.update(
      (d) => {
        had = entryId in d.secrets;
        delete d.secrets[entryId];
      },
      { forgetPrevious: () => had },
    );
  }
}
