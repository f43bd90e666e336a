import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { createLogger } from '../../src/util/log.js';
import { readDockerServersDir } from '../../src/sources/docker-yaml.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEntry, type Entry } from '../../src/model/entry.js';
import { serverJsonToEntry } from '../../src/sources/server-json.js';
import { chooseLaunch, planLaunch, type LaunchPlan, type PlanInput, type PlanResult } from '../../src/runtime/launch-plan.js';
import { DEFAULT_USER } from '../../src/runtime/plan/container-plan.js';
import { loadDockerEntries, type DockerEntries } from '../helpers/docker-entries.js';
import { sharedData } from '../helpers/shared-data.js';
import { launchEntry, pickLaunch } from '../../src/model/launch-choice.js';
import { plannedChoice } from '../../src/runtime/build/start.js';

const defaults = { memory: '512m', cpus: '1', pidsLimit: 256 };
let real: DockerEntries;
let tmp: string;

beforeAll(async () => {
  real = await loadDockerEntries('launch-plan-');
  tmp = real.dir;
});
afterAll(() => real.cleanup());

const docker = (name: string): Entry => real.get(name);
const plan = (e: Entry, input: Partial<PlanInput> = {}): PlanResult => planLaunch(e, { settings: {}, secrets: {}, defaults, ...input });
function okPlan<K extends LaunchPlan['kind']>(r: PlanResult, kind: K): { plan: Extract<LaunchPlan, { kind: K }>; secretValues: string[] } {
  if (!r.ok) throw new Error(`expected a plan, got: ${r.message}`);
  expect(r.plan.kind).toBe(kind);
  return r as never;
}
const folder = (name: string) => {
  const p = join(tmp, name);
  mkdirSync(p, { recursive: true });
  return p;
};

