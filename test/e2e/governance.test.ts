import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ElicitRequestSchema, ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { execa } from 'execa';
import { stringify as toYaml } from 'yaml';
import { ENTRY_LABEL, INSTANCE_LABEL, Podman } from '../../src/runtime/podman/podman.js';
import { AUDIT_OPS, type AuditRecord } from '../../src/governance/audit-record.js';
import { parseAuditLine } from '../../src/governance/audit-read.js';
import { cliPath, makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { requirePodman, TINY_IMAGE } from '../helpers/podman.js';
import { startRemoteMcp, type RemoteMcp } from '../helpers/remote-mcp.js';
import { repoRoot } from '../helpers/shared-data.js';
import { pemBundle, pemLines } from '../helpers/secrets.js';

/**
 * Issue 4, "Done when": policy, pins, the URL guard, the destructive gate, redaction and the audit log, seen from an
 * MCP client driving the BUILT server over stdio (`node dist/cli.js`), with real containers (podman) and the
 * `mcp-registry` CLI in a terminal's place.
 */

const CATALOG = join(repoRoot, 'test/fixtures/runtime-catalog');
const SECRET = 'gov-Secret-value-0123456789-must-not-leak';
/** This file's own tag (parallel test files use tiny:1 too): re-pointed at another image to simulate an update. */
const PINNED_IMAGE = `localhost/mcp-registry-test/tiny-gov-${process.pid}:1`;
const CLIENT = 'governance-test';
const podman = new Podman();

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
type MountView = { id: string; state: string; tools: string[]; withheld?: { name: string; reason: string; description?: string }[]; approval?: string };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

let home: string;
let remote: RemoteMcp;
let reg: RunningRegistry;
const registries = new Set<number>();
let variantImageId: string | undefined;

async function call(r: RunningRegistry, name: string, args: Record<string, unknown> = {}): Promise<Result> {
  return (await r.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
}
async function start(opts: { capabilities?: Record<string, unknown> } = {}): Promise<RunningRegistry> {
  const r = await startRegistry(home, { clientName: CLIENT, ...opts });
  registries.add(r.pid!);
  return r;
}
/** `mcp-registry <args>` as a user would type it. */
async function cli(...args: string[]): Promise<string> {
  const r = await execa(process.execPath, [cliPath, ...args], { env: { ...process.env, MCP_REGISTRY_HOME: home } });
  return r.stdout;
}
async function containersOf(entry: string) {
  const all = await podman.listContainers({ [ENTRY_LABEL]: entry });
  return all.filter((c) => registries.has(Number((c.labels[INSTANCE_LABEL] ?? '').split('-')[0])));
}
async function mountOf(r: RunningRegistry, id: string): Promise<MountView | undefined> {
  return ((await call(r, 'registry-active')).structuredContent as { mounts: MountView[] }).mounts.find((m) => m.id === id);
}
async function imageId(ref: string): Promise<string> {
  return (await execa('podman', ['image', 'inspect', '--format', '{{.Id}}', ref], { cwd: '/' })).stdout.trim();
}

/** A docker-catalog style server.yaml for the `gov` source. */
async function govEntry(name: string, description: string, image = TINY_IMAGE): Promise<void> {
  await mkdir(join(home, 'gov', 'servers', name), { recursive: true });
  await writeFile(
    join(home, 'gov', 'servers', name, 'server.yaml'),
    toYaml({ name, image, type: 'server', about: { title: name, description }, source: { project: `https://github.com/mcp-registry-test/${name}` }, run: { disableNetwork: true } }),
  );
}

beforeAll(async () => {
  remote = await startRemoteMcp();
  home = await makeHome({
    sources: [
      { name: 'test', type: 'file', path: CATALOG },
      { name: 'gov', type: 'file', path: './gov' },
      { name: 'net', type: 'file', path: './net.json' },
    ],
    refresh: { onStart: false },
    environment: 'dev',
    runtime: { startTimeout: '60s', callTimeout: '60s' },
  });
  await govEntry('old', 'Governance fixture that policy deprecates.');
  await govEntry('gone', 'Governance fixture that policy disables.');
  await govEntry('prod-only', 'Governance fixture allowed only in production.');
  await govEntry('pinned', 'Governance fixture whose image gets replaced.', PINNED_IMAGE);
  await govEntry('digest', 'Governance fixture without a pinned digest.', PINNED_IMAGE);
  const standin = (name: string) => ({
    name: `io.example/${name}`,
    description: `Remote stand-in (${name}) on 127.0.0.1.`,
    version: '1.0.0',
    remotes: [{ type: 'streamable-http', url: remote.url }],
  });
  await writeFile(join(home, 'net.json'), JSON.stringify([standin('open'), standin('httponly'), standin('guarded')]));
  await writeFile(
    join(home, 'policy.yaml'),
    toYaml({
      entries: {
        'gov/old': { status: 'deprecated', sunset: '2099-12-31', message: 'use test/tiny instead' },
        'gov/gone': { status: 'disabled', message: 'withdrawn by security' },
        'gov/prod-only': { environments: ['prod'] },
        'gov/digest': { requireDigest: true },
        // Plain http allowed, loopback not: the address check itself refuses.
        'net/io.example/httponly': { remote: { allowHttp: true } },
        'net/io.example/guarded': { remote: { allowPrivate: true, allowHttp: true }, destructive: 'ask', scanSecrets: 'warn' },
      },
    }),
  );
  await execa('podman', ['tag', TINY_IMAGE, PINNED_IMAGE], { cwd: '/' });
  reg = await start();
  const r = await call(reg, 'registry-refresh', {});
  expect(r.isError, text(r)).toBeFalsy();
});

afterAll(async () => {
  await reg?.close();
  await remote?.close();
  for (const pid of registries) {
    const left = (await podman.listContainers({ [INSTANCE_LABEL]: '' }).catch(() => [])).filter((c) => (c.labels[INSTANCE_LABEL] ?? '').startsWith(`${pid}-`));
    if (left.length) await podman.remove(left.map((c) => c.id)).catch(() => {});
  }
  // Only this file's tag and the image built for it; tiny:1 itself stays.
  await execa('podman', ['rmi', '-f', PINNED_IMAGE], { cwd: '/', reject: false });
  if (variantImageId) await execa('podman', ['rmi', '-f', variantImageId], { cwd: '/', reject: false });
  if (home) await rm(home, { recursive: true, force: true });
});

describe('governance over stdio (issue 4)', () => {
  it('finds a deprecated entry with its warning and sunset date; disabled and other-environment entries are neither found, listed, shown nor started', async (ctx) => {
    await requirePodman(ctx);
    const found = await call(reg, 'registry-find', { query: 'governance fixture', limit: 20 });
    const results = (found.structuredContent as { results: { id: string; status?: string; sunset?: string; warning?: string }[] }).results;
    const ids = results.map((x) => x.id);
    expect(ids).toContain('gov/old');
    expect(ids).not.toContain('gov/gone');
    expect(ids).not.toContain('gov/prod-only');
    const old = results.find((x) => x.id === 'gov/old')!;
    expect(old).toMatchObject({ status: 'deprecated', sunset: '2099-12-31' });
    expect(old.warning).toMatch(/deprecated.*use test\/tiny instead.*2099-12-31/);
    expect(text(found)).toContain('⚠ gov/old is deprecated');

    const listed = ((await call(reg, 'registry-list', { source: 'gov' })).structuredContent as { entries: { id: string }[] }).entries.map((e) => e.id);
    expect(listed.sort()).toEqual(['gov/digest', 'gov/old', 'gov/pinned']);
    for (const id of ['gov/gone', 'gov/prod-only']) {
      const info = await call(reg, 'registry-info', { id });
      expect(info.isError).toBe(true);
      expect(text(info)).toContain(`No catalog entry with id "${id}"`);
    }
    const info = await call(reg, 'registry-info', { id: 'gov/old' });
    expect(info.structuredContent).toMatchObject({ trust: { status: 'allowed', lifecycle: 'deprecated', sunset: '2099-12-31' } });
    expect(text(info)).toContain('available until 2099-12-31');

    const gone = await call(reg, 'registry-add', { id: 'gov/gone' });
    expect(gone.isError).toBe(true);
    expect(text(gone)).toMatch(/may not be started: disabled .*withdrawn by security/);
    const prod = await call(reg, 'registry-add', { id: 'gov/prod-only' });
    expect(prod.isError).toBe(true);
    expect(text(prod)).toMatch(/allowed only in environment prod.*"dev"/);
    expect(await containersOf('gov/gone')).toEqual([]);
    expect(await containersOf('gov/prod-only')).toEqual([]);
  });

  it('a changed image behind an approved entry blocks its start (old and new ID, the command) until mcp-registry approve', async (ctx) => {
    await requirePodman(ctx);
    const first = await call(reg, 'registry-add', { id: 'gov/pinned' });
    expect(first.isError, text(first)).toBeFalsy();
    const approvedId = await imageId(PINNED_IMAGE);
    const shown = JSON.parse(await cli('policy', 'gov/pinned', '--json')) as { pins: { imageId: string; tools: Record<string, string> } };
    expect(shown.pins.imageId).toBe(approvedId);
    expect(Object.keys(shown.pins.tools)).toContain('echo');
    await call(reg, 'registry-remove', { id: 'gov/pinned' });

    // The tag now names another image (same server, one more label): an "update" nobody approved.
    const context = join(home, 'variant-image');
    await mkdir(context, { recursive: true });
    await writeFile(join(context, 'Containerfile'), `FROM ${TINY_IMAGE}\nLABEL io.mcp-registry.test.variant=${process.pid}\n`);
    await execa('podman', ['build', '--pull=never', '-q', '-t', PINNED_IMAGE, '-f', join(context, 'Containerfile'), context], { cwd: '/' });
    variantImageId = await imageId(PINNED_IMAGE);
    expect(variantImageId).not.toBe(approvedId);

    const blocked = await call(reg, 'registry-add', { id: 'gov/pinned' });
    expect(blocked.isError).toBe(true);
    expect(text(blocked)).toContain(approvedId.slice(0, 12));
    expect(text(blocked)).toContain(variantImageId.slice(0, 12));
    expect(text(blocked)).toContain('mcp-registry approve gov/pinned');
    expect(await containersOf('gov/pinned')).toEqual([]);
    expect(text(await call(reg, 'registry-info', { id: 'gov/pinned' }))).toContain(`Waiting for approval: image changed to ${variantImageId.slice(0, 12)}`);

    const approved = await cli('approve', 'gov/pinned');
    expect(approved).toContain(`image ${variantImageId.slice(0, 12)} (was ${approvedId.slice(0, 12)})`);
    const again = await call(reg, 'registry-add', { id: 'gov/pinned' });
    expect(again.isError, text(again)).toBeFalsy();
    // It runs exactly the image that was approved.
    const [c] = await containersOf('gov/pinned');
    expect((await execa('podman', ['inspect', '--format', '{{.Image}}', c!.name], { cwd: '/' })).stdout.trim()).toBe(variantImageId);
    await call(reg, 'registry-remove', { id: 'gov/pinned' });

    // requireDigest refuses an image named by tag before anything runs.
    const digest = await call(reg, 'registry-add', { id: 'gov/digest' });
    expect(digest.isError).toBe(true);
    expect(text(digest)).toMatch(/not pinned by digest.*requireDigest: true/);
  });

  it('a server that changes one tool between two starts gets that tool withheld, the rest keep working, and mcp-registry approve accepts it', async (ctx) => {
    await requirePodman(ctx);
    let listChanged = 0;
    reg.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
    const add = await call(reg, 'registry-add', { id: 'test/tiny' });
    expect(add.isError, text(add)).toBeFalsy();
    // A new setting makes the server describe `echo` differently when it restarts.
    const set = await call(reg, 'registry-config-set', { id: 'test/tiny', values: { variant: 'rugpull' } });
    expect(set.isError, text(set)).toBeFalsy();

    const m = (await mountOf(reg, 'test/tiny'))!;
    expect(m.state).toBe('running');
    expect(m.withheld).toEqual([{ name: 'tiny__echo', reason: 'changed', description: 'Returns its text unchanged. [variant rugpull]' }]);
    expect(m.approval).toContain('mcp-registry approve test/tiny');
    expect(m.tools).not.toContain('tiny__echo');
    expect((await reg.client.listTools()).tools.map((t) => t.name)).not.toContain('tiny__echo');
    expect((await call(reg, 'tiny__add', { a: 1, b: 2 })).structuredContent).toEqual({ sum: 3 });
    const refused = await call(reg, 'tiny__echo', { text: 'hi' });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/tiny__echo is withheld: it changed .*mcp-registry approve test\/tiny/);
    const info = text(await call(reg, 'registry-info', { id: 'test/tiny' }));
    expect(info).toContain('Waiting for approval: tools changed: echo');
    expect(info).toContain('Withheld now: tiny__echo (changed) — now described as: Returns its text unchanged. [variant rugpull]');

    const before = listChanged;
    const approved = await cli('approve', 'test/tiny');
    expect(approved).toContain('changed tools: echo');
    // The running registry picks the approval up by itself: list_changed, and the tool is back.
    await expect.poll(() => listChanged, { timeout: 10_000 }).toBeGreaterThan(before);
    expect((await reg.client.listTools()).tools.find((t) => t.name === 'tiny__echo')?.description).toBe('Returns its text unchanged. [variant rugpull]');
    expect(text(await call(reg, 'tiny__echo', { text: 'accepted' }))).toBe('accepted');
    expect((await mountOf(reg, 'test/tiny'))!.withheld).toBeUndefined();
  });

  it('an entry disabled in policy.yaml while it runs is stopped at its next call, and starts again once re-enabled', async (ctx) => {
    await requirePodman(ctx);
    const policyFile = join(home, 'policy.yaml');
    const original = await readFile(policyFile, 'utf8');
    expect(await containersOf('test/tiny')).toHaveLength(1);
    await writeFile(policyFile, `${original}  test/tiny: { status: disabled, message: pulled by security }\n`);
    try {
      // Calls see policy.yaml within a second (a snapshot checked in the background, never on the call path).
      await expect.poll(async () => text(await call(reg, 'tiny__add', { a: 1, b: 1 })), { timeout: 10_000 }).toMatch(/test\/tiny may no longer run: disabled .*pulled by security/);
      await expect.poll(() => containersOf('test/tiny'), { timeout: 15_000 }).toEqual([]);
      const again = await call(reg, 'tiny__add', { a: 1, b: 1 });
      expect(again.isError).toBe(true);
      expect(text(again)).toContain('may not be started: disabled');
      expect(await containersOf('test/tiny')).toEqual([]);
    } finally {
      await writeFile(policyFile, original);
    }
    expect((await call(reg, 'tiny__add', { a: 2, b: 2 })).structuredContent).toEqual({ sum: 4 });
  });

  it('refuses a remote at 127.0.0.1 by default (plain http, then loopback), and connects only where policy allows it', async () => {
    const open = await call(reg, 'registry-add', { id: 'net/io.example/open' });
    expect(open.isError).toBe(true);
    expect(text(open)).toMatch(/http:\/\/127\.0\.0\.1:\d+ is refused: plain http/);
    const httpOnly = await call(reg, 'registry-add', { id: 'net/io.example/httponly' });
    expect(httpOnly.isError).toBe(true);
    expect(text(httpOnly)).toMatch(/127\.0\.0\.1.*loopback.*allowPrivate/);
    const guarded = await call(reg, 'registry-add', { id: 'net/io.example/guarded' });
    expect(guarded.isError, text(guarded)).toBeFalsy();
    expect(text(await call(reg, 'guarded__greet', { name: 'Ada' }))).toBe('hello Ada');
  });

  it('destructive: ask refuses a destructive tool when the client cannot ask, asks when it can; scanSecrets: warn flags credentials', async () => {
    const noAsk = await call(reg, 'guarded__wipe', { what: 'everything' });
    expect(noAsk.isError).toBe(true);
    expect(text(noAsk)).toMatch(/marked destructive.*cannot ask/);

    const token = `ghp_${'a1B2c3D4e5'.repeat(4)}`;
    expect(text(await call(reg, 'guarded__greet', { name: token }))).toBe(`hello ${token}`);
    // stderr is its own pipe: poll, the answer on stdout may arrive first.
    await expect.poll(() => reg.stderr()).toMatch(/arguments of guarded__greet \(net\/io.example\/guarded\): 1 possible credential \(github-token at name\)/);
    await expect.poll(() => reg.stderr()).toMatch(/result of guarded__greet .*github-token at content\[0\]\.text/);
    expect(reg.stderr()).not.toContain(token);

    const asked: string[] = [];
    let answer: 'accept' | 'decline' = 'decline';
    const other = await start({ capabilities: { elicitation: {} } });
    try {
      other.client.setRequestHandler(ElicitRequestSchema, async (req) => {
        asked.push(req.params.message);
        return answer === 'accept' ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
      });
      // The mount is restored from state by the second registry too.
      const declined = await call(other, 'guarded__wipe', { what: 'the disk' });
      expect(declined.isError).toBe(true);
      expect(text(declined)).toContain('You declined the call to guarded__wipe');
      answer = 'accept';
      expect(text(await call(other, 'guarded__wipe', { what: 'the disk' }))).toBe('wiped the disk');
      expect(asked).toHaveLength(2);
      expect(asked[0]).toMatch(/guarded__wipe \("Wipe data"\) from net\/io.example\/guarded.*"what":"the disk"/);
      // Non-destructive tools are not asked about.
      expect(text(await call(other, 'guarded__greet', { name: 'Bo' }))).toBe('hello Bo');
      expect(asked).toHaveLength(2);
    } finally {
      await other.close();
    }
  });

  it('a child that echoes its API key back has it redacted (raw and base64) in what the agent sees', async (ctx) => {
    await requirePodman(ctx);
    const set = await call(reg, 'registry-config-set', { id: 'test/tiny', values: { TINY_API_TOKEN: SECRET } });
    expect(set.isError, text(set)).toBeFalsy();
    const echoed = await call(reg, 'tiny__echo_env', { name: 'TINY_API_TOKEN' });
    expect(text(echoed)).toBe('[redacted secret]');
    const b64 = await call(reg, 'registry-exec', { tool: 'tiny__echo', arguments: { text: `key=${Buffer.from(SECRET).toString('base64')}` } });
    expect(text(b64)).toBe('key=[redacted secret]');
    expect(JSON.stringify(echoed) + JSON.stringify(b64)).not.toContain(SECRET);
  });

  it('the audit log holds one well-formed record per operation of a scripted session, and no secret value', async (ctx) => {
    await requirePodman(ctx);
    const session = await start();
    const pid = session.pid!;
    const expected: Partial<Record<AuditRecord['op'], number>> = {};
    const op = async (name: string, args: Record<string, unknown>, as: AuditRecord['op']) => {
      expected[as] = (expected[as] ?? 0) + 1;
      return call(session, name, args);
    };
    try {
      await op('registry-status', {}, 'status');
      await op('registry-find', { query: 'governance fixture' }, 'find');
      await op('registry-list', { source: 'gov' }, 'list');
      await op('registry-info', { id: 'gov/old' }, 'info');
      await op('registry-refresh', { source: 'gov' }, 'refresh');
      await op('registry-config-set', { id: 'test/tiny-secret', values: { TINY_REQUIRED_TOKEN: SECRET } }, 'config-set');
      const added = await op('registry-add', { id: 'gov/old' }, 'add');
      expect(added.isError, text(added)).toBeFalsy();
      // Deprecated still starts, with the warning in the answer.
      expect(added.structuredContent).toMatchObject({ warning: expect.stringContaining('available until 2099-12-31') });
      expect(text(added)).toMatch(/^⚠ gov\/old is deprecated/);
      expect(text(await op('old__echo', { text: SECRET }, 'exec'))).toBe('[redacted secret]');
      expect((await op('registry-exec', { tool: 'old__add', arguments: { a: 1, b: 1 } }, 'exec')).structuredContent).toEqual({ sum: 2 });
      expect((await op('registry-add', { id: 'gov/gone' }, 'add')).isError).toBe(true);
      await op('registry-active', {}, 'active');
      await op('registry-remove', { id: 'gov/old' }, 'remove');
    } finally {
      await session.close();
    }
    await cli('approve', 'gov/old');

    const dir = join(home, 'state', 'audit');
    const files = await readdir(dir);
    const lines = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('\n').split('\n').filter(Boolean);
    // Every line is a whole record; none holds the secret in any form.
    const records = lines.map((l) => parseAuditLine(l));
    expect(records.every(Boolean), lines.find((l) => !parseAuditLine(l))).toBe(true);
    for (const form of [SECRET, Buffer.from(SECRET).toString('base64').replace(/=+$/, ''), encodeURIComponent(SECRET)]) expect(lines.join('\n')).not.toContain(form);

    const mine = (records as AuditRecord[]).filter((r) => r.instance.startsWith(`${pid}-`));
    const counts: Record<string, number> = {};
    for (const r of mine) counts[r.op] = (counts[r.op] ?? 0) + 1;
    expect(counts).toEqual(expected);
    for (const r of mine) {
      expect(AUDIT_OPS).toContain(r.op);
      expect(new Date(r.time).toISOString()).toBe(r.time);
      expect(r.client).toBe(CLIENT);
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
      expect(Object.keys(r).every((k) => ['time', 'instance', 'client', 'op', 'entry', 'tool', 'outcome', 'durationMs', 'args', 'error'].includes(k))).toBe(true);
    }
    const byOp = (o: string) => mine.filter((r) => r.op === o);
    expect(byOp('config-set')[0]).toMatchObject({ entry: 'test/tiny-secret', outcome: 'ok', args: { id: 'string(16)', values: { TINY_REQUIRED_TOKEN: `string(${SECRET.length})` } } });
    expect(byOp('add').map((r) => [r.entry, r.outcome])).toEqual([
      ['gov/old', 'ok'],
      ['gov/gone', 'refused'],
    ]);
    expect(byOp('exec').map((r) => [r.entry, r.tool, r.outcome, r.args])).toEqual([
      ['gov/old', 'old__echo', 'ok', { text: `string(${SECRET.length})` }],
      ['gov/old', 'old__add', 'ok', { a: 'number', b: 'number' }],
    ]);
    expect(byOp('find')[0]!.args).toEqual({ query: 'string(18)', limit: 'number' });
    // The approval in the terminal is recorded too, as the CLI's.
    const approvals = (records as AuditRecord[]).filter((r) => r.op === 'approve' && r.entry === 'gov/old');
    expect(approvals).toHaveLength(1);
    expect(approvals[0]).toMatchObject({ client: 'cli', outcome: 'ok' });
    // And `mcp-registry audit` shows the entry's records.
    const shown = JSON.parse(await cli('audit', '--entry', 'gov/old', '--json')) as { records: AuditRecord[] };
    expect(shown.records.filter((r) => r.instance.startsWith(`${pid}-`)).map((r) => r.op)).toEqual(['info', 'add', 'exec', 'exec', 'remove']);
  });
});

describe('a 30 KB PEM secret (issue 9.5)', () => {
  it('stored for a mounted server, it leaves the registry serving: stderr and results echoing it are redacted, and a restart restores the mount', async (ctx) => {
    await requirePodman(ctx);
    const pem = pemBundle(30_000);
    const pemHome = await makeHome({ sources: [{ name: 'pem', type: 'file', path: './pem' }], refresh: { onStart: false }, runtime: { startTimeout: '60s', callTimeout: '60s' } });
    // The tiny image, started through a command that first writes the secret to stderr: whole (one line per PEM
    // line), with CRLF, and JSON-escaped in one long line, as a chatty server logs its configuration.
    const script = [
      'const v = process.env.CA_BUNDLE ?? ""',
      'process.stderr.write(v)',
      'process.stderr.write(v.replace(/\\n/g, "\\r\\n"))',
      'process.stderr.write("config: " + JSON.stringify({ ca: v }) + "\\n")',
      'await import("/app/server.mjs")',
    ].join('; ');
    await mkdir(join(pemHome, 'pem', 'servers', 'pem'), { recursive: true });
    await writeFile(
      join(pemHome, 'pem', 'servers', 'pem', 'server.yaml'),
      toYaml({
        name: 'pem',
        image: TINY_IMAGE,
        type: 'server',
        about: { title: 'pem', description: 'The tiny server with a CA bundle as its secret.' },
        source: { project: 'https://github.com/mcp-registry-test/pem' },
        run: { disableNetwork: true, command: ['/usr/bin/node', '--input-type=module', '-e', script] },
        config: { secrets: [{ name: 'pem.ca_bundle', env: 'CA_BUNDLE', example: '-----BEGIN CERTIFICATE-----…' }] },
      }),
    );
    const leaked = (out: string) => pemLines(pem).filter((l) => l.length >= 16 && out.includes(l));
    const regs: RunningRegistry[] = [];
    const open = async () => {
      const r = await startRegistry(pemHome, { clientName: CLIENT });
      registries.add(r.pid!);
      regs.push(r);
      return r;
    };
    try {
      const first = await open();
      expect((await call(first, 'registry-refresh', {})).isError).toBeFalsy();
      const set = await call(first, 'registry-config-set', { id: 'pem/pem', values: { CA_BUNDLE: pem } });
      expect(set.isError, text(set)).toBeFalsy();
      const add = await call(first, 'registry-add', { id: 'pem/pem' });
      expect(add.isError, text(add)).toBeFalsy();
      expect(text(await call(first, 'pem__echo_env', { name: 'CA_BUNDLE' }))).toBe('[redacted secret]');
      expect(text(await call(first, 'pem__echo', { text: JSON.stringify({ ca: pem }) }))).toBe('{"ca":"[redacted secret]"}');
      expect(text(await call(first, 'registry-exec', { tool: 'pem__echo', arguments: { text: `b64=${Buffer.from(pem).toString('base64')}` } }))).toBe('b64=[redacted secret]');
      await expect.poll(() => first.stderr()).toMatch(/stderr: \[redacted secret\]/);
      expect(first.stderr()).toContain('stderr: config: {"ca":"[redacted secret]"}');
      expect(leaked(first.stderr())).toEqual([]);
      await first.close();

      // A new registry with the secret stored starts, restores the mount and answers (it used to die within seconds).
      const second = await open();
      expect(text(await call(second, 'pem__echo_env', { name: 'CA_BUNDLE' }))).toBe('[redacted secret]');
      expect(((await call(second, 'registry-active')).structuredContent as { mounts: MountView[] }).mounts).toEqual([expect.objectContaining({ id: 'pem/pem', state: 'running' })]);
      expect(text(await call(second, 'registry-find', { query: 'CA bundle' }))).toContain('pem/pem');
      expect(leaked(second.stderr())).toEqual([]);
    } finally {
      for (const r of regs) await r.close();
      await rm(pemHome, { recursive: true, force: true });
    }
  });
});
