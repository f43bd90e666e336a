/** Catalog signatures: where they live in each format, signing an entry's statement, verifying with keys. */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { open, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ArtefactDigest, Provenance } from '../model/entry.js';
import { canonicalJson } from '../util/canonical-json.js';

/**
 * Signed catalog entries: Ed25519 (node:crypto), no key material in any catalog.
 *
 * WHAT IS SIGNED — the "statement" of one catalog record, as canonical JSON (canonicalJson: object keys sorted at
 * every level, arrays in order, no whitespace, undefined dropped):
 *
 *   {"artefacts":[…],"entry":<the record without its signature>,"format":"server.json"|"registry.yaml"|"servers-dir",
 *    "keyId":"…","signedAt":"…","type":"io.mcp-registry/signed-entry/v1"}
 *
 * - `entry` is the record as parsed (JSON, or YAML 1.2 core schema), so key order, quoting, comments and layout do
 *   not matter and any change of a value does. The signature itself is removed first: server.json records keep it in
 *   `_meta["io.mcp-registry/signature"]` (of the server object, also inside a `{server, _meta}` envelope; a `_meta`
 *   left empty is dropped), registry.yaml servers and servers/<name>.yaml files in `signature`.
 * - `artefacts` are the digests of what the entry runs — an OCI image's manifest digest, an npm package's
 *   integrity, a wheel's or MCPB bundle's sha256 — sorted, so the launch can be checked against them on the machine
 *   that runs it (checkArtefact). The record names some of them itself (an image `@sha256:`, `fileSha256`,
 *   `artefact.sha256`); `mcp-registry sign` resolves the others.
 * - `format` and `type` keep a statement from being read as another kind of record.
 *
 * The signature block stored in the record: {alg: "ed25519", keyId, signedAt, artefacts, sig: base64}.
 * A key id is the first 16 hex digits of the SHA-256 of the public key's SPKI DER encoding.
 * Keys are checked against a trust root of public key files named by the source (`verify.keys`), never the catalog.
 */

export const SIGNATURE_META_KEY = 'io.mcp-registry/signature';
export const STATEMENT_TYPE = 'io.mcp-registry/signed-entry/v1';
export type CatalogFormat = 'server.json' | 'registry.yaml' | 'servers-dir';

export interface SignatureBlock {
  alg: 'ed25519';
  keyId: string;
  signedAt?: string;
  artefacts: ArtefactDigest[];
  sig: string;
}

export type VerifyOutcome =
  | { outcome: 'verified'; keyId: string; signedAt?: string; artefacts: ArtefactDigest[] }
  | { outcome: 'unsigned'; reason?: string; keyId?: string }
  | { outcome: 'bad'; reason: string; keyId?: string };

export class SigningError extends Error {}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---- where a signature lives ------------------------------------------------------------------------------

/** The server object of a server.json record (itself, or the `server` of a `{server, _meta}` envelope). */
function serverOf(record: Json): Json {
  return isObject(record.server) ? record.server : record;
}

/** The signature block a record carries, as written (unchecked); undefined when unsigned. */
export function signatureOf(record: unknown, format: CatalogFormat): unknown {
  if (!isObject(record)) return undefined;
  if (format === 'server.json') {
    const meta = serverOf(record)._meta;
    return isObject(meta) ? meta[SIGNATURE_META_KEY] : undefined;
  }
  return record.signature;
}

/** A copy of the record without its signature: the `entry` of the statement. */
export function withoutSignature(record: Json, format: CatalogFormat): Json {
  const copy = structuredClone(record);
  if (format !== 'server.json') {
    delete copy.signature;
    return copy;
  }
  const server = serverOf(copy);
  if (isObject(server._meta)) {
    delete server._meta[SIGNATURE_META_KEY];
    if (!Object.keys(server._meta).length) delete server._meta;
  }
  return copy;
}

/** The record with `block` as its signature (a new object; the input is left as it was). */
export function withSignature(record: Json, format: CatalogFormat, block: SignatureBlock): Json {
  const copy = structuredClone(record);
  if (format !== 'server.json') {
    copy.signature = block;
    return copy;
  }
  const server = serverOf(copy);
  server._meta = { ...(isObject(server._meta) ? server._meta : {}), [SIGNATURE_META_KEY]: block };
  return copy;
}

/** Where the signature sits inside a record, as a path (for editing a YAML document in place). */
export function signaturePath(record: Json, format: CatalogFormat): string[] {
  if (format !== 'server.json') return ['signature'];
  return isObject(record.server) ? ['server', '_meta', SIGNATURE_META_KEY] : ['_meta', SIGNATURE_META_KEY];
}

