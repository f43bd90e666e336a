/** Tool-level search: single tools across the catalog ranked by BM25F with their server's text, running or not. */
import type { Entry, ToolInfo } from '../model/entry.js';
import { derivePrefix, Namer } from '../model/naming.js';
import { ConceptTable } from './concepts.js';
import { compactSchema } from './compact-schema.js';
import { Dictionary, FieldPostingsBuilder, type FieldPostings, type FieldSpec } from './field-postings.js';
import { nameCore, qualityPrior } from './index-builder.js';
import { parseQuery, type ParsedQuery } from './query.js';
import { round3, TopK } from './search-index.js';
import { compact, termOf } from './tokenize.js';
import { Vocabulary } from './vocabulary.js';

/*
 * Tool-level search: ranks single tools across the whole catalog, whether or not their server runs. A tool's text
 * (name, description, argument names and descriptions) is scored with BM25F; its server's own text (name, tags and
 * category, description) adds what the tool leaves unsaid ("kubernetes" is in the server's name, not in get_pods).
 * Query reading (synonyms, everyday concepts, typo tolerance) is the server index's (query.ts), plus a few
 * action verbs tools name differently ("open a pull request" → create_pull_request).
 */

/** Where a tool list came from, most trusted first: the running server, an earlier start, the catalog. */
export type ToolOrigin = 'live' | 'learned' | 'declared';

/** A mounted server's tool: its own name, and the exact name it is mounted under. */
export type LiveTool = ToolInfo & { callable?: string };

export interface ToolSources {
  /** Tools of mounted servers, by entry id, as their servers list them now. */
  live?: ReadonlyMap<string, readonly LiveTool[]>;
  /** Tools seen when a server was started before (kept with the pins), by entry id. */
  learned?: ReadonlyMap<string, readonly ToolInfo[]>;
  /** The prefix a mounted server's tools carry, by entry id; other servers get their derived prefix. */
  prefixes?: ReadonlyMap<string, string>;
}

export interface ToolHit {
  entry: Entry;
  tool: ToolInfo;
  /** The name to call: `<prefix>__<tool>` as the runtime names it once the server is mounted. */
  callable: string;
  origin: ToolOrigin;
  /** 0..1, higher is better; comparable within one query only. */
  score: number;
}

export interface ToolSearchOptions {
  limit?: number;
  /** Only tools of entries this accepts (policy, sources, runnable…); a refused entry never takes a top-k place. */
  filter?: (entry: Entry) => boolean;
}

// Tool fields
const T_NAME = 0;
const T_DESC = 1;
const T_ARGS = 2;
const TOOL_FIELDS: FieldSpec[] = [
  { weight: 3, b: 0.3 },
  { weight: 1.2, b: 0.6 },
  { weight: 0.5, b: 0.5 },
];
// Server fields
const S_NAME = 0;
const SERVER_FIELDS: FieldSpec[] = [
  { weight: 3, b: 0.2 },
  { weight: 1.5, b: 0.3 },
  { weight: 0.6, b: 0.7 },
];
const K1 = 1.2;
/** A query word only the server's text has counts this much of what it would in the tool's own text. */
const SERVER_SHARE = 0.45;
/** Every query word is in the tool's name ("create pull request"). */
const ALL_IN_NAME_BOOST = 1.3;
/** The whole query is the tool's name ("get_pods"). */
const EXACT_NAME_BOOST = 1.5;
/** The query names the server ("post to a slack channel"): its tools come before others that merely say "post". */
const NAMED_SERVER_BOOST = 1.25;
const RELATIVE_CUTOFF = 0.08;
/** A word in more than this share of tools (and at least COMMON_MIN_DF) is common: it ranks, it does not select. */
const COMMON_SHARE = 0.02;
const COMMON_MIN_DF = 200;
const MAX_LIMIT = 200;
/** Words per argument description indexed: enough for what it is, not a manual. */
const ARG_DESC_CHARS = 160;
/** Several words none known as typed (each only a typo away from something) are noise: answered with nothing. */
const UNKNOWN_QUERY_MIN_COVERAGE = 0.999;

