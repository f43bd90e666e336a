import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SecretStore, StateStore } from '../../src/store/state.js';
import { LockTimeoutError } from '../../src/util/file-lock.js';
import { requirePodman } from '../helpers/podman.js';
import { makeHome, startRegistry } from '../helpers/registry-client.js';
import { repoRoot } from '../helpers/shared-data.js';

/**
 * State is shared by every registry process of one home, so these tests use real separate node processes running
 * the compiled module (built here with tsc into test/.tmp, where node finds the project's node_modules).
 */

let build: string;
const dirs: string[] = [];
const newDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'state-test-'));
  dirs.push(d);
  return d;
};

beforeAll(() => {
  build = join(repoRoot, 'test', '.tmp', `state-build-${process.pid}`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [
    tsc,
    '--outDir', build, '--rootDir', join(repoRoot, 'src'), '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--strict', join(repoRoot, 'src', 'store', 'state.ts'),
  ]);
  writeFileSync(
    join(build, 'writer.mjs'),
    `import { StateStore } from './store/state.js';
const [dir, tag, n] = process.argv.slice(2);
const s = new StateStore(dir);
for (let i = 0; i < Number(n); i++) {
  await s.putMount({ id: tag + '/' + i, prefix: tag + i, addedAt: new Date().toISOString() });
  await s.setSettings('shared', { [tag + i]: i });
}
`,
  );
  writeFileSync(
    join(build, 'forever.mjs'),
    `import { StateStore } from './store/state.js';
const s = new StateStore(process.argv[2]);
const big = 'x'.repeat(2_000_000);
for (let i = 0; ; i++) {
  await s.update((d) => { d.blob = big; d.counter = i; });
  if (i === 0) process.stdout.write('started\\n');
}
`,
  );
}, 120_000);

