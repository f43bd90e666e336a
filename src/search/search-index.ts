import type { Entry } from '../model/entry.js';
import { categoryMatches } from '../model/categories.js';
import { buildIndexData, F_NAME, F_TOOLS, nameCore, type IndexData } from './index-builder.js';
import { decodeIndex, encodeIndex } from './index-file.js';
import { compact, isDomainStopword, isStopword, queryWords, termOf } from './tokenize.js';
import { Vocabulary } from './vocabulary.js';

export interface SearchFilters {
  sources?: string[];
  category?: string;
  runnable?: boolean;
  /** Policy's view (hidden entries never take a top-k place). */
  visible?: (entry: Entry) => boolean;
}
export interface SearchHit {
  entry: Entry;
  /** 0..1, higher is better; comparable within one query only. */
  score: number;
}

/*
 * Ranking, per entry: Σ over query words of idf × saturated BM25F frequency (index-builder.ts), where a word's
 * frequency is that of its best spelling (as typed, synonym, typo correction, completion — never summed); then
 * multiplied by the coverage of the query (share of its idf mass the entry matches), bonuses when the words are
 * in the name, when the query names the entry or is exactly its name or one of its tool names, and a tiny
 * quality prior.
 */
const K1 = 1.5;
/**
 * A word found in the name counts this much more, on top of the name field's weight: BM25F saturation alone
 * leaves a name match less than twice a passing mention, yet naming the product is the strongest signal a query has.
 */
const NAME_WORD_BOOST = 1.6;
/** Every query word is in the entry's name. */
const ALL_IN_NAME_BOOST = 1.3;
/** The query names the entry: all core words of its name are among the query's words ("send a slack message"). */
const NAMED_BOOST = 1.5;
/**
 * Coverage factor floor for an entry the query names: in "send a slack message" the user named Slack, and the
 * other words describe the action, so Slack must not lose to servers that merely say "send" and "message".
 */
const NAMED_MIN_COVERAGE = 0.8;
/** The whole query is the entry's name ("github", "sqlite-mcp-server"). */
const EXACT_NAME_BOOST = 1.5;
/** The whole query is one of the entry's tool names ("execute_sql"). */
const EXACT_TOOL_BOOST = 1.4;

/** A word corrected by one edit counts a bit less than the word typed; more edits less again. */
const TYPO_WEIGHT = [1, 0.8, 0.6, 0.45];
/** Completions of an unfinished last word ("kuber" → kubernetes). */
const PREFIX_WEIGHT = 0.75;
const MAX_PREFIX_EXPANSIONS = 12;
/** A closed compound that starts with the word typed ("files" → filesystem). */
const COMPOUND_WEIGHT = 0.6;
/** A known word this rare may itself be a typo present in some description: also try corrections. */
const RARE_DF = 2;
/** Results scoring below this share of the best one are noise, not answers. */
const RELATIVE_CUTOFF = 0.08;
const MAX_QUERY_WORDS = 24;
const MAX_LIMIT = 1000;

interface Alt {
  term: number;
  weight: number;
}

export class SearchIndex {
  private readonly vocab: Vocabulary;
  // Scratch space reused by every search (search is synchronous, so never shared between two calls).
  private readonly acc: Float64Array;
  private readonly covered: Float64Array;
  private readonly nameWords: Uint16Array;
  private readonly toolWords: Uint16Array;
  private readonly wordScore: Float64Array;
  private readonly wordName: Uint8Array;
  private readonly wordTool: Uint8Array;
  /** per entry, the terms of the core words of each spelling of its name; worked out when first needed */
  private readonly cores: Array<number[][] | undefined>;
  private readonly touched: Int32Array;
  private readonly wordTouched: Int32Array;
  private readonly scoredDoc: Int32Array;
  private readonly scoredVal: Float64Array;
  private readonly termMark: Uint8Array;

