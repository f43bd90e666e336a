/** The audit log for people (the `audit` CLI): `--since` read, one line per record. */
import { parseDuration } from '../config/config.js';
import type { AuditRecord } from './audit-record.js';

/** `--since`: a duration back from now ("90m", "1h", "2d") or a date/time ("2026-07-01", ISO 8601). */
export function parseSince(value: string, now = Date.now()): Date {
  const v = value.trim();
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/.test(v)) return new Date(now - parseDuration(v));
  if (/^\d+(\.\d+)?\s*w$/.test(v)) return new Date(now - parseFloat(v) * 7 * 86_400_000);
  const t = Date.parse(v);
  if (/^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(t)) return new Date(t);
  throw new Error(`"${value}" is neither a duration (e.g. 30m, 1h, 2d, 1w) nor a date (e.g. 2026-07-01 or 2026-07-01T12:00:00Z)`);
}

/** One line per record for people. */
export function formatAudit(records: AuditRecord[]): string {
  if (!records.length) return 'No audit records match.';
  return records
    .map((r) => {
      const parts = [r.time, r.op.padEnd(10), r.outcome.padEnd(8), `${r.durationMs}ms`.padStart(8)];
      if (r.entry) parts.push(r.entry);
      if (r.tool) parts.push(`tool=${r.tool}`);
      if (r.client) parts.push(`client=${r.client}`);
      if (r.choice) parts.push(`choice=${r.choice}`);
      if (r.signature) parts.push(`signature=${r.signature}${r.keyId ? ` key=${r.keyId}` : ''}${r.version ? ` version=${r.version}` : ''}`);
      parts.push(`instance=${r.instance}`);
      if (r.args !== undefined) parts.push(`args=${JSON.stringify(r.args)}`);
      if (r.error) parts.push(`error: ${r.error}`);
      return parts.join('  ');
    })
    .join('\n');
}
