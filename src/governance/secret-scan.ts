/**
 * Secret hygiene for everything the registry passes on or writes down.
 *
 * Two different jobs:
 * - redaction of KNOWN values (the secrets the user stored): exact, cheap, applied to child results, errors, logs
 *   and audit records. A child that echoes its API key back — raw, JSON-escaped, URL-encoded or base64 — must not
 *   hand it to the model.
 * - a heuristic SCAN for things that merely look like credentials (token formats, private keys, `password=`),
 *   for an optional warning (policy `scanSecrets: warn`) and to scrub free text before it is audited.
 */

import { LongestMatcher } from '../util/longest-match.js';

/** Values shorter than this are not redacted: replacing every "abc" would garble results and find nothing real. */
export const MIN_SECRET_LENGTH = 6;

/** What redaction accepts: bare values, `{name: value}` (the placeholder then names the secret), or a compiled set. */
export type SecretValues = Iterable<string> | Record<string, string> | SecretSet;

export interface SecretSetOptions {
  /** Default MIN_SECRET_LENGTH. */
  minLength?: number;
  /** What an unnamed value is replaced with (default `[REDACTED]`). */
  placeholder?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A line of a multi-line secret at least this long (leading/trailing blanks aside) is searched for on its own: a
 * PEM key or a kubeconfig is often echoed line by line (a log writes one line at a time, with \r\n instead of
 * \n, re-indented), and every 64-character line of a PEM body is key material. Shorter lines ("apiVersion: v1",
 * the short last line of a PEM body) are too common or too small to be worth garbling other output for.
 */
export const MIN_SECRET_LINE_LENGTH = 16;
/** PEM armour lines ("-----BEGIN CERTIFICATE-----") are the same in every PEM file: no secret, not redacted alone. */
const PEM_ARMOUR = /^-----(?:BEGIN|END) [A-Z0-9 ]+-----$/;

/**
 * Known secret values with the encodings a server is likely to echo them in, found in one pass over a text in time
 * linear in its length whatever the number and size of the secrets (util/longest-match: where two forms overlap,
 * the longest wins, so a secret containing another is replaced whole).
 */
export class SecretSet {
  /** Every searched form (value, encodings, long lines of a multi-line value) and its placeholder. */
  private readonly forms: string[] = [];
  private readonly placeholders: string[] = [];
  private readonly values = new Set<string>();
  private text: LongestMatcher | null = null;
  /** The same forms as UTF-8 bytes (in latin1 strings), for base64 payloads; built on first use. */
  private bytes: LongestMatcher | null = null;

  private constructor() {}

  static from(values: SecretValues, opts: SecretSetOptions = {}): SecretSet {
    if (values instanceof SecretSet) return values;
    const set = new SecretSet();
    const min = opts.minLength ?? MIN_SECRET_LENGTH;
    const pairs: [string | undefined, unknown][] =
      isObj(values) && !(Symbol.iterator in values) ? Object.entries(values) : [...(values as Iterable<string>)].map((v) => [undefined, v]);
    const seen = new Set<string>();
    for (const [name, v] of pairs) {
      if (typeof v !== 'string' || v.length < min || set.values.has(v)) continue;
      set.values.add(v);
      const placeholder = name ? `[REDACTED:${name}]` : (opts.placeholder ?? '[REDACTED]');
      for (const form of [...encodings(v), ...secretLines(v)]) {
        if (form.length < min || seen.has(form)) continue;
        seen.add(form);
        set.forms.push(form);
        set.placeholders.push(placeholder);
      }
    }
    if (set.forms.length) set.text = new LongestMatcher(set.forms);
    return set;
  }

  /** Number of distinct secret values. */
  get size(): number {
    return this.values.size;
  }

  redact(text: string): string {
    if (!this.text || !text) return text;
    return this.text.replace(text, (i) => this.placeholders[i]!);
  }

  /** Whether the text holds any known secret (in any searched encoding). */
  has(text: string): boolean {
    return !!this.text && !!text && this.text.has(text);
  }

