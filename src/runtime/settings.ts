/** An entry's settings: their JSON Schema (compiled once with Ajv), a setting path's schema, validation. */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Entry, EnvSpec, PackageLaunch, SecretSpec } from '../model/entry.js';
import { createLogger, errorMessage } from '../util/log.js';
import { SecretSet } from '../governance/secret-scan.js';
import { mergeSettings } from '../store/state.js';

/**
 * What `registry-config-set` accepts for an entry: declared settings (its parameters JSON Schema, nested ones as
 * "a.b"), secrets (by name or by their environment variable) and plain environment variables it declares.
 * Settings are validated and coerced with Ajv ("5" → 5 where the schema says integer); secrets are only checked
 * for being text. Every value is checked for what would make a start impossible (a NUL character, a size no
 * command line or environment variable takes). No error message ever contains a value.
 */

type Obj = Record<string, unknown>;
const log = createLogger('settings');

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** One Ajv for all entries: schemas come from catalogs, so unknown keywords and formats are tolerated. */
const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes: 'array', useDefaults: true, validateFormats: false, logger: false });
const compiled = new WeakMap<object, ValidateFunction | Error>();

/** Compile once per schema object; a schema Ajv rejects is the catalog's fault and is reported, not thrown. */
export function compileSchema(schema: Obj): ValidateFunction | Error {
  let v = compiled.get(schema);
  if (!v) {
    try {
      v = ajv.compile(schema);
      // Ajv keeps every compiled schema in a strong Map; catalog refreshes bring new schema objects, so drop it
      // there and keep the validator only as long as the schema object lives (the WeakMap above).
      ajv.removeSchema(schema);
    } catch (err) {
      v = new Error(errorMessage(err));
    }
    compiled.set(schema, v);
  }
  return v;
}

export function parametersSchema(entry: Pick<Entry, 'config'>): Obj | undefined {
  const p = entry.config.parameters;
  return isObj(p) ? p : undefined;
}

/** The schema of a (possibly nested) setting path, or undefined when the path is not declared. */
export function settingSchema(entry: Pick<Entry, 'config'>, path: string[]): Obj | undefined {
  let cur: unknown = parametersSchema(entry);
  for (const k of path) {
    const props = isObj(cur) && isObj(cur.properties) ? cur.properties : undefined;
    if (!props || !own(props, k) || !isObj(props[k])) return undefined;
    cur = props[k];
  }
  return cur as Obj;
}

/** A server.json argument the user supplies (no fixed `value`): its setting name. */
export function argumentSettingName(arg: Record<string, unknown>): string | undefined {
  if (typeof arg.value === 'string') return undefined;
  if (typeof arg.valueHint === 'string' && arg.valueHint) return arg.valueHint;
  if (arg.type === 'named' && typeof arg.name === 'string') return arg.name.replace(/^-+/, '') || undefined;
  return undefined;
}

function ociPackages(entry: Pick<Entry, 'launch'>): PackageLaunch[] {
  return entry.launch.filter((l): l is PackageLaunch => l.type === 'package' && l.registryType === 'oci');
}

/** Setting names that OCI package arguments read (not part of the parameters schema). */
export function argumentSettings(entry: Pick<Entry, 'launch'>): string[] {
  const out = new Set<string>();
  for (const p of ociPackages(entry)) {
    for (const a of [...(p.runtimeArguments ?? []), ...(p.packageArguments ?? [])]) {
      const n = argumentSettingName(a);
      if (n) out.add(n);
    }
  }
  return [...out];
}

/** An env var whose value is exactly one plain `{{param}}` is another name for that setting. */
export function envAlias(env: EnvSpec, server: string): string[] | undefined {
  if (env.value === undefined) return undefined;
  const m = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/.exec(env.value);
  if (!m) return undefined;
  const path = m[1]!.split('.');
  if (path.length > 1 && path[0] === server) path.shift();
  return path;
}

/**
 * Linux's limit on one command-line argument or environment string ("NAME=value" and its NUL): beyond it `spawn`
 * fails with E2BIG. Settings and secrets become exactly such strings.
 */
export const MAX_ARG_STRLEN = 128 * 1024;
/** One setting: far more than any URL, path or list needs; a setting is visible on the command line. */
export const MAX_SETTING_BYTES = 16 * 1024;
/** One secret: room for a CA bundle or a kubeconfig, and "NAME=value" still under MAX_ARG_STRLEN. */
export const MAX_SECRET_BYTES = 120 * 1024;
/** All settings and secrets of one entry together (their environment and arguments share one limit, ARG_MAX). */
export const MAX_ENTRY_BYTES = 512 * 1024;

export const kib = (n: number) => `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KiB`;

