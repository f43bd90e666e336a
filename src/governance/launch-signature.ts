/** Signatures at launch: an entry's signature standing, refusals, the image check and their audit records. */
import type { ArtefactDigest, Entry, Provenance } from '../model/entry.js';
import type { AuditLog } from './audit-log.js';
import { checkArtefact } from '../signing/signing.js';

/**
 * Signatures at launch, on the machine that runs the server: which signature outcome speaks for the launch that is
 * about to start, whether policy (`requireSigned`) lets it start, and whether the artefact it runs (the local
 * image's digest) is the one that was signed. Every outcome is written to the audit log (op "verify").
 *
 * A signature belongs to the record of one source: a merged entry carries the provenance of its head source (the
 * merge keeps the head's fields), so a launch taken from another source is unsigned whatever the head says.
 */

export interface SignatureStanding {
  outcome: Provenance['signature'];
  keyId?: string;
  reason?: string;
  /** The digests the verified signature covers. */
  artefacts?: ArtefactDigest[];
}

export function signatureStanding(entry: Pick<Entry, 'provenance' | 'sources'>, launchSource: string | undefined): SignatureStanding {
  const head = entry.sources[0]?.source;
  if (launchSource !== undefined && head !== undefined && launchSource !== head) {
    return { outcome: 'unsigned', reason: `the launch from source "${launchSource}" carries no signature (a signature, if any, is source "${head}"'s)` };
  }
  const p = entry.provenance;
  if (!p) return { outcome: 'unsigned', reason: `source "${head ?? '?'}" does not check signatures (only file sources with verify.keys do)` };
  return { outcome: p.signature, ...(p.keyId ? { keyId: p.keyId } : {}), ...(p.reason ? { reason: p.reason } : {}), ...(p.artefacts ? { artefacts: p.artefacts } : {}) };
}

/**
 * Why the entry may not start for its signature, or undefined: a bad signature (changed record, unknown key) never
 * starts; an unsigned one does not when policy says `requireSigned: true`. The entry is still listed (marked).
 */
export function signatureRefusal(entry: Pick<Entry, 'id' | 'provenance' | 'sources'>, launchSource: string | undefined, requireSigned: boolean): string | undefined {
  const s = signatureStanding(entry, launchSource);
  if (s.outcome === 'bad') return `its signature does not verify: ${s.reason ?? 'unknown reason'}`;
  if (s.outcome === 'unsigned' && requireSigned) {
    return `it is not signed by a trusted key${s.reason ? ` (${s.reason})` : ''}, and policy.yaml says requireSigned: true — only entries verified against the trust root (the source's verify.keys) start`;
  }
  return undefined;
}

export type ImageCheck = { ok: true; note?: string } | { ok: false; message: string };

/**
 * Is the image about to run exactly the signed one? `digest` is the local image's manifest digest (podman), or null
 * when podman knows none (an image built here and never pushed has one; a bare `podman load` may not).
 */
export function checkLaunchImage(s: SignatureStanding, entryId: string, imageRef: string, digest: string | null, requireSigned: boolean): ImageCheck {
  if (s.outcome !== 'verified') return { ok: true };
  const signedImages = (s.artefacts ?? []).filter((a) => a.kind === 'oci');
  if (!signedImages.length) {
    if (!requireSigned) return { ok: true, note: `the signature (key ${s.keyId}) covers no image; ${imageRef} runs unchecked` };
    return { ok: false, message: `${entryId}: refused — the signature (key ${s.keyId}) covers no image, so ${imageRef} cannot be checked (policy requireSigned: true). Have the catalog signed with the image's digest (mcp-registry sign).` };
  }
  if (!digest) return { ok: false, message: `${entryId}: refused — podman states no digest for ${imageRef}, so it cannot be matched with the signed ${signedImages.map((a) => a.digest).join(' or ')}. Pull the image by its signed digest.` };
  const provenance: Provenance = { signature: 'verified', ...(s.keyId ? { keyId: s.keyId } : {}), artefacts: s.artefacts };
  const r = checkArtefact(provenance, { kind: 'oci', ref: imageRef, digest }, entryId);
  if (r.ok) return { ok: true };
  // The image is not the one the signature names by reference (policy pinned another, or the catalog changed it).
  if (/covers no oci artefact/.test(r.message)) {
    return { ok: false, message: `${entryId}: refused — ${imageRef} is ${digest}, but the signature (key ${s.keyId}) covers ${signedImages.map((a) => `${a.ref} (${a.digest})`).join(', ')}` };
  }
  return { ok: false, message: r.message };
}

/**
 * Is the package a build installed (npm lockfile integrity, the wheel's sha256, the bundle's sha256) exactly the
 * signed one? `installed` is the build record's; undefined when the record predates it (the image was built by an
 * older mcp-registry), and then a signed entry cannot be checked: refused, with how to rebuild.
 */
