import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  credentialWarning,
  looksLikeCredential,
  maskCredentials,
  redactDeep,
  redactKnown,
  redactResult,
  scanForCredentials,
  SecretSet,
} from '../../src/governance/secret-scan.js';
import { pemBundle, pemLines } from '../helpers/secrets.js';

// Token-shaped test values are assembled at run time, so no scanner mistakes this file for a leak.
const rep = (s: string, n: number) => s.repeat(Math.ceil(n / s.length)).slice(0, n);
const GH = 'ghp' + '_' + rep('aB3dE5fG7h', 36);
const GH_PAT = 'github' + '_pat_' + rep('11ABCDEFG0_xyz', 82);
const AWS_ID = 'AKIA' + 'IOSFODNN7EXAMPLE';
const AWS_SECRET = rep('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 40);
const SLACK = 'xoxb' + '-1234567890-0987654321-' + rep('AbCdEf', 24);
const OPENAI = 'sk' + '-proj-' + rep('T3BlbkFJ_abc', 48);
const ANTHROPIC = 'sk' + '-ant-api03-' + rep('Zz9_Yy8-', 40);
const STRIPE = 'sk' + '_live_' + rep('51HxYzAbC', 24);
const GOOGLE = 'AIza' + rep('SyD-9tSrke72PouQMnMX', 35);
const JWT = ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9', 'eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ', 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'].join('.');
const PEM = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MaqN', '-----END RSA PRIVATE KEY-----'].join('\n');

describe('redactKnown', () => {
  it('replaces every occurrence of every known value, naming the secret when names are given', () => {
    const text = `token ${GH} again ${GH}; db password hunter2hunter2 end`;
    expect(redactKnown(text, { GITHUB_TOKEN: GH, DB_PASSWORD: 'hunter2hunter2' })).toBe(
      'token [REDACTED:GITHUB_TOKEN] again [REDACTED:GITHUB_TOKEN]; db password [REDACTED:DB_PASSWORD] end',
    );
    expect(redactKnown(text, [GH])).toBe('token [REDACTED] again [REDACTED]; db password hunter2hunter2 end');
  });

  it('skips values too short to redact safely, and leaves text without secrets untouched', () => {
    const text = 'the user id is 42 and the answer is yes';
    expect(redactKnown(text, { ID: '42', ANSWER: 'yes', EMPTY: '' })).toBe(text);
    expect(redactKnown(text, [])).toBe(text);
  });

  it('a secret containing another is replaced whole (longest first)', () => {
    const short = 'abcdef123';
    const long = 'abcdef123-and-more';
    expect(redactKnown(`${long} / ${short}`, { SHORT: short, LONG: long })).toBe('[REDACTED:LONG] / [REDACTED:SHORT]');
  });

  it('catches the encodings a server echoes a value in: JSON-escaped, URL-encoded, base64', () => {
    const secret = 'p@ss "word"/with+chars';
    const json = JSON.stringify({ echoed: secret });
    expect(redactKnown(json, { PW: secret })).toBe('{"echoed":"[REDACTED:PW]"}');
    expect(redactKnown(`https://x.test/?key=${encodeURIComponent(secret)}`, { PW: secret })).toBe('https://x.test/?key=[REDACTED:PW]');
    expect(redactKnown(`Basic ${Buffer.from(secret).toString('base64')}`, { PW: secret })).toBe('Basic [REDACTED:PW]');
  });

  it('regular-expression characters in secrets are literal', () => {
    const s = 'a.b*c+d?e(f)[g]{h}|i^$\\';
    expect(redactKnown(`x ${s} y aXb`, [s])).toBe('x [REDACTED] y aXb');
  });

  it('compiles once per value set: thousands of calls with hundreds of secrets stay cheap', () => {
    const values = Array.from({ length: 300 }, (_, i) => `secret-value-${i}-${rep('q', 20)}`);
    const set = SecretSet.from(values);
    expect(set.size).toBe(300);
    const text = `header ${values[250]} middle ${values[3]} tail`;
    expect(set.redact(text)).toBe('header [REDACTED] middle [REDACTED] tail');
    expect(set.has(text)).toBe(true);
    expect(set.has('nothing here')).toBe(false);
  });
});