/** Verbs of a request and the words tool names use for them (weights as in concepts.ts). */
const ACTIONS = new ConceptTable([
  ['open, make, add, new, start', 'create:0.8'],
  ['show, see, view, read, fetch, find, look up', 'get:0.7 list:0.5 search:0.4'],
  ['remove, erase, drop, destroy', 'delete:0.8'],
  ['change, modify, edit, rename', 'update:0.8'],
  ['run, launch', 'execute:0.8 run'],
  ['post, send, write', 'send:0.8 post:0.8 create:0.4'],
  ['look for, lookup', 'search:0.8 find:0.6'],
]);

interface ToolDoc {
  entry: number;
  tool: ToolInfo;
  origin: ToolOrigin;
}

export class ToolIndex {
  private readonly docs: ToolDoc[] = [];
  private readonly dict = new Dictionary();
  private readonly tools: FieldPostings;
  private readonly servers: FieldPostings;
  private readonly vocab: Vocabulary;
  /** tools of entry e are docs[toolStart[e] .. toolStart[e+1]) */
  private readonly toolStart: Int32Array;
  private readonly prior: Float64Array;
  private readonly callables: string[];
  // Scratch, reused by every (synchronous) search.
  private readonly acc: Float64Array;
  private readonly covered: Float64Array;
  private readonly groupMask: Int32Array;
  private readonly nameWords: Uint8Array;
  private readonly wordScore: Float64Array;
  private readonly wordName: Uint8Array;
  private readonly touched: Int32Array;
  private readonly wordTouched: Int32Array;
  private serverScores: Float64Array[] = [];
  /** per server: 0 not named, 1 a name word matched (check), 2 named, 3 not named after all */
  private readonly serverNamed: Uint8Array;
  private readonly allowedMark: Uint8Array;
  /** the entry of each tool, flat (the hot loops read it for every candidate) */
  private readonly docEntry: Int32Array;
  private readonly marked: number[] = [];
  private readonly scoredDoc: Int32Array;
  private readonly scoredVal: Float64Array;

  private constructor(
    private readonly entries: readonly Entry[],
    sources: ToolSources,
  ) {
    const toolB = new FieldPostingsBuilder(this.dict, TOOL_FIELDS);
    const serverB = new FieldPostingsBuilder(this.dict, SERVER_FIELDS);
    this.toolStart = new Int32Array(entries.length + 1);
    this.prior = new Float64Array(entries.length);
    this.callables = [];
    const takenPrefixes = new Set(sources.prefixes?.values() ?? []);
    for (const [e, entry] of entries.entries()) {
      this.toolStart[e] = this.docs.length;
      this.prior[e] = qualityPrior(entry);
      serverB.text(entry.name);
      serverB.text(entry.nativeName.slice(entry.nativeName.lastIndexOf('/') + 1));
      serverB.endField();
      for (const t of entry.tags) serverB.text(t);
      serverB.text(entry.category);
      serverB.endField();
      serverB.text(entry.description);
      serverB.endDoc();
      const [origin, list] = pick(entry.id, entry.tools, sources);
      if (!list.length) continue;
      // A server not mounted yet gets the prefix the runtime would derive for it; a clash with a mounted one
      // is settled the way the runtime settles it, by a numbered suffix.
      const prefix = sources.prefixes?.get(entry.id) ?? derivePrefix(entry.nativeName, (p) => takenPrefixes.has(p));
      const namer = new Namer(prefix);
      namer.assign(list.map((t) => t.name));
      for (const tool of list) {
        this.docs.push({ entry: e, tool, origin });
        this.callables.push((tool as LiveTool).callable ?? namer.mounted(tool.name)!);
        toolB.text(tool.name);
        toolB.endField();
        toolB.text(tool.description);
        toolB.endField();
        for (const [arg, desc] of argTexts(tool.inputSchema)) {
          toolB.text(arg);
          toolB.text(desc);
        }
        toolB.endDoc();
      }
    }
    this.toolStart[entries.length] = this.docs.length;
    this.tools = toolB.finish();
    this.servers = serverB.finish();
    // Document frequencies for query reading: a word's rarity among tools, or among servers when no tool says it.
    const df = new Int32Array(this.dict.terms.length);
    for (let t = 0; t < df.length; t++) df[t] = this.tools.df[t]! || this.servers.df[t]!;
    this.vocab = new Vocabulary(this.dict.surface, df, this.dict.terms);
    this.queryDf = df;
    const n = this.docs.length;
    this.acc = new Float64Array(n);
    this.covered = new Float64Array(n);
    this.groupMask = new Int32Array(n);
    this.nameWords = new Uint8Array(n);
    this.wordScore = new Float64Array(n);
    this.wordName = new Uint8Array(n);
    this.touched = new Int32Array(n);
    this.wordTouched = new Int32Array(Math.max(n, entries.length));
    this.serverNamed = new Uint8Array(entries.length);
    this.allowedMark = new Uint8Array(entries.length);
    this.docEntry = Int32Array.from(this.docs, (x) => x.entry);
    this.scoredDoc = new Int32Array(n);
    this.scoredVal = new Float64Array(n);
  }

