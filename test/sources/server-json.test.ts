import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { isRunnable, requiredConfig, type Entry } from '../../src/model/entry.js';
import { compareSemver, OFFICIAL_META_KEY, pickLatest, serverJsonToEntry, ServerJsonError } from '../../src/sources/server-json.js';
import { sharedData } from '../helpers/shared-data.js';

interface Envelope {
  server: Record<string, unknown>;
  _meta: Record<string, unknown>;
}
const page = JSON.parse(readFileSync(sharedData('official-registry/list-page.json'), 'utf8')) as { servers: Envelope[] };
const byName = (n: string) => page.servers.find((s) => s.server.name === n)!;
const mapReal = (n: string) => serverJsonToEntry(byName(n).server, 'official', byName(n)._meta);

const addFormats = addFormatsModule as unknown as (a: Ajv) => Ajv;
function schemaValidator() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(sharedData('official-registry/server.schema.2025-12-11.json'), 'utf8')));
}

describe('serverJsonToEntry on the real registry page', () => {
  it('maps a remote-only server without title or repository', () => {
    const e = mapReal('com.notion/mcp');
    expect(e.id).toBe('official/com.notion/mcp');
    expect(e.nativeName).toBe('com.notion/mcp');
    expect(e.name).toBe('mcp'); // no title: last segment of the name
    expect(e.description).toBe('Official Notion MCP server');
    expect(e.version).toBe('1.0.1');
    expect(e.repository).toBeUndefined(); // the page has "repository": {}
    expect(e.launch).toEqual([
      { type: 'remote', url: 'https://mcp.notion.com/mcp', transport: 'streamable-http' },
      { type: 'remote', url: 'https://mcp.notion.com/sse', transport: 'sse' },
    ]);
    expect(isRunnable(e)).toBe(true);
    expect(e.status).toBe('active');
    expect(e.publishedAt).toBe('2025-09-11T22:25:50.737872Z');
    expect(e.updatedAt).toBe('2025-09-11T22:25:50.737872Z');
    expect((e.meta?.[OFFICIAL_META_KEY] as { isLatest: boolean }).isLatest).toBe(true);
    expect(e.sources).toEqual([{ source: 'official', id: 'official/com.notion/mcp' }]);
  });

  it('turns a required secret Authorization header into a secret the user must set', () => {
    const e = mapReal('ae.propick/propick');
    expect(e.name).toBe('Propick Integration MCP');
    expect(e.website).toBe('https://propick.ae');
    const remote = e.launch[0];
    expect(remote.type).toBe('remote');
    if (remote.type !== 'remote') return;
    expect(remote.headers).toEqual([
      {
        name: 'Authorization',
        value: '${AUTHORIZATION}',
        description: expect.stringContaining('Bearer <integration key>'),
        required: true,
        secret: true,
      },
    ]);
    expect(e.config.secrets).toEqual([
      expect.objectContaining({ name: 'Authorization', env: 'AUTHORIZATION', required: true, description: expect.stringContaining('Propick cabinet') }),
    ]);
    expect(requiredConfig(e)).toEqual(['Authorization']);
  });

  it('maps an npm package: arguments kept, secret env → secret, other env → settings schema + templated env', () => {
    const e = mapReal('com.pulsemcp/remote-filesystem');
    expect(e.repository).toBe('https://github.com/pulsemcp/mcp-servers/experimental/remote-filesystem');
    expect(e.launch).toEqual([
      {
        type: 'package',
        registryType: 'npm',
        identifier: 'remote-filesystem-mcp-server',
        version: '0.1.5',
        registryBaseUrl: 'https://registry.npmjs.org',
        runtimeHint: 'npx',
        transport: { type: 'stdio' },
        runtimeArguments: [{ value: '-y', type: 'positional' }],
      },
    ]);
    expect(isRunnable(e)).toBe(true); // the npm runner builds it into a local image and runs that hardened (issue 12)
    expect(e.config.secrets).toEqual([
      { name: 'GCS_PRIVATE_KEY', env: 'GCS_PRIVATE_KEY', description: 'Service account private key for inline credentials.', required: false },
    ]);
    const params = e.config.parameters as { type: string; properties: Record<string, Record<string, unknown>>; required: string[] };
    expect(params.type).toBe('object');
    expect(Object.keys(params.properties)).toEqual([
      'GCS_BUCKET',
      'GCS_PROJECT_ID',
      'GCS_CLIENT_EMAIL',
      'GOOGLE_APPLICATION_CREDENTIALS',
      'GCS_ROOT_PATH',
      'GCS_MAKE_PUBLIC',
      'ENABLED_TOOLGROUPS',
    ]);
    expect(params.properties.GCS_MAKE_PUBLIC).toEqual({ type: 'string', description: 'Make uploaded files publicly accessible.', default: 'false' });
    expect(params.required).toEqual(['GCS_BUCKET']);
    expect(e.config.env).toContainEqual({ name: 'GCS_BUCKET', value: '{{GCS_BUCKET}}', description: 'Google Cloud Storage bucket name.' });
    expect(e.config.env.map((v) => v.name)).not.toContain('GCS_PRIVATE_KEY'); // secrets travel as secrets only
    expect(requiredConfig(e)).toEqual(['GCS_BUCKET']);

    // The settings schema is a working JSON Schema: it accepts a bucket and rejects its absence.
    const validate = new Ajv({ strict: false }).compile(params);
    expect(validate({ GCS_BUCKET: 'my-bucket' })).toBe(true);
    expect(validate({})).toBe(false);
  });

  it('maps an mcpb package with its checksum and title', () => {
    const e = mapReal('io.github.rghsoftware/linux-filesystem');
    expect(e.name).toBe('Linux Filesystem');
    expect(e.launch[0]).toMatchObject({
      type: 'package',
      registryType: 'mcpb',
      identifier: 'https://github.com/rghsoftware/linux-filesystem-extension/releases/download/v1.2.1/linux-filesystem.mcpb',
      fileSha256: '3174a623da8d3da7013467bb877dde5591a8f6e04dad0430b2784303ecbfedfe',
      transport: { type: 'stdio' },
    });
    expect(e.config).toEqual({ secrets: [], env: [] });
  });
});

