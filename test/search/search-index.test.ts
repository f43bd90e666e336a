import { describe, expect, it } from 'vitest';
import { EntrySchema, normalizeEntry, type Entry, type EntryInput } from '../../src/model/entry.js';
import { boundedDistance } from '../../src/util/edit-distance.js';
// @ts-expect-error -- plain .mjs benchmark helpers without type declarations
import { evaluate } from '../../scripts/bench/lib/evaluate.mjs';
// @ts-expect-error -- plain .mjs benchmark helpers without type declarations
import { FuseBaseline } from '../../scripts/bench/lib/fuse-baseline.mjs';
import { SearchIndex } from '../../src/search/search-index.js';
import { indexWords, queryWords, termOf } from '../../src/search/tokenize.js';
// @ts-expect-error plain ESM script without types
import { syntheticEntries } from '../../scripts/synthetic-catalog.mjs';

const synth = syntheticEntries as (n: number, seed?: number) => EntryInput[];

function entry(source: string, name: string, fields: Partial<EntryInput> = {}): Entry {
  return normalizeEntry({
    id: `${source}/${name}`,
    nativeName: name,
    name,
    sources: [{ source, id: `${source}/${name}` }],
    ...fields,
  });
}
const image = { launch: [{ type: 'image' as const, image: 'mcp/x' }] };
const ids = (hits: { entry: Entry }[]) => hits.map((h) => h.entry.id);

/** A small catalog with the traps a ranking must avoid. */
const catalog: Entry[] = [
  entry('docker', 'slack', { name: 'Slack', description: 'Interact with Slack workspaces: post messages, read channels.', category: 'communication', ...image }),
  entry('docker', 'waystation', { name: 'WayStation', description: 'Connect AI to Notion, Slack, Asana, Monday.com and 50 other tools.', category: 'productivity', ...image }),
  entry('docker', 'kubernetes', { name: 'Kubernetes', description: 'Connect to a Kubernetes cluster and manage it.', tags: ['kubernetes', 'devops'], category: 'devops', ...image }),
  entry('docker', 'prisma-postgres', { name: 'Prisma Postgres', description: 'Access PostgreSQL databases through Prisma.', tags: ['database', 'postgres'], category: 'database', ...image }),
  entry('mcpservers', 'someone/pg-mcp', { name: 'pg-mcp', description: 'Run read-only SQL queries against a PostgreSQL database.', category: 'database' }),
  entry('mcpservers', 'acme/postgres-admin', { name: 'Postgres Admin', description: 'Administer Postgres clusters: vacuum, roles, backups.', category: 'database' }),
  entry('docker', 'github-official', {
    name: 'GitHub Official',
    description: 'Official GitHub MCP server.',
    tools: [{ name: 'create_issue', description: 'Create a new issue in a repository' }, { name: 'list_pull_requests' }],
    category: 'version-control',
    ...image,
  }),
  entry('docker', 'gmail', { name: 'Gmail', description: 'Read and send email over IMAP/SMTP.', tools: [{ name: 'sendMessage' }, { name: 'listMessages' }], category: 'communication', ...image }),
  entry('docker', 'time', { name: 'Time (Reference)', description: 'Time and timezone conversion capabilities.', ...image }),
  entry('docker', 'browser', { name: 'Browser Rendering', description: 'Fetch web pages, convert them to markdown and take screenshots.', ...image }),
];
const index = SearchIndex.build(catalog);

