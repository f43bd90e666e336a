/** Cross-process file locks: a lock file with pid and time, waits, stale-lock takeover. */
import { hostname } from 'node:os';
import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';

/** True when a process with this pid exists (EPERM: it exists but belongs to another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A cross-process lock next to a file: `<file>.lock`, created with O_EXCL and holding `pid host time nonce`.
 * Two registry processes may share one home (e.g. two MCP clients), so every read-modify-write of state, secrets
 * and policy.yaml happens under this lock. A lock whose owner died (same host, pid gone) or that is older than
 * `staleMs` is taken over; release only removes a lock that is still ours.
 * Within one process, callers queue on a promise first, so they never poll against their own lock.
 */

export interface LockOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** A lock older than this is considered abandoned even if its pid exists (pid reuse, another host). Default 30 s. */
  staleMs?: number;
}

export class LockTimeoutError extends Error {}

const queues = new Map<string, Promise<unknown>>();
const HOST = hostname();

export async function withFileLock<T>(file: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const lockPath = `${file}.lock`;
  const prev = queues.get(lockPath) ?? Promise.resolve();
  const run = prev.catch(() => {}).then(async () => {
    const nonce = await acquire(lockPath, opts);
    try {
      return await fn();
    } finally {
      await release(lockPath, nonce);
    }
  });
  queues.set(lockPath, run);
  try {
    return await run;
  } finally {
    if (queues.get(lockPath) === run) queues.delete(lockPath);
  }
}

interface LockInfo {
  pid: number;
  host: string;
  time: number;
  nonce: string;
}

function parseLock(text: string): LockInfo | undefined {
  const [pid, host, time, nonce] = text.trim().split(/\s+/);
  const p = Number(pid);
  const t = Number(time);
  if (!Number.isInteger(p) || !host || !Number.isFinite(t) || !nonce) return undefined;
  return { pid: p, host, time: t, nonce };
}

async function acquire(lockPath: string, opts: LockOptions): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const staleMs = opts.staleMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const nonce = randomBytes(8).toString('hex');
  let delay = 5;
  for (;;) {
    if (await tryCreate(lockPath, nonce)) return nonce;
    await takeOverIfStale(lockPath, staleMs);
    if (Date.now() > deadline) {
      const holder = parseLock(await readFile(lockPath, 'utf8').catch(() => ''));
      throw new LockTimeoutError(
        `${lockPath} is held by ${holder ? `process ${holder.pid} on ${holder.host}` : 'another process'} for more than ${timeoutMs} ms. ` +
          `If no mcp-registry is running, delete that file and try again.`,
      );
    }
    await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 100);
  }
}

/** Create the lock file if nobody holds it; false when it exists. */
async function tryCreate(lockPath: string, nonce: string): Promise<boolean> {
  try {
    const fh = await open(lockPath, 'wx', 0o600);
    try {
      await fh.writeFile(`${process.pid} ${HOST} ${Date.now()} ${nonce}\n`);
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  }
}

/**
 * One attempt at a lock that may be held for minutes (a source refresh): a release function, or null while a live
 * holder has it. A lock whose holder died (or older than staleMs) is taken over the same safe way withFileLock does.
 */
export async function tryLock(lockPath: string, staleMs = 6 * 3_600_000): Promise<(() => Promise<void>) | null> {
  const nonce = randomBytes(8).toString('hex');
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await tryCreate(lockPath, nonce)) return () => release(lockPath, nonce);
    await takeOverIfStale(lockPath, staleMs);
  }
  return null;
}

async function takeOverIfStale(lockPath: string, staleMs: number): Promise<void> {
  let text: string;
  let mtime: number;
  try {
    [text, mtime] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath).then((s) => s.mtimeMs)]);
  } catch {
    return; // released meanwhile
  }
  const info = parseLock(text);
  const age = Date.now() - (info?.time ?? mtime);
  // An unparsable lock is a writer that died between create and write (or garbage): judge it by the file's age.
  const dead = info ? (info.host === HOST && !pidAlive(info.pid)) || age > staleMs : age > Math.min(staleMs, 2_000);
  if (!dead) return;
  // Move it aside, then check that what moved is the lock judged stale: another process may have replaced it.
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return;
  }
  const moved = await readFile(aside, 'utf8').catch(() => '');
  if (moved !== text) {
    // We moved a fresh lock: put it back unless someone already holds a new one.
    await link(aside, lockPath).catch(() => {});
  }
  await rm(aside, { force: true });
}

async function release(lockPath: string, nonce: string): Promise<void> {
  const info = parseLock(await readFile(lockPath, 'utf8').catch(() => ''));
  if (info?.nonce === nonce) await rm(lockPath, { force: true });
}
