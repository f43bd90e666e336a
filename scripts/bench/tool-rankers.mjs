// Tool-level rankers compared on the labelled tool queries (test/fixtures/tool-queries.json), used by the tool
// bench (scripts/bench/tools.mjs) and the relevance test so both report the same figures:
//  - ours: ToolIndex (dist/search/tool-index.js);
//  - by server: the server search (SearchIndex), each hit server's tools in the order a plain BM25 puts them;
//  - plain BM25 over tool text (name + description), no stemming, synonyms or server text.
// A result id is "<entry id>::<tool name>".

const K1 = 1.2;
const B = 0.75;

const words = (text) => (text ?? '').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);

/** Plain Okapi BM25 over documents of words. */
export function plainBm25(docs) {
  const postings = new Map();
  const lens = docs.map((d) => d.length);
  const avg = lens.reduce((s, l) => s + l, 0) / Math.max(1, docs.length) || 1;
  docs.forEach((d, i) => {
    const tf = new Map();
    for (const w of d) tf.set(w, (tf.get(w) ?? 0) + 1);
    for (const [w, c] of tf) {
      let p = postings.get(w);
      if (!p) postings.set(w, (p = []));
      p.push([i, c]);
    }
  });
  const n = docs.length;
  return (query) => {
    const scores = new Map();
    for (const w of new Set(words(query))) {
      const p = postings.get(w);
      if (!p) continue;
      const idf = Math.log(1 + (n - p.length + 0.5) / (p.length + 0.5));
      for (const [i, c] of p) scores.set(i, (scores.get(i) ?? 0) + (idf * c * (K1 + 1)) / (c + K1 * (1 - B + (B * lens[i]) / avg)));
    }
    return [...scores].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  };
}

const toolText = (t) => [...words(t.name), ...words(t.description)];

/** The three rankers over these entries; each maps (query, limit) → result ids, best first. */
export function toolRankers(entries, { ToolIndex, SearchIndex }) {
  const flat = [];
  for (const e of entries) for (const t of e.tools) flat.push({ id: `${e.id}::${t.name}`, entry: e.id, tool: t });
  const bm25 = plainBm25(flat.map((f) => toolText(f.tool)));
  const tools = ToolIndex.build(entries);
  const servers = SearchIndex.build(entries);
  return {
    ours: (q, limit) => tools.search(q, { limit }).map((h) => `${h.entry.id}::${h.tool.name}`),
    byServer: (q, limit) => {
      const bm = new Map(bm25(q).map(([i, s]) => [flat[i].id, s]));
      const out = [];
      for (const { entry } of servers.search(q, { limit })) {
        const own = entry.tools.map((t) => `${entry.id}::${t.name}`);
        // Stable sort: tools the words do not touch stay in declared order after those they do.
        own.sort((a, b) => (bm.get(b) ?? 0) - (bm.get(a) ?? 0));
        out.push(...own);
        if (out.length >= limit) break;
      }
      return out.slice(0, limit);
    },
    bm25: (q, limit) => bm25(q).slice(0, limit).map(([i]) => flat[i].id),
  };
}

/** The labelled set in evaluate()'s shape (relevant ids "<entry id>::<tool name>"). */
export function labelledToolQueries(fixture) {
  return fixture.queries.map((x) => ({ q: x.q, kind: x.kind, relevant: x.relevant.map(([s, t]) => `${s}::${t}`) }));
}
