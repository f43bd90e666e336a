import { describe, expect, it } from 'vitest';
import { validateCatalog } from '../../src/commands/validate-catalog.js';
import { catalogFixture, runCli } from '../helpers/file-catalog.js';

const broken = catalogFixture('broken');
const R = `${broken}/registry.yaml`;
const J = `${broken}/servers.json`;

describe('mcp-registry validate', () => {
  it('finds each planted error at its line and column', async () => {
    const { findings } = await validateCatalog(broken);
    const at = findings.map((f) => `${f.file}:${f.line}:${f.col}: ${f.message}`);
    const expected: [string, RegExp][] = [
      [`${R}:5:5`, /unknown key "descripton" .*did you mean "description"\?/],
      [`${R}:6:13`, /status: .*"active"\|"deprecated"\|"disabled"/],
      [`${R}:11:20`, /governance\.approved_at: a date such as 2026-01-31/],
      [`${R}:12:13`, /governance\.risk: .*"low"\|"medium"\|"high"\|"critical"/],
      [`${R}:13:20`, /governance\.data_access: .*"none"\|"restricted"\|"pii"/],
      [`${R}:14:21`, /governance\.prod_allowed: .*expected boolean/],
      [`${R}:16:18`, /version 1\.2 is a number in YAML; quote it/],
      [`${R}:20:18`, /version "v2-beta" is not semver/],
      [`${R}:22:17`, /transport\.type: .*"sse"\|"streamable-http"\|"stdio"/],
      [`${R}:24:9`, /duplicate id "payments" \(first at .*registry\.yaml:3:5\)/],
      [`${J}:5:16`, /version "latest" is not semver/],
      [`${J}:6:5`, /unknown field "packges" \(server\.json 2025-12-11 knows: .*packages/],
      [`${J}:8:129`, /packages\.0: unknown field "enviromentVariables" .*environmentVariables/],
      [`${J}:10:16`, /unknown mcp-registry extension "io\.mcp-registry\/governance"/],
      [`${J}:13:13`, /duplicate name and version "io\.github\.acme\/notes@latest"/],
      [`${J}:18:13`, /name: must match pattern/],
      [`${J}:21:27`, /remotes\.0\.type: must be one of "streamable-http", "sse"/],
      [`${J}:21:47`, /remotes\.0\.url: must match pattern/],
    ];
    for (const [where, what] of expected) expect(at.some((l) => l.startsWith(`${where}: `) && what.test(l)), `${where} ${what}`).toBe(true);
    // Each thing once: no branch of an anyOf repeats what another said.
    expect(new Set(at).size).toBe(at.length);
  });

  it('with --require-signed, unsigned entries and artefacts without a digest are errors too', async () => {
    const { findings } = await validateCatalog(broken, { requireSigned: true });
    const at = findings.map((f) => `${f.file}:${f.line}:${f.col}: ${f.message}`);
    expect(at).toContain(`${R}:3:5: payments: unsigned, and signing is required (sign it: mcp-registry sign <catalog> --key NAME.key)`);
    expect(at.some((l) => l.startsWith(`${R}:18:11: `) && /oci artefact localhost\/mcp-registry-test\/tiny:1 has no digest, and signing is required/.test(l))).toBe(true);
    expect(at.some((l) => l.startsWith(`${J}:8:7: `) && /oci artefact ghcr\.io\/acme\/notes:1 has no digest/.test(l))).toBe(true);
  });

  it('exits 1 with file:line:col messages, or GitHub annotations; a clean catalog exits 0', async () => {
    const text = await runCli(['validate', broken]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`${R}:5:5: error: payments: unknown key "descripton"`);
    expect(text.stderr).toMatch(/5 entries in 2 files: \d+ errors, 0 warnings/);
    const gh = await runCli(['validate', broken, '--format', 'github']);
    expect(gh.code).toBe(1);
    expect(gh.stdout).toContain(`::error file=${R},line=5,col=5::payments: unknown key "descripton"`);
    for (const clean of ['registry.yaml', 'servers-dir']) {
      const ok = await runCli(['validate', catalogFixture(clean), '--require-governance']);
      expect({ clean, code: ok.code, out: ok.stdout }).toEqual({ clean, code: 0, out: '' });
    }
    expect((await runCli(['validate', broken, '--format', 'xml'])).code).toBe(2);
  });
});
