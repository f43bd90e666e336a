// Short stable hashes: the suffix that keeps shortened names unique, and served-name disambiguation.
import { createHash } from 'node:crypto';

/** Hex characters a short hash keeps by default. */
export const SHORT_HASH_LEN = 8;

export function shortHash(s: string, len = SHORT_HASH_LEN): string {
  return createHash('sha256').update(s).digest('hex').slice(0, len);
}
