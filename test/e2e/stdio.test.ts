import { afterAll, describe, expect, it } from 'vitest';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { spawn } from 'node:child_process';
import { cliPath, makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { repoRoot } from '../helpers/shared-data.js';

/**
 * The MCP SDK's stdio transport gives up on a message larger than its limit (10 MB) and closes: the registry used to
 * stop with it, containers and all. A message over the limit is now answered with a JSON-RPC error and skipped; the
 * requests around it are answered as usual.
 */

let home: string | undefined;
let reg: RunningRegistry | undefined;

afterAll(async () => {
  await reg?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Write raw lines to a fresh registry's stdin at once (pipelined); collect its replies until every id in `ids` has one. */
async function pipelined(dir: string, lines: string[], ids: unknown[]): Promise<Map<unknown, { result?: unknown; error?: { code: number; message: string } }>> {
  const child = spawn(process.execPath, [cliPath], { env: { ...process.env, MCP_REGISTRY_HOME: dir }, stdio: ['pipe', 'pipe', 'pipe'] });
  const replies = new Map<unknown, { result?: unknown; error?: { code: number; message: string } }>();
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    const got = (partial + d.toString()).split('\n');
    partial = got.pop()!;
    for (const l of got.filter(Boolean)) {
      const m = JSON.parse(l) as { id?: unknown; method?: string };
      if (!m.method) replies.set(m.id, m as never);
    }
  });
  const init = [
    { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pipelined', version: '1' } } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
  ].map((l) => JSON.stringify(l));
  child.stdin.write([...init, ...lines].join('\n') + '\n');
  try {
    await expect.poll(() => ids.filter((id) => !replies.has(id)), { timeout: 20_000 }).toEqual([]);
  } finally {
    child.stdin.end();
    await new Promise((r) => child.on('exit', r));
  }
  return replies;
}

describe('stdio transport limits', () => {
  it('a request over 10 MB is answered with a JSON-RPC error and the registry keeps serving', async () => {
    // No podman for this registry: its start-up would otherwise reap containers other test files leave on purpose.
    home = await makeHome({
      sources: [{ name: 'test', type: 'file', path: join(repoRoot, 'test/fixtures/runtime-catalog') }],
      refresh: { onStart: false },
      runtime: { podman: '/nonexistent/podman' },
    });
    reg = await startRegistry(home);
    const pid = reg.pid!;
    const ok = await reg.client.callTool({ name: 'registry-active', arguments: {} });
    expect(ok.isError).toBeFalsy();

    const huge = { tool: 'tiny__echo', arguments: { text: 'x'.repeat(11 * 1024 * 1024) } };
    // Without the fix the connection closes (-32000) and the registry shuts down.
    const err = await reg.client.callTool({ name: 'registry-exec', arguments: huge }, undefined, { timeout: 30_000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(ErrorCode.InvalidRequest);
    expect((err as McpError).message).toMatch(/^MCP error -32600: Request too large: 11 MB \(limit 10 MB\); the registry discarded it and keeps serving\./);
    // Still the same process, still answering.
    const after = await reg.client.callTool({ name: 'registry-status', arguments: {} });
    expect(after.isError).toBeFalsy();
    expect(alive(pid)).toBe(true);
    expect(reg.stderr()).toMatch(/discarded a request of 11 MB from the client/);
    expect(reg.stderr()).not.toMatch(/shutting down/);
  });

  it('pipelined requests around an oversized one are each answered under their own id', async () => {
    const big = 'y'.repeat(11 * 1024 * 1024);
    const call = (id: unknown, name: string, args: unknown, idFirst = false) =>
      idFirst ? JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }) : JSON.stringify({ method: 'tools/call', params: { name, arguments: args }, jsonrpc: '2.0', id });
    const replies = await pipelined(
      home!,
      [
        call(2, 'registry-active', {}),
        // The SDK writes `id` last, other clients first: both are found without reading the whole line.
        call(3, 'registry-exec', { tool: 'a__b', arguments: { t: big } }),
        call('four', 'registry-exec', { tool: 'a__b', arguments: { t: big } }, true),
        call(5, 'registry-status', {}),
      ],
      [2, 3, 'four', 5],
    );
    expect(replies.get(2)?.result).toMatchObject({ structuredContent: { mounts: [] } });
    expect(replies.get(3)?.error).toMatchObject({ code: -32600, message: expect.stringMatching(/^Request too large: 11 MB/) });
    expect(replies.get('four')?.error).toMatchObject({ code: -32600 });
    expect(replies.get(5)?.result).toMatchObject({ structuredContent: { entries: expect.any(Number) } });
  });

  it('arguments nested 10,000 deep get a clear validation error (the SDK client cannot even serialise them)', async () => {
    const deep = '{"d":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const replies = await pipelined(
      home!,
      [
        `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"registry-find","arguments":{"query":"x","deep":${deep}}}}`,
        `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"registry-exec","arguments":{"tool":"tiny__echo","arguments":${deep}}}}`,
        `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"nosuch__tool","arguments":${deep}}}`,
      ],
      [6, 7, 8],
    );
    for (const [id, tool] of [[6, 'registry-find'], [7, 'registry-exec']] as const) {
      const r = replies.get(id)?.result as { isError?: boolean; content: { text: string }[] } | undefined;
      expect(r?.isError, tool).toBe(true);
      expect(r?.content[0]!.text).toBe(`Invalid arguments for ${tool}: they are nested more than 64 levels deep. Flatten them and call ${tool} again.`);
    }
    expect(replies.get(8)?.error).toMatchObject({ code: -32602, message: expect.stringMatching(/^Unknown tool "nosuch__tool"/) });
  });
});

describe('start-up', () => {
  it('answers initialize before the registry has loaded; tools/list waits for it; a broken config stops it with the reason', async () => {
    const dir = await makeHome({ sources: [], refresh: { onStart: false }, runtime: { podman: '/nonexistent/podman' } });
    try {
      const good = await startRegistry(dir);
      try {
        // connect() resolved: initialize was answered. The first tools/list is the full table, not a partial one.
        const names = (await good.client.listTools()).tools.map((t) => t.name);
        expect(names).toEqual(expect.arrayContaining(['registry-find', 'registry-add', 'registry-exec', 'registry-config-set']));
      } finally {
        await good.close();
      }

      await writeFile(join(dir, 'config.yaml'), 'sources: [ {broken\n');
      const bad = await startRegistry(dir);
      const pid = bad.pid!;
      const err = await bad.client.listTools().then(
        () => null,
        (e: unknown) => e,
      );
      // The registry does not linger with a half-loaded table: the waiting request is told why, and it stops,
      // saying which file is wrong and where.
      expect(err).toBeInstanceOf(McpError);
      expect((err as McpError).message).toMatch(/config\.yaml:\d+:\d+: not valid YAML/);
      await expect.poll(() => alive(pid), { timeout: 20_000 }).toBe(false);
      expect(bad.stderr()).toMatch(/config\.yaml:\d+:\d+: not valid YAML: .*Fix the file/);
      await bad.close();

      // A one-shot client writes its requests and closes stdin at once: the requests that wait for the table are
      // still answered. With the broken config the process ends with code 1 and the reason on stderr.
      const oneShot = async () => {
        const child = spawn(process.execPath, [cliPath], { env: { ...process.env, MCP_REGISTRY_HOME: dir }, stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        let errText = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (errText += d.toString()));
        const lines = [
          { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'one-shot', version: '1' } } },
          { jsonrpc: '2.0', method: 'notifications/initialized' },
          { jsonrpc: '2.0', id: 2, method: 'tools/list' },
        ];
        child.stdin.end(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
        const code = await new Promise<number | null>((r) => child.on('exit', r));
        const replies = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id?: number; result?: { tools?: unknown[] }; error?: { message: string } });
        return { code, errText, list: replies.find((r) => r.id === 2) };
      };
      const broken = await oneShot();
      expect(broken.code).toBe(1);
      expect(broken.errText).toMatch(/config\.yaml:\d+:\d+: not valid YAML/);
      await writeFile(join(dir, 'config.yaml'), 'sources: []\nruntime: {podman: /nonexistent/podman}\n');
      const fine = await oneShot();
      expect(fine.code).toBe(0);
      expect(fine.list?.result?.tools?.length).toBeGreaterThan(5);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('started by hand in a terminal', () => {
  it('says on stderr what it is and how to try it; an MCP client (pipes) gets no such text', async () => {
    const { terminalNotice } = await import('../../src/commands/serve-stdio.js');
    expect(terminalNotice(false)).toBeUndefined();
    expect(terminalNotice(true)).toMatch(/waiting for an MCP client[\s\S]*mcp-registry search "query a postgres database"[\s\S]*README, "Add it to your client"/);
  });

  it('in a real terminal (a pseudo-TTY from script(1)) the notice goes to stderr, never to stdout', async () => {
    const dir = await makeHome({ sources: [], refresh: { onStart: false }, runtime: { podman: '/nonexistent/podman' } });
    const errFile = join(dir, 'stderr.txt');
    try {
      // script gives the server a terminal on stdin and stdout; stderr goes to a file to tell the two apart.
      const child = spawn('script', ['-qc', `${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} 2>${JSON.stringify(errFile)}`, '/dev/null'], {
        env: { ...process.env, MCP_REGISTRY_HOME: dir },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let terminal = '';
      child.stdout.on('data', (d: Buffer) => (terminal += d.toString()));
      const { readFile } = await import('node:fs/promises');
      await expect.poll(() => readFile(errFile, 'utf8').catch(() => ''), { timeout: 15_000 }).toMatch(/waiting for an MCP client/);
      child.stdin.write('\x04'); // Ctrl-D: end of input, the server stops
      expect(await new Promise((r) => child.on('exit', r))).toBe(0);
      expect(await readFile(errFile, 'utf8')).toMatch(/shutting down \(stdin closed\)/);
      expect(terminal).not.toMatch(/waiting for an MCP client/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
