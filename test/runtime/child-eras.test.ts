import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, type ChildOptions } from '../../src/runtime/child.js';
import type { EraVerdict } from '../../src/model/era.js';
import type { LogLevel } from '../../src/model/tool-contract.js';
import { createLogger } from '../../src/util/log.js';
import { repoRoot } from '../helpers/shared-data.js';

/**
 * Our client to children of both protocol eras (issue 13): a 2026-07-28 child (SDK v2, serveStdio) and a 2025 child
 * (SDK v1), each a real process over stdio. Probed once on its own process, its era reused on a restart; its
 * questions (pushed elicitation / input_required) reach the caller and the answer gets back; progress and logs
 * are forwarded; resources, prompts and completions pass through.
 */
const FIXTURES = join(repoRoot, 'test/fixtures/era-children');
const log = createLogger('test-child-eras');
const open: Child[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function traceFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'child-eras-'));
  dirs.push(d);
  return join(d, 'trace');
}
const trace = (f: string) => readFileSync(f, 'utf8').trim().split('\n');

async function start(era: 'modern' | 'legacy', o: Partial<ChildOptions> & { trace?: string } = {}): Promise<Child> {
  const env: Record<string, string> = o.trace ? { ERA_CHILD_TRACE: o.trace } : {};
  const c = await Child.start({ kind: 'stdio', command: process.execPath, args: [join(FIXTURES, `${era}.mjs`)], env, cwd: repoRoot }, { label: `test/${era}`, log, startTimeout: 20_000, callTimeout: 20_000, ...o });
  open.push(c);
  return c;
}
const text = (r: { content: unknown[] }) => (r.content[0] as { text: string }).text;

describe.each(['modern', 'legacy'] as const)('a %s-era child', (era) => {
  it('is probed once, on its own process, and a restart with the remembered era does not probe again', async () => {
    const first = traceFile();
    const c = await start(era, { trace: first });
    expect(c.verdict.era).toBe(era);
    expect(c.protocolVersion).toBe(era === 'modern' ? '2026-07-28' : '2025-11-25');
    // One process; server/discover first (a 2025 child answers "method not found" and is initialized in place).
    expect(trace(first)).toEqual(era === 'modern' ? ['start', 'server/discover', 'tools/list'] : ['start', 'server/discover', 'initialize', 'tools/list']);
    const verdict: EraVerdict = JSON.parse(JSON.stringify(c.verdict));
    await c.close();

    const second = traceFile();
    const again = await start(era, { trace: second, prior: verdict });
    expect(again.verdict.era).toBe(era);
    expect(trace(second)).toEqual(era === 'modern' ? ['start', 'tools/list'] : ['start', 'initialize', 'tools/list']);
    expect(text(await again.callTool('echo', { text: 'after restart' }))).toBe('after restart');
  });

  it('asks the caller what the child asks (elicitation), and the answer gets back to the child', async () => {
    const c = await start(era);
    const asked: string[] = [];
    const r = await c.callTool('ask', {}, {
      elicit: async (message, schema) => {
        asked.push(message);
        expect(schema).toMatchObject({ type: 'object', properties: { name: { type: 'string' } } });
        return { action: 'accept', content: { name: 'ann' } };
      },
    });
    expect(asked).toEqual([`Who are you (${era})?`]);
    expect(r.isError).toBeFalsy();
    expect(text(r)).toBe(`hello ann from ${era}`);
  });

  it('a question the caller cannot answer fails the call, saying so, instead of hanging', async () => {
    const c = await start(era);
    const t0 = Date.now();
    const r = await c.callTool('ask', {});
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/elicitation/);
    const s = await c.callTool('sample', {});
    expect(s.isError).toBe(true);
    // Sampling is declared to neither: a 2026 child is told per request and refuses to ask; a 2025 one is answered
    // "method not found" at once. Either way the call ends, naming sampling.
    expect(text(s)).toMatch(era === 'modern' ? /sampling\/createMessage.*client capabilities do not declare/ : /sampling failed: .*not found/i);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('forwards progress, and log messages at the level the caller asked for', async () => {
    const c = await start(era);
    const progress: [number, number | undefined, string | undefined][] = [];
    const logs: [LogLevel, unknown][] = [];
    const r = await c.callTool('work', {}, { onProgress: (p, t, m) => progress.push([p, t, m]), logLevel: 'info', log: (level, data) => logs.push([level, data]) });
    expect(text(r)).toBe('worked');
    expect(progress).toEqual([1, 2, 3].map((i) => [i, 3, `step ${i}`]));
    await expect.poll(() => logs.length).toBe(3);
    expect(logs).toEqual([1, 2, 3].map((step) => ['info', { step, era }]));
  });

  it('passes structured content, a resource template read, a prompt and a completion through', async () => {
    const c = await start(era);
    const echo = await c.callTool('echo', { text: 'hi' });
    expect(echo.structuredContent).toEqual({ text: 'hi', era });
    expect(c.tools.find((t) => t.name === 'echo')?.outputSchema).toMatchObject({ properties: { era: { type: 'string' } } });
    expect((await c.listResources()).templates).toEqual([{ uriTemplate: 'note://{name}', name: 'note', mimeType: 'text/plain' }]);
    const read = await c.readResource('note://alice');
    expect(read.contents).toEqual([{ uri: 'note://alice', mimeType: 'text/plain', text: `note alice (${era})` }]);
    expect(read._meta?.['io.modelcontextprotocol/serverInfo']).toBeUndefined();
    const prompt = await c.getPrompt('greet', { name: 'bob' });
    expect(prompt.messages[0]!.content).toEqual({ type: 'text', text: `greet bob (${era})` });
    expect(c.hasCompletions).toBe(true);
    const done = await c.complete({ ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'name', value: 'al' } });
    expect(done.completion).toEqual({ values: ['alice', 'albert'], total: 2, hasMore: false });
  });
});