// ---- the statement ------------------------------------------------------------------------------------------

function artefactKey(a: ArtefactDigest): string {
  return [a.kind, a.ref, a.file ?? '', a.digest].join('\0');
}

export function sortArtefacts(list: readonly ArtefactDigest[]): ArtefactDigest[] {
  const seen = new Map<string, ArtefactDigest>();
  for (const a of list) {
    const clean: ArtefactDigest = { kind: a.kind, ref: a.ref, digest: a.digest, ...(a.file ? { file: a.file } : {}) };
    seen.set(artefactKey(clean), clean);
  }
  return [...seen.values()].sort((a, b) => (artefactKey(a) < artefactKey(b) ? -1 : artefactKey(a) > artefactKey(b) ? 1 : 0));
}

/** The exact bytes signed for a record (see the top of this file). */
export function statementBytes(record: Json, format: CatalogFormat, meta: { keyId: string; signedAt?: string; artefacts: readonly ArtefactDigest[] }): Buffer {
  return Buffer.from(
    canonicalJson({
      type: STATEMENT_TYPE,
      format,
      keyId: meta.keyId,
      signedAt: meta.signedAt,
      artefacts: sortArtefacts(meta.artefacts),
      entry: withoutSignature(record, format),
    }),
    'utf8',
  );
}

// ---- keys ---------------------------------------------------------------------------------------------------

export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/**
 * `keygen --out NAME`: NAME.key (PKCS#8 PEM, mode 0600, written only if absent) and NAME.pub (SPKI PEM).
 * Both are standard encodings: `openssl pkey -in NAME.key -pubout` gives NAME.pub.
 */
export async function generateKeyFiles(out: string): Promise<{ keyFile: string; pubFile: string; keyId: string }> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const keyFile = `${out}.key`;
  const pubFile = `${out}.pub`;
  const writeNew = async (file: string, text: string, mode: number) => {
    // 'wx': never overwrite a key (a lost private key cannot be recovered; a replaced one breaks every signature).
    const fh = await open(file, 'wx', mode).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') throw new SigningError(`${file} already exists; choose another --out NAME or move the old key away first`);
      throw new SigningError(`cannot write ${file}: ${err.message}`);
    });
    try {
      await fh.writeFile(text);
      await fh.chmod(mode);
    } finally {
      await fh.close();
    }
  };
  await writeNew(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
  await writeNew(pubFile, publicKey.export({ type: 'spki', format: 'pem' }) as string, 0o644);
  return { keyFile, pubFile, keyId: keyIdOf(publicKey) };
}

