/** The server.json format: mapping a server (and its official `_meta`) to an entry, or saying what is bad. */
import { z } from 'zod';
import {
  normalizeEntry,
  type Entry,
  type EnvSpec,
  type EntryInput,
  type HeaderSpec,
  type PackageLaunch,
  type RemoteLaunch,
  type SecretSpec,
} from '../model/entry.js';
import { normalizeRepoUrl } from '../model/repo-url.js';
import { compareSemver } from '../util/semver.js';

/**
 * server.json (the official MCP registry format) → Entry. Shared by the `official` source (API envelopes) and the
 * `file` source (a user's own catalog in the same format).
 */

export const OFFICIAL_META_KEY = 'io.modelcontextprotocol.registry/official';

/** The registry's own facts about one published version (`_meta["io.modelcontextprotocol.registry/official"]`). */
export interface OfficialMeta {
  status?: 'active' | 'deprecated' | 'deleted' | string;
  statusChangedAt?: string;
  statusMessage?: string;
  publishedAt?: string;
  updatedAt?: string;
  isLatest?: boolean;
}

/** An API envelope's `_meta`: the official block plus any other namespaced keys, kept verbatim. */
export type EnvelopeMeta = Record<string, unknown> & { [OFFICIAL_META_KEY]?: OfficialMeta };

/** A server.json object that cannot be mapped; the message names the server (when known) and the bad field. */
export class ServerJsonError extends Error {}

// Loose validation: only the fields we read are checked, unknown keys pass (newer schema versions add fields).
const Str = z.string();
const OptStr = z.string().optional();

const InputSchema = z.looseObject({
  description: OptStr,
  isRequired: z.boolean().optional(),
  isSecret: z.boolean().optional(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  choices: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
  format: OptStr,
  placeholder: OptStr,
  value: OptStr,
});
type Input = z.infer<typeof InputSchema>;

const KeyValueSchema = InputSchema.extend({
  name: Str.min(1),
  variables: z.record(z.string(), InputSchema).optional(),
});
type KeyValue = z.infer<typeof KeyValueSchema>;

const ArgumentSchema = z.looseObject({ type: Str, variables: z.record(z.string(), InputSchema).optional() });

const TransportSchema = z.looseObject({ type: Str, url: OptStr, headers: z.array(KeyValueSchema).optional() });

const PackageSchema = z.looseObject({
  registryType: Str.min(1),
  identifier: Str.min(1),
  version: OptStr,
  registryBaseUrl: OptStr,
  runtimeHint: OptStr,
  fileSha256: OptStr,
  transport: TransportSchema.optional(),
  runtimeArguments: z.array(ArgumentSchema).optional(),
  packageArguments: z.array(ArgumentSchema).optional(),
  environmentVariables: z.array(KeyValueSchema).optional(),
});

const RemoteSchema = z.looseObject({
  type: z.enum(['streamable-http', 'sse']),
  url: Str.min(1),
  headers: z.array(KeyValueSchema).optional(),
  variables: z.record(z.string(), InputSchema).optional(),
});

const ServerJsonSchema = z.looseObject({
  name: Str.min(1, 'must be a non-empty string such as io.github.owner/server'),
  description: OptStr,
  title: OptStr,
  version: OptStr,
  websiteUrl: OptStr,
  repository: z.looseObject({ url: OptStr, subfolder: OptStr }).optional(),
  icons: z.array(z.looseObject({ src: Str })).optional(),
  packages: z.array(PackageSchema).optional(),
  remotes: z.array(RemoteSchema).optional(),
  _meta: z.record(z.string(), z.unknown()).optional(),
});
export type ServerJson = z.infer<typeof ServerJsonSchema>;

const OfficialMetaSchema = z.looseObject({
  status: OptStr,
  statusChangedAt: OptStr,
  statusMessage: OptStr,
  publishedAt: OptStr,
  updatedAt: OptStr,
  isLatest: z.boolean().optional(),
});

export interface ServerJsonOptions {
  /** Where a person can read about the server (the registry's detail URL, the catalog file). */
  sourceUrl?: string;
}

function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `field "${i.path.join('.') || '(top)'}": ${i.message}`)
    .join('; ');
}

/**
 * Map one server.json object (and its envelope `_meta`, when it came from a registry API) to a normalised Entry.
 * Throws ServerJsonError naming the bad field; callers skip that record with a warning.
 */
