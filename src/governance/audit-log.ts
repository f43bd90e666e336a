/** The audit log: one JSON line per operation, with argument shapes (never values), outcome and identity. */
import { mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { createLogger, errorMessage } from '../util/log.js';
import { withFileLock, type LockOptions } from '../util/file-lock.js';
import type { ToolOutput } from '../model/tool-contract.js';
import { maskCredentials } from './secret-scan.js';
import { auditFile, DEFAULT_KEEP, DEFAULT_MAX_BYTES, MAX_RECORD_BYTES, type AuditInput, type AuditOp, type AuditOutcome, type AuditRecord, shapeOf } from './audit-record.js';
import { readAuditFile, type AuditQuery, type AuditReadResult } from './audit-read.js';

/**
 * The audit log: one JSON line per operation in `<stateDir>/audit/audit.jsonl` — who (instance, client), what (op,
 * entry, tool), how it went (outcome, duration) and the SHAPE of the arguments, never their values.
 *
 * Durability without a daemon: every record is one write(2) of one whole line to a file opened O_APPEND, capped
 * below PIPE_BUF, so records of concurrent processes never interleave and a crash loses at most the records of the
 * calls answered in the current turn of the event loop (they are written just after their answers: `soon`) and a
 * torn last line, which readers skip. A normal exit writes what is queued (`flushSync`). Rotation renames under the
 * cross-process file lock; a writer still holding the file from before a rotation appends to the rotated file (which
 * the reader also reads) until it notices, within RECHECK_MS — nothing is lost unless `keep` rotations happen within
 * that time.
 *
 * The file stays open between records (one write per record on the call path, instead of open, write, stat and
 * close); it is closed after IDLE_CLOSE_MS without records.
 */

export interface AuditLogOptions {
  /** Rotate when the file reaches this size (default 5 MiB). */
  maxBytes?: number;
  /** Rotated files kept: audit.jsonl.1 (newest) … audit.jsonl.<keep> (default 5). */
  keep?: number;
  /** This registry process (the runtime's instance id); default `pid-<pid>`. */
  instance?: string;
  /** Removes known secret values from text (e.g. log.ts redactText, which holds every stored secret). */
  redact?: (s: string) => string;
  lockOptions?: LockOptions;
}

const MAX_ERROR_CHARS = 600;
/** How often an open log checks whether another process rotated it (or it outgrew maxBytes through others). */
const RECHECK_MS = 1_000;
const IDLE_CLOSE_MS = 2_000;

interface OpenLog {
  fh: FileHandle;
  ino: number;
  /** Bytes in the file as last seen (own writes added since). */
  size: number;
  checkedAt: number;
  /** The file ended in a torn line (a crashed writer): the first record starts on a fresh line. */
  needsNewline: boolean;
}

const log = createLogger('audit');

// ---- writing -------------------------------------------------------------------------------------------------

export class AuditLog {
  readonly file: string;
  readonly maxBytes: number;
  readonly keep: number;
  readonly instance: string;
  private readonly redact: (s: string) => string;
  private readonly lockOptions: LockOptions;
  private handle: OpenLog | null = null;
  private opening: Promise<OpenLog> | null = null;
  private idle: NodeJS.Timeout | null = null;
  /** Writes in flight (the idle close waits for them). */
  private writing = 0;
  /** Records of calls already answered, written on the next turn of the event loop (see `soon`). */
  private queued: AuditInput[] = [];
  private draining: Promise<void> | null = null;
  private readonly maskMemo = new Map<string, string>();
  private readonly cleanKey = (k: string) => this.masked(this.redact(k));

  constructor(stateDir: string, opts: AuditLogOptions = {}) {
    this.file = auditFile(stateDir);
    this.maxBytes = Math.max(1024, opts.maxBytes ?? DEFAULT_MAX_BYTES);
    this.keep = Math.max(1, Math.floor(opts.keep ?? DEFAULT_KEEP));
    this.instance = opts.instance ?? `pid-${process.pid}`;
    this.redact = opts.redact ?? ((s) => s);
    this.lockOptions = opts.lockOptions ?? {};
  }

  /** Text fit for the log: known secrets and credential-looking tokens removed, bounded. */
  clean(text: string, max = MAX_ERROR_CHARS): string {
    const t = this.masked(this.redact(text));
    return t.length > max ? `${t.slice(0, max - 1)}…` : t;
  }

  /**
   * maskCredentials, remembered for the short texts every record repeats (instance, client, entry, tool, argument
   * names): the credential scan was the largest cost of a record. Only after `redact`, which is not remembered
   * (the set of known secrets changes while the registry runs).
   */
  private masked(text: string): string {
    if (text.length > 300) return maskCredentials(text);
    let m = this.maskMemo.get(text);
    if (m === undefined) {
      if (this.maskMemo.size >= 2000) this.maskMemo.clear();
      m = maskCredentials(text);
      this.maskMemo.set(text, m);
    }
    return m;
  }

  /** The record as it will be written (shape of args, cleaned texts, bounded size). */
  toRecord(input: AuditInput): AuditRecord {
    return this.fitted(input).record;
  }

  private fitted(input: AuditInput): { record: AuditRecord; line: string } {
    const time = input.time ?? new Date(Date.now() - Math.max(0, input.durationMs));
    const r: AuditRecord = {
      time: time.toISOString(),
      instance: this.clean(this.instance, 100),
      ...(input.client ? { client: this.clean(input.client, 100) } : {}),
      op: input.op,
      ...(input.entry ? { entry: this.clean(input.entry, 300) } : {}),
      ...(input.tool ? { tool: this.clean(input.tool, 200) } : {}),
      outcome: input.outcome,
      ...(input.choice ? { choice: this.clean(input.choice, 50) } : {}),
      ...(input.version ? { version: this.clean(input.version, 100) } : {}),
      ...(input.keyId ? { keyId: this.clean(input.keyId, 40) } : {}),
      ...(input.signature ? { signature: this.clean(input.signature, 20) } : {}),
      durationMs: Math.max(0, Math.round(input.durationMs)),
      ...(input.args !== undefined ? { args: shapeOf(input.args, this.cleanKey, 0) } : {}),
      ...(input.error !== undefined && input.error !== null ? { error: this.clean(typeof input.error === 'string' ? input.error : errorMessage(input.error)) } : {}),
    };
    return fitRecord(r);
  }

  /**
   * Append one record. Never throws: an audit failure is logged, and the operation it describes goes on (the
   * returned boolean says whether it was written).
   */
  async write(input: AuditInput): Promise<boolean> {
    const line = this.lineOf(input);
    if (line === null) return false;
    this.writing++;
    try {
      // No await when the file is open: the line is written in the same turn (see drain).
      const h = this.handle ?? (await this.current());
      let data = Buffer.from(line, 'utf8');
      if (h.needsNewline) {
        h.needsNewline = false;
        data = Buffer.concat([Buffer.from('\n'), data]);
      }
      // One write(2) for the whole line (O_APPEND: the kernel appends it as one piece). Synchronous on purpose: a
      // page-cache append takes microseconds, while a thread-pool round trip put ~1-2 ms at p99 on every proxied call.
      const bytesWritten = writeSync(h.fh.fd, data, 0, data.length, null);
      if (bytesWritten !== data.length) throw new Error(`short write (${bytesWritten} of ${data.length} bytes; disk full?)`);
      h.size += bytesWritten;
      if (h.size >= this.maxBytes || Date.now() - h.checkedAt > RECHECK_MS) await this.recheck(h);
      this.armIdleClose();
      return true;
    } catch (err) {
      log.error(`could not write the audit log ${this.file}: ${errorMessage(err)}`);
      if (this.handle) this.retire(this.handle);
      return false;
    } finally {
      this.writing--;
    }
  }

  /**
   * Append a record just after the current turn of the event loop: a proxied call's answer goes out first, and the
   * record follows it within microseconds (the file write is not on the call's path). `flush` (or `close`) waits.
   */
  soon(input: AuditInput): void {
    this.queued.push(input);
    if (this.queued.length === 1 && !this.draining) setImmediate(() => void this.flush().catch(() => {}));
  }

  /** The record's line, or null (logged) when it cannot be made — one odd input must not cost the others. */
  private lineOf(input: AuditInput): string | null {
    try {
      return this.fitted(input).line;
    } catch (err) {
      log.error(`could not format an audit record (${input.op}): ${errorMessage(err)}`);
      return null;
    }
  }

  /**
   * At process exit, when no event-loop turn is left: write what is still queued, synchronously. Best effort (the
   * process is going away); the normal path is `flush`.
   */
  flushSync(): void {
    const lines = this.queued.splice(0).map((r) => this.lineOf(r)).filter((l): l is string => l !== null);
    if (!lines.length) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      const fd = openSync(this.file, 'a', 0o600);
      try {
        for (const line of lines) writeSync(fd, line);
      } finally {
        closeSync(fd);
      }
    } catch {
      // exiting: nowhere left to report it
    }
  }

  /** Every record handed to `soon` is written when this resolves. */
  flush(): Promise<void> {
    if (!this.draining && this.queued.length) this.draining = this.drain();
    return this.draining ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued.length) {
        // Open the file first, with the record still queued: a process exit meanwhile writes it (flushSync). Once
        // it is taken off the queue, write() puts it in the file before anything else can run.
        if (!this.handle) await this.current().catch(() => {});
        await this.write(this.queued.shift()!);
      }
    } finally {
      this.draining = null;
    }
  }

  /** Close the file now (it reopens on the next record). */
  async close(): Promise<void> {
    await this.flush();
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const h = this.handle;
    this.handle = null;
    await h?.fh.close().catch(() => {});
  }

  private current(): Promise<OpenLog> {
    if (this.handle) return Promise.resolve(this.handle);
    return (this.opening ??= this.openLog().finally(() => (this.opening = null)));
  }

  private async openLog(): Promise<OpenLog> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const fh = await open(this.file, 'a+', 0o600);
    try {
      const st = await fh.stat();
      let needsNewline = false;
      if (st.size > 0) {
        // A previous process may have died mid-line: start on a fresh line, so the next record is not glued to it.
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, st.size - 1);
        needsNewline = last[0] !== 0x0a;
      }
      this.handle = { fh, ino: st.ino, size: st.size, checkedAt: Date.now(), needsNewline };
      return this.handle;
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  }

  /** Rotated by another process, or grown past maxBytes: reopen (rotating first when it is too big). */
  private async recheck(h: OpenLog): Promise<void> {
    h.checkedAt = Date.now();
    const [own, named] = await Promise.all([h.fh.stat(), stat(this.file).catch(() => null)]);
    h.size = own.size;
    if (!named || named.ino !== own.ino) {
      this.retire(h);
      return;
    }
    if (own.size >= this.maxBytes) {
      this.retire(h);
      await this.rotate();
    }
  }

  /** Stop using a handle; closed a moment later, so a write still in flight on it completes. */
  private retire(h: OpenLog): void {
    if (this.handle === h) this.handle = null;
    setTimeout(() => void h.fh.close().catch(() => {}), RECHECK_MS).unref();
  }

  private armIdleClose(): void {
    if (this.idle) {
      this.idle.refresh();
      return;
    }
    this.idle = setTimeout(() => {
      this.idle = null;
      if (this.writing) this.armIdleClose();
      else void this.close();
    }, IDLE_CLOSE_MS);
    this.idle.unref();
  }

  /** audit.jsonl → .1 → .2 …, under the lock; a no-op when another process rotated first. */
  async rotate(force = false): Promise<void> {
    await withFileLock(
      this.file,
      async () => {
        const st = await stat(this.file).catch(() => null);
        if (!st || (!force && st.size < this.maxBytes)) return;
        for (let i = this.keep - 1; i >= 1; i--) {
          await rename(`${this.file}.${i}`, `${this.file}.${i + 1}`).catch((err: NodeJS.ErrnoException) => {
            if (err.code !== 'ENOENT') throw err;
          });
        }
        await rename(this.file, `${this.file}.1`);
      },
      this.lockOptions,
    );
  }

  /** The records on file, this log's queued ones included. */
  async read(query: AuditQuery = {}): Promise<AuditReadResult> {
    await this.flush();
    return readAuditFile(this.file, this.keep, query);
  }
}

