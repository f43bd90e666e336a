import Fuse from 'fuse.js';
import type { Entry } from '../model/entry.js';
import type { SearchHit } from './search-index.js';

/**
 * The yardstick: what a typical project gets from plain fuse.js over the same entries (weighted keys,
 * the usual threshold, location ignored). Benchmarks and relevance tests compare the real index against it.
 */
export class FuseBaseline {
  private constructor(private readonly fuse: Fuse<Entry>) {}

  static build(entries: Entry[]): FuseBaseline {
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

  search(query: string, limit: number): SearchHit[] {
    return this.fuse.search(query, { limit }).map((r) => ({ entry: r.item, score: Math.round((1 - (r.score ?? 1)) * 1000) / 1000 }));
  }
}