describe('tokenize', () => {
  it('splits camelCase, snake_case and kebab-case, keeping the whole word too', () => {
    expect(indexWords('NuGetPackageSearch')).toEqual(expect.arrayContaining(['nugetpackagesearch', 'nu', 'get', 'package', 'search', 'nuget']));
    expect(indexWords('list_pull_requests kubectl-mcp-server')).toEqual(['list', 'pull', 'requests', 'kubectl', 'mcp', 'server']);
    expect(indexWords('MCPServer DynamoDB')).toEqual(expect.arrayContaining(['mcpserver', 'mcp', 'server', 'dynamodb', 'dynamo', 'db']));
    expect(queryWords('Send a Slack message!')).toEqual(['send', 'a', 'slack', 'message']);
    expect(queryWords('Café 東京 🚀 naïve')).toEqual(['café', '東京', 'naïve']);
  });

  it('sends inflections and common abbreviations to one term', () => {
    const same = (...words: string[]) => expect(new Set(words.map(termOf)).size).toBe(1);
    same('database', 'databases', 'db');
    same('postgres', 'postgresql', 'pg');
    same('kubernetes', 'k8s');
    same('query', 'queries', 'querying');
    same('scrape', 'scraping', 'scraped');
    same('generate', 'generation');
    same('image', 'images', 'img');
    expect(termOf('post')).not.toBe(termOf('postgres'));
    expect(termOf('status')).toBe('status');
  });

  it('treats words that are also Object.prototype members as plain words', () => {
    expect(termOf('constructor')).toBe('constructor');
    const idx = SearchIndex.build([entry('x', 'proto', { description: 'constructor toString hasOwnProperty __proto__' })]);
    expect(ids(idx.search('constructor'))).toEqual(['x/proto']);
  });
});

describe('boundedDistance', () => {
  it('counts a swap of neighbours as one edit and stops past the bound', () => {
    expect(boundedDistance('kubernets', 'kubernetes', 2)).toBe(1);
    expect(boundedDistance('githbu', 'github', 2)).toBe(1);
    expect(boundedDistance('slak', 'slack', 1)).toBe(1);
    expect(boundedDistance('abc', 'abc', 0)).toBe(0);
    expect(boundedDistance('zzzqqq', 'slack', 2)).toBe(3);
    expect(boundedDistance('', 'ab', 2)).toBe(2);
    expect(boundedDistance('a'.repeat(100), 'b'.repeat(100), 3)).toBe(4);
  });
});