  /**
   * A base64 payload with any secret bytes replaced (re-encoded); the same string when it held none. The bytes are
   * searched for every form, so base64 of a JSON document that holds an escaped secret is caught too.
   */
  redactBase64(b64: string): string {
    if (!this.text || !b64) return b64;
    this.bytes ??= new LongestMatcher(this.forms.map(latin1Bytes));
    const bin = Buffer.from(b64, 'base64').toString('latin1');
    const out = this.bytes.replace(bin, (i) => latin1Bytes(this.placeholders[i]!));
    return out === bin ? b64 : Buffer.from(out, 'latin1').toString('base64');
  }
}

/** A string's UTF-8 bytes as a latin1 string (one character per byte), the alphabet binary payloads are searched in. */
function latin1Bytes(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** The forms a value commonly travels in: as is, inside a JSON string, URL-encoded, base64 (both alphabets). */
function encodings(v: string): string[] {
  const json = JSON.stringify(v).slice(1, -1);
  const padded = Buffer.from(v, 'utf8').toString('base64');
  const b64 = padded.replace(/=+$/, '');
  // The padded form too (it is longer, so it is matched first): no stray "=" is left behind the placeholder.
  return [...new Set([v, json, encodeURIComponent(v), padded, b64, b64.replace(/\+/g, '-').replace(/\//g, '_')])];
}

/** The long lines of a multi-line value (see MIN_SECRET_LINE_LENGTH), each also JSON-escaped. */
function secretLines(v: string): string[] {
  if (!v.includes('\n')) return [];
  const out: string[] = [];
  for (const raw of v.split('\n')) {
    const line = raw.trim();
    if (line.length < MIN_SECRET_LINE_LENGTH || PEM_ARMOUR.test(line)) continue;
    out.push(line, JSON.stringify(line).slice(1, -1));
  }
  return out;
}

const compiled = new WeakMap<object, SecretSet>();
function setOf(values: SecretValues): SecretSet {
  if (values instanceof SecretSet) return values;
  // Callers usually pass the same array/object again and again: compile it once.
  const key = values as object;
  let s = compiled.get(key);
  if (!s) compiled.set(key, (s = SecretSet.from(values)));
  return s;
}

/** `text` with every known secret value replaced by `[REDACTED:<name>]` (or `[REDACTED]` for unnamed values). */
export function redactKnown(text: string, values: SecretValues): string {
  return setOf(values).redact(text);
}

/**
 * A copy of any JSON-like value with known secrets removed from every string (keys included), from base64
 * payloads (`blob`, and `data` of image/audio blocks) and from JSON embedded in strings with \u escapes.
 * Returns the same object when nothing needed redaction (the common case costs no copy).
 */
export function redactDeep<T>(value: T, values: SecretValues): T {
  const set = setOf(values);
  if (!set.size) return value;
  return walk(value, set, 0) as T;
}

/** A tool result with known secrets removed from every content block, structuredContent and _meta. */
export function redactResult<T extends { content?: unknown }>(result: T, values: SecretValues): T {
  return redactDeep(result, values);
}

function walk(v: unknown, set: SecretSet, depth: number): unknown {
  if (typeof v === 'string') return redactString(v, set);
  if (depth > 64 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const w = walk(v[i], set, depth + 1);
      if (w !== v[i]) (copy ??= v.slice())[i] = w;
    }
    return copy ?? v;
  }
  const o = v as Record<string, unknown>;
  let copy: Record<string, unknown> | null = null;
  // Binary payloads of content blocks: resource `blob`, image/audio `data`.
  const b64Keys = new Set(['blob', ...(o.type === 'image' || o.type === 'audio' ? ['data'] : [])]);
  for (const [k, x] of Object.entries(o)) {
    const w = typeof x === 'string' && b64Keys.has(k) ? set.redactBase64(x) : walk(x, set, depth + 1);
    const k2 = set.redact(k);
    if (w !== x || k2 !== k) {
      copy ??= { ...o };
      if (k2 !== k) delete copy[k];
      copy[k2] = w;
    }
  }
  return copy ?? o;
}

function redactString(s: string, set: SecretSet): string {
  const out = set.redact(s);
  if (out !== s || !s.includes('\\u')) return out;
  // JSON text can spell a secret with \u escapes; parse it and look again.
  const t = s.trim();
  if (!(t.startsWith('{') || t.startsWith('[') || t.startsWith('"'))) return out;
  try {
    const parsed: unknown = JSON.parse(t);
    const cleaned = walk(parsed, set, 1);
    return cleaned === parsed ? out : JSON.stringify(cleaned);
  } catch {
    return out;
  }
}

// ---- heuristic scan ---------------------------------------------------------------------------------------------

export type CredentialKind =
  | 'github-token'
  | 'aws-access-key-id'
  | 'aws-secret-access-key'
  | 'slack-token'
  | 'openai-api-key'
  | 'anthropic-api-key'
  | 'stripe-secret-key'
  | 'google-api-key'
  | 'jwt'
  | 'private-key'
  | 'bearer-token'
  | 'password-assignment';

export interface CredentialHit {
  kind: CredentialKind;
  /** Offset of the credential in the text. */
  index: number;
  length: number;
  /** Safe to show: the well-known prefix and the length, never the secret part. */
  preview: string;
}

/**
 * Token formats with a fixed, documented prefix, so false alarms are rare. Where a pattern has a `v` group,
 * only that part is the secret (the rest is context such as `password=`).
 */
const PATTERNS: { kind: CredentialKind; re: RegExp; keep: number; reject?: RegExp }[] = [
  { kind: 'private-key', re: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----(?<v>[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|$))/g, keep: 0 },
  { kind: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g, keep: 4 },
  { kind: 'aws-access-key-id', re: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g, keep: 4 },
  { kind: 'aws-secret-access-key', re: /\baws_?secret_?access_?key\b["']?\s*[:=]\s*["']?(?<v>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi, keep: 0 },
  { kind: 'slack-token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, keep: 5 },
  { kind: 'anthropic-api-key', re: /\bsk-ant-[A-Za-z0-9_-]{20,}/g, keep: 7 },
  { kind: 'openai-api-key', re: /\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g, keep: 3 },
  { kind: 'stripe-secret-key', re: /\b[sr]k_live_[A-Za-z0-9]{16,}/g, keep: 8 },
  { kind: 'google-api-key', re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, keep: 4 },
  { kind: 'jwt', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, keep: 3 },
  { kind: 'bearer-token', re: /\bBearer\s+(?<v>[A-Za-z0-9._~+/-]{20,}=*)/g, keep: 0 },
  {
    kind: 'password-assignment',
    // `password=hunter22`, `"api_key": "…"`; placeholders such as ***, <token>, ${VAR}, xxxx are not credentials.
    re: /\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)\b["']?\s*[:=]\s*["']?(?<v>[^\s"'&,;}]{6,})/gi,
    keep: 0,
    reject: /^(?:\*+|x+|\.+|<[^>]*>?|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{.*|%[A-Za-z_]+%?|\[REDACTED[^\]]*\]?|your[_-]?\w*|my[_-]\w*|changeme|redacted|example\w*|null|undefined|none|true|false)$/i,
  },
];

/** Credentials found in `text`, in order, without overlaps (a JWT inside `password=` counts once). */
export function looksLikeCredential(text: string): CredentialHit[] {
  if (!text || text.length < 8) return [];
  const hits: CredentialHit[] = [];
  for (const { kind, re, keep, reject } of PATTERNS) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const v = m.groups?.v;
      const index = v !== undefined ? m.index + m[0].length - v.length : m.index;
      const length = v !== undefined ? v.length : m[0].length;
      if (!length || reject?.test(text.slice(index, index + length))) continue;
      if (hits.some((h) => index < h.index + h.length && h.index < index + length)) continue;
      const secret = text.slice(index, index + length);
      hits.push({ kind, index, length, preview: `${secret.slice(0, keep)}…(${length} chars)` });
    }
  }
  return hits.sort((a, b) => a.index - b.index);
}

/** `text` with everything that looks like a credential replaced by `[REDACTED:<kind>]`. */
export function maskCredentials(text: string): string {
  const hits = looksLikeCredential(text);
  if (!hits.length) return text;
  let out = '';
  let at = 0;
  for (const h of hits) {
    out += text.slice(at, h.index) + `[REDACTED:${h.kind}]`;
    at = h.index + h.length;
  }
  return out + text.slice(at);
}

export interface CredentialFinding {
  kind: CredentialKind;
  /** Where in the value, e.g. `arguments.body` or `content[0].text`. */
  path: string;
  preview: string;
}

/** Scan every string of a JSON-like value (keys too); stops after `maxChars` of text to bound the cost. */
export function scanForCredentials(value: unknown, path = '', maxChars = 1_000_000): CredentialFinding[] {
  const out: CredentialFinding[] = [];
  let budget = maxChars;
  const visit = (v: unknown, p: string, depth: number) => {
    if (budget <= 0) return;
    if (typeof v === 'string') {
      const text = v.length > budget ? v.slice(0, budget) : v;
      budget -= text.length;
      for (const h of looksLikeCredential(text)) out.push({ kind: h.kind, path: p || '(value)', preview: h.preview });
      return;
    }
    if (depth > 32 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${p}[${i}]`, depth + 1));
    else for (const [k, x] of Object.entries(v)) visit(x, p ? `${p}.${k}` : k, depth + 1);
  };
  visit(value, path, 0);
  return out;
}

/**
 * The warning for `scanSecrets: warn`, or undefined when nothing looks like a credential. Names kinds and paths
 * only, so the warning itself can be logged.
 */
export function credentialWarning(what: string, value: unknown): string | undefined {
  const found = scanForCredentials(value);
  if (!found.length) return undefined;
  const list = found.slice(0, 5).map((f) => `${f.kind} at ${f.path}`);
  return `${what}: ${found.length} possible credential${found.length === 1 ? '' : 's'} (${list.join(', ')}${found.length > 5 ? ', …' : ''}). If a real credential was passed on by mistake, rotate it.`;
}
