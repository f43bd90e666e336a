/** This registry process's instance id (pid and start time), and telling whether another one is alive. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pidAlive } from '../util/file-lock.js';

/**
 * Registry instance ids: `<pid>-<start ticks>-<boot id 6 hex><random 4 hex>`. pid + start time identify one process
 * for the life of one boot (a reused pid has another start time); the boot id tells a container left over from
 * before a reboot; the random part keeps two registries in one process apart.
 */

function procStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]); // field 22, starttime
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '').slice(0, 6);
  } catch {
    return '000000';
  }
}

/** A fresh instance id for this process. */
export function newInstanceId(pid = process.pid): string {
  return `${pid}-${procStartTicks(pid) ?? 0}-${bootId()}${randomBytes(2).toString('hex')}`;
}

const INSTANCE_RE = /^(\d+)-(\d+)-([0-9a-f]{6})[0-9a-f]{4}$/;

/**
 * Whether the process that created `instance` still runs: same boot, pid present, same start time. An id in
 * another format is reported alive, so containers this code does not understand are never reaped.
 */
export function instanceAlive(instance: string): boolean {
  const m = INSTANCE_RE.exec(instance);
  if (!m) return true;
  const pid = Number(m[1]);
  const start = Number(m[2]);
  if (m[3] !== bootId()) return false;
  const actual = procStartTicks(pid);
  if (actual !== null) return actual === start;
  if (start !== 0) return false; // /proc works here and the pid is gone
  return pidAlive(pid); // no /proc (not Linux): the pid is all there is to check
}