export function serverJsonToEntry(server: unknown, sourceName: string, envelopeMeta?: EnvelopeMeta, opts: ServerJsonOptions = {}): Entry {
  const parsed = ServerJsonSchema.safeParse(server);
  if (!parsed.success) {
    const name = typeof (server as { name?: unknown } | null)?.name === 'string' ? JSON.stringify((server as { name: string }).name) : '(unnamed)';
    const what = server === null || typeof server !== 'object' || Array.isArray(server) ? 'is not an object' : describeIssues(parsed.error);
    throw new ServerJsonError(`server.json ${name} ${what}`);
  }
  const s = parsed.data;
  let official: OfficialMeta | undefined;
  const rawOfficial = envelopeMeta?.[OFFICIAL_META_KEY];
  if (rawOfficial !== undefined) {
    const om = OfficialMetaSchema.safeParse(rawOfficial);
    if (!om.success) throw new ServerJsonError(`server.json ${JSON.stringify(s.name)}: _meta.${OFFICIAL_META_KEY} ${describeIssues(om.error)}`);
    official = om.data;
  }

  const config = new ConfigBuilder();
  const launch: EntryInput['launch'] = [];
  for (const p of s.packages ?? []) launch.push(mapPackage(p, config));
  for (const r of s.remotes ?? []) launch.push(mapRemote(r, config));

  const repo = s.repository?.url ? normalizeRepoUrl(s.repository.url, s.repository.subfolder) : undefined;
  const meta: Record<string, unknown> = { ...(s._meta ?? {}), ...(envelopeMeta ?? {}) };
  const id = `${sourceName}/${s.name}`;
  const status = official?.status;

  try {
    return normalizeEntry({
      id,
      nativeName: s.name,
      name: s.title?.trim() || s.name.slice(s.name.lastIndexOf('/') + 1),
      description: s.description ?? '',
      version: s.version,
      repository: repo ?? undefined,
      website: s.websiteUrl || undefined,
      icon: s.icons?.[0]?.src,
      status: status === 'active' || status === 'deprecated' || status === 'deleted' ? status : undefined,
      publishedAt: official?.publishedAt,
      updatedAt: official?.updatedAt ?? official?.publishedAt,
      sources: [{ source: sourceName, id, ...(opts.sourceUrl ? { url: opts.sourceUrl } : {}) }],
      // server.json lists no tools: they are only known once the server runs.
      dynamicTools: true,
      launch,
      config: config.build(),
      meta: Object.keys(meta).length ? meta : undefined,
    });
  } catch (err) {
    if (err instanceof z.ZodError) throw new ServerJsonError(`server.json ${JSON.stringify(s.name)} ${describeIssues(err)}`);
    throw err;
  }
}

function mapPackage(p: z.infer<typeof PackageSchema>, config: ConfigBuilder): PackageLaunch {
  for (const v of p.environmentVariables ?? []) config.addEnv(v);
  for (const a of [...(p.runtimeArguments ?? []), ...(p.packageArguments ?? [])]) config.addVariables(a.variables);
  const t = p.transport ?? { type: 'stdio' };
  const transport: PackageLaunch['transport'] = { type: t.type };
  if (t.url) transport.url = t.url;
  if (t.headers?.length) transport.headers = t.headers.map((h) => config.addHeader(h));
  return {
    type: 'package',
    registryType: p.registryType,
    identifier: p.identifier,
    version: p.version,
    registryBaseUrl: p.registryBaseUrl,
    runtimeHint: p.runtimeHint,
    fileSha256: p.fileSha256,
    transport,
    runtimeArguments: p.runtimeArguments?.length ? p.runtimeArguments : undefined,
    packageArguments: p.packageArguments?.length ? p.packageArguments : undefined,
  };
}

function mapRemote(r: z.infer<typeof RemoteSchema>, config: ConfigBuilder): RemoteLaunch {
  config.addVariables(r.variables);
  return {
    type: 'remote',
    url: r.url,
    transport: r.type,
    headers: r.headers?.length ? r.headers.map((h) => config.addHeader(h)) : undefined,
    variables: r.variables && Object.keys(r.variables).length ? r.variables : undefined,
  };
}

/** A header name as an environment variable name: `X-API-Key` → `X_API_KEY`. */
function envName(name: string): string {
  const n = name.replace(/[^A-Za-z0-9_]+/g, '_').toUpperCase();
  return /^[0-9]/.test(n) ? `_${n}` : n;
}

/**
 * Collects what the user must supply: secret inputs become secrets (reaching the server as environment variables),
 * the others become properties of one JSON Schema of settings, and environment variables are templated from them.
 * Several packages of one server usually repeat the same variables, so the first declaration of a name wins.
 */
class ConfigBuilder {
  private secrets = new Map<string, SecretSpec>();
  private props = new Map<string, Record<string, unknown>>();
  private required = new Set<string>();
  private env = new Map<string, EnvSpec>();

