/** Per-entry claims: which callers see an entry, within any registry (the view a caller gets: view.ts CallerView). */
import type { IncomingMessage } from 'node:http';
import type { Entry } from '../model/entry.js';

/**
 * An entry may carry `claims` (a file catalog's server.json `_meta: {"io.github.mcp-registry/claims": {groups:
 * [dev]}}`): it is served only to callers whose credential's claims match every key (auth.ts claimsMatch), in
 * whichever registry lists it; anonymous callers never see it, an admin credential always does. A registry's own
 * `claims` still decide who sees the registry at all.
 */

export const ENTRY_CLAIMS_KEY = 'io.github.mcp-registry/claims';

export type Claims = Record<string, string | string[]>;

/** The claims an entry asks for, when it states well-formed ones. */
export function entryClaims(entry: Pick<Entry, 'meta'>): Claims | undefined {
  const c = entry.meta?.[ENTRY_CLAIMS_KEY];
  if (!c || typeof c !== 'object' || Array.isArray(c)) return undefined;
  const out: Claims = {};
  for (const [k, v] of Object.entries(c as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
  }
  return Object.keys(out).length ? out : undefined;
}

/** Who asks, set by the org layer once the credential is checked (the API reads it when it answers). */
export interface Caller {
  claims: Record<string, unknown>;
  /** An admin credential sees every entry. */
  all: boolean;
}
export const callers = new WeakMap<IncomingMessage, Caller>();
export const ANONYMOUS_CALLER: Caller = { claims: {}, all: false };