describe('SearchIndex', () => {
  it('is case-insensitive', () => {
    expect(ids(index.search('SLACK'))).toEqual(ids(index.search('slack')));
    expect(ids(index.search('slack'))[0]).toBe('docker/slack');
  });

  it('ranks a server named by the query above one that only mentions it', () => {
    const hits = index.search('slack');
    expect(ids(hits).slice(0, 2)).toEqual(['docker/slack', 'docker/waystation']);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
  });

  it('understands natural-language requests', () => {
    expect(ids(index.search('send a slack message'))[0]).toBe('docker/slack');
    expect(ids(index.search('query a postgres database')).slice(0, 3).sort()).toEqual(['docker/prisma-postgres', 'mcpservers/acme/postgres-admin', 'mcpservers/someone/pg-mcp']);
    expect(ids(index.search('take a screenshot of a web page'))[0]).toBe('docker/browser');
    expect(ids(index.search('convert time between timezones'))[0]).toBe('docker/time');
  });

  it('corrects misspellings against its own vocabulary', () => {
    expect(ids(index.search('kubernets'))[0]).toBe('docker/kubernetes');
    expect(ids(index.search('kubernets pods'))[0]).toBe('docker/kubernetes');
    expect(ids(index.search('slak'))[0]).toBe('docker/slack');
    expect(ids(index.search('postgress'))).toContain('docker/prisma-postgres');
    expect(ids(index.search('githbu'))[0]).toBe('docker/github-official');
  });

  it('completes an unfinished last word but not a finished one', () => {
    expect(ids(index.search('kuber'))[0]).toBe('docker/kubernetes');
    expect(ids(index.search('prisma postg'))[0]).toBe('docker/prisma-postgres');
    expect(index.search('kuber ')).toEqual([]);
  });

  it('finds servers by tool name, whatever the spelling of the name', () => {
    expect(ids(index.search('create_issue'))[0]).toBe('docker/github-official');
    expect(ids(index.search('create issue'))[0]).toBe('docker/github-official');
    expect(ids(index.search('sendMessage'))[0]).toBe('docker/gmail');
    expect(ids(index.search('send_message'))[0]).toBe('docker/gmail');
  });

  it('returns nothing rather than noise', () => {
    expect(index.search('zzzqqq xylophone')).toEqual([]);
    expect(index.search('')).toEqual([]);
    expect(index.search('   ')).toEqual([]);
    expect(index.search('?!… —')).toEqual([]);
    expect(index.search('🚀')).toEqual([]);
  });

  it('applies filters before taking the top k', () => {
    // Unfiltered, mcpservers entries share the top; limit 1 with a filter must still give a docker one.
    expect(ids(index.search('postgres', { limit: 1, filters: { sources: ['docker'] } }))).toEqual(['docker/prisma-postgres']);
    expect(ids(index.search('postgres', { limit: 2, filters: { runnable: false } })).sort()).toEqual(['mcpservers/acme/postgres-admin', 'mcpservers/someone/pg-mcp']);
    expect(ids(index.search('postgres', { limit: 5, filters: { runnable: true } }))).toEqual(['docker/prisma-postgres']);
    expect(ids(index.search('slack', { filters: { category: 'productivity' } }))).toEqual(['docker/waystation']);
    // Category synonyms go through the shared category vocabulary ("db" is the database category).
    expect(ids(index.search('postgres', { filters: { category: 'db' } }))).toHaveLength(3);
    expect(index.search('postgres', { filters: { category: 'no-such-category' } })).toEqual([]);
    expect(index.search('postgres', { filters: { sources: ['official'] } })).toEqual([]);
    // An empty sources list is no filter.
    expect(index.search('postgres', { filters: { sources: [] } })).toHaveLength(3);
  });

  it('applies a visibility predicate (policy) before taking the top k', () => {
    const all = ids(index.search('postgres', { limit: 3 }));
    const hidden = new Set(all.slice(0, 2));
    expect(ids(index.search('postgres', { limit: 1, filters: { visible: (e) => !hidden.has(e.id) } }))).toEqual([all[2]]);
  });

  it('gives scores between 0 and 1, best first, and respects the limit', () => {
    const hits = index.search('database postgres', { limit: 2 });
    expect(hits).toHaveLength(2);
    for (const h of hits) expect(h.score).toBeGreaterThan(0);
    for (const h of hits) expect(h.score).toBeLessThanOrEqual(1);
    expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[1]!.score);
    expect(index.search('postgres', { limit: 0 })).toHaveLength(1);
    expect(index.search('postgres', { limit: Number.NaN })).toHaveLength(3);
    expect(index.search('postgres', { limit: 10_000 })).toHaveLength(3);
  });

  it('orders ties the same way every time', () => {
    const twins = ['b', 'a', 'c'].map((n) => entry('x', n, { name: 'Twin', description: 'identical' }));
    const idx = SearchIndex.build(twins);
    expect(ids(idx.search('identical'))).toEqual(['x/a', 'x/b', 'x/c']);
  });

  it('copes with an empty catalog and with long or odd queries', () => {
    const empty = SearchIndex.build([]);
    expect(empty.size).toBe(0);
    expect(empty.search('slack')).toEqual([]);
    expect(index.size).toBe(catalog.length);
    expect(ids(index.search(`${'please '.repeat(60)}slack`))).toEqual([]); // only the first 24 words count
    expect(ids(index.search('slack '.repeat(80)))[0]).toBe('docker/slack');
    expect(index.search('the and of')).toEqual([]);
  });

  it('keeps the index consistent with the entries it was built from', () => {
    const big = synth(2_000, 3).map((e) => normalizeEntry(e));
    const idx = SearchIndex.build([...catalog, ...big]);
    expect(idx.size).toBe(catalog.length + 2_000);
    expect(ids(idx.search('kubernetes', { filters: { sources: ['docker'] } }))[0]).toBe('docker/kubernetes');
    for (const h of idx.search('postgres database', { limit: 50 })) {
      const text = `${h.entry.name} ${h.entry.nativeName} ${h.entry.description} ${h.entry.tags.join(' ')}`.toLowerCase();
      expect(text).toMatch(/postgre|database|db|pg/);
    }
  });
});

