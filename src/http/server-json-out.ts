/** Entries as the API serves them: server.json out, the official and aggregator `_meta`, status filters. */
import { createHash } from 'node:crypto';
import { isRunnable, type Entry, type EnvSpec, type HeaderSpec, type ImageLaunch, type PackageLaunch, type RemoteLaunch } from '../model/entry.js';
import { configOf, launchSourceOf } from '../model/launch-choice.js';
import { formatImageRef, parseQualified } from '../model/image-ref.js';
import { shortHash } from '../util/hash.js';
import type { EntryVisibility } from '../governance/policy.js';

/**
 * Entry → server.json (schema 2025-12-11), the shape the MCP Registry API v0.1 serves.
 *
 * Names: an entry that came from a registry in server.json format (official registry, a user's server.json catalog)
 * keeps its reverse-DNS name. Every other entry gets `<namespace of its source>/<native name>`, where the namespace
 * is the reverse-DNS form of the source's URL (github.com/docker/mcp-registry → `io.github.docker.mcp-registry`,
 * https://mcpservers.org → `org.mcpservers`; see sourceNamespace for mirrors and local paths). The native name keeps
 * `[A-Za-z0-9._-]`, other characters (the `/` of `owner/repo` slugs included) become `.`. So docker's `postgres` is
 * served as `io.github.docker.mcp-registry/postgres`, stable for as long as the source's URL stays the same.
 */

export const SERVER_SCHEMA_URL = 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json';
export const OFFICIAL_KEY = 'io.modelcontextprotocol.registry/official';
/** Our own facts about a served entry live under this key of the envelope `_meta`, beside the official one. */
export const AGGREGATOR_KEY = 'io.github.mcp-registry/aggregator';

const NAME_PATTERN = /^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/;
const MAX_NAME = 200;
const MAX_DESCRIPTION = 100;
const MAX_TITLE = 100;
const MAX_TOOL_DESCRIPTION = 160;

export type ServedStatus = EntryVisibility['status'];
export type EntryFilter = (entry: Entry) => EntryVisibility;
export type TrustFn = (entry: Entry) => { status: string; reason?: string };

/** Everything visible; deprecated exactly when the catalog says so. */
export const defaultFilter: EntryFilter = (e) => ({ visible: e.status !== 'deleted', status: e.status === 'deprecated' ? 'deprecated' : 'active' });

export interface MappingOptions {
  /** Reverse-DNS namespace per source name, for entries without a name of their own (see sourceNamespace). */
  namespaces?: Record<string, string>;
  /** Source names whose native names are server.json names (official / file sources); default: guessed by shape. */
  serverJsonSources?: ReadonlySet<string>;
  trust?: TrustFn;
}

export type Json = Record<string, unknown>;

/** One entry ready to serve, before timestamps (which depend on when its content last changed). */
export interface MappedEntry {
  name: string;
  /** entry.version when it is a valid server.json version; else undefined (a version is derived from updatedAt). */
  version?: string;
  server: Json;
  /** `server` as JSON (without version: it may be derived from the timestamps) and our own metadata as JSON. */
  serverJson: string;
  aggregatorJson: string;
  /** Hash of everything served about the entry except timestamps and derived version. */
  contentHash: string;
}

/** Namespaces of the public catalogs, used when a source of that type has no public URL (a mirror, a bundle). */
const TYPE_NAMESPACES: Record<string, string> = {
  docker: 'io.github.docker.mcp-registry',
  mcpservers: 'org.mcpservers',
  official: 'io.modelcontextprotocol.registry',
};

/**
 * The namespace of a source's derived names: the reverse-DNS form of its public URL
 * (`https://github.com/docker/mcp-registry.git` → `io.github.docker.mcp-registry`, `https://mcpservers.org` →
 * `org.mcpservers`). A source without a public URL (local path, bundle, loopback or IP address) is taken as a mirror
 * of the public catalog of its type, else `local.<source name>`.
 */
