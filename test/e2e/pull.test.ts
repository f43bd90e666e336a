import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { stringify as toYaml } from 'yaml';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { repoRoot } from '../helpers/shared-data.js';

/**
 * What happens around `podman run` when things are not in place: an image that is not present is pulled first,
 * with progress reaching the client; a machine without podman gets a clear answer. Nothing can be pulled on these
 * machines (no registry access), so `runtime.podman` points at a stand-in that behaves like podman for the
 * commands involved (and, once "pulled", runs the tiny server as a host process). It logs every call it gets.
 */

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
const TINY = join(repoRoot, 'test/images/tiny-server/server.mjs');
const IMAGE_ID = 'feedbeef'.repeat(8);

let home: string;
let reg: RunningRegistry;

beforeAll(async () => {
  home = await makeHome({ sources: [{ name: 'test', type: 'file', path: join(repoRoot, 'test/fixtures/runtime-catalog') }], refresh: { onStart: false } });
  const standin = join(home, 'podman-standin');
  // A second catalog naming its image the way the Docker catalog does: a short name.
  await mkdir(join(home, 'short', 'servers', 'sqlite'), { recursive: true });
  await writeFile(
    join(home, 'short', 'servers', 'sqlite', 'server.yaml'),
    toYaml({ name: 'sqlite', image: 'mcp/sqlite-mcp-server:1', type: 'server', about: { title: 'sqlite', description: 'A short-named image' }, source: { project: 'https://github.com/mcp-registry-test/sqlite' } }),
  );
  await writeFile(
    join(home, 'config.yaml'),
    toYaml({
      sources: [
        { name: 'test', type: 'file', path: join(repoRoot, 'test/fixtures/runtime-catalog') },
        { name: 'short', type: 'file', path: './short' },
      ],
      refresh: { onStart: false },
      runtime: { podman: standin },
    }),
  );
  const info = JSON.stringify({ version: { Version: '4.3.1' }, host: { security: { rootless: false }, ociRuntime: { name: 'runc' }, cgroupVersion: 'v2' } });
  await writeFile(
    standin,
    [
      '#!/bin/sh',
      `dir="${home}"`,
      'echo "$*" >> "$dir/podman-calls.log"',
      // The image reference is the last argument (after "--"); a pulled one leaves a file named after it.
      'for a; do ref="$a"; done',
      'mark="$dir/pulled-$(echo "$ref" | tr / _)"',
      'case "$1" in',
      `  info) echo '${info}' ;;`,
      "  ps) echo '[]' ;;",
      // `image exists` and `image inspect` (which prints the ID the start is pinned to) know the image once pulled.
      `  image) [ -f "$mark" ] || exit 1; [ "$2" = inspect ] && echo ${IMAGE_ID}; exit 0 ;;`,
      '  pull) echo "Trying to pull $ref..." >&2; echo "Copying blob sha256:0123abcd done" >&2; echo "Writing manifest to image destination" >&2; touch "$mark" "$dir/pulled"; echo "sha256:feedbeef" ;;',
      `  run) if [ -f "$dir/pulled" ]; then exec "${process.execPath}" "${TINY}"; else echo "Error: localhost/mcp-registry-test/tiny:1: image not known" >&2; exit 125; fi ;;`,
      '  *) exit 0 ;;',
      'esac',
      '',
    ].join('\n'),
  );
  await chmod(standin, 0o755);
  reg = await startRegistry(home);
});

