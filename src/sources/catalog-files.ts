/** Reading catalog files: which files a path holds, parsing each into records that name their place. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { isMap, type Document } from 'yaml';
import type { CatalogFormat } from '../signing/signing.js';
import { parseYamlSource, type YamlSource } from '../util/yaml-issues.js';
import { isRegistryYaml } from './registry-yaml.js';
import { isServerFile, serverFiles } from './servers-dir.js';

/**
 * A catalog as files and records, with positions: what `validate`, `sign` and `verify` work on (the `file` source
 * reads the same layouts for the catalog). JSON is parsed as YAML too (JSON is YAML 1.2), so every value has a line.
 */

export interface CatalogDoc {
  file: string;
  text: string;
  json: boolean;
  source: YamlSource;
  value: unknown;
}

export interface CatalogRecord {
  doc: CatalogDoc;
  format: CatalogFormat;
  /** Where the record is inside its document ([] for a servers/<name>.yaml file, ['servers', 3] in a list). */
  path: (string | number)[];
  value: Record<string, unknown>;
  /** How messages name it: "payments", "io.github.acme/tool@1.2.0". */
  label: string;
}

export class CatalogFileError extends Error {}

const CATALOG_EXT = new Set(['.json', '.yaml', '.yml']);

/** The files of a catalog path: the file itself, a directory's servers/*.yaml, or its *.json / *.yaml files. */
export async function catalogFiles(path: string): Promise<string[]> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new CatalogFileError(err.code === 'ENOENT' ? `${path} does not exist` : `cannot read ${path}: ${err.message}`);
  });
  if (!st.isDirectory()) return [path];
  const perServer = await serverFiles(join(path, 'servers'));
  if (perServer.length) return perServer;
  const listing = await readdir(path, { withFileTypes: true });
  if (listing.some((d) => d.isDirectory() && d.name === 'servers')) {
    throw new CatalogFileError(`${path}/servers holds no <name>.yaml files (a docker/mcp-registry layout of servers/<name>/server.yaml is read by the file source, but not signed or validated)`);
  }
  const files = listing
    .filter((d) => d.isFile() && !d.name.startsWith('.') && CATALOG_EXT.has(extname(d.name).toLowerCase()))
    .map((d) => join(path, d.name))
    .sort();
  if (!files.length) throw new CatalogFileError(`${path} holds no catalog files (*.json, *.yaml, or servers/<name>.yaml)`);
  return files;
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  return `${before.split('\n').length}:${pos - before.lastIndexOf('\n')}`;
}

/** Parse one catalog file; a syntax error is `<file>:<line>:<col>: …` (CatalogFileError). */
export async function readCatalogDoc(file: string): Promise<CatalogDoc> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new CatalogFileError(`cannot read ${file}: ${err.message}`);
  });
  const json = extname(file).toLowerCase() === '.json';
  if (json) {
    try {
      JSON.parse(text);
    } catch (err) {
      const pos = /position (\d+)/.exec((err as Error).message);
      throw new CatalogFileError(`${file}${pos ? `:${lineCol(text, Number(pos[1]))}` : ''}: not valid JSON: ${(err as Error).message.replace(/ in JSON at position \d+.*$/, '')}`);
    }
  }
  const parsed = parseYamlSource(text, file);
  if ('error' in parsed) throw new CatalogFileError(parsed.error);
  return { file, text, json, source: parsed.source, value: parsed.value };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function serverJsonLabel(v: Record<string, unknown>): string {
  const s = isObject(v.server) ? v.server : v;
  const name = typeof s.name === 'string' ? s.name : '(unnamed)';
  return typeof s.version === 'string' ? `${name}@${s.version}` : name;
}

