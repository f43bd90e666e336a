// The yardstick: what a typical project gets from plain fuse.js over the same entries (weighted keys, the usual
// threshold, location ignored). Benchmarks and relevance tests compare the real index against it; not part of the
// package.
import Fuse from 'fuse.js';

export class FuseBaseline {
  /** @param {Fuse<any>} fuse */
  constructor(fuse) {
    this.fuse = fuse;
  }

  /** @param {any[]} entries Entry objects (src/model/entry.ts) */
  static build(entries) {
    return new FuseBaseline(
      new Fuse(entries, {
        keys: [
          { name: 'name', weight: 3 },
          { name: 'nativeName', weight: 3 },
          { name: 'tags', weight: 2 },
          { name: 'tools.name', weight: 2 },
          { name: 'description', weight: 1 },
        ],
        threshold: 0.4,
        ignoreLocation: true,
        includeScore: true,
      }),
    );
  }

  /**
   * Hits in the shape of the real index's SearchHit.
   * @param {string} query
   * @param {number} limit
   * @returns {{ entry: any, score: number }[]}
   */
  search(query, limit) {
    return this.fuse.search(query, { limit }).map((r) => ({ entry: r.item, score: Math.round((1 - (r.score ?? 1)) * 1000) / 1000 }));
  }
}
