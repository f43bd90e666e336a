import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ElicitRequestSchema, type CallToolResult, type ElicitRequest } from '@modelcontextprotocol/sdk/types.js';
import { execa } from 'execa';
import { stringify as toYaml } from 'yaml';
import { ENTRY_LABEL, INSTANCE_LABEL, Podman } from '../../../src/runtime/podman/podman.js';
import { readAudit } from '../../../src/governance/audit-read.js';
import { makeHome, startRegistry, type RunningRegistry } from '../../helpers/registry-client.js';
import { requirePodman, TINY_IMAGE } from '../../helpers/podman.js';
import { repoRoot } from '../../helpers/shared-data.js';

/**
 * Issue 10.3: the elicitation that lets an unlisted server start offers the two choices the user has — "this time"
 * (this mount, while this registry runs) and "always" (a durable approval) — stores only what was chosen, and never
 * records anything for a start that failed or was declined. The BUILT server over stdio, real containers.
 */

const CATALOG = join(repoRoot, 'test/fixtures/runtime-catalog');
const CLIENT = 'consent-test';
/** The tiny image under this file's own tag: entries with the same image would merge into one. */
const CRASHER_IMAGE = `localhost/mcp-registry-test/tiny-consent-${process.pid}:1`;
const podman = new Podman();

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

let home: string;
const registries = new Set<number>();

async function call(r: RunningRegistry, name: string, args: Record<string, unknown> = {}): Promise<Result> {
  return (await r.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
}

/**
 * A registry whose client plays the user: `answer` picks "this time", "always" or a decline for each question.
 * It answers in the shape the question asks for (a registry that asks a yes/no box gets a yes).
 */
async function startAsking(answer: () => 'this time' | 'always' | 'decline'): Promise<{ reg: RunningRegistry; asked: ElicitRequest['params'][] }> {
  const reg = await startRegistry(home, { clientName: CLIENT, capabilities: { elicitation: {} } });
  registries.add(reg.pid!);
  const asked: ElicitRequest['params'][] = [];
  reg.client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push(req.params);
    const a = answer();
    if (a === 'decline') return { action: 'decline' };
    const props = (req.params as { requestedSchema?: { properties?: Record<string, unknown> } }).requestedSchema?.properties ?? {};
    return { action: 'accept', content: 'start' in props ? { start: a } : { allow: true } };
  });
  return { reg, asked };
}

async function state(): Promise<{ approvals: Record<string, { by: string }>; pins?: Record<string, { imageId?: string; tools?: Record<string, string>; by?: string }> }> {
  return JSON.parse(await readFile(join(home, 'state', 'state.json'), 'utf8'));
}

async function approveRecords(entry: string) {
  return (await readAudit(join(home, 'state'), { entry, op: 'approve' })).records.map((r) => ({ outcome: r.outcome, choice: r.choice, client: r.client, error: r.error }));
}

beforeAll(async () => {
  home = await makeHome({
    sources: [
      { name: 'test', type: 'file', path: CATALOG },
      { name: 'gov', type: 'file', path: './gov' },
    ],
    refresh: { onStart: false },
    runtime: { startTimeout: '60s', callTimeout: '60s' },
  });
  // The tiny image with a command that exits at once: a start that fails after the user said yes.
  await mkdir(join(home, 'gov', 'servers', 'crasher'), { recursive: true });
  await writeFile(
    join(home, 'gov', 'servers', 'crasher', 'server.yaml'),
    toYaml({
      name: 'crasher',
      image: CRASHER_IMAGE,
      type: 'server',
      about: { title: 'crasher', description: 'Consent fixture whose container exits before it answers.' },
      source: { project: 'https://github.com/mcp-registry-test/crasher' },
      run: { disableNetwork: true, command: ['/usr/bin/node', '-e', 'process.exit(3)'] },
    }),
  );
  await execa('podman', ['tag', TINY_IMAGE, CRASHER_IMAGE], { cwd: '/', reject: false });
  // Nothing is trusted by default: test/stranger and gov/crasher need approval.
  await writeFile(join(home, 'policy.yaml'), toYaml({ allow: [], trust: { fileSources: false } }));
});

afterAll(async () => {
  for (const pid of registries) {
    const left = (await podman.listContainers({ [INSTANCE_LABEL]: '' }).catch(() => [])).filter((c) => (c.labels[INSTANCE_LABEL] ?? '').startsWith(`${pid}-`));
    if (left.length) await podman.remove(left.map((c) => c.id)).catch(() => {});
  }
  await execa('podman', ['rmi', '-f', CRASHER_IMAGE], { cwd: '/', reject: false });
  if (home) await rm(home, { recursive: true, force: true });
});