describe('big and many secrets (issue 9.5)', () => {
  const PEM_30K = pemBundle(30_000);
  const leaks = (out: string, pem: string) => pemLines(pem).filter((l) => l.length >= 16 && out.includes(l));

  it('a 30 KB PEM secret is redacted raw, JSON-escaped, URL-encoded, base64, line by line with CRLF and re-indented', () => {
    const set = SecretSet.from({ CA: PEM_30K });
    const crlf = PEM_30K.replace(/\n/g, '\r\n');
    const indented = PEM_30K.split('\n').map((l) => `    ${l}`).join('\n');
    const text = [PEM_30K, JSON.stringify({ ca: PEM_30K }), encodeURIComponent(PEM_30K), Buffer.from(PEM_30K).toString('base64'), crlf, indented].join('\n--\n');
    const out = set.redact(text);
    expect(leaks(out, PEM_30K)).toEqual([]);
    expect(out.split('\n--\n').slice(0, 4)).toEqual(['[REDACTED:CA]', '{"ca":"[REDACTED:CA]"}', '[REDACTED:CA]', '[REDACTED:CA]']);
    // Echoed line by line: each key line goes, the armour lines (the same in every PEM file) stay.
    expect(out).toContain('-----BEGIN CERTIFICATE-----\r\n[REDACTED:CA]\r\n[REDACTED:CA]');
    expect(out).toContain('    -----BEGIN CERTIFICATE-----\n    [REDACTED:CA]\n');
    expect(set.has(pemLines(PEM_30K)[7]!)).toBe(true);
  });

  it('a 30 KB PEM secret inside a tool result: text, structuredContent, a base64 blob of a JSON document holding it', () => {
    const blob = Buffer.from(JSON.stringify({ kubeconfig: { ca: PEM_30K } })).toString('base64');
    const result: CallToolResult = {
      content: [
        { type: 'text', text: `loaded ${PEM_30K}` },
        { type: 'resource', resource: { uri: 'file:///ca.json', mimeType: 'application/json', blob } },
      ],
      structuredContent: { ca: PEM_30K, lines: pemLines(PEM_30K) },
    };
    const out = redactResult(result, { CA: PEM_30K });
    const decoded = Buffer.from((out.content[1] as { resource: { blob: string } }).resource.blob, 'base64').toString();
    expect(decoded).toBe('{"kubeconfig":{"ca":"[REDACTED:CA]"}}');
    expect(leaks(JSON.stringify(out) + decoded, PEM_30K)).toEqual([]);
    expect((out.structuredContent as { lines: string[] }).lines.every((l) => l === '[REDACTED:CA]' || l.length < 16)).toBe(true);
  });

  it('short lines and PEM armour lines of a multi-line secret are not redacted on their own', () => {
    const kubeconfig = `apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: ${rep('kT0k3n', 40)}\n`;
    const set = SecretSet.from({ KUBE: kubeconfig, CA: PEM_30K });
    const other = 'apiVersion: v1\nkind: Config\n-----BEGIN CERTIFICATE-----\nMIIB (another, public certificate)\n-----END CERTIFICATE-----';
    expect(set.redact(other)).toBe(other);
    expect(set.redact(`token: ${rep('kT0k3n', 40)}`)).toBe('[REDACTED:KUBE]');
  });

  it('1,000 secrets: every one is found, and the cost per character does not grow with their number', () => {
    // Random, like real tokens: no shared prefix a regex engine could use to skip ahead.
    const secrets = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`S${i}`, randomBytes(18 + (i % 10)).toString('base64url')]));
    const many = SecretSet.from(secrets);
    const few = SecretSet.from(Object.fromEntries(Object.entries(secrets).slice(0, 10)));
    const all = Object.values(secrets).join(' | ');
    expect(many.redact(all)).toBe(Object.keys(secrets).map((k) => `[REDACTED:${k}]`).join(' | '));
    // Mostly text without secrets, as real results are; a few secrets in it.
    const text = `${'lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(20_000)} ${secrets.S3} ${secrets.S999}`;
    const best = (set: SecretSet) => Math.min(...Array.from({ length: 7 }, () => {
      const t0 = performance.now();
      set.redact(text);
      return performance.now() - t0;
    }));
    // The alternation regex this replaced was some 500 times slower with 1,000 secrets than with 10; linear is ~1.
    expect(best(many) / best(few)).toBeLessThan(6);
  });
});

describe('redactResult over a whole tool result', () => {
  const KEY = 'sk-test-abcdefghijklmnop';

  it('text, resource text, resource blob, image data, structuredContent (keys too), JSON with \\u escapes', () => {
    const escaped = KEY.split('').map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const result: CallToolResult = {
      content: [
        { type: 'text', text: `Your key is ${KEY}.` },
        { type: 'resource', resource: { uri: 'file:///env', mimeType: 'text/plain', text: `API_KEY=${KEY}\n` } },
        { type: 'resource', resource: { uri: 'file:///env.bin', mimeType: 'application/octet-stream', blob: Buffer.from(`KEY:${KEY};`).toString('base64') } },
        { type: 'image', mimeType: 'image/png', data: Buffer.concat([Buffer.from([0x89, 0x50]), Buffer.from(KEY)]).toString('base64') },
        { type: 'text', text: `{"echo":"${escaped}"}` },
      ],
      structuredContent: { env: { API_KEY: KEY }, [KEY]: 'as a key', list: [1, `x${KEY}x`] },
      isError: false,
    };
    const out = redactResult(result, { API_KEY: KEY });
    const all = JSON.stringify(out);
    expect(all).not.toContain(KEY);
    expect(all).not.toContain(escaped);
    expect(out.content[0]).toEqual({ type: 'text', text: 'Your key is [REDACTED:API_KEY].' });
    expect((out.content[1] as { resource: { text: string } }).resource.text).toBe('API_KEY=[REDACTED:API_KEY]\n');
    expect(Buffer.from((out.content[2] as { resource: { blob: string } }).resource.blob, 'base64').toString()).toBe('KEY:[REDACTED:API_KEY];');
    expect(Buffer.from((out.content[3] as { data: string }).data, 'base64').includes(Buffer.from(KEY))).toBe(false);
    expect(JSON.parse((out.content[4] as { text: string }).text)).toEqual({ echo: '[REDACTED:API_KEY]' });
    expect(out.structuredContent).toEqual({ env: { API_KEY: '[REDACTED:API_KEY]' }, '[REDACTED:API_KEY]': 'as a key', list: [1, 'x[REDACTED:API_KEY]x'] });
    // Still a valid result for the MCP client.
    expect(CallToolResultSchema.safeParse(out).success).toBe(true);
    // The input is not modified.
    expect((result.content[0] as { text: string }).text).toContain(KEY);
  });

  it('returns the very same object when nothing held a secret', () => {
    const result: CallToolResult = { content: [{ type: 'text', text: 'all clear' }], structuredContent: { n: 1 } };
    expect(redactResult(result, { API_KEY: KEY })).toBe(result);
    expect(redactDeep(result, [])).toBe(result);
  });
});