/**
 * The record and its line, shrunk when it would not fit one atomic line: drop the argument shape, then shorten the
 * error. The usual record is serialised once.
 */
function fitRecord(r: AuditRecord): { record: AuditRecord; line: string } {
  const fits = (record: AuditRecord) => {
    const line = JSON.stringify(record) + '\n';
    return Buffer.byteLength(line) <= MAX_RECORD_BYTES ? { record, line } : null;
  };
  let out = r;
  const whole = fits(out);
  if (whole) return whole;
  if (r.args !== undefined) out = { ...r, args: `${typeof r.args === 'string' ? r.args : `object(${Object.keys(r.args).length} keys)`} (shape too large to record)` };
  const noArgs = fits(out);
  if (noArgs) return noArgs;
  if (out.error) out = { ...out, error: `${out.error.slice(0, 200)}…` };
  const shortError = fits(out);
  if (shortError) return shortError;
  const record = { ...out, entry: out.entry?.slice(0, 200), tool: out.tool?.slice(0, 200), client: out.client?.slice(0, 100) };
  return { record, line: JSON.stringify(record) + '\n' };
}

// ---- wrapping operations -------------------------------------------------------------------------------------

/** Mark an error with the outcome it stands for (a policy refusal, a withheld tool) instead of plain 'error'. */
export function withOutcome<E extends Error>(err: E, outcome: AuditOutcome): E {
  (err as E & { auditOutcome?: AuditOutcome }).auditOutcome = outcome;
  return err;
}

