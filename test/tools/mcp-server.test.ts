import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createRegistryServer } from '../../src/tools/mcp-server.js';
import { defineTool, portableSchema } from '../../src/tools/tool-def.js';
import type { ToolProvider } from '../../src/model/tool-contract.js';
import { closestName } from '../../src/util/edit-distance.js';

/**
 * The MCP face of the registry over the SDK's in-memory transport (objects pass unserialised, so a 10,000-deep
 * argument reaches the server as a client's JSON would): what a strict client sees for bad calls.
 */

async function connect(provider?: ToolProvider) {
  const find = defineTool({
    name: 'registry-find',
    title: 'find',
    description: 'find',
    input: z.strictObject({ query: z.string().max(500), limit: z.number().optional() }),
    async handler(args) {
      return { text: `found ${args.query}` };
    },
  });
  const reg = createRegistryServer([find]);
  if (provider) reg.addProvider(provider);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await reg.server.connect(a);
  const client = new Client({ name: 'strict-client', version: '1.0.0' });
  await client.connect(b);
  return client;
}

const textOf = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;

function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) v = { d: v };
  return v;
}

describe('registry server', () => {
  it('arguments nested 10,000 deep get a clear validation error, for registry and mounted tools alike, and never reach the tool', async () => {
    const calls: string[] = [];
    const mounted: ToolProvider = {
      listTools: () => [{ name: 'tiny__echo', inputSchema: { type: 'object' } }],
      callTool(name) {
        if (!name.startsWith('tiny__')) return undefined;
        calls.push(name);
        return Promise.resolve({ content: [{ type: 'text', text: 'reached' }] });
      },
    };
    const client = await connect(mounted);
    const deep = nested(10_000);
    // Before: "Maximum call stack size exceeded" on the way to the child; registry-find ignored the unknown key.
    const find = await client.callTool({ name: 'registry-find', arguments: { query: 'x', deep } });
    expect(find.isError).toBe(true);
    expect(textOf(find)).toBe('Invalid arguments for registry-find: they are nested more than 64 levels deep. Flatten them and call registry-find again.');
    const echo = await client.callTool({ name: 'tiny__echo', arguments: deep });
    expect(textOf(echo)).toMatch(/^Invalid arguments for tiny__echo: they are nested more than 64 levels deep/);
    expect(calls).toEqual([]);
    // 64 levels are fine.
    expect(textOf(await client.callTool({ name: 'tiny__echo', arguments: nested(64) }))).toBe('reached');
    // An unknown tool stays unknown, however deep its arguments.
    await expect(client.callTool({ name: 'nosuch', arguments: deep })).rejects.toMatchObject({ code: -32602 });
    await client.close();
  });

  it('an unknown key is refused naming the closest argument; the error of an unknown tool carries one "MCP error" prefix', async () => {
    const client = await connect();
    const r = await client.callTool({ name: 'registry-find', arguments: { query: 'x', limt: 2, ['x'.repeat(100_000)]: 1 } });
    expect(textOf(r)).toMatch(/^Invalid arguments for registry-find: unknown arguments "limt" \(did you mean "limit"\?\), "x{60}…"\. registry-find takes: query, limit\. Fix/);
    // McpError's message already holds "MCP error -32602: " and the client adds it again: once, now.
    const err = await client.callTool({ name: 'nosuch', arguments: {} }).then(
      () => null,
      (e: unknown) => e as McpError,
    );
    expect(err).toBeInstanceOf(McpError);
    expect(err!.message).toMatch(/^MCP error -32602: Unknown tool "nosuch"\. /);
    expect(err!.message).not.toMatch(/MCP error -32602: MCP error/);
    await client.close();
  });
});

describe('tool schemas', () => {
  it('portableSchema spells nullable types as anyOf and "any" additionalProperties as true, leaving data keywords alone', () => {
    expect(
      portableSchema({
        type: 'object',
        properties: { podman: { type: ['string', 'null'], description: 'path' }, config: { type: 'object', additionalProperties: {} }, mode: { enum: [{ type: ['a'] }] } },
        additionalProperties: false,
      }),
    ).toEqual({
      type: 'object',
      properties: { podman: { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'path' }, config: { type: 'object', additionalProperties: true }, mode: { enum: [{ type: ['a'] }] } },
      additionalProperties: false,
    });
  });

  it('closestName: typos and plural/singular find the argument; unrelated words find nothing', () => {
    const known = ['query', 'limit', 'sources', 'source', 'category', 'runnable'];
    expect(closestName('sources', ['source', 'category'])).toBe('source');
    expect(closestName('source', ['query', 'sources'])).toBe('sources');
    expect(closestName('querry', known)).toBe('query');
    expect(closestName('categories', known)).toBe('category');
    expect(closestName('run', known)).toBe('runnable');
    expect(closestName('verbose', known)).toBeUndefined();
  });
});
