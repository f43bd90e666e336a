/** Parsing a query into word groups with alternatives: corrections, completions, compounds, concepts. */
import { conceptAt, type Concept } from './concepts.js';
import { isDomainStopword, isStopword, queryWords, termOf } from './tokenize.js';
import type { Vocabulary } from './vocabulary.js';

/*
 * A query as the indexes score it: for each meaningful word (or everyday phrase), the index terms that may stand
 * for it, each with a weight — as typed, a synonym, an everyday concept's catalog words, typo corrections,
 * completions of an unfinished last word, closed compounds. Shared by the server index (search-index.ts) and the
 * tool index (tool-index.ts), so both read a query the same way.
 */

/** A word corrected by one edit counts a bit less than the word typed; more edits less again. */
const TYPO_WEIGHT = [1, 0.8, 0.6, 0.45];
/** Completions of an unfinished last word ("kuber" → kubernetes). */
const PREFIX_WEIGHT = 0.75;
const MAX_PREFIX_EXPANSIONS = 12;
/** A closed compound that starts with the word typed ("files" → filesystem). */
const COMPOUND_WEIGHT = 0.6;
/** A known word this rare may itself be a typo present in some description: also try corrections. */
const RARE_DF = 2;
const MAX_QUERY_WORDS = 24;

export interface Alt {
  term: number;
  weight: number;
  /** A word an everyday concept relates to the query's: it says what the user means, not what they named. */
  related?: boolean;
  /** A concept's word for a kind of server (concepts.ts "#"): in a server's tags, the query names its kind. */
  kind?: boolean;
}

export interface QueryGroup {
  alts: Alt[];
  /**
   * Some alternative is the word as typed (or its synonym, or a word of an everyday concept) and is in the index;
   * false when the group only matches through corrections or completions — the weakest evidence a query has.
   */
  known: boolean;
}

/** What a query is read against: one index's dictionary. */
export interface QueryDictionary {
  /** index term → term id */
  termIds: ReadonlyMap<string, number>;
  /** surface word → term id */
  surface: ReadonlyMap<string, number>;
  /** documents per term id */
  df: ArrayLike<number>;
  vocab: Vocabulary;
}

export interface ParseOptions {
  /** Extra everyday concepts (e.g. the tool index's action verbs), tried after the shared ones. */
  extra?: (words: readonly string[], i: number) => Concept | undefined;
}

export interface ParsedQuery {
  groups: QueryGroup[];
  /** Meaningful words (not stopwords) that matched nothing in the index, not even as a typo. */
  unmatched: number;
}

/** Query → for each meaningful word or phrase, its alternative terms. */
export function parseQuery(query: string, dict: QueryDictionary, opts: ParseOptions = {}): ParsedQuery {
  const all = queryWords(query).slice(0, MAX_QUERY_WORDS);
  if (!all.length) return { groups: [], unmatched: 0 };
  // The last word may be unfinished when the query does not end with a space or punctuation.
  const partialLast = /[\p{L}\p{N}]$/u.test(query);
  // Everyday phrases are matched on the words as typed, stopwords included ("on call", "out loud").
  const items: Array<{ word: string; concept?: Concept; last: boolean }> = [];
  for (let i = 0; i < all.length; ) {
    const c = conceptAt(all, i) ?? opts.extra?.(all, i);
    if (c) {
      items.push({ word: all.slice(i, i + c.length).join(' '), concept: c, last: i + c.length === all.length });
      i += c.length;
    } else {
      items.push({ word: all[i]!, last: i === all.length - 1 });
      i++;
    }
  }
  // Stopwords say nothing about a server ("the and of" finds nothing); catalog boilerplate ("mcp server for x")
  // goes too unless it is all the query has.
  let kept = items.filter((it) => it.concept || !isStopword(it.word));
  const specific = kept.filter((it) => it.concept || !isDomainStopword(it.word));
  if (specific.length) kept = specific;
  // A concept said twice ("an SMS text message") is one group, like a word typed twice.
  const seen = new Set<string | number>();
  const groups: QueryGroup[] = [];
  let unmatched = 0;
  for (const it of kept) {
    const key = it.concept?.row ?? it.word;
    if (seen.has(key)) continue;
    seen.add(key);
    const g = it.concept ? expandConcept(it.word, it.concept, dict) : expandWord(it.word, partialLast && it.last, dict);
    if (g.alts.length) groups.push(g);
    else unmatched++;
  }
  // A concept's related word that the query also typed is that word's, not the concept's: "trade stocks" must not
  // count "trading" twice (once typed, once as a relative of stocks).
  const typed = new Set<number>();
  for (const g of groups) for (const a of g.alts) if (a.weight === 1 && !a.related) typed.add(a.term);
  for (const g of groups) if (g.alts.some((a) => a.related)) g.alts = g.alts.filter((a) => !a.related || !typed.has(a.term));
  return { groups: groups.filter((g) => g.alts.length), unmatched };
}

