import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATEGORIES } from '../../src/model/categories.js';
import { isRunnable, requiredConfig, type Entry } from '../../src/model/entry.js';
import { createLogger } from '../../src/util/log.js';
import { MAX_SERVER_YAML_BYTES, readDockerServersDir } from '../../src/sources/docker-yaml.js';
import { dockerBundle } from '../helpers/shared-data.js';

const log = createLogger('test');
let tmp: string;
let servers: string;
let entries: Entry[];
let warnings: string[];
const byName = (n: string) => {
  const e = entries.find((x) => x.nativeName === n);
  if (!e) throw new Error(`no entry ${n}`);
  return e;
};
const launchOf = <T extends Entry['launch'][number]['type']>(e: Entry, type: T) =>
  e.launch.find((l) => l.type === type) as Extract<Entry['launch'][number], { type: T }>;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'docker-yaml-'));
  execFileSync('git', ['clone', '--quiet', dockerBundle(), join(tmp, 'repo')]);
  servers = join(tmp, 'repo', 'servers');
  ({ entries, warnings } = await readDockerServersDir(servers, 'docker', log));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the real servers/ folder a test may damage. */
const copyServers = (label: string) => {
  const dir = join(tmp, label, 'servers');
  cpSync(servers, dir, { recursive: true });
  return dir;
};