function hasNul(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return v.includes('\0');
  if (depth > 32 || v === null || typeof v !== 'object') return false;
  return Object.entries(v).some(([k, x]) => k.includes('\0') || hasNul(x, depth + 1));
}

/** Bytes a stored value takes where it is used: a string as it is, anything else as JSON. */
export function valueBytes(v: unknown): number {
  return typeof v === 'string' ? Buffer.byteLength(v) : Buffer.byteLength(JSON.stringify(v) ?? '');
}

/** Why no command line or environment could carry a value at all ("contains a NUL character …"), or undefined. */
export function unusableValue(v: unknown): string | undefined {
  if (hasNul(v)) return 'contains a NUL character (\\u0000), which no command line or environment variable can carry';
  const size = valueBytes(v);
  if (size >= MAX_ARG_STRLEN) return `is ${kib(size)}, more than the ${kib(MAX_ARG_STRLEN)} Linux takes for one command-line argument or environment variable`;
  return undefined;
}

/**
 * Why a value cannot be stored as a setting (or a secret, with max MAX_SECRET_BYTES), or undefined. `what` names
 * it ("setting "url"", "secret "api_key" (API_KEY)"); the value itself never appears.
 */
export function valueProblem(what: string, value: unknown, max = MAX_SETTING_BYTES): string | undefined {
  if (hasNul(value)) return `${what} ${unusableValue(value)}; remove it`;
  const size = valueBytes(value);
  if (size > max) {
    return max === MAX_SECRET_BYTES
      ? `${what} is ${kib(size)}; a secret may be at most ${kib(max)} (it reaches the server as one environment variable, and Linux takes at most ${kib(MAX_ARG_STRLEN)} per variable): store only what the server needs (for a certificate bundle, just its own CA)`
      : `${what} is ${kib(size)}; a setting may be at most ${kib(max)} (it reaches the server on its command line or in one environment variable)`;
  }
  return undefined;
}

export interface ValidatedSettings {
  /** Settings to store (nested objects for "a.b" keys); a `null` value means "remove this setting". */
  settings: Record<string, unknown>;
  /** Secrets keyed by the secret's `name`; an empty string means "remove this secret". */
  secrets: Record<string, string>;
  errors: string[];
}

/** The declared secret a settings key names (by name, by env variable, or by name without the server's prefix). */
export function secretLookup(entry: Entry): (key: string) => SecretSpec | undefined {
  const secretByName = new Map<string, SecretSpec>();
  const secretByEnv = new Map<string, SecretSpec>();
  for (const s of entry.config.secrets) {
    secretByName.set(s.name, s);
    if (!secretByEnv.has(s.env)) secretByEnv.set(s.env, s);
  }
  return (key) => secretByName.get(key) ?? secretByEnv.get(key) ?? secretByName.get(`${entry.nativeName}.${key}`);
}

export function validateSettings(entry: Entry, values: Record<string, unknown>): ValidatedSettings {
  const settings: Obj = {};
  const secrets: Record<string, string> = {};
  const errors: string[] = [];
  if (!isObj(values)) return { settings, secrets, errors: ['values must be an object of setting names to values, e.g. {"api_url":"https://…"}'] };

  const server = entry.nativeName;
  const secretOf = secretLookup(entry);
  const argNames = new Set(argumentSettings(entry));
  const unknown: string[] = [];

  for (const [key, value] of Object.entries(values)) {
    const secret = secretOf(key);
    if (secret) {
      const what = `secret "${secret.name}" (${secret.env})`;
      if (value === null || value === undefined || value === '') secrets[secret.name] = '';
      else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        const problem = valueProblem(what, String(value), MAX_SECRET_BYTES);
        if (problem) errors.push(problem);
        else secrets[secret.name] = String(value);
      } else errors.push(`${what} must be a text value, not ${Array.isArray(value) ? 'a list' : 'an object'}`);
      continue;
    }

    let path = key.split('.');
    if (path.length > 1 && path[0] === server && !settingSchema(entry, path)) path = path.slice(1);
    let schema = settingSchema(entry, path);

    if (!schema) {
      const env = entry.config.env.find((e) => e.name === key);
      if (env) {
        const alias = envAlias(env, server);
        if (alias && settingSchema(entry, alias)) {
          path = alias;
          schema = settingSchema(entry, alias);
        } else if (env.value === undefined) {
          // Declared variable the user supplies directly: stored under its own name.
          const problem = valueProblem(`setting "${key}"`, value);
          if (problem) errors.push(problem);
          else setPath(settings, [key], value === undefined ? null : value);
          continue;
        } else {
          errors.push(`"${key}" is set by the catalog entry itself (${JSON.stringify(env.value)})${describeTemplateParams(env.value, server)}`);
          continue;
        }
      } else if (argNames.has(key)) {
        const problem = value === undefined || value === null ? undefined : valueProblem(`setting "${key}"`, String(value));
        if (problem) errors.push(problem);
        else setPath(settings, [key], value === undefined ? null : value === null ? null : String(value));
        continue;
      }
    }
    if (!schema) {
      unknown.push(key);
      continue;
    }
    if (value === null || value === undefined) {
      setPath(settings, path, null);
      continue;
    }
    const res = coerceValue(schema, value);
    const problem = res.error ? undefined : valueProblem(`setting "${path.join('.')}"`, res.value);
    if (res.error) errors.push(`setting "${path.join('.')}": ${res.error}`);
    else if (problem) errors.push(problem);
    else setPath(settings, path, res.value);
  }
  if (unknown.length) {
    // One error for them all, naming a few: thousands of stray keys must not become a message of that size.
    const shown = unknown.slice(0, 10).map((k) => JSON.stringify(k.length > 60 ? `${k.slice(0, 59)}…` : k));
    const more = unknown.length > shown.length ? ` and ${unknown.length - shown.length} more` : '';
    errors.push(`unknown setting${unknown.length > 1 ? 's' : ''} ${shown.join(', ')}${more} for ${entry.id}: ${describeDeclared(entry)}`);
  }
  return { settings, secrets, errors };
}