function outcomeOfError(err: unknown): AuditOutcome {
  const o = (err as { auditOutcome?: unknown } | null)?.auditOutcome;
  return o === 'refused' || o === 'withheld' || o === 'error' ? o : 'error';
}

export interface AuditCall<T> {
  op: AuditOp;
  client?: string;
  entry?: string;
  tool?: string;
  args?: unknown;
  /** Outcome from a result that did not throw (default: isError → 'error' with the result's text). */
  outcomeOf?: (result: T) => { outcome?: AuditOutcome; error?: string; entry?: string; tool?: string } | undefined;
}

/** The outcome of a ToolOutput or CallToolResult: isError → 'error' with its text; `auditOutcome` on it wins. */
export function resultOutcome(result: unknown): { outcome: AuditOutcome; error?: string } {
  const r = result as (Partial<ToolOutput> & { content?: { type: string; text?: string }[]; auditOutcome?: AuditOutcome }) | null;
  if (!r || typeof r !== 'object') return { outcome: 'ok' };
  const text = typeof r.text === 'string' ? r.text : r.content?.find((c) => c.type === 'text')?.text;
  if (r.auditOutcome) return { outcome: r.auditOutcome, ...(r.auditOutcome !== 'ok' && text ? { error: text } : {}) };
  return r.isError ? { outcome: 'error', ...(text ? { error: text } : {}) } : { outcome: 'ok' };
}

/**
 * Run `fn` and record it, whatever happens (result, isError result, or throw — rethrown). The record is written
 * just after the answer has gone out (`AuditLog.soon`); `flush` the log to wait for it. With no log it just runs `fn`.
 */
export async function auditToolCall<T>(auditLog: AuditLog | null | undefined, call: AuditCall<T>, fn: () => Promise<T>): Promise<T> {
  if (!auditLog) return fn();
  const started = new Date();
  const t0 = performance.now();
  const base = { op: call.op, client: call.client, entry: call.entry, tool: call.tool, args: call.args, time: started };
  try {
    const result = await fn();
    const o = call.outcomeOf ? call.outcomeOf(result) : undefined;
    const def = resultOutcome(result);
    auditLog.soon({ ...base, ...(o?.entry ? { entry: o.entry } : {}), ...(o?.tool ? { tool: o.tool } : {}), outcome: o?.outcome ?? def.outcome, error: o?.error ?? def.error, durationMs: performance.now() - t0 });
    return result;
  } catch (err) {
    auditLog.soon({ ...base, outcome: outcomeOfError(err), error: err, durationMs: performance.now() - t0 });
    throw err;
  }
}
