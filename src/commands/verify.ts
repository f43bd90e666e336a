/** `mcp-registry verify`: checks every entry of a catalog against trusted public keys. */
import { loadTrustRoot, SigningError, verifyRecord, type VerifyOutcome } from '../signing/signing.js';
import { CatalogFileError, positionOf, readCatalog } from '../sources/catalog-files.js';

/** `mcp-registry verify <catalog> --key NAME.pub …`: exit 0 only when every entry verifies against those keys. */
export async function verify(path: string, opts: { key?: string[]; json: boolean }): Promise<number> {
  const fail = (msg: string, code = 1) => {
    process.stderr.write(`mcp-registry verify: ${msg}\n`);
    return code;
  };
  if (!path) return fail('give a catalog file or directory, e.g. mcp-registry verify registry.yaml --key release.pub', 2);
  if (!opts.key?.length) return fail('give the trusted public keys: --key NAME.pub (repeatable; a file name may hold *, e.g. --key "/etc/mcp-registry/keys/*.pub")', 2);
  try {
    const trust = await loadTrustRoot(opts.key);
    for (const p of trust.problems) process.stderr.write(`mcp-registry verify: ${p}\n`);
    if (!trust.keys.size) return fail('no usable public key among --key; nothing can verify');
    const catalog = await readCatalog(path);
    const results: ({ file: string; line: number; col: number; entry: string; format: string } & VerifyOutcome)[] = [];
    for (const b of catalog.bad) {
      const p = positionOf(b.doc, b.path);
      results.push({ file: b.doc.file, ...p, entry: '(not an entry)', format: 'unknown', outcome: 'bad', reason: b.message });
    }
    for (const r of catalog.records) {
      results.push({ file: r.doc.file, ...positionOf(r.doc, r.path), entry: r.label, format: r.format, ...verifyRecord(r.value, r.format, trust) });
    }
    const verified = results.filter((r) => r.outcome === 'verified').length;
    const ok = verified === results.length && results.length > 0;
    if (opts.json) process.stdout.write(JSON.stringify({ ok, verified, total: results.length, entries: results }, null, 2) + '\n');
    else {
      for (const r of results) {
        const at = `${r.file}:${r.line}:${r.col}`;
        if (r.outcome === 'verified') process.stdout.write(`${at}: ${r.entry}: verified (key ${r.keyId})\n`);
        else process.stdout.write(`${at}: ${r.entry}: ${r.outcome === 'bad' ? 'BAD SIGNATURE' : 'unsigned'}${r.reason ? ` — ${r.reason}` : ''}\n`);
      }
      process.stdout.write(`${verified} of ${results.length} entr${results.length === 1 ? 'y' : 'ies'} verified${ok ? '.' : '; sign the rest with mcp-registry sign, or fix what changed since they were signed.'}\n`);
    }
    return ok ? 0 : 1;
  } catch (err) {
    if (err instanceof SigningError || err instanceof CatalogFileError) return fail(err.message);
    throw err;
  }
}
