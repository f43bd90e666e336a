/** The search index's term dictionary and per-field postings (weights, length normalisation). */
import { idfOf } from './index-builder.js';
import { indexWords, termOf } from './tokenize.js';

/*
 * BM25F postings over documents of a few weighted fields, for indexes other than the server index (index-builder.ts
 * is that one, tuned for entries and their saved form). Several postings can share one Dictionary, so one set of
 * term ids, one typo vocabulary and one query reading serve them all (the tool index: tools, and their servers).
 */

/** Interns surface words into index terms; shared by every FieldPostings built over it. */
export class Dictionary {
  readonly termIds = new Map<string, number>();
  readonly terms: string[] = [];
  /** every surface word seen → its term id */
  readonly surface = new Map<string, number>();

  intern(word: string): number {
    let id = this.surface.get(word);
    if (id !== undefined) return id;
    const t = termOf(word);
    id = this.termIds.get(t);
    if (id === undefined) {
      id = this.terms.length;
      this.termIds.set(t, id);
      this.terms.push(t);
    }
    this.surface.set(word, id);
    return id;
  }
}

export interface FieldSpec {
  /** how much a word here counts */
  weight: number;
  /** length normalisation, 0 (none) … 1 (full) */
  b: number;
}

export interface FieldPostings {
  docCount: number;
  /** documents per term id (every id of the shared dictionary when finished: finish builders after all text is in) */
  df: Int32Array;
  idf: Float64Array;
  /** CSR: term t owns [start[t], start[t+1]) of pDoc / pTf / pMask, in document order */
  start: Int32Array;
  pDoc: Int32Array;
  /** Σ over fields of weight × count / length norm, saturated at query time */
  pTf: Float32Array;
  /** bit f set when the term occurs in field f */
  pMask: Uint8Array;
}

/**
 * Collects documents field by field (`text` any number of times, then `endField`, fields in order, then
 * `endDoc`), then `finish` lays out the postings once the average field lengths are known.
 */
export class FieldPostingsBuilder {
  // (term, field, count) per document, flat; a document's run starts at docStart[d].
  private triples = new Int32Array(1 << 15);
  private len = 0;
  private readonly docStart: number[] = [0];
  private readonly fieldLen: number[] = [];
  private readonly lenSum: Float64Array;
  private readonly counts = new Map<number, number>();
  private readonly words: string[] = [];
  private fieldWords = 0;
  private field = 0;

  constructor(
    private readonly dict: Dictionary,
    private readonly fields: readonly FieldSpec[],
  ) {
    this.lenSum = new Float64Array(fields.length);
  }

  get docCount(): number {
    return this.docStart.length - 1;
  }

  text(text: string | undefined): void {
    if (!text) return;
    const words = this.words;
    words.length = 0;
    indexWords(text, words);
    this.fieldWords += words.length;
    for (const w of words) {
      const id = this.dict.intern(w);
      this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    }
  }

  endField(): void {
    const f = this.field++;
    this.fieldLen.push(this.fieldWords);
    this.lenSum[f]! += this.fieldWords;
    this.fieldWords = 0;
    if (this.len + this.counts.size * 3 > this.triples.length) {
      const bigger = new Int32Array(Math.max(this.triples.length * 2, this.len + this.counts.size * 3));
      bigger.set(this.triples);
      this.triples = bigger;
    }
    for (const [term, count] of this.counts) {
      this.triples[this.len++] = term;
      this.triples[this.len++] = f;
      this.triples[this.len++] = count;
    }
    this.counts.clear();
  }

  endDoc(): void {
    while (this.field < this.fields.length) this.endField();
    this.field = 0;
    this.docStart.push(this.len);
  }

  finish(): FieldPostings {
    const n = this.docCount;
    const nFields = this.fields.length;
    const termCount = this.dict.terms.length;
    const df = new Int32Array(termCount);
    const last = new Int32Array(termCount).fill(-1);
    const tr = this.triples;
    for (let d = 0; d < n; d++) {
      for (let i = this.docStart[d]!, end = this.docStart[d + 1]!; i < end; i += 3) {
        const t = tr[i]!;
        if (last[t] !== d) {
          last[t] = d;
          df[t]!++;
        }
      }
    }
    const start = new Int32Array(termCount + 1);
    for (let t = 0; t < termCount; t++) start[t + 1] = start[t]! + df[t]!;
    const total = start[termCount]!;
    const pDoc = new Int32Array(total);
    const pTf = new Float32Array(total);
    const pMask = new Uint8Array(total);
    const avg = Array.from(this.lenSum, (s) => (n ? s / n : 0) || 1);
    const cursor = start.slice(0, termCount);
    const tf = new Float64Array(termCount);
    const mask = new Uint8Array(termCount);
    const touched: number[] = [];
    for (let d = 0; d < n; d++) {
      for (let i = this.docStart[d]!, end = this.docStart[d + 1]!; i < end; i += 3) {
        const t = tr[i]!;
        const f = tr[i + 1]!;
        const { weight, b } = this.fields[f]!;
        const norm = 1 - b + (b * this.fieldLen[d * nFields + f]!) / avg[f]!;
        if (mask[t] === 0) touched.push(t);
        tf[t]! += (weight * tr[i + 2]!) / norm;
        mask[t]! |= 1 << f;
      }
      for (const t of touched) {
        const p = cursor[t]!++;
        pDoc[p] = d;
        pTf[p] = tf[t]!;
        pMask[p] = mask[t]!;
        tf[t] = 0;
        mask[t] = 0;
      }
      touched.length = 0;
    }
    return { docCount: n, df, idf: idfOf(n, df), start, pDoc, pTf, pMask };
  }
}
