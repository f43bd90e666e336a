// Just-in-time registry-exec of a server that needs approval (issue 14 point 2), over stdio: the question reaches
// the client by elicitation during the one call; declined, nothing starts; accepted, the server starts and the
// same call returns the tool's result.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { TINY_IMAGE } from '../helpers/podman.js';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };

let home: string;
let reg: RunningRegistry;
const asked: string[] = [];
let answer: { action: 'accept' | 'decline'; content?: Record<string, unknown> } = { action: 'decline' };

async function call(name: string, args: Record<string, unknown> = {}): Promise<Result> {
  return (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
}
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
const mounted = async () => ((await call('registry-active')).structuredContent as { mounts: Array<{ id: string; state: string }> }).mounts.map((m) => `${m.id} ${m.state}`);

beforeAll(async () => {
  home = await makeHome({ sources: [{ name: 'mine', type: 'file', path: './mine' }], refresh: { onStart: false }, runtime: { startTimeout: '60s', callTimeout: '60s' } });
  // The user's own catalog is trusted by default; this policy asks first.
  await writeFile(join(home, 'policy.yaml'), toYaml({ trust: { fileSources: false } }));
  const dir = join(home, 'mine', 'servers', 'calculator');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'server.yaml'), toYaml({ name: 'calculator', image: TINY_IMAGE, type: 'server', about: { title: 'Calculator', description: 'Arithmetic for agents.' }, run: { disableNetwork: true } }));
  await writeFile(join(dir, 'tools.json'), JSON.stringify([{ name: 'add', description: 'Adds two numbers.', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } } }]));
  reg = await startRegistry(home, { capabilities: { elicitation: {} } });
  reg.client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push(req.params.message);
    return answer;
  });
  expect((await call('registry-refresh')).isError).toBeFalsy();
}, 120_000);

afterAll(async () => {
  if (reg) {
    await call('registry-remove', { id: 'mine/calculator' }).catch(() => {});
    await reg.close();
  }
  await rm(home, { recursive: true, force: true });
});

describe('just-in-time registry-exec of a server that needs approval', () => {
  it('tool search says it needs approval; declining the question in the call starts nothing', async () => {
    const [hit] = ((await call('registry-find', { query: 'add two numbers', kind: 'tools' })).structuredContent as { results: Array<{ tool: string; needs: string[] }> }).results;
    expect(hit!.tool).toBe('calculator__add');
    expect(hit!.needs.join(' ')).toMatch(/^approval:/);

    const r = await call('registry-exec', { tool: 'calculator__add', arguments: { a: 2, b: 3 } });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/mine\/calculator was not approved, so it was not started.*mcp-registry allow mine\/calculator/);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/^Start the MCP server mine\/calculator\?/);
    expect(await mounted()).toEqual([]);
  }, 120_000);

  it('approved "this time" in the same call: the server starts and the call returns the tool\'s result', async () => {
    answer = { action: 'accept', content: { start: 'this time' } };
    const r = await call('registry-exec', { tool: 'calculator__add', arguments: { a: 2, b: 3 } });
    expect(r.isError, text(r)).toBeFalsy();
    expect(r.structuredContent).toEqual({ sum: 5 });
    expect(asked).toHaveLength(2);
    expect(await mounted()).toEqual(['mine/calculator running']);
    // Running now: the next call asks nothing.
    expect((await call('registry-exec', { tool: 'calculator__add', arguments: { a: 1, b: 1 } })).structuredContent).toEqual({ sum: 2 });
    expect(asked).toHaveLength(2);
  }, 180_000);
});
