/** The servers/<name>.yaml catalog format: its schema, finding the files, one file to one entry. */
import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { z } from 'zod';
import { normalizeEntry, type Entry, type EntryInput, type Provenance } from '../model/entry.js';
import { mapArtefactUrl } from '../model/artefact-url.js';
import { CatalogRecordError, dropUndefined, EXTRA_META_KEY, extraKeys } from './registry-yaml.js';

/**
 * A directory of `servers/<name>.yaml` files, one server each:
 *
 *   name: payments-mcp                 # the native name: entry id "<source>/payments-mcp"
 *   version: 1.3.0
 *   maintainer: payments-team@corp.example
 *   description: …
 *   scope: [payments:read, payments:refund]
 *   data_classification: confidential
 *   reviewed_at: 2026-02-01
 *   reviewers: [alice, bob]
 *   artefact: { url: oci://registry.corp.example/payments-mcp:1.3.0, sha256: <hex> }   # or https://…/x.mcpb
 *   signature: { … }                   # mcp-registry sign (signing/signing.ts)
 *
 * The artefact URL maps as in artefact-url.ts. Keys the format does not define are kept verbatim in
 * `meta["io.mcp-registry/extra"]` with a warning (validate reports them as errors).
 */

const Str = z.string();
const DateText = z.string().regex(/^\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/, 'a date such as 2026-01-31 (or an ISO 8601 time)');

export function serverFileSchema(strict: boolean) {
  const obj = strict ? z.strictObject : z.looseObject;
  return obj({
    name: Str.min(1).regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'a name is letters, digits, ".", "_", "-" and "/" (it becomes the entry id)'),
    version: Str.min(1),
    maintainer: Str.optional(),
    description: Str.optional(),
    scope: z.array(Str).optional(),
    data_classification: Str.optional(),
    reviewed_at: (strict ? DateText : Str).optional(),
    reviewers: z.array(Str).optional(),
    artefact: obj({ url: Str.min(1), sha256: Str.optional() }),
    signature: z.unknown().optional(),
  });
}

const LOOSE = serverFileSchema(false);
const KEYS = new Set(Object.keys(LOOSE.shape));

/** Keys only this format has: a YAML file holding one of them is a servers/<name>.yaml record, not server.json. */
const MARKERS = ['artefact', 'maintainer', 'reviewers', 'reviewed_at', 'data_classification', 'scope'];

export function isServerFile(doc: unknown): boolean {
  return !!doc && typeof doc === 'object' && !Array.isArray(doc) && MARKERS.some((k) => k in doc);
}

/** The `<name>.yaml` files directly in `dir` (sorted), when any is there. */
export async function serverFiles(dir: string): Promise<string[]> {
  const listing = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return listing
    .filter((d) => d.isFile() && !d.name.startsWith('.') && ['.yaml', '.yml'].includes(extname(d.name).toLowerCase()))
    .map((d) => join(dir, d.name))
    .sort();
}

export interface ServerFileOptions {
  verify?: (record: Record<string, unknown>) => Provenance;
  warn?: (message: string) => void;
}

/** One servers/<name>.yaml document → an entry. Throws CatalogRecordError naming the bad field. */
export function serverFileToEntry(raw: unknown, sourceName: string, file: string, opts: ServerFileOptions = {}): Entry {
  const parsed = LOOSE.safeParse(raw);
  if (!parsed.success) {
    const what = raw === null || typeof raw !== 'object' ? 'is not a mapping' : parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new CatalogRecordError(`${file} ${what}`);
  }
  const s = parsed.data;
  const record = raw as Record<string, unknown>;
  const stem = basename(file, extname(file));
  if (stem !== s.name && !s.name.endsWith(`/${stem}`)) opts.warn?.(`${file}: name "${s.name}" differs from the file name; the entry id uses the name`);
  const m = mapArtefactUrl(s.artefact.url, s.artefact.sha256);
  if (m.problem) opts.warn?.(`${file}: artefact: ${m.problem}`);
  const launch: EntryInput['launch'] = m.launch ? [m.launch] : [];
  const artefacts = m.artefact ? [m.artefact] : [];
  const extra = extraKeys(record, KEYS, { artefact: new Set(['url', 'sha256']) });
  if (Object.keys(extra).length) opts.warn?.(`${file}: keys this format does not define, kept as they are: ${Object.keys(extra).join(', ')}`);
  const governance = dropUndefined({
    owner: s.maintainer,
    reviewedAt: s.reviewed_at === undefined ? undefined : String(s.reviewed_at),
    reviewers: s.reviewers,
    scope: s.scope,
    dataClassification: s.data_classification,
  });
  const id = `${sourceName}/${s.name}`;
  const version = String(s.version);
  return normalizeEntry({
    id,
    nativeName: s.name,
    name: s.name.slice(s.name.lastIndexOf('/') + 1),
    description: s.description ?? '',
    version,
    sources: [{ source: sourceName, id, url: file }],
    dynamicTools: true,
    launch,
    versions: [{ version, launch: launch as never, ...(artefacts.length ? { artefacts } : {}) }],
    ...(artefacts.length ? { artefacts } : {}),
    ...(Object.keys(governance).length ? { governance } : {}),
    ...(Object.keys(extra).length ? { meta: { [EXTRA_META_KEY]: extra } } : {}),
    ...(opts.verify ? { provenance: opts.verify(record) } : {}),
  });
}

export { CatalogRecordError };
