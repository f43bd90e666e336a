/** The registry.yaml catalog format: its loose and strict schemas, and its servers mapped to entries. */
import { z } from 'zod';
import { normalizeEntry, type ArtefactDigest, type Entry, type EntryInput, type EntryVersion, type Provenance } from '../model/entry.js';
import { latestVersion, sortVersions } from '../model/versions.js';
import { mapArtefactUrl } from '../model/artefact-url.js';

/**
 * The `registry.yaml` teams write for their own catalogs:
 *
 *   servers:
 *     - id: payments-mcp                  # the native name: entry id "<source>/payments-mcp"
 *       name: Payments                    # display name
 *       description: …
 *       tags: [finance]
 *       status: active | deprecated | disabled
 *       envs: [dev, staging, prod]         # environments it may run in
 *       sunset: 2026-12-31                 # (ours) deprecated until then
 *       message: use payments-v2           # (ours) shown with a deprecated or disabled status
 *       ownership: { team: payments, contact: payments@corp.example }
 *       governance: { approved_by: alice, approved_at: 2026-01-10, risk: medium, data_access: pii, prod_allowed: false }
 *       versions:
 *         - version: 1.2.0
 *           released_at: 2026-01-10
 *           transport: { type: streamable-http, url: https://payments.corp.example/mcp }   # or sse
 *         - version: 1.3.0
 *           transport: { type: stdio, url: oci://registry.corp.example/payments-mcp:1.3.0, sha256: <hex> }
 *       signature: { … }                   # mcp-registry sign (signing/signing.ts)
 *
 * A stdio version's `url` is an artefact URL (artefact-url.ts). Every version is kept; the latest by semver
 * (model/versions.ts) is the entry's default launch. Keys this format does not define are kept verbatim in
 * `meta["io.mcp-registry/extra"]` with a warning (validate reports them as errors).
 */

export const EXTRA_META_KEY = 'io.mcp-registry/extra';

const Str = z.string();
const DateText = z.string().regex(/^\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/, 'a date such as 2026-01-31 (or an ISO 8601 time)');
const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date such as 2026-12-31');

/** The format's schema; `strict` (validate) refuses unknown keys and values outside the documented sets. */
export function registryYamlSchemas(strict: boolean) {
  const obj = strict ? z.strictObject : z.looseObject;
  const dateish = strict ? DateText : Str;
  const Transport = obj({
    type: z.enum(['sse', 'streamable-http', 'stdio']),
    url: Str.min(1),
    sha256: Str.optional(),
    headers: z.record(Str, Str).optional(),
  });
  const Version = obj({
    version: Str.min(1),
    transport: Transport,
    released_at: dateish.optional(),
    status: z.enum(['active', 'deprecated', 'disabled']).optional(),
  });
  const Governance = obj({
    approved_by: Str.optional(),
    approved_at: dateish.optional(),
    risk: strict ? z.enum(['low', 'medium', 'high', 'critical']).optional() : Str.optional(),
    data_access: z.enum(['none', 'restricted', 'pii']).optional(),
    prod_allowed: z.boolean().optional(),
  });
  const Server = obj({
    id: Str.min(1).regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'an id is letters, digits, ".", "_", "-" and "/" (it becomes the entry id)'),
    name: Str.optional(),
    description: Str.optional(),
    tags: z.array(Str).optional(),
    status: z.enum(['active', 'deprecated', 'disabled']).optional(),
    envs: z.array(Str.min(1)).optional(),
    sunset: (strict ? Day : Str).optional(),
    message: Str.optional(),
    ownership: obj({ team: Str.optional(), contact: Str.optional() }).optional(),
    governance: Governance.optional(),
    versions: z.array(Version).min(1, 'list at least one version'),
    signature: z.unknown().optional(),
  });
  const File = obj({ servers: z.array(z.unknown()) });
  return { Server, Version, Transport, Governance, File };
}

const LOOSE = registryYamlSchemas(false);
export type RegistryYamlServer = z.infer<typeof LOOSE.Server>;

/** A registry.yaml document (not a server.json list): `servers[]` whose items carry `id` and `versions`. */
export function isRegistryYaml(doc: unknown): boolean {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return false;
  const servers = (doc as { servers?: unknown }).servers;
  return Array.isArray(servers) && servers.some((s) => s && typeof s === 'object' && 'id' in s && ('versions' in s || !('packages' in s || 'remotes' in s)));
}

export class CatalogRecordError extends Error {}

const SERVER_KEYS = new Set(Object.keys(LOOSE.Server.shape));

/** Keys a record holds that the format does not define, at its top level and one level down (kept, warned about). */
export function extraKeys(record: Record<string, unknown>, known: Set<string>, nested: Record<string, Set<string>> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (!known.has(k)) out[k] = v;
    else if (nested[k] && v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) if (!nested[k]!.has(k2)) out[`${k}.${k2}`] = v2;
    }
  }
  return out;
}

