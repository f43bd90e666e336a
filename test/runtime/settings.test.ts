import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverJsonToEntry } from '../../src/sources/server-json.js';
import { combinedProblems, MAX_SECRET_BYTES, validateSettings } from '../../src/runtime/settings.js';
import { planLaunch } from '../../src/runtime/launch-plan.js';
import { loadDockerEntries, type DockerEntries } from '../helpers/docker-entries.js';
import { pemBundle } from '../helpers/secrets.js';

let real: DockerEntries;
beforeAll(async () => {
  real = await loadDockerEntries('settings-');
});
afterAll(() => real.cleanup());

describe('validateSettings on real Docker entries', () => {
  it('accepts a secret by its name or by its env variable, storing it under the name', () => {
    const e = real.get('github-official');
    expect(validateSettings(e, { 'github.personal_access_token': 'ghp_1' })).toEqual({ settings: {}, secrets: { 'github.personal_access_token': 'ghp_1' }, errors: [] });
    expect(validateSettings(e, { GITHUB_PERSONAL_ACCESS_TOKEN: 'ghp_2' }).secrets).toEqual({ 'github.personal_access_token': 'ghp_2' });
  });

  it('names the declared settings and secrets when a key is unknown', () => {
    const r = validateSettings(real.get('elasticsearch'), { uri: 'http://x', ES_API_KEY: 'k' });
    expect(r.secrets).toEqual({ 'elasticsearch.api_key': 'k' });
    expect(r.errors).toEqual(['unknown setting "uri" for docker/elasticsearch: it declares settings url; secrets elasticsearch.api_key (ES_API_KEY)']);
  });

  it('answers a flood of unknown keys with one short error naming a few of them and the count', () => {
    const flood = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}${i === 7 ? 'x'.repeat(5000) : ''}`, i]));
    const r = validateSettings(real.get('elasticsearch'), { ...flood, url: 'http://es:9200' });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^unknown settings "k0", "k1", .*and 2990 more for docker\/elasticsearch: it declares settings url; secrets elasticsearch.api_key \(ES_API_KEY\)$/);
    expect(r.errors[0]!.length).toBeLessThan(1500);
    expect(r.settings).toEqual({ url: 'http://es:9200' });
  });

  it('says so when an entry takes nothing at all', () => {
    const none = real.all.find((e) => !e.config.secrets.length && !e.config.env.length && !e.config.parameters && e.launch[0]?.type === 'image')!;
    expect(validateSettings(none, { x: 1 }).errors).toEqual([`unknown setting "x" for ${none.id}: it takes no settings or secrets`]);
  });

  it('coerces "5" to 5 where the schema says integer and rejects what cannot be coerced', () => {
    const e = real.get('schemacrawler-ai');
    const ok = validateSettings(e, { 'server_connection.port': '5432', 'server_connection.server': 'postgresql' });
    expect(ok.errors).toEqual([]);
    expect(ok.settings).toEqual({ server_connection: { port: 5432, server: 'postgresql' } });
    const bad = validateSettings(e, { 'server_connection.port': 'fifty' });
    expect(bad.errors).toEqual([expect.stringMatching(/^setting "server_connection.port": must be integer/)]);
    expect(bad.settings).toEqual({});
  });

  it('accepts the server-prefixed form ("filesystem.paths") and a single path for a list, or a JSON list as text', () => {
    const e = real.get('filesystem');
    expect(validateSettings(e, { 'filesystem.paths': '/srv/data' }).settings).toEqual({ paths: ['/srv/data'] });
    expect(validateSettings(e, { paths: '["/a","/b"]' }).settings).toEqual({ paths: ['/a', '/b'] });
    expect(validateSettings(e, { paths: '[not json' }).errors).toEqual([expect.stringContaining('not valid JSON')]);
  });

  it('maps an env var name whose value is one {{param}} onto that setting; a computed one is refused with what to set', () => {
    const e = real.get('okta-mcp-server');
    expect(validateSettings(e, { OKTA_ORG_URL: 'https://acme.okta.com' }).settings).toEqual({ okta_org_url: 'https://acme.okta.com' });
    expect(validateSettings(e, { OKTA_LOG_FILE: '/x' }).errors).toEqual([
      '"OKTA_LOG_FILE" is set by the catalog entry itself ("{{okta-mcp-server.log_path|volume-target}}/okta.log"); set "log_path" instead',
    ]);
  });

  it('nested object settings are validated as a whole too', () => {
    const e = real.get('atlassian');
    const r = validateSettings(e, { jira: { url: 'https://acme.atlassian.net' }, 'confluence.username': 'me' });
    expect(r.errors).toEqual([]);
    expect(r.settings).toEqual({ jira: { url: 'https://acme.atlassian.net' }, confluence: { username: 'me' } });
    expect(validateSettings(e, { jira: { username: 'me' } }).errors).toEqual([expect.stringContaining("must have required property 'url'")]);
  });

  it('null unsets a setting and an empty secret unsets the secret', () => {
    const e = real.get('elasticsearch');
    expect(validateSettings(e, { url: null, 'elasticsearch.api_key': '' })).toEqual({ settings: { url: null }, secrets: { 'elasticsearch.api_key': '' }, errors: [] });
  });

  it('never puts a secret value into an error', () => {
    const e = real.get('github-official');
    const r = validateSettings(e, { GITHUB_PERSONAL_ACCESS_TOKEN: { token: 'ghp_TOPSECRET' } as unknown, other: 'ghp_TOPSECRET' });
    expect(r.errors).toHaveLength(2);
    expect(r.errors[0]).toBe('secret "github.personal_access_token" (GITHUB_PERSONAL_ACCESS_TOKEN) must be a text value, not an object');
    expect(r.errors.join('\n')).not.toContain('ghp_TOPSECRET');
  });

  it('what validateSettings returns is exactly what planLaunch needs to start the server', () => {
    const e = real.get('elasticsearch');
    const v = validateSettings(e, { ES_URL: 'http://127.0.0.1:9200', ES_API_KEY: 'k' });
    expect(v.errors).toEqual([]);
    const r = planLaunch(e, { settings: v.settings, secrets: v.secrets, defaults: { memory: '256m', cpus: '1', pidsLimit: 64 } });
    expect(r.ok && r.plan.kind === 'container' && r.plan.env).toEqual({ ES_URL: 'http://127.0.0.1:9200' });
  });

  it('the "how" of every missing item of every real entry is accepted by validateSettings', () => {
    let items = 0;
    for (const e of real.all) {
      const r = planLaunch(e, { settings: {}, secrets: {}, defaults: { memory: '1g', cpus: '1', pidsLimit: 64 }, checkPaths: false });
      if (r.ok) continue;
      for (const m of r.missing) {
        const { values } = JSON.parse(m.how.replace(/^registry-config-set /, '')) as { id: string; values: Record<string, unknown> };
        const v = validateSettings(e, values);
        expect(v.errors, `${e.id}: ${m.how}`).toEqual([]);
        items++;
      }
    }
    expect(items).toBeGreaterThan(100);
  });
});

describe('validateSettings on server.json entries', () => {
  const entry = serverJsonToEntry(
    {
      name: 'io.github.example/db',
      description: 'db',
      version: '1.0.0',
      packages: [
        {
          registryType: 'oci',
          identifier: 'ghcr.io/example/db:1',
          transport: { type: 'stdio' },
          packageArguments: [{ type: 'positional', valueHint: 'database_url', isRequired: true }],
          environmentVariables: [
            { name: 'DB_PORT', format: 'number', default: '5432' },
            { name: 'DB_MODE', choices: ['ro', 'rw'] },
            { name: 'DB_PASSWORD', isSecret: true },
          ],
        },
      ],
    },
    'internal',
  );

  it('accepts env variable names, argument names and secrets; checks choices and numbers', () => {
    const r = validateSettings(entry, { DB_PORT: '6543', DB_MODE: 'ro', database_url: 'postgres://h/db', DB_PASSWORD: 'pw' });
    expect(r).toEqual({ settings: { DB_PORT: 6543, DB_MODE: 'ro', database_url: 'postgres://h/db' }, secrets: { DB_PASSWORD: 'pw' }, errors: [] });
    expect(validateSettings(entry, { DB_MODE: 'admin' }).errors).toEqual(['setting "DB_MODE": must be one of "ro", "rw"']);
  });
});

describe('values no start could use are refused at config-set (issue 9.7, 9.3)', () => {
  const NUL = 'qzq\u0000qzq';

  it('a NUL character anywhere (a setting, inside a list or object, a secret) is refused naming the key, never the value', () => {
    const r = validateSettings(real.get('elasticsearch'), { url: `http://es:9200/${NUL}`, ES_API_KEY: `key-${NUL}-123456` });
    expect(r.errors).toEqual([
      'setting "url" contains a NUL character (\\u0000), which no command line or environment variable can carry; remove it',
      'secret "elasticsearch.api_key" (ES_API_KEY) contains a NUL character (\\u0000), which no command line or environment variable can carry; remove it',
    ]);
    expect(r.settings).toEqual({});
    expect(r.secrets).toEqual({});
    expect(validateSettings(real.get('filesystem'), { paths: ['/srv/ok', `/srv/${NUL}`] }).errors).toEqual([expect.stringMatching(/^setting "paths" contains a NUL character/)]);
    expect(validateSettings(real.get('atlassian'), { jira: { url: `https://x/${NUL}` } }).errors).toEqual([expect.stringMatching(/^setting "jira" contains a NUL character/)]);
    expect(r.errors.join()).not.toContain('qzq');
  });

  it('a 200 KB setting is refused with its size and the limit; a 30 KB PEM secret is accepted, a 130 KB one is not', () => {
    const e = real.get('elasticsearch');
    expect(validateSettings(e, { url: `http://es/${'x'.repeat(200_000)}` }).errors).toEqual([
      'setting "url" is 195 KiB; a setting may be at most 16 KiB (it reaches the server on its command line or in one environment variable)',
    ]);
    const pem = pemBundle(30_000);
    expect(validateSettings(e, { ES_API_KEY: pem })).toEqual({ settings: {}, secrets: { 'elasticsearch.api_key': pem }, errors: [] });
    const big = validateSettings(e, { ES_API_KEY: pemBundle(130_000) });
    expect(big.errors).toEqual([expect.stringMatching(/^secret "elasticsearch.api_key" \(ES_API_KEY\) is 1\d\d KiB; a secret may be at most 120 KiB \(it reaches the server as one environment variable, and Linux takes at most 128 KiB per variable\)/)]);
    expect(big.secrets).toEqual({});
    expect(MAX_SECRET_BYTES + 'ES_API_KEY='.length).toBeLessThan(128 * 1024);
  });

  const token = 'es-Token-0123456789abcdef';

  it('a stored secret may not be set again as a plain setting: this entry\'s, another entry\'s, or inside a longer value', () => {
    const e = real.get('elasticsearch');
    const asSetting = (url: string, others = {}) => combinedProblems(e, { settings: {}, secrets: { 'elasticsearch.api_key': token } }, validateSettings(e, { url }), others);
    expect(asSetting(token)).toEqual([
      'setting "url" holds the value of the secret "elasticsearch.api_key": a plain setting goes onto the container\'s command line and into state.json, so a secret\'s value may not be stored as one; set it as the secret instead',
    ]);
    expect(asSetting(`http://es:9200/?api_key=${encodeURIComponent(token)}`)).toHaveLength(1);
    const gh = 'ghp_' + 'A1b2C3d4'.repeat(5);
    expect(combinedProblems(e, { settings: {}, secrets: {} }, validateSettings(e, { url: `http://${gh}@es` }), { 'docker/github-official': { 'github.personal_access_token': gh } })).toEqual([
      expect.stringMatching(/^setting "url" holds the value of the secret "github.personal_access_token" of docker\/github-official: /),
    ]);
    // Both in one call.
    expect(combinedProblems(e, { settings: {}, secrets: {} }, validateSettings(e, { url: token, ES_API_KEY: token }))).toHaveLength(1);
    // Unrelated values, and short ones that redaction ignores anyway, are fine.
    expect(asSetting('http://es:9200')).toEqual([]);
    expect(combinedProblems(e, { settings: {}, secrets: { 'elasticsearch.api_key': 'abc' } }, validateSettings(e, { url: 'abc' }))).toEqual([]);
  });

  it('and the other way round: a new secret whose value a stored setting already exposes is refused with how to remove it', () => {
    const e = real.get('elasticsearch');
    expect(combinedProblems(e, { settings: { url: `http://es/${token}` }, secrets: {} }, validateSettings(e, { ES_API_KEY: token }))).toEqual([
      'secret "elasticsearch.api_key": the same value is stored as the plain setting "url", where it is on the command line and in state.json; remove that setting first ({"url":null}), and if the value is a real credential, rotate it',
    ]);
    // Removing the setting in the same call is fine.
    expect(combinedProblems(e, { settings: { url: token }, secrets: {} }, validateSettings(e, { ES_API_KEY: token, url: null }))).toEqual([]);
  });

  it('all values of an entry together may be at most 512 KiB', () => {
    const e = real.get('elasticsearch');
    const stored = { settings: { url: 'http://es:9200' }, secrets: { 'elasticsearch.api_key': 'x'.repeat(100 * 1024) } };
    expect(combinedProblems(e, stored, validateSettings(e, { ES_API_KEY: 'y'.repeat(110 * 1024) }))).toEqual([]);
    const others = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`S${i}`, String(i).repeat(110 * 1024)]));
    const many = { ...e, config: { ...e.config, secrets: [...e.config.secrets, ...Object.keys(others).map((n) => ({ name: n, env: n, required: false }))] } };
    expect(combinedProblems(many, stored, validateSettings(many, others))).toEqual([
      expect.stringMatching(/^together the settings and secrets of docker\/elasticsearch would be 65\d KiB; at most 512 KiB per entry/),
    ]);
  });
});
