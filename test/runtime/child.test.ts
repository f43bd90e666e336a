import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { Child, type ChildOptions, type ChildTarget } from '../../src/runtime/child.js';
import { Redactor } from '../../src/governance/redact.js';
import { addLogSink, createLogger, setLogLevel } from '../../src/util/log.js';
import { repoRoot } from '../helpers/shared-data.js';
import { startRemoteMcp, type RemoteMcp } from '../helpers/remote-mcp.js';
import { pemBundle, pemLines } from '../helpers/secrets.js';

/**
 * One child connection, against the tiny test server run as a host process (no container needed) and a real
 * streamable-HTTP / SSE server on 127.0.0.1: what a mounted tool returns must be exactly what the server sent.
 */
const TINY = join(repoRoot, 'test/images/tiny-server/server.mjs');
const tiny = (env: Record<string, string> = {}): ChildTarget => ({ kind: 'stdio', command: process.execPath, args: [TINY], env, cwd: repoRoot });
const log = createLogger('test-child');
const opts = (o: Partial<ChildOptions> = {}): ChildOptions => ({ label: 'test/tiny', log, startTimeout: 20_000, callTimeout: 20_000, ...o });

const open: Child[] = [];
async function start(target: ChildTarget, o: Partial<ChildOptions> = {}): Promise<Child> {
  const c = await Child.start(target, opts(o));
  open.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe('child over stdio', () => {
  it('follows tools/list pagination to the last page', async () => {
    const c = await start(tiny({ TINY_PAGE_SIZE: '2', TINY_EXTRA_TOOLS: '7' }));
    const names = c.tools.map((t) => t.name);
    expect(names).toHaveLength(16);
    expect(names).toContain('echo');
    expect(names).toContain('extra_7');
    expect(new Set(names).size).toBe(16);
  });

  it('returns every content block, structuredContent and isError exactly as a direct SDK client sees them', async () => {
    const c = await start(tiny());
    const direct = new Client({ name: 'direct', version: '1' });
    await direct.connect(new StdioClientTransport({ command: process.execPath, args: [TINY], stderr: 'ignore' }));
    try {
      for (const [name, args] of [
        ['multi', {}],
        ['add', { a: 2, b: 40 }],
        ['fail', { message: 'nope' }],
        ['echo', { text: 'ünïcödé ✓ "quotes" \\ backslash' }],
      ] as const) {
        const viaChild = await c.callTool(name, args);
        const viaDirect = await direct.request({ method: 'tools/call', params: { name, arguments: args } }, (await import('@modelcontextprotocol/sdk/types.js')).CallToolResultSchema);
        expect(viaChild, name).toEqual(viaDirect);
      }
      const multi = await c.callTool('multi', {});
      expect(multi.content.map((b) => b.type)).toEqual(['text', 'text', 'image', 'resource']);
      expect(multi.structuredContent).toEqual({ count: 4, kinds: ['text', 'text', 'image', 'resource'] });
      const fail = await c.callTool('fail', { message: 'nope' });
      expect(fail.isError).toBe(true);
      expect(fail.content).toEqual([{ type: 'text', text: 'nope' }]);
    } finally {
      await direct.close();
    }
  });

  it('answers many concurrent calls, each with its own result, a slow one not holding up the others', async () => {
    const c = await start(tiny());
    const order: string[] = [];
    const slow = c.callTool('slow', { ms: 1500 }).then((r) => (order.push('slow'), r));
    const echoes = await Promise.all(Array.from({ length: 25 }, (_, i) => c.callTool('echo', { text: `call ${i}` }).then((r) => (order.push(`echo ${i}`), r))));
    echoes.forEach((r, i) => expect(r.content).toEqual([{ type: 'text', text: `call ${i}` }]));
    expect((await slow).content).toEqual([{ type: 'text', text: 'slept 1500 ms' }]);
    expect(order[order.length - 1]).toBe('slow');
  });

  it('forwards progress, and a call that runs past its timeout becomes an error saying which limit to raise', async () => {
    const c = await start(tiny());
    const progress: number[] = [];
    const ok = await c.callTool('slow', { ms: 200 }, { onProgress: (p) => progress.push(p) });
    expect(ok.isError).toBeFalsy();
    // The SDK may drop the very last notification when the answer overtakes it; the ones before always arrive.
    expect(progress.slice(0, 3)).toEqual([1, 2, 3]);
    const r = await c.callTool('slow', { ms: 10_000 }, { timeout: 300 });
    expect(r.isError).toBe(true);
    expect((r.content[0] as { text: string }).text).toMatch(/slow did not answer within 300 ms.*runtime\.callTimeout/);
    // The connection survives a timed-out call.
    expect((await c.callTool('echo', { text: 'still here' })).content).toEqual([{ type: 'text', text: 'still here' }]);
  });

  it('turns a JSON-RPC error from the server into an error result naming it', async () => {
    const c = await start(tiny());
    const r = await c.callTool('no_such_tool', {});
    expect(r.isError).toBe(true);
    expect((r.content[0] as { text: string }).text).toMatch(/no_such_tool failed — the server answered error -32602: .*unknown tool no_such_tool/);
  });

  it('a result over the 10 MB message limit fails only that call, saying how large; the server keeps running and answering', async () => {
    let exit: string | null = null;
    const c = await start(tiny({ TINY_HOSTILE: '1' }), { onExit: (why) => (exit = why) });
    const pid = c.pid;
    // An echo sent while the big result streams in is answered in its turn: the framing is intact around the drop.
    const [big, echo] = await Promise.all([c.callTool('big', { bytes: 11 * 1024 * 1024 }), c.callTool('echo', { text: 'alongside' })]);
    expect(big.isError).toBe(true);
    // Without the guard the SDK closed the connection: "the server exited … the next call restarts it".
    expect((big.content[0] as { text: string }).text).toMatch(/^test\/tiny: big returned a result too large: 11 MB \(limit 10 MB\)\. .*keeps running/);
    expect(echo.content).toEqual([{ type: 'text', text: 'alongside' }]);
    expect(c.alive).toBe(true);
    expect(c.pid).toBe(pid);
    expect((await c.callTool('echo', { text: 'after' })).content).toEqual([{ type: 'text', text: 'after' }]);
    // Just under the limit still comes through whole.
    const nine = await c.callTool('big', { bytes: 9 * 1024 * 1024 });
    expect((nine.content[0] as { text: string }).text).toHaveLength(9 * 1024 * 1024);
    expect(exit).toBeNull();
  });

  it('a result nested deeper than the registry forwards is an error result, not a reply that can never be sent', async () => {
    const c = await start(tiny({ TINY_HOSTILE: '1' }));
    const r = await c.callTool('deep', { depth: 300 });
    expect(r.isError).toBe(true);
    expect((r.content[0] as { text: string }).text).toMatch(/deep returned a result nested more than 256 levels deep/);
    expect((await c.callTool('deep', { depth: 50 })).structuredContent).toBeDefined();
  });

  it('notices when the server exits, says so to the call in flight and reports the last stderr lines', async () => {
    let exit: string | null = null;
    const c = await start(tiny(), { onExit: (why) => (exit = why) });
    const r = await c.callTool('crash', { code: 4 });
    expect(r.isError).toBe(true);
    expect((r.content[0] as { text: string }).text).toMatch(/exited.*crashing on request.*the next call restarts it/);
    await expect.poll(() => exit).toMatch(/crashing on request/);
    expect(c.alive).toBe(false);
  });

  it('a server that dies during start-up fails the start with its own words', async () => {
    const target: ChildTarget = { kind: 'stdio', command: process.execPath, args: ['-e', 'process.stderr.write("config file missing: /etc/x.conf\\n"); process.exit(3)'] };
    await expect(Child.start(target, opts())).rejects.toThrow(/test\/tiny did not start: .*config file missing: \/etc\/x\.conf/);
  });

  it('a server that never answers initialize fails after startTimeout', async () => {
    const target: ChildTarget = { kind: 'stdio', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] };
    await expect(Child.start(target, opts({ startTimeout: 500 }))).rejects.toThrow(/did not answer initialize\/tools\/list within 500 ms/);
  });

  it('a server that writes 100 MB that is not MCP on stdout and exits is reported as that, not just as "exited during start-up"', async () => {
    const t0 = Date.now();
    const err = (await Child.start(tiny({ TINY_STDOUT_FLOOD: '100', TINY_EXIT_AFTER_OUTPUT: '1' }), opts()).catch((e: unknown) => e)) as Error;
    const ms = Date.now() - t0;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(
      /^test\/tiny did not start: it exited during start-up: it wrote output on stdout that is not MCP \(100 MB in a line over the 10 MB message limit\) — does it log to stdout instead of stderr\?/,
    );
    process.stderr.write(`[child] 100 MB on stdout, then exit: start failed after ${ms} ms with: ${err.message.slice(0, 160)}\n`);
  });

  it('a server that floods stdout with 100 MB before serving starts, with a warning that names the flood', async () => {
    const warnings: string[] = [];
    const capture: ChildOptions['log'] = { ...log, warn: (m: string) => void warnings.push(m), child: () => capture };
    const c = await start(tiny({ TINY_STDOUT_FLOOD: '100' }), { log: capture });
    expect((await c.callTool('echo', { text: 'after the flood' })).content).toEqual([{ type: 'text', text: 'after the flood' }]);
    expect(warnings.join('\n')).toMatch(/test\/tiny: it wrote output on stdout that is not MCP \(100 MB in a line over the 10 MB message limit\).*; it was ignored/);
  });

  it('a server that logs to stdout works (the lines are ignored, with a warning), and its exit says what it wrote', async () => {
    const warnings: string[] = [];
    const capture: ChildOptions['log'] = { ...log, warn: (m: string) => void warnings.push(m), child: () => capture };
    let exit: string | null = null;
    const c = await start(tiny({ TINY_STDOUT_LOG: '3' }), { log: capture, onExit: (why) => (exit = why) });
    expect((await c.callTool('echo', { text: 'despite the noise' })).content).toEqual([{ type: 'text', text: 'despite the noise' }]);
    expect(warnings.join('\n')).toMatch(/wrote output on stdout that is not MCP \(3 lines that are not JSON-RPC\).*log to stdout instead of stderr/);
    const r = await c.callTool('crash');
    expect((r.content[0] as { text: string }).text).toMatch(/the server exited: it wrote output on stdout that is not MCP \(3 lines that are not JSON-RPC\).*crashing on request.*the next call restarts it\.$/);
    expect(exit).toMatch(/^the server exited: it wrote output on stdout that is not MCP/);
  });

  it('redacts secret values from what the server writes to stderr', async () => {
    const redactor = new Redactor();
    redactor.add(['ready (pid']);
    const c = await start(tiny(), { redact: (s) => redactor.text(s) });
    await expect.poll(() => c.stderrTail()).toContain('[redacted secret]');
    expect(c.stderrTail()).not.toContain('ready (pid');
  });
});