function collector(): { alts: Map<number, Alt>; add: (term: number | undefined, weight: number, flags?: { related?: boolean; kind?: boolean }) => void } {
  const alts = new Map<number, Alt>();
  return {
    alts,
    add: (term, weight, flags) => {
      if (term === undefined) return;
      const had = alts.get(term);
      // At equal weight the word as typed wins over the same word as a concept's relative.
      if (had && !(had.weight < weight || (had.weight === weight && had.related && !flags?.related))) return;
      const alt: Alt = { term, weight };
      if (flags?.related) alt.related = true;
      if (flags?.kind || had?.kind) alt.kind = true;
      alts.set(term, alt);
    },
  };
}

const toAlts = (alts: Map<number, Alt>): Alt[] => [...alts.values()];

/** One word: as typed, then corrections when it is unknown or rare, completions when unfinished, compounds. */
function expandWord(word: string, partial: boolean, dict: QueryDictionary): QueryGroup {
  const { termIds, surface, df, vocab } = dict;
  const { alts, add } = collector();
  const own = termIds.get(termOf(word));
  add(own, 1);
  const ownDf = own === undefined ? 0 : df[own]!;
  if (ownDf <= RARE_DF && word.length >= 4 && !/^\d+$/.test(word)) {
    for (const c of vocab.correct(word)) {
      const t = surface.get(c.word)!;
      // A known-but-rare word is only second-guessed by a much more common neighbour.
      if (own !== undefined && df[t]! < 5 * Math.max(1, ownDf)) continue;
      add(t, TYPO_WEIGHT[c.dist]! * (own === undefined ? 1 : 0.8));
    }
  }
  if (partial && own === undefined && word.length >= 3) {
    for (const w of vocab.completions(word, MAX_PREFIX_EXPANSIONS)) add(surface.get(w), PREFIX_WEIGHT);
  }
  if (word.length >= 4) for (const w of vocab.compounds(word)) add(surface.get(w), COMPOUND_WEIGHT);
  return { alts: toAlts(alts), known: own !== undefined };
}

/**
 * An everyday phrase: its catalog words at their weights, and the phrase's own words as typed (never corrected:
 * a phrase recognised is not a typo).
 */
function expandConcept(phrase: string, concept: Concept, dict: QueryDictionary): QueryGroup {
  const { alts, add } = collector();
  let known = false;
  for (const { word, weight, kind } of concept.words) {
    const t = dict.termIds.get(termOf(word));
    if (t !== undefined) known = true;
    add(t, weight, { related: true, kind });
  }
  for (const w of phrase.split(' ')) {
    if (isStopword(w)) continue;
    const t = dict.termIds.get(termOf(w));
    if (t !== undefined) known = true;
    add(t, concept.ownWeight);
  }
  return { alts: toAlts(alts), known };
}
