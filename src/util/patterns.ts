/**
 * Entry id patterns of policy.yaml and `mcp-registry audit --entry`: "*" matches anything ("/" included), "?" one
 * character. Apart from policy.ts so the audit log can use them without loading the policy's YAML and schema code.
 */

/** `docker/*` → /^docker\/.*$/i. Ids differ by more than case, so matching ignores it. */
export function patternToRegExp(p: string): RegExp {
  const body = p
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}
