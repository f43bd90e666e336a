import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Policy } from '../../src/governance/policy.js';
import { PolicyError } from '../../src/governance/policy-file.js';
import { checkRemoteUrl } from '../../src/governance/url-guard.js';
import { loadDockerEntries, type DockerEntries } from '../helpers/docker-entries.js';

/** Issue 4's governance options in policy.yaml, on the real Docker catalog. */

const sourceTypes = { docker: 'docker', official: 'official', internal: 'file' };
let real: DockerEntries;
beforeAll(async () => {
  real = await loadDockerEntries('gov-policy-');
});
afterAll(() => real.cleanup());

const at = (iso: string) => () => Date.parse(iso);
const policy = (text: string, opts: { environment?: string; now?: () => number } = {}) => Policy.fromText(text, '/home/me/policy.yaml', sourceTypes, opts);

describe('entry lifecycle: deprecated with a sunset date, disabled, environments', () => {
  const text = `
entries:
  "docker/github-official":
    status: deprecated
    message: use docker/github-remote
    sunset: 2026-12-31
  "docker/hubspot":
    status: disabled
    message: not approved by legal
  "docker/asana":
    sunset: 2026-06-30
  "docker/filesystem":
    environments: [prod, staging]
`;

  it('a deprecated entry stays visible and allowed, with its warning and sunset date', () => {
    const p = policy(text, { now: at('2026-07-01T10:00:00Z'), environment: 'dev' });
    const gh = real.get('github-official');
    expect(p.visibility(gh)).toEqual({ visible: true, status: 'deprecated', statusMessage: 'use docker/github-remote; available until 2026-12-31' });
    expect(p.decide(gh, { 'docker/github-official': { approvedAt: '2026-07-01T00:00:00Z', by: 'me' } })).toMatchObject({
      allowed: true,
      warning: 'docker/github-official is deprecated by policy: use docker/github-remote (available until 2026-12-31)',
    });
    expect(p.trustView(gh)).toEqual({
      status: 'needs-approval',
      lifecycle: 'deprecated',
      visible: true,
      reason: expect.stringContaining('not on the allowlist'),
      warning: 'docker/github-official is deprecated by policy: use docker/github-remote (available until 2026-12-31)',
      sunset: '2026-12-31',
      message: 'use docker/github-remote',
      command: 'mcp-registry allow docker/github-official',
      environment: 'dev',
    });
  });

  it('the day after the sunset date it is hidden and never starts; on the date itself it still runs', () => {
    const asana = real.get('asana');
    const onTheDay = policy(text, { now: at('2026-06-30T23:59:00Z'), environment: 'dev' });
    expect(onTheDay.visibility(asana)).toMatchObject({ visible: true, status: 'deprecated', statusMessage: 'available until 2026-06-30' });
    const after = policy(text, { now: at('2026-07-01T00:00:00Z'), environment: 'dev' });
    expect(after.visibility(asana)).toEqual({ visible: false, status: 'active' });
    expect(after.decide(asana, { 'docker/asana': { approvedAt: 'x', by: 'me' } })).toMatchObject({ allowed: false, needsApproval: false, reason: expect.stringContaining('past its sunset date 2026-06-30') });
    expect(after.trustView(asana)).toMatchObject({ status: 'denied', lifecycle: 'disabled', visible: false, sunset: '2026-06-30' });
  });

  it('a disabled entry is hidden and refused even when allowed or approved', () => {
    const p = policy(`allow: [docker/*]\n${text}`, { environment: 'dev' });
    const hub = real.get('hubspot');
    expect(p.visibility(hub).visible).toBe(false);
    expect(p.decide(hub, { 'docker/hubspot': { approvedAt: 'x', by: 'me' } })).toMatchObject({ allowed: false, needsApproval: false, reason: expect.stringContaining('not approved by legal') });
    expect(p.trustView(hub)).toMatchObject({ status: 'denied', lifecycle: 'disabled', visible: false, message: 'not approved by legal' });
    expect(p.trustView(hub).command).toBeUndefined();
  });

  it('entries outside the configured environment are hidden; inside it they are listed normally', () => {
    const fs = real.get('filesystem');
    const dev = policy(text, { environment: 'dev' });
    expect(dev.visibility(fs).visible).toBe(false);
    expect(dev.trustView(fs)).toMatchObject({ status: 'denied', visible: false, environment: 'dev', environments: ['prod', 'staging'], reason: expect.stringContaining('allowed only in environments prod, staging') });
    const prod = policy(text, { environment: 'prod' });
    expect(prod.visibility(fs)).toEqual({ visible: true, status: 'active' });
    expect(prod.trustView(fs)).toMatchObject({ status: 'allowed', lifecycle: 'active', visible: true });
    // An entry without a rule is visible everywhere.
    expect(dev.visibility(real.get('ast-grep')).visible).toBe(true);
  });

  it('a bad sunset date is a policy error naming the line', () => {
    expect(() => policy('entries:\n  docker/x:\n    sunset: next year\n')).toThrow(/policy\.yaml:3:\d+: entries\.docker\/x\.sunset: sunset is a date such as 2026-12-31/);
    expect(() => policy('entries:\n  docker/x:\n    sunset: 2026-02-30\n')).toThrow(/sunset is not a real date/);
  });
});

