import { describe, expect, it } from 'vitest';
import { normalizeEntry, type Entry, type EntryInput } from '../../src/model/entry.js';
import { conceptAt, joinedTag } from '../../src/search/concepts.js';
import { parseQuery } from '../../src/search/query.js';
import { SearchIndex } from '../../src/search/search-index.js';
import { queryWords } from '../../src/search/tokenize.js';
import { Vocabulary } from '../../src/search/vocabulary.js';

/*
 * Everyday phrasing (src/search/concepts.ts, query.ts): phrases found in a query, read as the catalog's words, and the
 * server index's use of them. Relevance over the real catalog is in search-relevance.test.ts.
 */
function entry(name: string, fields: Partial<EntryInput> = {}): Entry {
  return normalizeEntry({ id: `docker/${name}`, nativeName: name, name, sources: [{ source: 'docker', id: name }], launch: [{ type: 'image', image: 'mcp/x' }], ...fields });
}
const ids = (hits: { entry: Entry }[]) => hits.map((h) => h.entry.id);

describe('everyday phrases', () => {
  it('are found on the words as typed, inflections and stopwords included, longest first', () => {
    const at = (q: string, i = 0) => conceptAt(queryWords(q), i);
    expect(at('text messages')?.length).toBe(2);
    expect(at('send a text', 0)?.length).toBe(3);
    expect(at('who is on call', 2)?.length).toBe(2);
    expect(at('read this out loud', 2)?.words.map((w) => w.word)).toContain('speech');
    // "texting" would be the term of "text": no one-word phrase may take a plain word's term
    expect(at('text')).toBeUndefined();
    expect(at('message')).toBeUndefined();
  });

  it('join tags and categories into one word, so a phrase can name a kind of server', () => {
    expect(joinedTag('project-management')).toBe('projectmanagement');
    expect(joinedTag('web scraping')).toBe('webscraping');
    expect(joinedTag('sms')).toBeUndefined();
  });
});

describe('parseQuery', () => {
  const catalog = [
    entry('telnyx', { name: 'Telnyx', description: 'Telephony and messaging APIs.', tags: ['telephony', 'sms'], category: 'communication' }),
    entry('gmail', { name: 'Gmail', description: 'Send and read email messages.', tags: ['email'], tools: [{ name: 'sendMessage' }] }),
    entry('linear', { name: 'Linear', description: 'Plan sprints and track issues.', tags: ['productivity', 'project-management', 'issue-tracking'] }),
    entry('checklist', { name: 'Checklist', description: 'A task list with projects and subtasks. Add a task, finish a task.', tags: ['tasks'] }),
    entry('zerodha', { name: 'Zerodha', description: 'Trade stocks and manage a portfolio.', tags: ['trading', 'stocks'] }),
    entry('tradebot', { name: 'Trade Bot', description: 'A trading bot.', tags: ['trading'] }),
  ];
  const index = SearchIndex.build(catalog);
  // The index's own dictionary, through the same reader the index uses.
  const dict = (index as unknown as { data: { termIds: Map<string, number>; surface: Map<string, number>; df: Int32Array; terms: string[] } }).data;
  const parse = (q: string) => parseQuery(q, { ...dict, vocab: new Vocabulary(dict.surface, dict.df, dict.terms) });
  const words = (q: string) => parse(q).groups.map((g) => g.alts.map((a) => dict.terms[a.term]).sort());

  it('reads one concept said twice as one group ("an SMS text message")', () => {
    expect(parse('sms text message').groups).toHaveLength(1);
    expect(parse('send an sms text message').groups).toHaveLength(2);
  });

  it('never counts a word the query typed a second time as a relative of another word', () => {
    // "stocks" relates to "trading", but "trade" is typed: only the trade group may hold its term
    const groups = words('trade stocks');
    expect(groups.filter((g) => g.includes('trad'))).toHaveLength(1);
  });

  it('counts words that match nothing, and marks groups that only match through corrections', () => {
    const p = parse('zerodah xqzvlk');
    expect(p.unmatched).toBe(1);
    expect(p.groups.every((g) => !g.known)).toBe(true);
    expect(parse('zerodha').groups[0]!.known).toBe(true);
  });

  it('ranks the server of the kind asked for above servers that share its verbs', () => {
    expect(ids(index.search('send an SMS text message'))[0]).toBe('docker/telnyx');
    // A task list that says "add a task" twice may come first; the tracker must be right there too.
    expect(ids(index.search('add a task to my project tracker')).slice(0, 2)).toContain('docker/linear');
    expect(ids(index.search('trade stocks'))[0]).toBe('docker/zerodha');
  });

  it('answers several typo-near words that mean nothing together with nothing, a real misspelling with its server', () => {
    expect(index.search('zerodah xqzvlk')).toEqual([]);
    expect(index.search('telnix linaer')).toEqual([]);
    expect(ids(index.search('telnix'))).toEqual(['docker/telnyx']);
    expect(ids(index.search('zerodah stoks'))[0]).toBe('docker/zerodha');
  });
});
