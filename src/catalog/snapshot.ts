/** The catalog snapshot shipped with the package (snapshot/): its format, its sources' dates, reading it. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { SourceConfig } from '../config/config.js';
import type { Entry } from '../model/entry.js';

/**
 * The catalog snapshot shipped in the package (`snapshot/`, written by scripts/build-snapshot.mjs from the real
 * sources at release time): what a first run searches — offline too — until its sources have refreshed.
 *
 * `catalog.json.gz` holds each source's entries (no readmes) with where they came from and how old they are;
 * `search-index.bin.gz` the search index of their merge in the default source order, so the first search needs no
 * index build (SearchIndex.load checks it belongs to exactly the merged entries, else the index is built).
 */

export const SNAPSHOT_FORMAT = 1;
/** `<package>/snapshot/`, from dist/catalog/ (and from src/catalog/ under the tests). */
export const SNAPSHOT_DIR = fileURLToPath(new URL('../../snapshot/', import.meta.url));
export const SNAPSHOT_CATALOG = 'catalog.json.gz';
export const SNAPSHOT_INDEX = 'search-index.bin.gz';

export interface SnapshotSource {
  type: string;
  /** The source this data is from, as config.yaml names it (https://github.com/docker/mcp-registry.git …). */
  url: string;
  /** How old the data is: the docker registry's commit date, else when it was fetched. */
  asOf: string;
  fetchedAt: string;
  entries: number;
}

export interface CatalogSnapshot {
  format: number;
  builtAt: string;
  sources: Record<string, SnapshotSource>;
  entries: Record<string, Entry[]>;
}

export interface ShippedSnapshot {
  data: CatalogSnapshot;
  /** The saved index (stamp: builtAt), when the snapshot has one. */
  index?: Buffer;
}

const gunzipAsync = promisify(gunzip);

/** The snapshot in `dir`, or null when there is none (or it is not one this version reads). Never throws. */
export async function readShippedSnapshot(dir: string = SNAPSHOT_DIR): Promise<ShippedSnapshot | null> {
  try {
    // Decompressed off the main thread: start-up goes on meanwhile (initialize, the tool table).
    const [json, index] = await Promise.all([
      readFile(join(dir, SNAPSHOT_CATALOG)).then((b) => gunzipAsync(b)),
      readFile(join(dir, SNAPSHOT_INDEX)).then(
        (b) => gunzipAsync(b),
        () => undefined,
      ),
    ]);
    const data = JSON.parse(json.toString('utf8')) as CatalogSnapshot;
    if (data?.format !== SNAPSHOT_FORMAT || typeof data.builtAt !== 'string' || !data.sources || !data.entries) return null;
    return { data, ...(index ? { index } : {}) };
  } catch {
    return null;
  }
}

/** Where a source's data comes from, compared loosely: case, a trailing slash or ".git" make no difference. */
export function sameSourceUrl(a: string, b: string): boolean {
  const norm = (u: string) => u.trim().toLowerCase().replace(/\/+$/, '').replace(/\.git$/, '');
  return norm(a) === norm(b);
}

/**
 * The snapshot's entries for a configured source — only when it is the very source they came from (same name, so
 * the ids fit; same type and URL, so a "docker" source pointing at a fork never shows Docker's catalog).
 */
export function snapshotEntriesFor(snap: CatalogSnapshot, cfg: SourceConfig): { entries: Entry[]; asOf: string } | undefined {
  const meta = snap.sources[cfg.name];
  const entries = snap.entries[cfg.name];
  if (!meta || !entries || meta.type !== cfg.type || !('url' in cfg) || !sameSourceUrl(meta.url, cfg.url)) return undefined;
  return { entries, asOf: meta.asOf };
}
