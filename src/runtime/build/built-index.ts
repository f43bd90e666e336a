// Which npm and PyPI packages are built into local images already: a cached list, so registry-find can say
// "ready" or "needs a first build" for every result without a podman call per result.
import type { Entry } from '../../model/entry.js';
import { pickLaunch } from '../../model/launch-choice.js';
import { packageSpecOf } from './launch.js';

/** The list is read again after this long, in the background (and at once after a build). */
const TTL_MS = 60_000;

export interface BuiltPackage {
  kind: string;
  package: string;
  version: string;
}

/** PyPI names compare normalised (PEP 503); npm names as they are. */
function name(kind: string, pkg: string): string {
  return kind === 'pypi' ? pkg.toLowerCase().replace(/[-_.]+/g, '-') : pkg;
}
const anyVersion = (kind: string, pkg: string) => `${kind}:${name(kind, pkg)}`;
const atVersion = (kind: string, pkg: string, version: string) => `${anyVersion(kind, pkg)}@${version}`;

export class BuiltIndex {
  private keys: Set<string> | null = null;
  private at = 0;
  private loading: Promise<void> | null = null;

  constructor(private readonly list: () => Promise<BuiltPackage[]>) {}

  /**
   * Whether the package the entry's default launch builds is built: true or false once the list is known;
   * undefined for an entry that builds nothing (an image, a remote…) and before the first list has been read.
   */
  built(entry: Pick<Entry, 'id' | 'sources' | 'launch' | 'config' | 'configs'>): boolean | undefined {
    const pick = pickLaunch(entry);
    if (!pick.ok || pick.choice.launch.type !== 'package') return undefined;
    const spec = packageSpecOf(pick.choice.launch);
    if (!spec || (spec.kind !== 'npm' && spec.kind !== 'pypi')) return undefined;
    if (Date.now() - this.at > TTL_MS) void this.refresh();
    if (!this.keys) return undefined;
    // No version (or "latest"): the build resolves one, so any built version of the package is the one that runs.
    const exact = spec.version && spec.version !== 'latest' ? atVersion(spec.kind, spec.identifier, spec.version) : anyVersion(spec.kind, spec.identifier);
    return this.keys.has(exact);
  }

  /** Read the list again (after a build, or when it is older than TTL_MS); concurrent calls share one read. */
  refresh(): Promise<void> {
    this.at = Date.now();
    this.loading ??= this.list()
      .then((images) => {
        const keys = new Set<string>();
        for (const i of images) {
          keys.add(anyVersion(i.kind, i.package));
          if (i.version) keys.add(atVersion(i.kind, i.package, i.version));
        }
        this.keys = keys;
      })
      // podman unusable: nothing is known, and the results say nothing about it.
      .catch(() => {})
      .finally(() => (this.loading = null));
    return this.loading;
  }
}