export function sourceNamespace(source: { name: string; type?: string; url?: string }): string {
  const fallback = TYPE_NAMESPACES[source.type ?? ''] ?? `local.${label(source.name) || 'source'}`;
  if (!source.url || !/^https?:\/\//i.test(source.url)) return fallback;
  let u: URL;
  try {
    u = new URL(source.url);
  } catch {
    return fallback;
  }
  const host = u.hostname.toLowerCase().replace(/^www\./, '');
  if (!host.includes('.') || /^[\d.]+$/.test(host) || host.startsWith('[') || host.endsWith('.localhost')) return fallback;
  // GitHub-hosted namespaces are `io.github.<owner>` in the official registry; other hosts are simply reversed.
  const labels = host === 'github.com' ? ['io', 'github'] : host.split('.').filter(Boolean).reverse();
  const segs = u.pathname
    .split('/')
    .filter(Boolean)
    .slice(0, 2)
    .map((s) => s.replace(/\.git$/i, ''));
  // Code hosts serve many projects: owner and repository name belong to the namespace.
  const codeHost = /^(github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)$/.test(host);
  const parts = [...labels, ...(codeHost ? segs : [])].map(label).filter(Boolean);
  const ns = parts.join('.');
  return ns.length >= 3 && ns.length <= 150 ? ns : fallback;
}

function label(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function nativeOf(ref: { source: string; id: string }): string {
  return ref.id.startsWith(ref.source + '/') ? ref.id.slice(ref.source.length + 1) : ref.id;
}

/** A server.json name as published: exactly one `/`, a dotted (reverse-DNS) namespace. */
function isReverseDnsName(n: string): boolean {
  return n.length >= 3 && n.length <= MAX_NAME && NAME_PATTERN.test(n) && n.slice(0, n.indexOf('/')).includes('.');
}

/** The served name of an entry (before collision handling). */
export function servedName(entry: Entry, opts: MappingOptions = {}): string {
  for (const ref of entry.sources) {
    if (opts.serverJsonSources && !opts.serverJsonSources.has(ref.source)) continue;
    const n = nativeOf(ref);
    if (isReverseDnsName(n)) return n;
  }
  const primary = entry.sources[0]!;
  const ns = opts.namespaces?.[primary.source] ?? `local.${label(primary.source) || 'source'}`;
  let slug = nativeOf(primary)
    .replace(/[^A-Za-z0-9._-]+/g, '.')
    .replace(/^[.]+|[.]+$/g, '');
  if (!slug) slug = shortHash(entry.id);
  const room = MAX_NAME - ns.length - 1;
  if (slug.length > room) slug = slug.slice(0, room - 9) + '-' + shortHash(entry.id);
  return `${ns}/${slug}`;
}

const RANGE = /^[\^~<>=]|[\s*|]|(^|\.)x(\.|$)/i;

/** A version server.json accepts: non-empty, ≤255 chars, not `latest`, not a range. */
function validVersion(v: string | undefined): v is string {
  if (!v) return false;
  const t = v.trim();
  return t.length > 0 && t.length <= 255 && t.toLowerCase() !== 'latest' && !RANGE.test(t);
}

/**
 * For entries without a version: `0.0.0-<yyyymmddhhmmss>` of when their served content last changed. Monotonic, so
 * clients that compare versions see an update whenever the content changes.
 */
export function derivedVersion(updatedAt: string): string {
  const d = new Date(updatedAt);
  const t = Number.isFinite(d.getTime()) ? d.toISOString() : '1970-01-01T00:00:00.000Z';
  return `0.0.0-${t.slice(0, 19).replace(/\D/g, '')}`;
}

function cut(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  if (one.length <= max) return one;
  // Never split a surrogate pair: the result must stay valid UTF-16 (and ≤ max code units).
  let head = one.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return head.trimEnd() + '…';
}

function httpUrl(s: string | undefined, httpsOnly = false): string | undefined {
  if (!s) return undefined;
  try {
    const u = new URL(s);
    if (u.protocol !== 'https:' && (httpsOnly || u.protocol !== 'http:')) return undefined;
    return /\s/.test(s) ? undefined : s;
  } catch {
    return undefined;
  }
}

function repository(url: string | undefined): Json | undefined {
  const u = httpUrl(url);
  if (!u) return undefined;
  const parsed = new URL(u);
  const segs = parsed.pathname.split('/').filter(Boolean);
  const host = parsed.hostname.toLowerCase();
  const twoLevel = /^(github\.com|bitbucket\.org|codeberg\.org)$/.test(host);
  const repo: Json = { url: u, source: host.split('.').at(-2) ?? host };
  if (twoLevel && segs.length > 2) {
    repo.url = `${parsed.origin}/${segs.slice(0, 2).join('/')}`;
    repo.subfolder = segs.slice(2).join('/');
  }
  return repo;
}

/** A full OCI reference: registry host and a tag (docker pulls `:latest` for a bare name; say so explicitly). */
export function fullImageRef(image: string): string {
  const ref = image.trim();
  try {
    const r = parseQualified(ref);
    return formatImageRef(r.tag === undefined && r.digest === undefined ? { ...r, tag: 'latest' } : r);
  } catch {
    return ref; // not a reference: passed on as the source has it
  }
}

/** Docker-style `${VAR}` / `$VAR` references in a header value become server.json `{VAR}` variables. */
const DOCKER_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
/** Docker `{{setting}}` templates: the value is computed from user settings, so the user supplies it. */
const TEMPLATE = /\{\{[^}]*\}\}|\$\{?[A-Za-z_]/;

function mapHeader(h: HeaderSpec, entry: Entry): Json {
  const out: Json = { name: h.name };
  if (h.description) out.description = h.description;
  if (h.required) out.isRequired = true;
  if (h.secret) out.isSecret = true;
  if (h.value === undefined) return out;
  const whole = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(h.value);
  if (whole) {
    // The whole value is one secret: the user supplies it (server.json: a secret input without a value).
    const secret = entry.config.secrets.find((s) => s.env === whole[1]);
    out.isSecret = true;
    if (!out.description && secret?.description) out.description = secret.description;
    if (h.required ?? secret?.required ?? true) out.isRequired = true;
    return out;
  }
  const variables: Record<string, Json> = {};
  const value = h.value.replace(DOCKER_REF, (_m, a: string | undefined, b: string | undefined) => {
    const env = (a ?? b)!;
    const secret = entry.config.secrets.find((s) => s.env === env);
    const v: Json = { isRequired: true, isSecret: true };
    if (secret?.description) v.description = secret.description;
    variables[env] = v;
    return `{${env}}`;
  });
  if (Object.keys(variables).length) {
    out.variables = variables;
    out.isSecret = true;
  }
  // A value that is only a variable reference is the user's input itself, not a fixed value.
  if (/^\{[A-Za-z0-9_.-]+\}$/.test(value) && !Object.keys(variables).length) return out;
  out.value = value;
  return out;
}

function mapRemote(l: RemoteLaunch, entry: Entry): Json | undefined {
  const url = httpUrl(l.url);
  if (!url) return undefined;
  const out: Json = { type: l.transport, url };
  if (l.headers?.length) out.headers = l.headers.map((h) => mapHeader(h, entry));
  if (l.variables && Object.keys(l.variables).length) out.variables = inputs(l.variables);
  return out;
}

/** Keep only the Input fields server.json defines, with the types it wants (strings for default and choices). */
function input(def: Record<string, unknown>): Json {
  const out: Json = {};
  for (const k of ['description', 'format', 'placeholder', 'value'] as const) if (typeof def[k] === 'string') out[k] = def[k];
  for (const k of ['isRequired', 'isSecret'] as const) if (typeof def[k] === 'boolean') out[k] = def[k];
  if (out.format !== undefined && !['string', 'number', 'boolean', 'filepath'].includes(out.format as string)) delete out.format;
  if (def.default !== undefined && def.default !== null && typeof def.default !== 'object') out.default = String(def.default);
  if (Array.isArray(def.choices)) out.choices = def.choices.filter((c) => c !== null && typeof c !== 'object').map(String);
  return out;
}

function inputs(vars: Record<string, Record<string, unknown>>): Record<string, Json> {
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, input(v)]));
}