describe('planLaunch on real Docker catalog entries', () => {
  it('github-official: asks for the token with the exact call, then passes it only as secret env', () => {
    const e = docker('github-official');
    const missing = plan(e);
    expect(missing.ok).toBe(false);
    if (missing.ok) return;
    expect(missing.missing).toEqual([
      expect.objectContaining({
        name: 'github.personal_access_token',
        kind: 'secret',
        env: 'GITHUB_PERSONAL_ACCESS_TOKEN',
        how: 'registry-config-set {"id":"docker/github-official","values":{"github.personal_access_token":"…"}}',
      }),
    ]);
    expect(missing.message).toContain('registry-config-set');

    const { plan: p, secretValues } = okPlan(plan(e, { secrets: { 'github.personal_access_token': 'ghp_realLookingToken123' } }), 'container');
    expect(p.image).toBe('ghcr.io/github/github-mcp-server');
    expect(p.secretEnv).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: 'ghp_realLookingToken123' });
    expect(p.env).toEqual({});
    expect(p.command).toBeUndefined();
    expect(p).toMatchObject({ user: DEFAULT_USER, network: 'default', readOnly: true, memory: '512m', cpus: '1', pidsLimit: 256 });
    expect(p.allowHosts).toContain('api.github.com:443');
    expect(secretValues).toEqual(['ghp_realLookingToken123']);
    // The secret appears nowhere but secretEnv.
    const { secretEnv: _s, ...rest } = p;
    expect(JSON.stringify(rest)).not.toContain('ghp_realLookingToken123');
  });

  it('aws-msk: config.env templates take parameter defaults, unset ones are omitted, both secrets reported together', () => {
    const e = docker('aws-msk');
    const r = plan(e);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.missing.map((m) => [m.kind, m.name, m.env])).toEqual([
      ['secret', 'aws-msk.aws_secret_access_key', 'AWS_SECRET_ACCESS_KEY'],
      ['secret', 'aws-msk.aws_session_token', 'AWS_SESSION_TOKEN'],
    ]);
    // One call sets everything that is missing.
    expect(r.message).toContain('{"id":"docker/aws-msk","values":{"aws-msk.aws_secret_access_key":"…","aws-msk.aws_session_token":"…"}}');

    const { plan: p } = okPlan(
      plan(e, { secrets: { 'aws-msk.aws_secret_access_key': 's3cr3t', 'aws-msk.aws_session_token': 'tok' }, settings: { aws_profile: 'prod' } }),
      'container',
    );
    // Qualified as Docker reads it: podman has no default registry for short names.
    expect(p.image).toBe('docker.io/mcp/aws-msk-mcp-server');
    expect(p.env).toEqual({ AWS_REGION: 'us-east-1', AWS_PROFILE: 'prod' }); // AWS_ACCESS_KEY_ID unset → omitted
    expect(p.secretEnv).toEqual({ AWS_SECRET_ACCESS_KEY: 's3cr3t', AWS_SESSION_TOKEN: 'tok' });
  });

  it('elasticsearch: a missing required setting and a missing secret come back in one answer', () => {
    const r = plan(docker('elasticsearch'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.missing.map((m) => `${m.kind}:${m.name}`).sort()).toEqual(['secret:elasticsearch.api_key', 'setting:url']);
    expect(r.missing.find((m) => m.name === 'url')!.how).toBe('registry-config-set {"id":"docker/elasticsearch","values":{"url":"…"}}');

    const { plan: p } = okPlan(plan(docker('elasticsearch'), { settings: { url: 'http://127.0.0.1:9200' }, secrets: { 'elasticsearch.api_key': 'k' } }), 'container');
    expect(p.command).toEqual(['stdio']);
    expect(p.env).toEqual({ ES_URL: 'http://127.0.0.1:9200' });
    expect(p.secretEnv).toEqual({ ES_API_KEY: 'k' });
  });

  it('filesystem: |volume|into mounts every path, |volume-target|into passes them as arguments, network off', () => {
    const a = folder('share-a');
    const b = folder('share b');
    const { plan: p } = okPlan(plan(docker('filesystem'), { settings: { paths: [a, b] } }), 'container');
    expect(p.image).toBe('docker.io/mcp/filesystem');
    expect(p.volumes).toEqual([`${a}:${a}`, `${b}:${b}`]);
    expect(p.command).toEqual([a, b]);
    expect(p.network).toBe('none');
  });

  it('filesystem without settings: the schema default (/Users/local-test) is no path the user chose, so "paths" is asked for', () => {
    const r = plan(docker('filesystem'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.missing).toHaveLength(1);
    expect(r.missing[0]).toMatchObject({ name: 'paths', kind: 'setting', how: 'registry-config-set {"id":"docker/filesystem","values":{"paths":["…"]}}' });
    expect(r.missing[0]!.description).toContain("the catalog's default would mount /Users/local-test (at /Users/local-test), a host path you did not choose");
  });

  it('kubectl-mcp-server: its $HOME/.kube default is not mounted until the user sets the path themselves', () => {
    const home = folder('home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    const r = plan(docker('kubectl-mcp-server'), { home });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.missing).toEqual([expect.objectContaining({ name: 'kubeconfig', kind: 'setting', description: expect.stringContaining(`would mount ${home}/.kube (at /root/.kube), a host path you did not choose`) })]);
    // The same path, set by the user, is theirs to share.
    const { plan: p } = okPlan(plan(docker('kubectl-mcp-server'), { home, settings: { kubeconfig: '$HOME/.kube' } }), 'container');
    expect(p.volumes).toEqual([`${home}/.kube:/root/.kube`]);
    expect(p.mounts).toEqual([{ host: `${home}/.kube`, container: '/root/.kube', mode: 'rw', origin: 'setting' }]);
  });

  it('okta-mcp-server: a named volume becomes the server\'s own, |volume-target feeds an env var, settings fill the env', () => {
    const logs = folder('okta-logs');
    const e = docker('okta-mcp-server');
    const { plan: p } = okPlan(
      plan(e, { settings: { log_path: logs, okta_org_url: 'https://acme.okta.com', okta_client_id: '0oa1' }, secrets: { 'okta-mcp-server.okta_private_key': 'KEY' } }),
      'container',
    );
    // Named after the server, so no other server (and no volume of the host's) is reached by the same name.
    expect(p.volumes).toEqual(['mcp-registry-docker-okta-mcp-server-okta-mcp-server-keyring:/root/.local/share/python_keyring', `${logs}:${logs}`]);
    expect(p.env).toEqual({ OKTA_ORG_URL: 'https://acme.okta.com', OKTA_CLIENT_ID: '0oa1', OKTA_LOG_FILE: `${logs}/okta.log` });
    expect(p.secretEnv).toEqual({ OKTA_PRIVATE_KEY: 'KEY' });
  });

  it('aks: run.user and command flags come from settings; without container_user the default non-root user stays', () => {
    const azure = folder('azure');
    const kube = folder('kube');
    const e = docker('aks');
    const base = { azure_dir: azure, kubeconfig: kube };
    const { plan: p } = okPlan(plan(e, { settings: base }), 'container');
    expect(p.user).toBe(DEFAULT_USER);
    expect(p.command).toEqual(['--transport=stdio', '--access-level=readonly', '--allow-namespaces=', '--additional-tools=']);
    expect(p.volumes).toEqual([`${azure}:/home/mcp/.azure`, `${kube}:/home/mcp/.kube/config`]);
    const { plan: q } = okPlan(plan(e, { settings: { ...base, container_user: '10000', access_level: 'admin' } }), 'container');
    expect(q.user).toBe('10000');
    expect(q.command).toContain('--access-level=admin');
  });

  it('atlassian: an anyOf of settings is asked for as one item, nested settings fill the env', () => {
    const e = docker('atlassian');
    const r = plan(e, { secrets: { 'atlassian.jira.api_token': 't' } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const settingItems = r.missing.filter((m) => m.kind === 'setting');
    expect(settingItems).toEqual([expect.objectContaining({ name: 'confluence.url or jira.url', description: 'set at least one of: confluence.url, jira.url' })]);
    // Every secret the server declares is required by its server.yaml (none says required: false).
    expect(r.missing.filter((m) => m.kind === 'secret').map((m) => m.env)).toEqual(['CONFLUENCE_API_TOKEN', 'CONFLUENCE_PERSONAL_TOKEN', 'JIRA_PERSONAL_TOKEN']);

    const secrets = Object.fromEntries(e.config.secrets.map((s) => [s.name, 'x']));
    const { plan: p } = okPlan(plan(e, { secrets, settings: { jira: { url: 'https://acme.atlassian.net', username: 'me' } } }), 'container');
    expect(p.env).toEqual({ JIRA_URL: 'https://acme.atlassian.net', JIRA_USERNAME: 'me' });
  });

  it('a remote with "Bearer ${ENV}": the header is filled from the secret and marked secret', () => {
    const e = docker('hubspot');
    const missing = plan(e);
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.missing).toEqual([expect.objectContaining({ name: 'hubspot.api_key', kind: 'secret', env: 'HUBSPOT_API_KEY' })]);

    const { plan: p, secretValues } = okPlan(plan(e, { secrets: { 'hubspot.api_key': 'pat-na1-abc' } }), 'remote');
    expect(p).toEqual({
      kind: 'remote',
      entryId: 'docker/hubspot',
      url: 'https://app.hubspot.com/mcp/v1/http',
      transport: 'streamable-http',
      headers: { Authorization: 'Bearer pat-na1-abc' },
      secretHeaders: ['Authorization'],
    });
    expect(secretValues).toEqual(expect.arrayContaining(['Bearer pat-na1-abc', 'pat-na1-abc']));
  });

  it('context7: an optional secret header is simply left out when the secret is not set', () => {
    const { plan: p } = okPlan(plan(docker('context7')), 'remote');
    expect(p.headers).toEqual({});
    const { plan: q } = okPlan(plan(docker('context7'), { secrets: { 'context7.api_key': 'c7' } }), 'remote');
    expect(q.headers).toEqual({ CONTEXT7_API_KEY: 'c7' });
  });

  it('ast-grep: disableNetwork means network none; policy overrides win over entry and defaults', () => {
    const src = folder('src');
    const e = docker('ast-grep');
    const { plan: p } = okPlan(plan(e, { settings: { path: src } }), 'container');
    expect(p.network).toBe('none');
    expect(p.volumes).toEqual([`${src}:/src`]);
    const { plan: q } = okPlan(
      plan(e, { settings: { path: src }, overrides: { network: 'default', memory: '1g', cpus: '2', pidsLimit: 64, user: '1000:1000', readOnly: false, image: `mcp/ast-grep@sha256:${'ab'.repeat(32)}` } }),
      'container',
    );
    expect(q).toMatchObject({ network: 'default', memory: '1g', cpus: '2', pidsLimit: 64, user: '1000:1000', readOnly: false, image: `docker.io/mcp/ast-grep@sha256:${'ab'.repeat(32)}` });
  });

  it('a relative path is refused with the setting to fix', () => {
    const r = plan(docker('ast-grep'), { settings: { path: 'src/here' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.missing[0]).toMatchObject({ name: 'path', description: expect.stringContaining('not an absolute path') });
  });

  it('poci servers are planned as their tools, each with its image and command template, under the same hardening', () => {
    const r = plan(docker('curl'));
    if (!r.ok) throw new Error(r.message);
    expect(r.plan).toMatchObject({ kind: 'poci', readOnly: true, user: '65534:65534', network: 'default', tools: [{ name: 'curl', image: 'alpine/curl', command: ['{{args|into}}'] }] });
    expect(r.plan).not.toHaveProperty('image');
  });

  it('every real Docker entry gets a plan or a clear answer, never an exception', () => {
    let plans = 0;
    for (const e of real.all) {
      const r = plan(e, { checkPaths: false });
      if (r.ok) plans++;
      else expect(r.message.length).toBeGreaterThan(10);
    }
    expect(plans).toBeGreaterThan(50);
  });
});

describe('planLaunch on server.json entries', () => {
  const page = JSON.parse(readFileSync(sharedData('official-registry/list-page.json'), 'utf8')) as { servers: { server: Record<string, unknown>; _meta: Record<string, unknown> }[] };
  const official = (name: string) => {
    const s = page.servers.find((x) => x.server.name === name)!;
    return serverJsonToEntry(s.server, 'official', s._meta as never);
  };

  it('an npm-only server is planned as the image its package builds to; an mcpb-only one as the image its bundle builds to', () => {
    const e = official('com.pulsemcp/remote-filesystem');
    const pick = pickLaunch(e);
    if (!pick.ok) throw new Error(pick.reason);
    const runtime = { runners: { npm: { image: 'node:22-slim', registry: 'https://registry.npmjs.org/' }, pypi: { image: 'python:3.12-slim', index: 'https://pypi.org/simple/' }, buildTimeout: 60_000, buildMemory: '2g' } };
    const planned = plannedChoice(pick.choice, runtime);
    expect(planned.launch).toMatchObject({ type: 'package', registryType: 'oci', identifier: 'localhost/mcp-registry/npm/remote-filesystem-mcp-server:0.1.5' });
    // Runnable: what stands in its way is its settings (a bucket), not the way it is published.
    const r = plan(launchEntry(e, planned));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.missing.map((m) => m.name)).toContain('GCS_BUCKET');
    const bundle = pickLaunch(official('io.github.rghsoftware/linux-filesystem'));
    if (!bundle.ok) throw new Error(bundle.reason);
    expect(plannedChoice(bundle.choice, runtime).launch).toMatchObject({ type: 'image', image: expect.stringMatching(/^localhost\/mcp-registry\/mcpb\//) });
  });

  it('a remote whose secret Authorization header has no value asks for it, then sends it', () => {
    const e = official('ae.propick/propick');
    const r = plan(e);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.missing).toEqual([expect.objectContaining({ name: 'Authorization', kind: 'secret', env: 'AUTHORIZATION' })]);
    const { plan: p } = okPlan(plan(e, { secrets: { Authorization: 'Bearer ppk_live_x' } }), 'remote');
    expect(p.headers).toEqual({ Authorization: 'Bearer ppk_live_x' });
    expect(p.secretHeaders).toEqual(['Authorization']);
  });

  it('remote URL {placeholders} come from settings; when unset they are asked for', () => {
    const e = serverJsonToEntry(
      {
        name: 'com.example/tenant-mcp',
        description: 'per-tenant endpoint',
        version: '1.0.0',
        remotes: [
          {
            type: 'streamable-http',
            url: 'https://{tenant}.example.com/mcp',
            variables: { tenant: { description: 'Your tenant', isRequired: true } },
            headers: [{ name: 'X-Api-Key', value: '{api_key}', variables: { api_key: { isSecret: true, isRequired: true } } }],
          },
        ],
      },
      'internal',
    );
    const r = plan(e);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.missing.map((m) => `${m.kind}:${m.name}`).sort()).toEqual(['secret:api_key', 'setting:tenant']);
    const { plan: p } = okPlan(plan(e, { settings: { tenant: 'acme' }, secrets: { api_key: 'k-1' } }), 'remote');
    expect(p.url).toBe('https://acme.example.com/mcp');
    expect(p.headers).toEqual({ 'X-Api-Key': 'k-1' });
  });

  it('an OCI package runs as a container: package arguments → command, env vars → env / secret env, -v → volumes', () => {
    const data = folder('oci-data');
    const e = serverJsonToEntry(
      {
        name: 'io.github.example/weather',
        description: 'weather',
        version: '2.1.0',
        packages: [
          { registryType: 'npm', identifier: '@example/weather', version: '2.1.0', transport: { type: 'stdio' } },
          {
            registryType: 'oci',
            identifier: 'ghcr.io/example/weather',
            version: '2.1.0',
            runtimeHint: 'docker',
            transport: { type: 'stdio' },
            runtimeArguments: [
              { type: 'named', name: '-v', value: '{data_dir}:/data', variables: { data_dir: { description: 'Folder for caches', isRequired: true } } },
              { type: 'named', name: '--privileged' },
              { type: 'named', name: '-e', value: 'GH_TOKEN={token}', variables: { token: { isSecret: true, isRequired: true } } },
              { type: 'named', name: '-e', value: 'REGION={region}' },
            ],
            packageArguments: [
              { type: 'positional', value: 'serve' },
              { type: 'named', name: '--units', default: 'metric' },
              { type: 'named', name: '--region', valueHint: 'region', isRequired: true },
            ],
            environmentVariables: [
              { name: 'WEATHER_API_KEY', isSecret: true, isRequired: true, description: 'API key' },
              { name: 'LOG_LEVEL', default: 'info' },
            ],
          },
        ],
      },
      'internal',
    );
    expect(chooseLaunch(e)).toEqual({ launch: expect.objectContaining({ registryType: 'oci' }) });
    const r = plan(e);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.missing.map((m) => `${m.kind}:${m.name}`).sort()).toEqual(['secret:WEATHER_API_KEY', 'secret:token', 'setting:data_dir', 'setting:region']);

    const { plan: p, secretValues } = okPlan(plan(e, { settings: { data_dir: data, region: 'eu' }, secrets: { WEATHER_API_KEY: 'wk', token: 'ghp_t' } }), 'container');
    expect(p.image).toBe('ghcr.io/example/weather:2.1.0');
    expect(p.command).toEqual(['serve', '--units', 'metric', '--region', 'eu']);
    expect(p.volumes).toEqual([`${data}:/data`]);
    expect(p.env).toEqual({ LOG_LEVEL: 'info', REGION: 'eu' });
    // `-e NAME={secret}` is how server.json passes a secret to a container: it stays out of every argv.
    expect(p.secretEnv).toEqual({ WEATHER_API_KEY: 'wk', GH_TOKEN: 'ghp_t' });
    expect(p.warnings).toEqual([expect.stringContaining('--privileged left out')]);
    expect(secretValues.sort()).toEqual(['ghp_t', 'wk']);
  });

  it('a secret placed in a command-line argument is refused, not leaked into the process list', () => {
    const e = serverJsonToEntry(
      {
        name: 'io.github.example/leaky',
        description: 'leaky',
        version: '1.0.0',
        packages: [
          {
            registryType: 'oci',
            identifier: 'ghcr.io/example/leaky:1',
            transport: { type: 'stdio' },
            packageArguments: [{ type: 'named', name: '--token', value: '{token}', variables: { token: { isSecret: true } } }],
          },
        ],
      },
      'internal',
    );
    const r = plan(e, { secrets: { token: 'shh' } });
    expect(r).toEqual({ ok: false, missing: [], message: expect.stringContaining('command-line argument') });
    expect(JSON.stringify(r)).not.toContain('shh');
  });

  it('an image reference is checked and qualified at plan time: an option-like one never reaches podman', () => {
    const oci = (identifier: string, version?: string) =>
      serverJsonToEntry({ name: 'io.github.example/img', description: 'img', version: '1.0.0', packages: [{ registryType: 'oci', identifier, ...(version ? { version } : {}), transport: { type: 'stdio' } }] }, 'internal');
    expect(okPlan(plan(oci('docker://mcp/sqlite', '2')), 'container').plan.image).toBe('docker.io/mcp/sqlite:2');
    expect(okPlan(plan(oci('alpine')), 'container').plan.image).toBe('docker.io/library/alpine');
    expect(okPlan(plan(oci('localhost/team/tool:1')), 'container').plan.image).toBe('localhost/team/tool:1');
    expect(okPlan(plan(oci('quay.io/org/tool', '1.2')), 'container').plan.image).toBe('quay.io/org/tool:1.2');
    const evil = plan(oci('--privileged'));
    expect(evil).toEqual({ ok: false, missing: [], message: expect.stringContaining('"--privileged" is not an image reference: it starts with "-"') });
    if (!evil.ok) expect(evil.message).toContain('policy.yaml');
    // policy's image replaces the catalog's, qualified the same way.
    expect(okPlan(plan(oci('--privileged'), { overrides: { image: 'mcp/fixed:1' } }), 'container').plan.image).toBe('docker.io/mcp/fixed:1');
  });
});

describe('stored values no start could use (issue 9.7: written into state.json by hand)', () => {
  it('a NUL character in a stored setting or secret is asked for again by name, before anything starts', () => {
    const r = plan(docker('elasticsearch'), { settings: { url: 'http://es:9200/\u0000' }, secrets: { 'elasticsearch.api_key': 'key-\u0000-0123456789' } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.missing).toEqual([
      expect.objectContaining({ name: 'url', kind: 'setting', description: 'the stored value contains a NUL character (\\u0000), which no command line or environment variable can carry; set it again' }),
      expect.objectContaining({ name: 'elasticsearch.api_key', kind: 'secret', description: expect.stringMatching(/^the stored secret contains a NUL character/) }),
    ]);
    expect(r.message).toMatch(/^docker\/elasticsearch needs 2 more values before it can start: url \(setting: the stored value contains a NUL character/);
    expect(r.message).not.toContain('0123456789');
  });

  it('a stored value past Linux\'s 128 KiB per argument or variable (spawn E2BIG) is named with its size', () => {
    const r = plan(docker('elasticsearch'), { settings: { url: `http://es/${'x'.repeat(200_000)}` }, secrets: { 'elasticsearch.api_key': 'es-key-0123' } });
    expect(!r.ok && r.missing).toEqual([expect.objectContaining({ name: 'url', description: 'the stored value is 195 KiB, more than the 128 KiB Linux takes for one command-line argument or environment variable; set it again' })]);
  });

  const joined = normalizeEntry({
    id: 'test/joined',
    nativeName: 'joined',
    name: 'joined',
    sources: [{ source: 'test', id: 'test/joined' }],
    launch: [{ type: 'image', image: 'example/joined:1', env: { JOINED: '{{joined.a}}-{{joined.b}}', ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`V${i}`, `{{joined.v${i}}}`])) } }],
    config: { parameters: { type: 'object', properties: Object.fromEntries(['a', 'b', ...Array.from({ length: 10 }, (_, i) => `v${i}`)].map((k) => [k, { type: 'string' }])) }, secrets: [], env: [] },
  });

  it('two settings within the limit joined by a template past it: the start fails naming the variable', () => {
    const r = plan(joined, { settings: { a: 'a'.repeat(70_000), b: 'b'.repeat(70_000) } });
    expect(r).toEqual({ ok: false, missing: [], message: 'not runnable: test/joined cannot be started: the environment variable JOINED is 137 KiB, more than the 128 KiB Linux takes for one command-line argument or environment variable; change the settings it is made from' });
  });

  it('all variables together past what a container is given: the start fails naming the largest', () => {
    const settings = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`v${i}`, String(i).repeat(110_000 + i)]));
    const r = plan(joined, { settings });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(/^not runnable: test\/joined cannot be started: its environment and arguments would be 10\d\d KiB, more than the 1024 KiB a container is given; the largest are the environment variable V9 \(107 KiB\), the environment variable V8 \(107 KiB\), the environment variable V7 \(107 KiB\)$/);
  });
});