describe('serverJsonToEntry on schema features the page lacks', () => {
  const server = {
    $schema: 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json',
    name: 'io.github.example/weather',
    description: 'Weather forecasts',
    title: 'Weather',
    version: '2.1.0',
    repository: { url: 'https://github.com/Example/Weather.git', source: 'github' },
    icons: [{ src: 'https://example.com/icon.png', mimeType: 'image/png' }, { src: 'https://example.com/icon-dark.png' }],
    packages: [
      {
        registryType: 'oci',
        identifier: 'ghcr.io/example/weather:2.1.0',
        transport: { type: 'stdio' },
        packageArguments: [{ type: 'named', name: '--units', value: '{units}', variables: { units: { choices: ['metric', 'imperial'], default: 'metric' } } }],
        environmentVariables: [
          { name: 'WEATHER_API_KEY', isSecret: true, isRequired: true, description: 'API key' },
          { name: 'MAX_DAYS', format: 'number', default: '7', choices: ['3', '7', '14'] },
          { name: 'VERBOSE', format: 'boolean', default: 'false' },
          { name: 'CACHE_DIR', format: 'filepath', isRequired: true },
          { name: 'MODE', value: 'server' },
          { name: 'API_URL', value: 'https://{region}.api.example.com/?key={token}', variables: { region: { default: 'eu' }, token: { isSecret: true } } },
        ],
      },
      {
        registryType: 'npm',
        identifier: '@example/weather',
        version: '2.1.0',
        transport: { type: 'streamable-http', url: 'http://localhost:{port}/mcp' },
        environmentVariables: [{ name: 'WEATHER_API_KEY', isSecret: true, isRequired: true, description: 'repeated in a second package' }],
      },
    ],
    remotes: [
      {
        type: 'streamable-http',
        url: 'https://{tenant}.weather.example.com/mcp',
        variables: { tenant: { description: 'Your tenant', isRequired: true } },
        headers: [
          { name: 'X-API-Key', value: 'Key {api_key}', variables: { api_key: { isSecret: true, isRequired: true } } },
          { name: 'X-Client', value: 'mcp-registry' },
        ],
      },
    ],
  };

  it('is a valid server.json for the 2025-12-11 schema (so the test exercises real shapes)', () => {
    const validate = schemaValidator();
    expect(validate(server), JSON.stringify(validate.errors)).toBe(true);
  });

  it('maps icons, repository, runnable oci package, variables, formats, fixed values and header secrets', () => {
    const e = serverJsonToEntry(server, 'internal', { [OFFICIAL_META_KEY]: { status: 'deprecated', isLatest: true } });
    expect(e.id).toBe('internal/io.github.example/weather');
    expect(e.icon).toBe('https://example.com/icon.png');
    expect(e.repository).toBe('https://github.com/example/weather');
    expect(e.status).toBe('deprecated');
    expect(isRunnable(e)).toBe(true); // oci package
    expect(e.launch.map((l) => l.type)).toEqual(['package', 'package', 'remote']);
    const remote = e.launch[2];
    if (remote.type !== 'remote') throw new Error('expected a remote');
    expect(remote.variables).toEqual({ tenant: { description: 'Your tenant', isRequired: true } });
    expect(remote.headers).toEqual([
      { name: 'X-API-Key', value: 'Key ${API_KEY}' },
      { name: 'X-Client', value: 'mcp-registry' },
    ]);

    expect(e.config.secrets.map((s) => [s.name, s.env, s.required])).toEqual([
      ['WEATHER_API_KEY', 'WEATHER_API_KEY', true], // first declaration wins over the second package's copy
      ['token', 'TOKEN', false],
      ['api_key', 'API_KEY', true],
    ]);
    const p = e.config.parameters as { properties: Record<string, Record<string, unknown>>; required: string[] };
    expect(p.properties.MAX_DAYS).toEqual({ type: 'number', default: 7, enum: [3, 7, 14] });
    expect(p.properties.VERBOSE).toEqual({ type: 'boolean', default: false });
    expect(p.properties.CACHE_DIR).toEqual({ type: 'string', format: 'filepath' });
    expect(p.properties.units).toEqual({ type: 'string', default: 'metric', enum: ['metric', 'imperial'] });
    expect(p.properties.region).toEqual({ type: 'string', default: 'eu' });
    expect(p.properties.tenant).toEqual({ type: 'string', description: 'Your tenant' });
    expect(p.required.sort()).toEqual(['CACHE_DIR', 'tenant']);
    expect(e.config.env).toContainEqual({ name: 'MODE', value: 'server' });
    expect(e.config.env).toContainEqual({ name: 'API_URL', value: 'https://{{region}}.api.example.com/?key=${TOKEN}' });
    expect(e.config.env).toContainEqual({ name: 'MAX_DAYS', value: '{{MAX_DAYS}}' });
    expect(requiredConfig(e).sort()).toEqual(['CACHE_DIR', 'WEATHER_API_KEY', 'api_key', 'tenant']);
  });

  it('keeps a deleted status for the caller to drop and the official _meta verbatim', () => {
    const meta = { [OFFICIAL_META_KEY]: { status: 'deleted', statusMessage: 'takedown', publishedAt: '2026-01-01T00:00:00Z' }, 'com.example/x': { a: 1 } };
    const e = serverJsonToEntry({ name: 'a.b/c', description: 'd', version: '1.0.0' }, 'official', meta);
    expect(e.status).toBe('deleted');
    expect(e.meta).toEqual(meta);
    expect(e.updatedAt).toBe('2026-01-01T00:00:00Z');
  });
});