describe('SearchIndex.toBuffer / SearchIndex.load', () => {
  const entries = [...catalog, ...synth(1_500, 4).map((e) => normalizeEntry(e))];
  const built = SearchIndex.build(entries);
  const bytes = built.toBuffer('catalog-2026-01-01');
  const queries = ['send a slack message', 'kubernets', 'kuber', 'create_issue', 'postgres database', 'zzzqqq', 'data'];

  it('loads an index that answers exactly like the one it was saved from', () => {
    const loaded = SearchIndex.load(entries, bytes, 'catalog-2026-01-01');
    expect(loaded).toBeDefined();
    expect(loaded!.size).toBe(entries.length);
    for (const q of queries) {
      for (const filters of [undefined, { sources: ['docker'] }, { runnable: false, category: 'database' }]) {
        expect(loaded!.search(q, { limit: 20, filters }), q).toEqual(built.search(q, { limit: 20, filters }));
      }
    }
    // An odd byte offset (a Buffer sliced out of a bigger one) loads too.
    const shifted = Buffer.concat([Buffer.from([0]), bytes]).subarray(1);
    expect(SearchIndex.load(entries, shifted, 'catalog-2026-01-01')?.search('slack')).toEqual(built.search('slack'));
  });

  it('refuses bytes that belong to other entries, another stamp, or are damaged', () => {
    expect(SearchIndex.load(entries, bytes, 'catalog-2026-01-02')).toBeUndefined();
    expect(SearchIndex.load(entries.slice(1), bytes, 'catalog-2026-01-01')).toBeUndefined();
    expect(SearchIndex.load([...entries].reverse(), bytes, 'catalog-2026-01-01')).toBeUndefined();
    const renamed = entries.map((e, i) => (i === 3 ? { ...e, id: 'docker/renamed' } : e));
    expect(SearchIndex.load(renamed, bytes, 'catalog-2026-01-01')).toBeUndefined();
    expect(SearchIndex.load(entries, bytes.subarray(0, bytes.length - 10), 'catalog-2026-01-01')).toBeUndefined();
    expect(SearchIndex.load(entries, bytes.subarray(0, 30), 'catalog-2026-01-01')).toBeUndefined();
    expect(SearchIndex.load(entries, new Uint8Array(0), 'catalog-2026-01-01')).toBeUndefined();
    expect(SearchIndex.load(entries, Buffer.from('{"not":"an index"}'), 'catalog-2026-01-01')).toBeUndefined();
    const corrupt = Buffer.from(bytes);
    corrupt.fill(0xff, corrupt.length - 5000, corrupt.length - 4000);
    expect(SearchIndex.load(entries, corrupt, 'catalog-2026-01-01')).toBeUndefined();
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(flipped.length / 2)]! ^= 1;
    expect(SearchIndex.load(entries, flipped, 'catalog-2026-01-01')).toBeUndefined();
  });
});

describe('FuseBaseline', () => {
  it('is a plain fuzzy search over the same entries', () => {
    const fuse = FuseBaseline.build(catalog);
    expect(ids(fuse.search('slack', 3))).toContain('docker/slack');
    for (const h of fuse.search('postgres', 5)) expect(h.score).toBeGreaterThanOrEqual(0);
  });
});

describe('syntheticEntries', () => {
  it('is deterministic, valid and varied', () => {
    const a = synth(500, 9);
    expect(synth(500, 9)).toEqual(a);
    expect(synth(500, 10)).not.toEqual(a);
    expect(new Set(a.map((e) => (e.id as string).toLowerCase())).size).toBe(500);
    for (const e of a) {
      expect(() => EntrySchema.parse(e)).not.toThrow();
      expect(e.id).toMatch(/^mcpservers\/[a-z0-9-]+\/[a-z0-9-]+$/);
      expect(e.repository).toBe(`https://github.com/${(e.id as string).slice('mcpservers/'.length)}`);
    }
    expect(new Set(a.map((e) => e.category)).size).toBeGreaterThan(10);
    expect(new Set(a.map((e) => e.description)).size).toBe(500);
  });
});

describe('evaluate', () => {
  it('computes Recall@k, MRR and empty answers to no-match queries', () => {
    const answers: Record<string, string[]> = { a: ['x', 'r1', 'y'], b: ['r2'], c: [], none: ['noise'] };
    const ev = evaluate((q) => answers[q] ?? [], [
      { q: 'a', kind: 'nl', relevant: ['r1', 'r9'] },
      { q: 'b', kind: 'nl', relevant: ['r2'] },
      { q: 'c', kind: 'nl', relevant: ['r3'] },
      { q: 'none', kind: 'none', relevant: [] },
    ]);
    expect(ev.recallAtK).toBeCloseTo((0.5 + 1 + 0) / 3);
    expect(ev.mrr).toBeCloseTo((0.5 + 1 + 0) / 3);
    expect(ev.emptyWhenNoMatch).toBe(0);
  });
});