describe('governance options: global values, per-entry overrides', () => {
  it('defaults when policy.yaml says nothing', () => {
    expect(policy('').governanceFor(real.get('ast-grep'))).toEqual({
      remote: { allowPrivate: false, allowHttp: false, allowHosts: [] },
      requireDigest: false,
      allowUnverifiedBundles: false,
      scanSecrets: 'off',
      destructive: 'allow',
    });
  });

  it('an entries rule overrides each option on its own; remote keys combine across patterns, allowHosts accumulate', () => {
    const p = policy(`
remote: { allowHosts: [mcp.corp.example] }
requireDigest: true
scanSecrets: warn
destructive: ask
entries:
  "docker/*":
    remote: { allowHttp: true, allowHosts: ["*.dev.example"] }
  "docker/atlassian-remote":
    remote: { allowPrivate: true }
    destructive: deny
  "docker/ast-grep":
    requireDigest: false
    scanSecrets: off
    allowUnverifiedBundles: true
`);
    expect(p.governanceFor(real.get('atlassian-remote'))).toEqual({
      remote: { allowPrivate: true, allowHttp: true, allowHosts: ['mcp.corp.example', '*.dev.example'] },
      requireDigest: true,
      allowUnverifiedBundles: false,
      scanSecrets: 'warn',
      destructive: 'deny',
    });
    expect(p.governanceFor(real.get('ast-grep'))).toEqual({
      remote: { allowPrivate: false, allowHttp: true, allowHosts: ['mcp.corp.example', '*.dev.example'] },
      requireDigest: false,
      allowUnverifiedBundles: true,
      scanSecrets: 'off',
      destructive: 'ask',
    });
    expect(p.toJSON()).toMatchObject({ remote: { allowPrivate: false, allowHttp: false, allowHosts: ['mcp.corp.example'] }, requireDigest: true, scanSecrets: 'warn', destructive: 'ask' });
  });

  it('the remote guard with an entry\'s options: a real catalog remote passes, the same entry pointed at 127.0.0.1 only when policy allows it', async () => {
    const entry = real.get('atlassian-remote');
    const url = entry.launch.find((l) => l.type === 'remote')!;
    expect(url.type === 'remote' && url.url).toBe('https://mcp.atlassian.com/v1/mcp');
    const resolve = async (h: string) => (h === 'mcp.atlassian.com' ? ['185.166.143.1'] : Promise.reject(new Error('ENOTFOUND')));
    const strict = policy('').governanceFor(entry).remote;
    expect(await checkRemoteUrl('https://mcp.atlassian.com/v1/mcp', { ...strict, resolve })).toMatchObject({ ok: true });
    expect(await checkRemoteUrl('https://127.0.0.1:8443/mcp', { ...strict, resolve })).toMatchObject({ ok: false, reason: expect.stringContaining('loopback') });
    const lenient = policy('entries:\n  docker/atlassian-remote:\n    remote: { allowPrivate: true, allowHttp: true }\n').governanceFor(entry).remote;
    expect(await checkRemoteUrl('http://127.0.0.1:8443/mcp', { ...lenient, resolve })).toMatchObject({ ok: true });
  });

  it('bad values are policy errors that list what is accepted', () => {
    expect(() => policy('destructive: sometimes\n')).toThrow('policy.yaml:1:14: destructive: Invalid option: expected one of "ask"|"allow"|"deny"');
    expect(() => policy('remote: { allowPrivat: true }\n')).toThrow(/unknown key "allowPrivat" \(known: allowPrivate, allowHttp, allowHosts\)/);
    expect(() => policy('entries:\n  docker/x:\n    remote: { hosts: [a] }\n')).toThrow(/entries\.docker\/x\.remote: unknown key "hosts" \(known: allowPrivate, allowHttp, allowHosts\)/);
    expect(() => policy('scanSecrets: loud\n')).toThrow(PolicyError);
  });
});
