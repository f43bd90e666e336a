/** Fetch failures in words: unknown hosts, timeouts, socket errors, and Retry-After headers. */
import { errorMessage } from '../util/log.js';
import { SourceError } from './source.js';

/**
 * A host name that does not resolve will not resolve a few seconds later either (offline machine, typo in the
 * url): fail at once with what to check, instead of backing off for a minute while a first search waits.
 */
export function throwIfHostUnknown(err: unknown, url: string): void {
  const code = (err as { cause?: { code?: string } })?.cause?.code;
  if (code !== 'ENOTFOUND') return;
  const host = (() => {
    try {
      return new URL(url).hostname;
    } catch {
      return url;
    }
  })();
  throw new SourceError(`cannot resolve ${host} (${url})`, 'this machine is offline or the url in config.yaml is wrong');
}

/** What went wrong with a fetch that threw, in words: a timeout, or the socket error Node hides in `cause`. */
export function networkProblem(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: unknown };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  return `${errorMessage(err)}${e?.cause instanceof Error ? ` (${e.cause.message})` : ''}`;
}

/** A Retry-After header (seconds or an HTTP date) in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(v: string | null | undefined): number | undefined {
  if (!v) return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1_000;
  const at = Date.parse(s);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}