describe('readDockerServersDir on the real registry', () => {
  it('reads every one of the 328 servers without a warning', () => {
    expect(warnings).toEqual([]);
    expect(entries).toHaveLength(328);
    const dirs = readdirSync(servers).sort();
    expect(entries.map((e) => e.nativeName).sort()).toEqual(dirs);
    expect(new Set(entries.map((e) => e.id)).size).toBe(328);
    for (const e of entries) {
      expect(e.id).toBe(`docker/${e.nativeName}`);
      expect(e.sources).toEqual([{ source: 'docker', id: e.id, url: `https://github.com/docker/mcp-registry/tree/main/servers/${e.nativeName}` }]);
      expect(e.description.length).toBeGreaterThan(0);
      // Every one runs, the poci servers too (each call runs the tool's own container).
      expect(isRunnable(e)).toBe(true);
    }
    expect(entries.filter((e) => e.launch[0]?.type === 'poci')).toHaveLength(3);
    expect(byName('SQLite').id).toBe('docker/SQLite');
  });

  it('keeps the three kinds of server apart (249 images, 76 remotes, 3 poci)', () => {
    const count = (t: string) => entries.filter((e) => e.launch[0]?.type === t).length;
    expect([count('image'), count('remote'), count('poci')]).toEqual([249, 76, 3]);
    const remotes = entries.map((e) => e.launch[0]).filter((l) => l?.type === 'remote');
    expect(remotes.filter((l) => l.transport === 'sse')).toHaveLength(30);
    expect(remotes.filter((l) => l.transport === 'streamable-http')).toHaveLength(46);
  });

  it('uses images exactly as written, never prefixing a registry', () => {
    expect(launchOf(byName('github-official'), 'image').image).toBe('ghcr.io/github/github-mcp-server');
    expect(launchOf(byName('kgrag-mcp-server'), 'image').image).toBe('mcp/kgrag_mcp_server');
    expect(launchOf(byName('mcp-github-pr-issue-analyser'), 'image').image).toBe('ghcr.io/saidsef/mcp-github-pr-issue-analyser:latest');
    expect(entries.some((e) => e.launch.some((l) => l.type === 'image' && l.image.startsWith('docker.io/')))).toBe(false);
    expect(byName('buildkite').meta).toMatchObject({ dockerBuilt: true });
    expect(byName('github-official').meta?.dockerBuilt).toBeUndefined();
  });

  it('reads secrets by their env, never by their name (github-official)', () => {
    const gh = byName('github-official');
    expect(gh.config.secrets).toEqual([
      expect.objectContaining({ name: 'github.personal_access_token', env: 'GITHUB_PERSONAL_ACCESS_TOKEN', required: true, example: '<YOUR_TOKEN>' }),
    ]);
    expect(gh.oauth).toEqual([{ provider: 'github', secret: 'github.personal_access_token', env: 'GITHUB_PERSONAL_ACCESS_TOKEN' }]);
    expect(launchOf(gh, 'image').allowHosts).toEqual(['api.github.com:443', 'github.com:443', 'raw.githubusercontent.com:443']);
    expect(gh.repository).toBe('https://github.com/github/github-mcp-server');
    // Across the registry most secrets' env differs from anything derivable from the name.
    const all = entries.flatMap((e) => e.config.secrets);
    expect(all).toHaveLength(214);
    expect(all.filter((s) => s.env !== s.name.split('.').pop()!.toUpperCase()).length).toBeGreaterThan(100);
  });

  it('reads an image server with secrets, env templates, parameters and run settings (grafana, aks)', () => {
    const g = byName('grafana');
    expect(g.config.secrets).toEqual([expect.objectContaining({ name: 'grafana.api_key', env: 'GRAFANA_API_KEY' })]);
    expect(g.config.env).toEqual([{ name: 'GRAFANA_URL', value: '{{grafana.url}}', example: 'http://localhost:3000' }]);
    expect(g.config.parameters).toEqual({ type: 'object', properties: { url: { type: 'string' } } });
    expect(g.config.description).toBe('Configure the connection to Grafana');
    expect(launchOf(g, 'image').command).toEqual(['--transport=stdio']);
    // Grafana has no description: title, tags and category make one up so search still finds it.
    expect(g.description).toMatch(/^Grafana\..*grafana, monitoring/);
    expect(g.category).toBe('monitoring');

    const aks = launchOf(byName('aks'), 'image');
    expect(aks.volumes).toEqual(['{{aks.azure_dir}}:/home/mcp/.azure', '{{aks.kubeconfig}}:/home/mcp/.kube/config']);
    expect(aks.user).toBe('{{aks.container_user}}');
    expect(requiredConfig(byName('aks'))).toEqual(['azure_dir', 'kubeconfig', 'access_level']);
    expect(launchOf(byName('filesystem'), 'image')).toMatchObject({ disableNetwork: true, command: ['{{filesystem.paths|volume-target|into}}'] });
    expect(launchOf(byName('notion'), 'image').env).toEqual({
      OPENAPI_MCP_HEADERS: '{"Authorization": "Bearer $INTERNAL_INTEGRATION_TOKEN", "Notion-Version": "2022-06-28"}',
    });
    expect(byName('atlassian').config.parameters).toMatchObject({ anyOf: [{ required: ['confluence'] }, { required: ['jira'] }] });
  });

  it('reads remotes with their headers, marking ${ENV} headers secret (apify, context7)', () => {
    const apify = byName('apify');
    expect(launchOf(apify, 'remote')).toEqual({
      type: 'remote',
      url: 'https://mcp.apify.com',
      transport: 'streamable-http',
      headers: [{ name: 'Authorization', value: 'Bearer ${APIFY_API_KEY}', secret: true }],
    });
    expect(launchOf(byName('context7'), 'remote').headers).toEqual([{ name: 'CONTEXT7_API_KEY', value: '${CONTEXT7_API_KEY}', secret: true }]);
    // Every ${ENV} a header references is a declared secret of the same server.
    const withHeaders = entries.filter((e) => e.launch.some((l) => l.type === 'remote' && l.headers?.length));
    expect(withHeaders).toHaveLength(14);
    for (const e of withHeaders) {
      for (const h of launchOf(e, 'remote').headers!) {
        for (const m of h.value!.matchAll(/\$\{(\w+)\}/g)) expect(e.config.secrets.map((s) => s.env)).toContain(m[1]);
      }
    }
    const notion = byName('notion-remote');
    expect(notion.dynamicTools).toBe(true);
    expect(notion.readme).toBeTruthy();
    expect(notion.oauth?.[0]?.provider).toBe('notion-remote');
    expect(entries.filter((e) => e.readme)).toHaveLength(81);
    expect(entries.filter((e) => e.dynamicTools)).toHaveLength(45);
  });

  it('reads poci servers with a container per tool (curl, docker, ffmpeg)', () => {
    const ffmpeg = byName('ffmpeg');
    const poci = launchOf(ffmpeg, 'poci');
    const fileExists = poci.tools.find((t) => t.name === 'file-exists')!;
    expect(fileExists).toMatchObject({ image: 'busybox', command: ['test', '-f', '{{path}}'], volumes: ['{{path}}:{{path}}'] });
    expect(fileExists.inputSchema).toMatchObject({ type: 'object', required: ['path'] });
    expect(ffmpeg.tools.map((t) => t.name)).toEqual(poci.tools.map((t) => t.name));
    expect(launchOf(byName('curl'), 'poci').tools).toEqual([
      expect.objectContaining({ name: 'curl', image: 'alpine/curl', command: ['{{args|into}}'] }),
    ]);
    expect(ffmpeg.category).toBe('media');
    expect(ffmpeg.tags).toContain('video');
  });

  it("turns tools.json in Docker's arguments[] shape into JSON schemas (buildkite)", () => {
    const tools = byName('buildkite').tools;
    const create = tools.find((t) => t.name === 'create_build')!;
    expect(create.inputSchema).toMatchObject({
      type: 'object',
      required: ['branch', 'commit', 'message', 'org_slug', 'pipeline_slug'],
      properties: { environment: { type: 'array', items: { type: 'object' }, description: 'Environment variables to set for the build' } },
    });
    // A Docker-shaped tool without arguments takes none.
    expect(tools.find((t) => t.name === 'access_token')!.inputSchema).toEqual({ type: 'object', properties: {} });
  });

  it("keeps tools.json in MCP's inputSchema shape as is (alfresco) and name-only tools without a schema (zscaler)", () => {
    const raw = JSON.parse(readFileSync(join(servers, 'alfresco', 'tools.json'), 'utf8')) as { name: string; inputSchema: unknown }[];
    const alfresco = byName('alfresco').tools;
    expect(alfresco.map((t) => t.name)).toEqual(raw.map((t) => t.name));
    expect(alfresco[0]!.inputSchema).toEqual(raw[0]!.inputSchema);
    const zscaler = byName('zscaler-mcp-server').tools;
    expect(zscaler).toHaveLength(302);
    expect(zscaler.every((t) => t.inputSchema === undefined && t.description)).toBe(true);
    // 54 tools.json files are just [] (remotes whose tools are only known live).
    expect(byName('asana').tools).toEqual([]);
    expect(byName('asana').dynamicTools).toBe(true);
    // notion-remote's tools take no arguments: an empty schema, not an unknown one.
    expect(byName('notion-remote').tools.find((t) => t.name === 'search_pages')!.inputSchema).toEqual({ type: 'object', properties: {} });
  });

  it('survives the kgrag quirk: null parameters with the schema mis-indented under config', () => {
    const kg = byName('kgrag-mcp-server');
    const params = kg.config.parameters as { type: string; properties: Record<string, { type: string; default?: unknown }>; required: string[] };
    expect(params.type).toBe('object');
    expect(Object.keys(params.properties)).toHaveLength(13);
    expect(params.properties.temperature).toMatchObject({ type: 'number', default: 0.5 });
    expect(params.required).toEqual(['llm_model_type', 'llm_model_name']);
    expect(kg.config.env.find((e) => e.name === 'TEMPERATURE')).toEqual({ name: 'TEMPERATURE', value: '{{kgrag-mcp-server.temperature}}', example: '0.5' });
    // A block-scalar description keeps its line break.
    expect(kg.description).toBe('Manage, ingest, and query structured/unstructured data.\nDesigned to integrate with Neo4j, AWS S3, Redis, Qdrant, and LLMs.');
  });

  it('declares settings that templates use but the schema forgot, so a user can set them', () => {
    const props = (byName('mcp-github-pr-issue-analyser').config.parameters as { properties: Record<string, unknown> }).properties;
    expect(Object.keys(props).sort()).toEqual(['github_token', 'githubtoken']);
    const vectra = (byName('vectra-ai-rux-mcp-server').config.parameters as { properties: Record<string, unknown> }).properties;
    expect(vectra).toHaveProperty('vectra_client_id');
  });

  it('maps the 44 raw categories onto the shared vocabulary and keeps the raw word as a tag', () => {
    for (const e of entries) expect(CATEGORIES).toContain(e.category);
    const morningstar = byName('morningstar-mcp-server');
    expect(morningstar.category).toBe('finance');
    expect(morningstar.tags).toContain('fintech');
    expect(byName('amazon-kendra-index').category).toBe('ai');
    expect(byName('next-devtools-mcp').category).toBe('development');
    expect(byName('arm-mcp').category).toBe('development');
    expect(byName('victorialogs').category).toBe('monitoring'); // written as "monitoring" in quotes
  });

  it('normalises repositories, with the subfolder and the upstream project', () => {
    expect(byName('aws-api').repository).toBe('https://github.com/awslabs/mcp/src/aws-api-mcp-server');
    expect(byName('SQLite').repository).toBe('https://github.com/modelcontextprotocol/servers/src/sqlite');
    expect(byName('alfresco').repository).toBe('https://github.com/alfrescolabs/alfresco-mcp-server');
    // Docker builds circleci from a fork; the upstream is what other registries list.
    expect(byName('circleci').repository).toBe('https://github.com/circleci-public/mcp-server-circleci');
    expect(byName('circleci').meta?.source).toMatchObject({ project: 'https://github.com/cmrigney/mcp-server-circleci' });
    expect(entries.filter((e) => e.repository)).toHaveLength(250);
  });
});

