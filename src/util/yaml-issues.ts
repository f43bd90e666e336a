/** YAML parsed with positions, so validation messages can name the line of a key or value. */
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { Locate } from './schema-issues.js';

/** A user's YAML file parsed with positions, so validation issues can name their line (see schema-issues.ts). */
export interface YamlSource {
  doc: Document;
  lines: LineCounter;
}

/** Parse YAML text; a syntax error comes back as `<file>:<line>:<col>: not valid YAML: <reason>` (no trailing dot). */
export function parseYamlSource(text: string, file: string): { source: YamlSource; value: unknown } | { error: string } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    return { error: `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: not valid YAML: ${msg}` };
  }
  return { source: { doc, lines }, value: doc.toJS() ?? {} };
}

/** Where an issue is in the file: the unknown key itself, or the value at its path (or its nearest ancestor). */
export function locateIn({ doc, lines }: YamlSource): Locate {
  return (issue) => {
    const path = issue.path.map(String);
    const node = issue.code === 'unrecognized_keys' ? (keyNode(doc, path, issue.keys[0]!) ?? nodeAt(doc, path)) : nodeAt(doc, path);
    const offset = node?.range?.[0];
    return offset !== undefined ? lines.linePos(offset) : undefined;
  };
}

const keyPath = (path: string[]) => path.map((p) => (/^\d+$/.test(p) ? Number(p) : p));

/** The YAML node at a path, or the nearest existing ancestor (so an error still gets a line). */
function nodeAt(doc: Document, path: string[]): { range?: [number, number, number] | null } | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(keyPath(path.slice(0, n)), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object') return node;
  }
  return doc.contents ?? undefined;
}

/** The key node of `key` in the mapping at `path` (where an unknown key is reported). */
function keyNode(doc: Document, path: string[], key: string): { range?: [number, number, number] | null } | undefined {
  const map = path.length ? doc.getIn(keyPath(path), true) : doc.contents;
  if (!isMap(map)) return undefined;
  const pair = map.items.find((it) => isScalar(it.key) && String(it.key.value) === key);
  return pair && isScalar(pair.key) ? pair.key : undefined;
}