export function checkInstalledArtefacts(s: SignatureStanding, entryId: string, kind: 'npm' | 'pypi' | 'mcpb', image: string, installed: ArtefactDigest[] | undefined, requireSigned: boolean): ImageCheck {
  if (s.outcome !== 'verified') return { ok: true };
  const signed = (s.artefacts ?? []).filter((a) => a.kind === kind);
  const covered = signed.map((a) => `${a.ref}${a.file ? ` ${a.file}` : ''} (${a.digest})`).join(', ');
  if (!signed.length) {
    if (!requireSigned) return { ok: true, note: `the signature (key ${s.keyId}) covers no ${kind} package; ${image} runs unchecked` };
    return { ok: false, message: `${entryId}: refused — the signature (key ${s.keyId}) covers no ${kind} package, so what ${image} installed cannot be checked (policy requireSigned: true). Have the catalog signed with the package's digest (mcp-registry sign).` };
  }
  if (!installed?.length) {
    return { ok: false, message: `${entryId}: refused — the build record of ${image} states no digest of what it installed (it was built by an older mcp-registry), so it cannot be matched with the signed ${covered}. Remove the image (podman rmi ${image}) so the next start rebuilds it.` };
  }
  for (const got of installed) {
    const same = signed.filter((a) => sameArtefactRef(kind, a.ref, got.ref));
    const match = same.find((a) => a.digest === got.digest && (!a.file || !got.file || a.file === got.file));
    if (match) continue;
    return {
      ok: false,
      message:
        `${entryId}: refused — the build of ${image} installed ${got.ref}${got.file ? ` ${got.file}` : ''} with digest ${got.digest}, but the signature (key ${s.keyId}) covers ${covered}; ` +
        `the package was swapped or re-published after signing. Do not run it; have the catalog re-signed if the new package is trusted.`,
    };
  }
  return { ok: true };
}

/** npm names are case-sensitive; PyPI project names compare normalised (PEP 503); a bundle by its URL. */
function sameArtefactRef(kind: string, a: string, b: string): boolean {
  if (kind !== 'pypi') return a === b;
  const norm = (r: string) => r.toLowerCase().replace(/[-_.]+(?=[^=]*==)/g, '-');
  return norm(a) === norm(b);
}

/** One verification outcome in the audit log: entry, version, key id, signature outcome and what was done. */
export function auditVerification(audit: AuditLog | undefined, entry: Pick<Entry, 'id' | 'version'>, s: SignatureStanding, outcome: 'ok' | 'refused', detail?: string): void {
  audit?.soon({
    op: 'verify',
    entry: entry.id,
    outcome,
    durationMs: 0,
    ...(entry.version ? { version: entry.version } : {}),
    ...(s.keyId ? { keyId: s.keyId } : {}),
    signature: s.outcome,
    ...(detail ? { error: detail } : s.reason && s.outcome !== 'verified' ? { error: s.reason } : {}),
  });
}

/** When policy refused an entry for its signature (bad, or unsigned under requireSigned): that outcome, audited. */
export function auditSignatureRefusal(audit: AuditLog | undefined, entry: Entry, launchSource: string | undefined, requireSigned: boolean): void {
  const why = signatureRefusal(entry, launchSource, requireSigned);
  if (why) auditVerification(audit, entry, signatureStanding(entry, launchSource), 'refused', `${entry.id} was not started: ${why}`);
}

/**
 * The check on the machine that launches it, just before the start: for a container, the local image's digest
 * against the signed one. Every launch with a signature outcome to tell (a source that checks signatures, or
 * `requireSigned`) is audited. Returns the refusal, naming both digests, or undefined to go ahead.
 */
export async function verifyAtLaunch(opts: {
  entry: Entry;
  launchSource: string | undefined;
  requireSigned: boolean;
  audit: AuditLog | undefined;
  log?: { info(msg: string): void };
  /** The image about to run: its reference and a way to read its digest. */
  image?: { ref: string; digest: () => Promise<string | null> };
  /**
   * A built package (npm, PyPI, MCPB): what its build installed. Checked instead of the image digest — the image
   * is built here, so no signature names it; the package inside it is what was signed.
   */
  built?: { kind: 'npm' | 'pypi' | 'mcpb'; image: string; installed: ArtefactDigest[] | undefined };
}): Promise<string | undefined> {
  const s = signatureStanding(opts.entry, opts.launchSource);
  // Something to tell: a signature was checked (verified or bad), or policy requires one.
  const speaks = s.outcome !== 'unsigned' || opts.requireSigned;
  if (opts.built) {
    const { kind, image, installed } = opts.built;
    const check = checkInstalledArtefacts(s, opts.entry.id, kind, image, installed, opts.requireSigned);
    if (!check.ok) {
      auditVerification(opts.audit, opts.entry, s, 'refused', check.message);
      return check.message;
    }
    if (check.note) opts.log?.info(`${opts.entry.id}: ${check.note}`);
    const said = s.outcome === 'verified' && installed?.length ? `${image} installed ${installed.map((a) => `${a.ref} (${a.digest})`).join(', ')}, as signed` : undefined;
    if (speaks) auditVerification(opts.audit, opts.entry, s, 'ok', said);
    return undefined;
  }
  if (!opts.image) {
    if (speaks) auditVerification(opts.audit, opts.entry, s, 'ok');
    return undefined;
  }
  const digest = s.outcome === 'verified' ? await opts.image.digest() : null;
  const check = checkLaunchImage(s, opts.entry.id, opts.image.ref, digest, opts.requireSigned);
  if (!check.ok) {
    auditVerification(opts.audit, opts.entry, s, 'refused', check.message);
    return check.message;
  }
  if (check.note) opts.log?.info(`${opts.entry.id}: ${check.note}`);
  if (speaks) auditVerification(opts.audit, opts.entry, s, 'ok', s.outcome === 'verified' && digest ? `${opts.image.ref} is ${digest}, as signed` : undefined);
  return undefined;
}