/** A private Ed25519 key from a PEM file (sign --key NAME.key). */
export async function readPrivateKey(file: string): Promise<KeyObject> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new SigningError(`cannot read the signing key ${file}: ${err.message}`);
  });
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch {
    throw new SigningError(`${file} is not a private key in PEM form (make one with: mcp-registry keygen --out NAME)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SigningError(`${file} is a ${key.asymmetricKeyType} key; signatures here are Ed25519 (mcp-registry keygen makes one)`);
  return key;
}

/** A public Ed25519 key from PEM text; a private key is refused (a trust root holds public keys only). */
export function parsePublicKey(text: string, file: string): KeyObject {
  if (/-----BEGIN (?:ENCRYPTED |EC |RSA )?PRIVATE KEY-----/.test(text)) {
    throw new SigningError(`${file} is a private key; a trust root holds public keys (NAME.pub) only — keep the .key where you sign`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch {
    throw new SigningError(`${file} is not a public key in PEM form (mcp-registry keygen writes NAME.pub)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SigningError(`${file} is a ${key.asymmetricKeyType} key; only Ed25519 keys verify catalog signatures`);
  return key;
}

export interface TrustRoot {
  /** key id → key */
  keys: Map<string, KeyObject>;
  /** Where each key came from (for messages). */
  files: Map<string, string>;
  /** Patterns as given, for messages ("not in the trust root (/etc/mcp-registry/keys/*.pub)"). */
  patterns: string[];
  /** Key files that could not be used; the others still count. */
  problems: string[];
  /** Changes when the set of trusted keys changes (the file source re-verifies then). */
  fingerprint: string;
}

/**
 * The trust root named by `verify.keys`: file paths, where the last path segment may hold `*` and `?`
 * (`/etc/mcp-registry/keys/*.pub`). Relative paths resolve against `baseDir`.
 */
export async function loadTrustRoot(patterns: readonly string[], baseDir = process.cwd()): Promise<TrustRoot> {
  const root: TrustRoot = { keys: new Map(), files: new Map(), patterns: [...patterns], problems: [], fingerprint: '' };
  for (const pattern of patterns) {
    const abs = resolve(baseDir, pattern);
    const dir = dirname(abs);
    const name = basename(abs);
    if (/[*?[\]]/.test(dir)) {
      root.problems.push(`verify.keys "${pattern}": only the file name may hold wildcards (e.g. /etc/mcp-registry/keys/*.pub)`);
      continue;
    }
    let files: string[];
    if (/[*?]/.test(name)) {
      const re = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
      const listing = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
        root.problems.push(`verify.keys "${pattern}": cannot list ${dir}: ${err.code === 'ENOENT' ? 'no such directory' : err.message}`);
        return undefined;
      });
      if (!listing) continue;
      files = listing.filter((d) => (d.isFile() || d.isSymbolicLink()) && re.test(d.name)).map((d) => join(dir, d.name)).sort();
      if (!files.length) root.problems.push(`verify.keys "${pattern}" matches no key files`);
    } else files = [abs];
    for (const file of files) {
      try {
        const key = parsePublicKey(await readFile(file, 'utf8'), file);
        const id = keyIdOf(key);
        root.keys.set(id, key);
        root.files.set(id, file);
      } catch (err) {
        root.problems.push(err instanceof SigningError ? err.message : `cannot read key ${file}: ${(err as Error).message}`);
      }
    }
  }
  root.fingerprint = createHash('sha256').update([...root.keys.keys()].sort().join(',')).digest('hex').slice(0, 16);
  return root;
}

/** A trust root made of keys in memory (tests; `verify --key FILE`). */
export function trustRootOf(keys: readonly KeyObject[], label = 'the given keys'): TrustRoot {
  const root: TrustRoot = { keys: new Map(), files: new Map(), patterns: [label], problems: [], fingerprint: '' };
  for (const k of keys) {
    const pub = k.type === 'private' ? createPublicKey(k) : k;
    root.keys.set(keyIdOf(pub), pub);
    root.files.set(keyIdOf(pub), label);
  }
  root.fingerprint = createHash('sha256').update([...root.keys.keys()].sort().join(',')).digest('hex').slice(0, 16);
  return root;
}

// ---- sign and verify ----------------------------------------------------------------------------------------

/** Sign one record: the signature block to store in it (withSignature / signaturePath say where). */
export function signRecord(record: Json, format: CatalogFormat, key: KeyObject, artefacts: readonly ArtefactDigest[], signedAt = new Date().toISOString()): SignatureBlock {
  const keyId = keyIdOf(key);
  const sorted = sortArtefacts(artefacts);
  const sig = edSign(null, statementBytes(record, format, { keyId, signedAt, artefacts: sorted }), key).toString('base64');
  return { alg: 'ed25519', keyId, signedAt, artefacts: sorted, sig };
}

const DIGEST_FORM = /^(?:sha256:[0-9a-f]{64}|sha512-[A-Za-z0-9+/]{86}==|sha384-[A-Za-z0-9+/]{64}|sha1-[A-Za-z0-9+/]{27}=)$/;

/** What is wrong with a signature block's shape, or undefined when it can be checked. */
export function signatureBlockProblem(block: unknown): string | undefined {
  if (!isObject(block)) return typeof block === 'string' ? 'the signature is a bare string; this registry checks {alg: ed25519, keyId, artefacts, sig} blocks written by mcp-registry sign' : 'the signature is not an object';
  if (block.alg !== 'ed25519') return `signature alg is ${JSON.stringify(block.alg)}; only "ed25519" is supported`;
  if (typeof block.keyId !== 'string' || !/^[0-9a-f]{16}$/.test(block.keyId)) return 'signature keyId is not a key id (16 hex digits)';
  if (typeof block.sig !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(block.sig)) return 'signature sig is not base64';
  if (block.signedAt !== undefined && typeof block.signedAt !== 'string') return 'signature signedAt is not a string';
  if (!Array.isArray(block.artefacts)) return 'signature artefacts is not a list';
  for (const a of block.artefacts) {
    if (!isObject(a) || typeof a.ref !== 'string' || typeof a.digest !== 'string' || !['oci', 'npm', 'pypi', 'mcpb', 'file'].includes(a.kind as string)) {
      return 'a signature artefact is not {kind: oci|npm|pypi|mcpb|file, ref, digest}';
    }
    if (!DIGEST_FORM.test(a.digest)) return `signature artefact ${a.ref}: digest "${a.digest}" is neither sha256:<64 hex> nor an npm integrity (sha512-…)`;
  }
  return undefined;
}

