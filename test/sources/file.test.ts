import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { createLogger } from '../../src/util/log.js';
import { parseConfig } from '../../src/config/config.js';
import { FileSource } from '../../src/sources/file.js';
import { createSource, DockerSource, McpServersSource, OfficialSource } from '../../src/sources/index.js';
import { OFFICIAL_META_KEY } from '../../src/sources/server-json.js';
import { SourceError, type FetchContext, type FetchResult } from '../../src/sources/source.js';
import { dockerBundle, sharedData } from '../helpers/shared-data.js';

const LIST_PAGE = sharedData('official-registry/list-page.json');
interface Envelope {
  server: Record<string, unknown>;
  _meta: Record<string, Record<string, unknown>>;
}
const realEnvelopes = () => (JSON.parse(readFileSync(LIST_PAGE, 'utf8')) as { servers: Envelope[] }).servers;
const realServers = () => realEnvelopes().map((e) => e.server);

let tmp: string;
let clone: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'file-source-'));
  clone = join(tmp, 'docker-clone');
  execFileSync('git', ['clone', '--quiet', dockerBundle(), clone]);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const log = createLogger('test');
const ctx = (over: Partial<FetchContext> = {}): FetchContext => ({
  previous: null,
  workDir: join(tmp, 'work'),
  signal: new AbortController().signal,
  progress: () => undefined,
  log,
  force: false,
  ...over,
});
const previousOf = (r: FetchResult): FetchContext['previous'] => ({ entries: r.entries, state: r.state, fetchedAt: new Date().toISOString() });
const src = (path: string) => new FileSource({ name: 'internal', path });
const ids = (r: FetchResult) => r.entries.map((e) => e.id).sort();
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);
let n = 0;
const file = (name: string, text: string) => {
  const dir = join(tmp, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

const REAL_IDS = ['internal/ae.propick/propick', 'internal/com.notion/mcp', 'internal/com.pulsemcp/remote-filesystem', 'internal/io.github.rghsoftware/linux-filesystem'];

describe('FileSource catalog files', () => {
  it('reads a YAML list of bare server.json objects', async () => {
    const res = await src(file('catalog.yaml', toYaml(realServers()))).fetch(ctx());
    expect(ids(res)).toEqual(REAL_IDS);
    const propick = res.entries.find((e) => e.nativeName === 'ae.propick/propick')!;
    expect(propick.config.secrets).toEqual([expect.objectContaining({ name: 'Authorization', env: 'AUTHORIZATION', required: true })]);
    expect(propick.sources[0]).toEqual({ source: 'internal', id: 'internal/ae.propick/propick', url: expect.stringMatching(/catalog\.yaml$/) });
    expect(res.warnings).toEqual([]);
  });

  it('reads the registry API page itself: JSON {servers: [...]} of {server, _meta} envelopes', async () => {
    const res = await src(LIST_PAGE).fetch(ctx());
    expect(ids(res)).toEqual(REAL_IDS);
    const notion = res.entries.find((e) => e.nativeName === 'com.notion/mcp')!;
    expect(notion.publishedAt).toBe('2025-09-11T22:25:50.737872Z');
    expect(notion.meta?.[OFFICIAL_META_KEY]).toMatchObject({ isLatest: true });
  });

  it('accepts a YAML {servers} mixing envelopes and bare objects, keeps the latest version, drops deleted, skips a bad item', async () => {
    const [notion, propick, pulse] = realEnvelopes();
    const older = structuredClone(pulse.server);
    older.version = '0.0.9';
    const yaml = toYaml({
      servers: [
        notion,
        { server: propick.server, _meta: { [OFFICIAL_META_KEY]: { status: 'deleted' } } },
        older,
        pulse.server,
        { name: 'com.example/broken', packages: [{ registryType: 'npm' }] },
      ],
    });
    const res = await src(file('servers.yml', yaml)).fetch(ctx());
    expect(ids(res)).toEqual(['internal/com.notion/mcp', 'internal/com.pulsemcp/remote-filesystem']);
    expect(res.entries.find((e) => e.nativeName === 'com.pulsemcp/remote-filesystem')!.version).toBe('0.1.5');
    expect(res.warnings).toHaveLength(1);
    expect(res.warnings![0]).toMatch(/servers\.yml: item 5: server\.json "com\.example\/broken" field "packages\.0\.identifier"/);
  });

  it('is unchanged while size and mtime stay, re-reads on edit or force', async () => {
    const path = file('catalog.json', JSON.stringify(realServers().slice(0, 2)));
    const s = src(path);
    const first = await s.fetch(ctx());
    expect(first.entries).toHaveLength(2);

    const again = await s.fetch(ctx({ previous: previousOf(first) }));
    expect(again.unchanged).toBe(true);

    const forced = await s.fetch(ctx({ previous: previousOf(first), force: true }));
    expect(forced.unchanged).toBeFalsy();
    expect(forced.entries).toHaveLength(2);

    writeFileSync(path, JSON.stringify(realServers()));
    utimesSync(path, new Date(), new Date(Date.now() + 5_000));
    const edited = await s.fetch(ctx({ previous: previousOf(first) }));
    expect(edited.unchanged).toBeFalsy();
    expect(edited.entries).toHaveLength(4);
  });

  it('reads a directory of server.json files (JSON and YAML) and skips a broken one with a warning', async () => {
    const dir = join(tmp, 'json-dir');
    mkdirSync(dir);
    const [a, b, c] = realServers();
    writeFileSync(join(dir, 'a.json'), JSON.stringify(a));
    writeFileSync(join(dir, 'b.yaml'), toYaml(b));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ servers: [c] }));
    writeFileSync(join(dir, 'd.json'), '{ "name": ');
    writeFileSync(join(dir, 'notes.txt'), 'not a catalog file');
    const s = src(dir);
    const res = await s.fetch(ctx());
    expect(ids(res)).toEqual(['internal/ae.propick/propick', 'internal/com.notion/mcp', 'internal/com.pulsemcp/remote-filesystem']);
    expect(res.warnings).toEqual([expect.stringMatching(/d\.json is not valid JSON/)]);

    // An edit inside the directory is noticed even though the directory itself did not change.
    expect((await s.fetch(ctx({ previous: previousOf(res) }))).unchanged).toBe(true);
    writeFileSync(join(dir, 'd.json'), JSON.stringify(realServers()[3]));
    const fixed = await s.fetch(ctx({ previous: previousOf(res) }));
    expect(fixed.entries).toHaveLength(4);
  });
});