describe('readDockerServersDir on damaged input', () => {
  it('skips a server.yaml that is not YAML with a warning naming the file, and keeps the other 327', async () => {
    const dir = copyServers('broken');
    writeFileSync(join(dir, 'grafana', 'server.yaml'), 'name: grafana\nabout: [unclosed\n  title: {{\n');
    const r = await readDockerServersDir(dir, 'docker', log);
    expect(r.entries).toHaveLength(327);
    expect(r.entries.some((e) => e.nativeName === 'grafana')).toBe(false);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain(join(dir, 'grafana', 'server.yaml'));
    expect(r.warnings[0]).toMatch(/not valid YAML/);
  });

  it('skips huge files, non-mapping documents and folders without server.yaml; keeps entries whose tools.json is broken', async () => {
    const dir = copyServers('odd');
    writeFileSync(join(dir, 'grafana', 'server.yaml'), 'name: grafana\n# ' + 'x'.repeat(MAX_SERVER_YAML_BYTES) + '\n');
    writeFileSync(join(dir, 'curl', 'server.yaml'), '- just\n- a list\n');
    writeFileSync(join(dir, 'buildkite', 'tools.json'), '[{"name": "oops",');
    mkdirSync(join(dir, 'empty-folder'));
    writeFileSync(join(dir, 'README.md'), 'not a server');
    const r = await readDockerServersDir(dir, 'docker', log);
    expect(r.entries).toHaveLength(326);
    expect(r.warnings).toHaveLength(4);
    expect(r.warnings.find((w) => w.includes(join('grafana', 'server.yaml')))).toMatch(/too large/);
    expect(r.warnings.find((w) => w.includes(join('curl', 'server.yaml')))).toMatch(/found a list/);
    expect(r.warnings.find((w) => w.includes('empty-folder'))).toMatch(/no server\.yaml/);
    expect(r.warnings.find((w) => w.includes(join('buildkite', 'tools.json')))).toMatch(/not readable JSON/);
    const buildkite = r.entries.find((e) => e.nativeName === 'buildkite')!;
    expect(buildkite.tools).toEqual([]);
    expect(buildkite.config.secrets[0]!.env).toBe('BUILDKITE_API_TOKEN');
  });

  it('tolerates unknown keys, null and odd example values, missing env and secrets without env', async () => {
    const dir = join(tmp, 'handmade', 'servers');
    mkdirSync(join(dir, 'odd'), { recursive: true });
    writeFileSync(
      join(dir, 'odd', 'server.yaml'),
      [
        'name: odd',
        'image: example.org/odd:1.2',
        'type: server',
        'futureKey: {nested: true}',
        'meta: {category: Developer Tools, tags: [a, 7]}',
        'about: {title: Odd}',
        'run: {ports: ["8080:8080"], user: 1000, command: [--port, 8080]}',
        'config:',
        '  volumes: [/x:/y]',
        '  secrets:',
        '    - {name: odd.token, env: ODD_TOKEN, example: null, required: false}',
        '    - {name: odd.nameonly}',
        '  env:',
        '    - {name: PLAIN, value: 42, example: true}',
        '    - {name: NOVALUE}',
        '  parameters: null',
      ].join('\n'),
    );
    const r = await readDockerServersDir(dir, 'mine', log, { webBase: null });
    expect(r.entries).toHaveLength(1);
    const e = r.entries[0]!;
    expect(e.id).toBe('mine/odd');
    expect(e.sources).toEqual([{ source: 'mine', id: 'mine/odd' }]);
    expect(e.category).toBe('development');
    expect(e.tags).toEqual(['a', '7', 'developer tools']);
    expect(e.launch).toEqual([{ type: 'image', image: 'example.org/odd:1.2', command: ['--port', '8080'], user: '1000' }]);
    expect(e.config.secrets).toEqual([{ name: 'odd.token', env: 'ODD_TOKEN', required: false }]);
    expect(e.config.env).toEqual([{ name: 'PLAIN', value: '42', example: true }, { name: 'NOVALUE' }]);
    expect(e.config.parameters).toBeUndefined();
    expect(r.warnings).toEqual([expect.stringMatching(/secret "odd\.nameonly" has no env variable/)]);
  });
});