  addEnv(v: KeyValue): void {
    if (this.env.has(v.name) || this.secrets.has(v.name)) return;
    if (v.value !== undefined) {
      // A fixed value is not configurable; its `{var}` placeholders are filled from the variables map.
      this.addVariables(v.variables);
      const value = v.value.replace(/\{([A-Za-z0-9_.-]+)\}/g, (m, k: string) => {
        const def = v.variables?.[k];
        if (!def) return m;
        return def.isSecret ? `\${${envName(k)}}` : `{{${k}}}`;
      });
      this.env.set(v.name, { name: v.name, value, description: v.description });
      return;
    }
    if (v.isSecret) {
      this.addSecret(v.name, v.name, v);
      return;
    }
    this.addParam(v.name, v);
    this.env.set(v.name, { name: v.name, value: `{{${v.name}}}`, description: v.description });
  }

  addVariables(vars: Record<string, Input> | undefined): void {
    for (const [k, def] of Object.entries(vars ?? {})) {
      if (def.value !== undefined) continue;
      if (def.isSecret) this.addSecret(k, envName(k), def);
      else this.addParam(k, def);
    }
  }

  addHeader(h: KeyValue): HeaderSpec {
    const spec: HeaderSpec = { name: h.name, description: h.description, required: h.isRequired, secret: h.isSecret };
    if (h.value !== undefined) {
      this.addVariables(h.variables);
      // Secret variables become `${ENV}` references (the docker convention the runtime expands from secrets).
      spec.value = h.value.replace(/\{([A-Za-z0-9_.-]+)\}/g, (m, k: string) =>
        h.variables?.[k]?.isSecret && h.variables[k].value === undefined ? `\${${envName(k)}}` : m,
      );
    } else if (h.isSecret) {
      const env = envName(h.name);
      this.addSecret(h.name, env, h);
      spec.value = `\${${env}}`;
    } else {
      this.addParam(h.name, h);
      spec.value = `{${h.name}}`;
    }
    return spec;
  }

  private addSecret(name: string, env: string, def: Input): void {
    if (this.secrets.has(name)) return;
    this.secrets.set(name, {
      name,
      env,
      description: def.description,
      example: def.placeholder,
      required: def.isRequired === true,
    });
  }

  private addParam(name: string, def: Input): void {
    if (this.props.has(name)) return;
    const type = def.format === 'number' ? 'number' : def.format === 'boolean' ? 'boolean' : 'string';
    const prop: Record<string, unknown> = { type };
    if (def.description) prop.description = def.description;
    if (def.default !== undefined) prop.default = coerce(def.default, type);
    if (def.choices?.length) prop.enum = def.choices.map((c) => coerce(c, type));
    if (def.format === 'filepath') prop.format = 'filepath';
    if (def.placeholder) prop.examples = [def.placeholder];
    this.props.set(name, prop);
    if (def.isRequired) this.required.add(name);
  }

  build(): EntryInput['config'] {
    const parameters = this.props.size
      ? {
          type: 'object',
          properties: Object.fromEntries(this.props),
          ...(this.required.size ? { required: [...this.required] } : {}),
        }
      : undefined;
    return { parameters, secrets: [...this.secrets.values()], env: [...this.env.values()] };
  }
}

/** server.json inputs are strings; a schema typed number/boolean should carry values of that type. */
function coerce(v: string | number | boolean, type: string): string | number | boolean {
  if (type === 'number' && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  if (type === 'boolean' && (v === 'true' || v === 'false')) return v === 'true';
  return v;
}

// ---- versions ---------------------------------------------------------------------------------------------

export { compareSemver };

export function officialMeta(e: Pick<Entry, 'meta'>): OfficialMeta | undefined {
  return e.meta?.[OFFICIAL_META_KEY] as OfficialMeta | undefined;
}

/**
 * Which of two versions of one server is the latest: the one the registry flags `isLatest` wins; else semver
 * order; else the later `publishedAt`; else `b` (the one seen later).
 */
export function pickLatest(a: Entry, b: Entry): Entry {
  const la = officialMeta(a)?.isLatest === true;
  const lb = officialMeta(b)?.isLatest === true;
  if (la !== lb) return la ? a : b;
  if (a.version && b.version) {
    const c = compareSemver(a.version, b.version);
    if (c) return c > 0 ? a : b;
  }
  const pa = Date.parse(a.publishedAt ?? '');
  const pb = Date.parse(b.publishedAt ?? '');
  if (Number.isFinite(pa) && Number.isFinite(pb) && pa !== pb) return pa > pb ? a : b;
  if (Number.isFinite(pa) !== Number.isFinite(pb)) return Number.isFinite(pa) ? a : b;
  return b;
}

/** Keep one entry per id (the latest version), preserving first-seen order. */
export function latestPerName(entries: Iterable<Entry>): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const e of entries) {
    const held = out.get(e.id);
    out.set(e.id, held ? pickLatest(held, e) : e);
  }
  return out;
}
