import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { Policy } from '../../src/governance/policy.js';
import { exportAllowlist, type ExportFormat } from '../../src/governance/client-allowlists.js';
import { FileSource } from '../../src/sources/file.js';
import { repoRoot } from '../helpers/shared-data.js';
import { catalogFixture, fetchContext, runCli } from '../helpers/file-catalog.js';

const schema = (name: string) => JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'client-formats', name), 'utf8'));
const SCHEMAS: Record<ExportFormat, string> = {
  'claude-code': 'claude-code-settings.mcp.schema.json',
  'claude-code-mcp': 'claude-code-managed-mcp.schema.json',
  copilot: 'copilot-managed-settings.schema.json',
  vscode: 'vscode-policy.schema.json',
};
const validator = (format: ExportFormat) => new Ajv({ strict: false, allErrors: true }).compile(schema(SCHEMAS[format]));

const corp = async () => (await new FileSource({ name: 'corp', path: catalogFixture('registry.yaml') }).fetch(fetchContext())).entries;
const sd = async () => (await new FileSource({ name: 'fin', path: catalogFixture('servers-dir') }).fetch(fetchContext())).entries;

describe('the catalog says where an entry may be used (policy enforces it; policy wins where both speak)', () => {
  const policyIn = (environment: string, text = '', now = Date.parse('2026-06-01T00:00:00Z')) => Policy.fromText(text, '/etc/policy.yaml', { corp: 'file' }, { environment, now: () => now });
  it('prod_allowed: false hides an entry in prod, not in dev; disabled never runs; deprecated warns with its sunset date', async () => {
    const byId = Object.fromEntries((await corp()).map((e) => [e.id, e]));
    const hr = byId['corp/hr-search']!;
    const dev = policyIn('dev');
    expect(dev.visibility(hr)).toEqual({ visible: true, status: 'deprecated', statusMessage: 'use people-search; available until 2026-12-31' });
    expect(dev.decide(hr)).toMatchObject({ allowed: true, warning: 'corp/hr-search is deprecated by its catalog: use people-search (available until 2026-12-31)' });
    expect(dev.trustView(hr)).toMatchObject({ lifecycle: 'deprecated', sunset: '2026-12-31' });
    const prod = policyIn('prod');
    expect(prod.visibility({ ...hr, lifecycle: { status: 'active' } }).visible).toBe(false);
    expect(prod.decide({ ...hr, lifecycle: { status: 'active' } })).toMatchObject({ allowed: false, reason: expect.stringContaining('not allowed in prod by its catalog') });
    expect(prod.decide(hr)).toMatchObject({ allowed: false, reason: expect.stringContaining('allowed only in environments dev, staging by its catalog (source "corp")') });
    expect(policyIn('dev', '', Date.parse('2027-01-02T00:00:00Z')).decide(hr)).toMatchObject({ allowed: false, reason: expect.stringContaining('past its sunset date 2026-12-31 by its catalog') });
    const wiki = byId['corp/legacy-wiki']!;
    expect(dev.visibility(wiki).visible).toBe(false);
    expect(dev.decide(wiki)).toMatchObject({ allowed: false, needsApproval: false, reason: 'disabled by its catalog (source "corp")' });
    expect(prod.decide(byId['corp/payments']!)).toMatchObject({ allowed: true });
    expect(prod.decide({ ...byId['corp/payments']!, provenance: { signature: 'bad', reason: 'the signature does not match' } })).toMatchObject({ allowed: false, reason: 'its signature does not verify: the signature does not match' });
    // Policy wins where both speak: its own status and environments replace the catalog's.
    const overridden = policyIn('prod', 'entries:\n  corp/hr-search: { status: active, environments: [prod] }\n');
    const hrForProd = { ...hr, governance: { ...hr.governance, prodAllowed: true } };
    expect(overridden.visibility(hrForProd).visible).toBe(true);
    expect(overridden.decide(hrForProd)).toMatchObject({ allowed: true });
    expect(overridden.decide(hrForProd).warning).toBeUndefined();
    expect(policyIn('dev', 'entries:\n  corp/legacy-wiki: { status: active }\n').decide(wiki)).toMatchObject({ allowed: true });
  });

  it('data_access: pii needs approval when policy says so, even from your own catalog', async () => {
    const pay = (await corp()).find((e) => e.id === 'corp/payments')!;
    expect(policyIn('dev').decide(pay)).toMatchObject({ allowed: true });
    const d = policyIn('dev', 'requireApproval: { dataAccess: [pii] }\n').decide(pay);
    expect(d).toMatchObject({ allowed: false, needsApproval: true, command: 'mcp-registry allow corp/payments' });
    expect(d.reason).toMatch(/^corp\/payments needs approval: its catalog says data_access: pii, which policy\.yaml's requireApproval\.dataAccess says needs approval/);
    expect(policyIn('dev', 'requireApproval: { dataAccess: [pii] }\nallow: [corp/payments]\n').decide(pay)).toMatchObject({ allowed: true });
  });
});

describe('mcp-registry export: client allowlists', () => {
  it('every format validates against the client\'s published (or documented) schema', async () => {
    const entries = [...(await corp()), ...(await sd())];
    for (const format of ['claude-code', 'claude-code-mcp', 'copilot', 'vscode'] as const) {
      const { document } = exportAllowlist(format, { approved: entries, denied: entries.slice(0, 1), registryUrl: 'https://registry.corp.example/' });
      const validate = validator(format);
      expect(validate(document), `${format}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    // The schemas have teeth: a rule with two matchers, a bad server name, an unknown access level fail.
    expect(validator('claude-code')({ allowedMcpServers: [{ serverName: 'a', serverUrl: 'https://x/*' }] })).toBe(false);
    expect(validator('claude-code-mcp')({ mcpServers: { 'a b': { command: 'x' } } })).toBe(false);
    expect(validator('copilot')({ deniedMcpServers: [{ serverCommand: [] }] })).toBe(false);
    expect(validator('vscode')({ ChatMCP: 'some' })).toBe(false);
  });

  it('approved servers become URL and exact-command rules, denied ones deny rules, with the registry itself allowed', async () => {
    const entries = [...(await corp()), ...(await sd())];
    const pay = entries.find((e) => e.id === 'corp/payments')!;
    const ledger = entries.find((e) => e.id === 'fin/ledger-reader')!;
    const bundle = entries.find((e) => e.id === 'fin/report-bundle')!;
    const wiki = entries.find((e) => e.id === 'corp/legacy-wiki')!;
    const r = exportAllowlist('claude-code', { approved: [pay, ledger, bundle], denied: [wiki] });
    expect(r.document).toEqual({
      allowedMcpServers: [
        { serverCommand: ['mcp-registry'] },
        { serverCommand: ['npx', '-y', 'mcp-registry'] },
        { serverUrl: 'https://payments.corp.example/mcp' },
        { serverCommand: ['docker', 'run', '-i', '--rm', 'localhost/mcp-registry-test/tiny:1'] },
      ],
      deniedMcpServers: [{ serverCommand: ['docker', 'run', '-i', '--rm', 'localhost/mcp-registry-test/tiny:1'] }],
      allowManagedMcpServersOnly: true,
    });
    expect(r.skipped).toEqual([{ id: 'fin/report-bundle', why: 'a mcpb package has no command line a client runs by itself' }]);
    const mcp = exportAllowlist('claude-code-mcp', { approved: [pay, ledger], denied: [] });
    expect(mcp.document).toEqual({
      mcpServers: {
        registry: { type: 'stdio', command: 'mcp-registry', args: [] },
        payments: { type: 'http', url: 'https://payments.corp.example/mcp' },
        'ledger-reader': { type: 'stdio', command: 'docker', args: ['run', '-i', '--rm', 'localhost/mcp-registry-test/tiny:1'] },
      },
    });
    expect(() => exportAllowlist('vscode', { approved: [], denied: [] })).toThrow(/--registry-url/);
  });

  it('the CLI exports what policy allows and the catalog lets run here: prod drops what is not allowed in prod', async () => {
    const home = mkdtempSync(join(tmpdir(), 'export-'));
    const config = (env: string) => writeFileSync(join(home, 'config.yaml'), `environment: ${env}\nsources:\n  - name: corp\n    type: file\n    path: ${catalogFixture('registry.yaml')}\n`);
    config('dev');
    const dev = await runCli(['export', 'claude-code'], { MCP_REGISTRY_HOME: home });
    expect(dev.code, dev.stderr).toBe(0);
    const devDoc = JSON.parse(dev.stdout) as { allowedMcpServers: unknown[] };
    expect(devDoc.allowedMcpServers).toContainEqual({ serverUrl: 'https://payments.corp.example/mcp' });
    expect(devDoc.allowedMcpServers).toContainEqual({ serverUrl: 'https://hr-search.corp.example/mcp' });
    expect(JSON.stringify(devDoc)).not.toContain('tiny:1'); // legacy-wiki is disabled
    expect(validator('claude-code')(devDoc)).toBe(true);
    config('prod');
    writeFileSync(join(home, 'policy.yaml'), 'deny: [corp/payments]\n');
    const out = join(home, 'managed-settings.json');
    const prod = await runCli(['export', 'claude-code', '--out', out], { MCP_REGISTRY_HOME: home });
    expect(prod.code, prod.stderr).toBe(0);
    expect(prod.stderr).toContain('deploy it as /etc/claude-code/managed-settings.json');
    const prodDoc = JSON.parse(readFileSync(out, 'utf8')) as { allowedMcpServers: unknown[]; deniedMcpServers: unknown[] };
    expect(prodDoc.allowedMcpServers).toEqual([{ serverCommand: ['mcp-registry'] }, { serverCommand: ['npx', '-y', 'mcp-registry'] }]);
    expect(prodDoc.deniedMcpServers).toEqual([{ serverUrl: 'https://payments.corp.example/mcp' }]);
    const vs = await runCli(['export', 'vscode', '--registry-url', 'https://registry.corp.example/'], { MCP_REGISTRY_HOME: home });
    expect(JSON.parse(vs.stdout)).toEqual({ ChatMCP: 'registry', McpGalleryServiceUrl: 'https://registry.corp.example/' });
    expect((await runCli(['export', 'cursor'], { MCP_REGISTRY_HOME: home })).code).toBe(2);
  });
});
