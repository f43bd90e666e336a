import { chmod, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { writeFileAtomic } from '../util/atomic-write.js';
import { createLogger, errorMessage } from '../log.js';
import { pidAlive, withFileLock, type LockOptions } from '../util/file-lock.js';

/**
 * Persistent runtime state: what is mounted, each entry's settings, approvals — and, in a separate 0600 file, secrets.
 * Two registry processes may share one home, so every change is lock → re-read → change → atomic write → unlock
 * (lowdb's own writer is atomic within a process but not across processes, and it neither fsyncs nor keeps a
 * file mode; the adapter here does both). A crash mid-write leaves the old file intact and at most a temp file,
 * which readers ignore and the next writer removes.
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

/** A lowdb adapter writing through writeFileAtomic (temp file, fsync, rename) with a fixed file mode. */
class AtomicJsonFile<T> implements Adapter<T> {
  constructor(
    readonly file: string,
    private readonly mode: number,
  ) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StateFileError(`cannot read ${this.file}: ${errorMessage(err)}`);
    }
    if (!text.trim()) return null;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new StateFileError(`${this.file} is not valid JSON (${errorMessage(err)})`);
    }
  }

  async write(data: T): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(data, null, 2) + '\n', this.mode);
  }
}

/**
 * One JSON document under a cross-process lock. `normalize` turns whatever is on disk into a valid document,
 * dropping (and logging) bad records instead of failing on them.
 */
class LockedJson<T extends object> {
  private readonly adapter: AtomicJsonFile<T>;

  constructor(
    readonly file: string,
    private readonly empty: () => T,
    private readonly normalize: (raw: unknown, file: string) => T,
    private readonly mode: number,
    private readonly lockOptions: LockOptions = {},
  ) {
    this.adapter = new AtomicJsonFile<T>(file, mode);
  }

  /** Fresh from disk, without the lock (writes are atomic, so this sees a whole old or a whole new document). */
  async read(): Promise<T> {
    try {
      const db = new Low<T>(this.adapter, this.empty());
      await db.read();
      return this.normalize(db.data, this.file);
    } catch (err) {
      if (!(err instanceof StateFileError)) throw err;
      log.warn(`${errorMessage(err)}; using empty state until the next change moves it aside`);
      return this.empty();
    }
  }

  async update<R>(fn: (d: T) => R): Promise<R> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    return withFileLock(
      this.file,
      async () => {
        await this.fixMode();
        const db = new Low<T>(this.adapter, this.empty());
        try {
          await db.read();
        } catch (err) {
          if (!(err instanceof StateFileError)) throw err;
          // Unreadable (edited by hand?): keep it for the user, start afresh.
          const aside = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
          await rename(this.file, aside).catch(() => {});
          log.warn(`${errorMessage(err)}; moved to ${aside} and started with empty state`);
          db.data = this.empty();
        }
        db.data = this.normalize(db.data, this.file);
        const result = fn(db.data);
        await db.write();
        await removeOrphanTemps(this.file);
        return result;
      },
      this.lockOptions,
    );
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

/** Temp files of writeFileAtomic (`.<name>.<pid>.<hex>.tmp`) left by a process that died mid-write. */
async function removeOrphanTemps(file: string): Promise<void> {
  const dir = dirname(file);
  const prefix = `.${basename(file)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = n.startsWith(prefix) ? /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(n) : null;
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    await rm(join(dir, n), { force: true }).catch(() => {});
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
      out.mounts.push({ id: m.id, prefix: m.prefix, addedAt: m.addedAt, ...(isObj(m.config) ? { config: m.config } : {}), ...(typeof m.source === 'string' ? { source: m.source } : {}) });
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

  /** Merge into the entry's secrets; an empty string removes that secret. */
  async set(entryId: string, values: Record<string, string>): Promise<void> {
    await this.doc.update((d) => {
      const cur = { ...(d.secrets[entryId] ?? {}) };
      for (const [name, v] of Object.entries(values)) {
        if (v === '' || v === null || v === undefined) delete cur[name];
        else cur[name] = String(v);
      }
      if (Object.keys(cur).length) d.secrets[entryId] = cur;
      else delete d.secrets[entryId];
    });
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

  /** Remove every secret of an entry. */
  async clear(entryId: string): Promise<void> {
    await this.doc.update((d) => {
      delete d.secrets[entryId];
    });
  }
}
