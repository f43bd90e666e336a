// Learned tool lists (issue 14 point 1): the tools a server listed when it ran are found by tool search after it
// stopped, from a fresh registry process's store too, although the catalog declares none.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LearnedTools } from '../../src/store/learned-tools.js';
import { runtimeTools } from '../../src/tools/registry-tools.js';
import { learnedTool, ToolFinder } from '../../src/tools/tool-find.js';
import { fakeEntry, fakeLauncher, fakeRegistry } from '../helpers/fake-mounts.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'learned-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Declares no tools: only a start tells what it has.
const ENTRY = fakeEntry('test/ledger');
const OFFER = {
  'test/ledger': {
    tools: [
      { name: 'balance_of_account', description: 'The current balance of a bank account.', annotations: { readOnlyHint: true, title: 'Balance' } },
      { name: 'transfer_money', description: `Moves money between two accounts. ${'Long text. '.repeat(100)}` },
    ],
  },
};

describe('learned tool lists', () => {
  it('a server started once and stopped since: tool search finds its tools (origin learned), from a fresh store too', async () => {
    const learned = new LearnedTools(join(dir, 'state'));
    await learned.load();
    const finder = (l: LearnedTools) => new ToolFinder({ all: () => [ENTRY], hooks: {}, learned: () => l.all() });
    expect(finder(learned).find('account balance', 3)).toEqual([]);

    const fake = fakeLauncher(OFFER);
    const reg = await fakeRegistry([ENTRY], fake.launcher, (m) => runtimeTools(m), { dir, onToolsSeen: (id, seen) => learned.record(id, seen.map(learnedTool)) });
    try {
      await reg.client.callTool({ name: 'registry-add', arguments: { id: 'test/ledger' } });
      await reg.client.callTool({ name: 'registry-remove', arguments: { id: 'test/ledger' } });
    } finally {
      await reg.close();
    }
    await learned.flush();

    // Another process: only the file.
    const fresh = new LearnedTools(join(dir, 'state'));
    await fresh.load();
    const [hit] = finder(fresh).find('account balance', 3);
    expect(hit).toMatchObject({ tool: 'ledger__balance_of_account', name: 'balance_of_account', id: 'test/ledger', running: false, origin: 'learned' });
    const kept = fresh.all().get('test/ledger')!;
    expect(kept.map((t) => t.name)).toEqual(['balance_of_account', 'transfer_money']);
    // Kept compact: annotations the registry acts on, a bounded description.
    expect(kept[0]!.annotations).toEqual({ readOnlyHint: true });
    expect(kept[1]!.description!.length).toBeLessThanOrEqual(500);
  });

  it('a torn file is an empty store, not an error; the next start writes it again', async () => {
    await (await import('node:fs/promises')).mkdir(join(dir, 'state'));
    await writeFile(join(dir, 'state', 'learned-tools.json'), '{"test/ledger": {"tools": [');
    const learned = new LearnedTools(join(dir, 'state'));
    await learned.load();
    expect(learned.all().size).toBe(0);
    learned.record('test/ledger', [{ name: 'balance_of_account' }]);
    await learned.flush();
    const again = new LearnedTools(join(dir, 'state'));
    await again.load();
    expect([...again.all().keys()]).toEqual(['test/ledger']);
  });
});
