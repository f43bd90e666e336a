import { describe, expect, it } from 'vitest';
import { FileSource } from '../../src/sources/file.js';
import { EXTRA_META_KEY, registryYamlServerToEntry } from '../../src/sources/registry-yaml.js';
import { infoView } from '../../src/catalog/views.js';
import { catalogFixture, fetchContext } from '../helpers/file-catalog.js';

const load = () => new FileSource({ name: 'corp', path: catalogFixture('registry.yaml') }).fetch(fetchContext());

describe('registry.yaml catalogs (file source)', () => {
  it('loads every server with its governance, ownership, lifecycle and versions', async () => {
    const res = await load();
    expect(res.warnings ?? []).toEqual([]);
    expect(res.entries.map((e) => e.id).sort()).toEqual(['corp/hr-search', 'corp/legacy-wiki', 'corp/payments']);
    const pay = res.entries.find((e) => e.id === 'corp/payments')!;
    expect(pay).toMatchObject({
      nativeName: 'payments',
      name: 'Payments',
      description: 'Refunds, payouts and ledger queries for the payments platform.',
      tags: ['finance', 'ledger'],
      governance: {
        owner: 'payments-platform',
        contact: 'payments-platform@corp.example',
        approvedBy: 'alice.ng',
        approvedAt: '2026-01-10',
        risk: 'high',
        dataAccess: 'pii',
        prodAllowed: true,
      },
      lifecycle: { status: 'active', envs: ['dev', 'staging', 'prod'] },
    });
    const hr = res.entries.find((e) => e.id === 'corp/hr-search')!;
    expect(hr.status).toBe('deprecated');
    expect(hr.lifecycle).toEqual({ status: 'deprecated', envs: ['dev', 'staging'], sunset: '2026-12-31', message: 'use people-search' });
    expect(hr.governance).toMatchObject({ prodAllowed: false, dataAccess: 'restricted', risk: 'medium' });
    expect(res.entries.find((e) => e.id === 'corp/legacy-wiki')!.lifecycle?.status).toBe('disabled');
  });

  it('keeps every version, newest by semver first: 1.10.0 is latest, not 1.9.9', async () => {
    const pay = (await load()).entries.find((e) => e.id === 'corp/payments')!;
    expect(pay.version).toBe('1.10.0');
    expect(pay.versions!.map((v) => [v.version, v.releasedAt])).toEqual([
      ['1.10.0', '2026-01-10'],
      ['1.9.9', '2025-12-20'],
      ['1.2.0', '2025-11-02'],
    ]);
    // The default launch is the latest version's; each version keeps its own transport and digest.
    expect(pay.launch).toEqual([{ type: 'remote', url: 'https://payments.corp.example/mcp', transport: 'streamable-http' }]);
    expect(pay.versions![1]!.launch).toEqual([{ type: 'remote', url: 'https://payments.corp.example/sse', transport: 'sse' }]);
    const v120 = pay.versions![2]!;
    expect(v120.launch).toEqual([{ type: 'image', image: 'localhost/mcp-registry-test/tiny:1' }]);
    expect(v120.artefacts).toEqual([{ kind: 'oci', ref: 'localhost/mcp-registry-test/tiny:1', digest: 'sha256:d506939269d1b1a2b6cdd93ed0dd34208921d6564d6be89f4c37573ece30f194' }]);
  });

  it('registry-info shows the governance a catalog states', async () => {
    const pay = (await load()).entries.find((e) => e.id === 'corp/payments')!;
    const view = infoView(pay);
    expect(view.governance).toMatchObject({ owner: 'payments-platform', approvedBy: 'alice.ng', risk: 'high', dataAccess: 'pii' });
    expect(view.versions?.map((v) => v.version)).toEqual(['1.10.0', '1.9.9', '1.2.0']);
  });

  it('keys the format does not define are kept verbatim and warned about; a bad server is skipped, not the file', () => {
    const warnings: string[] = [];
    const e = registryYamlServerToEntry(
      { id: 'x', cost_center: 'CC-12', ownership: { team: 't', slack: '#t' }, versions: [{ version: '1.0.0', transport: { type: 'sse', url: 'https://x.example/sse' } }] },
      'corp',
      { warn: (m) => warnings.push(m) },
    );
    expect(e.meta?.[EXTRA_META_KEY]).toEqual({ cost_center: 'CC-12', 'ownership.slack': '#t' });
    expect(warnings).toEqual(['server "x": keys this format does not define, kept as they are: cost_center, ownership.slack']);
    expect(() => registryYamlServerToEntry({ id: 'y', versions: [] }, 'corp')).toThrow(/server "y": versions: list at least one version/);
  });
});
