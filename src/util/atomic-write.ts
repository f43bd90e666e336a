/** Atomic file writes: a temp file beside the target, renamed in, fsync'd, orphans swept on exit. */
import { rmSync } from 'node:fs';
import { copyFile, chmod, link, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pidAlive } from './file-lock.js';

/** Temp files being written right now: a process that exits mid-write (a quick stop) removes them on its way out. */
const inFlight = new Set<string>();
let exitHook = false;

function track(tmp: string): void {
  inFlight.add(tmp);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const f of inFlight) rmSync(f, { force: true });
  });
}

export interface AtomicWriteOptions {
  /**
   * Keep the file being replaced (the previous generation) under this name, so a file later found torn or corrupt
   * loses at most its last write. Replaced atomically too; skipped when there is no file yet.
   */
  backup?: string;
  /** Also fsync the directory, so the rename itself survives a power loss (state files). */
  syncDir?: boolean;
}

/** `.<name>.<pid>.<hex>.tmp` beside `path`: what readers ignore and an orphan sweep recognises. */
function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Write a file so that readers see either the old or the new content, never a torn one,
 * even if the process dies mid-write: write a sibling temp file, fsync, rename over.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, opts: AtomicWriteOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  track(tmp);
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } catch (err) {
      // Disk full or I/O error: leave no partial temp file behind (it may hold secrets).
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    try {
      if (opts.backup) await keepPrevious(path, opts.backup, mode);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  } finally {
    inFlight.delete(tmp);
  }
  if (opts.syncDir) await syncDirectory(dirname(path));
}

/**
 * Make `backup` the current content of `path` without touching `path`: a hard link (the file is only ever replaced,
 * never changed in place, so the two names can share it), else a copy; either lands under a temp name and is renamed
 * over the old backup, so a crash leaves the old backup or the new one.
 */
export async function keepPrevious(path: string, backup: string, mode: number): Promise<void> {
  const tmp = tempName(backup);
  track(tmp);
  try {
    try {
      await link(path, tmp);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return; // nothing written yet
      if (code !== 'EPERM' && code !== 'EXDEV' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw err;
      await copyFile(path, tmp);
      await chmod(tmp, mode);
    }
    try {
      await rename(tmp, backup);
    } finally {
      // rename(2) does nothing when both names are already links to one file (the backup made by a write that was
      // cut short before its own rename, or by keepPrevious itself): the temp name would stay behind.
      await rm(tmp, { force: true });
    }
  } finally {
    inFlight.delete(tmp);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writeJsonAtomic(path: string, value: unknown, mode = 0o644): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value), mode);
}

const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/**
 * Remove the temp files of writeFileAtomic that a killed process left in `dir` (a SIGKILL gives no chance to clean
 * up), all of them or only those of the file named `of`. Only files of processes that no longer run: another live
 * registry may be writing its own right now.
 */
export async function sweepTempFiles(dir: string, of?: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (of !== undefined && !name.startsWith(`.${of}.`)) continue;
    const pid = Number(TEMP_NAME.exec(name)?.[1]);
    if (!pid || pid === process.pid || pidAlive(pid)) continue;
    await rm(join(dir, name), { force: true }).catch(() => {});
    removed++;
  }
  return removed;
}
