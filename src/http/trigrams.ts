/**
 * Which rows can contain a substring: posting lists of character trigrams, so `search` verifies a handful of rows
 * instead of scanning 12k. Characters are folded into 64 classes (letters, digits, common punctuation, the rest
 * hashed) so a trigram is an 18-bit number and the index is three flat typed arrays, built in two linear passes.
 * Folding only makes candidates less selective; callers confirm every candidate with a real `includes`.
 */

const BITS = 6;
const KEYS = 1 << (3 * BITS);
const MASK = KEYS - 1;

function fold(c: number): number {
  if (c >= 97 && c <= 122) return c - 96; // a-z → 1..26
  if (c >= 48 && c <= 57) return c - 21; // 0-9 → 27..36
  switch (c) {
    case 32:
      return 37;
    case 45:
      return 38; // -
    case 46:
      return 39; // .
    case 47:
      return 40; // /
    case 95:
      return 41; // _
    case 10:
      return 42;
    default:
      return 43 + (c % 21); // everything else: 43..63
  }
}

export class TrigramIndex {
  /** Rows of trigram k are postings[offsets[k] .. offsets[k + 1]), ascending. */
  private readonly offsets: Int32Array;
  private readonly postings: Int32Array;

  constructor(texts: readonly string[]) {
    const offsets = new Int32Array(KEYS + 1);
    const last = new Int32Array(KEYS);
    let postings = new Int32Array(0);
    let fill: Int32Array | null = null;
    // Pass 1 counts each row's distinct trigrams, pass 2 writes the rows (a callback per trigram would cost more).
    const pass = () => {
      last.fill(-1);
      for (let row = 0; row < texts.length; row++) {
        const t = texts[row]!;
        let key = 0;
        for (let j = 0; j < t.length; j++) {
          key = ((key << BITS) | fold(t.charCodeAt(j))) & MASK;
          if (j < 2 || last[key] === row) continue;
          last[key] = row;
          if (fill) postings[fill[key]!++] = row;
          else offsets[key + 1]!++;
        }
      }
    };
    pass();
    for (let k = 0; k < KEYS; k++) offsets[k + 1]! += offsets[k]!;
    postings = new Int32Array(offsets[KEYS]!);
    fill = offsets.slice(0, KEYS);
    pass();
    this.offsets = offsets;
    this.postings = postings;
  }

  /** Ascending rows that may contain `s` (its rarest trigram's list); undefined when `s` is shorter than 3. */
  candidates(s: string): Int32Array | undefined {
    if (s.length < 3) return undefined;
    let best: Int32Array | undefined;
    let key = 0;
    for (let j = 0; j < s.length; j++) {
      key = ((key << BITS) | fold(s.charCodeAt(j))) & MASK;
      if (j < 2) continue;
      const from = this.offsets[key]!;
      const to = this.offsets[key + 1]!;
      if (from === to) return new Int32Array(0);
      if (!best || to - from < best.length) best = this.postings.subarray(from, to);
    }
    return best;
  }
}
