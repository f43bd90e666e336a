/**
 * Many literal strings found in a text at once, in time linear in the text whatever their number or size
 * (Aho–Corasick). Matches are what the regular expression `longest|…|shortest` would replace: from left to right,
 * at each position the longest pattern that starts there, then on after its end (leftmost-longest, no overlaps).
 *
 * The automaton is built over the REVERSED patterns and runs from the end of the text to its start: the longest
 * reversed pattern ending at a position of the reversed text is the longest pattern starting there in the text, and
 * Aho–Corasick knows it in O(1) per character (the longest pattern on the failure chain, precomputed per state).
 * A regular expression of every pattern has a size limit (V8: "Regular expression too large" at a few hundred KB
 * of alternatives) and costs more per character the more patterns it has; this has neither, only memory (some
 * 25 bytes per pattern character).
 */
export class LongestMatcher {
  /** Length of the longest pattern (0 when there is none). */
  readonly longest: number;
  private readonly lengths: number[];
  /** Code unit → symbol + 1; 0 for a code unit no pattern contains (it sends the automaton back to the root). */
  private readonly alphabet: Int32Array;
  /**
   * Full transition rows (failures resolved) for the shallowest states, where a scan spends nearly all its time:
   * `row[state]` is the row's offset in `dense`, or -1 for deeper states, which look through their own children.
   */
  private readonly row: Int32Array;
  private readonly dense: Int32Array;
  // The trie: each state's children as a linked list. A pattern's states are numbered in a row, so following a
  // long secret reads memory in order; past the dense rows nearly every state has a single child.
  private readonly firstChild: Int32Array;
  private readonly nextSibling: Int32Array;
  private readonly symbolOf: Int32Array;
  private readonly fail: Int32Array;
  /** The longest pattern that ends this state's string, + 1 (0: none). */
  private readonly out: Int32Array;

  /** `denseBudget`: entries of the full transition rows at most (4 bytes each; the root's row is always made). */
  constructor(patterns: readonly string[], denseBudget = 1 << 16) {
    this.lengths = patterns.map((p) => p.length);
    let total = 0;
    let longest = 0;
    let maxUnit = -1;
    for (const p of patterns) {
      total += p.length;
      longest = Math.max(longest, p.length);
      for (let i = 0; i < p.length; i++) maxUnit = Math.max(maxUnit, p.charCodeAt(i));
    }
    this.longest = longest;
    const alphabet = (this.alphabet = new Int32Array(maxUnit + 1));
    let symbols = 0;
    for (const p of patterns) for (let i = 0; i < p.length; i++) if (!alphabet[p.charCodeAt(i)]) alphabet[p.charCodeAt(i)] = ++symbols;

    const states = total + 1;
    const firstChild = (this.firstChild = new Int32Array(states));
    const nextSibling = (this.nextSibling = new Int32Array(states));
    const symbolOf = (this.symbolOf = new Int32Array(states));
    const fail = (this.fail = new Int32Array(states));
    const out = (this.out = new Int32Array(states));
    const pattern = new Int32Array(states).fill(-1);
    // While building, the root's children by symbol (the root is the one state with very many).
    const rootChild = new Int32Array(symbols);

    let count = 1;
    for (let id = 0; id < patterns.length; id++) {
      const p = patterns[id]!;
      if (!p.length) continue;
      let s = 0;
      for (let i = p.length - 1; i >= 0; i--) {
        const a = alphabet[p.charCodeAt(i)]! - 1;
        let t = s === 0 ? rootChild[a]! : this.child(s, a);
        if (!t) {
          t = count++;
          symbolOf[t] = a;
          nextSibling[t] = firstChild[s]!;
          firstChild[s] = t;
          if (s === 0) rootChild[a] = t;
        }
        s = t;
      }
      // The same string given twice: the first one keeps it.
      if (pattern[s]! < 0) pattern[s] = id;
    }

    // Breadth-first, so a state's failure state (always shallower) is complete before the state itself.
    const denseStates = Math.min(count, Math.max(1, Math.floor(denseBudget / Math.max(1, symbols))));
    const row = (this.row = new Int32Array(states).fill(-1));
    const dense = (this.dense = new Int32Array(denseStates * symbols));
    const queue = new Int32Array(count);
    let head = 0;
    let tail = 0;
    queue[tail++] = 0;
    let rows = 0;
    while (head < tail) {
      const u = queue[head++]!;
      if (rows < denseStates) {
        // A state's row is its failure state's row with its own children written over it.
        const base = rows++ * symbols;
        row[u] = base;
        if (u !== 0) dense.copyWithin(base, row[fail[u]!]!, row[fail[u]!]! + symbols);
        for (let v = firstChild[u]!; v; v = nextSibling[v]!) dense[base + symbolOf[v]!] = v;
      }
      for (let v = firstChild[u]!; v; v = nextSibling[v]!) {
        const f = u === 0 ? 0 : this.next(fail[u]!, symbolOf[v]!);
        fail[v] = f;
        out[v] = pattern[v]! >= 0 ? pattern[v]! + 1 : out[f]!;
        queue[tail++] = v;
      }
    }
  }

  /**
   * Every match (leftmost-longest, not overlapping) as `[start, length, pattern index]`, in text order.
   * `stopAtFirst` returns as soon as any pattern is known to occur (that one match need not be the leftmost).
   */
  matches(text: string, stopAtFirst = false): [number, number, number][] {
    const found: [number, number, number][] = [];
    if (!this.longest || !text) return found;
    const { alphabet, out, lengths, row, dense } = this;
    const units = alphabet.length;
    // Backwards: the longest pattern starting at each position (later positions first).
    let s = 0;
    for (let i = text.length - 1; i >= 0; i--) {
      const c = text.charCodeAt(i);
      const a = c < units ? alphabet[c]! : 0;
      if (a === 0) {
        // No pattern holds this character, so none starts here or runs across it.
        s = 0;
        continue;
      }
      // The dense case inline: nearly every step of a scan is one.
      const r = row[s]!;
      s = r >= 0 ? dense[r + a - 1]! : this.next(s, a - 1);
      const o = out[s]!;
      if (o) {
        found.push([i, lengths[o - 1]!, o - 1]);
        if (stopAtFirst) return found;
      }
    }
    // Forwards: take a match, skip what it covers, as a regular expression's replace does.
    const taken: [number, number, number][] = [];
    let end = 0;
    for (let k = found.length - 1; k >= 0; k--) {
      const m = found[k]!;
      if (m[0] < end) continue;
      taken.push(m);
      end = m[0] + m[1];
    }
    return taken;
  }

  has(text: string): boolean {
    return this.matches(text, true).length > 0;
  }

  /** `text` with each match replaced by `replacement(pattern index)`; the same string when nothing matched. */
  replace(text: string, replacement: (pattern: number) => string): string {
    const ms = this.matches(text);
    if (!ms.length) return text;
    let out = '';
    let at = 0;
    for (const [start, length, id] of ms) {
      out += text.slice(at, start) + replacement(id);
      at = start + length;
    }
    return out + text.slice(at);
  }

  /** The automaton's move from state `s` on symbol `a`, failures followed. */
  private next(s: number, a: number): number {
    for (;;) {
      const r = this.row[s]!;
      if (r >= 0) return this.dense[r + a]!;
      const t = this.child(s, a);
      if (t) return t;
      s = this.fail[s]!;
    }
  }

  /** The trie's own edge from `s` on symbol `a`, or 0. */
  private child(s: number, a: number): number {
    for (let v = this.firstChild[s]!; v; v = this.nextSibling[v]!) if (this.symbolOf[v] === a) return v;
    return 0;
  }
}
