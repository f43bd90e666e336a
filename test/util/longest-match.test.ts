import { describe, expect, it } from 'vitest';
import { LongestMatcher } from '../../src/util/longest-match.js';

/** What the matcher must agree with: one alternation regex of the patterns, longest first (as redaction used to be). */
function regexReplace(patterns: string[], text: string): string {
  const alts = [...new Set(patterns.filter(Boolean))].sort((a, b) => b.length - a.length).map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  if (!alts.length) return text;
  const index = new Map<string, number>();
  patterns.forEach((p, i) => index.has(p) || index.set(p, i));
  return text.replace(new RegExp(alts.join('|'), 'g'), (m) => `<${index.get(m)}>`);
}

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number) {
  let x = seed;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

describe('LongestMatcher', () => {
  it('replaces exactly what a longest-first alternation regex replaces (2,000 random cases over a tiny alphabet, with full rows for every state and for the root only)', () => {
    const rand = rng(42);
    const word = (alphabet: string, max: number) => Array.from({ length: 1 + Math.floor(rand() * max) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let n = 0; n < 2000; n++) {
      // Few letters: patterns overlap, nest and share prefixes and suffixes all the time.
      const alphabet = n % 2 ? 'ab' : 'abc\n';
      const patterns = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => word(alphabet, 6));
      const text = word(alphabet + 'xyz', 60);
      const expected = regexReplace(patterns, text);
      for (const m of [new LongestMatcher(patterns), new LongestMatcher(patterns, 1)]) {
        expect(m.replace(text, (i) => `<${i}>`), JSON.stringify({ patterns, text })).toBe(expected);
        expect(m.has(text)).toBe(expected !== text);
      }
    }
  });

  it('the longest pattern at the leftmost position wins; the first of two equal patterns keeps it', () => {
    const m = new LongestMatcher(['bcd', 'abcdef', 'cdefgh', 'abcdef']);
    expect(m.matches('xabcdefgh')).toEqual([[1, 6, 1]]);
    expect(m.replace('bcdefgh', (i) => `<${i}>`)).toBe('<0>efgh');
  });

  it('non-ASCII text and surrogate pairs are matched as written', () => {
    const m = new LongestMatcher(['pässwörd', '🔑key🔑']);
    expect(m.replace('a pässwörd and a 🔑key🔑!', () => '#')).toBe('a # and a #!');
    expect(m.has('🔑ke')).toBe(false);
  });

  it('patterns of any size: a 400 KB pattern (far past what a regular expression accepts) is found in a 1 MB text', () => {
    const big = Array.from({ length: 40_000 }, (_, i) => `line-${i}-`).join('').slice(0, 400_000);
    const text = `${'z'.repeat(300_000)}${big}${'z'.repeat(300_000)}`;
    const m = new LongestMatcher([big, big.slice(10, 50)]);
    expect(m.longest).toBe(400_000);
    expect(m.matches(text)).toEqual([[300_000, 400_000, 0]]);
    expect(m.replace(text, () => '[x]')).toBe(`${'z'.repeat(300_000)}[x]${'z'.repeat(300_000)}`);
  });

  it('no patterns, or only empty ones: nothing matches and the text comes back as it was', () => {
    for (const m of [new LongestMatcher([]), new LongestMatcher([''])]) {
      expect(m.matches('anything')).toEqual([]);
      expect(m.replace('anything', () => 'x')).toBe('anything');
      expect(m.has('')).toBe(false);
    }
  });
});