describe('child stderr with big secrets (issue 9.5)', () => {
  /** What the registry logs at debug level while `fn` runs (the real log pipeline, as its stderr gets it). */
  async function logged(fn: () => Promise<void>): Promise<string[]> {
    const lines: string[] = [];
    const stop = addLogSink((level, _name, msg) => lines.push(`${level} ${msg}`));
    setLogLevel('debug');
    try {
      await fn();
    } finally {
      stop();
      setLogLevel('info');
    }
    return lines;
  }
  /** A host process that writes `script`'s output to stderr, then runs the tiny server. */
  const writesStderr = (script: string, env: Record<string, string>): ChildTarget => ({
    kind: 'stdio',
    command: process.execPath,
    args: ['--input-type=module', '-e', `${script}; await import(${JSON.stringify(TINY)});`],
    env,
    cwd: repoRoot,
  });

  it('a 30 KB PEM secret echoed on stderr whole, line by line with CRLF, JSON-escaped and in a 1 MB line is redacted everywhere', async () => {
    const pem = pemBundle(30_000);
    const redactor = new Redactor();
    redactor.add([pem]);
    const script = [
      'const v = process.env.CA_BUNDLE',
      'process.stderr.write(v)',
      'process.stderr.write(v.replace(/\\n/g, "\\r\\n"))',
      'process.stderr.write("config: " + JSON.stringify({ ca: v }) + "\\n")',
      // One line far over the length kept whole: the secret near its start must still be caught.
      'process.stderr.write("x" + v.replace(/\\n/g, " ") + "y".repeat(1_200_000) + "\\n")',
    ].join('; ');
    let c: Child | undefined;
    const lines = await logged(async () => {
      c = await start(writesStderr(script, { CA_BUNDLE: pem }), { redact: (s) => redactor.text(s) });
      await expect.poll(() => c!.stderrTail(20)).toContain('ready (pid');
    });
    const all = lines.join('\n') + c!.stderrTail(20);
    expect(all).toContain('[redacted secret]');
    for (const line of pemLines(pem)) if (line.length >= 16) expect(all).not.toContain(line);
    expect(all).toContain('…(line cut)');
    // Still a working server.
    expect((await c!.callTool('echo', { text: 'still here' })).content).toEqual([{ type: 'text', text: 'still here' }]);
  });

  it('a redaction that throws on a stderr line is logged as a warning; the registry process and the child keep going', async () => {
    let c: Child | undefined;
    const warned = (l: string) => l.includes('could not be processed');
    const seen: string[] = [];
    const lines = await logged(async () => {
      c = await start(tiny(), {
        redact: (s) => {
          if (s.includes('ready')) throw new SyntaxError('Regular expression too large');
          return s;
        },
        log: { ...log, warn: (m: string) => void seen.push(m), child: () => log },
      });
      await expect.poll(() => seen.some(warned)).toBe(true);
    });
    expect(seen.find(warned)).toBe('test/tiny: a line of its stderr could not be processed (SyntaxError) and was dropped');
    expect(lines.join('\n')).not.toContain('ready (pid');
    expect((await c!.callTool('add', { a: 1, b: 2 })).structuredContent).toEqual({ sum: 3 });
  });
});

