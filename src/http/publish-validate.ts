/** Validating a published server.json against the schema, into an entry or a list of issues by JSON pointer. */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Entry } from '../model/entry.js';
import { serverJsonToEntry } from '../sources/server-json.js';

/**
 * Is this server.json fit to publish? Checked against the official schema (schemas/server.schema.2025-12-11.json,
 * shipped with the package), then the rules the schema leaves out — unknown top-level fields (a misspelt `remote`
 * would publish a server without its endpoint), a version that is a range or `latest` — and finally our own
 * mapping into a catalog entry, so what is accepted is also what the registry can serve and run.
 */

export interface ValidationIssue {
  /** JSON pointer of the field (`/remotes/0/url`), `/` for the document. */
  path: string;
  message: string;
}

export type ServerJsonCheck = { ok: true; entry: Entry; name: string; version: string } | { ok: false; issues: ValidationIssue[] };

const SCHEMA_FILE = new URL('../../schemas/server.schema.2025-12-11.json', import.meta.url);
const RANGE = /^[\^~<>=]|[\s*|]|(^|\.)x(\.|$)/i;

let compiled: { validate: ValidateFunction; known: Set<string> } | undefined;

function schema() {
  if (compiled) return compiled;
  const doc = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as { definitions: { ServerDetail: { properties: Record<string, unknown> } } };
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
  compiled = { validate: ajv.compile(doc), known: new Set(Object.keys(doc.definitions.ServerDetail.properties)) };
  return compiled;
}

function describe(e: ErrorObject): ValidationIssue {
  const path = e.instancePath || '/';
  if (e.keyword === 'required') return { path, message: `missing required field "${(e.params as { missingProperty: string }).missingProperty}"` };
  if (e.keyword === 'enum') return { path, message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
  return { path, message: e.message ?? e.keyword };
}

export function validateServerJson(server: unknown, sourceName: string): ServerJsonCheck {
  if (server === null || typeof server !== 'object' || Array.isArray(server)) return { ok: false, issues: [{ path: '/', message: 'the body must be one server.json object' }] };
  const { validate, known } = schema();
  const issues: ValidationIssue[] = [];
  if (!validate(server)) {
    // oneOf failures repeat each branch's complaint: one line per place and message is enough.
    const seen = new Set<string>();
    for (const e of validate.errors ?? []) {
      const i = describe(e);
      const k = `${i.path} ${i.message}`;
      if (!seen.has(k)) issues.push(i), seen.add(k);
    }
  }
  for (const k of Object.keys(server)) if (!known.has(k)) issues.push({ path: `/${k}`, message: `unknown field "${k}" (server.json fields: ${[...known].join(', ')})` });
  const version = (server as { version?: unknown }).version;
  if (typeof version === 'string' && (version.trim().toLowerCase() === 'latest' || RANGE.test(version.trim()))) {
    issues.push({ path: '/version', message: `"${version}" is not one version: publish an exact version such as 1.2.0 (not a range, not "latest")` });
  }
  if (issues.length) return { ok: false, issues: issues.slice(0, 20) };
  let entry: Entry;
  try {
    entry = serverJsonToEntry(server, sourceName);
  } catch (err) {
    return { ok: false, issues: [{ path: '/', message: (err as Error).message }] };
  }
  const s = server as { name: string; version: string };
  return { ok: true, entry, name: s.name, version: s.version };
}
