/** Checking a catalog file for `validate`: schema, unknown server.json fields, signatures, governance fields. */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { z } from 'zod';
import { declaredArtefacts } from '../governance/artefacts.js';
import { loadTrustRoot, SIGNATURE_META_KEY, signatureBlockProblem, signatureOf, verifyRecord, type TrustRoot } from '../signing/signing.js';
import { compareSemver } from '../sources/server-json.js';
import { CatalogFileError, keyPositionOf, positionOf, readCatalog, type CatalogDoc, type CatalogRecord } from '../sources/catalog-files.js';
import { registryYamlSchemas } from '../sources/registry-yaml.js';
import { serverFileSchema } from '../sources/servers-dir.js';
import { mapArtefactUrl } from '../model/artefact-url.js';
import { describeIssue } from '../util/schema-issues.js';

/**
 * `mcp-registry validate <file|dir>`: a catalog repository's CI check. Every entry against the official server.json
 * schema (schemas/, verbatim) or the schema of its format (registry.yaml, servers/<name>.yaml), and: unknown fields
 * (the official schema leaves objects open; a misspelt key is lost data), our `_meta["io.mcp-registry/…"]`
 * extensions, duplicate names, versions that are not semver, governance fields, and — with `requireSigned` —
 * missing signatures and artefact digests. Every finding has the file, line and column of what it is about.
 */

export interface Finding {
  file: string;
  line: number;
  col: number;
  severity: 'error' | 'warning';
  message: string;
}

export interface ValidateOptions {
  /** Every entry must be signed and every artefact pinned by a digest. */
  requireSigned?: boolean;
  /** Trusted public keys (paths, `*` in the file name): signatures are verified, not only present. */
  keys?: string[];
  /** Governance fields (owner, approver, approval date, risk, data access / reviewers, review date) are required. */
  requireGovernance?: boolean;
  /** The clock for "approved in the future" (tests). */
  now?: number;
}

const addFormats = addFormatsModule as unknown as (a: Ajv) => Ajv;
const SCHEMA_FILE = new URL('../../schemas/server.schema.2025-12-11.json', import.meta.url);
export const OUR_META_KEYS = [SIGNATURE_META_KEY];

type Json = Record<string, unknown>;
type SchemaNode = Json & { $ref?: string; properties?: Record<string, SchemaNode>; items?: SchemaNode; allOf?: SchemaNode[]; anyOf?: SchemaNode[]; oneOf?: SchemaNode[]; additionalProperties?: boolean | SchemaNode };
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

let compiled: { validate: ReturnType<Ajv['compile']>; root: SchemaNode } | undefined;
function officialSchema() {
  if (!compiled) {
    const root = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as SchemaNode;
    const ajv = addFormats(new Ajv({ strict: false, allErrors: true, logger: false }));
    compiled = { validate: ajv.compile(root), root };
  }
  return compiled;
}

