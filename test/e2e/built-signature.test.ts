import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify as toYaml } from 'yaml';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ENTRY_LABEL, Podman } from '../../src/runtime/podman/podman.js';
import type { AuditRecord } from '../../src/governance/audit-log.js';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { requirePodman } from '../helpers/podman.js';
import { runCli } from '../helpers/file-catalog.js';

/**
 * Issue 15, "Done when", for built packages: a signed npm entry (sign resolves the package's integrity from the npm
 * registry) is built by registry-add and starts, because the lockfile integrity the build installed is the signed
 * one; re-signed with another integrity, the same build is refused with both digests, and both outcomes are audited
 * (op verify). Real npm package, real podman (rootful), the BUILT server over stdio.
 */

const PKG = '@modelcontextprotocol/server-memory';
const VERSION = '2026.8.31';
const IMAGE = `localhost/mcp-registry/npm/modelcontextprotocol/server-memory:${VERSION}`;
const ID = 'pkgs/io.github.modelcontextprotocol/server-memory';
const RUNNER = 'localhost/mcp-registry/runner-node:20';
const CA = '/etc/ssl/certs/ca-certificates.crt';
const OTHER_INTEGRITY = `sha512-${'A'.repeat(86)}==`;
const podman = new Podman();

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

let home: string;
let reg: RunningRegistry;
let signedOut: string;
const call = async (name: string, args: Record<string, unknown> = {}) => (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 })) as Result;
const catalog = () => [
  {
    name: 'io.github.modelcontextprotocol/server-memory',
    description: 'Knowledge-graph memory, published on npm.',
    version: VERSION,
    packages: [{ registryType: 'npm', identifier: PKG, version: VERSION, transport: { type: 'stdio' }, environmentVariables: [{ name: 'MEMORY_FILE_PATH', value: '/tmp/memory.jsonl' }] }],
  },
];
// Signed beside the home, then put in place whole: the registry never reads a half-signed catalog.
const sign = async (extra: string[] = []) => {
  const draft = join(home, 'draft', 'pkgs.json');
  await writeFile(draft, JSON.stringify(catalog(), null, 2));
  const r = await runCli(['sign', draft, '--key', join(home, 'trusted', 'release.key'), ...extra], { NODE_EXTRA_CA_CERTS: CA });
  expect(r.code, r.stderr).toBe(0);
  await rename(draft, join(home, 'pkgs.json'));
  return r.stdout;
};
const verifyRecords = async () =>
  (JSON.parse((await runCli(['audit', '--op', 'verify', '--entry', ID, '--json'], { MCP_REGISTRY_HOME: home })).stdout) as { records: AuditRecord[] }).records;

beforeAll(async () => {
  home = await makeHome({
    sources: [{ name: 'pkgs', type: 'file', path: './pkgs.json', verify: { keys: ['./trusted/*.pub'] } }],
    // No cooldown: the re-signed catalog is read at once (registry-refresh force).
    refresh: { onStart: false, cooldown: '0s' },
    runtime: { startTimeout: '120s', callTimeout: '60s', caBundle: CA, runners: { npm: { image: RUNNER }, buildWait: '15m' } },
  });
  await mkdir(join(home, 'trusted'));
  await mkdir(join(home, 'draft'));
  expect((await runCli(['keygen', '--out', join(home, 'trusted', 'release')])).code).toBe(0);
  await writeFile(join(home, 'policy.yaml'), toYaml({ requireSigned: true }));
  // The build must be this build's (its record states what it installed): an image left by an earlier run goes.
  await execa('podman', ['rmi', '-f', IMAGE], { reject: false, cwd: '/' });
  signedOut = await sign();
  reg = await startRegistry(home, { env: { NODE_EXTRA_CA_CERTS: CA } });
}, 120_000);

afterAll(async () => {
  await reg?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('signed built packages at launch (issue 15)', () => {
  it('starts when the installed npm integrity is the signed one, and refuses another signed integrity with both digests', async (ctx) => {
    await requirePodman(ctx);
    const integrity = /sha512-[A-Za-z0-9+/]{86}==/.exec(signedOut)?.[0];
    expect(integrity, signedOut).toBeDefined();

    const ok = await call('registry-add', { id: ID });
    expect(ok.isError, text(ok)).toBeFalsy();
    const good = (await verifyRecords()).at(-1)!;
    expect(good).toMatchObject({ outcome: 'ok', signature: 'verified' });
    expect(good.error).toContain(`${PKG}@${VERSION} (${integrity})`);
    expect((await call('registry-remove', { id: ID })).isError).toBeFalsy();

    // Same catalog, signed over another integrity: the package the build installed is no longer the signed one.
    await sign(['--digest', `${PKG}@${VERSION}=${OTHER_INTEGRITY}`]);
    // The image stays built: the same build is checked against the new signature.
    expect((await call('registry-refresh', { force: true })).isError).toBeFalsy();
    const r = await call('registry-add', { id: ID });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(`installed ${PKG}@${VERSION} with digest ${integrity}`);
    expect(text(r)).toContain(`covers ${PKG}@${VERSION} (${OTHER_INTEGRITY})`);
    expect(await podman.listContainers({ [ENTRY_LABEL]: ID })).toEqual([]);
    const bad = (await verifyRecords()).at(-1)!;
    expect(bad).toMatchObject({ outcome: 'refused', signature: 'verified' });
    expect(bad.error).toContain(integrity);
    expect(bad.error).toContain(OTHER_INTEGRITY);
  }, 900_000);
});
