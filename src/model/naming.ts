/** Mounted tool names: prefixes (user-given or derived), the `__` separator and the 64-character limit. */
import { SHORT_HASH_LEN as HASH_LEN, shortHash } from '../util/hash.js';

/**
 * Names of mounted tools (and prompts, resources): `<prefix>__<tool>`, always matching TOOL_NAME.
 *
 * Uniqueness argument: a prefix never contains `__` and never starts or ends with `_`, so the first `__` of a
 * mounted name ends its prefix; distinct prefixes therefore never produce the same name, and inside one prefix
 * the Namer below resolves clashes. Registry tools use hyphens only, so they cannot clash with mounted ones.
 */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
export const SEPARATOR = '__';
export const MAX_NAME = 64;
export const MAX_PREFIX = 24;
const PREFIX_RE = /^[a-zA-Z0-9-]+(?:_[a-zA-Z0-9-]+)*$/;

/** Why a user-given prefix is unusable, or null when it is fine. */
export function prefixProblem(prefix: string): string | null {
  if (!prefix) return 'prefix is empty';
  if (prefix.length > MAX_PREFIX) return `prefix "${prefix}" is longer than ${MAX_PREFIX} characters`;
  if (!PREFIX_RE.test(prefix)) {
    return `prefix "${prefix}" may hold only letters, digits, "-" and single "_" (not at either end, never "__")`;
  }
  return null;
}

/**
 * A prefix from an entry's native name: the last path segment (`io.github.owner/repo` → `repo`,
 * `postgres` → `postgres`), cleaned to the allowed characters and length; `-2`, `-3`… when taken.
 */
export function derivePrefix(nativeName: string, taken: (p: string) => boolean): string {
  const tail = nativeName.split('/').filter(Boolean).pop() ?? nativeName;
  let base = tail
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/_{2,}/g, '_')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  // Suffixes like "-mcp", "mcp-server-" add length without meaning here: every mount is an MCP server.
  const trimmed = base.replace(/^(?:mcp-server-|server-|mcp-)|(?:-mcp-server|-mcp|-server)$/g, '');
  if (trimmed) base = trimmed;
  if (!base) base = 'server';
  if (base.length > MAX_PREFIX) base = base.slice(0, MAX_PREFIX).replace(/[-_]+$/, '');
  // A trimmed prefix could end in "_": PREFIX_RE forbids it, and the replace above removed it.
  if (!taken(base)) return base;
  for (let i = 2; ; i++) {
    const suffix = `-${i}`;
    const p = base.slice(0, MAX_PREFIX - suffix.length).replace(/[-_]+$/, '') + suffix;
    if (!taken(p)) return p;
  }
}

/**
 * Maps one child's names (tools, prompts or resources) to mounted names and back. A name that is valid and fits is
 * kept as it is; one that needs cleaning or shortening gets a hash of the original appended, so the same child
 * name always maps to the same mounted name (stable across restarts) and two originals that clean up alike still
 * differ.
 */
export class Namer {
  private readonly toMounted = new Map<string, string>();
  private readonly toOriginal = new Map<string, string>();

  constructor(readonly prefix: string) {}

  /** Assign names for a complete list of originals (replaces the previous mapping). */
  assign(originals: Iterable<string>): void {
    this.toMounted.clear();
    this.toOriginal.clear();
    const list = [...new Set(originals)];
    // Names kept verbatim first, so a hashed name can never take a verbatim name's place.
    const verbatim = list.filter((o) => this.fits(o));
    const rest = list.filter((o) => !this.fits(o)).sort();
    for (const o of verbatim) this.put(o, this.full(o));
    for (const o of rest) {
      let len = HASH_LEN;
      let name = this.shortened(o, len);
      while (this.toOriginal.has(name) && len < 32) name = this.shortened(o, ++len);
      this.put(o, name);
    }
  }

  mounted(original: string): string | undefined {
    return this.toMounted.get(original);
  }
  original(mounted: string): string | undefined {
    return this.toOriginal.get(mounted);
  }
  get size(): number {
    return this.toMounted.size;
  }
  entries(): IterableIterator<[string, string]> {
    return this.toMounted.entries();
  }

  private put(original: string, mounted: string): void {
    this.toMounted.set(original, mounted);
    this.toOriginal.set(mounted, original);
  }

  private full(original: string): string {
    return `${this.prefix}${SEPARATOR}${original}`;
  }

  private fits(original: string): boolean {
    return original.length > 0 && TOOL_NAME.test(this.full(original));
  }

  private shortened(original: string, hashLen: number): string {
    const hash = shortHash(original, hashLen);
    const room = MAX_NAME - this.prefix.length - SEPARATOR.length - hash.length - 1;
    const head = original.replace(/[^a-zA-Z0-9_-]+/g, '_').slice(0, Math.max(0, room));
    return `${this.prefix}${SEPARATOR}${head ? `${head}-` : ''}${hash}`;
  }
}

/** The prefix part of a mounted name, or undefined when the name has no separator. */
export function prefixOf(mountedName: string): string | undefined {
  const i = mountedName.indexOf(SEPARATOR);
  return i > 0 ? mountedName.slice(0, i) : undefined;
}
