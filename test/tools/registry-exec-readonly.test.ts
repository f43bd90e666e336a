// registry-exec-readonly in one process: the registry's MCP server driven by an SDK client over an in-memory pair,
// its mounts fake children (test/helpers/fake-mounts.ts) that annotate their tools as a test needs.
import { afterEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { runtimeTools } from '../../src/tools/registry-tools.js';
import { toolFinderFor, withJustInTimeExec } from '../../src/tools/jit-exec.js';
import type { ToolContext } from '../../src/model/tool-contract.js';
import { fakeEntry, fakeLauncher, fakeRegistry, type FakeRegistry } from '../helpers/fake-mounts.js';

const text = (r: CallToolResult) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

const NOTES = fakeEntry('test/notes', {
  // What the catalog declares (the server is not started in the just-in-time tests until a call needs it).
  tools: [
    { name: 'read_note', description: 'Reads a note.', annotations: { readOnlyHint: true } },
    { name: 'write_note', description: 'Writes a note.' },
  ],
});
const OFFERS = {
  'test/notes': {
    tools: [
      { name: 'read_note', description: 'Reads a note.', annotations: { readOnlyHint: true } },
      { name: 'write_note', description: 'Writes a note.' },
      { name: 'wipe_notes', description: 'Deletes every note.', annotations: { readOnlyHint: true, destructiveHint: true } },
      { name: 'list_notes', description: 'Lists notes.', annotations: { readOnlyHint: false } },
    ],
  },
};

let reg: FakeRegistry | undefined;
afterEach(async () => {
  await reg?.close();
  reg = undefined;
});

async function start() {
  const fake = fakeLauncher(OFFERS);
  reg = await fakeRegistry([NOTES], fake.launcher, (manager) => {
    const deps = {
      load: async () => {},
      all: () => [NOTES],
      mounts: manager,
      hooks: {},
      add: (id: string, ctx: ToolContext) => manager.add(id, {}, ctx),
    };
    return withJustInTimeExec(runtimeTools(manager), toolFinderFor(deps), deps);
  });
  const call = async (name: string, args: Record<string, unknown>) => (await reg!.client.callTool({ name, arguments: args })) as CallToolResult;
  return { fake, call, client: reg.client };
}

describe('registry-exec-readonly', () => {
  it('is listed as read-only itself, with registry-exec\'s input', async () => {
    const { client } = await start();
    const tools = (await client.listTools()).tools;
    const ro = tools.find((t) => t.name === 'registry-exec-readonly');
    const rw = tools.find((t) => t.name === 'registry-exec');
    expect(ro?.annotations).toMatchObject({ readOnlyHint: true });
    expect(ro?.inputSchema).toEqual(rw?.inputSchema);
  });

  it('calls a mounted tool its server marks read-only and refuses the others before the child sees them', async () => {
    const { fake, call } = await start();
    await call('registry-add', { id: 'test/notes' });
    const ok = await call('registry-exec-readonly', { tool: 'notes__read_note', arguments: { id: 1 } });
    expect(ok.isError).toBeFalsy();
    expect(text(ok)).toBe('called read_note');

    for (const [tool, why] of [
      ['notes__write_note', /does not mark it read-only/],
      ['notes__list_notes', /does not mark it read-only/],
      ['notes__wipe_notes', /both read-only and destructive/],
    ] as const) {
      const r = await call('registry-exec-readonly', { tool });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain(tool);
      expect(text(r)).toMatch(why);
      expect(text(r)).toContain('registry-exec instead');
    }
    expect(fake.calls).toEqual(['test/notes read_note']);
    // registry-exec still calls them (policy's confirmation, if any, is its business).
    expect(text(await call('registry-exec', { tool: 'notes__write_note' }))).toBe('called write_note');
  });

  it('just in time: a declared read-only tool starts its server and answers; an unmarked one starts nothing', async () => {
    const { fake, call } = await start();
    const refused = await call('registry-exec-readonly', { tool: 'notes__write_note' });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/notes__write_note.*not running and the catalog does not say whether it is read-only.*nothing was started/);
    expect(fake.started).toEqual([]);

    const ok = await call('registry-exec-readonly', { tool: 'notes__read_note' });
    expect(text(ok)).toBe('called read_note');
    expect(fake.started).toEqual(['test/notes']);
  });

  it('refuses unknown arguments like registry-exec does', async () => {
    const { call } = await start();
    const r = await call('registry-exec-readonly', { tool: 'notes__read_note', args: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/unknown argument "args".*takes: tool, arguments/);
  });
});
