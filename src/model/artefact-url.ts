/** Mapping an artefact URL to its kind and the ref it goes by in signatures and at launch, with its digest. */
import type { ArtefactDigest, EntryInput } from './entry.js';
import { imageRefProblem } from './image-ref.js';

/**
 * The artefact URLs of the catalog formats teams write (registry.yaml `transport.url` of a stdio version,
 * servers/<name>.yaml `artefact.url`) → a launch and the digest the catalog states for it:
 * - `oci://ghcr.io/acme/tool:1.2.0` → a container image (the `sha256` is its manifest digest);
 * - `https://…/tool.mcpb` → an MCPB bundle (the `sha256` is the file's);
 * - `npm:@acme/tool@1.2.0`, `pypi:acme-tool==1.2.0` → a package of that registry;
 * - any other `https://` URL → a file artefact with its hash and no launch.
 */

type LaunchInput = NonNullable<EntryInput['launch']>[number];

export interface ArtefactMapping {
  launch?: LaunchInput;
  artefact?: ArtefactDigest;
  /** What the kind of artefact is, also when the URL cannot be mapped. */
  kind?: ArtefactDigest['kind'];
  /** The ref the artefact goes by in signatures and at launch (image reference, name@version, URL). */
  ref?: string;
  problem?: string;
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** `sha256:<hex>` from a catalog's `sha256` field (bare hex or already prefixed). */
export function sha256Digest(v: string): string | undefined {
  const hex = v.trim().toLowerCase().replace(/^sha256:/, '');
  return SHA256_HEX.test(hex) ? `sha256:${hex}` : undefined;
}

export function mapArtefactUrl(url: string, sha256?: string): ArtefactMapping {
  const digest = sha256 === undefined ? undefined : sha256Digest(sha256);
  if (sha256 !== undefined && !digest) return { problem: `sha256 "${sha256}" is not 64 hex digits` };
  const u = url.trim();
  if (u.startsWith('oci://')) {
    const ref = u.slice('oci://'.length);
    const why = imageRefProblem(ref);
    if (why) return { kind: 'oci', problem: `${u}: ${why}` };
    const pinned = /@(sha256:[0-9a-f]{64})$/.exec(ref)?.[1];
    if (digest && pinned && pinned !== digest) return { kind: 'oci', ref, problem: `${u} names digest ${pinned} but sha256 says ${digest}` };
    const d = digest ?? pinned;
    return { kind: 'oci', ref, launch: { type: 'image', image: ref }, ...(d ? { artefact: { kind: 'oci', ref, digest: d } } : {}) };
  }
  const pkg = /^(npm|pypi):(.+)$/.exec(u);
  if (pkg) {
    const kind = pkg[1] as 'npm' | 'pypi';
    const spec = pkg[2]!;
    const m = kind === 'npm' ? /^(@?[^@\s]+)@([^@\s]+)$/.exec(spec) : /^([A-Za-z0-9._-]+)==([^=\s]+)$/.exec(spec);
    if (!m) return { kind, problem: `${u}: expected ${kind === 'npm' ? 'npm:<name>@<version>' : 'pypi:<name>==<version>'}` };
    return {
      kind,
      ref: spec,
      launch: { type: 'package', registryType: kind, identifier: m[1]!, version: m[2]!, transport: { type: 'stdio' } },
      ...(digest ? { artefact: { kind, ref: spec, digest } } : {}),
    };
  }
  if (/^https:\/\//i.test(u)) {
    let path: string;
    try {
      path = new URL(u).pathname;
    } catch {
      return { problem: `${u} is not a URL` };
    }
    if (path.toLowerCase().endsWith('.mcpb')) {
      return {
        kind: 'mcpb',
        ref: u,
        launch: { type: 'package', registryType: 'mcpb', identifier: u, ...(digest ? { fileSha256: digest.slice(7) } : {}), transport: { type: 'stdio' } },
        ...(digest ? { artefact: { kind: 'mcpb', ref: u, digest } } : {}),
      };
    }
    return { kind: 'file', ref: u, ...(digest ? { artefact: { kind: 'file', ref: u, digest } } : {}) };
  }
  return { problem: `${u}: an artefact URL is oci://<image>, https://<file> (an .mcpb bundle runs), npm:<name>@<version> or pypi:<name>==<version>` };
}
