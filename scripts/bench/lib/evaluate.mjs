// Relevance of a ranking over a labelled query set (test/fixtures/docker-queries.json): used by the relevance
// tests and the search benchmark so both report the same numbers. Not part of the package (only tests and
// benchmarks use it).

/**
 * @typedef {{ q: string, kind: string, relevant: string[] }} LabelledQuery
 *   `relevant`: ids a user would be happy to see in the top k; empty = the query must return nothing.
 * @typedef {{ q: string, kind: string, relevant: string[], got: string[], recall: number, reciprocalRank: number }} QueryOutcome
 *   `recall`: share of the relevant ids in the top k (of at most k of them); `reciprocalRank`: 1 / rank of the
 *   first relevant id, 0 when none is returned.
 * @typedef {{ k: number, recallAtK: number, mrr: number, emptyWhenNoMatch: number, outcomes: QueryOutcome[] }} Evaluation
 *   `recallAtK` and `mrr`: means over queries that have relevant ids; `emptyWhenNoMatch`: share of no-match
 *   queries answered with no results.
 */

/**
 * @param {(q: string, limit: number) => string[]} search
 * @param {LabelledQuery[]} queries
 * @param {number} [k]
 * @returns {Evaluation}
 */
export function evaluate(search, queries, k = 5) {
  /** @type {QueryOutcome[]} */
  const outcomes = [];
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
