import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify as toYaml, parse as parseYaml } from 'yaml';
import {
  checkArtefact,
  generateKeyFiles,
  loadTrustRoot,
  provenanceOf,
  readPrivateKey,
  signRecord,
  trustRootOf,
  verifyRecord,
  withSignature,
  type CatalogFormat,
} from '../../src/signing/signing.js';
import { FileSource } from '../../src/sources/file.js';
import { catalogFixture, fetchContext } from '../helpers/file-catalog.js';

const DIGEST = 'sha256:d506939269d1b1a2b6cdd93ed0dd34208921d6564d6be89f4c37573ece30f194';
const OTHER = 'sha256:' + 'e'.repeat(64);
const key = () => generateKeyPairSync('ed25519').privateKey;

const serverJson = () => ({
  name: 'io.github.acme/notes',
  description: 'Notes server',
  version: '1.2.0',
  packages: [{ registryType: 'oci', identifier: 'ghcr.io/acme/notes:1.2.0', transport: { type: 'stdio' } }],
});
const oci = [{ kind: 'oci' as const, ref: 'ghcr.io/acme/notes:1.2.0', digest: DIGEST }];

function signed(record: Record<string, unknown>, format: CatalogFormat, k = key(), artefacts = oci) {
  return { record: withSignature(record, format, signRecord(record, format, k, artefacts)), trust: trustRootOf([k]), k };
}

