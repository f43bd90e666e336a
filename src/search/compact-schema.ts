/** Compacting a tool's input schema for results: short descriptions, bounded depth, enums and anyOf. */
/*
 * A tool's input schema cut down to what a model needs to call it, for search results that are read on every turn:
 * names, types, required, enums, short descriptions. The server still validates the call against its full schema.
 */

export interface CompactOptions {
  /** Longest description kept (longer ones are cut at a word and end with "…"). */
  maxDescription?: number;
  /** Deepest nesting kept; below it an object or array is only its type. */
  maxDepth?: number;
  /** Most enum values kept. */
  maxEnum?: number;
  /** Most alternatives of anyOf / oneOf kept. */
  maxVariants?: number;
}

type Json = Record<string, unknown>;

const DEFAULTS: Required<CompactOptions> = { maxDescription: 120, maxDepth: 3, maxEnum: 20, maxVariants: 4 };
/** Keys that only document or identify a schema: nothing a caller needs. */
const DROPPED = new Set(['$schema', '$id', '$comment', 'title', 'examples', 'example', '$defs', 'definitions', 'readOnly', 'writeOnly', 'deprecated']);
/** Constraints short enough to keep as they are. */
const SCALARS = new Set(['type', 'format', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'uniqueItems', 'const', 'multipleOf']);
/** A default this long (as JSON) is kept; longer ones go. */
const MAX_DEFAULT_JSON = 40;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Text cut to at most `max` characters at a word boundary. */
export function shorten(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  if (one.length <= max) return one;
  const cut = one.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.(-]+$/, '')}…`;
}

/** The compact form of a JSON Schema (undefined stays undefined; a non-object schema becomes `{}`). */
export function compactSchema(schema: unknown, opts: CompactOptions = {}): Json | undefined {
  if (schema === undefined) return undefined;
  const o = { ...DEFAULTS, ...opts };
  if (!isObj(schema)) return {};
  const defs = { ...(isObj(schema.definitions) ? schema.definitions : {}), ...(isObj(schema.$defs) ? schema.$defs : {}) };
  return walk(schema, 0, o, defs, new Set());
}

function resolveRef(ref: string, defs: Json): Json | undefined {
  const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
  const target = m ? defs[decodeURIComponent(m[1]!).replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  return isObj(target) ? target : undefined;
}

function walk(node: Json, depth: number, o: Required<CompactOptions>, defs: Json, refs: Set<string>): Json {
  if (typeof node.$ref === 'string') {
    const ref = node.$ref;
    const target = refs.has(ref) ? undefined : resolveRef(ref, defs);
    // A cycle, or a reference outside this schema: say what it is without following it.
    if (!target) return typeof node.description === 'string' ? { description: shorten(node.description, o.maxDescription) } : {};
    refs.add(ref);
    const { $ref: _ignored, ...rest } = node;
    const out = walk({ ...target, ...rest }, depth, o, defs, refs);
    refs.delete(ref);
    return out;
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (DROPPED.has(k)) continue;
    if (SCALARS.has(k)) out[k] = v;
    else if (k === 'description' && typeof v === 'string') out.description = shorten(v, o.maxDescription);
    else if (k === 'required' && Array.isArray(v)) out.required = v.filter((x) => typeof x === 'string');
    else if (k === 'enum' && Array.isArray(v)) {
      out.enum = v.slice(0, o.maxEnum);
      if (v.length > o.maxEnum) out.description = `${out.description ?? ''}${out.description ? ' ' : ''}(${v.length - o.maxEnum} more values)`.trim();
    } else if (k === 'default') {
      if (JSON.stringify(v)?.length <= MAX_DEFAULT_JSON) out.default = v;
    } else if (k === 'additionalProperties' && typeof v === 'boolean') out.additionalProperties = v;
  }
  const deeper = depth + 1;
  if (isObj(node.properties)) {
    if (deeper > o.maxDepth) {
      out.type ??= 'object';
    } else {
      const props: Json = {};
      for (const [name, p] of Object.entries(node.properties)) props[name] = isObj(p) ? walk(p, deeper, o, defs, refs) : {};
      out.properties = props;
    }
  }
  if (isObj(node.items)) {
    if (deeper > o.maxDepth) out.type ??= 'array';
    else out.items = walk(node.items, deeper, o, defs, refs);
  }
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
    const list = node[k];
    if (!Array.isArray(list) || deeper > o.maxDepth) continue;
    const variants = list.filter(isObj).slice(0, o.maxVariants).map((v) => walk(v, deeper, o, defs, refs));
    if (variants.length) out[k] = variants;
  }
  return out;
}
