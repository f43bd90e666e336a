import { describe, expect, it } from 'vitest';
import { derivePrefix, Namer, prefixOf, prefixProblem, TOOL_NAME } from '../../src/model/naming.js';

describe('mounted tool names', () => {
  it('derives short prefixes from native names and never reuses a taken one', () => {
    const none = () => false;
    expect(derivePrefix('postgres', none)).toBe('postgres');
    expect(derivePrefix('io.github.acme/mcp-server-postgres', none)).toBe('postgres');
    expect(derivePrefix('com.example/Weather.MCP', none)).toBe('weather');
    expect(derivePrefix('osp_marketing_tools', none)).toBe('osp_marketing_tools');
    expect(derivePrefix('a__b', none)).toBe('a_b');
    const taken = new Set(['postgres', 'postgres-2']);
    expect(derivePrefix('postgres', (p) => taken.has(p))).toBe('postgres-3');
    const long = derivePrefix('x'.repeat(80), none);
    expect(long.length).toBeLessThanOrEqual(24);
    expect(prefixProblem(long)).toBeNull();
  });

  it('refuses prefixes that could make two mounts produce the same tool name', () => {
    expect(prefixProblem('gh')).toBeNull();
    expect(prefixProblem('my_gh-2')).toBeNull();
    for (const bad of ['a__b', '_a', 'a_', 'a.b', 'a/b', '', 'x'.repeat(25)]) expect(prefixProblem(bad)).not.toBeNull();
  });

  it('keeps valid names as they are and makes every other name valid, short, distinct and reversible', () => {
    const originals = [
      'echo',
      'get.issue',
      'get_issue',
      'get/issue',
      'a'.repeat(100),
      'a'.repeat(99) + 'b',
      'ünïcödé tool',
      'search-repositories-with-a-name-that-is-rather-long-indeed',
    ];
    const n = new Namer('github-enterprise-cloud');
    n.assign(originals);
    const mounted = originals.map((o) => n.mounted(o)!);
    expect(mounted[0]).toBe('github-enterprise-cloud__echo');
    expect(mounted[2]).toBe('github-enterprise-cloud__get_issue');
    for (const m of mounted) {
      expect(m).toMatch(TOOL_NAME);
      expect(m.length).toBeLessThanOrEqual(64);
      expect(prefixOf(m)).toBe('github-enterprise-cloud');
    }
    expect(new Set(mounted).size).toBe(originals.length);
    originals.forEach((o, i) => expect(n.original(mounted[i]!)).toBe(o));
  });

  it('gives a tool the same mounted name on every start, whatever else the server lists', () => {
    const a = new Namer('srv');
    a.assign(['get.issue', 'list']);
    const b = new Namer('srv');
    b.assign(['zzz', 'list', 'get.issue', 'another.one']);
    expect(b.mounted('get.issue')).toBe(a.mounted('get.issue'));
    expect(b.mounted('list')).toBe('srv__list');
  });

  it('never lets names of different prefixes collide, even with underscores at the seams', () => {
    const seen = new Map<string, string>();
    const prefixes = ['a', 'a_b', 'a-b', 'ab', 'b'];
    const tools = ['b__c', '_b', 'b_c', 'c', '__x', 'a_b__c'];
    for (const p of prefixes) {
      expect(prefixProblem(p)).toBeNull();
      const n = new Namer(p);
      n.assign(tools);
      for (const t of tools) {
        const m = n.mounted(t)!;
        expect(seen.get(m), `${m} from ${p}/${t} and ${seen.get(m)}`).toBeUndefined();
        seen.set(m, `${p}/${t}`);
        expect(prefixOf(m)).toBe(p);
      }
    }
  });
});
