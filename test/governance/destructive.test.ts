import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, type ElicitRequest } from '@modelcontextprotocol/sdk/types.js';
import { destructiveGate, isDestructive, type AnnotatedTool, type DestructiveMode } from '../../src/governance/destructive.js';
import { createRegistryServer } from '../../src/tools/mcp-server.js';
import { defineTool } from '../../src/tools/tool-def.js';

const drop: AnnotatedTool = { name: 'pg__drop_table', annotations: { destructiveHint: true, title: 'Drop a table' } };
const read: AnnotatedTool = { name: 'pg__query', annotations: { readOnlyHint: true } };
const unmarked: AnnotatedTool = { name: 'pg__vacuum' };

/**
 * The gate behind a real registry tool, called by a real MCP client over an in-memory transport; the client's
 * elicitation handler plays the user.
 */
async function callThroughServer(mode: DestructiveMode, tool: AnnotatedTool, user: ((req: ElicitRequest) => Record<string, unknown>) | null) {
  const questions: string[] = [];
  const exec = defineTool({
    name: 'registry-exec',
    title: 'exec',
    description: 'exec',
    input: z.object({ tool: z.string(), arguments: z.record(z.string(), z.unknown()).optional() }),
    async handler(args, ctx) {
      const gate = await destructiveGate(mode, tool, { entryId: 'docker/postgres', args: args.arguments, redact: (s) => s.replaceAll('s3cret-password', '[REDACTED:PGPASSWORD]') }, ctx);
      if (!gate.ok) return { text: gate.reason, isError: true };
      return { text: `ran ${args.tool}${gate.asked ? ' (confirmed)' : ''}` };
    },
  });
  const reg = createRegistryServer([exec]);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await reg.server.connect(a);
  const client = new Client({ name: 'gate-test', version: '1' }, { capabilities: user ? { elicitation: {} } : {} });
  if (user) {
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      questions.push(req.params.message);
      return user(req) as never;
    });
  }
  await client.connect(b);
  try {
    const r = await client.callTool({ name: 'registry-exec', arguments: { tool: tool.name, arguments: { table: 'users', password: 's3cret-password' } } });
    return { text: (r.content as { text: string }[])[0]!.text, isError: !!r.isError, questions };
  } finally {
    await client.close();
  }
}

describe('destructive tools under policy', () => {
  it('only an explicit destructiveHint: true counts', () => {
    expect(isDestructive(drop)).toBe(true);
    expect(isDestructive(read)).toBe(false);
    expect(isDestructive(unmarked)).toBe(false);
    expect(isDestructive({ name: 'x', annotations: { destructiveHint: false } })).toBe(false);
  });

  it('ask: the user is asked with server, tool and arguments (secrets redacted), and a yes runs it', async () => {
    const r = await callThroughServer('ask', drop, () => ({ action: 'accept', content: { confirm: true } }));
    expect(r).toMatchObject({ text: 'ran pg__drop_table (confirmed)', isError: false });
    expect(r.questions).toHaveLength(1);
    expect(r.questions[0]).toContain('pg__drop_table ("Drop a table") from docker/postgres');
    expect(r.questions[0]).toContain('"table":"users"');
    expect(r.questions[0]).toContain('[REDACTED:PGPASSWORD]');
    expect(r.questions[0]).not.toContain('s3cret-password');
  });

  it('ask: a no, a cancel or an unticked box refuses; a client without elicitation is refused without asking', async () => {
    expect(await callThroughServer('ask', drop, () => ({ action: 'decline' }))).toMatchObject({ isError: true, text: 'You declined the call to pg__drop_table (marked destructive), so it was not run.' });
    expect(await callThroughServer('ask', drop, () => ({ action: 'cancel' }))).toMatchObject({ isError: true, text: expect.stringContaining('You cancelled') });
    expect(await callThroughServer('ask', drop, () => ({ action: 'accept', content: { confirm: false } }))).toMatchObject({ isError: true, text: expect.stringContaining('You declined') });
    const mute = await callThroughServer('ask', drop, null);
    expect(mute).toMatchObject({ isError: true, text: expect.stringContaining('this client cannot ask (no elicitation support)') });
  });

  it('ask never asks about tools not marked destructive; deny refuses without asking; allow runs', async () => {
    const notAsked = await callThroughServer('ask', unmarked, () => ({ action: 'decline' }));
    expect(notAsked).toMatchObject({ text: 'ran pg__vacuum', isError: false, questions: [] });
    const denied = await callThroughServer('deny', drop, () => ({ action: 'accept', content: { confirm: true } }));
    expect(denied).toMatchObject({ isError: true, questions: [], text: expect.stringContaining('destructive: deny in policy.yaml refuses such calls') });
    expect(await callThroughServer('allow', drop, null)).toMatchObject({ text: 'ran pg__drop_table', isError: false });
  });

  it('a failing question refuses, saying nothing was run', async () => {
    const r = await destructiveGate('ask', drop, { entryId: 'docker/postgres' }, { elicit: async () => Promise.reject(new Error('request timed out')) });
    expect(r).toEqual({ ok: false, outcome: 'refused', reason: 'pg__drop_table needs your confirmation (it is marked destructive), but asking failed: request timed out. Nothing was run.' });
  });
});
