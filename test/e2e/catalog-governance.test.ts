import { afterAll, describe, expect, it } from 'vitest';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ENTRY_LABEL, Podman } from '../../src/runtime/podman/podman.js';
import { requirePodman } from '../helpers/podman.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { catalogFixture } from '../helpers/file-catalog.js';
import { mapEntry, AGGREGATOR_KEY } from '../../src/http/server-json-out.js';
import { FileSource } from '../../src/sources/file.js';
import { fetchContext } from '../helpers/file-catalog.js';

/**
 * Issue 15, "Done when": both team catalog formats load as file sources, and their governance is enforced and shown
 * — seen from an MCP client driving the BUILT server over stdio: registry-info shows owner, approver, risk and review;
 * registry-find filters on them; prod_allowed: false hides in prod, not in dev; disabled never starts; deprecated
 * warns with its sunset date. No container starts here (every start asked for is refused before one would).
 */

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
const homes: string[] = [];
const running: RunningRegistry[] = [];

// The fixtures share a test image, so in one registry their entries would merge: each format gets its own.
const CORP = { name: 'corp', type: 'file', path: catalogFixture('registry.yaml') };
const FIN = { name: 'fin', type: 'file', path: catalogFixture('servers-dir') };

async function registryIn(environment: string, sources: unknown[]): Promise<(name: string, args?: Record<string, unknown>) => Promise<Result>> {
  const home = await makeHome({
    sources,
    refresh: { onStart: false },
    environment,
  });
  homes.push(home);
  const reg = await startRegistry(home, { clientName: 'catalog-governance-test' });
  running.push(reg);
  const call = async (name: string, args: Record<string, unknown> = {}) => (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as Result;
  const r = await call('registry-refresh', {});
  expect(r.isError, text(r)).toBeFalsy();
  return call;
}

afterAll(async () => {
  for (const r of running) await r.close();
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

type Found = { id: string; status?: string; sunset?: string; warning?: string; governance?: Record<string, unknown> };

describe('team catalogs: governance shown, filtered and enforced (issue 15)', () => {
  it('in dev: governance in registry-info and registry-find, filters, deprecated warns with its sunset, disabled is neither found nor started', async () => {
    const call = await registryIn('dev', [CORP]);
    const info = await call('registry-info', { id: 'corp/payments' });
    expect(info.isError, text(info)).toBeFalsy();
    expect(info.structuredContent).toMatchObject({
      governance: { owner: 'payments-platform', contact: 'payments-platform@corp.example', approvedBy: 'alice.ng', approvedAt: '2026-01-10', risk: 'high', dataAccess: 'pii', prodAllowed: true },
      version: '1.10.0',
    });
    expect(text(info)).toContain('Governance: owner payments-platform; contact payments-platform@corp.example; approved by alice.ng on 2026-01-10; risk high; data access pii; prod allowed');

    const found = (await call('registry-find', { query: 'payments ledger hr search wiki', limit: 20 })).structuredContent as { results: Found[] };
    const byId = Object.fromEntries(found.results.map((r) => [r.id, r]));
    expect(byId['corp/payments']?.governance).toMatchObject({ owner: 'payments-platform', approvedBy: 'alice.ng', risk: 'high', dataAccess: 'pii' });
    expect(byId['corp/hr-search']).toMatchObject({ status: 'deprecated', sunset: '2026-12-31', warning: 'corp/hr-search is deprecated by its catalog: use people-search (available until 2026-12-31)' });
    expect(byId['corp/legacy-wiki']).toBeUndefined();

    const pii = (await call('registry-find', { query: 'payments ledger hr search', governance: { dataAccess: 'pii' } })).structuredContent as { results: Found[] };
    expect(pii.results.map((r) => r.id)).toEqual(['corp/payments']);
    const owned = (await call('registry-find', { query: 'payments ledger hr search', governance: { owner: 'People-Tools' } })).structuredContent as { results: Found[] };
    expect(owned.results.map((r) => r.id)).toEqual(['corp/hr-search']);
    const bad = await call('registry-find', { query: 'x', governance: { dataAcess: 'pii' } });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/dataAcess/);

    const wiki = await call('registry-add', { id: 'corp/legacy-wiki' });
    expect(wiki.isError).toBe(true);
    expect(text(wiki)).toContain('corp/legacy-wiki may not be started: disabled by its catalog (source "corp")');
  });

  it('in prod: an entry its catalog does not allow in prod is hidden, and refused', async () => {
    const call = await registryIn('prod', [CORP]);
    const found = (await call('registry-find', { query: 'payments hr search', limit: 20 })).structuredContent as { results: Found[] };
    const ids = found.results.map((r) => r.id);
    expect(ids).toContain('corp/payments');
    expect(ids).not.toContain('corp/hr-search');
    const hr = await call('registry-add', { id: 'corp/hr-search' });
    expect(hr.isError).toBe(true);
    expect(text(hr)).toContain('corp/hr-search may not be started: allowed only in environments dev, staging by its catalog (source "corp"); this registry runs in "prod"');
  });

  it('a servers/<name>.yaml catalog shows its maintainer, review and classification in registry-info and registry-find', async () => {
    const call = await registryIn('prod', [FIN]);
    const ledger = await call('registry-info', { id: 'fin/ledger-reader' });
    expect(ledger.structuredContent).toMatchObject({
      version: '3.1.0',
      governance: { owner: 'finance-data@corp.example', reviewedAt: '2026-02-01', reviewers: ['dana.kim', 'eli.moss'], scope: ['ledger:read', 'accounts:read'], dataClassification: 'confidential' },
    });
    expect(text(ledger)).toContain('reviewed 2026-02-01 by dana.kim, eli.moss');
    const since = (await call('registry-find', { query: 'ledger balances', governance: { reviewedSince: '2026-01-01' } })).structuredContent as { results: Found[] };
    expect(since.results.map((r) => r.id)).toEqual(['fin/ledger-reader']);
    expect(((await call('registry-find', { query: 'ledger balances', governance: { reviewedSince: '2026-03-01' } })).structuredContent as { results: Found[] }).results).toEqual([]);
  });

  it('an entry with versions 1.2.0, 1.10.0 and 1.9.9 reports 1.10.0 as latest; registry-add of 1.2.0 runs 1.2.0, and the mount keeps it', async (ctx) => {
    await requirePodman(ctx);
    const call = await registryIn('dev', [CORP]);
    const info = (await call('registry-info', { id: 'corp/payments' })).structuredContent as { version: string; versions: { version: string }[] };
    expect(info.version).toBe('1.10.0');
    expect(info.versions.map((v) => v.version)).toEqual(['1.10.0', '1.9.9', '1.2.0']);
    const unknown = await call('registry-add', { id: 'corp/payments', version: '9.9.9' });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain('corp/payments has no version "9.9.9": its catalog lists 1.10.0, 1.9.9, 1.2.0');
    // 1.2.0 is the stdio image (the latest, 1.10.0, is a remote that does not exist): it runs, and answers.
    const added = await call('registry-add', { id: 'corp/payments', version: '1.2.0' });
    expect(added.isError, text(added)).toBeFalsy();
    expect(added.structuredContent).toMatchObject({ id: 'corp/payments', version: '1.2.0' });
    const prefix = (added.structuredContent as { prefix: string }).prefix;
    expect(text(await call(`${prefix}__echo`, { text: 'one-two-oh' }))).toContain('one-two-oh');
    const containers = await new Podman().listContainers({ [ENTRY_LABEL]: 'corp/payments' });
    expect(containers).toHaveLength(1);
    const state = JSON.parse(await readFile(join(homes.at(-1)!, 'state', 'state.json'), 'utf8')) as { mounts: { id: string; version?: string }[] };
    expect(state.mounts).toContainEqual(expect.objectContaining({ id: 'corp/payments', version: '1.2.0' }));
    const other = await call('registry-add', { id: 'corp/payments', version: '1.9.9' });
    expect(text(other)).toContain('corp/payments is already mounted at version 1.2.0; registry-remove it first to run version 1.9.9');
    await call('registry-remove', { id: 'corp/payments' });
  });

  it('the HTTP API serves the catalog governance, lifecycle and signature outcome under our _meta key', async () => {
    const entries = (await new FileSource({ name: 'corp', path: catalogFixture('registry.yaml') }).fetch(fetchContext())).entries;
    const hr = entries.find((e) => e.id === 'corp/hr-search')!;
    const meta = JSON.parse(mapEntry(hr, { status: 'deprecated' }).aggregatorJson) as Record<string, unknown>;
    expect(meta).toMatchObject({
      governance: { owner: 'people-tools', approvedBy: 'bob.ortiz', risk: 'medium', dataAccess: 'restricted', prodAllowed: false },
      lifecycle: { status: 'deprecated', sunset: '2026-12-31', envs: ['dev', 'staging'] },
      signature: { outcome: 'unsigned' },
    });
    expect(AGGREGATOR_KEY).toBe('io.github.mcp-registry/aggregator');
  });
});
