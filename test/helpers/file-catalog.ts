import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import type { FetchContext } from '../../src/sources/source.js';
import { repoRoot } from './shared-data.js';

/** The catalog fixtures of the team formats (test/fixtures/catalogs). */
export const catalogFixture = (rel: string) => join(repoRoot, 'test', 'fixtures', 'catalogs', rel);

/** A FetchContext for a file source read in a test (no previous state, nothing forced). */
export function fetchContext(over: Partial<FetchContext> = {}): FetchContext {
  return {
    previous: null,
    workDir: mkdtempSync(join(tmpdir(), 'file-catalog-')),
    signal: new AbortController().signal,
    progress: () => undefined,
    log: createLogger('test'),
    force: false,
    ...over,
  };
}