/** User inputs of an entry as server.json environment variables: secrets, then settings-backed and literal vars. */
function environmentVariables(entry: Entry, imageEnv?: Record<string, string>): Json[] {
  const out = new Map<string, Json>();
  for (const s of entry.config.secrets) {
    if (out.has(s.env)) continue;
    const v: Json = { name: s.env, isSecret: true, isRequired: s.required };
    if (s.description) v.description = s.description;
    if (typeof s.example === 'string') v.placeholder = s.example;
    out.set(s.env, v);
  }
  const params = (entry.config.parameters ?? {}) as { properties?: Record<string, Record<string, unknown>>; required?: unknown };
  const required = new Set(Array.isArray(params.required) ? params.required.filter((x): x is string => typeof x === 'string') : []);
  const envs: EnvSpec[] = [...entry.config.env];
  for (const [name, value] of Object.entries(imageEnv ?? {})) envs.push({ name, value });
  for (const e of envs) {
    if (out.has(e.name)) continue;
    const v: Json = { name: e.name };
    if (e.description) v.description = e.description;
    const tpl = e.value !== undefined ? /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/.exec(e.value) : null;
    if (e.value === undefined || tpl) {
      // The user supplies it: describe it from the setting it reads, when there is one.
      const key = tpl ? tpl[1]!.slice(tpl[1]!.lastIndexOf('.') + 1) : e.name;
      const p = params.properties?.[key] ?? params.properties?.[tpl?.[1] ?? ''] ?? {};
      Object.assign(v, input({ ...p, description: e.description ?? p.description }));
      if (Array.isArray(p.enum)) v.choices = p.enum.filter((c) => c !== null && typeof c !== 'object').map(String);
      if (p.type === 'number' || p.type === 'integer') v.format = 'number';
      else if (p.type === 'boolean') v.format = 'boolean';
      if (required.has(key) || e.required) v.isRequired = true;
    } else if (TEMPLATE.test(e.value)) {
      // Computed from settings/secrets by our runtime; a plain client asks the user for it.
      v.isRequired = e.required ?? false;
    } else {
      v.value = e.value;
    }
    out.set(e.name, v);
  }
  return [...out.values()];
}

