/** Prompt names, resource names and resource URIs of mounted servers: valid, unique and in a stable order. */
import { Namer } from '../../model/naming.js';
import { shortHash } from '../../util/hash.js';

/*
 * Whatever a child sends (duplicates, empty names, 200 characters, unicode, control characters), what the client
 * sees is valid and unique: names go through the tool-name rule (model/naming.ts: `<prefix>__<name>`, a hash where
 * the name had to be cleaned or cut), a repeated prompt name or resource URI keeps only its first occurrence, and a
 * URI that is not plain URI text is replaced by a hashed stand-in the mount maps back. The order is the child's.
 */

/** Characters a URI may hold as they are (RFC 3986 unreserved, reserved and the percent sign). */
const URI_TEXT = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
/** Stand-ins for URIs that are not plain URI text begin so; a child URI beginning so is replaced too. */
const STAND_IN = '~h/';

/** The first item of each key, in their order. */
function firstOfEach<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => {
    const k = key(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The child's prompts as the client sees them; `namer` (the mount's) then maps names back for prompts/get. */
export function mountedPrompts<P extends { name: string }>(namer: Namer, prompts: readonly P[]): P[] {
  const unique = firstOfEach(prompts, (p) => p.name);
  namer.assign(unique.map((p) => p.name));
  return unique.map((p) => ({ ...p, name: namer.mounted(p.name)! }));
}

/** The part after `mcp-registry://<prefix>/` for a child's URI: the URI itself when it is plain URI text. */
export function uriTail(uri: string): string {
  if (URI_TEXT.test(uri) && !uri.startsWith(STAND_IN)) return uri;
  const readable = uri.replace(/[^A-Za-z0-9\-._~:/@!$&'()*+,;=]+/g, '_').slice(0, 60);
  return `${STAND_IN}${shortHash(uri, 16)}/${readable}`;
}

/**
 * Unique valid names for items whose own names may repeat (two files named "notes"): a repeat is told apart by its
 * unique key (the URI) before the tool-name rule runs.
 */
function uniqueNames(prefix: string, items: ReadonlyArray<{ name: string; key: string }>): string[] {
  const first = new Map<string, number>();
  const keys = items.map((it, i) => (first.has(it.name) ? `${it.name}\u0000${it.key}` : (first.set(it.name, i), it.name)));
  const namer = new Namer(prefix);
  namer.assign(keys);
  return keys.map((k) => namer.mounted(k)!);
}

/**
 * The child's resources as the client sees them: unique URIs (`mount(tail)` builds the full one) and unique valid
 * names. `tails` receives stand-in → original for resources/read.
 */
export function mountedResources<R extends { uri: string; name: string }>(prefix: string, resources: readonly R[], mount: (tail: string) => string, tails: Map<string, string>): R[] {
  const unique = firstOfEach(resources, (r) => r.uri);
  const names = uniqueNames(prefix, unique.map((r) => ({ name: r.name, key: r.uri })));
  tails.clear();
  return unique.map((r, i) => {
    const tail = uriTail(r.uri);
    if (tail !== r.uri) tails.set(tail, r.uri);
    return { ...r, uri: mount(tail), name: names[i]! };
  });
}

/** The child's resource templates: kept verbatim under the mount's URI prefix (the client expands them), names unique. */
export function mountedTemplates<T extends { uriTemplate: string; name: string }>(prefix: string, templates: readonly T[], mount: (template: string) => string): T[] {
  const unique = firstOfEach(templates, (t) => t.uriTemplate);
  const names = uniqueNames(prefix, unique.map((t) => ({ name: t.name, key: t.uriTemplate })));
  return unique.map((t, i) => ({ ...t, uriTemplate: mount(t.uriTemplate), name: names[i]! }));
}