/** The records of one document and the format they are in; items that are not mappings are returned as `bad`. */
export function catalogRecords(doc: CatalogDoc): { records: CatalogRecord[]; bad: { path: (string | number)[]; message: string }[] } {
  const records: CatalogRecord[] = [];
  const bad: { path: (string | number)[]; message: string }[] = [];
  const v = doc.value;
  if (isServerFile(v)) {
    const r = v as Record<string, unknown>;
    records.push({ doc, format: 'servers-dir', path: [], value: r, label: typeof r.name === 'string' ? r.name : doc.file });
    return { records, bad };
  }
  const registry = isRegistryYaml(v);
  let items: unknown[];
  let base: (string | number)[];
  if (Array.isArray(v)) [items, base] = [v, []];
  else if (isObject(v) && Array.isArray(v.servers)) [items, base] = [v.servers, ['servers']];
  else if (isObject(v) && (typeof v.name === 'string' || isObject(v.server))) {
    records.push({ doc, format: 'server.json', path: [], value: v, label: serverJsonLabel(v) });
    return { records, bad };
  } else {
    bad.push({ path: [], message: 'no server list here: expected a list of server.json objects, {servers: [...]} (server.json or registry.yaml), or a servers/<name>.yaml record' });
    return { records, bad };
  }
  items.forEach((item, i) => {
    const path = [...base, i];
    if (!isObject(item)) bad.push({ path, message: 'this item is not a mapping' });
    else if (registry) records.push({ doc, format: 'registry.yaml', path, value: item, label: typeof item.id === 'string' ? item.id : `servers[${i}]` });
    else records.push({ doc, format: 'server.json', path, value: item, label: serverJsonLabel(item) });
  });
  return { records, bad };
}

/** Every record of a catalog path (file or directory). */
export async function readCatalog(path: string): Promise<{ docs: CatalogDoc[]; records: CatalogRecord[]; bad: { doc: CatalogDoc; path: (string | number)[]; message: string }[] }> {
  const docs: CatalogDoc[] = [];
  const records: CatalogRecord[] = [];
  const bad: { doc: CatalogDoc; path: (string | number)[]; message: string }[] = [];
  for (const file of await catalogFiles(path)) {
    const doc = await readCatalogDoc(file);
    docs.push(doc);
    const r = catalogRecords(doc);
    records.push(...r.records);
    bad.push(...r.bad.map((b) => ({ doc, ...b })));
  }
  return { docs, records, bad };
}

/** The line and column of the value at `path` in a document (or of its nearest ancestor). */
export function positionOf(doc: CatalogDoc, path: readonly (string | number)[]): { line: number; col: number } {
  const d: Document = doc.source.doc;
  for (let n = path.length; n >= 0; n--) {
    const node = (n ? d.getIn(path.slice(0, n), true) : d.contents) as { range?: [number, number, number] } | null | undefined;
    if (node && typeof node === 'object' && node.range) return doc.source.lines.linePos(node.range[0]);
  }
  return { line: 1, col: 1 };
}

/** The position of the KEY `key` in the mapping at `path` (where an unknown key is reported). */
export function keyPositionOf(doc: CatalogDoc, path: readonly (string | number)[], key: string): { line: number; col: number } {
  const d: Document = doc.source.doc;
  const map = path.length ? d.getIn(path, true) : d.contents;
  if (isMap(map)) {
    const pair = map.items.find((it) => (it.key as { value?: unknown } | null)?.value === key);
    const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
    if (range) return doc.source.lines.linePos(range[0]);
  }
  return positionOf(doc, path);
}

/** The document with `value` set at `path` (YAML comments and layout elsewhere kept); its new text. */
export function setInDoc(doc: CatalogDoc, path: readonly (string | number)[], value: unknown): string {
  if (doc.json) {
    // JSON has no comments to keep: rewrite the parsed value.
    let root = doc.value as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) {
      if (root[k] === undefined) root[k] = {};
      root = root[k] as Record<string | number, unknown>;
    }
    root[path[path.length - 1]!] = value;
    return JSON.stringify(doc.value, null, 2) + '\n';
  }
  const d = doc.source.doc;
  // setIn creates a missing `_meta` on the way.
  d.setIn(path, d.createNode(value));
  return d.toString();
}