afterAll(() => {
  rmSync(build, { recursive: true, force: true });
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(script: string, args: string[]): { child: ChildProcess; done: Promise<number> } {
  const child = spawn(process.execPath, [join(build, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b) => (err += b));
  const done = new Promise<number>((res, rej) => {
    child.on('error', rej);
    child.on('exit', (code, sig) => (code === 0 || sig ? res(code ?? -1) : rej(new Error(`${script} exited ${code}: ${err}`))));
  });
  return { child, done };
}

/** The pid of a process that has certainly exited (waited for: on a loaded machine node takes more than 50 ms to start). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('StateStore', () => {
  it('starts empty, then keeps mounts and merged settings across instances', async () => {
    const dir = await newDir();
    const a = new StateStore(join(dir, 'state'));
    expect(await a.read()).toEqual({ version: 1, mounts: [], settings: {}, approvals: {} });
    await a.putMount({ id: 'docker/github-official', prefix: 'github', addedAt: '2026-01-01T00:00:00.000Z' });
    await a.putMount({ id: 'docker/filesystem', prefix: 'fs', addedAt: '2026-01-01T00:00:01.000Z', config: { paths: ['/tmp'] } });
    await a.putMount({ id: 'docker/github-official', prefix: 'gh', addedAt: '2026-01-01T00:00:02.000Z' });
    await a.setSettings('docker/atlassian', { jira: { url: 'https://j' }, level: 'info' });
    await a.setSettings('docker/atlassian', { jira: { username: 'me' }, level: null });

    const b = new StateStore(join(dir, 'state'));
    expect((await b.mounts()).map((m) => [m.id, m.prefix])).toEqual([
      ['docker/github-official', 'gh'],
      ['docker/filesystem', 'fs'],
    ]);
    expect(await b.settings('docker/atlassian')).toEqual({ jira: { url: 'https://j', username: 'me' } });
    expect(await b.settings('docker/unknown')).toEqual({});
    expect(await b.removeMount('docker/filesystem')).toBe(true);
    expect(await b.removeMount('docker/filesystem')).toBe(false);
    expect((await a.mounts()).map((m) => m.id)).toEqual(['docker/github-official']);
    await b.setSettings('docker/atlassian', { jira: null });
    expect((await a.read()).settings).toEqual({});
  });

  it('two processes doing 50 updates each to the same state lose none of them', async () => {
    const dir = join(await newDir(), 'state');
    const t0 = Date.now();
    const runs = [run('writer.mjs', [dir, 'a', '50']), run('writer.mjs', [dir, 'b', '50'])];
    await Promise.all(runs.map((r) => r.done));
    const ms = Date.now() - t0;
    const data = await new StateStore(dir).read();
    expect(data.mounts).toHaveLength(100);
    expect(new Set(data.mounts.map((m) => m.id)).size).toBe(100);
    expect(Object.keys(data.settings.shared!)).toHaveLength(100);
    expect(existsSync(join(dir, 'state.json.lock'))).toBe(false);
    process.stderr.write(`[state] 2 processes x 100 locked updates (50 mounts + 50 settings each): ${ms} ms\n`);
  });

  it('a process killed while writing leaves a readable file, and its lock is taken over', async () => {
    const dir = join(await newDir(), 'state');
    const { child, done } = run('forever.mjs', [dir]);
    await new Promise<void>((res) => child.stdout!.once('data', () => res()));
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGKILL');
    await done;
    const text = readFileSync(join(dir, 'state.json'), 'utf8');
    expect(JSON.parse(text).blob).toHaveLength(2_000_000);
    const store = new StateStore(dir, { timeoutMs: 5_000 });
    await store.putMount({ id: 'docker/after-crash', prefix: 'ac', addedAt: new Date().toISOString() });
    expect((await store.mounts()).map((m) => m.id)).toEqual(['docker/after-crash']);
    // Whatever the killed writer left behind (lock, temp file) is gone after the next change; the backup stays.
    expect(readdirSync(dir).sort()).toEqual(['state.json', 'state.json.bak']);
  });

  it('ignores a torn temp file next to the state and removes it on the next change', async () => {
    const dir = join(await newDir(), 'state');
    const store = new StateStore(dir);
    await store.putMount({ id: 'docker/a', prefix: 'a', addedAt: 'x' });
    const torn = join(dir, `.state.json.${deadPid()}.0badc0de.tmp`);
    writeFileSync(torn, '{"version":1,"mounts":[{"id":"docker/tor');
    expect((await store.mounts()).map((m) => m.id)).toEqual(['docker/a']);
    await store.putMount({ id: 'docker/b', prefix: 'b', addedAt: 'y' });
    expect(existsSync(torn)).toBe(false);
    expect((await store.mounts()).map((m) => m.id)).toEqual(['docker/a', 'docker/b']);
  });

  it('takes over a lock left by a dead process, waits for a live one and then says who holds it', async () => {
    const dir = join(await newDir(), 'state');
    mkdirSync(dir, { recursive: true });
    const lock = join(dir, 'state.json.lock');
    writeFileSync(lock, `${deadPid()} ${(await import('node:os')).hostname()} ${Date.now()} abcdef\n`);
    await new StateStore(dir, { timeoutMs: 2_000 }).putMount({ id: 'docker/a', prefix: 'a', addedAt: 'x' });
    expect(existsSync(lock)).toBe(false);

    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(()=>{}, 20000)']);
    try {
      writeFileSync(lock, `${sleeper.pid} ${(await import('node:os')).hostname()} ${Date.now()} 123456\n`);
      const err = await new StateStore(dir, { timeoutMs: 300 }).putMount({ id: 'docker/b', prefix: 'b', addedAt: 'y' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockTimeoutError);
      expect((err as Error).message).toContain(`held by process ${sleeper.pid}`);
      expect((err as Error).message).toContain('delete that file');
    } finally {
      sleeper.kill();
    }
    // A lock that is far older than any update, even from a live pid (pid reuse), is abandoned.
    writeFileSync(lock, `${process.ppid} ${(await import('node:os')).hostname()} ${Date.now() - 120_000} 654321\n`);
    await new StateStore(dir, { timeoutMs: 2_000 }).putMount({ id: 'docker/c', prefix: 'c', addedAt: 'z' });
    expect((await new StateStore(dir).mounts()).map((m) => m.id)).toEqual(['docker/a', 'docker/c']);
  });

  it('keeps good records when some are malformed, and moves an unreadable file aside instead of failing', async () => {
    const dir = join(await newDir(), 'state');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'state.json');
    writeFileSync(file, JSON.stringify({ version: 1, mounts: [{ id: 'docker/ok', prefix: 'ok', addedAt: 't' }, { prefix: 'no-id' }, 42], settings: { 'docker/x': 'bad', 'docker/y': { a: 1 } }, custom: { kept: true } }));
    const store = new StateStore(dir);
    const d = await store.read();
    expect(d.mounts.map((m) => m.id)).toEqual(['docker/ok']);
    expect(d.settings).toEqual({ 'docker/y': { a: 1 } });
    expect(d.custom).toEqual({ kept: true }); // unknown top-level keys survive for newer features

    writeFileSync(file, '{ this is not json');
    expect((await store.read()).mounts).toEqual([]);
    await store.putMount({ id: 'docker/new', prefix: 'n', addedAt: 't' });
    expect((await store.mounts()).map((m) => m.id)).toEqual(['docker/new']);
    const aside = readdirSync(dir).filter((n) => n.startsWith('state.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe('{ this is not json');
  });

  it('a torn state.json loses at most its last write: the previous generation comes back from state.json.bak, the torn file is kept, the recovery is recorded', async () => {
    const dir = join(await newDir(), 'state');
    const file = join(dir, 'state.json');
    const a = new StateStore(dir);
    await a.putMount({ id: 'docker/a', prefix: 'a', addedAt: 't1' });
    await a.putMount({ id: 'docker/b', prefix: 'b', addedAt: 't2' });
    await a.setSettings('docker/b', { level: 'debug' }); // the last write: the one that may be lost
    expect(JSON.parse(readFileSync(join(dir, 'state.json.bak'), 'utf8')).mounts).toHaveLength(2);
    expect(statSync(join(dir, 'state.json.bak')).mode & 0o777).toBe(0o600);
    const whole = readFileSync(file, 'utf8');
    const torn = whole.slice(0, Math.floor(whole.length / 2));
    writeFileSync(file, torn);

    const b = new StateStore(dir);
    const d = await b.read();
    expect(d.mounts.map((m) => m.id)).toEqual(['docker/a', 'docker/b']);
    expect(d.settings).toEqual({});
    expect(b.recoveries).toEqual([
      {
        file,
        problem: expect.stringMatching(/state\.json is not valid JSON/),
        movedTo: expect.stringMatching(/state\.json\.corrupt-/),
        restoredFrom: join(dir, 'state.json.bak'),
        restoredWrittenAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        at: expect.any(String),
      },
    ]);
    // Repaired on disk at once: the file is whole again, the torn one kept for the user with the same mode.
    expect(JSON.parse(readFileSync(file, 'utf8')).mounts).toHaveLength(2);
    expect(readFileSync(b.recoveries[0]!.movedTo!, 'utf8')).toBe(torn);
    expect(statSync(b.recoveries[0]!.movedTo!).mode & 0o777).toBe(0o600);
    // Life goes on: the next change is kept, and the one after it backs it up.
    await b.setSettings('docker/b', { level: 'info' });
    await b.putMount({ id: 'docker/c', prefix: 'c', addedAt: 't3' });
    expect((await new StateStore(dir).read()).settings).toEqual({ 'docker/b': { level: 'info' } });
    expect(JSON.parse(readFileSync(join(dir, 'state.json.bak'), 'utf8')).settings).toEqual({ 'docker/b': { level: 'info' } });
  });

  it('an empty or garbage state.json is recovered the same way; with the backup unreadable too it starts empty and says so', async () => {
    const dir = join(await newDir(), 'state');
    const file = join(dir, 'state.json');
    const s = new StateStore(dir);
    await s.putMount({ id: 'docker/a', prefix: 'a', addedAt: 't1' });
    await s.putMount({ id: 'docker/b', prefix: 'b', addedAt: 't2' });
    writeFileSync(file, '');
    expect((await new StateStore(dir).mounts()).map((m) => m.id)).toEqual(['docker/a']);
    writeFileSync(file, Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22]));
    writeFileSync(join(dir, 'state.json.bak'), '[1, 2');
    const fresh = new StateStore(dir);
    expect((await fresh.read()).mounts).toEqual([]);
    expect(fresh.recoveries).toEqual([expect.objectContaining({ file, movedTo: expect.any(String), lost: expect.stringMatching(/state\.json\.bak is unreadable too/) })]);
    expect(fresh.recoveries[0]).not.toHaveProperty('restoredFrom');
  });

  it('refuses to rewrite state written by a newer version', async () => {
    const dir = join(await newDir(), 'state');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ version: 2, mounts: [] }));
    await expect(new StateStore(dir).putMount({ id: 'a/b', prefix: 'b', addedAt: 't' })).rejects.toThrow(/newer mcp-registry/);
  });
});

describe('SecretStore', () => {
  it('creates its file with mode 0600 and keeps values per entry', async () => {
    const file = join(await newDir(), 'state', 'secrets.json');
    const s = new SecretStore(file);
    expect(await s.get('docker/github-official')).toEqual({});
    await s.set('docker/github-official', { 'github.personal_access_token': 'ghp_one' });
    await s.set('docker/hubspot', { 'hubspot.api_key': 'pat-two' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await s.get('docker/github-official')).toEqual({ 'github.personal_access_token': 'ghp_one' });
    expect(await s.names('docker/hubspot')).toEqual(['hubspot.api_key']);
    expect((await s.allValues()).sort()).toEqual(['ghp_one', 'pat-two']);
    await s.set('docker/hubspot', { 'hubspot.api_key': '' });
    expect(await s.names('docker/hubspot')).toEqual([]);
    expect(await s.allValues()).toEqual(['ghp_one']);
  });

  it('tightens a file found with wider permissions', async () => {
    const file = join(await newDir(), 'secrets.json');
    writeFileSync(file, JSON.stringify({ version: 1, secrets: { 'docker/a': { k: 'v' } } }));
    chmodSync(file, 0o644);
    const s = new SecretStore(file);
    await s.set('docker/b', { k2: 'v2' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await s.get('docker/a')).toEqual({ k: 'v' });
  });

  it('a corrupt secrets file loses at most its last write; its backup is 0600 and does not keep removed or replaced values', async () => {
    const dir = join(await newDir(), 'state');
    const file = join(dir, 'secrets.json');
    const bak = `${file}.bak`;
    const s = new SecretStore(file);
    await s.set('docker/a', { token: 'tok-a-1' });
    await s.set('docker/b', { token: 'tok-b-1' });
    await s.set('docker/c', { token: 'tok-c-1' }); // the last write
    expect(statSync(bak).mode & 0o777).toBe(0o600);
    writeFileSync(file, 'garbage, not JSON at all');
    const fresh = new SecretStore(file);
    expect(await fresh.namesByEntry()).toEqual({ 'docker/a': ['token'], 'docker/b': ['token'] });
    expect(fresh.recoveries).toEqual([expect.objectContaining({ file, restoredFrom: bak, movedTo: expect.stringMatching(/secrets\.json\.corrupt-/) })]);
    expect(statSync(fresh.recoveries[0]!.movedTo!).mode & 0o777).toBe(0o600);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // A replaced and a removed secret are gone from the backup as well as from the file.
    await fresh.set('docker/a', { token: 'tok-a-2' });
    await fresh.set('docker/b', { token: '' });
    await fresh.clear('docker/a');
    for (const f of [file, bak]) {
      const text = readFileSync(f, 'utf8');
      for (const gone of ['tok-a-1', 'tok-a-2', 'tok-b-1']) expect(text, `${f} still holds ${gone}`).not.toContain(gone);
    }
    expect(statSync(bak).mode & 0o777).toBe(0o600);
    // The next ordinary write backs up the generation before it again, leaving nothing else behind.
    await fresh.set('docker/d', { token: 'tok-d-1' });
    expect(JSON.parse(readFileSync(bak, 'utf8')).secrets).toEqual({});
    expect(readdirSync(dir).filter((n) => !n.includes('.corrupt-')).sort()).toEqual(['secrets.json', 'secrets.json.bak']);
  });

  it('concurrent sets from one process are all kept', async () => {
    const s = new SecretStore(join(await newDir(), 'secrets.json'));
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.set(`docker/e${i % 4}`, { [`k${i}`]: `v${i}` })));
    expect((await s.allValues()).length).toBe(20);
  });
});

describe('a registry started on a torn state.json and a garbage secrets.json', () => {
  it('comes back with the previous generation of both (at most the last write of each is lost), and registry-status says what was recovered from where', async (ctx) => {
    await requirePodman(ctx);
    const home = await makeHome({ sources: [{ name: 'test', type: 'file', path: join(repoRoot, 'test/fixtures/runtime-catalog') }], refresh: { onStart: false } });
    dirs.push(home);
    const stateFile = join(home, 'state', 'state.json');
    const secretsFile = join(home, 'state', 'secrets.json');
    type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
    let reg = await startRegistry(home);
    const call = async (name: string, args: Record<string, unknown> = {}) => (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
    try {
      expect((await call('registry-config-set', { id: 'test/tiny', values: { variant: 'v1', TINY_API_TOKEN: 'kept-token-1234' } })).isError).toBeFalsy();
      const add = await call('registry-add', { id: 'test/tiny' });
      expect(add.isError, JSON.stringify(add.content)).toBeFalsy();
      // The last write of each file: these are what a corruption may cost.
      expect((await call('registry-config-set', { id: 'test/tiny', values: { ignore_eof: '0' } })).isError).toBeFalsy();
      expect((await call('registry-config-set', { id: 'test/tiny-secret', values: { TINY_REQUIRED_TOKEN: 'lost-token-5678' } })).isError).toBeFalsy();
    } finally {
      await reg.close();
    }
    const whole = readFileSync(stateFile, 'utf8');
    writeFileSync(stateFile, whole.slice(0, whole.length - 40));
    writeFileSync(secretsFile, '\u0000\u0000 not json');

    reg = await startRegistry(home);
    try {
      const status = await call('registry-status');
      const recovered = (status.structuredContent as { recovered?: { file: string; restoredFrom?: string; movedTo?: string }[] }).recovered;
      expect(recovered).toHaveLength(2);
      expect(recovered).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ file: secretsFile, restoredFrom: `${secretsFile}.bak`, movedTo: expect.stringContaining(`${secretsFile}.corrupt-`) }),
          expect.objectContaining({ file: stateFile, restoredFrom: `${stateFile}.bak`, movedTo: expect.stringContaining(`${stateFile}.corrupt-`) }),
        ]),
      );
      const text = (status.content[0] as { text: string }).text;
      expect(text).toMatch(/⚠ .*state\.json is not valid JSON .*; kept as .*state\.json\.corrupt-.*; restored the previous generation from .*state\.json\.bak \(written \d{4}-/);
      expect(text).toMatch(/⚠ .*secrets\.json is not valid JSON .*restored the previous generation from .*secrets\.json\.bak/);
      // The mount, its setting and its secret are back; only the last change of each file is gone.
      const mounts = ((await call('registry-active')).structuredContent as { mounts: { id: string }[] }).mounts;
      expect(mounts.map((m) => m.id)).toEqual(['test/tiny']);
      expect((await call('tiny__env_has', { name: 'TINY_API_TOKEN' })).structuredContent).toMatchObject({ set: true, length: 'kept-token-1234'.length });
      expect((await call('tiny__env_has', { name: 'TINY_IGNORE_EOF' })).structuredContent).toMatchObject({ length: 0 });
      const found = (await call('registry-find', { query: 'tiny token' })).structuredContent as { results: { id: string; requiresConfig: string[] }[] };
      expect(found.results.find((r) => r.id === 'test/tiny-secret')?.requiresConfig).toEqual(['tiny-secret.token']);
      expect(JSON.stringify(status)).not.toContain('kept-token-1234');
    } finally {
      await reg.close();
    }
  });
});

it('the compiled build sits inside the repository so node finds its dependencies', () => {
  expect(resolve(build).startsWith(resolve(repoRoot))).toBe(true);
});
