/** Building the server search index: fields (name, tags, tools, category, descriptions) and their weights. */
import type { Entry } from '../model/entry.js';
import { isRunnable } from '../model/entry.js';
import { joinedTag } from './concepts.js';
import { indexWords, isDomainStopword, isStopword, queryWords, termOf } from './tokenize.js';

/*
 * The index proper: BM25F postings over six fields of every entry. Per entry and term, the weighted,
 * length-normalised frequencies of all fields are summed first and saturated once at query time, so a word
 * repeated in a long description cannot outweigh the same word in the name.
 */
export const F_NAME = 0;
export const F_TAGS = 1;
export const F_TOOLS = 2;
export const F_CATEGORY = 3;
export const F_DESC = 4;
export const F_TOOLDESC = 5;
const FIELDS = 6;
/** Name above tags and tool names above descriptions (Docker's gateway: name ×4, title ×3, tools ×2, text ×1). */
const FIELD_WEIGHT = [4, 2, 2, 1.5, 1, 0.4];
/** Length normalisation per field: names are short and all alike; descriptions vary a lot. */
const FIELD_B = [0.3, 0.5, 0.6, 0, 0.75, 0.75];

/** Words that qualify a name rather than name the thing: "GitHub Official", "Slack (Archived)", "notion-remote". */
const NAME_QUALIFIERS = new Set(['official', 'reference', 'archived', 'remote', 'community', 'unofficial', 'mcp', 'server', 'client', 'api']);

export interface IndexData {
  docCount: number;
  /** term → id */
  termIds: Map<string, number>;
  /** id → term */
  terms: string[];
  /** every lower-cased surface word seen → its term id (the dictionary typo correction searches) */
  surface: Map<string, number>;
  df: Int32Array;
  idf: Float64Array;
  /** postings in CSR form: term t owns [start[t], start[t+1]) of pDoc / pTf / pMask, in entry order */
  start: Int32Array;
  pDoc: Int32Array;
  /** BM25F pseudo-frequency: Σ over fields of weight × count / length norm */
  pTf: Float32Array;
  /** bit f set when the term occurs in field f */
  pMask: Uint8Array;
  prior: Float32Array;
  runnable: Uint8Array;
}

/** The words of a name that say what it is, e.g. "Time (Reference)" → [time], "kubectl-mcp-server" → [kubectl]. */
export function nameCore(name: string): string[] {
  const words = queryWords(name.replace(/\([^)]*\)/g, ' '));
  return [...new Set(words.filter((w) => !NAME_QUALIFIERS.has(w) && !isStopword(w) && !isDomainStopword(w)))];
}

/**
 * A tiny nudge among near-equals: curated (docker) and official entries first, archived or deprecated ones last.
 * Small enough never to lift an entry over a clearly better text match.
 */
export function qualityPrior(e: Entry): number {
  let p = 1;
  if (e.official) p *= 1.04;
  if (e.sources.some((s) => s.source === 'docker')) p *= 1.03;
  const name = e.name.toLowerCase();
  if (e.status === 'deprecated' || name.includes('(archived)') || name.includes('deprecated')) p *= 0.85;
  if (e.status === 'deleted') p *= 0.5;
  return p;
}

/** BM25 inverse document frequency of every term (always > 0). */
export function idfOf(n: number, df: Int32Array): Float64Array {
  const idf = new Float64Array(df.length);
  for (let t = 0; t < df.length; t++) idf[t] = Math.log(1 + (n - df[t]! + 0.5) / (df[t]! + 0.5));
  return idf;
}

function grow<T extends Int32Array | Float64Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/**
 * Two passes: tokenise every field once into (term, field, count) triples, then — once the average field
 * lengths are known — fold each entry's triples into one pseudo-frequency per term and lay out the postings.
 * Written as small methods over typed arrays: the first build happens at start-up, before the JIT has warmed up.
 */
class Builder {
  readonly termIds = new Map<string, number>();
  readonly surface = new Map<string, number>();
  readonly terms: string[] = [];
  private termCount = 0;
  private triples = new Int32Array(1 << 16);
  private tripleLen = 0;
  private readonly docTripleStart: Int32Array;
  private readonly fieldLen: Float64Array;
  private readonly lenSum = new Float64Array(FIELDS);
  // Per-term scratch, indexed by term id and grown as terms appear.
  private df = new Int32Array(1 << 12);
  private lastDoc = new Int32Array(1 << 12);
  private count = new Int32Array(1 << 12);
  private readonly fieldTerms: number[] = [];
  private readonly words: string[] = [];
  private fieldWords = 0;

  constructor(private readonly n: number) {
    this.docTripleStart = new Int32Array(n + 1);
    this.fieldLen = new Float64Array(n * FIELDS);
    this.lastDoc.fill(-1);
  }

  intern(word: string): number {
    let id = this.surface.get(word);
    if (id !== undefined) return id;
    const t = termOf(word);
    id = this.termIds.get(t);
    if (id === undefined) {
      id = this.termCount++;
      this.termIds.set(t, id);
      this.terms.push(t);
      if (id >= this.count.length) {
        const size = this.count.length * 2;
        this.count = grow(this.count, size);
        this.df = grow(this.df, size);
        const last = new Int32Array(size).fill(-1);
        last.set(this.lastDoc);
        this.lastDoc = last;
      }
    }
    this.surface.set(word, id);
    return id;
  }

