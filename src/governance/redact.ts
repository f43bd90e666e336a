/** Redacting known secrets from any value (strings and base64 payloads) before it is logged or shown. */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { MIN_SECRET_LENGTH, redactDeep, SecretSet } from './secret-scan.js';

/**
 * One rule for every redaction in the registry: secret-scan's MIN_SECRET_LENGTH (6). Shorter values are not
 * searched for — replacing every "abcd" in every result garbles output and protects nothing a guess would not find.
 */
export { MIN_SECRET_LENGTH };
export const REDACTED = '[redacted secret]';

/**
 * Removes known secret values from text the registry passes on: child results and errors, child stderr, log
 * lines, audit records. A server that echoes its token (or puts it in an error message) must not hand it to the
 * model — raw, JSON-escaped, URL-encoded or base64 (secret-scan's SecretSet searches all of them in one pass).
 */
export class Redactor {
  private readonly values = new Set<string>();
  private set: SecretSet = SecretSet.from([], { placeholder: REDACTED });

  /** True when there is anything to redact (callers skip the walk otherwise). */
  get active(): boolean {
    return this.set.size > 0;
  }

  add(values: Iterable<string>): void {
    let changed = false;
    for (const v of values) {
      if (typeof v !== 'string' || v.length < MIN_SECRET_LENGTH || this.values.has(v)) continue;
      this.values.add(v);
      changed = true;
    }
    // Compiled once per change (one matcher for all values and encodings), not per text.
    if (changed) this.set = SecretSet.from(this.values, { placeholder: REDACTED });
  }

  /** Replace the whole set (secrets were removed or changed). */
  reset(values: Iterable<string>): void {
    this.values.clear();
    this.set = SecretSet.from([], { placeholder: REDACTED });
    this.add(values);
  }

  text(s: string): string {
    return this.set.redact(s);
  }

  /** A copy of `value` with every string (and base64 payload) redacted; the same object when nothing needed it. */
  deep<T>(value: T): T {
    return redactDeep(value, this.set);
  }

  result(r: CallToolResult): CallToolResult {
    return this.deep(r);
  }
}