/** An entry's stored values: settings (nested) and secrets by name. */
export interface StoredValues {
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
}

/**
 * What is wrong with an entry's values as a config-set would leave them: their total size, and a secret's value
 * where a plain setting would put it on the container's command line and into state.json (a setting holding a
 * stored secret, or a new secret that is already stored as a plain setting). `others` are the other entries'
 * secrets, by entry id. Names and ids only, never a value.
 */
export function combinedProblems(entry: Entry, stored: StoredValues, changed: ValidatedSettings, others: Record<string, Record<string, string>> = {}): string[] {
  const errors: string[] = [];
  const settings = mergeSettings(stored.settings, changed.settings);
  const secrets = { ...stored.secrets };
  for (const [k, v] of Object.entries(changed.secrets)) {
    if (v) secrets[k] = v;
    else delete secrets[k];
  }
  const total = valueBytes(settings) + Object.values(secrets).reduce((n, v) => n + Buffer.byteLength(v), 0);
  if (total > MAX_ENTRY_BYTES) {
    errors.push(`together the settings and secrets of ${entry.id} would be ${kib(total)}; at most ${kib(MAX_ENTRY_BYTES)} per entry (they all reach the server through one command line and environment): remove what it does not need (value null, or "" for a secret)`);
  }

  // Which secret a text holds: each secret is redacted to its own index, so the placeholder names it.
  const labels: string[] = [];
  const values: Record<string, string> = {};
  const label = (what: string, v: string) => {
    values[String(labels.length)] = v;
    labels.push(what);
  };
  for (const [name, v] of Object.entries(secrets)) label(`the secret "${name}"`, v);
  for (const [id, s] of Object.entries(others)) if (id !== entry.id) for (const [name, v] of Object.entries(s)) label(`the secret "${name}" of ${id}`, v);
  const heldBy = (set: SecretSet, leaf: unknown): number[] => {
    const text = typeof leaf === 'string' ? leaf : JSON.stringify(leaf);
    const out = set.redact(text);
    if (out === text) return [];
    return [...new Set([...out.matchAll(/\[REDACTED:(\d+)\]/g)].map((m) => m[0]))].filter((p) => !text.includes(p)).map((p) => Number(p.slice(10, -1)));
  };
  const all = SecretSet.from(values);
  for (const [path, leaf] of leaves(changed.settings)) {
    for (const i of heldBy(all, leaf).slice(0, 1)) {
      errors.push(`setting "${path}" holds the value of ${labels[i]}: a plain setting goes onto the container's command line and into state.json, so a secret's value may not be stored as one; set it as the secret instead`);
    }
  }
  // The other way round: a new secret whose value a setting stored earlier already exposes.
  const fresh = Object.fromEntries(Object.entries(changed.secrets).filter(([, v]) => v));
  if (Object.keys(fresh).length) {
    const freshSet = SecretSet.from(fresh);
    const changedPaths = new Set(leaves(changed.settings).map(([p]) => p));
    for (const [path, leaf] of leaves(settings)) {
      if (changedPaths.has(path)) continue;
      const out = typeof leaf === 'string' ? freshSet.redact(leaf) : freshSet.redact(JSON.stringify(leaf));
      for (const name of Object.keys(fresh)) {
        if (!out.includes(`[REDACTED:${name}]`)) continue;
        errors.push(
          `secret "${name}": the same value is stored as the plain setting "${path}", where it is on the command line and in state.json; remove that setting first (${JSON.stringify({ [path]: null })}), and if the value is a real credential, rotate it`,
        );
      }
    }
  }
  return errors;
}

