import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { execa } from 'execa';
import { stringify as toYaml } from 'yaml';
import { ENTRY_LABEL, INSTANCE_LABEL, Podman } from '../../src/runtime/podman/podman.js';
import type { AuditRecord } from '../../src/governance/audit-record.js';
import { parseAuditLine } from '../../src/governance/audit-read.js';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { EVERYTHING_IMAGE, requirePodman, TINY_IMAGE } from '../helpers/podman.js';
import { runCli } from '../helpers/file-catalog.js';

/**
 * Issue 15, "Done when", on the machine that launches: signed catalogs (file sources with verify.keys) through the
 * BUILT server over stdio, real podman. Only verified entries start under `requireSigned`; a changed entry, a key
 * outside the trust root and a re-tagged image are refused (the image with both digests); every outcome is audited.
 */

const podman = new Podman();
// This file's own image names (each its own, so the entries never merge); re-tagged to simulate a swapped image.
const img = (name: string) => `localhost/mcp-registry-test/sig-${name}-${process.pid}:1`;
const IMAGES = { good: img('good'), tampered: img('tampered'), foreign: img('foreign'), unsigned: img('unsigned') };

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
const digestOf = async (ref: string) => (await execa('podman', ['image', 'inspect', '--format', '{{.Digest}}', ref], { cwd: '/' })).stdout.trim();

let home: string;
let reg: RunningRegistry;

