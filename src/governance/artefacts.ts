/** The artefacts a catalog record names (images, packages, bundles), their digests, and looking digests up. */
import { createHash } from 'node:crypto';
import type { ArtefactDigest } from '../model/entry.js';
import { mapArtefactUrl } from '../model/artefact-url.js';
import { qualifyImageRef } from '../model/image-ref.js';
import type { CatalogFormat } from '../signing/signing.js';

/**
 * The artefacts a catalog record runs, and the digests of them it states itself: what `sign` must cover. A
 * digest the record does not state (an image by tag, an npm version) is a `need`, resolved by `resolveArtefact`
 * (or given with `sign --digest REF=DIGEST`).
 */

export interface ArtefactNeed {
  kind: ArtefactDigest['kind'];
  ref: string;
  /** Where the record names it, for messages ("packages[0]", "versions[1].transport.url"). */
  where: string;
}

export interface DeclaredArtefacts {
  stated: ArtefactDigest[];
  needs: ArtefactNeed[];
  problems: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export const DIGEST = /^(?:sha256:[0-9a-f]{64}|sha512-[A-Za-z0-9+/]{86}==)$/;

function fromUrl(out: DeclaredArtefacts, url: unknown, sha256: unknown, where: string): void {
  if (typeof url !== 'string') return;
  const m = mapArtefactUrl(url, typeof sha256 === 'string' ? sha256 : undefined);
  if (m.problem) out.problems.push(`${where}: ${m.problem}`);
  else if (m.artefact) out.stated.push(m.artefact);
  else if (m.kind && m.ref) out.needs.push({ kind: m.kind, ref: m.ref, where });
}

export function declaredArtefacts(record: Record<string, unknown>, format: CatalogFormat): DeclaredArtefacts {
  const out: DeclaredArtefacts = { stated: [], needs: [], problems: [] };
  if (format === 'servers-dir') {
    const a = record.artefact;
    if (isObject(a)) fromUrl(out, a.url, a.sha256, 'artefact');
    return out;
  }
  if (format === 'registry.yaml') {
    (Array.isArray(record.versions) ? record.versions : []).forEach((v, i) => {
      const t = isObject(v) && isObject(v.transport) ? v.transport : undefined;
      if (t?.type === 'stdio') fromUrl(out, t.url, t.sha256, `versions[${i}].transport`);
    });
    return out;
  }
  const server = isObject(record.server) ? record.server : record;
  (Array.isArray(server.packages) ? server.packages : []).forEach((p, i) => {
    if (!isObject(p) || typeof p.identifier !== 'string') return;
    const where = `packages[${i}]`;
    const version = typeof p.version === 'string' ? p.version : undefined;
    switch (p.registryType) {
      case 'oci': {
        const pinned = /@(sha256:[0-9a-f]{64})$/.exec(p.identifier)?.[1];
        if (pinned) out.stated.push({ kind: 'oci', ref: p.identifier, digest: pinned });
        else out.needs.push({ kind: 'oci', ref: p.identifier, where });
        break;
      }
      case 'npm':
        out.needs.push({ kind: 'npm', ref: version ? `${p.identifier}@${version}` : p.identifier, where });
        break;
      case 'pypi':
        out.needs.push({ kind: 'pypi', ref: version ? `${p.identifier}==${version}` : p.identifier, where });
        break;
      case 'mcpb':
        if (typeof p.fileSha256 === 'string' && /^[0-9a-f]{64}$/.test(p.fileSha256)) out.stated.push({ kind: 'mcpb', ref: p.identifier, digest: `sha256:${p.fileSha256}` });
        else out.needs.push({ kind: 'mcpb', ref: p.identifier, where });
        break;
      default:
        out.needs.push({ kind: 'file', ref: `${String(p.registryType)}:${p.identifier}${version ? `@${version}` : ''}`, where });
    }
  });
  return out;
}

// ---- resolving digests (sign) -----------------------------------------------------------------------------

export interface ResolveOptions {
  /** `podman image inspect` of a local image (Podman.imageDigest). */
  imageDigest?: (ref: string) => Promise<string | null>;
  npmRegistry?: string;
  pypiIndex?: string;
  fetch?: typeof fetch;
}

export class ResolveError extends Error {}

async function getJson(f: typeof fetch, url: string): Promise<unknown> {
  const res = await f(url, { headers: { accept: 'application/json' } }).catch((err: Error) => {
    throw new ResolveError(`cannot reach ${url}: ${err.message}`);
  });
  if (!res.ok) throw new ResolveError(`${url} answered HTTP ${res.status}`);
  return res.json();
}

/** The digests of one artefact, looked up where it is published (or, for an image, in the local image store). */
export async function resolveArtefact(need: ArtefactNeed, opts: ResolveOptions = {}): Promise<ArtefactDigest[]> {
  const f = opts.fetch ?? fetch;
  switch (need.kind) {
    case 'oci': {
      if (!opts.imageDigest) throw new ResolveError(`image ${need.ref}: no podman to read its digest from`);
      const d = await opts.imageDigest(qualifyImageRef(need.ref));
      if (!d) throw new ResolveError(`image ${need.ref} is not in the local image store: pull it first (podman pull ${qualifyImageRef(need.ref)}), or give --digest ${need.ref}=sha256:…`);
      return [{ kind: 'oci', ref: need.ref, digest: d }];
    }
    case 'npm': {
      const m = /^(@?[^@]+)@(.+)$/.exec(need.ref);
      if (!m) throw new ResolveError(`npm package ${need.ref} names no version; sign covers one exact version`);
      const base = (opts.npmRegistry ?? 'https://registry.npmjs.org').replace(/\/+$/, '');
      const doc = (await getJson(f, `${base}/${m[1]!.replace('/', '%2f')}/${encodeURIComponent(m[2]!)}`)) as { dist?: { integrity?: unknown } };
      const integrity = doc?.dist?.integrity;
      if (typeof integrity !== 'string' || !DIGEST.test(integrity)) throw new ResolveError(`npm package ${need.ref}: the registry states no sha512 integrity`);
      return [{ kind: 'npm', ref: need.ref, digest: integrity }];
    }
    case 'pypi': {
      const m = /^([^=]+)==(.+)$/.exec(need.ref);
      if (!m) throw new ResolveError(`pypi package ${need.ref} names no version; sign covers one exact version`);
      const base = (opts.pypiIndex ?? 'https://pypi.org').replace(/\/+$/, '');
      const doc = (await getJson(f, `${base}/pypi/${encodeURIComponent(m[1]!)}/${encodeURIComponent(m[2]!)}/json`)) as { urls?: { filename?: unknown; digests?: { sha256?: unknown } }[] };
      const files = (doc?.urls ?? []).filter((u) => typeof u.filename === 'string' && typeof u.digests?.sha256 === 'string');
      if (!files.length) throw new ResolveError(`pypi package ${need.ref}: the index lists no files with sha256 digests`);
      return files.map((u) => ({ kind: 'pypi' as const, ref: need.ref, file: u.filename as string, digest: `sha256:${u.digests!.sha256 as string}` }));
    }
    case 'mcpb':
    case 'file': {
      if (!/^https:\/\//i.test(need.ref)) throw new ResolveError(`${need.ref}: give its digest with --digest ${need.ref}=sha256:…`);
      const res = await f(need.ref).catch((err: Error) => {
        throw new ResolveError(`cannot download ${need.ref}: ${err.message}`);
      });
      if (!res.ok || !res.body) throw new ResolveError(`${need.ref} answered HTTP ${res.status}`);
      const h = createHash('sha256');
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) h.update(chunk);
      return [{ kind: need.kind, ref: need.ref, digest: `sha256:${h.digest('hex')}` }];
    }
  }
}
