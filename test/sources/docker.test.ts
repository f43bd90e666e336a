import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/util/log.js';
import { DockerSource, type DockerState } from '../../src/sources/docker.js';
import { SourceError, type FetchContext, type FetchResult, type SourceProgress } from '../../src/sources/source.js';
import { dockerBundle } from '../helpers/shared-data.js';

const HEAD = '818bf169b365e7b7d5b117352e32757c54844718';
const log = createLogger('test');
let tmp: string;
/** A bare repository made from the bundle: the "remote" tests move around. */
let bare: string;
let old: string;

const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
/** The servers git itself says a commit has (folders with a server.yaml): the truth entries are checked against. */
const serversAt = (rev: string) =>
  git('-C', bare, 'ls-tree', '-r', '--name-only', rev, '--', 'servers/')
    .split('\n')
    .filter((p) => /^servers\/[^/]+\/server\.yaml$/.test(p))
    .map((p) => `docker/${p.split('/')[1]}`)
    .sort();
const moveMain = (rev: string) => git('-C', bare, 'update-ref', 'refs/heads/main', rev);

let n = 0;
const workDir = () => join(tmp, `work-${++n}`);
const ctx = (dir: string, over: Partial<FetchContext> = {}): FetchContext & { messages: string[] } => {
  const messages: string[] = [];
  return {
    previous: null,
    workDir: dir,
    signal: new AbortController().signal,
    progress: (p: SourceProgress) => void messages.push(p.message),
    log,
    force: false,
    messages,
    ...over,
  };
};
const previousOf = (r: FetchResult): FetchContext['previous'] => ({ entries: r.entries, state: r.state, fetchedAt: new Date().toISOString() });
const ids = (r: FetchResult) => r.entries.map((e) => e.id).sort();
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);
const source = (url: string, ref = 'main') => new DockerSource({ name: 'docker', url, ref });

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'docker-source-'));
  bare = join(tmp, 'remote.git');
  git('clone', '--quiet', '--bare', dockerBundle(), bare);
  // An older commit with a visibly different server list (the registry grows over time).
  old = git('-C', bare, 'rev-list', '-n', '1', '--before=2025-09-01', 'main');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('DockerSource', () => {
  it('clones the bundle, reads all 328 servers, then answers "unchanged" until forced', async () => {
    const dir = workDir();
    const src = source(dockerBundle());
    const c1 = ctx(dir);
    const first = await src.fetch(c1);
    expect(first.entries).toHaveLength(328);
    expect(first.unchanged).toBeFalsy();
    expect(first.warnings).toBeUndefined();
    expect(first.state).toMatchObject({ commit: HEAD, url: dockerBundle(), ref: 'main' });
    expect(c1.messages.some((m) => m.includes('cloning'))).toBe(true);
    expect(existsSync(join(dir, 'repo', 'servers', 'github-official', 'server.yaml'))).toBe(true);

    const second = await src.fetch(ctx(dir, { previous: previousOf(first) }));
    expect(second.unchanged).toBe(true);
    expect(second.entries).toBe(first.entries);
    expect((second.state as DockerState).commit).toBe(HEAD);

    const forced = await src.fetch(ctx(dir, { previous: previousOf(first), force: true }));
    expect(forced.unchanged).toBeFalsy();
    expect(forced.entries).toHaveLength(328);
    expect(forced.entries).not.toBe(first.entries);
  });

  it('follows the remote forward and back again (a force-push) with fetch + hard reset', async () => {
    const oldIds = serversAt(old);
    const newIds = serversAt('main');
    expect(oldIds.length).toBeGreaterThan(50);
    expect(oldIds).not.toEqual(newIds);
    const dir = workDir();
    const src = source(bare);
    try {
      moveMain(old);
      const r1 = await src.fetch(ctx(dir));
      expect(ids(r1)).toEqual(oldIds);
      expect((r1.state as DockerState).commit).toBe(old);

      moveMain(HEAD);
      const r2 = await src.fetch(ctx(dir, { previous: previousOf(r1) }));
      expect(r2.unchanged).toBeFalsy();
      expect(ids(r2)).toEqual(newIds);
      expect((r2.state as DockerState).commit).toBe(HEAD);

      moveMain(old);
      // A server folder left in the clone by hand must not become an entry.
      mkdirSync(join(dir, 'repo', 'servers', 'stray'));
      writeFileSync(join(dir, 'repo', 'servers', 'stray', 'server.yaml'), 'name: stray\ntype: server\nimage: x/y\n');
      const r3 = await src.fetch(ctx(dir, { previous: previousOf(r2) }));
      expect(ids(r3)).toEqual(oldIds);
      expect(existsSync(join(dir, 'repo', 'servers', 'stray'))).toBe(false);
    } finally {
      moveMain(HEAD);
    }
  });

  it('clones a URL remote shallowly and still updates it', async () => {
    const dir = workDir();
    const src = source(`file://${bare}`);
    try {
      moveMain(old);
      const r1 = await src.fetch(ctx(dir));
      expect(git('-C', join(dir, 'repo'), 'rev-parse', '--is-shallow-repository')).toBe('true');
      expect(git('-C', join(dir, 'repo'), 'rev-list', '--count', 'HEAD')).toBe('1');
      moveMain(HEAD);
      const r2 = await src.fetch(ctx(dir, { previous: previousOf(r1) }));
      expect(r2.entries).toHaveLength(328);
      expect((r2.state as DockerState).commit).toBe(HEAD);
    } finally {
      moveMain(HEAD);
    }
  });

  it('re-points the clone when the configured URL changes', async () => {
    const dir = workDir();
    moveMain(old);
    let r1: FetchResult;
    try {
      r1 = await source(bare).fetch(ctx(dir));
    } finally {
      moveMain(HEAD);
    }
    const r2 = await source(dockerBundle()).fetch(ctx(dir, { previous: previousOf(r1) }));
    expect(r2.unchanged).toBeFalsy();
    expect(r2.entries).toHaveLength(328);
    expect(git('-C', join(dir, 'repo'), 'remote', 'get-url', 'origin')).toBe(dockerBundle());
  });

  it('fails with a clear SourceError when the remote vanishes, keeping the clone for when it is back', async () => {
    const dir = workDir();
    const remote = join(tmp, 'vanishing.git');
    git('clone', '--quiet', '--bare', bare, remote);
    const src = source(remote);
    const r1 = await src.fetch(ctx(dir));
    renameSync(remote, `${remote}.away`);
    const err = await errorOf(src.fetch(ctx(dir, { previous: previousOf(r1) })));
    expect(err).toBeInstanceOf(SourceError);
    expect(err!.message).toContain(`cannot fetch ${remote}`);
    expect(err!.message).toMatch(/check the url in config\.yaml/);
    expect(existsSync(join(dir, 'repo', '.git'))).toBe(true);
    renameSync(`${remote}.away`, remote);
    const r3 = await src.fetch(ctx(dir, { previous: previousOf(r1) }));
    expect(r3.unchanged).toBe(true);
  });

  it('fails clearly for a remote that never existed and leaves nothing half-cloned', async () => {
    const dir = workDir();
    const missing = join(tmp, 'no-such-repo.git');
    const err = await errorOf(source(missing).fetch(ctx(dir)));
    expect(err).toBeInstanceOf(SourceError);
    expect(err!.message).toContain(`cannot clone ${missing}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('names a missing branch and says what to set', async () => {
    const dir = workDir();
    const err = await errorOf(source(bare, 'no-such-branch').fetch(ctx(dir)));
    expect(err).toBeInstanceOf(SourceError);
    expect(err!.message).toMatch(/has no branch "no-such-branch".*set ref/);
    expect(readdirSync(dir)).toEqual([]);
    // A bad branch name is refused before git sees it.
    const bad = await errorOf(source(bare, '--upload-pack=touch x').fetch(ctx(workDir())));
    expect(bad!.message).toMatch(/is not a branch name/);
  });

  it('re-clones a corrupt clone once and cleans up crash leftovers', async () => {
    const dir = workDir();
    const src = source(bare);
    const r1 = await src.fetch(ctx(dir));
    // Objects gone (a disk problem, a killed gc) and a half-written clone from a crashed run.
    rmSync(join(dir, 'repo', '.git', 'objects'), { recursive: true, force: true });
    mkdirSync(join(dir, 'repo', '.git', 'objects'));
    mkdirSync(join(dir, 'repo.partial-999999-dead'));
    writeFileSync(join(dir, 'repo.partial-999999-dead', 'junk'), 'x');
    const r2 = await src.fetch(ctx(dir, { previous: previousOf(r1) }));
    expect(r2.entries).toHaveLength(328);
    expect(readdirSync(dir)).toEqual(['repo']);
    expect(git('-C', join(dir, 'repo'), 'fsck', '--no-dangling', '--connectivity-only')).toBe('');
  });

  it('recovers from lock files a killed git left behind', async () => {
    const dir = workDir();
    const src = source(bare);
    const r1 = await src.fetch(ctx(dir));
    writeFileSync(join(dir, 'repo', '.git', 'index.lock'), '');
    writeFileSync(join(dir, 'repo', '.git', 'shallow.lock'), '');
    const r2 = await src.fetch(ctx(dir, { previous: previousOf(r1), force: true }));
    expect(r2.entries).toHaveLength(328);
  });

  it('refuses a repository without servers/ with advice', async () => {
    const plain = join(tmp, 'plain');
    mkdirSync(plain);
    git('-C', plain, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(join(plain, 'README.md'), 'hello');
    git('-C', plain, 'add', 'README.md');
    git('-C', plain, '-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '--quiet', '-m', 'init');
    const err = await errorOf(source(plain).fetch(ctx(workDir())));
    expect(err).toBeInstanceOf(SourceError);
    expect(err!.message).toMatch(/has no servers\/ folder.*docker\/mcp-registry/);
  });

  it('stops when the refresh is cancelled and leaves no partial clone', async () => {
    const dir = workDir();
    const ac = new AbortController();
    ac.abort(new Error('shutting down'));
    const err = await errorOf(source(bare).fetch(ctx(dir, { signal: ac.signal })));
    expect(err).toBeInstanceOf(Error);
    expect(readdirSync(dir)).toEqual([]);
  });
});
