/** Server search: BM25F scores, query coverage, name and tool-name bonuses, policy filters, top-k hits. */
import type { Entry } from '../model/entry.js';
import { categoryMatches } from '../model/categories.js';
import { buildIndexData, F_CATEGORY, F_NAME, F_TAGS, F_TOOLS, nameCore, type IndexData } from './index-builder.js';
import { decodeIndex, encodeIndex } from './index-file.js';
import { parseQuery, type ParsedQuery } from './query.js';
import { compact, termOf } from './tokenize.js';
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
/**
 * The query names the entry's kind: a word an everyday phrase means exactly ("project tracker" → project-management,
 * "text message" → sms) is one of its tags or its category. Like naming the entry, only weaker: the user said what
 * sort of server, and the rest of the query says what to do with it.
 */
const KIND_BOOST = 1.4;
const KIND_MIN_COVERAGE = 0.6;
const KIND_FIELDS = (1 << F_TAGS) | (1 << F_CATEGORY);

/** Results scoring below this share of the best one are noise, not answers. */
const RELATIVE_CUTOFF = 0.08;
const MAX_LIMIT = 1000;
/**
 * A query of several words none of which is known as typed (each a typo correction or completion, or nothing at
 * all) is noise that happens to sit a few edits from real words ("flimsy gardon tortle bakery") unless one entry
 * has every corrected word: answered with nothing. A real misspelling ("postgrse databse") still finds its entry.
 */
const UNKNOWN_QUERY_MIN_COVERAGE = 0.999;

export class SearchIndex {
  private readonly vocab: Vocabulary;
  // Scratch space reused by every search (search is synchronous, so never shared between two calls).
  private readonly acc: Float64Array;
  private readonly covered: Float64Array;
  private readonly nameWords: Uint16Array;
  private readonly toolWords: Uint16Array;
  private readonly wordScore: Float64Array;
  private readonly wordWorth: Float64Array;
  private readonly wordName: Uint8Array;
  private readonly wordTool: Uint8Array;
  private readonly wordKind: Uint8Array;
  private readonly kindWords: Uint8Array;
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
    this.wordWorth = new Float64Array(n);
    this.wordName = new Uint8Array(n);
    this.wordTool = new Uint8Array(n);
    this.wordKind = new Uint8Array(n);
    this.kindWords = new Uint8Array(n);
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
    const { groups, unmatched } = this.parse(query);
    if (!groups.length) return [];
    const { idf, start, pDoc, pTf, pMask } = this.data;

    // How much each query word is worth: its best-weighted spelling's idf.
    const worth = groups.map(({ alts }) => alts.reduce((m, a) => Math.max(m, a.weight * idf[a.term]!), 0));
    const totalWorth = worth.reduce((s, w) => s + w, 0);

    const { acc, covered, nameWords, toolWords, kindWords, wordScore, wordWorth, wordName, wordTool, wordKind, touched, wordTouched } = this;
    let nTouched = 0;
    for (let g = 0; g < groups.length; g++) {
      let nWord = 0;
      for (const { term, weight, related, kind } of groups[g]!.alts) {
        const w = weight * idf[term]!;
        // A related word in a name is not the user naming that server ("speech" is not "Carbon Voice").
        const nameBoost = related ? 1 : NAME_WORD_BOOST;
        for (let p = start[term]!, end = start[term + 1]!; p < end; p++) {
          const d = pDoc[p]!;
          const tf = pTf[p]!;
          const mask = pMask[p]!;
          const inName = related ? 0 : mask & (1 << F_NAME);
          const s = ((w * tf) / (K1 + tf)) * (inName ? nameBoost : 1);
          if (wordScore[d] === 0) wordTouched[nWord++] = d;
          if (s > wordScore[d]!) wordScore[d] = s;
          if (w > wordWorth[d]!) wordWorth[d] = w;
          if (inName) wordName[d] = 1;
          if (mask & (1 << F_TOOLS)) wordTool[d] = 1;
          if (kind && mask & KIND_FIELDS) wordKind[d] = 1;
        }
      }
      for (let i = 0; i < nWord; i++) {
        const d = wordTouched[i]!;
        if (covered[d] === 0) touched[nTouched++] = d;
        acc[d]! += wordScore[d]!;
        // Covered as far as the spelling it matched is worth: "message" covers less of "text message" than "sms".
        covered[d]! += wordWorth[d]!;
        wordWorth[d] = 0;
        nameWords[d]! += wordName[d]!;
        toolWords[d]! += wordTool[d]!;
        kindWords[d]! |= wordKind[d]!;
        wordScore[d] = 0;
        wordName[d] = 0;
        wordTool[d] = 0;
        wordKind[d] = 0;
      }
    }

    const allowed = this.filterFn(opts.filters);
    const q = compact(query);
    const all = groups.length;
    for (const { alts } of groups) for (const a of alts) this.termMark[a.term] = 1;
    const { scoredDoc, scoredVal } = this;
    let nScored = 0;
    let best = 0;
    let bestCoverage = 0;
    let i = 0;
    try {
      for (; i < nTouched; i++) {
        const d = touched[i]!;
        const raw = acc[d]!;
        const coverage = covered[d]! / totalWorth;
        const inName = nameWords[d]!;
        const inTools = toolWords[d]!;
        const kinded = kindWords[d] === 1;
        acc[d] = 0;
        covered[d] = 0;
        nameWords[d] = 0;
        toolWords[d] = 0;
        kindWords[d] = 0;
        if (!allowed(d)) continue;
        if (coverage > bestCoverage) bestCoverage = coverage;
        const named = inName > 0 && this.named(d);
        const coverageFactor = 0.25 + 0.75 * coverage * coverage;
        // Of servers of the kind asked for, the ones that also cover the rest of the query still come first.
        const kindFactor = kinded ? KIND_MIN_COVERAGE + (1 - KIND_MIN_COVERAGE) * coverageFactor : 0;
        let s = raw * (named ? Math.max(coverageFactor, NAMED_MIN_COVERAGE) : Math.max(coverageFactor, kindFactor));
        if (kinded) s *= KIND_BOOST;
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
        kindWords[d] = 0;
      }
      for (const { alts } of groups) for (const a of alts) this.termMark[a.term] = 0;
    }

    if (groups.length + unmatched > 1 && !groups.some((g) => g.known) && (unmatched > 0 || bestCoverage < UNKNOWN_QUERY_MIN_COVERAGE)) return [];
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

  /** Query → for each meaningful word or everyday phrase, its alternative terms (query.ts). */
  private parse(query: string): ParsedQuery {
    return parseQuery(query, { termIds: this.data.termIds, surface: this.data.surface, df: this.data.df, vocab: this.vocab });
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

export function round3(x: number): number {
  return Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;
}

interface Ranked {
  d: number;
  s: number;
  /** tie-breaker: the lower id ranks first */
  id: string | number;
}

/** a ranks below b: lower score, or the same score and a later id (a stable order for ties). */
function worse(a: Ranked, b: Ranked): boolean {
  return a.s < b.s || (a.s === b.s && a.id > b.id);
}

/** Keeps the k best without sorting every candidate: a binary heap with the worst kept item on top. */
export class TopK {
  private readonly h: Ranked[] = [];
  constructor(private readonly k: number) {}

  push(d: number, s: number, id: string | number): void {
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
