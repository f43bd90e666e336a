import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** Secrets shorter than this are not searched for: replacing every "abc" in every result would garble it. */
export const MIN_SECRET_LENGTH = 4;
export const REDACTED = '[redacted secret]';

/**
 * Removes known secret values from text the registry passes on: child results and errors, child stderr, log
 * lines. A server that echoes its token (or puts it in an error message) must not hand it to the model.
 */
export class Redactor {
  private values: string[] = [];
  private readonly set = new Set<string>();

  /** True when there is anything to redact (callers skip the walk otherwise). */
  get active(): boolean {
    return this.values.length > 0;
  }

  add(values: Iterable<string>): void {
    let changed = false;
    for (const v of values) {
      if (typeof v !== 'string' || v.length < MIN_SECRET_LENGTH || this.set.has(v)) continue;
      this.set.add(v);
      changed = true;
    }
    // Longest first, so a secret that contains another is replaced whole.
    if (changed) this.values = [...this.set].sort((a, b) => b.length - a.length);
  }

  /** Replace the whole set (secrets were removed or changed). */
  reset(values: Iterable<string>): void {
    this.set.clear();
    this.values = [];
    this.add(values);
  }

  text(s: string): string {
    if (!this.values.length || !s) return s;
    let out = s;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  }

  /** A copy of `value` with every string redacted; the same object when nothing needed it (the common case). */
  deep<T>(value: T): T {
    if (!this.values.length) return value;
    return this.walk(value) as T;
  }

  result(r: CallToolResult): CallToolResult {
    return this.deep(r);
  }

  private walk(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) {
      let copy: unknown[] | null = null;
      for (let i = 0; i < v.length; i++) {
        const w = this.walk(v[i]);
        if (w !== v[i]) (copy ??= v.slice())[i] = w;
      }
      return copy ?? v;
    }
    if (v && typeof v === 'object') {
      let copy: Record<string, unknown> | null = null;
      for (const [k, x] of Object.entries(v)) {
        const w = this.walk(x);
        if (w !== x) (copy ??= { ...(v as Record<string, unknown>) })[k] = w;
      }
      return copy ?? v;
    }
    return v;
  }
}
