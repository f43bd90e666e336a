/** `mcp-registry validate`: runs the catalog checks and prints findings as text or GitHub annotations. */
import { formatFinding, validateCatalog } from './validate-catalog.js';

/** `mcp-registry validate <file|dir> [--format text|github] [--require-signed] [--key K.pub]… [--require-governance]`. */
export async function validate(path: string, opts: { format?: string; requireSigned: boolean; requireGovernance: boolean; key?: string[]; json: boolean }): Promise<number> {
  if (!path) {
    process.stderr.write('mcp-registry validate: give a catalog file or directory, e.g. mcp-registry validate registry.yaml\n');
    return 2;
  }
  const format = opts.format ?? 'text';
  if (format !== 'text' && format !== 'github') {
    process.stderr.write(`mcp-registry validate: --format is text or github (GitHub Actions annotations), not "${format}"\n`);
    return 2;
  }
  const res = await validateCatalog(path, { requireSigned: opts.requireSigned, requireGovernance: opts.requireGovernance, keys: opts.key });
  const errors = res.findings.filter((f) => f.severity === 'error').length;
  const warnings = res.findings.length - errors;
  if (opts.json) process.stdout.write(JSON.stringify({ ok: errors === 0, errors, warnings, entries: res.entries, files: res.files, findings: res.findings }, null, 2) + '\n');
  else {
    for (const f of res.findings) process.stdout.write(formatFinding(f, format) + '\n');
    const summary = `${res.entries} entr${res.entries === 1 ? 'y' : 'ies'} in ${res.files} file${res.files === 1 ? '' : 's'}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
    process.stderr.write(`${errors ? 'mcp-registry validate: ' : ''}${summary}\n`);
  }
  return errors ? 1 : 0;
}
