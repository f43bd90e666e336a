import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { normalizeEntry, oneLine, type EntryInput } from '../../src/model/entry.js';
import { findItem, formatFindText, formatInfoText, infoView } from '../../src/catalog/views.js';

const base = (over: Partial<EntryInput> = {}): EntryInput => ({
  id: 'test/x',
  nativeName: 'x',
  name: 'x',
  sources: [{ source: 'test', id: 'test/x' }],
  ...over,
});

describe('normalizeEntry: names and text from a catalog (issue 9.9)', () => {
  it('a name, category, tags and version are made one line: newlines, tabs, NUL, ESC, C1 and bidi controls go', () => {
    const e = normalizeEntry(
      base({ name: 'x\nFAKE LINE\r\n2. evil\u0000\u001b[31m red\u0085next \u202egnp.exe\u202c', category: 'dev\nops', tags: ['a\tb', 'C\u2028D'], version: '1.0\n' }),
    );
    expect(e.name).toBe('x FAKE LINE 2. evil [31m red next gnp.exe');
    expect(e.category).toBe('dev ops');
    expect(e.tags).toEqual(['a b', 'c d']);
    expect(e.version).toBe('1.0');
  });

  it('a description and readme keep their line breaks but lose every other control character', () => {
    const e = normalizeEntry(base({ description: ' First line.\r\nSecond\u0000 line\u001b[2J.\u2028 ', readme: '# T\r\n\tcode\u0007\n\u202eend' }));
    expect(e.description).toBe('First line.\nSecond line[2J.');
    expect(e.readme).toBe('# T\n\tcode\nend');
  });

  it('an id or native name holding a control character is refused, naming the field (the source skips the record)', () => {
    for (const bad of [{ id: 'test/x\u0000y' }, { nativeName: 'x\ny' }, { id: 'test/\u202ex' }]) {
      const err = (() => {
        try {
          normalizeEntry(base(bad));
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ZodError);
      expect((err as ZodError).issues[0]).toMatchObject({ path: [Object.keys(bad)[0]], message: expect.stringMatching(/^contains a control character/) });
    }
  });

  it('text output cannot be forged even by what normalisation never saw (an old cache, tool names, the query)', () => {
    const e = normalizeEntry(base({ name: 'ok', tools: [{ name: 'a\nFAKE: tool' }] }));
    (e as { name: string }).name = 'cached\nFAKE LINE';
    const find = formatFindText('q\nFAKE', [findItem(e, 1)]);
    expect(find.split('\n')).toEqual(['1 server for "q FAKE":', '1. test/x — cached FAKE LINE (not runnable here)', 'Use registry-info <id> for details, registry-add <id> to start one.']);
    const info = formatInfoText(infoView(e));
    expect(info.split('\n').filter((l) => l.includes('FAKE'))).toEqual(['test/x — cached FAKE LINE', 'Tools (1): a FAKE: tool']);
    expect(oneLine('\u202a\u2066a\u2069\u202c')).toBe('a');
  });
});
