import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { catalogFixture, runCli } from '../helpers/file-catalog.js';

// The test image is rebuilt now and then (scripts/build-test-images.sh): its digest is read, never assumed.
const tinyDigest = () => execFileSync('podman', ['image', 'inspect', '--format', '{{.Digest}}', 'localhost/mcp-registry-test/tiny:1'], { encoding: 'utf8' }).trim();
const TINY_DIGEST = 'sha256:' + 'd'.repeat(64);
const INTEGRITY = 'sha512-' + Buffer.alloc(64, 7).toString('base64');

/** The npm registry's version document, served locally (the tests must not depend on the public registry). */
const npm = createServer((req, res) => {
  if (req.url === '/@acme%2fnotes-mcp/1.4.0') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name: '@acme/notes-mcp', version: '1.4.0', dist: { integrity: INTEGRITY, tarball: 'http://x/notes.tgz' } }));
  } else res.writeHead(404).end('{}');
});
let npmUrl: string;
let dir: string;
beforeAll(async () => {
  await new Promise<void>((r) => npm.listen(0, '127.0.0.1', r));
  npmUrl = `http://127.0.0.1:${(npm.address() as { port: number }).port}`;
  dir = mkdtempSync(join(tmpdir(), 'sign-cli-'));
});
afterAll(() => new Promise<void>((r) => npm.close(() => r())));

const serverJson = [
  {
    name: 'io.github.acme/notes',
    description: 'Notes',
    version: '1.4.0',
    packages: [{ registryType: 'npm', identifier: '@acme/notes-mcp', version: '1.4.0', transport: { type: 'stdio' } }],
  },
  { name: 'io.github.acme/tiny', description: 'Tiny', version: '1.0.0', packages: [{ registryType: 'oci', identifier: 'localhost/mcp-registry-test/tiny:1', transport: { type: 'stdio' } }] },
  { name: 'io.github.acme/remote', description: 'Remote', version: '2.0.0', remotes: [{ type: 'streamable-http', url: 'https://mcp.acme.example/mcp' }] },
];

describe('keygen, sign and verify', () => {
  it('a signed catalog verifies; a changed byte, another key or an unknown key does not; validate --require-signed agrees', async () => {
    const kg = await runCli(['keygen', '--out', join(dir, 'release')]);
    expect(kg.code, kg.stderr).toBe(0);
    expect(kg.stdout).toMatch(/key id [0-9a-f]{16}/);
    const reg = join(dir, 'registry.yaml');
    cpSync(catalogFixture('registry.yaml'), reg);
    const sj = join(dir, 'servers.json');
    writeFileSync(sj, JSON.stringify(serverJson, null, 2));
    cpSync(catalogFixture('servers-dir'), join(dir, 'servers-dir'), { recursive: true });

    for (const cat of [reg, sj, join(dir, 'servers-dir')]) {
      const signed = await runCli(['sign', cat, '--key', join(dir, 'release.key'), '--npm-registry', npmUrl]);
      expect(signed.code, signed.stderr).toBe(0);
      const ok = await runCli(['verify', cat, '--key', join(dir, 'release.pub')]);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/ of \d+ entr(y|ies) verified\.$/m);
    }
    // The signature holds the digests sign looked up: the npm integrity, and the local image's digest for a tag.
    const sigs = (JSON.parse(readFileSync(sj, 'utf8')) as { _meta: Record<string, { artefacts: unknown[] }> }[]).map((s) => s._meta['io.mcp-registry/signature']!.artefacts);
    expect(sigs).toEqual([[{ kind: 'npm', ref: '@acme/notes-mcp@1.4.0', digest: INTEGRITY }], [{ kind: 'oci', ref: 'localhost/mcp-registry-test/tiny:1', digest: tinyDigest() }], []]);
    // YAML keeps its comments; each registry.yaml server carries its block under `signature`.
    const regText = readFileSync(reg, 'utf8');
    expect(regText).toContain('# A team catalog in the registry.yaml format');
    const legacy = (parseYaml(regText) as { servers: { id: string; signature: { artefacts: unknown[] } }[] }).servers.find((s) => s.id === 'legacy-wiki')!;
    expect(legacy.signature.artefacts).toEqual([{ kind: 'oci', ref: 'localhost/mcp-registry-test/tiny:1', digest: tinyDigest() }]);

    // One byte of one entry changed: that entry fails, at its line, and verify exits 1.
    writeFileSync(reg, regText.replace('Refunds, payouts and ledger queries', 'Refunds, payouts and ledger querie!'));
    const tampered = await runCli(['verify', reg, '--key', join(dir, 'release.pub')]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(new RegExp(`${reg}:4:5: payments: BAD SIGNATURE — the signature \\(key [0-9a-f]{16}\\) does not match`));
    expect(tampered.stdout).toMatch(/hr-search: verified/);
    expect(tampered.stdout).toMatch(/2 of 3 entries verified; /);

    // A key that is not in the trust root.
    await runCli(['keygen', '--out', join(dir, 'other')]);
    const stranger = await runCli(['verify', sj, '--key', join(dir, 'other.pub')]);
    expect(stranger.code).toBe(1);
    expect(stranger.stdout).toMatch(/signed with key [0-9a-f]{16}, which is not in the trust root/);

    const v = await runCli(['validate', sj, '--require-signed', '--key', join(dir, 'release.pub')]);
    expect({ code: v.code, out: v.stdout }).toEqual({ code: 0, out: '' });
    const vOther = await runCli(['validate', sj, '--require-signed', '--key', join(dir, 'other.pub')]);
    expect(vOther.code).toBe(1);
  });

  it('sign writes nothing when an artefact digest cannot be found, and says where and how to give it', async () => {
    const cat = join(dir, 'missing.json');
    const text = JSON.stringify([{ name: 'io.github.acme/gone', version: '1.0.0', description: 'x', packages: [{ registryType: 'oci', identifier: 'localhost/mcp-registry-test/not-here:9', transport: { type: 'stdio' } }] }], null, 2);
    writeFileSync(cat, text);
    const r = await runCli(['sign', cat, '--key', join(dir, 'release.key')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${cat}:2:3: io.github.acme/gone@1.0.0: packages\\[0\\]: image localhost/mcp-registry-test/not-here:9 is not in the local image store`));
    expect(r.stderr).toContain('nothing was signed');
    expect(readFileSync(cat, 'utf8')).toBe(text);
    const given = await runCli(['sign', cat, '--key', join(dir, 'release.key'), '--digest', `localhost/mcp-registry-test/not-here:9=${TINY_DIGEST}`]);
    expect(given.code, given.stderr).toBe(0);
  });
});