function mapImage(l: ImageLaunch, entry: Entry): Json {
  const out: Json = { registryType: 'oci', identifier: fullImageRef(l.image), runtimeHint: 'docker', transport: { type: 'stdio' } };
  const env = environmentVariables(entry, l.env);
  if (env.length) out.environmentVariables = env;
  return out;
}

function mapPackage(l: PackageLaunch, entry: Entry): Json | undefined {
  const out: Json = { registryType: l.registryType, identifier: l.registryType === 'oci' ? fullImageRef(l.identifier) : l.identifier };
  if (validVersion(l.version)) out.version = l.version;
  const base = httpUrl(l.registryBaseUrl);
  if (base) out.registryBaseUrl = base;
  if (l.runtimeHint) out.runtimeHint = l.runtimeHint;
  if (l.fileSha256 && /^[a-f0-9]{64}$/.test(l.fileSha256)) out.fileSha256 = l.fileSha256;
  const t = l.transport;
  if (t.type === 'stdio') out.transport = { type: 'stdio' };
  else if ((t.type === 'streamable-http' || t.type === 'sse') && t.url && /^https?:\/\/\S+$/.test(t.url)) {
    const tr: Json = { type: t.type, url: t.url };
    if (t.headers?.length) tr.headers = t.headers.map((h) => mapHeader(h, entry));
    out.transport = tr;
  } else return undefined; // a transport server.json cannot express
  if (l.runtimeArguments?.length) out.runtimeArguments = l.runtimeArguments;
  if (l.packageArguments?.length) out.packageArguments = l.packageArguments;
  const env = environmentVariables(entry);
  if (env.length) out.environmentVariables = env;
  return out;
}

