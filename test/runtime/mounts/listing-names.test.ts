// Prompt names and resource URIs/names of mounted servers stay valid, unique and in a stable order whatever the
// children send (issue 14 point 7): fake children in this process, the registry's MCP server, a real SDK client.
import { afterEach, describe, expect, it } from 'vitest';
import { runtimeTools } from '../../../src/tools/registry-tools.js';
import { TOOL_NAME } from '../../../src/model/naming.js';
import { fakeEntry, fakeLauncher, fakeRegistry, type FakeRegistry } from '../../helpers/fake-mounts.js';

const LONG = 'p'.repeat(200);
const HOSTILE_PROMPTS = ['summarise', 'summarise', '', 'résumé ✓', LONG, 'with space', 'a__b', 'résumé_'];
const HOSTILE_RESOURCES = [
  { uri: 'file:///notes/a.txt', name: 'notes' },
  { uri: 'file:///notes/a.txt', name: 'duplicate uri' },
  { uri: 'file:///notes/b.txt', name: 'notes' },
  { uri: '', name: '' },
  { uri: 'file:///ünïcode/ファイル.txt', name: 'ファイル' },
  { uri: `file:///${'x'.repeat(200)} with spaces\n`, name: LONG },
  { uri: '~h/looks-like-a-stand-in', name: 'sneaky' },
];

let reg: FakeRegistry | undefined;
afterEach(async () => {
  await reg?.close();
  reg = undefined;
});

async function twoMounts() {
  // The first mount answers its lists last: the order must still be the mounts' order.
  const fake = fakeLauncher({
    'test/slow': { tools: [{ name: 'noop' }], prompts: HOSTILE_PROMPTS, resources: HOSTILE_RESOURCES, listDelayMs: 150 },
    'test/fast': { tools: [{ name: 'noop' }], prompts: ['summarise', ''], resources: [{ uri: 'file:///notes/a.txt', name: 'notes' }] },
  });
  reg = await fakeRegistry([fakeEntry('test/slow'), fakeEntry('test/fast')], fake.launcher, (m) => runtimeTools(m));
  for (const id of ['test/slow', 'test/fast']) await reg.client.callTool({ name: 'registry-add', arguments: { id } });
  return reg.client;
}

describe('names of mounted prompts and resources', () => {
  it('prompts: valid, unique (a repeated name listed once), in mount order, and each one gets its own prompt', async () => {
    const client = await twoMounts();
    const names = (await client.listPrompts()).prompts.map((p) => p.name);
    for (const n of names) expect(n).toMatch(TOOL_NAME);
    expect(new Set(names).size).toBe(names.length);
    // 7 distinct names from the slow mount (the repeat dropped), then the fast one's 2.
    expect(names).toHaveLength(9);
    expect(names.slice(0, 7).every((n) => n.startsWith('slow__'))).toBe(true);
    expect(names.slice(7).every((n) => n.startsWith('fast__'))).toBe(true);
    expect(names[0]).toBe('slow__summarise');
    // The same list again: the same names in the same order.
    expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(names);
    // Every mounted name reaches the child's own prompt.
    const asked = await Promise.all(names.slice(0, 7).map(async (name) => ((await client.getPrompt({ name })).messages[0]!.content as { text: string }).text));
    expect(asked).toEqual(['summarise', '', 'résumé ✓', LONG, 'with space', 'a__b', 'résumé_'].map((n) => `prompt ${n}`));
  });

  it('resources: unique plain-text URIs the registry maps back, unique valid names, in mount order', async () => {
    const client = await twoMounts();
    const resources = (await client.listResources()).resources;
    const uris = resources.map((r) => r.uri);
    const names = resources.map((r) => r.name);
    expect(new Set(uris).size).toBe(uris.length);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(TOOL_NAME);
    // Plain URI text: no spaces, controls or non-ASCII characters.
    for (const u of uris) expect(u).toMatch(/^mcp-registry:\/\/[a-z0-9-]+\/[\x21-\x7e]*$/);
    // The duplicate URI listed once: 6 from the slow mount, then the fast one's.
    expect(uris).toHaveLength(7);
    expect(uris.slice(0, 6).every((u) => u.startsWith('mcp-registry://slow/'))).toBe(true);
    expect(uris[6]).toBe('mcp-registry://fast/file:///notes/a.txt');
    // A plain URI is kept as it was; each one reads the child's own resource.
    expect(uris[0]).toBe('mcp-registry://slow/file:///notes/a.txt');
    const read = await Promise.all(uris.slice(0, 6).map(async (uri) => ((await client.readResource({ uri })).contents[0] as { text: string }).text));
    const expected = HOSTILE_RESOURCES.filter((r, i) => HOSTILE_RESOURCES.findIndex((x) => x.uri === r.uri) === i).map((r) => `resource ${r.uri}`);
    expect(read).toEqual(expected);
    expect((await client.listResources()).resources.map((r) => r.uri)).toEqual(uris);
  });
});