describe('child over HTTP (remote endpoints)', () => {
  let remote: RemoteMcp;
  let authed: RemoteMcp;
  beforeAll(async () => {
    remote = await startRemoteMcp();
    authed = await startRemoteMcp({ auth: { header: 'X-Api-Key', value: 'k-123456' } });
  });
  afterAll(async () => {
    await remote?.close();
    await authed?.close();
  });

  it('calls tools over streamable HTTP and re-lists when the server says its tools changed', async () => {
    const lists: Tool[][] = [];
    const c = await start({ kind: 'http', url: remote.url, transport: 'streamable-http' }, { onToolsChanged: (t) => lists.push(t) });
    expect(c.tools.map((t) => t.name).sort()).toEqual(['add_tool', 'greet', 'whoami', 'wipe']);
    expect((await c.callTool('greet', { name: 'Ada' })).content).toEqual([{ type: 'text', text: 'hello Ada' }]);
    await c.callTool('add_tool', { name: 'fresh' });
    await expect.poll(() => lists.at(-1)?.map((t) => t.name)).toContain('fresh');
    expect(c.tools.map((t) => t.name)).toContain('fresh');
  });

  it('calls tools over SSE', async () => {
    const c = await start({ kind: 'http', url: remote.sseUrl, transport: 'sse' });
    expect((await c.callTool('greet', { name: 'Grace' })).content).toEqual([{ type: 'text', text: 'hello Grace' }]);
  });

  it('sends the configured headers, and a rejected token fails the start with the status', async () => {
    const c = await start({ kind: 'http', url: authed.url, transport: 'streamable-http', headers: { 'X-Api-Key': 'k-123456' } });
    expect((await c.callTool('whoami', {})).structuredContent).toEqual({ authenticated: true });
    await expect(Child.start({ kind: 'http', url: authed.url, transport: 'streamable-http', headers: { 'X-Api-Key': 'wrong' } }, opts())).rejects.toThrow(/did not start.*401/);
  });
});