afterAll(async () => {
  await reg?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('image pull and missing podman', () => {
  it('pulls an absent image before running it, reporting podman\'s progress to the client', async () => {
    const progress: Progress[] = [];
    const add = (await reg.client.callTool({ name: 'registry-add', arguments: { id: 'test/tiny' } }, undefined, {
      onprogress: (p) => progress.push(p),
      timeout: 60_000,
    })) as Result;
    expect(add.isError, text(add)).toBeFalsy();
    expect(existsSync(join(home, 'pulled'))).toBe(true);
    const messages = progress.map((p) => p.message ?? '');
    expect(messages).toEqual(expect.arrayContaining([expect.stringContaining('pulling localhost/mcp-registry-test/tiny:1'), expect.stringContaining('Copying blob')]));
    const calls = (await readFile(join(home, 'podman-calls.log'), 'utf8')).trim().split('\n');
    const pull = calls.findIndex((c) => c === 'pull -- localhost/mcp-registry-test/tiny:1');
    expect(pull).toBeGreaterThan(-1);
    // The image is looked up before anything runs, pulled because it is absent, then run once — by the ID it was
    // pinned to, and never letting podman pull on its own.
    const runs = calls.filter((c) => c.startsWith('run '));
    expect(runs.length).toBe(1);
    expect(runs[0]).toContain('--pull never');
    expect(runs[0]).toContain(` ${IMAGE_ID}`);
    expect(calls.findIndex((c) => c.startsWith('run '))).toBeGreaterThan(pull);
    expect(calls.findIndex((c) => c.startsWith('image inspect'))).toBeLessThan(pull);
    const echo = (await reg.client.callTool({ name: 'tiny__echo', arguments: { text: 'pulled and running' } })) as Result;
    expect(echo.content).toEqual([{ type: 'text', text: 'pulled and running' }]);
  });

  it('a short name (as the Docker catalog writes them) is looked up, pulled, run and pinned as docker.io/…, after "--"', async () => {
    const before = (await readFile(join(home, 'podman-calls.log'), 'utf8')).trim().split('\n').length;
    const add = (await reg.client.callTool({ name: 'registry-add', arguments: { id: 'short/sqlite' } }, undefined, { timeout: 60_000 })) as Result;
    expect(add.isError, text(add)).toBeFalsy();
    const calls = (await readFile(join(home, 'podman-calls.log'), 'utf8')).trim().split('\n').slice(before);
    const q = 'docker.io/mcp/sqlite-mcp-server:1';
    expect(calls).toContain(`image inspect --format {{.Id}} -- ${q}`);
    expect(calls).toContain(`pull -- ${q}`);
    expect(calls.some((c) => /(^|\s)mcp\/sqlite/.test(c))).toBe(false);
    const run = calls.find((c) => c.startsWith('run '))!;
    expect(run.endsWith(` -- ${IMAGE_ID}`)).toBe(true);
    const info = (await reg.client.callTool({ name: 'registry-info', arguments: { id: 'short/sqlite' } })) as Result;
    expect(info.structuredContent).toMatchObject({ pins: { pinned: { imageRef: q, imageId: IMAGE_ID } } });
    await reg.client.callTool({ name: 'registry-remove', arguments: { id: 'short/sqlite' } });
  });

  it("a mounted tool's progress reaches a client that asked for it (and the call answers the same without)", async () => {
    const progress: Progress[] = [];
    const slow = (await reg.client.callTool({ name: 'tiny__slow', arguments: { ms: 80 } }, undefined, { onprogress: (p) => progress.push(p) })) as Result;
    expect(text(slow)).toBe('slept 80 ms');
    // The tiny server reports four steps only when the request carries a progress token: the registry passed one on.
    // The last step may be missing: it leaves the child just before the result, and an SDK client that reads both
    // in one chunk handles the result first and drops the late progress (SDK behaviour, any client).
    expect(progress.map((p) => [p.progress, p.total]).slice(0, 3)).toEqual([[1, 4], [2, 4], [3, 4]]);
    const quiet = (await reg.client.callTool({ name: 'tiny__slow', arguments: { ms: 20 } })) as Result;
    expect(text(quiet)).toBe('slept 20 ms');
  });

  it('without podman, registry-add says so and names the command that shows the fix', async () => {
    const home2 = await makeHome({
      sources: [{ name: 'test', type: 'file', path: join(repoRoot, 'test/fixtures/runtime-catalog') }],
      refresh: { onStart: false },
      runtime: { podman: '/nonexistent/bin/podman' },
    });
    const r2 = await startRegistry(home2);
    try {
      const add = (await r2.client.callTool({ name: 'registry-add', arguments: { id: 'test/tiny' } })) as Result;
      expect(add.isError).toBe(true);
      expect(text(add)).toMatch(/podman is not installed.*mcp-registry doctor/);
      const status = (await r2.client.callTool({ name: 'registry-status', arguments: {} })) as Result;
      expect(status.structuredContent).toMatchObject({ runtime: { podman: null, rootless: null }, active: 0 });
    } finally {
      await r2.close();
      await rm(home2, { recursive: true, force: true });
    }
  });
});
