import { describe, expect, it } from 'vitest';
import { compareVersions, latestVersion, sortVersions } from '../../src/model/versions.js';

const v = (version: string, releasedAt?: string) => ({ version, ...(releasedAt ? { releasedAt } : {}) });

describe('latest version by semver', () => {
  it('1.2.0, 1.10.0 and 1.9.9: 1.10.0 is the latest, never the lexically last 1.9.9', () => {
    expect(latestVersion([v('1.2.0'), v('1.10.0'), v('1.9.9')])?.version).toBe('1.10.0');
    expect(sortVersions([v('1.2.0'), v('1.10.0'), v('1.9.9')]).map((x) => x.version)).toEqual(['1.10.0', '1.9.9', '1.2.0']);
  });

  it('a prerelease is newer than the release before it but is latest only when no stable release exists', () => {
    expect(compareVersions(v('2.0.0-rc.1'), v('1.9.0'))).toBe(1);
    expect(compareVersions(v('2.0.0-rc.2'), v('2.0.0-rc.10'))).toBe(-1);
    expect(compareVersions(v('2.0.0'), v('2.0.0-rc.10'))).toBe(1);
    expect(latestVersion([v('1.9.0'), v('2.0.0-rc.1')])?.version).toBe('1.9.0');
    expect(latestVersion([v('2.0.0-rc.2'), v('2.0.0-rc.10')])?.version).toBe('2.0.0-rc.10');
  });

  it('versions that are not semver are ordered by release date', () => {
    const list = [v('2024.10', '2024-10-01'), v('2025.01', '2025-01-15'), v('2024.12', '2024-12-01')];
    expect(latestVersion(list)?.version).toBe('2025.01');
    expect(sortVersions(list).map((x) => x.version)).toEqual(['2025.01', '2024.12', '2024.10']);
  });

  it('without dates, a semver release ranks above a version that is not semver; unknown order keeps the listing order', () => {
    expect(latestVersion([v('nightly'), v('1.0.0')])?.version).toBe('1.0.0');
    expect(sortVersions([v('beta'), v('alpha')]).map((x) => x.version)).toEqual(['beta', 'alpha']);
    expect(latestVersion([])).toBeUndefined();
  });
});