describe('looksLikeCredential', () => {
  const cases: [string, string][] = [
    ['github-token', GH],
    ['github-token', GH_PAT],
    ['aws-access-key-id', AWS_ID],
    ['slack-token', SLACK],
    ['openai-api-key', OPENAI],
    ['anthropic-api-key', ANTHROPIC],
    ['stripe-secret-key', STRIPE],
    ['google-api-key', GOOGLE],
    ['jwt', JWT],
  ];
  it.each(cases)('finds a %s in running text and previews only its prefix', (kind, token) => {
    const text = `config: ${token} (from the vault)`;
    const hits = looksLikeCredential(text);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ kind, index: 8, length: token.length });
    expect(hits[0]!.preview).toMatch(/…\(\d+ chars\)$/);
    expect(token.startsWith(hits[0]!.preview.split('…')[0]!)).toBe(true);
    expect(hits[0]!.preview.length).toBeLessThan(20);
  });

  it('PEM private keys, AWS secret keys, bearer tokens and password assignments: only the secret part', () => {
    const text = `${PEM}\naws_secret_access_key = ${AWS_SECRET}\nAuthorization: Bearer abcdefghijklmnopqrstuvwx12\nDATABASE password=Tr0ub4dor&3 and "api_key": "k3yV4lue99"`;
    const hits = looksLikeCredential(text);
    expect(hits.map((h) => h.kind)).toEqual(['private-key', 'aws-secret-access-key', 'bearer-token', 'password-assignment', 'password-assignment']);
    const parts = hits.map((h) => text.slice(h.index, h.index + h.length));
    expect(parts[1]).toBe(AWS_SECRET);
    expect(parts[2]).toBe('abcdefghijklmnopqrstuvwx12');
    expect(parts[3]).toBe('Tr0ub4dor');
    expect(parts[4]).toBe('k3yV4lue99');
  });

  it('ordinary text, placeholders and near misses are not credentials', () => {
    const benign = [
      'The quick brown fox jumps over the lazy dog; see https://github.com/owner/repo/issues/12',
      'password=******** and api_key: <your-api-key> and token=${GITHUB_TOKEN} secret: xxxxxxxx',
      'password: [REDACTED:DB_PASSWORD] and password=changeme',
      'ghp_tooshort and sk-short and AKIA123 and eyJhbGciOiJIUzI1NiJ9',
      'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'AKIAIOSFODNN7EXAMPLEXYZ is a longer word',
    ];
    for (const t of benign) expect(looksLikeCredential(t), t).toEqual([]);
  });

  it('maskCredentials replaces what the scan finds and keeps the rest', () => {
    expect(maskCredentials(`failed with ${GH} for user password=s3cretPass!`)).toBe('failed with [REDACTED:github-token] for user password=[REDACTED:password-assignment]');
    expect(maskCredentials('nothing to see')).toBe('nothing to see');
  });
});

describe('scanning arguments and results (scanSecrets: warn)', () => {
  it('names the kind and the path, never the value', () => {
    const args = { owner: 'me', body: `here is my key ${OPENAI}`, nested: { list: ['fine', `token ${SLACK}`] } };
    const found = scanForCredentials(args, 'arguments');
    expect(found.map((f) => [f.kind, f.path])).toEqual([
      ['openai-api-key', 'arguments.body'],
      ['slack-token', 'arguments.nested.list[1]'],
    ]);
    const warning = credentialWarning('registry-exec arguments of gh__create_issue', args)!;
    expect(warning).toContain('2 possible credentials');
    expect(warning).toContain('openai-api-key at body');
    expect(warning).not.toContain(OPENAI);
    expect(warning).not.toContain(SLACK.slice(8));
    expect(credentialWarning('result', { content: [{ type: 'text', text: 'hello' }] })).toBeUndefined();
  });

  it('bounds the work on huge values', () => {
    const huge = 'a'.repeat(2_000_000) + ` ${GH}`;
    expect(scanForCredentials({ huge })).toEqual([]);
    expect(scanForCredentials({ huge }, '', 3_000_000)).toHaveLength(1);
  });
});
