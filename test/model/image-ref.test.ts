import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { stringify as toYaml } from 'yaml';
import { dockerHubPath, imageRefProblem, parseImageRef, qualifyImageRef } from '../../src/model/image-ref.js';
import { Podman } from '../../src/runtime/podman/podman.js';
import { makeHome, startRegistry } from '../helpers/registry-client.js';
import { requirePodman, TINY_IMAGE } from '../helpers/podman.js';

/**
 * Image references (issue 9.4, 10.1): only what the OCI/Docker grammar allows reaches podman, and short names mean
 * what they mean to Docker — podman on Debian has no registry for them, and its local lookup matches any image
 * whose name merely ends the same way.
 */

describe('the reference grammar', () => {
  it('takes registry host and port, path, tag and digest apart', () => {
    const D = `sha256:${'ab'.repeat(32)}`;
    expect(parseImageRef('mcp/postgres')).toEqual({ domain: '', path: 'mcp/postgres' });
    expect(parseImageRef('alpine:3.20')).toEqual({ domain: '', path: 'alpine', tag: '3.20' });
    expect(parseImageRef(`ghcr.io/github/github-mcp-server:v1@${D}`)).toEqual({ domain: 'ghcr.io', path: 'github/github-mcp-server', tag: 'v1', digest: D });
    expect(parseImageRef('localhost:5000/team/tool:2')).toEqual({ domain: 'localhost:5000', path: 'team/tool', tag: '2' });
    expect(parseImageRef('localhost/mcp-registry-test/tiny:1')).toEqual({ domain: 'localhost', path: 'mcp-registry-test/tiny', tag: '1' });
    expect(parseImageRef('[::1]:5000/x')).toEqual({ domain: '[::1]:5000', path: 'x' });
    expect(parseImageRef('a__b/c-d.e_f---g')).toEqual({ domain: '', path: 'a__b/c-d.e_f---g' });
  });

  it('refuses what is not a reference, saying which part is wrong — an option above all', () => {
    const cases: [string, RegExp][] = [
      ['--privileged', /starts with "-" \(it would be read as an option\)/],
      ['-v', /starts with "-"/],
      ['', /is empty/],
      ['mcp/post gres', /white space/],
      ['mcp/Postgres', /"Postgres" is not a name part/],
      ['mcp//postgres', /empty part/],
      ['mcp/postgres/', /empty part/],
      ['mcp/postgres:-1', /":-1" is not a tag/],
      [`mcp/postgres:${'t'.repeat(129)}`, /is not a tag/],
      ['mcp/postgres@sha256:abc', /is not a digest/],
      ['host:port/x', /"port" is not a port/],
      ['-host.io/x', /starts with "-"/],
      ['bad_host.io/x', /not a registry host name/],
      [`${'a'.repeat(256)}`, /longer than 255/],
    ];
    for (const [ref, why] of cases) {
      expect(() => parseImageRef(ref), ref).toThrow(why);
      expect(imageRefProblem(ref), ref).toMatch(/is not an image reference/);
    }
    expect(imageRefProblem('docker.io/mcp/postgres:latest')).toBeUndefined();
    // An image ID is no name, but it is what a pin runs: fine as it is.
    expect(() => parseImageRef('f'.repeat(64))).toThrow(/image ID, not a name/);
    expect(imageRefProblem('f'.repeat(64))).toBeUndefined();
  });

  it('qualifies short names as Docker does and keeps a named registry as written', () => {
    expect(qualifyImageRef('mcp/sqlite-mcp-server')).toBe('docker.io/mcp/sqlite-mcp-server');
    expect(qualifyImageRef('mcp/postgres:17@sha256:' + 'c'.repeat(64))).toBe('docker.io/mcp/postgres:17@sha256:' + 'c'.repeat(64));
    expect(qualifyImageRef('alpine')).toBe('docker.io/library/alpine');
    expect(qualifyImageRef('alpine:3')).toBe('docker.io/library/alpine:3');
    for (const kept of ['docker.io/mcp/x:1', 'docker.io/alpine', 'ghcr.io/o/i', 'localhost/mcp-registry-test/tiny:1', 'localhost:5000/x', 'quay.io/a/b/c:1', 'Registry/x']) {
      expect(qualifyImageRef(kept)).toBe(kept);
    }
    expect(() => qualifyImageRef('--privileged')).toThrow(/not an image reference/);
  });

  it('knows a Docker Hub image under any of its names (the mcp/ trust rule depends on it)', () => {
    expect(dockerHubPath('mcp/x')).toBe('mcp/x');
    expect(dockerHubPath('docker.io/mcp/x:1')).toBe('mcp/x');
    expect(dockerHubPath('index.docker.io/mcp/x')).toBe('mcp/x');
    expect(dockerHubPath('registry-1.docker.io/mcp/x@sha256:' + 'd'.repeat(64))).toBe('mcp/x');
    expect(dockerHubPath('alpine')).toBe('library/alpine');
    expect(dockerHubPath('docker.io/alpine')).toBe('library/alpine');
    expect(dockerHubPath('quay.io/mcp/x')).toBeUndefined();
    expect(dockerHubPath('localhost/mcp/x')).toBeUndefined();
    expect(dockerHubPath('--privileged')).toBeUndefined();
  });
});

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