/** JSON pointer `/packages/0/transport` → ['packages', 0, 'transport']. */
function pointerPath(p: string): (string | number)[] {
  return p
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function ajvMessage(e: ErrorObject): string {
  const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  if (e.keyword === 'required') return `${at}: missing required field "${(e.params as { missingProperty: string }).missingProperty}"`;
  if (e.keyword === 'enum') return `${at}: ${e.message} (${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')})`;
  if (e.keyword === 'const') return `${at}: must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
  return `${at}: ${e.message}`;
}

// ---- unknown fields in server.json ----------------------------------------------------------------------------

function deref(root: SchemaNode, s: SchemaNode | undefined): SchemaNode | undefined {
  let n = s;
  for (let i = 0; n?.$ref && i < 20; i++) n = root.definitions && n.$ref.startsWith('#/definitions/') ? (root.definitions as Record<string, SchemaNode>)[n.$ref.slice(14)] : undefined;
  return n;
}

/** The properties an object schema names (through $ref, allOf, anyOf, oneOf), and whether it is open. */
function objectShape(root: SchemaNode, s: SchemaNode | undefined): { props: Map<string, SchemaNode[]>; open: boolean; extra?: SchemaNode } {
  const props = new Map<string, SchemaNode[]>();
  let open = false;
  let extra: SchemaNode | undefined;
  const visit = (node: SchemaNode | undefined, depth: number) => {
    const n = deref(root, node);
    if (!n || depth > 10) return;
    for (const [k, v] of Object.entries(n.properties ?? {})) props.set(k, [...(props.get(k) ?? []), v]);
    if (n.additionalProperties === true) open = true;
    else if (isObject(n.additionalProperties)) extra = n.additionalProperties as SchemaNode;
    for (const sub of [...(n.allOf ?? []), ...(n.anyOf ?? []), ...(n.oneOf ?? [])]) visit(sub, depth + 1);
  };
  visit(s, 0);
  return { props, open, extra };
}

function unknownFields(root: SchemaNode, schemas: SchemaNode[], value: unknown, path: (string | number)[], out: { path: (string | number)[]; key: string; known: string[] }[]): void {
  if (Array.isArray(value)) {
    const items = schemas.map((s) => deref(root, s)?.items).filter((x): x is SchemaNode => !!x);
    if (items.length) value.forEach((v, i) => unknownFields(root, items, v, [...path, i], out));
    return;
  }
  if (!isObject(value)) return;
  const shapes = schemas.map((s) => objectShape(root, s));
  const props = new Map<string, SchemaNode[]>();
  for (const sh of shapes) for (const [k, v] of sh.props) props.set(k, [...(props.get(k) ?? []), ...v]);
  const open = shapes.some((s) => s.open);
  const extra = shapes.map((s) => s.extra).filter((x): x is SchemaNode => !!x);
  for (const [k, v] of Object.entries(value)) {
    const sub = props.get(k);
    if (sub) {
      // `_meta` is the namespaced extension point: other vendors' keys pass; ours are checked on their own.
      if (k !== '_meta') unknownFields(root, sub, v, [...path, k], out);
    } else if (extra.length) unknownFields(root, extra, v, [...path, k], out);
    else if (!open && props.size) out.push({ path, key: k, known: [...props.keys()] });
  }
}

// ---- the checks -----------------------------------------------------------------------------------------------

const DATE = /^(\d{4}-\d{2}-\d{2})/;

class Findings {
  readonly list: Finding[] = [];
  add(doc: CatalogDoc, pos: { line: number; col: number }, message: string, severity: Finding['severity'] = 'error'): void {
    this.list.push({ file: doc.file, line: pos.line, col: pos.col, severity, message });
  }
}

function checkWithZod(f: Findings, record: CatalogRecord, schema: z.ZodType): void {
  const res = schema.safeParse(record.value);
  if (res.success) return;
  for (const issue of res.error.issues) {
    // A YAML number where a version string belongs gets its own message ("quote it") from the format's check.
    if (issue.code === 'invalid_type' && issue.path[issue.path.length - 1] === 'version') continue;
    const path = [...record.path, ...(issue.path as (string | number)[])];
    const pos = issue.code === 'unrecognized_keys' ? keyPositionOf(record.doc, path, issue.keys[0]!) : positionOf(record.doc, path);
    // describeIssue words the issue (unknown keys with the closest known one); the position is ours.
    const text = describeIssue(issue, { file: '\u0000', schema, raw: record.value }).replace(/^\u0000: (?:\(top level\): )?/, '');
    f.add(record.doc, pos, `${record.label}: ${text}`);
  }
}

function checkServerJson(f: Findings, record: CatalogRecord): void {
  const { validate, root } = officialSchema();
  const envelope = isObject(record.value.server);
  const server = (envelope ? record.value.server : record.value) as Json;
  const base = envelope ? [...record.path, 'server'] : record.path;
  if (envelope) {
    for (const k of Object.keys(record.value)) {
      if (k !== 'server' && k !== '_meta') f.add(record.doc, keyPositionOf(record.doc, record.path, k), `${record.label}: unknown key "${k}" in the envelope (known: server, _meta)`);
    }
  }
  if (!validate(server)) {
    // anyOf: one complaint per branch, so the same error repeats and each branch's enum names one value; say each
    // thing once, with every allowed value.
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
    const allowed = new Map<string, unknown[]>();
    for (const e of errors) {
      if (e.keyword === 'enum' || e.keyword === 'const') {
        const vals = e.keyword === 'enum' ? (e.params as { allowedValues: unknown[] }).allowedValues : [(e.params as { allowedValue: unknown }).allowedValue];
        allowed.set(e.instancePath, [...new Set([...(allowed.get(e.instancePath) ?? []), ...vals])]);
      }
    }
    const said = new Set<string>();
    for (const e of errors) {
      const vals = allowed.get(e.instancePath);
      const msg = (e.keyword === 'enum' || e.keyword === 'const') && vals
        ? `${e.instancePath.slice(1).replace(/\//g, '.')}: must be one of ${vals.map((v) => JSON.stringify(v)).join(', ')}`
        : ajvMessage(e);
      const key = `${e.instancePath}\0${msg}`;
      if (said.has(key)) continue;
      said.add(key);
      f.add(record.doc, positionOf(record.doc, [...base, ...pointerPath(e.instancePath)]), `${record.label}: ${msg}`);
    }
  }
  const unknown: { path: (string | number)[]; key: string; known: string[] }[] = [];
  unknownFields(root, [root], server, [], unknown);
  for (const u of unknown) {
    const at = u.path.length ? `${u.path.join('.')}: ` : '';
    f.add(record.doc, keyPositionOf(record.doc, [...base, ...u.path], u.key), `${record.label}: ${at}unknown field "${u.key}" (server.json 2025-12-11 knows: ${u.known.join(', ')})`);
  }
  const meta = isObject(server._meta) ? server._meta : {};
  for (const k of Object.keys(meta)) {
    if (k.startsWith('io.mcp-registry/') && !OUR_META_KEYS.includes(k)) {
      f.add(record.doc, keyPositionOf(record.doc, [...base, '_meta'], k), `${record.label}: _meta: unknown mcp-registry extension "${k}" (known: ${OUR_META_KEYS.join(', ')})`);
    }
  }
  if (typeof server.version === 'string' && compareSemver(server.version, server.version) === null) {
    f.add(record.doc, positionOf(record.doc, [...base, 'version']), `${record.label}: version "${server.version}" is not semver (MAJOR.MINOR.PATCH, e.g. 1.4.0); "latest" is chosen by semver`);
  }
}

function checkRegistryYaml(f: Findings, record: CatalogRecord, opts: ValidateOptions): void {
  checkWithZod(f, record, registryYamlSchemas(true).Server);
  const v = record.value;
  const seen = new Map<string, number>();
  (Array.isArray(v.versions) ? v.versions : []).forEach((ver, i) => {
    if (!isObject(ver)) return;
    const at = [...record.path, 'versions', i];
    const version = ver.version;
    if (typeof version === 'number') f.add(record.doc, positionOf(record.doc, [...at, 'version']), `${record.label}: versions[${i}].version ${version} is a number in YAML; quote it ("${version}")`);
    else if (typeof version === 'string') {
      if (compareSemver(version, version) === null) f.add(record.doc, positionOf(record.doc, [...at, 'version']), `${record.label}: version "${version}" is not semver (MAJOR.MINOR.PATCH, e.g. 1.4.0)`);
      if (seen.has(version)) f.add(record.doc, positionOf(record.doc, [...at, 'version']), `${record.label}: version ${version} is listed twice (also versions[${seen.get(version)}])`);
      seen.set(version, i);
    }
    const t = isObject(ver.transport) ? ver.transport : undefined;
    if (t?.type === 'stdio' && typeof t.url === 'string') {
      const m = mapArtefactUrl(t.url, typeof t.sha256 === 'string' ? t.sha256 : undefined);
      if (m.problem) f.add(record.doc, positionOf(record.doc, [...at, 'transport', 'url']), `${record.label}: versions[${i}].transport.url: ${m.problem}`);
    } else if (t && t.type !== 'stdio' && t.sha256 !== undefined) {
      f.add(record.doc, positionOf(record.doc, [...at, 'transport', 'sha256']), `${record.label}: versions[${i}]: a ${String(t.type)} transport has no artefact to hash; sha256 is for stdio artefacts`);
    }
  });
  const g = isObject(v.governance) ? v.governance : {};
  checkDate(f, record, [...record.path, 'governance', 'approved_at'], g.approved_at, 'approved_at', opts);
  if (opts.requireGovernance) {
    const own = isObject(v.ownership) ? v.ownership : {};
    const missing = [
      ...(['team', 'contact'] as const).filter((k) => !own[k]).map((k) => `ownership.${k}`),
      ...(['approved_by', 'approved_at', 'risk', 'data_access', 'prod_allowed'] as const).filter((k) => g[k] === undefined || g[k] === '').map((k) => `governance.${k}`),
    ];
    if (missing.length) f.add(record.doc, positionOf(record.doc, record.path), `${record.label}: governance required (--require-governance): missing ${missing.join(', ')}`);
  }
}

function checkServerFile(f: Findings, record: CatalogRecord, opts: ValidateOptions): void {
  checkWithZod(f, record, serverFileSchema(true));
  const v = record.value;
  if (typeof v.version === 'number') f.add(record.doc, positionOf(record.doc, ['version']), `${record.label}: version ${v.version} is a number in YAML; quote it ("${v.version}")`);
  else if (typeof v.version === 'string' && compareSemver(v.version, v.version) === null) f.add(record.doc, positionOf(record.doc, ['version']), `${record.label}: version "${v.version}" is not semver (MAJOR.MINOR.PATCH, e.g. 1.4.0)`);
  const a = isObject(v.artefact) ? v.artefact : undefined;
  if (a && typeof a.url === 'string') {
    const m = mapArtefactUrl(a.url, typeof a.sha256 === 'string' ? a.sha256 : undefined);
    if (m.problem) f.add(record.doc, positionOf(record.doc, ['artefact', typeof a.sha256 === 'string' && /sha256/.test(m.problem) ? 'sha256' : 'url']), `${record.label}: artefact: ${m.problem}`);
  }
  checkDate(f, record, ['reviewed_at'], v.reviewed_at, 'reviewed_at', opts);
  const stem = record.doc.file.replace(/^.*\//, '').replace(/\.ya?ml$/i, '');
  if (typeof v.name === 'string' && v.name !== stem && !v.name.endsWith(`/${stem}`)) {
    f.add(record.doc, positionOf(record.doc, ['name']), `${record.label}: name differs from the file name "${stem}"; rename one so they agree`, 'warning');
  }
  if (opts.requireGovernance) {
    const missing = (['maintainer', 'reviewed_at', 'reviewers', 'data_classification'] as const).filter((k) => v[k] === undefined || v[k] === '' || (Array.isArray(v[k]) && !(v[k] as unknown[]).length));
    if (missing.length) f.add(record.doc, positionOf(record.doc, []), `${record.label}: governance required (--require-governance): missing ${missing.join(', ')}`);
  }
}

function checkDate(f: Findings, record: CatalogRecord, path: (string | number)[], value: unknown, name: string, opts: ValidateOptions): void {
  if (typeof value !== 'string') return;
  const m = DATE.exec(value);
  const t = m ? Date.parse(`${m[1]}T00:00:00Z`) : NaN;
  if (!m || !Number.isFinite(t) || !new Date(t).toISOString().startsWith(m[1]!)) return; // the schema check reports the form
  if (t > (opts.now ?? Date.now())) f.add(record.doc, positionOf(record.doc, path), `${record.label}: ${name} ${value} is in the future`);
}

/** Signature shape, its verification (with keys), and — when signing is required — that it and every digest exist. */
function checkSigning(f: Findings, record: CatalogRecord, opts: ValidateOptions, trust: TrustRoot | undefined): void {
  const block = signatureOf(record.value, record.format);
  const sigPath = record.format === 'server.json' ? [...record.path, ...(isObject(record.value.server) ? ['server'] : []), '_meta', SIGNATURE_META_KEY] : [...record.path, 'signature'];
  if (block !== undefined) {
    const problem = signatureBlockProblem(block);
    if (problem) f.add(record.doc, positionOf(record.doc, sigPath), `${record.label}: ${problem}`);
    else if (trust) {
      const v = verifyRecord(record.value, record.format, trust);
      if (v.outcome !== 'verified') f.add(record.doc, positionOf(record.doc, sigPath), `${record.label}: ${v.reason ?? 'signature does not verify'}`);
    }
  } else if (opts.requireSigned) f.add(record.doc, positionOf(record.doc, record.path), `${record.label}: unsigned, and signing is required (sign it: mcp-registry sign <catalog> --key NAME.key)`);
  if (!opts.requireSigned) return;
  const declared = declaredArtefacts(record.value, record.format);
  const signed = isObject(block) && Array.isArray(block.artefacts) ? (block.artefacts as { kind?: unknown; ref?: unknown }[]) : [];
  for (const need of declared.needs) {
    if (signed.some((a) => a.kind === need.kind && a.ref === need.ref)) continue;
    const hint = need.kind === 'oci' ? 'pin the image by @sha256: digest or' : need.kind === 'mcpb' ? 'state fileSha256 / sha256 or' : '';
    f.add(record.doc, positionOf(record.doc, [...record.path, ...need.where.split(/[.[\]]+/).filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s))]), `${record.label}: ${need.kind} artefact ${need.ref} has no digest, and signing is required (${hint} sign the catalog: sign records its digest)`);
  }
}