/** Check one record's signature against the trust root; never throws for a bad record. */
export function verifyRecord(record: unknown, format: CatalogFormat, trust: TrustRoot | undefined, sourceName?: string): VerifyOutcome {
  if (!isObject(record)) return { outcome: 'unsigned' };
  const block = signatureOf(record, format);
  if (block === undefined || block === null) return { outcome: 'unsigned' };
  const problem = signatureBlockProblem(block);
  if (problem) return { outcome: 'bad', reason: problem };
  const b = block as unknown as SignatureBlock;
  if (!trust || !trust.keys.size) {
    const where = sourceName ? `source "${sourceName}"` : 'this check';
    return { outcome: 'unsigned', keyId: b.keyId, reason: `signed with key ${b.keyId}, but ${where} names no trusted keys (verify.keys) to check it with` };
  }
  const key = trust.keys.get(b.keyId);
  if (!key) return { outcome: 'bad', keyId: b.keyId, reason: `signed with key ${b.keyId}, which is not in the trust root (${trust.patterns.join(', ')})` };
  const ok = edVerify(null, statementBytes(record, format, b), key, Buffer.from(b.sig, 'base64'));
  if (!ok) return { outcome: 'bad', keyId: b.keyId, reason: `the signature (key ${b.keyId}) does not match: the entry or its artefact digests changed after it was signed` };
  return { outcome: 'verified', keyId: b.keyId, ...(b.signedAt ? { signedAt: b.signedAt } : {}), artefacts: sortArtefacts(b.artefacts) };
}

/** A verification outcome as the entry carries it (Entry.provenance). */
export function provenanceOf(v: VerifyOutcome): Provenance {
  if (v.outcome === 'verified') return { signature: 'verified', keyId: v.keyId, ...(v.signedAt ? { signedAt: v.signedAt } : {}), artefacts: v.artefacts };
  return { signature: v.outcome, ...(v.keyId ? { keyId: v.keyId } : {}), ...(v.reason ? { reason: v.reason } : {}) };
}

// ---- at launch ----------------------------------------------------------------------------------------------

export type ArtefactCheck = { ok: true; signed: ArtefactDigest } | { ok: false; message: string };

/** `ghcr.io/x/y:1@sha256:…` and `ghcr.io/x/y:1` name one artefact; npm/pypi refs compare as written. */
function sameRef(kind: ArtefactDigest['kind'], a: string, b: string): boolean {
  if (kind !== 'oci') return a === b;
  const strip = (r: string) => r.replace(/^oci:\/\//, '').replace(/@sha256:[0-9a-f]{64}$/, '').replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
  return strip(a) === strip(b);
}

/**
 * At launch: is what is about to run (the pulled image's digest, the installed package's integrity, the bundle's
 * hash) exactly what was signed? Refusals name both digests.
 */
export function checkArtefact(provenance: Provenance | undefined, actual: ArtefactDigest, entryId: string): ArtefactCheck {
  if (provenance?.signature !== 'verified') {
    return { ok: false, message: `${entryId} has no verified signature${provenance?.reason ? ` (${provenance.reason})` : ''}; its ${actual.kind} artefact ${actual.ref} (${actual.digest}) cannot be checked` };
  }
  const candidates = (provenance.artefacts ?? []).filter((a) => a.kind === actual.kind && sameRef(a.kind, a.ref, actual.ref));
  if (!candidates.length) {
    return { ok: false, message: `${entryId}: the signature (key ${provenance.keyId}) covers no ${actual.kind} artefact ${actual.ref}; refusing to run ${actual.digest}` };
  }
  const match = candidates.find((a) => a.digest === actual.digest && (!actual.file || !a.file || a.file === actual.file));
  if (match) return { ok: true, signed: match };
  return {
    ok: false,
    message:
      `${entryId}: refused — ${actual.ref} is ${actual.digest}, but the signature (key ${provenance.keyId}) covers ` +
      `${candidates.map((a) => a.digest).join(' or ')}; the artefact was re-tagged or swapped after signing. ` +
      `Get the signed artefact back, or have the catalog re-signed for the new one.`,
  };
}