describe('signing catalog entries (Ed25519)', () => {
  it('a signed entry verifies, in every catalog format, and names its key and signed artefacts', () => {
    const ledger = parseYaml(readFileSync(catalogFixture('servers-dir/servers/ledger-reader.yaml'), 'utf8'));
    const payments = (parseYaml(readFileSync(catalogFixture('registry.yaml'), 'utf8')) as { servers: Record<string, unknown>[] }).servers[0]!;
    for (const [rec, format] of [[serverJson(), 'server.json'], [{ server: serverJson(), _meta: { other: 1 } }, 'server.json'], [ledger, 'servers-dir'], [payments, 'registry.yaml']] as const) {
      const { record, trust, k } = signed(rec as Record<string, unknown>, format);
      const v = verifyRecord(record, format, trust);
      expect(v, format).toMatchObject({ outcome: 'verified', artefacts: oci });
      expect(v.outcome === 'verified' && v.keyId).toBe(trustRootOf([k]).keys.keys().next().value);
    }
  });

  it('the signature sits in _meta["io.mcp-registry/signature"] (server.json) or `signature`, and survives a YAML round trip', () => {
    const { record, trust } = signed(serverJson(), 'server.json');
    expect(Object.keys((record._meta as object) ?? {})).toEqual(['io.mcp-registry/signature']);
    // Re-serialised with another layout and key order: still the same entry.
    const reversed = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reversed) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : v;
    const text = toYaml(reversed(record), { indent: 4 });
    expect(text.indexOf('packages')).toBeLessThan(text.indexOf('name:'));
    const reparsed = parseYaml(text);
    expect(verifyRecord(reparsed, 'server.json', trust).outcome).toBe('verified');
  });

  it('one changed byte in the metadata fails, with the reason', () => {
    const { record, trust } = signed(serverJson(), 'server.json');
    const tampered = structuredClone(record);
    tampered.description = 'Notes server!';
    expect(verifyRecord(tampered, 'server.json', trust)).toMatchObject({
      outcome: 'bad',
      reason: expect.stringMatching(/does not match: the entry or its artefact digests changed after it was signed/),
    });
    const retagged = structuredClone(record);
    (retagged.packages as { identifier: string }[])[0]!.identifier = 'ghcr.io/acme/notes:1.2.1';
    expect(verifyRecord(retagged, 'server.json', trust).outcome).toBe('bad');
  });

  it('a changed digest fails: in the signature block or in the record itself', () => {
    const { record, trust } = signed(serverJson(), 'server.json');
    const block = (record._meta as Record<string, { artefacts: { digest: string }[] }>)['io.mcp-registry/signature']!;
    const swapped = structuredClone(record);
    (swapped._meta as Record<string, typeof block>)['io.mcp-registry/signature']!.artefacts[0]!.digest = OTHER;
    expect(verifyRecord(swapped, 'server.json', trust).outcome).toBe('bad');
    expect(block.artefacts[0]!.digest).toBe(DIGEST);

    const ledger = parseYaml(readFileSync(catalogFixture('servers-dir/servers/ledger-reader.yaml'), 'utf8'));
    const s = signed(ledger, 'servers-dir');
    const edited = structuredClone(s.record) as { artefact: { sha256: string } };
    edited.artefact.sha256 = 'e'.repeat(64);
    expect(verifyRecord(edited, 'servers-dir', s.trust).outcome).toBe('bad');
  });

  it('a key not in the trust root is rejected; with no trust root a signed entry counts as unsigned, saying why', () => {
    const { record } = signed(serverJson(), 'server.json');
    const stranger = trustRootOf([key()], '/etc/mcp-registry/keys/*.pub');
    expect(verifyRecord(record, 'server.json', stranger)).toMatchObject({
      outcome: 'bad',
      reason: expect.stringMatching(/^signed with key [0-9a-f]{16}, which is not in the trust root \(\/etc\/mcp-registry\/keys\/\*\.pub\)$/),
    });
    expect(verifyRecord(record, 'server.json', undefined, 'corp')).toMatchObject({ outcome: 'unsigned', reason: expect.stringContaining('source "corp" names no trusted keys (verify.keys)') });
    expect(verifyRecord(serverJson(), 'server.json', stranger)).toEqual({ outcome: 'unsigned' });
    expect(verifyRecord({ ...serverJson(), _meta: { 'io.mcp-registry/signature': 'MEUCIQ…' } }, 'server.json', stranger)).toMatchObject({ outcome: 'bad', reason: expect.stringContaining('bare string') });
  });

  it('keygen writes NAME.key (0600, never overwritten) and NAME.pub; a trust root of *.pub files verifies, a private key in it is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keys-'));
    const { keyFile, pubFile, keyId } = await generateKeyFiles(join(dir, 'release'));
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(pubFile, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    await expect(generateKeyFiles(join(dir, 'release'))).rejects.toThrow(/release\.key already exists/);
    const k = await readPrivateKey(keyFile);
    const record = withSignature(serverJson(), 'server.json', signRecord(serverJson(), 'server.json', k, oci));
    const root = await loadTrustRoot([join(dir, '*.pub')]);
    expect([...root.keys.keys()]).toEqual([keyId]);
    expect(verifyRecord(record, 'server.json', root)).toMatchObject({ outcome: 'verified', keyId });
    const withPrivate = await loadTrustRoot([join(dir, '*.key'), join(dir, 'missing', '*.pub')]);
    expect(withPrivate.keys.size).toBe(0);
    expect(withPrivate.problems.join('\n')).toMatch(/release\.key is a private key; a trust root holds public keys/);
    expect(withPrivate.problems.join('\n')).toMatch(/cannot list .*missing: no such directory/);
  });

  it('at launch: the artefact that is about to run must be the signed one; a swap is refused with both digests', () => {
    const { record, trust } = signed(serverJson(), 'server.json');
    const p = provenanceOf(verifyRecord(record, 'server.json', trust));
    expect(checkArtefact(p, { kind: 'oci', ref: 'ghcr.io/acme/notes:1.2.0', digest: DIGEST }, 'corp/notes')).toMatchObject({ ok: true });
    const swapped = checkArtefact(p, { kind: 'oci', ref: 'ghcr.io/acme/notes:1.2.0', digest: OTHER }, 'corp/notes');
    expect(swapped.ok).toBe(false);
    expect(!swapped.ok && swapped.message).toContain(`ghcr.io/acme/notes:1.2.0 is ${OTHER}, but the signature (key ${p.keyId}) covers ${DIGEST}`);
    const unsigned = checkArtefact({ signature: 'unsigned' }, { kind: 'oci', ref: 'x:1', digest: OTHER }, 'corp/x');
    expect(!unsigned.ok && unsigned.message).toMatch(/has no verified signature/);
  });

  it('a file source with verify.keys marks each entry verified, bad or unsigned, and re-verifies when the trust root changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signed-catalog-'));
    const keysDir = join(dir, 'keys');
    const signer = await generateKeyFiles(join(dir, 'signer'));
    const k = await readPrivateKey(signer.keyFile);
    const good = withSignature(serverJson(), 'server.json', signRecord(serverJson(), 'server.json', k, oci));
    const other = { ...serverJson(), name: 'io.github.acme/other' };
    const bad = { ...withSignature(other, 'server.json', signRecord(other, 'server.json', k, oci)), description: 'changed' };
    const plain = { ...serverJson(), name: 'io.github.acme/plain' };
    const catalog = join(dir, 'catalog.json');
    writeFileSync(catalog, JSON.stringify([good, bad, plain]));
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(keysDir);
    const source = new FileSource({ name: 'corp', path: catalog, verify: { keys: [join(keysDir, '*.pub')] } });
    const first = await source.fetch(fetchContext());
    const sig = (id: string, r = first) => r.entries.find((e) => e.id === id)!.provenance;
    // No key in the trust root yet: nothing verifies.
    expect(sig('corp/io.github.acme/notes')).toMatchObject({ signature: 'unsigned' });
    copyFileSync(signer.pubFile, join(keysDir, 'signer.pub'));
    const second = await source.fetch(fetchContext({ previous: { entries: first.entries, state: first.state, fetchedAt: new Date().toISOString() } }));
    expect(second.unchanged).toBeFalsy();
    expect(sig('corp/io.github.acme/notes', second)).toEqual({ signature: 'verified', keyId: signer.keyId, signedAt: expect.any(String), artefacts: oci });
    expect(sig('corp/io.github.acme/other', second)).toMatchObject({ signature: 'bad', keyId: signer.keyId });
    expect(sig('corp/io.github.acme/plain', second)).toEqual({ signature: 'unsigned' });
  });
});