describe('short names in the runtime (real podman, no registry reachable)', () => {
  const podman = new Podman();
  const tag = randomBytes(4).toString('hex');
  const hubName = `docker.io/mcp/h2-short-${tag}:1`;
  const elsewhere = `quay.io/mcp/h2-elsewhere-${tag}:1`;
  // The name `podman build -t h2-built-…:1` gives.
  const built = `localhost/h2-built-${tag}:1`;
  let home: string | undefined;

  afterAll(async () => {
    for (const t of [hubName, elsewhere, built]) {
      try {
        execFileSync('podman', ['untag', t, t], { cwd: '/', stdio: 'ignore' });
      } catch {
        // not tagged (the test was skipped or failed early)
      }
    }
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('runs mcp/x as the local docker.io/mcp/x and pins that name; never an image of another registry that merely ends the same way', async (ctx) => {
    await requirePodman(ctx);
    // The tiny test image under a Docker Hub name, and under a name of another registry ending like a short name.
    execFileSync('podman', ['tag', TINY_IMAGE, hubName], { cwd: '/' });
    execFileSync('podman', ['tag', TINY_IMAGE, elsewhere], { cwd: '/' });
    execFileSync('podman', ['tag', TINY_IMAGE, built], { cwd: '/' });
    expect(await podman.imageExists(qualifyImageRef(`mcp/h2-short-${tag}:1`))).toBe(true);
    home = await makeHome({ sources: [{ name: 'refs', type: 'file', path: './refs' }], refresh: { onStart: false }, runtime: { startTimeout: '60s' } });
    const server = (name: string, image: string) =>
      toYaml({ name, image, type: 'server', about: { title: name, description: `test server ${name}` }, source: { project: `https://github.com/mcp-registry-test/${name}` }, run: { disableNetwork: true } });
    for (const [name, image] of [
      ['short', `mcp/h2-short-${tag}:1`],
      ['lookalike', `mcp/h2-elsewhere-${tag}:1`],
      ['evil', '--privileged'],
      ['built', `h2-built-${tag}:1`],
    ]) {
      await mkdir(join(home, 'refs', 'servers', name), { recursive: true });
      await writeFile(join(home, 'refs', 'servers', name, 'server.yaml'), server(name, image));
    }
    const reg = await startRegistry(home);
    try {
      const call = async (name: string, args: Record<string, unknown>) => (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
      await call('registry-refresh', {});

      const add = await call('registry-add', { id: 'refs/short' });
      expect(add.isError, text(add)).toBeFalsy();
      expect(text(await call('short__echo', { text: 'from docker.io' }))).toBe('from docker.io');
      const info = await call('registry-info', { id: 'refs/short' });
      expect(info.structuredContent).toMatchObject({ pins: { pinned: { imageRef: hubName, imageId: await podman.imageId(TINY_IMAGE) } } });
      expect(text(info)).toContain(`image ${hubName}`);

      // podman's own short-name lookup would find quay.io/mcp/h2-elsewhere-…:1 for this; Docker's reading is
      // docker.io/mcp/h2-elsewhere-…:1, which is not here and cannot be pulled.
      const look = await call('registry-add', { id: 'refs/lookalike' });
      expect(look.isError).toBe(true);
      expect(text(look)).toContain(`cannot pull docker.io/mcp/h2-elsewhere-${tag}:1`);

      // A bare name is docker.io/library/…: the localhost/ image podman build made is named in the answer.
      const b = await call('registry-add', { id: 'refs/built' });
      expect(b.isError).toBe(true);
      expect(text(b)).toContain(`cannot pull docker.io/library/h2-built-${tag}:1`);
      expect(text(b)).toContain(`podman has ${built}`);

      const evil = await call('registry-add', { id: 'refs/evil' });
      expect(evil.isError).toBe(true);
      expect(text(evil)).toMatch(/"--privileged" is not an image reference: it starts with "-"/);
      expect(reg.stderr()).not.toMatch(/pulling --privileged/);
    } finally {
      await reg.close();
    }
    const state = JSON.parse(await readFile(join(home, 'state', 'state.json'), 'utf8')) as { pins: Record<string, { imageRef?: string }> };
    expect(state.pins['refs/short']?.imageRef).toBe(hubName);
    expect(state.pins['refs/evil']).toBeUndefined();
  });
});
