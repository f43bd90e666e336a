import { execFile, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { AuditLog, auditToolCall, withOutcome } from '../../src/governance/audit-log.js';
import { argShape, auditFile, MAX_RECORD_BYTES, type AuditRecord } from '../../src/governance/audit-record.js';
import { parseAuditLine, readAudit } from '../../src/governance/audit-read.js';
import { formatAudit, parseSince } from '../../src/governance/audit-format.js';
import { SecretSet } from '../../src/governance/secret-scan.js';
import { ConfigError, parseConfig } from '../../src/config/config.js';
import { createRegistryServer } from '../../src/tools/mcp-server.js';
import { auditedProvider, auditedTools } from '../../src/tools/audited.js';
import { defineTool } from '../../src/tools/tool-def.js';
import { ToolError, type ToolProvider } from '../../src/model/tool-contract.js';
import { cliPath } from '../helpers/registry-client.js';
import { repoRoot } from '../helpers/shared-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'audit-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const stateDir = () => join(tmp, `state-${++n}`);
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

const SECRET = 'tok-9f8e7d6c5b4a3210';

describe('argument shapes', () => {
  it('types and lengths, never values', () => {
    const args = { query: 'postgres tools', limit: 5, runnable: true, cursor: null, sources: ['docker', 'official'], config: { token: SECRET, port: 5432 } };
    const shape = argShape(args);
    expect(shape).toEqual({
      query: 'string(14)',
      limit: 'number',
      runnable: 'boolean',
      cursor: 'null',
      sources: 'array(2) of string',
      config: { token: 'string(20)', port: 'number' },
    });
    expect(JSON.stringify(shape)).not.toMatch(/postgres|docker|5432|tok-/);
  });

  it('arrays of objects, mixed arrays, depth and key limits', () => {
    expect(argShape({ rows: [{ a: 1 }, { a: 2 }], mixed: [1, 'x', null], empty: [] })).toEqual({
      rows: { 'array(2)': { a: 'number' } },
      mixed: 'array(3) of null|number|string',
      empty: 'array(0)',
    });
    expect(argShape({ a: { b: { c: { d: { e: 'deep' } } } } })).toEqual({ a: { b: { c: { d: 'object(1 keys)' } } } });
    const wide = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    const s = argShape(wide) as Record<string, string>;
    expect(Object.keys(s)).toHaveLength(41);
    expect(s['…']).toBe('10 more keys');
  });

  it('a key that is itself a secret is redacted', () => {
    const set = SecretSet.from({ API_KEY: SECRET });
    expect(argShape({ [SECRET]: 'x' }, (t) => set.redact(t))).toEqual({ '[REDACTED:API_KEY]': 'string(1)' });
  });
});

describe('AuditLog write and read', () => {
  it('one JSON line per record, mode 0600, time first, no secret anywhere', async () => {
    const dir = stateDir();
    const set = SecretSet.from({ API_KEY: SECRET });
    const audit = new AuditLog(dir, { instance: 'inst-1', redact: (t) => set.redact(t) });
    await audit.write({ op: 'config-set', outcome: 'ok', durationMs: 3.4, client: 'claude-ai', entry: 'docker/github', args: { values: { API_KEY: SECRET } } });
    await audit.write({ op: 'exec', outcome: 'error', durationMs: 1, entry: 'docker/github', tool: 'github__get_me', error: new Error(`401 for token ${SECRET}`) });
    // A credential the registry does not know is masked by format.
    const ghToken = 'ghp' + '_' + 'x1Y2z3'.repeat(6);
    await audit.write({ op: 'add', outcome: 'refused', durationMs: 1, entry: 'docker/x', error: `child said: ${ghToken}` });

    const file = auditFile(dir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const raw = readFileSync(file, 'utf8');
    expect(raw).not.toContain(SECRET);
    expect(raw).not.toContain(ghToken);
    const ls = lines(file);
    expect(ls).toHaveLength(3);
    for (const l of ls) expect(l.startsWith('{"time":"')).toBe(true);
    const recs = ls.map((l) => JSON.parse(l) as AuditRecord);
    expect(recs[0]).toMatchObject({ instance: 'inst-1', client: 'claude-ai', op: 'config-set', entry: 'docker/github', outcome: 'ok', durationMs: 3, args: { values: { API_KEY: 'string(20)' } } });
    expect(recs[1]).toMatchObject({ op: 'exec', tool: 'github__get_me', outcome: 'error', error: '401 for token [REDACTED:API_KEY]' });
    expect(recs[2]!.error).toBe('child said: [REDACTED:github-token]');

    const read = await audit.read();
    expect(read.records.map((r) => r.op)).toEqual(['config-set', 'exec', 'add']);
    expect(read.skipped).toBe(0);
  });

  it('records stay below one atomic write even with huge arguments and errors', async () => {
    const audit = new AuditLog(stateDir());
    const huge = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${'k'.repeat(70)}${i}`, { [`${'n'.repeat(70)}`]: [{ x: 1 }] }]));
    await audit.write({ op: 'exec', outcome: 'error', durationMs: 1, args: huge, error: 'e'.repeat(50_000), entry: 'x/' + 'y'.repeat(5000) });
    const [line] = lines(audit.file);
    expect(Buffer.byteLength(line!) + 1).toBeLessThanOrEqual(MAX_RECORD_BYTES);
    const r = JSON.parse(line!) as AuditRecord;
    expect(r.args).toBe('object(40 keys) (shape too large to record)');
    expect(r.error!.length).toBeLessThanOrEqual(600);
  });

  it('filters by since, entry (id or pattern), op and limit; the newest records win the limit', async () => {
    const audit = new AuditLog(stateDir());
    const t = (min: number) => new Date(Date.UTC(2026, 6, 1, 12, min));
    await audit.write({ op: 'add', outcome: 'ok', durationMs: 1, entry: 'docker/postgres', time: t(0) });
    await audit.write({ op: 'exec', outcome: 'ok', durationMs: 1, entry: 'docker/postgres', time: t(10) });
    await audit.write({ op: 'add', outcome: 'ok', durationMs: 1, entry: 'official/io.github.x/y', time: t(20) });
    await audit.write({ op: 'find', outcome: 'ok', durationMs: 1, time: t(30) });
    const ops = async (q: Parameters<AuditLog['read']>[0]) => (await audit.read(q)).records.map((r) => `${r.op}@${new Date(r.time).getUTCMinutes()}`);
    expect(await ops({ since: t(10) })).toEqual(['exec@10', 'add@20', 'find@30']);
    expect(await ops({ entry: 'docker/postgres' })).toEqual(['add@0', 'exec@10']);
    expect(await ops({ entry: 'official/*' })).toEqual(['add@20']);
    expect(await ops({ op: 'add' })).toEqual(['add@0', 'add@20']);
    expect(await ops({ limit: 2 })).toEqual(['add@20', 'find@30']);
  });

  it('a torn last line (crash mid-write) is skipped, and the next writer starts on a fresh line', async () => {
    const dir = stateDir();
    const first = new AuditLog(dir);
    // Records carry their start time (now - durationMs): zero durations keep the two in write order.
    await first.write({ op: 'find', outcome: 'ok', durationMs: 0 });
    appendFileSync(first.file, '{"time":"2026-07-01T00:00:00.000Z","instance":"dead","op":"ex');
    const second = new AuditLog(dir); // a new process
    await second.write({ op: 'add', outcome: 'ok', durationMs: 0 });
    const r = await readAudit(dir);
    expect(r.records.map((x) => x.op)).toEqual(['find', 'add']);
    expect(r.skipped).toBe(1);
  });

  it('a whole record glued to a torn one, NUL padding and garbage lines: the whole records are recovered', () => {
    const good = '{"time":"2026-07-01T00:00:00.000Z","instance":"i","op":"find","outcome":"ok","durationMs":1}';
    expect(parseAuditLine(`{"time":"2026-07-01T00:00:00.000Z","instance":"i","op":"ex${good}`)).toMatchObject({ op: 'find' });
    expect(parseAuditLine(`\0\0\0${good}`)).toMatchObject({ op: 'find' });
    expect(parseAuditLine('not json')).toBeUndefined();
    expect(parseAuditLine('{"time":"yesterday","op":"find","outcome":"ok"}')).toBeUndefined();
    expect(parseAuditLine('{"time":"2026-07-01T00:00:00Z","op":"format-disk","outcome":"ok"}')).toBeUndefined();
  });

  it('rotates by size, keeps N files, and reads across them in order', async () => {
    const dir = stateDir();
    const audit = new AuditLog(dir, { maxBytes: 2048, keep: 3 });
    for (let i = 0; i < 80; i++) await audit.write({ op: 'exec', outcome: 'ok', durationMs: 0, tool: `t__${i}`, args: { q: 'x'.repeat(i) } });
    const names = readdirSync(join(dir, 'audit')).sort();
    expect(names).toEqual(['audit.jsonl', 'audit.jsonl.1', 'audit.jsonl.2', 'audit.jsonl.3']);
    for (const f of names) expect(statSync(join(dir, 'audit', f)).size).toBeLessThan(2048 + MAX_RECORD_BYTES);
    const { records, files } = await audit.read();
    expect(files).toHaveLength(4);
    const seq = records.map((r) => Number(r.tool!.split('__')[1]));
    // The oldest rotated out; what is left is the most recent, contiguous and in order.
    expect(seq.at(-1)).toBe(79);
    expect(seq[0]).toBeGreaterThan(0);
    expect(seq).toEqual(Array.from({ length: seq.length }, (_, i) => seq[0]! + i));
  });

  it('a write that fails (state dir not writable) is logged and does not throw', async () => {
    const blocker = join(tmp, 'a-file');
    writeFileSync(blocker, 'x');
    const audit = new AuditLog(join(blocker, 'state'));
    expect(await audit.write({ op: 'find', outcome: 'ok', durationMs: 1 })).toBe(false);
  });
});

describe('concurrent processes and crashes (the built module)', () => {
  const built = join(repoRoot, 'dist', 'governance', 'audit-log.js');
  const script = (dir: string, instance: string, count: number, maxBytes: number) => `
    const { AuditLog } = await import(${JSON.stringify(pathToFileURL(built).href)});
    const log = new AuditLog(${JSON.stringify(dir)}, { instance: ${JSON.stringify(instance)}, maxBytes: ${maxBytes}, keep: 200 });
    for (let i = 0; i < ${count}; i++) {
      await log.write({ op: 'exec', outcome: 'ok', durationMs: 0, tool: 'seq__' + i, args: { body: 'y'.repeat(i % 700) } });
    }`;
  const runNode = (code: string) => promisify(execFile)(process.execPath, ['--input-type=module', '-e', code]);

  it('three processes appending at once, with rotations: every record whole and present', async () => {
    if (!existsSync(built)) throw new Error(`${built} is missing: run "npm run build" first (npm test does it)`);
    const dir = stateDir();
    const count = 600;
    await Promise.all(['p1', 'p2', 'p3'].map((p) => runNode(script(dir, p, count, 32 * 1024))));
    const { records, skipped, files } = await readAudit(dir, {}, { keep: 200 });
    expect(skipped).toBe(0);
    expect(files.length).toBeGreaterThan(2);
    for (const p of ['p1', 'p2', 'p3']) {
      const seq = records.filter((r) => r.instance === p).map((r) => Number(r.tool!.slice(5)));
      expect(new Set(seq).size).toBe(count);
    }
  }, 60_000);

  it('a process killed mid-stream leaves only whole lines; the log stays usable', async () => {
    if (!existsSync(built)) throw new Error(`${built} is missing: run "npm run build" first (npm test does it)`);
    const dir = stateDir();
    const child = spawn(process.execPath, ['--input-type=module', '-e', script(dir, 'doomed', 1_000_000, 64 * 1024 * 1024)], { stdio: 'ignore' });
    const file = auditFile(dir);
    for (let i = 0; i < 200 && !(existsSync(file) && statSync(file).size > 50_000); i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await new AuditLog(dir, { instance: 'after' }).write({ op: 'find', outcome: 'ok', durationMs: 1 });
    const { records, skipped } = await readAudit(dir);
    expect(skipped).toBe(0);
    expect(records.length).toBeGreaterThan(10);
    expect(records.at(-1)).toMatchObject({ instance: 'after', op: 'find' });
  }, 30_000);
});

describe('auditing operations', () => {
  it('auditToolCall: ok, isError result, refusal, plain error — one record each, errors rethrown', async () => {
    const audit = new AuditLog(stateDir(), { instance: 'i' });
    await auditToolCall(audit, { op: 'find', args: { query: 'pg' } }, async () => ({ text: 'found' }));
    await auditToolCall(audit, { op: 'exec', tool: 'a__b' }, async () => ({ content: [{ type: 'text', text: 'child failed' }], isError: true }));
    await expect(
      auditToolCall(audit, { op: 'add', entry: 'docker/x' }, async () => {
        throw withOutcome(new ToolError('docker/x may not be started: denied'), 'refused');
      }),
    ).rejects.toThrow('denied');
    await expect(auditToolCall(audit, { op: 'remove', entry: 'docker/y' }, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await auditToolCall(null, { op: 'find' }, async () => 7)).toBe(7);
    const { records } = await audit.read();
    expect(records.map((r) => [r.op, r.outcome, r.error ?? ''])).toEqual([
      ['find', 'ok', ''],
      ['exec', 'error', 'child failed'],
      ['add', 'refused', 'docker/x may not be started: denied'],
      ['remove', 'error', 'boom'],
    ]);
    expect(records[0]!.args).toEqual({ query: 'string(2)' });
  });

  it('a call is answered before its record is written (no file write on the call path); close writes what is queued', async () => {
    const dir = stateDir();
    const audit = new AuditLog(dir, { instance: 'i' });
    await audit.write({ op: 'find', outcome: 'ok', durationMs: 0 }); // the file exists and is open
    const result = await auditToolCall(audit, { op: 'exec', tool: 'a__b' }, async () => ({ content: [] }));
    expect(result).toEqual({ content: [] });
    // The caller has its result while the record is still queued for the next turn of the event loop…
    expect(lines(auditFile(dir))).toHaveLength(1);
    // …and a stop right then (shutdown closes the log) loses nothing.
    await audit.close();
    expect(lines(auditFile(dir)).map((l) => (JSON.parse(l) as AuditRecord).op)).toEqual(['find', 'exec']);
    // Left alone, the queued record lands on its own within the same turn.
    await auditToolCall(audit, { op: 'find' }, async () => 1);
    await vi.waitFor(() => expect(lines(auditFile(dir))).toHaveLength(3));
  });

  it('one record that cannot be formatted is logged and skipped; the others of its turn are written', async () => {
    const dir = stateDir();
    const audit = new AuditLog(dir, { instance: 'i' });
    const weird = Object.create(null) as Error; // String(weird) throws
    await auditToolCall(audit, { op: 'find', tool: 'a' }, async () => 1);
    await expect(auditToolCall(audit, { op: 'exec', tool: 'b' }, async () => Promise.reject(weird))).rejects.toBe(weird);
    await auditToolCall(audit, { op: 'find', tool: 'c' }, async () => 1);
    await audit.flush();
    expect(lines(auditFile(dir)).map((l) => (JSON.parse(l) as AuditRecord).tool)).toEqual(['a', 'c']);
  });

  it('flushSync writes what is queued when no event-loop turn is left (process exit)', () => {
    const dir = stateDir();
    const audit = new AuditLog(dir, { instance: 'i' });
    audit.soon({ op: 'exec', outcome: 'ok', durationMs: 1, tool: 'x__y' });
    audit.flushSync();
    expect(lines(auditFile(dir)).map((l) => (JSON.parse(l) as AuditRecord).tool)).toEqual(['x__y']);
  });

  it('auditedTools over the real MCP server: client name, entry, tool and argument shapes per call', async () => {
    const audit = new AuditLog(stateDir(), { instance: 'srv' });
    const find = defineTool({
      name: 'registry-find',
      audit: 'find',
      title: 'find',
      description: 'find',
      input: z.object({ query: z.string(), limit: z.number().optional() }),
      async handler(args) {
        return { text: `results for ${args.query}` };
      },
    });
    const exec = defineTool({
      name: 'registry-exec',
      audit: 'exec',
      title: 'exec',
      description: 'exec',
      input: z.object({ tool: z.string(), arguments: z.record(z.string(), z.unknown()).optional() }),
      async handler(args) {
        if (args.tool === 'gh__bad') throw new ToolError('No mounted tool "gh__bad"');
        return { content: [{ type: 'text', text: 'done' }] };
      },
    });
    const other = defineTool({ name: 'not-audited', title: 'x', description: 'x', input: z.object({}), handler: async () => ({ text: 'x' }) });
    const reg = createRegistryServer(auditedTools([find, exec, other], audit, { entryOfTool: (t) => (t.startsWith('gh__') ? 'docker/github' : undefined) }));
    const [a, b] = InMemoryTransport.createLinkedPair();
    await reg.server.connect(a);
    const client = new Client({ name: 'audit-client', version: '1.0.0' });
    await client.connect(b);
    await client.callTool({ name: 'registry-find', arguments: { query: 'postgres', limit: 3 } });
    await client.callTool({ name: 'registry-exec', arguments: { tool: 'gh__get_issue', arguments: { owner: 'me', number: 12 } } });
    const bad = await client.callTool({ name: 'registry-exec', arguments: { tool: 'gh__bad' } });
    expect(bad.isError).toBe(true);
    await client.callTool({ name: 'not-audited', arguments: {} });
    await client.close();

    const { records } = await audit.read();
    expect(records.map(({ time, durationMs, ...r }) => r)).toEqual([
      { instance: 'srv', client: 'audit-client', op: 'find', outcome: 'ok', args: { query: 'string(8)', limit: 'number' } },
      { instance: 'srv', client: 'audit-client', op: 'exec', entry: 'docker/github', tool: 'gh__get_issue', outcome: 'ok', args: { owner: 'string(2)', number: 'number' } },
      { instance: 'srv', client: 'audit-client', op: 'exec', entry: 'docker/github', tool: 'gh__bad', outcome: 'error', args: {}, error: 'No mounted tool "gh__bad"' },
    ]);
  });
});

describe('mounted tools called directly', () => {
  it('auditedProvider records each call of a provider\'s tool as exec, and leaves other names to other providers', async () => {
    const audit = new AuditLog(stateDir(), { instance: 'prov' });
    // A provider shaped like the mount manager: two mounted tools of one entry.
    const mounted: ToolProvider = {
      listTools: () => [
        { name: 'tiny__echo', inputSchema: { type: 'object' } },
        { name: 'tiny__fail', inputSchema: { type: 'object' } },
      ],
      callTool(name, args) {
        if (!name.startsWith('tiny__')) return undefined;
        if (name === 'tiny__fail') return Promise.resolve({ content: [{ type: 'text', text: 'child error' }], isError: true });
        return Promise.resolve({ content: [{ type: 'text', text: JSON.stringify(args) }] });
      },
    };
    const reg = createRegistryServer([]);
    reg.addProvider(auditedProvider(mounted, audit, { entryOfTool: (t) => (t.startsWith('tiny__') ? 'docker/tiny' : undefined) }));
    const [a, b] = InMemoryTransport.createLinkedPair();
    await reg.server.connect(a);
    const client = new Client({ name: 'direct-client', version: '1.0.0' });
    await client.connect(b);
    const r = await client.callTool({ name: 'tiny__echo', arguments: { text: SECRET } });
    expect((r.content as { text: string }[])[0]!.text).toContain(SECRET);
    await client.callTool({ name: 'tiny__fail', arguments: {} });
    // An unknown tool is a protocol error, and calls refused before they run (too deep) leave no record.
    await expect(client.callTool({ name: 'other__tool', arguments: {} })).rejects.toMatchObject({ code: -32602 });
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) deep = { d: deep };
    const refused = await client.callTool({ name: 'tiny__echo', arguments: deep });
    expect(refused.isError).toBe(true);
    await client.close();
    const { records } = await audit.read();
    expect(records.map((x) => [x.op, x.entry, x.tool, x.client, x.outcome, JSON.stringify(x.args)])).toEqual([
      ['exec', 'docker/tiny', 'tiny__echo', 'direct-client', 'ok', '{"text":"string(20)"}'],
      ['exec', 'docker/tiny', 'tiny__fail', 'direct-client', 'error', '{}'],
    ]);
    expect(readFileSync(audit.file, 'utf8')).not.toContain(SECRET);
  });
});

describe('--since and the CLI', () => {
  it('config.yaml audit: size with units, defaults, and a clear error', () => {
    expect(parseConfig({}, tmp).audit).toEqual({ maxSize: 5 * 1024 * 1024, keep: 5 });
    expect(parseConfig({ audit: { maxSize: '512k', keep: 2 } }, tmp).audit).toEqual({ maxSize: 512 * 1024, keep: 2 });
    expect(parseConfig({ audit: { maxSize: '2MB' } }, tmp).audit.maxSize).toBe(2 * 1024 * 1024);
    expect(() => parseConfig({ audit: { maxSize: 'huge' } }, tmp)).toThrow(ConfigError);
    expect(() => parseConfig({ audit: { maxSize: 'huge' } }, tmp)).toThrow(/audit\.maxSize: "huge" is not a size/);
  });

  it('parseSince: durations back from now, dates, and a clear error', () => {
    const now = Date.UTC(2026, 6, 2, 0, 0);
    expect(parseSince('1h', now).toISOString()).toBe('2026-07-01T23:00:00.000Z');
    expect(parseSince('2d', now).toISOString()).toBe('2026-06-30T00:00:00.000Z');
    expect(parseSince('1w', now).toISOString()).toBe('2026-06-25T00:00:00.000Z');
    expect(parseSince('2026-07-01T12:00:00Z', now).toISOString()).toBe('2026-07-01T12:00:00.000Z');
    expect(() => parseSince('yesterday', now)).toThrow(/neither a duration .* nor a date/);
    expect(() => parseSince('12', now)).toThrow(/neither/);
  });

  it('formatAudit: one line per record', () => {
    const text = formatAudit([{ time: '2026-07-01T00:00:00.000Z', instance: 'i', op: 'exec', entry: 'docker/x', tool: 'x__y', outcome: 'error', durationMs: 5, args: { a: 'number' }, error: 'bad' }]);
    expect(text).toBe('2026-07-01T00:00:00.000Z  exec        error          5ms  docker/x  tool=x__y  instance=i  args={"a":"number"}  error: bad');
    expect(formatAudit([])).toBe('No audit records match.');
  });

  it('mcp-registry audit [--since] [--entry] [--json] reads MCP_REGISTRY_HOME/state', async () => {
    if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run "npm run build" first (npm test does it)`);
    const home = mkdtempSync(join(tmp, 'home-'));
    writeFileSync(join(home, 'config.yaml'), 'sources: []\n');
    const audit = new AuditLog(join(home, 'state'), { instance: 'cli' });
    await audit.write({ op: 'add', outcome: 'ok', durationMs: 10, entry: 'docker/old', time: new Date(Date.now() - 3 * 3_600_000) });
    await audit.write({ op: 'add', outcome: 'ok', durationMs: 10, entry: 'docker/postgres' });
    await audit.write({ op: 'exec', outcome: 'error', durationMs: 10, entry: 'docker/postgres', tool: 'pg__query', error: 'relation missing' });
    await audit.write({ op: 'find', outcome: 'ok', durationMs: 10 });
    appendFileSync(audit.file, '{"time":"torn');
    const env = { ...process.env, MCP_REGISTRY_HOME: home };
    const run = promisify(execFile);
    const all = await run(process.execPath, [cliPath, 'audit'], { env });
    expect(all.stdout.trim().split('\n')).toHaveLength(4);
    expect(all.stderr).toContain('1 damaged line');
    const recent = await run(process.execPath, [cliPath, 'audit', '--since', '1h', '--entry', 'docker/postgres', '--json'], { env });
    const parsed = JSON.parse(recent.stdout) as { records: AuditRecord[] };
    expect(parsed.records.map((r) => [r.op, r.outcome, r.tool ?? null])).toEqual([
      ['add', 'ok', null],
      ['exec', 'error', 'pg__query'],
    ]);
    const bad = await run(process.execPath, [cliPath, 'audit', '--since', 'soon'], { env }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('--since: "soon" is neither a duration') });
  });
});
