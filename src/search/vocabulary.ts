/** The index vocabulary: terms, document frequencies, and typo corrections by edit distance. */
import { boundedDistance } from '../util/edit-distance.js';
import { isStopword, stem } from './tokenize.js';

export interface Correction {
  word: string;
  /** edits from the word typed (or from its stem) */
  dist: number;
}

const MAX_CACHE = 5_000;

interface Bucket {
  keys: string[];
  words: string[];
}

/**
 * The index's dictionary of surface words, for the words of a query the index does not know as typed:
 * typo corrections, completions of an unfinished word, closed compounds. The structures it needs are built
 * on first use (most queries need none of them) and answers are cached per word.
 */
export class Vocabulary {
  private byLength: Bucket[] | null = null;
  private byStemLength: Bucket[] | null = null;
  private sorted: string[] | null = null;
  private readonly corrections = new Map<string, Correction[]>();
  private readonly compoundCache = new Map<string, string[]>();

  constructor(
    /** surface word → term id */
    private readonly surface: Map<string, number>,
    /** document frequency per term id */
    private readonly df: Int32Array,
    /** term per term id (a word's stem, or its synonym's) */
    private readonly terms: readonly string[],
  ) {}

  private dfOf(word: string): number {
    return this.df[this.surface.get(word)!]!;
  }

  /**
   * Dictionary words closest to `word` within 1 edit (≤ 5 letters), 2 (≤ 10) or 3 (longer), the most common
   * first, at most 3. Edits are Damerau–Levenshtein (a swap of neighbours is one edit). When the word as typed
   * is near nothing, its stem is compared with the dictionary's stems: "playwrite" is three edits from
   * "playwright" but two once its final e is gone.
   */
  correct(word: string): Correction[] {
    const cached = this.corrections.get(word);
    if (cached) return cached;
    let out = this.nearest(word, (this.byLength ??= this.bucket((w) => w)));
    const stemmed = stem(word);
    if (!out.length && stemmed !== word) out = this.nearest(stemmed, (this.byStemLength ??= this.bucket((w) => this.terms[this.surface.get(w)!]!)));
    remember(this.corrections, word, out);
    return out;
  }

  /** The closest dictionary words to `target`, comparing it with each bucketed key. */
  private nearest(target: string, buckets: Bucket[]): Correction[] {
    const max = target.length <= 5 ? 1 : target.length <= 10 ? 2 : 3;
    let found: Array<Correction & { df: number }> = [];
    let bestDist = max;
    const a0 = target.charCodeAt(0);
    const a1 = target.charCodeAt(1);
    for (let len = Math.max(1, target.length - max); len <= target.length + max; len++) {
      const bucket = buckets[len];
      if (!bucket) continue;
      const { keys, words } = bucket;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        // Typos rarely hit both of the first two letters: a cheap filter before the real distance.
        const b0 = key.charCodeAt(0);
        const b1 = key.charCodeAt(1);
        if (a0 !== b0 && a0 !== b1 && a1 !== b0 && a1 !== b1) continue;
        const dist = boundedDistance(target, key, bestDist);
        if (dist > bestDist || dist === 0 || isStopword(words[i]!)) continue;
        if (dist < bestDist) {
          bestDist = dist;
          found = found.filter((f) => f.dist <= dist);
        }
        found.push({ word: words[i]!, dist, df: this.dfOf(words[i]!) });
      }
    }
    return found
      .sort((x, y) => y.df - x.df || (x.word < y.word ? -1 : 1))
      .slice(0, 3)
      .map(({ word: w, dist }) => ({ word: w, dist }));
  }

  /** The most common dictionary words that start with `prefix` (at most `max`). */
  completions(prefix: string, max: number): string[] {
    const sorted = (this.sorted ??= [...this.surface.keys()].sort());
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < sorted.length && sorted[i]!.startsWith(prefix); i++) if (sorted[i] !== prefix) out.push(sorted[i]!);
    if (out.length <= max) return out;
    return out.sort((x, y) => this.dfOf(y) - this.dfOf(x)).slice(0, max);
  }

  /**
   * Closed compounds that begin with the word (or its stem) and whose rest is itself a word of four letters or
   * more: "files" → filesystem, "elastic" → elasticsearch; "post" does not reach "postgres".
   */
  compounds(word: string): string[] {
    const cached = this.compoundCache.get(word);
    if (cached) return cached;
    const out: string[] = [];
    for (const base of new Set([word, stem(word)])) {
      if (base.length < 4) continue;
      for (const w of this.completions(base, 200)) {
        const rest = w.slice(base.length);
        if (rest.length >= 4 && this.surface.has(rest) && !isStopword(rest) && !out.includes(w)) out.push(w);
      }
    }
    remember(this.compoundCache, word, out);
    return out;
  }

  /** Dictionary words grouped by the length of their key (the word itself, or its term). */
  private bucket(keyOf: (word: string) => string): Bucket[] {
    const buckets: Bucket[] = [];
    for (const w of this.surface.keys()) {
      const key = keyOf(w);
      const b = (buckets[key.length] ??= { keys: [], words: [] });
      b.keys.push(key);
      b.words.push(w);
    }
    return buckets;
  }
}

function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  // Bounded: arbitrary user queries must not grow memory without end.
  if (cache.size >= MAX_CACHE) cache.clear();
  cache.set(key, value);
}