export interface ValidateResult {
  findings: Finding[];
  entries: number;
  files: number;
}

export async function validateCatalog(path: string, opts: ValidateOptions = {}): Promise<ValidateResult> {
  const f = new Findings();
  let catalog: Awaited<ReturnType<typeof readCatalog>>;
  try {
    catalog = await readCatalog(path);
  } catch (err) {
    if (!(err instanceof CatalogFileError)) throw err;
    const m = /^(.*?):(\d+):(\d+): (.*)$/s.exec(err.message);
    return { findings: [m ? { file: m[1]!, line: Number(m[2]), col: Number(m[3]), severity: 'error', message: m[4]! } : { file: path, line: 1, col: 1, severity: 'error', message: err.message }], entries: 0, files: 0 };
  }
  const trust = opts.keys?.length ? await loadTrustRoot(opts.keys) : undefined;
  for (const p of trust?.problems ?? []) f.list.push({ file: path, line: 1, col: 1, severity: 'error', message: p });
  for (const b of catalog.bad) f.add(b.doc, positionOf(b.doc, b.path), b.message);
  for (const doc of catalog.docs) {
    // A registry.yaml's top level: only `servers`.
    if (isObject(doc.value) && Array.isArray(doc.value.servers) && catalog.records.some((r) => r.doc === doc && r.format === 'registry.yaml')) {
      for (const k of Object.keys(doc.value)) if (k !== 'servers') f.add(doc, keyPositionOf(doc, [], k), `unknown top-level key "${k}" (a registry.yaml holds servers: [...])`);
    }
  }
  const names = new Map<string, CatalogRecord>();
  for (const record of catalog.records) {
    if (record.format === 'server.json') checkServerJson(f, record);
    else if (record.format === 'registry.yaml') checkRegistryYaml(f, record, opts);
    else checkServerFile(f, record, opts);
    checkSigning(f, record, opts, trust);
    // Duplicates: one name per entry (server.json: per name and version, a catalog may list several versions).
    const server = record.format === 'server.json' && isObject(record.value.server) ? record.value.server : record.value;
    const name = record.format === 'registry.yaml' ? record.value.id : server.name;
    if (typeof name !== 'string') continue;
    const key = record.format === 'server.json' ? `${name}@${String(server.version ?? '')}` : name;
    const first = names.get(key);
    if (first) {
      const p = positionOf(first.doc, first.path);
      const namePath = [...record.path, ...(record.format === 'server.json' && isObject(record.value.server) ? ['server'] : []), record.format === 'registry.yaml' ? 'id' : 'name'];
      f.add(record.doc, positionOf(record.doc, namePath), `${record.label}: duplicate ${record.format === 'server.json' ? 'name and version' : record.format === 'registry.yaml' ? 'id' : 'name'} "${key}" (first at ${first.doc.file}:${p.line}:${p.col})`);
    } else names.set(key, record);
  }
  const findings = f.list.sort((a, b) => (a.file === b.file ? a.line - b.line || a.col - b.col : a.file < b.file ? -1 : 1));
  return { findings, entries: catalog.records.length, files: catalog.docs.length };
}

/** GitHub Actions' workflow command escaping (data: %, CR, LF; properties also ':' and ','). */
function ghEscape(s: string, property = false): string {
  const e = s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  return property ? e.replace(/:/g, '%3A').replace(/,/g, '%2C') : e;
}

export function formatFinding(x: Finding, format: 'text' | 'github'): string {
  if (format === 'github') return `::${x.severity} file=${ghEscape(x.file, true)},line=${x.line},col=${x.col}::${ghEscape(x.message)}`;
  return `${x.file}:${x.line}:${x.col}: ${x.severity}: ${x.message}`;
}
