/**
 * Relevance of a ranking over a labelled query set (test/fixtures/docker-queries.json): used by the relevance
 * tests and the search benchmark so both report the same numbers.
 */
export interface LabelledQuery {
  q: string;
  kind: string;
  /** Ids a user would be happy to see in the top k; empty = the query must return nothing. */
  relevant: string[];
}

export interface QueryOutcome {
  q: string;
  kind: string;
  relevant: string[];
  got: string[];
  /** Share of the relevant ids in the top k (of at most k of them). */
  recall: number;
  /** 1 / rank of the first relevant id, 0 when none is returned. */
  reciprocalRank: number;
}

export interface Evaluation {
  k: number;
  /** Mean over queries that have relevant ids. */
  recallAtK: number;
  mrr: number;
  /** Share of no-match queries answered with no results. */
  emptyWhenNoMatch: number;
  outcomes: QueryOutcome[];
}

export function evaluate(search: (q: string, limit: number) => string[], queries: LabelledQuery[], k = 5): Evaluation {
  const outcomes: QueryOutcome[] = [];
  let recallSum = 0;
  let rrSum = 0;
  let labelled = 0;
  let none = 0;
  let emptyOk = 0;
  for (const lq of queries) {
    const got = search(lq.q, Math.max(k, 10));
    const top = got.slice(0, k);
    const rel = new Set(lq.relevant);
    let recall = 0;
    let rr = 0;
    if (rel.size) {
      recall = top.filter((id) => rel.has(id)).length / Math.min(rel.size, k);
      const first = got.findIndex((id) => rel.has(id));
      rr = first >= 0 ? 1 / (first + 1) : 0;
      recallSum += recall;
      rrSum += rr;
      labelled++;
    } else {
      none++;
      if (!got.length) emptyOk++;
    }
    outcomes.push({ q: lq.q, kind: lq.kind, relevant: lq.relevant, got: top, recall, reciprocalRank: rr });
  }
  return {
    k,
    recallAtK: labelled ? recallSum / labelled : 0,
    mrr: labelled ? rrSum / labelled : 0,
    emptyWhenNoMatch: none ? emptyOk / none : 1,
    outcomes,
  };
}