function describe(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`)
    .join('; ');
}

export interface RecordOptions {
  sourceUrl?: string;
  /** The signature check (file source: against its verify.keys). */
  verify?: (record: Record<string, unknown>) => Provenance;
  warn?: (message: string) => void;
}

/** One `servers[]` item → an entry with every version. Throws CatalogRecordError naming the bad field. */
export function registryYamlServerToEntry(raw: unknown, sourceName: string, opts: RecordOptions = {}): Entry {
  const parsed = LOOSE.Server.safeParse(raw);
  if (!parsed.success) {
    const id = raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? `"${(raw as { id: string }).id}"` : '(no id)';
    throw new CatalogRecordError(`server ${id}: ${raw === null || typeof raw !== 'object' ? 'is not a mapping' : describe(parsed.error)}`);
  }
  const s = parsed.data;
  const record = raw as Record<string, unknown>;
  const versions: EntryVersion[] = [];
  const problems: string[] = [];
  for (const v of s.versions) {
    const launch: EntryInput['launch'] = [];
    const artefacts: ArtefactDigest[] = [];
    const t = v.transport;
    if (t.type === 'stdio') {
      const m = mapArtefactUrl(t.url, t.sha256);
      if (m.problem) problems.push(`version ${v.version}: ${m.problem}`);
      if (m.launch) launch.push(m.launch);
      if (m.artefact) artefacts.push(m.artefact);
    } else {
      const headers = Object.entries(t.headers ?? {}).map(([name, value]) => ({ name, value }));
      launch.push({ type: 'remote', url: t.url, transport: t.type, ...(headers.length ? { headers } : {}) });
    }
    versions.push({
      version: String(v.version),
      ...(v.released_at ? { releasedAt: String(v.released_at) } : {}),
      ...(v.status ? { status: v.status } : {}),
      launch: launch as EntryVersion['launch'],
      ...(artefacts.length ? { artefacts } : {}),
    });
  }
  for (const p of problems) opts.warn?.(`server "${s.id}": ${p}`);
  const sorted = sortVersions(versions);
  const latest = latestVersion(sorted)!;
  const extra = extraKeys(record, SERVER_KEYS, {
    ownership: new Set(['team', 'contact']),
    governance: new Set(Object.keys(LOOSE.Governance.shape)),
  });
  if (Object.keys(extra).length) opts.warn?.(`server "${s.id}": keys this format does not define, kept as they are: ${Object.keys(extra).join(', ')}`);
  const g = s.governance;
  const governance = {
    owner: s.ownership?.team,
    contact: s.ownership?.contact,
    approvedBy: g?.approved_by,
    approvedAt: g?.approved_at === undefined ? undefined : String(g.approved_at),
    risk: g?.risk,
    dataAccess: g?.data_access,
    prodAllowed: g?.prod_allowed,
  };
  const id = `${sourceName}/${s.id}`;
  return normalizeEntry({
    id,
    nativeName: s.id,
    name: s.name?.trim() || s.id,
    description: s.description ?? '',
    tags: s.tags ?? [],
    version: latest.version,
    publishedAt: latest.releasedAt,
    updatedAt: latest.releasedAt,
    status: s.status === 'deprecated' ? 'deprecated' : undefined,
    sources: [{ source: sourceName, id, ...(opts.sourceUrl ? { url: opts.sourceUrl } : {}) }],
    dynamicTools: true,
    launch: latest.launch,
    versions: sorted,
    ...(latest.artefacts ? { artefacts: latest.artefacts } : {}),
    ...(Object.values(governance).some((v) => v !== undefined) ? { governance: dropUndefined(governance) } : {}),
    ...(s.status || s.envs || s.sunset || s.message
      ? { lifecycle: dropUndefined({ status: s.status ?? 'active', envs: s.envs, sunset: s.sunset, message: s.message }) }
      : {}),
    ...(Object.keys(extra).length ? { meta: { [EXTRA_META_KEY]: extra } } : {}),
    ...(opts.verify ? { provenance: opts.verify(record) } : {}),
  });
}

export function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A whole registry.yaml document → entries; a bad server is a warning, never the end of the file. */
export function registryYamlToEntries(doc: unknown, sourceName: string, file: string, opts: Omit<RecordOptions, 'sourceUrl'> & { warn: (m: string) => void }): Entry[] {
  const servers = (doc as { servers: unknown[] }).servers;
  const out: Entry[] = [];
  servers.forEach((raw, i) => {
    try {
      out.push(registryYamlServerToEntry(raw, sourceName, { ...opts, sourceUrl: file, warn: (m) => opts.warn(`${file}: ${m}`) }));
    } catch (err) {
      if (!(err instanceof CatalogRecordError) && !(err instanceof z.ZodError)) throw err;
      opts.warn(`${file}: servers[${i}]: ${err instanceof z.ZodError ? describe(err) : err.message}; skipped`);
    }
  });
  return out;
}
