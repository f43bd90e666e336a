/** An audit record: the operations audited, a record's fields, argument shapes (never values), where the file lives. */
import { join } from 'node:path';
import { maskCredentials } from './secret-scan.js';

export const AUDIT_OPS = ['find', 'list', 'info', 'add', 'remove', 'exec', 'config-set', 'refresh', 'approve', 'allow', 'deny', 'policy', 'active', 'status', 'verify', 'profile'] as const;
export type AuditOp = (typeof AUDIT_OPS)[number];
export type AuditOutcome = 'ok' | 'error' | 'refused' | 'withheld';

/** A type description: "string(12)", "number", "array(3) of string", or an object of those. */
export type ArgShape = string | { [key: string]: ArgShape };

export interface AuditRecord {
  /** When the operation started (ISO 8601). */
  time: string;
  instance: string;
  client?: string;
  op: AuditOp;
  entry?: string;
  tool?: string;
  outcome: AuditOutcome;
  /** The answer a question got (approve: "once" | "always"). */
  choice?: string;
  durationMs: number;
  args?: ArgShape;
  error?: string;
  /** verify: the entry's version, the signing key's id and the signature outcome (verified / unsigned / bad). */
  version?: string;
  keyId?: string;
  signature?: string;
}

/** What callers hand in: `args` are the RAW arguments (only their shape is written), `error` any error or text. */
export interface AuditInput {
  op: AuditOp;
  outcome: AuditOutcome;
  durationMs: number;
  client?: string;
  entry?: string;
  tool?: string;
  choice?: string;
  args?: unknown;
  error?: unknown;
  version?: string;
  keyId?: string;
  signature?: string;
  /** Default: now minus durationMs. */
  time?: Date;
}

/** One line must fit one atomic append: below PIPE_BUF (4096), newline included. */
export const MAX_RECORD_BYTES = 4000;
export const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
export const DEFAULT_KEEP = 5;

export function auditFile(stateDir: string): string {
  return join(stateDir, 'audit', 'audit.jsonl');
}

// ---- argument shapes -----------------------------------------------------------------------------------------

const MAX_DEPTH = 4;
const MAX_KEYS = 40;

function leafType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === 'object') return `object(${Object.keys(v as object).length} keys)`;
  return typeof v;
}

/**
 * The shape of a value, never its content: `{query: "hello", limit: 5}` → `{query: "string(5)", limit: "number"}`.
 * Arrays of plain values become "array(3) of string"; arrays of objects `{"array(3)": <shape of the first>}`.
 * Depth and key count are bounded; key names are kept (they are parameter names) but passed through `redact`.
 */
export function argShape(value: unknown, redact: (s: string) => string = (s) => s): ArgShape {
  return shapeOf(value, (k) => maskCredentials(redact(k)), 0);
}

/** argShape with the key cleaner given (the audit log remembers cleaned keys). */
export function shapeOf(value: unknown, cleanKey: (k: string) => string, depth: number): ArgShape {
  if (typeof value === 'string') return `string(${value.length})`;
  if (value === null || value === undefined || typeof value !== 'object') return value === undefined ? 'undefined' : leafType(value);
  if (depth >= MAX_DEPTH) return leafType(value);
  if (Array.isArray(value)) {
    if (!value.length) return 'array(0)';
    const composite = value.find((x) => x !== null && typeof x === 'object');
    if (composite === undefined) {
      const types = [...new Set(value.map((x) => (typeof x === 'string' ? 'string' : leafType(x))))].sort();
      return `array(${value.length}) of ${types.join('|')}`;
    }
    return { [`array(${value.length})`]: shapeOf(composite, cleanKey, depth + 1) };
  }
  const out: Record<string, ArgShape> = {};
  const keys = Object.keys(value);
  for (const k of keys.slice(0, MAX_KEYS)) out[boundKey(cleanKey(k))] = shapeOf((value as Record<string, unknown>)[k], cleanKey, depth + 1);
  if (keys.length > MAX_KEYS) out['…'] = `${keys.length - MAX_KEYS} more keys`;
  return out;
}

/** A key, already cleaned (a key that is itself a secret, a known value or a token format, is not kept as it is). */
function boundKey(clean: string): string {
  return clean.length > 80 ? `${clean.slice(0, 77)}…` : clean;
}
