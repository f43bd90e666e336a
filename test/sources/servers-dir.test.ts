import { describe, expect, it } from 'vitest';
import { FileSource } from '../../src/sources/file.js';
import { infoView } from '../../src/catalog/views.js';
import { catalogFixture, fetchContext } from '../helpers/file-catalog.js';

describe('servers/<name>.yaml catalogs (file source)', () => {
  it('loads each file with its maintainer, review, scope, classification and artefact', async () => {
    for (const path of [catalogFixture('servers-dir'), catalogFixture('servers-dir/servers')]) {
      const res = await new FileSource({ name: 'fin', path }).fetch(fetchContext());
      expect(res.warnings ?? []).toEqual([]);
      expect(res.entries.map((e) => e.id)).toEqual(['fin/ledger-reader', 'fin/report-bundle']);
      const ledger = res.entries[0]!;
      expect(ledger).toMatchObject({
        nativeName: 'ledger-reader',
        version: '3.1.0',
        description: 'Reads ledger balances and postings (no writes).',
        governance: {
          owner: 'finance-data@corp.example',
          reviewedAt: '2026-02-01',
          reviewers: ['dana.kim', 'eli.moss'],
          scope: ['ledger:read', 'accounts:read'],
          dataClassification: 'confidential',
        },
        launch: [{ type: 'image', image: 'localhost/mcp-registry-test/tiny:1' }],
        artefacts: [{ kind: 'oci', ref: 'localhost/mcp-registry-test/tiny:1', digest: 'sha256:d506939269d1b1a2b6cdd93ed0dd34208921d6564d6be89f4c37573ece30f194' }],
        provenance: { signature: 'unsigned' },
      });
      const bundle = res.entries[1]!;
      expect(bundle.launch).toEqual([
        { type: 'package', registryType: 'mcpb', identifier: 'https://artifacts.corp.example/mcp/report-bundle-0.9.2.mcpb', fileSha256: '9f2c1a0b7e3d4c5b6a79880716253443526170809f8e7d6c5b4a39281706f5e4', transport: { type: 'stdio' } },
      ]);
      expect(infoView(ledger).governance).toMatchObject({ owner: 'finance-data@corp.example', reviewers: ['dana.kim', 'eli.moss'] });
    }
  });
});
