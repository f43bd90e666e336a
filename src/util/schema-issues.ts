/** Turning zod issues into messages a user can act on: file:line, known keys, closest allowed value. */
import type { z } from 'zod';
import { closestName } from './edit-distance.js';

/**
 * A validation issue in a user's file (config.yaml, policy.yaml) said the way an editor can jump to it:
 * `<file>[:line:col]: <path>: <what is wrong>`; an unknown key comes with the keys that level knows and the closest
 * one. No YAML here (the stdio server validates a default config without loading a YAML parser): positions come from
 * `locate` (see yaml-issues.ts).
 */
export type Locate = (issue: z.core.$ZodIssue) => { line: number; col: number } | undefined;

export function describeIssue(issue: z.core.$ZodIssue, opts: { file: string; schema: z.ZodType; raw: unknown; locate?: Locate }): string {
  const pos = opts.locate?.(issue);
  const where = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
  let msg = issue.message;
  const value = valueAt(opts.raw, issue.path);
  if (issue.code === 'invalid_type' && value === undefined && issue.path.length) msg = `missing: this key is required (${issue.expected})`;
  // A misspelt choice (type: fil, destructive: alow) gets the closest allowed value.
  const choices = issue.code === 'invalid_value' ? issue.values : issue.code === 'invalid_union' ? (issue as { options?: unknown[] }).options : undefined;
  const guess = typeof value === 'string' && choices ? closestName(value, choices.filter((c): c is string => typeof c === 'string')) : undefined;
  if (guess) msg += `; did you mean "${guess}"?`;
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(opts.schema, issue.path, opts.raw);
    const guesses = issue.keys.map((k) => closestName(k, known)).filter((g): g is string => !!g);
    msg =
      `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` +
      (known.length ? ` (known: ${known.join(', ')})` : '') +
      (guesses.length ? `; did you mean ${guesses.map((g) => `"${g}"`).join(', ')}?` : '');
  }
  return `${opts.file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${where}: ${msg}`;
}

/** End a message with a full stop unless it already ends a sentence ("did you mean …?"). */
export function endSentence(s: string): string {
  return /[.?!]$/.test(s) ? s : `${s}.`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

type Def = { type?: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; valueType?: z.ZodType; innerType?: z.ZodType; in?: z.ZodType; options?: z.ZodType[]; discriminator?: string; values?: unknown[] };
const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** The keys of the object schema at `path`, following the raw value through arrays, records and tagged unions. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[], raw: unknown): string[] {
  let s: z.ZodType | undefined = schema;
  let v = raw;
  for (let i = 0; ; i++) {
    s = unwrap(s, v);
    const def = defOf(s);
    if (i === path.length) return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
    const key = path[i]!;
    s = def?.type === 'object' ? def.shape?.[String(key)] : def?.type === 'array' ? def.element : def?.type === 'record' ? def.valueType : undefined;
    if (!s) return [];
    v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  }
}

/** Look through optional/default/transform wrappers; pick a tagged union's member by the value's tag. */
function unwrap(schema: z.ZodType | undefined, value: unknown): z.ZodType | undefined {
  let s = schema;
  for (let guard = 0; s && guard < 20; guard++) {
    const def = defOf(s)!;
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe') s = def.in;
    else if (def.type === 'union' && def.discriminator) {
      const tag = value && typeof value === 'object' ? (value as Record<string, unknown>)[def.discriminator] : undefined;
      s = def.options?.find((o) => defOf(defOf(o)?.shape?.[def.discriminator!])?.values?.includes(tag));
    } else return s;
  }
  return s;
}
