// Governance costs on the hot paths, each beside a baseline in the same run:
//  - audit: one record (shape, scrub, O_APPEND write) vs a bare fs.appendFile of a line of the same size;
//  - redaction of a 100 KB tool result with 50 random secrets: SecretSet (one regex over each value and its JSON,
//    URL and base64 forms) vs split/join of the raw values only;
//  - the credential scan of the same text; a pin check of 50 tools (locked state update); the URL guard.
// Usage: node scripts/bench/governance.mjs   (after `npm run build`)
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const load = (p) => import(pathToFileURL(join(root, 'dist', p)).href);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timeEach(n, fn) {
  const t = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    t.push(performance.now() - t0);
  }
  return median(t);
}

export async function run(report) {
  const { AuditLog } = await load('governance/audit-log.js');
  const { SecretSet, redactResult, looksLikeCredential } = await load('governance/secret-scan.js');
  const { PinStore } = await load('governance/pins.js');
  const { StateStore } = await load('runtime/state.js');
  const { checkRemoteUrl } = await load('governance/url-guard.js');
  const dir = await mkdtemp(join(tmpdir(), 'bench-gov-'));
  try {
    const audit = new AuditLog(join(dir, 'state'), { instance: 'bench', redact: (s) => s });
    const args = { query: 'postgres tools for analytics', limit: 10, filters: { sources: ['docker', 'official'], runnable: true } };
    const line = JSON.stringify(audit.toRecord({ op: 'find', outcome: 'ok', durationMs: 3, client: 'bench', args })) + '\n';
    const plain = join(dir, 'plain.jsonl');
    const base = await timeEach(2000, () => appendFile(plain, line));
    const rec = await timeEach(2000, () => audit.write({ op: 'find', outcome: 'ok', durationMs: 3, client: 'bench', args }));
    report('audit: one record, median', rec * 1000, 'µs', base * 1000);

    // Random secrets (no shared prefix a regex engine could exploit), as real tokens are.
    const secrets = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`SECRET_${i}`, randomBytes(18 + (i % 10)).toString('base64url')]));
    const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor '.repeat(1400);
    const text = `${words.slice(0, 50_000)} ${secrets.SECRET_7} ${words.slice(0, 50_000)} ${secrets.SECRET_42}`;
    const set = SecretSet.from(secrets);
    const values = Object.values(secrets).sort((a, b) => b.length - a.length);
    const naive = (s) => values.reduce((acc, v) => (acc.includes(v) ? acc.split(v).join('[REDACTED]') : acc), s);
    const mb = text.length / 1e6;
    const tNaive = await timeEach(200, () => naive(text));
    const tSet = await timeEach(200, () => set.redact(text));
    // Baseline: split/join of the raw values only (no encodings), as src/runtime/redact.ts does.
    report('redact 100 KB, 50 secrets + encodings (baseline: raw only)', mb / (tSet / 1000), 'MB/s', mb / (tNaive / 1000));
    const result = { content: [{ type: 'text', text: 'ok: 3 rows' }], structuredContent: { rows: [{ a: 1 }, { a: 2 }, { a: 3 }] } };
    report('redactResult of a small clean result', (await timeEach(5000, () => redactResult(result, set))) * 1000, 'µs');
    report('credential scan of 100 KB', mb / ((await timeEach(100, () => looksLikeCredential(text))) / 1000), 'MB/s');

    const pins = new PinStore(new StateStore(join(dir, 'state')));
    const tools = Array.from({ length: 50 }, (_, i) => ({ name: `tool_${i}`, description: `Does thing ${i} with care. `.repeat(10), inputSchema: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } }, required: ['a'] } }));
    await pins.checkTools('bench/x', tools);
    report('pin check of 50 tools (locked state update), median', await timeEach(100, () => pins.checkTools('bench/x', tools)), 'ms');

    const resolve = async () => ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'];
    report('remote URL guard (resolver injected), median', (await timeEach(5000, () => checkRemoteUrl('https://mcp.example.com/mcp', { resolve }))) * 1000, 'µs');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run((label, value, unit = '', baseline) => console.log(`${label.padEnd(56)} ${value.toFixed(2).padStart(10)} ${unit}${baseline === undefined ? '' : `   baseline ${baseline.toFixed(2)} ${unit}`}`));
}