describe('serverJsonToEntry rejects malformed objects with the field named', () => {
  it.each([
    [{ description: 'no name', version: '1' }, /\(unnamed\).*field "name"/],
    [{ name: '', description: 'x' }, /field "name"/],
    [{ name: 'a.b/c', packages: [{ registryType: 'npm', identifier: 42 }] }, /"a\.b\/c".*field "packages\.0\.identifier"/],
    [{ name: 'a.b/c', remotes: [{ type: 'websocket', url: 'wss://x' }] }, /field "remotes\.0\.type"/],
    [{ name: 'a.b/c', packages: [{ registryType: 'npm', identifier: 'x', environmentVariables: [{ description: 'nameless' }] }] }, /packages\.0\.environmentVariables\.0\.name/],
    ['just a string', /is not an object/],
    [null, /is not an object/],
  ])('%j', (input, re) => {
    expect(() => serverJsonToEntry(input, 'official')).toThrowError(ServerJsonError);
    expect(() => serverJsonToEntry(input, 'official')).toThrowError(re);
  });

  it('names a malformed official _meta', () => {
    expect(() => serverJsonToEntry({ name: 'a.b/c' }, 'official', { [OFFICIAL_META_KEY]: { isLatest: 'yes' } })).toThrowError(/_meta.*isLatest/);
  });
});

describe('latest-version rule', () => {
  const v = (version: string, isLatest?: boolean, publishedAt?: string): Entry =>
    serverJsonToEntry({ name: 'a.b/c', description: 'x', version }, 'official', { [OFFICIAL_META_KEY]: { isLatest, publishedAt } });

  it('orders semver including pre-releases', () => {
    expect(compareSemver('1.10.0', '1.9.9')).toBe(1);
    expect(compareSemver('1.0.0-beta', '1.0.0')).toBe(-1);
    expect(compareSemver('1.0.0-alpha.2', '1.0.0-alpha.10')).toBe(-1);
    expect(compareSemver('1.0.0-alpha', '1.0.0-alpha.1')).toBe(-1);
    expect(compareSemver('v2.0.0', '2.0.0+build')).toBe(0);
    expect(compareSemver('2024-01', '1.0.0')).toBeNull();
  });

  it('flag beats semver, semver beats publishedAt, publishedAt decides otherwise', () => {
    expect(pickLatest(v('1.0.0', true), v('2.0.0', false)).version).toBe('1.0.0');
    expect(pickLatest(v('1.2.0', undefined, '2026-01-01T00:00:00Z'), v('1.10.0', undefined, '2025-01-01T00:00:00Z')).version).toBe('1.10.0');
    expect(pickLatest(v('nightly-b', undefined, '2026-01-01T00:00:00Z'), v('nightly-a', undefined, '2025-01-01T00:00:00Z')).version).toBe('nightly-b');
  });
});
