/** API keys: making them, their scrypt hashes and scopes, and verifying a presented key against the store. */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { ApiKeyRecord, ApiKeyStore, KeyScope } from '../store/org-stores.js';

/**
 * API keys: `mcpr_<id>_<secret>`. The id (12 characters) is public — it names the key in listings and audit
 * records; the secret (32 random bytes) is shown once and stored only as a scrypt hash (N=2^15, r=8, p=1: ~50 ms
 * and 32 MiB per try, so a stolen key file cannot be brute-forced quickly — the secret's 256 bits already make that
 * hopeless, the KDF makes a weaker future secret safe too). A key that verified is remembered for a few minutes by
 * a fast hash in memory only, so a busy client does not pay the KDF on every request; a revocation applies at once.
 */

const PREFIX = 'mcpr_';
const KEY_PATTERN = /^mcpr_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
export const KDF = { N: 2 ** 15, r: 8, p: 1 } as const;
const MAXMEM = 64 * 1024 * 1024;
const VERIFIED_TTL_MS = 5 * 60_000;
const UNKNOWN_RELOAD_MS = 50;
const RELOAD_MS = 1_000;

function scrypt(secret: string, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  const opts: ScryptOptions = { N: p.N, r: p.r, p: p.p, maxmem: MAXMEM };
  return new Promise((resolve, reject) => scryptCb(secret, salt, 32, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Scopes include the ones below them: admin ⊃ publish ⊃ read. */
export function scopeAllows(have: KeyScope, need: KeyScope): boolean {
  const rank = { read: 0, publish: 1, admin: 2 };
  return rank[have] >= rank[need];
}

/** Does this look like one of our keys (not a JWT)? */
export const isApiKey = (token: string): boolean => token.startsWith(PREFIX);

/** Make a key: the record to store and the key to show once. */
export async function newApiKey(opts: { scope: KeyScope; name?: string; groups?: string[]; expiresAt?: string; createdBy?: string; now?: Date }): Promise<{ key: string; record: ApiKeyRecord }> {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const id = [...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, KDF);
  const record: ApiKeyRecord = {
    id,
    ...(opts.name ? { name: opts.name } : {}),
    scope: opts.scope,
    ...(opts.groups?.length ? { groups: opts.groups } : {}),
    createdAt: (opts.now ?? new Date()).toISOString(),
    ...(opts.createdBy ? { createdBy: opts.createdBy } : {}),
    ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}),
    kdf: { alg: 'scrypt', ...KDF, salt: salt.toString('base64'), hash: hash.toString('base64') },
  };
  return { key: `${PREFIX}${id}_${secret}`, record };
}

export type KeyCheck = { ok: true; record: ApiKeyRecord } | { ok: false; reason: string };

/** Verifies presented keys against the store's records (reloaded when they change). */
export class ApiKeyVerifier {
  private records = new Map<string, ApiKeyRecord>();
  private loadedAt = 0;
  private loading: Promise<void> | null = null;
  private readonly verified = new Map<string, { id: string; until: number }>();

  constructor(
    private readonly store: ApiKeyStore,
    private readonly now: () => number = Date.now,
  ) {
    store.onChange(() => {
      this.loadedAt = 0;
      this.verified.clear();
    });
  }

  /** Re-read the records at most once a second (a CLI in another process may have revoked one). */
  private async current(force = false): Promise<Map<string, ApiKeyRecord>> {
    if (force || this.now() - this.loadedAt > RELOAD_MS) {
      this.loading ??= this.store
        .list()
        .then((list) => {
          this.records = new Map(list.map((r) => [r.id, r]));
          this.loadedAt = this.now();
        })
        // The database is away: the keys known so far keep working.
        .catch(() => {})
        .finally(() => (this.loading = null));
      await this.loading;
    }
    return this.records;
  }

  async check(key: string): Promise<KeyCheck> {
    const m = KEY_PATTERN.exec(key);
    if (!m) return { ok: false, reason: 'the API key is malformed (expected mcpr_<id>_<secret>, as `mcp-registry apikey create` printed it)' };
    const [, id, secret] = m as unknown as [string, string, string];
    let record = (await this.current()).get(id);
    if (!record) {
      // A key created a moment ago (by the CLI, or another replica) is not in a view up to a second old: look once more,
      // at most every UNKNOWN_RELOAD_MS, so unknown ids cannot turn every request into a store read.
      const wait = UNKNOWN_RELOAD_MS - (this.now() - this.loadedAt);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      record = (await this.current(true)).get(id);
    }
    if (!record) return { ok: false, reason: `no API key ${id} (revoked and removed, or never created here)` };
    if (record.revokedAt) return { ok: false, reason: `API key ${id} was revoked on ${record.revokedAt.slice(0, 10)}` };
    if (record.expiresAt && Date.parse(record.expiresAt) <= this.now()) return { ok: false, reason: `API key ${id} expired on ${record.expiresAt.slice(0, 10)}` };
    const fast = createHash('sha256').update(key).digest('base64url');
    const hit = this.verified.get(fast);
    if (hit && hit.id === id && hit.until > this.now()) return { ok: true, record };
    const want = Buffer.from(record.kdf.hash, 'base64');
    const got = await scrypt(secret, Buffer.from(record.kdf.salt, 'base64'), record.kdf);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return { ok: false, reason: `API key ${id}: the secret does not match` };
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(fast, { id, until: this.now() + VERIFIED_TTL_MS });
    return { ok: true, record };
  }
}
