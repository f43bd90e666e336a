import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/util/log.js';
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

/** Run the BUILT cli (dist/cli.js) and collect its exit code and output (never throws for a non-zero exit). */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  const { cliPath } = await import('./registry-client.js');
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