describe('elicitation consent (issue 10.3)', () => {
  it('"this time" starts it for this registry only; the next client connection asks again; "always" is stored and not asked again', async (ctx) => {
    await requirePodman(ctx);
    let choice: 'this time' | 'always' = 'this time';
    const first = await startAsking(() => choice);
    try {
      const added = await call(first.reg, 'registry-add', { id: 'test/stranger' });
      expect(added.isError, text(added)).toBeFalsy();
      expect(first.asked).toHaveLength(1);
      // The question offers exactly the two choices, and says what each one means.
      const q = first.asked[0]! as { message: string; requestedSchema: { properties: Record<string, { enum?: string[] }>; required?: string[] } };
      expect(q.requestedSchema.properties.start!.enum).toEqual(['this time', 'always']);
      expect(q.requestedSchema.required).toEqual(['start']);
      expect(q.message).toMatch(/test\/stranger.*"this time": start it now only.*"always": approve it for good/);
      expect(text(await call(first.reg, 'stranger__echo', { text: 'once' }))).toBe('once');
      // Nothing durable: no approval; but the pins of the start that worked guard its later starts.
      const s = await state();
      expect(s.approvals).toEqual({});
      expect(s.pins?.['test/stranger']).toMatchObject({ imageId: expect.any(String), tools: expect.objectContaining({ echo: expect.any(String) }), by: `elicitation (${CLIENT}), this time` });
      // A crash and restart in the same registry needs no new question.
      await call(first.reg, 'stranger__crash');
      await expect.poll(async () => text(await call(first.reg, 'stranger__echo', { text: 'again' })), { timeout: 30_000 }).toBe('again');
      expect(first.asked).toHaveLength(1);
      expect(await approveRecords('test/stranger')).toEqual([{ outcome: 'ok', choice: 'once', client: CLIENT, error: undefined }]);
    } finally {
      await first.reg.close();
    }

    // The next connection (a new registry process on the same home) restores the mount but does not start it:
    // its first call asks again. This time the user says "always".
    choice = 'always';
    const second = await startAsking(() => choice);
    try {
      const r = await call(second.reg, 'stranger__echo', { text: 'asked again' });
      expect(text(r)).toBe('asked again');
      expect(second.asked).toHaveLength(1);
      expect((await state()).approvals['test/stranger']).toMatchObject({ by: `elicitation (${CLIENT}), always` });
      expect((await approveRecords('test/stranger')).map((x) => x.choice)).toEqual(['once', 'always']);
    } finally {
      await second.reg.close();
    }

    // Stored: a third connection restores and starts it without asking, and registry-add does not ask either.
    const third = await startAsking(() => 'decline');
    try {
      expect(text(await call(third.reg, 'stranger__echo', { text: 'remembered' }))).toBe('remembered');
      const again = await call(third.reg, 'registry-add', { id: 'test/stranger' });
      expect(again.isError, text(again)).toBeFalsy();
      expect(third.asked).toHaveLength(0);
      await call(third.reg, 'registry-remove', { id: 'test/stranger' });
    } finally {
      await third.reg.close();
    }
  });

  it('a start that fails after "always", and a declined question, store nothing: no approval, no pins, asked again', async (ctx) => {
    await requirePodman(ctx);
    let choice: 'always' | 'decline' = 'always';
    const { reg, asked } = await startAsking(() => choice);
    try {
      const failed = await call(reg, 'registry-add', { id: 'gov/crasher' });
      expect(failed.isError, text(failed)).toBe(true);
      expect(asked).toHaveLength(1);
      let s = await state();
      expect(s.approvals['gov/crasher']).toBeUndefined();
      expect(s.pins?.['gov/crasher']).toBeUndefined();
      expect((await podman.listContainers({ [ENTRY_LABEL]: 'gov/crasher' })).filter((c) => (c.labels[INSTANCE_LABEL] ?? '').startsWith(`${reg.pid}-`))).toEqual([]);
      const [rec] = await approveRecords('gov/crasher');
      expect(rec).toMatchObject({ outcome: 'error', choice: 'always', client: CLIENT });
      expect(rec!.error).toMatch(/not started, so nothing was recorded/);

      // Not approved, so the next try asks again; declining stores nothing either.
      choice = 'decline';
      const declined = await call(reg, 'registry-add', { id: 'gov/crasher' });
      expect(declined.isError).toBe(true);
      expect(text(declined)).toMatch(/not approved.*mcp-registry allow gov\/crasher/);
      expect(asked).toHaveLength(2);
      s = await state();
      expect(s.approvals['gov/crasher']).toBeUndefined();
      expect(s.pins?.['gov/crasher']).toBeUndefined();
      expect((await approveRecords('gov/crasher')).map((x) => [x.outcome, x.choice])).toEqual([
        ['error', 'always'],
        ['refused', undefined],
      ]);
    } finally {
      await reg.close();
    }
  });
});
