// registry-add in one process: in `tools.expose: all` its result says how many tool definitions entered the
// client's tool list and their size in tokens; in `lazy` (nothing enters tools/list) it says nothing of the kind.
import { afterEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { runtimeTools } from '../../src/tools/registry-tools.js';
import type { ToolExposure } from '../../src/tools/lazy-tools.js';
import { fakeEntry, fakeLauncher, fakeRegistry, type FakeRegistry } from '../helpers/fake-mounts.js';

const text = (r: CallToolResult) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
const LONG = 'Searches every issue of the tracker by words, labels, assignee and state, newest first. '.repeat(6);
const OFFERS = {
  'test/small': { tools: [{ name: 'ping', description: 'Answers pong.' }] },
  'test/big': { tools: Array.from({ length: 12 }, (_, i) => ({ name: `search_issues_${i}`, description: LONG })) },
};

let reg: FakeRegistry | undefined;
afterEach(async () => {
  await reg?.close();
  reg = undefined;
});

async function add(exposure: ToolExposure, id: string) {
  reg = await fakeRegistry([fakeEntry('test/small'), fakeEntry('test/big')], fakeLauncher(OFFERS).launcher, (m) => runtimeTools(m, exposure));
  const r = (await reg.client.callTool({ name: 'registry-add', arguments: { id } })) as CallToolResult;
  expect(r.isError, text(r)).toBeFalsy();
  return r;
}

describe('registry-add: what the added tools cost', () => {
  it('in all mode reports the tool count and a token size that grows with the definitions', async () => {
    const small = (await add('all', 'test/small')).structuredContent as { toolCount: number; tokens: number };
    await reg!.close();
    const bigResult = await add('all', 'test/big');
    const big = bigResult.structuredContent as { toolCount: number; tokens: number; tools: unknown[] };
    expect(small.toolCount).toBe(1);
    expect(big.toolCount).toBe(12);
    expect(small.tokens).toBeGreaterThan(3);
    // A real tokenizer: far fewer tokens than characters, far more than a word count of the descriptions alone.
    const chars = JSON.stringify(big.tools).length;
    expect(big.tokens).toBeLessThan(chars / 2);
    expect(big.tokens).toBeGreaterThan(12 * LONG.split(' ').length * 0.8);
    expect(text(bigResult)).toContain(`12 tool definitions added to your tool list: ${big.tokens} tokens.`);
  });

  it('in lazy mode says nothing about tokens: no definition entered the tool list', async () => {
    const r = await add('lazy', 'test/big');
    expect(r.structuredContent).not.toHaveProperty('tokens');
    expect(r.structuredContent).not.toHaveProperty('toolCount');
    expect(text(r)).not.toContain('tokens');
  });
});
