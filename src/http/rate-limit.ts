/**
 * Per-client token buckets: `burst` requests at once, refilled at `perSecond`. A full catalog sync by VS Code
 * (12k entries at 100 per page ≈ 120 requests) fits in the default burst; a client hammering the API gets 429s with
 * Retry-After. Buckets of idle clients are dropped so memory stays bounded.
 */

export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  /** Most clients tracked at once; the least recently seen are forgotten first. */
  maxClients?: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { perSecond: 50, burst: 300 };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxClients: number;

  constructor(
    private readonly opts: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(opts.perSecond > 0) || !(opts.burst >= 1)) throw new Error('rate limit: perSecond must be > 0 and burst ≥ 1');
    this.maxClients = opts.maxClients ?? 100_000;
  }

  /** 0 when the request may proceed; otherwise the seconds to wait before retrying. */
  take(client: string): number {
    const t = this.now();
    let b = this.buckets.get(client);
    if (!b) {
      if (this.buckets.size >= this.maxClients) this.prune(t);
      b = { tokens: this.opts.burst, at: t };
    } else {
      this.buckets.delete(client); // re-insert below: Map order doubles as least-recently-seen order
      b.tokens = Math.min(this.opts.burst, b.tokens + ((t - b.at) / 1000) * this.opts.perSecond);
      b.at = t;
    }
    this.buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.opts.perSecond));
  }

  /** Forget clients whose bucket is full again (they lose nothing), then the oldest if still too many. */
  prune(t = this.now()): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.opts.perSecond >= this.opts.burst) this.buckets.delete(k);
    }
    const excess = this.buckets.size - Math.floor(this.maxClients * 0.9);
    if (excess > 0) {
      let n = 0;
      for (const k of this.buckets.keys()) {
        if (n++ >= excess) break;
        this.buckets.delete(k);
      }
    }
  }
}
