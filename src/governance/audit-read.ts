/** Reading the audit log: its files (rotated ones too) parsed line by line, torn lines skipped, filtered by a query. */
import { readFile, stat } from 'node:fs/promises';
import { patternToRegExp } from '../util/patterns.js';
import { AUDIT_OPS, auditFile, DEFAULT_KEEP, type AuditOp, type AuditRecord } from './audit-record.js';

export interface AuditQuery {
  /** Only records at or after this time. */
  since?: Date;
  /** An entry id or pattern (`docker/*`). */
  entry?: string;
  op?: AuditOp;
  /** The most recent N records (default: all). */
  limit?: number;
}

export interface AuditReadResult {
  /** Oldest first. */
  records: AuditRecord[];
  /** Lines that were not whole records (a crash mid-write, or hand edits). */
  skipped: number;
  files: string[];
}

const OPS = new Set<string>(AUDIT_OPS);

/** A parsed line, or undefined when it is not a whole record. A whole record glued after a torn one is recovered. */
export function parseAuditLine(line: string): AuditRecord | undefined {
  const text = line.replace(/\0/g, '').trim();
  if (!text) return undefined;
  const tryParse = (t: string): AuditRecord | undefined => {
    try {
      const r = JSON.parse(t) as AuditRecord;
      return r && typeof r === 'object' && typeof r.time === 'string' && OPS.has(r.op) && typeof r.outcome === 'string' && !Number.isNaN(Date.parse(r.time)) ? r : undefined;
    } catch {
      return undefined;
    }
  };
  const whole = tryParse(text);
  if (whole) return whole;
  // Every record starts with {"time": — what follows the last such start may be a whole record.
  const at = text.lastIndexOf('{"time":');
  return at > 0 ? tryParse(text.slice(at)) : undefined;
}

export async function readAuditFile(file: string, keep: number, q: AuditQuery): Promise<AuditReadResult> {
  const entryRe = q.entry ? patternToRegExp(q.entry) : undefined;
  const since = q.since?.getTime();
  const limit = q.limit !== undefined && q.limit > 0 ? q.limit : Infinity;
  // Newest file first, so a small `limit` or a recent `since` reads only what it needs.
  const candidates = [file, ...Array.from({ length: Math.max(keep, 1) + 5 }, (_, i) => `${file}.${i + 1}`)];
  const batches: AuditRecord[][] = [];
  const files: string[] = [];
  let skipped = 0;
  let count = 0;
  for (const f of candidates) {
    const st = await stat(f).catch(() => null);
    if (!st) {
      if (f === file) continue;
      break;
    }
    files.push(f);
    const text = await readFile(f, 'utf8');
    const batch: AuditRecord[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const r = parseAuditLine(line);
      if (!r) {
        skipped++;
        continue;
      }
      if (since !== undefined && Date.parse(r.time) < since) continue;
      if (entryRe && !(r.entry && entryRe.test(r.entry))) continue;
      if (q.op && r.op !== q.op) continue;
      batch.push(r);
    }
    batches.unshift(batch);
    count += batch.length;
    // Records in older files started before this file was last written... enough once the newest `limit` are in.
    if (count >= limit) break;
    if (since !== undefined && st.mtimeMs < since) break;
  }
  const records = batches.flat().sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  return { records: limit === Infinity ? records : records.slice(-limit), skipped, files };
}

/** Read the audit log under `stateDir` (its rotated files too). */
export function readAudit(stateDir: string, query: AuditQuery = {}, opts: { keep?: number } = {}): Promise<AuditReadResult> {
  return readAuditFile(auditFile(stateDir), opts.keep ?? DEFAULT_KEEP, query);
}