/** Entry → server.json plus our own metadata and a hash of both. Pure and deterministic. */
export function mapEntry(entry: Entry, vis: Omit<EntryVisibility, 'visible'>, opts: MappingOptions = {}, name = servedName(entry, opts)): MappedEntry {
  const server: Json = { $schema: SERVER_SCHEMA_URL, name };
  server.description = cut(entry.description, MAX_DESCRIPTION) || cut(entry.name, MAX_DESCRIPTION) || name.slice(name.indexOf('/') + 1);
  const title = cut(entry.name, MAX_TITLE);
  if (title) server.title = title;
  const version = validVersion(entry.version) ? entry.version.trim() : undefined;
  const repo = repository(entry.repository);
  if (repo) server.repository = repo;
  const website = httpUrl(entry.website);
  if (website) server.websiteUrl = website;
  const icon = httpUrl(entry.icon, true);
  if (icon && icon.length <= 255) server.icons = [{ src: icon }];

  const packages: Json[] = [];
  const remotes: Json[] = [];
  const seen = new Set<string>();
  const add = (list: Json[], item: Json | undefined) => {
    // A merged entry holds each source's launches; the same one from two sources is served once.
    const key = item && JSON.stringify(item);
    if (!item || seen.has(key!)) return;
    seen.add(key!);
    list.push(item);
  };
  for (const l of entry.launch) {
    // Each launch with its own source's inputs, never another source's.
    const own = { ...entry, config: configOf(entry, launchSourceOf(entry, l)) };
    if (l.type === 'image') add(packages, mapImage(l, own));
    else if (l.type === 'package') add(packages, mapPackage(l, own));
    else if (l.type === 'remote') add(remotes, mapRemote(l, own));
    // poci (one container per tool call) has no server.json form; it stays visible through our own metadata.
  }
  if (packages.length) server.packages = packages;
  if (remotes.length) server.remotes = remotes;

  const aggregator: Json = {
    id: entry.id,
    sources: entry.sources.map((s) => ({ ...s })),
  };
  if (entry.aliases.length) aggregator.aliases = entry.aliases;
  if (entry.category) aggregator.category = entry.category;
  if (entry.tags.length) aggregator.tags = entry.tags;
  if (entry.official) aggregator.official = true;
  aggregator.runnable = isRunnable(entry);
  if (entry.launch.some((l) => l.type === 'poci')) aggregator.perToolContainers = true;
  aggregator.trust = opts.trust ? opts.trust(entry) : { status: 'unknown' };
  if (entry.tools.length) aggregator.tools = entry.tools.map((t) => (t.description ? { name: t.name, description: cut(t.description, MAX_TOOL_DESCRIPTION) } : { name: t.name }));
  if (entry.dynamicTools) aggregator.dynamicTools = true;
  // What the entry's catalog states (registry.yaml, servers/<name>.yaml) and its signature outcome here.
  if (entry.governance) aggregator.governance = { ...entry.governance };
  if (entry.lifecycle) aggregator.lifecycle = { ...entry.lifecycle };
  if (entry.provenance) aggregator.signature = { outcome: entry.provenance.signature, ...(entry.provenance.keyId ? { keyId: entry.provenance.keyId } : {}) };

  const serverJson = JSON.stringify(server);
  const aggregatorJson = JSON.stringify(aggregator);
  const h = createHash('sha256').update(serverJson).update(aggregatorJson);
  h.update(JSON.stringify([version ?? null, vis.status, vis.statusMessage ?? null]));
  return { name, version, server, serverJson, aggregatorJson, contentHash: h.digest('base64url').slice(0, 22) };
}
