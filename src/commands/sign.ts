/** `mcp-registry sign`: signing a catalog's entries with a key, digests resolved, the result verified. */
import { stat } from 'node:fs/promises';
import type { ArtefactDigest } from '../model/entry.js';
import { declaredArtefacts, DIGEST, resolveArtefact, ResolveError, type ArtefactNeed } from '../governance/artefacts.js';
import { keyIdOf, readPrivateKey, signaturePath, signRecord, SigningError, trustRootOf, verifyRecord } from '../signing/signing.js';
import { Podman } from '../runtime/podman/podman.js';
import { CatalogFileError, positionOf, readCatalog, setInDoc, type CatalogRecord } from '../sources/catalog-files.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export interface SignOptions {
  key?: string;
  /** `REF=DIGEST`: a digest for an artefact the catalog does not state and sign cannot look up. */
  digest?: string[];
  npmRegistry?: string;
  pypiIndex?: string;
  json: boolean;
}

const where = (r: CatalogRecord) => {
  const p = positionOf(r.doc, r.path);
  return `${r.doc.file}:${p.line}:${p.col}`;
};

/**
 * `mcp-registry sign <catalog> --key NAME.key`: sign every entry (its canonical form and its artefact digests) in
 * place. Nothing is written unless every entry can be signed; the written files are verified before sign exits.
 */
export async function sign(path: string, opts: SignOptions): Promise<number> {
  const fail = (msg: string, code = 1) => {
    process.stderr.write(`mcp-registry sign: ${msg}\n`);
    return code;
  };
  if (!path) return fail('give a catalog file or directory, e.g. mcp-registry sign registry.yaml --key release.key', 2);
  if (!opts.key) return fail('give the private key: --key NAME.key (mcp-registry keygen --out NAME makes one)', 2);
  const given = new Map<string, string[]>();
  for (const d of opts.digest ?? []) {
    // Split before the digest: a PyPI ref holds "==" and an npm integrity ends in "=", so no '=' alone tells.
    const m = /^(.+)=(sha256:[0-9a-f]{64}|sha512-[A-Za-z0-9+/]{86}==)$/.exec(d);
    const [ref, digest] = m ? [m[1]!, m[2]!] : ['', ''];
    if (!ref || !DIGEST.test(digest)) return fail(`--digest "${d}" is not REF=sha256:<64 hex> (or REF=sha512-… for an npm integrity)`, 2);
    given.set(ref, [...(given.get(ref) ?? []), digest]);
  }
  try {
    const key = await readPrivateKey(opts.key);
    const catalog = await readCatalog(path);
    const errors = catalog.bad.map((b) => {
      const p = positionOf(b.doc, b.path);
      return `${b.doc.file}:${p.line}:${p.col}: ${b.message}`;
    });
    if (!catalog.records.length && !errors.length) errors.push(`${path}: no entries to sign`);
    const podman = new Podman();
    const resolved = new Map<string, Promise<ArtefactDigest[]>>();
    const resolveOnce = (n: ArtefactNeed) => {
      const k = `${n.kind}\0${n.ref}`;
      if (!resolved.has(k)) {
        const explicit = given.get(n.ref);
        resolved.set(
          k,
          explicit
            ? Promise.resolve(explicit.map((digest) => ({ kind: n.kind, ref: n.ref, digest })))
            : resolveArtefact(n, { imageDigest: (ref) => podman.imageDigest(ref), npmRegistry: opts.npmRegistry, pypiIndex: opts.pypiIndex }),
        );
      }
      return resolved.get(k)!;
    };
    const plans: { record: CatalogRecord; artefacts: ArtefactDigest[] }[] = [];
    for (const record of catalog.records) {
      const declared = declaredArtefacts(record.value, record.format);
      const artefacts = [...declared.stated];
      const problems = [...declared.problems];
      for (const need of declared.needs) {
        try {
          artefacts.push(...(await resolveOnce(need)));
        } catch (err) {
          if (!(err instanceof ResolveError) && (err as Error).name !== 'PodmanError') throw err;
          problems.push(`${need.where}: ${(err as Error).message}`);
        }
      }
      if (problems.length) errors.push(...problems.map((p) => `${where(record)}: ${record.label}: ${p}`));
      else plans.push({ record, artefacts });
    }
    if (errors.length) {
      process.stderr.write(errors.join('\n') + '\n');
      return fail(`nothing was signed: ${errors.length} problem${errors.length === 1 ? '' : 's'} above (fix them, or give a digest with --digest REF=DIGEST)`);
    }
    const signedAt = new Date().toISOString();
    const texts = new Map<string, string>();
    const out: { label: string; file: string; artefacts: ArtefactDigest[] }[] = [];
    for (const { record, artefacts } of plans) {
      const block = signRecord(record.value, record.format, key, artefacts, signedAt);
      texts.set(record.doc.file, setInDoc(record.doc, [...record.path, ...signaturePath(record.value, record.format)], block));
      out.push({ label: record.label, file: record.doc.file, artefacts: block.artefacts });
    }
    for (const [file, text] of texts) await writeFileAtomic(file, text, (await stat(file)).mode & 0o777);
    // What was written must verify with the key's public half (a YAML round trip must not have changed a value).
    const check = await readCatalog(path);
    const trust = trustRootOf([key], opts.key);
    const broken = check.records.filter((r) => verifyRecord(r.value, r.format, trust).outcome !== 'verified');
    if (broken.length) return fail(`the written signatures of ${broken.map((r) => r.label).join(', ')} do not verify; this is a bug — please report it with the catalog file`);
    const keyId = keyIdOf(key);
    if (opts.json) process.stdout.write(JSON.stringify({ keyId, signedAt, entries: out }, null, 2) + '\n');
    else {
      for (const e of out) process.stdout.write(`signed ${e.label} (${e.artefacts.length ? e.artefacts.map((a) => `${a.ref} ${a.digest}`).join(', ') : 'no artefacts: remote only'})\n`);
      process.stdout.write(`Signed ${out.length} entr${out.length === 1 ? 'y' : 'ies'} in ${texts.size} file${texts.size === 1 ? '' : 's'} with key ${keyId}.\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof SigningError || err instanceof CatalogFileError) return fail(err.message);
    throw err;
  }
}
