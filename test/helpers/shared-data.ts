import { existsSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root and the read-only shared data beside it (CI has it at ../shared). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedDir = process.env.MCP_REGISTRY_SHARED ?? resolve(repoRoot, '..', 'shared');

/**
 * Path of a file under ../shared/data. Fails loudly (never skips) when it is missing, so a run without the
 * shared data says exactly what is absent instead of passing vacuously.
 */
export function sharedData(rel: string): string {
  const p = resolve(sharedDir, 'data', rel);
  if (!existsSync(p)) {
    throw new Error(
      `missing shared test data: ${p}\n` +
        `These tests read real captured data from ../shared/data (next to this repository). ` +
        `Clone the project next to its shared/ folder, or set MCP_REGISTRY_SHARED to where it is.`,
    );
  }
  return p;
}

export const dockerBundle = () => sharedData('docker-mcp-registry/docker-mcp-registry.bundle');