describe('FileSource docker-layout directories', () => {
  const picked = ['github-official', 'notion-remote', 'curl'];
  it.each([
    ['a repository with servers/<name>/server.yaml', true],
    ['a directory holding <name>/server.yaml itself', false],
  ])('reads %s', async (_label, nested) => {
    const root = join(tmp, `docker-${nested ? 'nested' : 'flat'}`);
    const serversDir = nested ? join(root, 'servers') : root;
    for (const d of picked) cpSync(join(clone, 'servers', d), join(serversDir, d), { recursive: true });
    if (nested) writeFileSync(join(root, 'README.md'), '# my servers');

    const s = src(root);
    const res = await s.fetch(ctx());
    expect(ids(res)).toEqual(['internal/curl', 'internal/github-official', 'internal/notion-remote']);
    const curl = res.entries.find((e) => e.id === 'internal/curl')!;
    expect(curl.launch[0].type).toBe('poci');
    const notion = res.entries.find((e) => e.id === 'internal/notion-remote')!;
    expect(notion.launch[0]).toMatchObject({ type: 'remote' });
    expect(notion.sources[0].url ?? '').not.toContain('github.com/docker/mcp-registry');
    const gh = res.entries.find((e) => e.id === 'internal/github-official')!;
    expect(gh.config.secrets.length).toBeGreaterThan(0);

    expect((await s.fetch(ctx({ previous: previousOf(res) }))).unchanged).toBe(true);
    // Editing one server.yaml is noticed.
    const y = join(serversDir, 'curl', 'server.yaml');
    writeFileSync(y, readFileSync(y, 'utf8') + '\n# edited\n');
    expect((await s.fetch(ctx({ previous: previousOf(res) }))).unchanged).toBeFalsy();
  });
});

describe('FileSource errors say what is wrong and what is expected', () => {
  it('a missing file', async () => {
    const err = await errorOf(src(join(tmp, 'nope.yaml')).fetch(ctx()));
    expect(err).toBeInstanceOf(SourceError);
    expect(err!.message).toMatch(/catalog .*nope\.yaml \(source "internal"\) does not exist — create it or fix "path" in config\.yaml; expected a YAML or JSON list of server\.json objects/);
  });

  it('a YAML syntax error, with line and column', async () => {
    const path = file('bad.yaml', '- name: com.example/a\n  description: ok\n- name: [unclosed\n  description: x\n');
    const err = await errorOf(src(path).fetch(ctx()));
    expect(err).toBeInstanceOf(SourceError);
    expect(err!.message).toMatch(/bad\.yaml is not valid YAML at line \d+, column \d+: .*— fix the file; expected a YAML or JSON list/);
  });

  it('a JSON syntax error, with line and column', async () => {
    const path = file('bad.json', '[\n  {"name": "com.example/a",\n   "description": "x",}\n]');
    const err = await errorOf(src(path).fetch(ctx()));
    expect(err!.message).toMatch(/bad\.json is not valid JSON at line 3, column 23/);
  });

  it('a file that is not a server list', async () => {
    const err = await errorOf(src(file('wrong.yaml', 'mcpServers:\n  foo:\n    command: npx\n')).fetch(ctx()));
    expect(err!.message).toMatch(/wrong\.yaml has no server list — expected a YAML or JSON list of server\.json objects, or \{servers: \[\.\.\.\]\}/);
  });

  it('a directory with nothing to read', async () => {
    const dir = join(tmp, 'empty-dir');
    mkdirSync(dir);
    const err = await errorOf(src(dir).fetch(ctx()));
    expect(err!.message).toMatch(/empty-dir holds no catalog files — expected/);
  });
});

describe('createSource', () => {
  it('builds every configured source type; a relative catalog path resolves against the config file', async () => {
    const dir = join(tmp, 'config-home');
    mkdirSync(dir);
    writeFileSync(join(dir, 'catalog.yaml'), toYaml(realServers().slice(0, 1)));
    const cfg = parseConfig(
      {
        sources: [
          { name: 'docker', type: 'docker', url: clone },
          { name: 'mcpservers', type: 'mcpservers' },
          { name: 'official', type: 'official' },
          { name: 'internal', type: 'file', path: './catalog.yaml' },
        ],
      },
      dir,
    );
    const sources = cfg.sources.map(createSource);
    expect(sources.map((s) => [s.name, s.type])).toEqual([
      ['docker', 'docker'],
      ['mcpservers', 'mcpservers'],
      ['official', 'official'],
      ['internal', 'file'],
    ]);
    expect(sources[0]).toBeInstanceOf(DockerSource);
    expect(sources[1]).toBeInstanceOf(McpServersSource);
    expect(sources[2]).toBeInstanceOf(OfficialSource);
    const res = await sources[3].fetch(ctx());
    expect(ids(res)).toEqual(['internal/com.notion/mcp']);
  });
});