  private readonly queryDf: Int32Array;

  /** An index over every tool of these entries: live tools where mounted, else learned ones, else declared ones. */
  static build(entries: readonly Entry[], sources: ToolSources = {}): ToolIndex {
    return new ToolIndex(entries, sources);
  }

  /** How many tools are indexed. */
  get size(): number {
    return this.docs.length;
  }

  search(query: string, opts: ToolSearchOptions = {}): ToolHit[] {
    const limit = Number.isFinite(opts.limit) ? Math.max(1, Math.min(MAX_LIMIT, Math.floor(opts.limit!))) : 10;
    if (!this.docs.length) return [];
    const { groups, unmatched } = this.parse(query);
    if (!groups.length) return [];
    // Most selective word first: once it has found candidates, very common words ("get", "list") only add to them
    // instead of making every tool a candidate (a MaxScore-like cut: a tool with only those words ranks low anyway).
    const gs = groups
      .slice(0, 30)
      .map((g) => ({ g, df: g.alts.reduce((m, a) => Math.min(m, this.tools.df[a.term]! || Infinity), Infinity) }))
      .sort((a, b) => a.df - b.df)
      .map((x) => x.g);
    const G = gs.length;
    const commonDf = Math.max(COMMON_MIN_DF, this.docs.length * COMMON_SHARE);
    const { idf, start, pDoc, pTf, pMask } = this.tools;
    const sv = this.servers;
    // A word's worth: its best spelling's idf among tools (servers' idf when no tool says it).
    const idfOf = (t: number) => (this.tools.df[t]! ? idf[t]! : sv.idf[t]!);
    const worth = gs.map(({ alts }) => alts.reduce((m, a) => Math.max(m, a.weight * idfOf(a.term)), 0));
    const totalWorth = worth.reduce((s, w) => s + w, 0);
    while (this.serverScores.length < G) this.serverScores.push(new Float64Array(this.entries.length));
    const { acc, covered, groupMask, nameWords, wordScore, wordName, touched, wordTouched, serverNamed, docEntry } = this;
    const serverTouched: number[][] = [];
    let nTouched = 0;
    try {
      for (let g = 0; g < G; g++) {
        const alts = gs[g]!.alts;
        // The server side: each server's best spelling score for this word.
        const ss = this.serverScores[g]!;
        const sTouched: number[] = [];
        serverTouched.push(sTouched);
        for (const { term, weight, related } of alts) {
          const w = weight * sv.idf[term]!;
          for (let p = sv.start[term]!, end = sv.start[term + 1]!; p < end; p++) {
            const e = sv.pDoc[p]!;
            if (this.toolStart[e] === this.toolStart[e + 1]) continue;
            const tf = sv.pTf[p]!;
            const s = (w * tf) / (K1 + tf);
            if (ss[e] === 0) sTouched.push(e);
            if (s > ss[e]!) ss[e] = s;
            if (!related && sv.pMask[p]! & (1 << S_NAME)) serverNamed[e] = 1;
          }
        }
        // The tool side.
        let nWord = 0;
        const restrict = nTouched > 0;
        for (const { term, weight } of alts) {
          const w = weight * idf[term]!;
          const onlyKnown = restrict && this.tools.df[term]! > commonDf;
          for (let p = start[term]!, end = start[term + 1]!; p < end; p++) {
            const d = pDoc[p]!;
            if (onlyKnown && groupMask[d] === 0 && wordScore[d] === 0) continue;
            const tf = pTf[p]!;
            const s = (w * tf) / (K1 + tf);
            if (wordScore[d] === 0) wordTouched[nWord++] = d;
            if (s > wordScore[d]!) wordScore[d] = s;
            if (pMask[p]! & (1 << T_NAME)) wordName[d] = 1;
          }
        }
        for (let i = 0; i < nWord; i++) {
          const d = wordTouched[i]!;
          if (groupMask[d] === 0) touched[nTouched++] = d;
          // The word in the tool's own text, or its server's, whichever says it more.
          acc[d]! += Math.max(wordScore[d]!, SERVER_SHARE * ss[docEntry[d]!]!);
          covered[d]! += worth[g]!;
          groupMask[d]! |= 1 << g;
          nameWords[d]! += wordName[d]!;
          wordScore[d] = 0;
          wordName[d] = 0;
        }
      }
      // No tool says any of the words: the tools of the servers that do ("kubernetes" → the kubectl server's tools).
      if (nTouched === 0) {
        for (let g = 0; g < G; g++) {
          for (const e of serverTouched[g]!) {
            for (let d = this.toolStart[e]!; d < this.toolStart[e + 1]!; d++) if (groupMask[d] === 0) { touched[nTouched++] = d; groupMask[d] = 1 << 30; }
          }
        }
      }
      const allowed = opts.filter;
      const { allowedMark } = this;
      const { marked } = this;
      const q = compact(query);
      const queryTerms = new Set<number>();
      for (const g of groups) for (const a of g.alts) if (!a.related) queryTerms.add(a.term);
      let best = 0;
      let bestCoverage = 0;
      const { scoredDoc, scoredVal } = this;
      let nScored = 0;
      for (let i = 0; i < nTouched; i++) {
        const d = touched[i]!;
        const e = docEntry[d]!;
        // 0 unknown, 1 allowed, 2 refused: the filter runs once per server per search.
        if (allowedMark[e] === 0) {
          allowedMark[e] = !allowed || allowed(this.entries[e]!) ? 1 : 2;
          marked.push(e);
        }
        if (allowedMark[e] === 2) continue;
        let raw = acc[d]!;
        let cov = covered[d]!;
        const mask = groupMask[d]!;
        for (let g = 0; g < G; g++) {
          if (mask & (1 << g)) continue;
          const s = this.serverScores[g]![e]!;
          if (s > 0) {
            raw += SERVER_SHARE * s;
            cov += worth[g]!;
          }
        }
        const coverage = cov / totalWorth;
        if (coverage > bestCoverage) bestCoverage = coverage;
        let s = raw * (0.25 + 0.75 * coverage * coverage);
        if (nameWords[d] === G) {
          s *= ALL_IN_NAME_BOOST;
          if (compact(this.docs[d]!.tool.name) === q) s *= EXACT_NAME_BOOST;
        }
        if (serverNamed[e] === 1) serverNamed[e] = this.namesServer(e, queryTerms) ? 2 : 3;
        if (serverNamed[e] === 2) s *= NAMED_SERVER_BOOST;
        s *= this.prior[e]!;
        if (s > best) best = s;
        scoredDoc[nScored] = d;
        scoredVal[nScored++] = s;
      }
      if (groups.length + unmatched > 1 && !groups.some((g) => g.known) && (unmatched > 0 || bestCoverage < UNKNOWN_QUERY_MIN_COVERAGE)) return [];
      const top = new TopK(limit);
      for (let k = 0; k < nScored; k++) if (scoredVal[k]! >= best * RELATIVE_CUTOFF) top.push(scoredDoc[k]!, scoredVal[k]!, scoredDoc[k]!);
      return top.sorted().map(({ d, s }) => {
        const doc = this.docs[d]!;
        return { entry: this.entries[doc.entry]!, tool: doc.tool, callable: this.callables[d]!, origin: doc.origin, score: round3(1 - Math.exp((-1.5 * s) / totalWorth)) };
      });
    } finally {
      for (const e of this.marked) this.allowedMark[e] = 0;
      this.marked.length = 0;
      for (let i = 0; i < nTouched; i++) {
        const d = touched[i]!;
        acc[d] = 0;
        covered[d] = 0;
        groupMask[d] = 0;
        nameWords[d] = 0;
      }
      for (let g = 0; g < serverTouched.length; g++) {
        for (const e of serverTouched[g]!) {
          this.serverScores[g]![e] = 0;
          serverNamed[e] = 0;
        }
      }
    }
  }

