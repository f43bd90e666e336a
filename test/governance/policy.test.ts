import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry } from '../../src/model/entry.js';
import { serverJsonToEntry } from '../../src/sources/server-json.js';
import { Policy } from '../../src/governance/policy.js';
import { PolicyError } from '../../src/governance/policy-file.js';
import { patternToRegExp } from '../../src/util/patterns.js';
import { planLaunch } from '../../src/runtime/launch-plan.js';
import { loadDockerEntries, type DockerEntries } from '../helpers/docker-entries.js';
import { mergedNotes, SOURCE_TYPES } from '../helpers/merged-trust.js';
import { mergeEntries } from '../../src/catalog/merge.js';
import { cliPath } from '../helpers/registry-client.js';

const sourceTypes = { docker: 'docker', official: 'official', mcpservers: 'mcpservers', internal: 'file' };
let real: DockerEntries;
let tmp: string;
beforeAll(async () => {
  real = await loadDockerEntries('policy-');
  tmp = mkdtempSync(join(tmpdir(), 'policy-test-'));
});
afterAll(() => {
  real.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
const policyFile = (text?: string) => {
  const f = join(tmp, `policy-${++n}.yaml`);
  if (text !== undefined) writeFileSync(f, text);
  return f;
};
const internalEntry = (): Entry =>
  serverJsonToEntry({ name: 'com.example/tool', description: 'our own', version: '1.0.0', remotes: [{ type: 'streamable-http', url: 'https://tools.example.com/mcp' }] }, 'internal');
const officialEntry = (): Entry =>
  serverJsonToEntry({ name: 'io.github.someone/thing', description: 'x', version: '1.0.0', packages: [{ registryType: 'oci', identifier: 'ghcr.io/someone/thing:1', transport: { type: 'stdio' } }] }, 'official');

describe('Policy defaults (no policy.yaml)', () => {
  it('allows Docker-built mcp/ images and the user\'s own file-source entries; everything else asks, with the command', async () => {
    const p = await Policy.load(policyFile(), sourceTypes);
    expect(p.exists).toBe(false);
    expect(p.decide(real.get('filesystem'))).toEqual({
      allowed: true,
      needsApproval: false,
      reason: 'Docker-built and signed image docker.io/mcp/filesystem from the Docker catalog',
      launch: { source: 'docker', sourceId: 'docker/filesystem' },
    });
    expect(p.decide(internalEntry())).toMatchObject({ allowed: true, reason: 'from your own catalog (source "internal")' });

    const gh = p.decide(real.get('github-official'));
    expect(gh).toMatchObject({ allowed: false, needsApproval: true, command: 'mcp-registry allow docker/github-official' });
    expect(gh.reason).toContain('image ghcr.io/github/github-mcp-server from docker (docker)');
    // Docker's remote servers are not images Docker built: they ask too.
    expect(p.decide(real.get('hubspot'))).toMatchObject({ allowed: false, needsApproval: true });
    expect(p.decide(officialEntry())).toMatchObject({ allowed: false, needsApproval: true, command: 'mcp-registry allow official/io.github.someone/thing' });
  });

  it('an mcp/ image only counts when the entry comes from a docker-type source', async () => {
    const p = await Policy.load(policyFile(), { docker: 'file-but-not-docker' });
    expect(p.decide(real.get('filesystem')).needsApproval).toBe(true);
  });

  it('counts of the real Docker catalog under the defaults', async () => {
    const p = await Policy.load(policyFile(), sourceTypes);
    const allowed = real.all.filter((e) => p.decide(e).allowed).length;
    // 224 of the 249 local images are under mcp/; remotes, poci and third-party images ask.
    expect(allowed).toBe(real.all.filter((e) => e.launch.some((l) => l.type === 'image' && l.image.startsWith('mcp/'))).length);
    expect(allowed).toBeGreaterThan(200);
    expect(allowed).toBeLessThan(real.all.length);
  });
});

describe('allow, deny, approvals and entries', () => {
  it('patterns: "*" spans "/", a deny always wins, aliases match too', async () => {
    const p = await Policy.load(policyFile('allow:\n  - docker/*\n  - official/io.github.someone/*\ndeny:\n  - docker/git*\n'), sourceTypes);
    expect(p.decide(real.get('hubspot'))).toMatchObject({ allowed: true, reason: expect.stringContaining('allow: "docker/*"') });
    expect(p.decide(real.get('github-official'))).toEqual({ allowed: false, needsApproval: false, reason: expect.stringContaining('deny: "docker/git*"') });
    expect(p.decide(officialEntry()).allowed).toBe(true);
    const merged = { ...internalEntry(), id: 'mcpservers/tool', aliases: ['docker/tool-x'], sources: [{ source: 'mcpservers', id: 'mcpservers/tool' }] };
    expect(p.decide(merged)).toMatchObject({ allowed: true, reason: expect.stringContaining('docker/*') });
    expect(patternToRegExp('official/io.github.foo/*').test('official/io.github.foo/bar/baz')).toBe(true);
    expect(patternToRegExp('docker/a.b').test('docker/aXb')).toBe(false);
  });

  it('a one-time approval from state allows, but never over a deny', async () => {
    const approvals = { 'docker/github-official': { approvedAt: '2026-07-01T00:00:00Z', by: 'claude-desktop' } };
    const open = await Policy.load(policyFile(), sourceTypes);
    expect(open.decide(real.get('github-official'), approvals)).toMatchObject({ allowed: true, reason: 'approved by claude-desktop at 2026-07-01T00:00:00Z' });
    const closed = await Policy.load(policyFile('deny: [docker/github-official]\n'), sourceTypes);
    expect(closed.decide(real.get('github-official'), approvals)).toMatchObject({ allowed: false, needsApproval: false });
  });

  it('entries: disabled blocks, environments restrict, deprecated warns, the most specific override wins and reaches the launch plan', async () => {
    const text = `entries:
  "docker/*":
    memory: 256m
    network: none
    pidsLimit: 64
  "docker/github-*":
    memory: 384m
  "docker/github-official":
    network: default
    cpus: 0.5
    image: ghcr.io/github/github-mcp-server@sha256:0123456745674567456745674567456745674567456745674567456745674567
    tools: [get_issue]
    status: deprecated
    message: use docker/github-remote
  "docker/hubspot":
    status: disabled
    message: not approved by legal
  "docker/filesystem":
    environments: [prod]
`;
    const p = await Policy.load(policyFile(text), sourceTypes, { environment: 'dev' });
    const gh = real.get('github-official');
    expect(p.overridesFor(gh)).toEqual({ memory: '384m', network: 'default', pidsLimit: 64, cpus: '0.5', image: 'ghcr.io/github/github-mcp-server@sha256:0123456745674567456745674567456745674567456745674567456745674567' });
    expect(p.toolsFor(gh)).toEqual(['get_issue']);
    expect(p.decide(gh)).toMatchObject({ allowed: false, needsApproval: true, warning: 'docker/github-official is deprecated by policy: use docker/github-remote' });
    expect(p.decide(real.get('hubspot'))).toEqual({ allowed: false, needsApproval: false, reason: expect.stringMatching(/disabled in .*entries\."docker\/hubspot".*not approved by legal/) });
    expect(p.decide(real.get('filesystem'))).toMatchObject({ allowed: false, needsApproval: false, reason: expect.stringContaining('only in environment prod') });
    expect((await Policy.load(p.file, sourceTypes, { environment: 'prod' })).decide(real.get('filesystem')).allowed).toBe(true);

    expect(p.visibility(real.get('hubspot'))).toEqual({ visible: false, status: 'active' });
    expect(p.visibility(gh)).toEqual({ visible: true, status: 'deprecated', statusMessage: 'use docker/github-remote' });
    expect(p.trust(real.get('ast-grep'))).toMatchObject({ status: 'allowed' });

    const r = planLaunch(gh, { settings: {}, secrets: { 'github.personal_access_token': 't' }, defaults: { memory: '1g', cpus: '2', pidsLimit: 512 }, overrides: p.overridesFor(gh) });
    expect(r.ok && r.plan).toMatchObject({ image: 'ghcr.io/github/github-mcp-server@sha256:0123456745674567456745674567456745674567456745674567456745674567', memory: '384m', cpus: '0.5', pidsLimit: 64, network: 'default' });
  });

  it('trust switches turn the defaults off', async () => {
    const p = await Policy.load(policyFile('trust:\n  dockerBuilt: false\n  fileSources: false\n'), sourceTypes);
    expect(p.decide(real.get('filesystem')).needsApproval).toBe(true);
    expect(p.decide(internalEntry()).needsApproval).toBe(true);
  });
});

describe('trust follows the launch that would start, never the merge (issue 9.1)', () => {
  const types = { ...sourceTypes, ...SOURCE_TYPES };

  it('the reproduction: our file source lists notes with a package no runner here can start, upstream the same repository with an image — the image launch is not allowed', async () => {
    const p = await Policy.load(policyFile(), types);
    const e = await mergedNotes();
    const d = p.decide(e);
    expect(d).toMatchObject({ allowed: false, needsApproval: true, command: 'mcp-registry allow upstream/notes', launch: { source: 'upstream', sourceId: 'upstream/notes' } });
    expect(d.reason).toContain('the launch that would start is image docker.io/attacker/notes:latest from upstream (docker)');
    expect(d.reason).toContain('your own catalog (source "internal") lists it too, but with no launch this registry can run, so it does not vouch for the one from "upstream"');
    expect(p.trustView(e)).toMatchObject({ status: 'needs-approval' });
  });

  it('an approval or allow rule for our own listing does not approve the upstream launch; one for the upstream listing does', async () => {
    const e = await mergedNotes();
    const p = await Policy.load(policyFile('allow: [internal/*]\n'), types);
    const viaOurs = p.decide(e, { 'internal/io.example/notes': { approvedAt: '2026-01-01T00:00:00Z', by: 'me' } });
    expect(viaOurs).toMatchObject({ allowed: false, needsApproval: true });
    expect(viaOurs.reason).toContain('allow "internal/*" names another source\'s listing of it, which does not vouch for this launch');
    // An approval recorded for the upstream id but naming another source (an approval of our launch) does not count either.
    expect(p.decide(e, { 'upstream/notes': { approvedAt: '2026-01-01T00:00:00Z', by: 'me', source: 'internal' } }).allowed).toBe(false);
    expect(p.decide(e, { 'upstream/notes': { approvedAt: '2026-01-01T00:00:00Z', by: 'me', source: 'upstream' } })).toMatchObject({ allowed: true, reason: 'approved by me at 2026-01-01T00:00:00Z' });
    const allowUpstream = await Policy.load(policyFile('allow: [upstream/notes]\n'), types);
    expect(allowUpstream.decide(e)).toMatchObject({ allowed: true, reason: expect.stringContaining('allow: "upstream/notes"') });
    // A deny names the server, whichever listing: it still wins.
    const denied = await Policy.load(policyFile('allow: [upstream/notes]\ndeny: [internal/io.example/notes]\n'), types);
    expect(denied.decide(e)).toMatchObject({ allowed: false, needsApproval: false });
  });

  it('our own runnable launch is judged by our file source; choosing the upstream one is judged by upstream', async () => {
    const p = await Policy.load(policyFile(), types);
    const e = await mergedNotes('docker.io/attacker/notes:1');
    expect(p.decide(e)).toMatchObject({ allowed: true, reason: 'from your own catalog (source "internal")', launch: { source: 'internal', sourceId: 'internal/io.example/notes' } });
    const up = p.decide(e, undefined, { source: 'upstream' });
    expect(up).toMatchObject({ allowed: false, needsApproval: true, command: 'mcp-registry allow upstream/notes' });
    expect(up.reason).toContain('your own catalog (source "internal") lists it too, with oci package docker.io/attacker/notes:1: to run that instead, call registry-add with "source": "internal"');
  });

  it('an mcp/ image counts as Docker-built only when the launch with it comes from the docker-type source', async () => {
    const p = await Policy.load(policyFile(), { docker: 'docker', official: 'official' });
    const docker = real.get('filesystem');
    const impostor = serverJsonToEntry(
      { name: 'io.example/fs', description: 'x', version: '1.0.0', packages: [{ registryType: 'oci', identifier: 'docker.io/someone/fs:1', transport: { type: 'stdio' } }], repository: { url: docker.repository!, source: 'github' } },
      'official',
    );
    const [merged] = mergeEntries(new Map([['official', [impostor]], ['docker', [docker]]]), ['official', 'docker']);
    expect(merged!.id).toBe('official/io.example/fs');
    // The default launch is official's (first in precedence): not Docker-built, whatever the docker listing has.
    expect(p.decide(merged!)).toMatchObject({ allowed: false, needsApproval: true, launch: { source: 'official' } });
    expect(p.decide(merged!, undefined, { source: 'docker' })).toMatchObject({ allowed: true, reason: 'Docker-built and signed image docker.io/mcp/filesystem from the Docker catalog' });
  });
});

describe('policy.yaml errors name the file and line', () => {
  it('invalid YAML', async () => {
    const f = policyFile('allow:\n  - docker/a\n  - [unclosed\ndeny: []\n');
    const err = await Policy.load(f, sourceTypes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as Error).message).toMatch(new RegExp(`^${f.replace(/[.]/g, '\\.')}:\\d+:\\d+: not valid YAML`));
  });

  it('a misspelt override key, with the known keys', async () => {
    const f = policyFile('# comment\nentries:\n  docker/postgres:\n    memory: 1g\n    memroy: 2g\n');
    await expect(Policy.load(f, sourceTypes)).rejects.toThrow(`${f}:5:5: entries.docker/postgres: unknown key "memroy"`);
    await expect(Policy.load(f, sourceTypes)).rejects.toThrow(/unknown key "memroy" \(known: status, message, environments, network, memory/);
  });

  it('a wrong type points at its line', async () => {
    const f = policyFile('allow: []\ndeny: docker/*\n');
    await expect(Policy.load(f, sourceTypes)).rejects.toThrow(new RegExp(`${f.replace(/[.]/g, '\\.')}:2:7: deny: `));
    const g = policyFile('entries:\n  docker/a:\n    network: host\n');
    await expect(Policy.load(g, sourceTypes)).rejects.toThrow(/:3:14: entries\.docker\/a\.network: /);
  });

  it('an image that is not an image reference is refused with what is wrong with it', async () => {
    const f = policyFile('entries:\n  docker/a:\n    image: "--privileged"\n');
    await expect(Policy.load(f, sourceTypes)).rejects.toThrow(/:3:12: entries\.docker\/a\.image: image: "--privileged" is not an image reference: it starts with "-"/);
    const g = policyFile('entries:\n  docker/a:\n    image: mcp/Postgres:1\n');
    await expect(Policy.load(g, sourceTypes)).rejects.toThrow(/"Postgres" is not a name part/);
    const ok = await Policy.load(policyFile(`entries:\n  docker/a:\n    image: mcp/postgres@sha256:${'e'.repeat(64)}\n`), sourceTypes);
    expect(ok.overridesFor({ id: 'docker/a', aliases: [] }).image).toBe(`mcp/postgres@sha256:${'e'.repeat(64)}`);
  });
});

describe('allow() / deny() edit policy.yaml', () => {
  it('keeps comments, moves an id between the lists, and is idempotent', async () => {
    const original = `# Company policy — reviewed 2026-06
allow:
  - docker/*   # Docker's catalog is fine
deny:
  - docker/github-official # until the token review
  - mcpservers/*
entries:
  "docker/postgres": { memory: 256m } # small
`;
    const f = policyFile(original);
    const p = await Policy.load(f, sourceTypes);
    expect(p.decide(real.get('github-official')).allowed).toBe(false);

    const change = await p.allow('docker/github-official');
    expect(change).toEqual({ changed: true, message: `Added "docker/github-official" to allow and removed it from deny in ${f}.` });
    const text = readFileSync(f, 'utf8');
    for (const c of ['# Company policy — reviewed 2026-06', "# Docker's catalog is fine", '# small']) expect(text).toContain(c);
    expect(p.decide(real.get('github-official')).allowed).toBe(true);
    const reloaded = await Policy.load(f, sourceTypes);
    expect(reloaded.data.allow).toEqual(['docker/*', 'docker/github-official']);
    expect(reloaded.data.deny).toEqual(['mcpservers/*']);
    expect(reloaded.data.entries['docker/postgres']).toEqual({ memory: '256m' });

    expect(await p.allow('docker/github-official')).toMatchObject({ changed: false, message: expect.stringContaining('already in allow') });
    expect((await p.allow('mcpservers/some-server')).message).toContain('deny pattern "mcpservers/*" still matches it');

    await p.deny('docker/github-official');
    expect((await Policy.load(f, sourceTypes)).decide(real.get('github-official'))).toMatchObject({ allowed: false, needsApproval: false });
  });

  it('creates a commented policy.yaml when there is none', async () => {
    const f = policyFile();
    const p = await Policy.load(f, sourceTypes);
    await p.allow('docker/github-official');
    const text = readFileSync(f, 'utf8');
    expect(text).toContain('# mcp-registry policy');
    expect(text).toContain('allow:\n  - docker/github-official\n');
    expect(p.exists).toBe(true);
  });

  it('two edits at once (two Policy objects, as two processes would hold) both land', async () => {
    const f = policyFile('allow: []\n');
    const [a, b] = await Promise.all([Policy.load(f, sourceTypes), Policy.load(f, sourceTypes)]);
    await Promise.all([a.allow('docker/one'), b.allow('docker/two'), a.deny('docker/three'), b.deny('docker/four')]);
    const d = (await Policy.load(f, sourceTypes)).data;
    expect(d.allow.sort()).toEqual(['docker/one', 'docker/two']);
    expect(d.deny.sort()).toEqual(['docker/four', 'docker/three']);
  });

  it('refuses something that is not an id', async () => {
    const p = await Policy.load(policyFile(), sourceTypes);
    await expect(p.allow('docker/a docker/b')).rejects.toThrow(PolicyError);
  });
});

describe('mcp-registry allow / deny (the built CLI)', () => {
  const run = promisify(execFile);
  it('writes policy.yaml in MCP_REGISTRY_HOME and says what it did', async () => {
    if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run "npm run build" first (npm test does it)`);
    const home = mkdtempSync(join(tmp, 'home-'));
    writeFileSync(join(home, 'config.yaml'), 'sources: []\n');
    const env = { ...process.env, MCP_REGISTRY_HOME: home };
    const a = await run(process.execPath, [cliPath, 'allow', 'docker/github-official'], { env });
    expect(a.stdout).toContain(`Added "docker/github-official" to allow in ${join(home, 'policy.yaml')}.`);
    const d = await run(process.execPath, [cliPath, 'deny', 'official/io.github.evil/*'], { env });
    expect(d.stdout).toContain('Added "official/io.github.evil/*" to deny');
    const p = await Policy.load(join(home, 'policy.yaml'), sourceTypes);
    expect(p.data).toMatchObject({ allow: ['docker/github-official'], deny: ['official/io.github.evil/*'] });

    const bad = await run(process.execPath, [cliPath, 'allow'], { env }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('give one entry id or pattern') });
  });
});
