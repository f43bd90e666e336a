/** `mcp-registry keygen`: writing an Ed25519 key pair for signing catalogs. */
import { resolve } from 'node:path';
import { generateKeyFiles, SigningError } from '../signing/signing.js';

/** `mcp-registry keygen --out NAME`: an Ed25519 key pair for signing catalogs. */
export async function keygen(opts: { out?: string; json: boolean }): Promise<number> {
  if (!opts.out) {
    process.stderr.write('mcp-registry keygen: give --out NAME (writes NAME.key, private, and NAME.pub), e.g. mcp-registry keygen --out release-2026\n');
    return 2;
  }
  try {
    const r = await generateKeyFiles(resolve(opts.out));
    if (opts.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else {
      process.stdout.write(
        `Wrote ${r.keyFile} (private, mode 0600) and ${r.pubFile}; key id ${r.keyId}.\n` +
          `Sign with: mcp-registry sign <catalog> --key ${r.keyFile}\n` +
          `On every machine that launches servers, install ${r.pubFile} (e.g. in /etc/mcp-registry/keys/) and name it on the source in config.yaml:\n` +
          `  verify: { keys: [/etc/mcp-registry/keys/*.pub] }\n` +
          `Keep ${r.keyFile} out of the catalog repository.\n`,
      );
    }
    return 0;
  } catch (err) {
    if (!(err instanceof SigningError)) throw err;
    process.stderr.write(`mcp-registry keygen: ${err.message}\n`);
    return 1;
  }
}