  private constructor(
    private readonly entries: Entry[],
    private readonly data: IndexData,
  ) {
    const n = entries.length;
    this.vocab = new Vocabulary(data.surface, data.df, data.terms);
    this.acc = new Float64Array(n);
    this.covered = new Float64Array(n);
    this.nameWords = new Uint16Array(n);
    this.toolWords = new Uint16Array(n);
    this.wordScore = new Float64Array(n);
    this.wordName = new Uint8Array(n);
    this.wordTool = new Uint8Array(n);
    this.cores = new Array(n);
    this.touched = new Int32Array(n);
    this.wordTouched = new Int32Array(n);
    this.scoredDoc = new Int32Array(n);
    this.scoredVal = new Float64Array(n);
    this.termMark = new Uint8Array(data.df.length);
  }

  static build(entries: Entry[]): SearchIndex {
    return new SearchIndex(entries, buildIndexData(entries));
  }

  /**
   * The index as bytes for a cache file, so a warm start can skip the build (SearchIndex.load). The stamp says
   * which catalog it belongs to (e.g. the catalog file's build time); load only accepts the same stamp.
   */
  toBuffer(stamp: string): Buffer {
    return encodeIndex(this.data, this.entries.map((e) => e.id), stamp);
  }

  /**
   * The index toBuffer wrote for these very entries (same ids, same order) and this stamp; undefined when the
   * bytes belong to other entries, another stamp or are damaged — build it then.
   */
  static load(entries: Entry[], bytes: Uint8Array, stamp: string): SearchIndex | undefined {
    const data = decodeIndex(bytes, entries.map((e) => e.id), stamp);
    return data && new SearchIndex(entries, data);
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * The best entries for a query, best first, filtered before ranking (a filtered-out entry never takes a top-k
   * place). Case-insensitive, typo-tolerant; an empty list when nothing matches rather than the least bad noise.
   */
  search(query: string, opts: { limit?: number; filters?: SearchFilters } = {}): SearchHit[] {
    const limit = Number.isFinite(opts.limit) ? Math.max(1, Math.min(MAX_LIMIT, Math.floor(opts.limit!))) : 10;
    if (!this.entries.length) return [];
    const groups = this.parse(query);
    if (!groups.length) return [];
    const { idf, start, pDoc, pTf, pMask } = this.data;

    // How much each query word is worth: its best-weighted spelling's idf.
    const worth = groups.map((alts) => alts.reduce((m, a) => Math.max(m, a.weight * idf[a.term]!), 0));
    const totalWorth = worth.reduce((s, w) => s + w, 0);

    const { acc, covered, nameWords, toolWords, wordScore, wordName, wordTool, touched, wordTouched } = this;
    let nTouched = 0;
    for (let g = 0; g < groups.length; g++) {
      let nWord = 0;
      for (const { term, weight } of groups[g]!) {
        const w = weight * idf[term]!;
        for (let p = start[term]!, end = start[term + 1]!; p < end; p++) {
          const d = pDoc[p]!;
          const tf = pTf[p]!;
          const mask = pMask[p]!;
          const inName = mask & (1 << F_NAME);
          const s = ((w * tf) / (K1 + tf)) * (inName ? NAME_WORD_BOOST : 1);
          if (wordScore[d] === 0) wordTouched[nWord++] = d;
          if (s > wordScore[d]!) wordScore[d] = s;
          if (inName) wordName[d] = 1;
          if (mask & (1 << F_TOOLS)) wordTool[d] = 1;
        }
      }
      for (let i = 0; i < nWord; i++) {
        const d = wordTouched[i]!;
        if (covered[d] === 0) touched[nTouched++] = d;
        acc[d]! += wordScore[d]!;
        covered[d]! += worth[g]!;
        nameWords[d]! += wordName[d]!;
        toolWords[d]! += wordTool[d]!;
        wordScore[d] = 0;
        wordName[d] = 0;
        wordTool[d] = 0;
      }
    }

    const allowed = this.filterFn(opts.filters);
    const q = compact(query);
    const all = groups.length;
    for (const alts of groups) for (const a of alts) this.termMark[a.term] = 1;
    const { scoredDoc, scoredVal } = this;
    let nScored = 0;
    let best = 0;
    let i = 0;
    try {
      for (; i < nTouched; i++) {
        const d = touched[i]!;
        const raw = acc[d]!;
        const coverage = covered[d]! / totalWorth;
        const inName = nameWords[d]!;
        const inTools = toolWords[d]!;
        acc[d] = 0;
        covered[d] = 0;
        nameWords[d] = 0;
        toolWords[d] = 0;
        if (!allowed(d)) continue;
        const named = inName > 0 && this.named(d);
        const coverageFactor = 0.25 + 0.75 * coverage * coverage;
        let s = raw * (named ? Math.max(coverageFactor, NAMED_MIN_COVERAGE) : coverageFactor);
        // The name and tool checks below only run for the few entries whose name or tools hold every word.
        if (inName === all) s *= ALL_IN_NAME_BOOST;
        if (named) s *= NAMED_BOOST;
        if (inName === all && this.exactName(d, q)) s *= EXACT_NAME_BOOST;
        if (inTools === all && this.entries[d]!.tools.some((t) => compact(t.name) === q)) s *= EXACT_TOOL_BOOST;
        s *= this.data.prior[d]!;
        if (s > best) best = s;
        scoredDoc[nScored] = d;
        scoredVal[nScored++] = s;
      }
    } finally {
      // The scratch arrays must be clean for the next search even if a filter threw half-way.
      for (let k = i; k < nTouched; k++) {
        const d = touched[k]!;
        acc[d] = 0;
        covered[d] = 0;
        nameWords[d] = 0;
        toolWords[d] = 0;
      }
      for (const alts of groups) for (const a of alts) this.termMark[a.term] = 0;
    }

    const cutoff = best * RELATIVE_CUTOFF;
    const top = new TopK(limit);
    for (let i = 0; i < nScored; i++) if (scoredVal[i]! >= cutoff) top.push(scoredDoc[i]!, scoredVal[i]!, this.entries[scoredDoc[i]!]!.id);
    // Shown scores: 1 − e^(−x) of the score per unit of query worth, so a full name match is near 1.
    return top.sorted().map(({ d, s }) => ({ entry: this.entries[d]!, score: round3(1 - Math.exp((-1.5 * s) / totalWorth)) }));
  }

  /** True when every core word of one spelling of entry d's name is among the query's terms (marked). */
  private named(d: number): boolean {
    let cores = this.cores[d];
    if (!cores) {
      const e = this.entries[d]!;
      cores = [];
      for (const spelling of [e.name, e.nativeName.slice(e.nativeName.lastIndexOf('/') + 1)]) {
        const terms = nameCore(spelling).map((w) => this.data.termIds.get(termOf(w)) ?? -1);
        if (terms.length && !terms.includes(-1)) cores.push(terms);
      }
      this.cores[d] = cores;
    }
    return cores.some((terms) => terms.every((t) => this.termMark[t] === 1));
  }

  /** The whole query, letters and digits only, is entry d's name, native name or an alias's. */
  private exactName(d: number, q: string): boolean {
    const e = this.entries[d]!;
    return compact(e.name) === q || compact(e.nativeName) === q || e.aliases.some((a) => compact(a.slice(a.indexOf('/') + 1)) === q);
  }

  /** Query → for each meaningful word, its alternative terms (as typed, corrections, completions, compounds). */
  private parse(query: string): Alt[][] {
    let words = queryWords(query).slice(0, MAX_QUERY_WORDS);
    if (!words.length) return [];
    // Stopwords say nothing about a server ("the and of" finds nothing); catalog boilerplate ("mcp server for x")
    // goes too unless it is all the query has.
    words = words.filter((w) => !isStopword(w));
    const specific = words.filter((w) => !isDomainStopword(w));
    if (specific.length) words = specific;
    words = [...new Set(words)];
    // The last word may be unfinished when the query does not end with a space or punctuation.
    const partialLast = /[\p{L}\p{N}]$/u.test(query);
    const groups: Alt[][] = [];
    for (let i = 0; i < words.length; i++) {
      const alts = this.expand(words[i]!, partialLast && i === words.length - 1);
      if (alts.length) groups.push(alts);
    }
    return groups;
  }

  private expand(word: string, partial: boolean): Alt[] {
    const { termIds, surface, df } = this.data;
    const alts = new Map<number, number>();
    const add = (term: number | undefined, weight: number) => {
      if (term !== undefined && (alts.get(term) ?? 0) < weight) alts.set(term, weight);
    };
    const own = termIds.get(termOf(word));
    add(own, 1);
    const ownDf = own === undefined ? 0 : df[own]!;
    if (ownDf <= RARE_DF && word.length >= 4 && !/^\d+$/.test(word)) {
      for (const c of this.vocab.correct(word)) {
        const t = surface.get(c.word)!;
        // A known-but-rare word is only second-guessed by a much more common neighbour.
        if (own !== undefined && df[t]! < 5 * Math.max(1, ownDf)) continue;
        add(t, TYPO_WEIGHT[c.dist]! * (own === undefined ? 1 : 0.8));
      }
    }
    if (partial && own === undefined && word.length >= 3) {
      for (const w of this.vocab.completions(word, MAX_PREFIX_EXPANSIONS)) add(surface.get(w), PREFIX_WEIGHT);
    }
    if (word.length >= 4) for (const w of this.vocab.compounds(word)) add(surface.get(w), COMPOUND_WEIGHT);
    return Array.from(alts, ([term, weight]) => ({ term, weight }));
  }

  private filterFn(filters: SearchFilters | undefined): (d: number) => boolean {
    const runnable = filters?.runnable;
    const category = filters?.category;
    const sources = filters?.sources?.length ? new Set(filters.sources) : undefined;
    const visible = filters?.visible;
    if (runnable === undefined && !sources && category === undefined && !visible) return () => true;
    const categoryCache = new Map<string | undefined, boolean>();
    return (d) => {
      if (runnable !== undefined && (this.data.runnable[d] === 1) !== runnable) return false;
      const e = this.entries[d]!;
      if (sources && !e.sources.some((s) => sources.has(s.source))) return false;
      if (category !== undefined) {
        let ok = categoryCache.get(e.category);
        if (ok === undefined) categoryCache.set(e.category, (ok = categoryMatches(e.category, category)));
        if (!ok) return false;
      }
      return !visible || visible(e);
    };
  }
}

function round3(x: number): number {
  return Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;
}

interface Ranked {
  d: number;
  s: number;
  id: string;
}

/** a ranks below b: lower score, or the same score and a later id (a stable order for ties). */
function worse(a: Ranked, b: Ranked): boolean {
  return a.s < b.s || (a.s === b.s && a.id > b.id);
}

/** Keeps the k best without sorting every candidate: a binary heap with the worst kept item on top. */
class TopK {
  private readonly h: Ranked[] = [];
  constructor(private readonly k: number) {}

  push(d: number, s: number, id: string): void {
    const h = this.h;
    const item = { d, s, id };
    if (h.length < this.k) {
      h.push(item);
      for (let i = h.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!worse(h[i]!, h[parent]!)) break;
        [h[i], h[parent]] = [h[parent]!, h[i]!];
        i = parent;
      }
      return;
    }
    if (!worse(h[0]!, item)) return;
    h[0] = item;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && worse(h[l]!, h[m]!)) m = l;
      if (r < h.length && worse(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }

  sorted(): Ranked[] {
    return [...this.h].sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
  }
}