  /** The entry and tool a callable name stands for (registry-exec of a server not running yet). */
  lookup(callable: string): { entry: Entry; tool: ToolInfo; origin: ToolOrigin } | undefined {
    this.byCallable ??= new Map(this.callables.map((c, d) => [c, d]));
    const d = this.byCallable.get(callable);
    if (d === undefined) return undefined;
    const doc = this.docs[d]!;
    return { entry: this.entries[doc.entry]!, tool: doc.tool, origin: doc.origin };
  }
  private byCallable?: Map<string, number>;

  /** The compact input schema of a hit's tool (what a model needs to call it; the server checks the rest). */
  static compactInput(tool: ToolInfo): Record<string, unknown> | undefined {
    return compactSchema(tool.inputSchema);
  }

  /** Every core word of the server's name is among the query's words. */
  private namesServer(e: number, terms: ReadonlySet<number>): boolean {
    const core = nameCore(this.entries[e]!.name).map((w) => this.dict.termIds.get(termOf(w)));
    return core.length > 0 && core.every((t) => t !== undefined && terms.has(t));
  }

  private parse(query: string): ParsedQuery {
    return parseQuery(query, { termIds: this.dict.termIds, surface: this.dict.surface, df: this.queryDf, vocab: this.vocab }, { extra: (w, i) => ACTIONS.at(w, i) });
  }
}

/** The most trusted tool list known for an entry. */
function pick(id: string, declared: readonly ToolInfo[], s: ToolSources): [ToolOrigin, readonly ToolInfo[]] {
  const live = s.live?.get(id);
  if (live) return ['live', live];
  const learned = s.learned?.get(id);
  if (learned?.length) return ['learned', learned];
  return ['declared', declared];
}

/** (argument name, short description) of a schema's top-level properties. */
function argTexts(schema: unknown): Array<[string, string]> {
  if (typeof schema !== 'object' || schema === null) return [];
  const props = (schema as { properties?: unknown }).properties;
  if (typeof props !== 'object' || props === null) return [];
  return Object.entries(props as Record<string, unknown>).map(([name, p]) => {
    const d = typeof p === 'object' && p !== null ? (p as { description?: unknown }).description : undefined;
    return [name, typeof d === 'string' ? d.slice(0, ARG_DESC_CHARS) : ''];
  });
}