/** Leaf values of nested settings as ["a.b", value] (a `null` leaf means "remove" and is left out). */
export function leaves(o: Record<string, unknown>, prefix = '', depth = 0): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(o)) {
    if (v === null || v === undefined) continue;
    if (isObj(v) && depth < 32) out.push(...leaves(v, `${prefix}${k}.`, depth + 1));
    else out.push([prefix + k, v]);
  }
  return out;
}

function describeTemplateParams(tpl: string, server: string): string {
  const names = [...tpl.matchAll(/\{\{\s*([^}|\s]+)/g)].map((m) => {
    const p = m[1]!.split('.');
    if (p.length > 1 && p[0] === server) p.shift();
    return p.join('.');
  });
  return names.length ? `; set ${names.map((n) => `"${n}"`).join(', ')} instead` : '; it cannot be changed';
}

/** "it declares: settings a, b.c; secrets x (X_ENV); env FOO" — or that it takes nothing. */
export function describeDeclared(entry: Entry): string {
  const settings = leafNames(parametersSchema(entry));
  for (const e of entry.config.env) if (e.value === undefined && !settings.includes(e.name)) settings.push(e.name);
  settings.push(...argumentSettings(entry).filter((n) => !settings.includes(n)));
  const secrets = entry.config.secrets.map((s) => `${s.name} (${s.env})`);
  const parts: string[] = [];
  if (settings.length) parts.push(`settings ${settings.join(', ')}`);
  if (secrets.length) parts.push(`secrets ${secrets.join(', ')}`);
  return parts.length ? `it declares ${parts.join('; ')}` : 'it takes no settings or secrets';
}

/** Names of declared settings, nested ones as "a.b" (objects with declared properties are listed by their leaves). */
export function leafNames(schema: Obj | undefined, prefix = ''): string[] {
  const props = isObj(schema?.properties) ? (schema!.properties as Obj) : {};
  const out: string[] = [];
  for (const [k, sub] of Object.entries(props)) {
    if (isObj(sub) && isObj(sub.properties) && Object.keys(sub.properties).length) out.push(...leafNames(sub, `${prefix}${k}.`));
    else out.push(prefix + k);
  }
  return out;
}

function setPath(target: Obj, path: string[], value: unknown): void {
  let cur = target;
  for (const k of path.slice(0, -1)) {
    if (!isObj(cur[k])) cur[k] = {};
    cur = cur[k] as Obj;
  }
  cur[path[path.length - 1]!] = value;
}

const wrappers = new WeakMap<object, Obj>();

/** Validate one value against its property schema, coercing it the way Ajv does ("5" → 5, "a" → ["a"]). */
export function coerceValue(schema: Obj, value: unknown): { value?: unknown; error?: string } {
  let v = value;
  // A list or object typed as JSON text (a chat client often sends strings) is parsed first.
  if (typeof v === 'string' && /^\s*[[{]/.test(v) && (schema.type === 'array' || schema.type === 'object')) {
    try {
      v = JSON.parse(v);
    } catch {
      return { error: `expected ${schema.type === 'array' ? 'a list' : 'an object'}; the text given is not valid JSON` };
    }
  }
  // Ajv coerces in place, so the value travels inside a wrapper object.
  let wrapper = wrappers.get(schema);
  if (!wrapper) {
    wrapper = { type: 'object', properties: { value: schema } };
    wrappers.set(schema, wrapper);
  }
  const validate = compileSchema(wrapper);
  if (validate instanceof Error) {
    log.warn('a catalog schema cannot be compiled; value kept unvalidated', { error: validate.message });
    return { value: v };
  }
  const data: Obj = { value: structuredClone(v) };
  if (!validate(data)) return { error: describeErrors(validate.errors ?? [], schema) };
  return { value: data.value };
}

function describeErrors(errors: ErrorObject[], schema: Obj): string {
  const msgs = errors
    .filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf')
    .map((e) => {
      const where = e.instancePath.replace(/^\/value/, '').replace(/^\//, '').replace(/\//g, '.');
      let msg = e.message ?? 'is invalid';
      if (e.keyword === 'enum' && Array.isArray((e.params as { allowedValues?: unknown[] }).allowedValues)) {
        msg = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((x) => JSON.stringify(x)).join(', ')}`;
      }
      return where ? `${where} ${msg}` : msg;
    });
  const unique = [...new Set(msgs)];
  const desc = typeof schema.description === 'string' ? ` (${schema.description.slice(0, 200)})` : '';
  return (unique.length ? unique.join('; ') : 'is invalid') + desc;
}
