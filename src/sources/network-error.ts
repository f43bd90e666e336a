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
  throw new SourceError(`cannot resolve ${host} (${url})`, 'this machine is offline or the url in config.yaml is wrong; the last good data is kept');
}
