/** Ordering an entry's versions: semver when both are, else dates; newest first and the latest one. */
import { compareSemver } from '../util/semver.js';
import type { Entry, EntryVersion } from './entry.js';

/**
 * Which of a server's versions is "latest": by semver precedence, never lexically (1.10.0 > 1.9.9 > 1.2.0);
 * a prerelease only when no stable release exists (as npm and pip choose by default); versions that are not
 * semver by their release date. Used by the catalog formats that list several versions of one server.
 */
export interface Versioned {
  version: string;
  releasedAt?: string;
}

const PRERELEASE = /^v?\d+\.\d+\.\d+-/;

function releaseTime(v: Versioned): number {
  const t = Date.parse(v.releasedAt ?? '');
  return Number.isFinite(t) ? t : NaN;
}

/** > 0 when `a` is newer than `b`, < 0 when older, 0 when the order cannot be told. */
export function compareVersions(a: Versioned, b: Versioned): number {
  const semver = compareSemver(a.version, b.version);
  if (semver !== null) return semver;
  const ta = releaseTime(a);
  const tb = releaseTime(b);
  if (Number.isFinite(ta) && Number.isFinite(tb)) return Math.sign(ta - tb);
  // One semver and one not, with no dates to compare: the semver one is a release by the format's own rules.
  const sa = compareSemver(a.version, a.version) !== null;
  const sb = compareSemver(b.version, b.version) !== null;
  if (sa !== sb) return sa ? 1 : -1;
  if (Number.isFinite(ta) !== Number.isFinite(tb)) return Number.isFinite(ta) ? 1 : -1;
  return 0;
}

/** Newest first; versions whose order cannot be told keep the order they were listed in. */
export function sortVersions<T extends Versioned>(versions: readonly T[]): T[] {
  return versions
    .map((v, i) => ({ v, i }))
    .sort((x, y) => compareVersions(y.v, x.v) || x.i - y.i)
    .map(({ v }) => v);
}

/** The latest of `versions` (see above), or undefined for an empty list. */
export function latestVersion<T extends Versioned>(versions: readonly T[]): T | undefined {
  const sorted = sortVersions(versions);
  return sorted.find((v) => !PRERELEASE.test(v.version.trim())) ?? sorted[0];
}

/**
 * Each kept entry with every version its source listed (`entries` holds one entry per listed version, e.g. a
 * server.json catalog with several versions of one name): `versions`, newest first, each with its own launch.
 * Entries that already carry versions (registry.yaml) keep them.
 */
export function withVersions(all: readonly Entry[], kept: Entry[]): Entry[] {
  const byId = new Map<string, Entry[]>();
  for (const e of all) if (e.version) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
  for (const e of kept) {
    if (e.versions?.length || !byId.has(e.id)) continue;
    const listed: EntryVersion[] = byId.get(e.id)!.map((v) => ({
      version: v.version!,
      ...(v.publishedAt ? { releasedAt: v.publishedAt } : {}),
      ...(v.status ? { status: v.status } : {}),
      launch: v.launch,
    }));
    e.versions = sortVersions(listed);
  }
  return kept;
}

/**
 * The entry as it runs at one of its listed versions (registry-add {id, version}): that version's launches and
 * artefact digests in place of the latest's. A problem (with the versions there are) when it lists no such version.
 */
export function entryAtVersion(entry: Entry, version: string | undefined): { entry: Entry } | { problem: string } {
  if (version === undefined || version === entry.version) return { entry };
  const listed = entry.versions ?? [];
  const v = listed.find((x) => x.version === version || x.version === version.replace(/^v(?=\d)/, ''));
  if (!v) {
    const have = listed.length ? `its catalog lists ${listed.map((x) => x.version).join(', ')}` : `its catalog lists only ${entry.version ?? 'no version'}`;
    return { problem: `${entry.id} has no version "${version}": ${have}. Pass one of those as version, or leave version out for the latest.` };
  }
  if (!v.launch.length) return { problem: `${entry.id} ${v.version} has no launch this registry can run (registry-info lists its versions).` };
  const source = entry.sources[0]?.source;
  return {
    entry: {
      ...entry,
      version: v.version,
      launch: v.launch.map((l) => ({ ...l, source: l.source ?? source })),
      ...(v.artefacts ? { artefacts: v.artefacts } : {}),
    },
  };
}
