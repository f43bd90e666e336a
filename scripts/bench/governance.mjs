// Governance costs on the hot paths, each beside a baseline in the same run:
//  - audit: one record (shape, scrub, O_APPEND write) vs a bare fs.appendFile of a line of the same size;
//  - redaction of a 100 KB tool result with 50 and with 1,000 random secrets: SecretSet (util/longest-match over each
//    value and its JSON, URL and base64 forms) vs the one alternation regex it replaced; a 30 KB PEM secret;
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
  const { StateStore } = await load('store/state.js');
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
    const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor '.repeat(1400);
    const makeSecrets = (n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`SECRET_${i}`, randomBytes(18 + (i % 10)).toString('base64url')]));
    const secrets = makeSecrets(50);
    const text = `${words.slice(0, 50_000)} ${secrets.SECRET_7} ${words.slice(0, 50_000)} ${secrets.SECRET_42}`;
    const mb = text.length / 1e6;
    // Same inputs, same run: the matcher in src/ (linear in the text for any number and size of secrets) against
    // the one alternation regex it replaced (oldRegexSet below).
    for (const n of [50, 1000]) {
      const many = n === 50 ? secrets : { ...makeSecrets(n), SECRET_7: secrets.SECRET_7, SECRET_42: secrets.SECRET_42 };
      const set = SecretSet.from(many);
      const build = await timeEach(5, () => SecretSet.from(many));
      let old;
      let oldBuild;
      try {
        // V8 compiles a regular expression on its first use: that is part of its cost.
        const compile = () => oldRegexSet(many).redact('compiled on first use');
        oldBuild = await timeEach(5, compile);
        old = oldRegexSet(many);
      } catch (err) {
        report(`redact: old regex with ${n} secrets`, 0, `fails: ${err.message.slice(-40)}`);
      }
      if (old && old.redact(text) !== set.redact(text)) throw new Error(`redaction with ${n} secrets differs from the old regex's`);
      const tSet = await timeEach(100, () => set.redact(text));
      const tOld = old ? await timeEach(100, () => old.redact(text)) : undefined;
      report(`redact 100 KB, ${n} secrets + encodings (baseline: old regex)`, mb / (tSet / 1000), 'MB/s', tOld && mb / (tOld / 1000));
      report(`compile ${n} secrets (baseline: old regex)`, build, 'ms', oldBuild);
    }
    // A 30 KB PEM bundle as one secret: the old regex could not even be compiled ("Regular expression too large").
    const pem = `-----BEGIN CERTIFICATE-----\n${randomBytes(22_500).toString('base64').match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;
    const pemText = `${words.slice(0, 30_000)} ${pem} ${JSON.stringify(pem)} ${pem.replace(/\n/g, '\r\n')}`;
    const pemSet = SecretSet.from({ CA: pem });
    let oldPem = 'compiles';
    try {
      oldRegexSet({ CA: pem }).redact('compiled on first use');
    } catch (err) {
      oldPem = /too large/.test(err.message) ? 'too large' : err.message.slice(-30);
    }
    report(`compile a 30 KB PEM secret (old regex: ${oldPem})`, await timeEach(5, () => SecretSet.from({ CA: pem })), 'ms');
    report('redact 150 KB holding it 3 times', pemText.length / 1e6 / ((await timeEach(50, () => pemSet.redact(pemText))) / 1000), 'MB/s');
    const set = SecretSet.from(secrets);
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

/**
 * The redaction SecretSet did before util/longest-match, kept here only as the benchmark's baseline: every form of
 * every value in one alternation regex, longest first. Its size is bounded (V8: "Regular expression too large" past
 * ~150 KB of pattern) and its cost per character grows with the number of secrets.
 */
function oldRegexSet(values) {
  const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const forms = new Map();
  for (const [name, v] of Object.entries(values)) {
    const json = JSON.stringify(v).slice(1, -1);
    const padded = Buffer.from(v, 'utf8').toString('base64');
    const b64 = padded.replace(/=+$/, '');
    for (const f of new Set([v, json, encodeURIComponent(v), padded, b64, b64.replace(/\+/g, '-').replace(/\//g, '_')])) {
      if (f.length >= 6 && !forms.has(f)) forms.set(f, `[REDACTED:${name}]`);
    }
  }
  const re = new RegExp([...forms.keys()].sort((a, b) => b.length - a.length).map(escapeRe).join('|'), 'g');
  return { redact: (text) => text.replace(re, (m) => forms.get(m) ?? '[REDACTED]') };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run((label, value, unit = '', baseline) => console.log(`${label.padEnd(56)} ${value.toFixed(2).padStart(10)} ${unit}${baseline === undefined ? '' : `   baseline ${baseline.toFixed(2)} ${unit}`}`));
}