  /** Adds one text to the field being collected. */
  text(text: string): void {
    const words = this.words;
    words.length = 0;
    indexWords(text, words);
    this.fieldWords += words.length;
    for (let i = 0; i < words.length; i++) {
      const id = this.intern(words[i]!);
      if (this.count[id]++ === 0) this.fieldTerms.push(id);
    }
  }

  /** A tag or category: its words, and all of them as one word ("project-management" → projectmanagement). */
  tag(tag: string): void {
    const joined = joinedTag(tag);
    this.text(joined ? `${tag} ${joined}` : tag);
  }

  /** Closes field f of entry d: records its length and its (term, field, count) triples. */
  endField(d: number, f: number): void {
    const terms = this.fieldTerms;
    // The name field says each word once however many spellings of the name repeat it.
    const len = f === F_NAME ? terms.length : this.fieldWords;
    this.fieldWords = 0;
    this.fieldLen[d * FIELDS + f] = len;
    this.lenSum[f]! += len;
    if (this.tripleLen + terms.length * 3 > this.triples.length) {
      this.triples = grow(this.triples, Math.max(this.triples.length * 2, this.tripleLen + terms.length * 3));
    }
    const tr = this.triples;
    let k = this.tripleLen;
    for (let i = 0; i < terms.length; i++) {
      const id = terms[i]!;
      tr[k++] = id;
      tr[k++] = f;
      tr[k++] = f === F_NAME ? 1 : this.count[id]!;
      this.count[id] = 0;
      if (this.lastDoc[id] !== d) {
        this.lastDoc[id] = d;
        this.df[id]!++;
      }
    }
    this.tripleLen = k;
    terms.length = 0;
  }

  addEntry(d: number, e: Entry): void {
    this.docTripleStart[d] = this.tripleLen;
    this.text(e.nativeName);
    this.text(e.name);
    for (const a of e.aliases) this.text(a.slice(a.indexOf('/') + 1));
    this.endField(d, F_NAME);
    for (const tag of e.tags) this.tag(tag);
    this.endField(d, F_TAGS);
    for (const tool of e.tools) this.text(tool.name);
    this.endField(d, F_TOOLS);
    if (e.category) this.tag(e.category);
    this.endField(d, F_CATEGORY);
    this.text(e.description);
    this.endField(d, F_DESC);
    for (const tool of e.tools) if (tool.description) this.text(tool.description);
    this.endField(d, F_TOOLDESC);
  }

  finish(entries: Entry[]): IndexData {
    const n = this.n;
    this.docTripleStart[n] = this.tripleLen;
    const termCount = this.termCount;
    const df = this.df.slice(0, termCount);
    const start = new Int32Array(termCount + 1);
    for (let t = 0; t < termCount; t++) start[t + 1] = start[t]! + df[t]!;
    const total = start[termCount]!;
    const pDoc = new Int32Array(total);
    const pTf = new Float32Array(total);
    const pMask = new Uint8Array(total);
    const idf = idfOf(n, df);

    const avg = Array.from(this.lenSum, (s) => (n ? s / n : 0) || 1);
    const cursor = start.slice(0, termCount);
    const tf = new Float64Array(termCount);
    const mask = new Uint8Array(termCount);
    const touched = new Int32Array(termCount);
    const tr = this.triples;
    for (let d = 0; d < n; d++) {
      let m = 0;
      for (let i = this.docTripleStart[d]!, end = this.docTripleStart[d + 1]!; i < end; i += 3) {
        const t = tr[i]!;
        const f = tr[i + 1]!;
        const b = FIELD_B[f]!;
        const norm = 1 - b + (b * this.fieldLen[d * FIELDS + f]!) / avg[f]!;
        if (mask[t] === 0) touched[m++] = t;
        tf[t]! += (FIELD_WEIGHT[f]! * tr[i + 2]!) / norm;
        mask[t]! |= 1 << f;
      }
      for (let i = 0; i < m; i++) {
        const t = touched[i]!;
        const p = cursor[t]!++;
        pDoc[p] = d;
        pTf[p] = tf[t]!;
        pMask[p] = mask[t]!;
        tf[t] = 0;
        mask[t] = 0;
      }
    }

    const prior = new Float32Array(n);
    const runnable = new Uint8Array(n);
    for (let d = 0; d < n; d++) {
      prior[d] = qualityPrior(entries[d]!);
      runnable[d] = isRunnable(entries[d]!) ? 1 : 0;
    }
    return {
      docCount: n,
      termIds: this.termIds,
      terms: this.terms,
      surface: this.surface,
      df,
      idf,
      start,
      pDoc,
      pTf,
      pMask,
      prior,
      runnable,
    };
  }
}

export function buildIndexData(entries: Entry[]): IndexData {
  const b = new Builder(entries.length);
  for (let d = 0; d < entries.length; d++) b.addEntry(d, entries[d]!);
  return b.finish(entries);
}