describe('host mounts and users a catalog declares (issue 9.2)', () => {
  /** A docker-layout catalog entry with this run block, read by the real reader. */
  async function catalogEntry(name: string, run: Record<string, unknown>, config?: Record<string, unknown>): Promise<Entry> {
    const dir = folder(`catalog-${name}`);
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'server.yaml'), toYaml({ name, image: 'localhost/mcp-registry-test/tiny:1', type: 'server', about: { title: name }, run, ...(config ? { config } : {}) }));
    const { entries } = await readDockerServersDir(dir, 'mine', createLogger('test'));
    return entries[0]!;
  }
  const refusedWith = (r: PlanResult, text: string) => {
    expect(r).toMatchObject({ ok: false, missing: [], refused: true });
    if (!r.ok) expect(r.message).toContain(text);
  };

  it('/, /etc, the engine sockets, /proc, home directories and their parents are never mounted from a catalog, whatever policy grants', async () => {
    const home = folder('a-home');
    const cases: [string, string][] = [
      ['/:/host', "the host's root directory, which is never mounted from a catalog, whatever policy.yaml says"],
      ['/etc:/hostetc', '/etc (the host configuration)'],
      ['/run/podman/podman.sock:/var/run/docker.sock', "a container engine's socket"],
      ['/var/run/docker.sock:/var/run/docker.sock', "a container engine's socket"],
      ['/srv/x/docker.sock:/s', "a container engine's socket"],
      ['/proc/1/root:/p', '/proc (the host kernel and its processes)'],
      ['/var:/v', 'a parent of'],
      ['/home:/h', 'a home directory (/home)'],
      [`${home}:/h`, `a home directory (${home})`],
      ['$HOME:/h', `a home directory (${home})`],
    ];
    for (const [spec, why] of cases) {
      const e = await catalogEntry('fixed', { volumes: [spec] });
      // Policy granting exactly that mount changes nothing.
      const hostSpec = spec.replace('$HOME', home);
      refusedWith(plan(e, { home, overrides: { mounts: [hostSpec, `${hostSpec}:rw`] } }), why);
    }
  });

  it('a symlink to /etc counts as /etc', async () => {
    const link = join(folder('links'), 'etc-link');
    symlinkSync('/etc', link);
    refusedWith(plan(await catalogEntry('linked', { volumes: [`${link}:/e`] })), `/etc (the host configuration), which ${link} resolves to`);
  });

  it('any other fixed host path needs that exact mount in policy.yaml, and is then read-only unless the grant says :rw', async () => {
    const data = folder('srv-data');
    const e = await catalogEntry('data', { volumes: [`${data}:/data:U,Z`] });
    refusedWith(plan(e), `mounts the host path ${data} at /data, which you did not choose; a catalog's own host mounts need your say-so in policy.yaml: entries: {"mine/data": {mounts: ["${data}:/data"]}}`);
    // Another container path is another mount.
    refusedWith(plan(e, { overrides: { mounts: [`${data}:/elsewhere`] } }), 'which you did not choose');
    const { plan: ro } = okPlan(plan(e, { overrides: { mounts: [`${data}:/data`] } }), 'container');
    expect(ro.volumes).toEqual([`${data}:/data:ro`]);
    expect(ro.mounts).toEqual([{ host: data, container: '/data', mode: 'ro', origin: 'policy' }]);
    // Options that would relabel or chown the host folder are dropped, and said.
    expect(ro.warnings).toEqual(['mount options U,Z of ' + `${data}:/data left out (only ro and rw are used)`]);
    const { plan: rw } = okPlan(plan(e, { overrides: { mounts: [`${data}/:/data:rw`] } }), 'container');
    expect(rw.volumes).toEqual([`${data}:/data`]);
    expect(rw.mounts[0]).toMatchObject({ mode: 'rw', origin: 'policy' });
  });

  it('a path the user set is theirs to share (home included), but the engine socket or / through a setting needs a policy grant', async () => {
    const home = folder('b-home');
    const e = await catalogEntry('byset', { volumes: ['{{byset.dir}}:/work'] }, { parameters: { type: 'object', properties: { dir: { type: 'string' } }, required: ['dir'] } });
    const { plan: p } = okPlan(plan(e, { home, settings: { dir: home } }), 'container');
    expect(p.mounts).toEqual([{ host: home, container: '/work', mode: 'rw', origin: 'setting' }]);
    const sock = plan(e, { home, settings: { dir: '/run/podman/podman.sock' } });
    expect(sock).toMatchObject({ ok: false, missing: [expect.objectContaining({ name: 'dir' })] });
    if (!sock.ok) expect(sock.missing[0]!.description).toContain(`a setting may share it only when policy.yaml allows exactly this mount: entries: {"mine/byset": {mounts: ["/run/podman/podman.sock:/work"]}}`);
    const root = plan(e, { settings: { dir: '/' } });
    expect(root.ok).toBe(false);
    const granted = plan(e, { settings: { dir: '/' }, overrides: { mounts: ['/:/work'] } });
    expect(granted.ok && granted.plan.kind === 'container' && granted.plan.mounts).toEqual([{ host: '/', container: '/work', mode: 'ro', origin: 'policy' }]);
  });

  it('a named volume is the server\'s own unless policy grants that very volume', async () => {
    const e = await catalogEntry('vols', { volumes: ['shared-stuff:/cache'] });
    const { plan: own } = okPlan(plan(e), 'container');
    expect(own.volumes).toEqual(['mcp-registry-mine-vols-shared-stuff:/cache']);
    expect(own.mounts).toEqual([{ volume: 'mcp-registry-mine-vols-shared-stuff', container: '/cache', mode: 'rw', origin: 'volume' }]);
    const { plan: granted } = okPlan(plan(e, { overrides: { mounts: ['shared-stuff:/cache'] } }), 'container');
    expect(granted.volumes).toEqual(['shared-stuff:/cache:ro']);
  });

  it('root, uid or gid 0, or a user name from the catalog needs user in policy.yaml; a numeric user passes', async () => {
    for (const user of ['0:0', '0', 'root', '1000:0', 'admin']) {
      refusedWith(plan(await catalogEntry('rooty', { user })), `needs your say-so in policy.yaml: entries: {"mine/rooty": {user: "${user}"}}`);
    }
    const { plan: p } = okPlan(plan(await catalogEntry('rooty', { user: '0:0' }), { overrides: { user: '0:0' } }), 'container');
    expect(p.user).toBe('0:0');
    expect(okPlan(plan(await catalogEntry('numeric', { user: '1000:1000' })), 'container').plan.user).toBe('1000:1000');
  });
});
