import { describe, expect, it } from 'vitest';
import { BuiltIndex, type BuiltPackage } from '../../../src/runtime/build/built-index.js';
import { findItem, formatFindText } from '../../../src/catalog/views.js';
import { EntrySchema, type Entry } from '../../../src/model/entry.js';

/** registry-find's `built`: from one cached list of built images, never a podman call per result. */
const entry = (id: string, launch: Record<string, unknown>): Entry =>
  EntrySchema.parse({ id, name: id, nativeName: id, description: `fixture ${id}`, sources: [{ source: 'internal', id }], launch: [launch] });
const npm = (identifier: string, version?: string) => entry(`internal/${identifier}`, { type: 'package', registryType: 'npm', identifier, ...(version ? { version } : {}), transport: { type: 'stdio' } });

describe('BuiltIndex: whether a package server is ready or needs a first build', () => {
  it('answers from one list read, by package and exact version; an image or remote builds nothing', async () => {
    let reads = 0;
    const images: BuiltPackage[] = [
      { kind: 'npm', package: '@modelcontextprotocol/server-memory', version: '2025.4.25' },
      { kind: 'pypi', package: 'My_Server', version: '1.0.0' },
    ];
    const index = new BuiltIndex(async () => (reads++, images));
    const memory = npm('@modelcontextprotocol/server-memory', '2025.4.25');
    expect(index.built(memory)).toBeUndefined(); // not read yet: nothing is claimed
    await index.refresh();
    expect(index.built(memory)).toBe(true);
    expect(index.built(npm('@modelcontextprotocol/server-memory', '2026.1.1'))).toBe(false);
    expect(index.built(npm('@modelcontextprotocol/server-memory'))).toBe(true);
    expect(index.built(npm('other-server', '1.0.0'))).toBe(false);
    expect(index.built(entry('internal/py', { type: 'package', registryType: 'pypi', identifier: 'my-server', version: '1.0.0', transport: { type: 'stdio' } }))).toBe(true);
    expect(index.built(entry('internal/img', { type: 'image', image: 'mcp/x' }))).toBeUndefined();
    expect(reads).toBe(1);
  });

  it('find items carry it, and the text says "needs a first build"', async () => {
    const index = new BuiltIndex(async () => []);
    await index.refresh();
    const item = findItem(npm('fresh-server', '1.0.0'), 1, { built: (e) => index.built(e) });
    expect(item).toMatchObject({ runs: ['npm'], runnable: true, built: false });
    expect(formatFindText('fresh', [item])).toContain('(runnable; needs a first build)');
    expect(findItem(entry('internal/img', { type: 'image', image: 'mcp/x' }), 1, { built: (e) => index.built(e) })).not.toHaveProperty('built');
  });

  it('a list that cannot be read (podman unusable) claims nothing', async () => {
    const index = new BuiltIndex(async () => {
      throw new Error('podman not found');
    });
    await index.refresh();
    expect(index.built(npm('x', '1.0.0'))).toBeUndefined();
  });
});