async function call(name: string, args: Record<string, unknown> = {}): Promise<Result> {
  return (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
}
const serverJson = (name: string, image: string) => ({
  name: `io.example/${name}`,
  description: `Signature fixture ${name}.`,
  version: '1.0.0',
  packages: [{ registryType: 'oci', identifier: image, transport: { type: 'stdio' } }],
});

beforeAll(async () => {
  for (const ref of Object.values(IMAGES)) await execa('podman', ['tag', TINY_IMAGE, ref], { cwd: '/' });
  home = await makeHome({
    sources: [
      { name: 'signed', type: 'file', path: './signed.json', verify: { keys: ['./trusted/*.pub'] } },
      { name: 'foreign', type: 'file', path: './foreign.json', verify: { keys: ['./trusted/*.pub'] } },
      { name: 'plain', type: 'file', path: './plain.json' },
    ],
    refresh: { onStart: false },
    environment: 'dev',
    runtime: { startTimeout: '60s', callTimeout: '60s' },
  });
  await mkdir(join(home, 'trusted'));
  expect((await runCli(['keygen', '--out', join(home, 'trusted', 'release')])).code).toBe(0);
  expect((await runCli(['keygen', '--out', join(home, 'stranger')])).code).toBe(0);
  // A private key in the trust root's directory is no key of it (*.pub only).
  await writeFile(join(home, 'signed.json'), JSON.stringify([serverJson('good', IMAGES.good), serverJson('tampered', IMAGES.tampered)], null, 2));
  await writeFile(join(home, 'foreign.json'), JSON.stringify([serverJson('foreign', IMAGES.foreign)], null, 2));
  await writeFile(join(home, 'plain.json'), JSON.stringify([serverJson('unsigned', IMAGES.unsigned)], null, 2));
  const s1 = await runCli(['sign', join(home, 'signed.json'), '--key', join(home, 'trusted', 'release.key')]);
  expect(s1.code, s1.stderr).toBe(0);
  const s2 = await runCli(['sign', join(home, 'foreign.json'), '--key', join(home, 'stranger.key')]);
  expect(s2.code, s2.stderr).toBe(0);
  // One byte of one signed entry changed after signing.
  const signed = await readFile(join(home, 'signed.json'), 'utf8');
  await writeFile(join(home, 'signed.json'), signed.replace('Signature fixture tampered.', 'Signature fixture tampered!'));
  await writeFile(join(home, 'policy.yaml'), toYaml({ requireSigned: true }));
  reg = await startRegistry(home, { clientName: 'signature-test' });
  const r = await call('registry-refresh', {});
  expect(r.isError, text(r)).toBeFalsy();
});

afterAll(async () => {
  await reg?.close();
  const left = (await podman.listContainers({ [INSTANCE_LABEL]: '' }).catch(() => [])).filter((c) => (c.labels[INSTANCE_LABEL] ?? '').startsWith(`${reg?.pid}-`));
  if (left.length) await podman.remove(left.map((c) => c.id)).catch(() => {});
  await execa('podman', ['rmi', ...Object.values(IMAGES)], { cwd: '/', reject: false });
  if (home) await rm(home, { recursive: true, force: true });
});

describe('signatures at launch (issue 15)', () => {
  it('with requireSigned every entry is found and marked, only the verified one starts, and the audit log holds each outcome', async (ctx) => {
    await requirePodman(ctx);
    const found = (await call('registry-find', { query: 'signature fixture', limit: 20 })).structuredContent as { results: { id: string; signature?: string }[] };
    expect(Object.fromEntries(found.results.map((r) => [r.id, r.signature]))).toEqual({
      'signed/io.example/good': 'verified',
      'signed/io.example/tampered': 'bad',
      'foreign/io.example/foreign': 'bad',
      'plain/io.example/unsigned': 'unsigned',
    });
    const info = (await call('registry-info', { id: 'plain/io.example/unsigned' })).structuredContent as { trust: { status: string; reason: string } };
    expect(info.trust).toMatchObject({ status: 'denied' });
    expect(info.trust.reason).toMatch(/not signed by a trusted key.*requireSigned: true/);

    const unsigned = await call('registry-add', { id: 'plain/io.example/unsigned' });
    expect(unsigned.isError).toBe(true);
    expect(text(unsigned)).toMatch(/plain\/io\.example\/unsigned may not be started: it is not signed by a trusted key.*requireSigned: true/);
    const tampered = await call('registry-add', { id: 'signed/io.example/tampered' });
    expect(tampered.isError).toBe(true);
    expect(text(tampered)).toMatch(/its signature does not verify: the signature \(key [0-9a-f]{16}\) does not match: the entry or its artefact digests changed after it was signed/);
    const foreign = await call('registry-add', { id: 'foreign/io.example/foreign' });
    expect(foreign.isError).toBe(true);
    expect(text(foreign)).toMatch(/signed with key [0-9a-f]{16}, which is not in the trust root/);
    for (const id of ['plain/io.example/unsigned', 'signed/io.example/tampered', 'foreign/io.example/foreign']) {
      expect(await podman.listContainers({ [ENTRY_LABEL]: id })).toEqual([]);
    }

    const good = await call('registry-add', { id: 'signed/io.example/good' });
    expect(good.isError, text(good)).toBeFalsy();
    const echo = await call('good__echo', { text: 'signed' });
    expect(text(echo)).toContain('signed');
    await call('registry-remove', { id: 'signed/io.example/good' });

    // Records follow their answers within a turn of the server's event loop.
    let verify: AuditRecord[] = [];
    for (let i = 0; i < 50 && verify.length < 4; i++) {
      const lines = (await readFile(join(home, 'state', 'audit', 'audit.jsonl'), 'utf8').catch(() => '')).split('\n');
      verify = lines.map(parseAuditLine).filter((r): r is AuditRecord => r?.op === 'verify');
      if (verify.length < 4) await new Promise((r) => setTimeout(r, 100));
    }
    const byEntry = Object.fromEntries(verify.map((r) => [r.entry, r]));
    expect(byEntry['signed/io.example/good']).toMatchObject({ outcome: 'ok', signature: 'verified', version: '1.0.0', keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(byEntry['signed/io.example/good']!.error).toContain(`is ${await digestOf(IMAGES.good)}, as signed`);
    expect(byEntry['signed/io.example/tampered']).toMatchObject({ outcome: 'refused', signature: 'bad', version: '1.0.0' });
    expect(byEntry['foreign/io.example/foreign']).toMatchObject({ outcome: 'refused', signature: 'bad' });
    expect(byEntry['plain/io.example/unsigned']).toMatchObject({ outcome: 'refused', signature: 'unsigned' });
  });

  it('an image re-tagged after signing is refused at launch with both digests, and the refusal is audited', async (ctx) => {
    await requirePodman(ctx);
    const signedDigest = await digestOf(IMAGES.good);
    await execa('podman', ['tag', EVERYTHING_IMAGE, IMAGES.good], { cwd: '/' });
    const swappedDigest = await digestOf(IMAGES.good);
    expect(swappedDigest).not.toBe(signedDigest);
    const r = await call('registry-add', { id: 'signed/io.example/good' });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(`${IMAGES.good} is ${swappedDigest}, but the signature (key `);
    expect(text(r)).toContain(`covers ${signedDigest}; the artefact was re-tagged or swapped after signing`);
    expect(await podman.listContainers({ [ENTRY_LABEL]: 'signed/io.example/good' })).toEqual([]);
    const shown = JSON.parse((await runCli(['audit', '--op', 'verify', '--entry', 'signed/io.example/good', '--json'], { MCP_REGISTRY_HOME: home })).stdout) as { records: AuditRecord[] };
    const last = shown.records.at(-1)!;
    expect(last).toMatchObject({ outcome: 'refused', signature: 'verified' });
    expect(last.error).toContain(swappedDigest);
    expect(last.error).toContain(signedDigest);
  });
});
