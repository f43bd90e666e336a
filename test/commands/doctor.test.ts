import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDoctor, runDoctor } from '../../src/commands/doctor.js';
import { resolvePaths, type RegistryPaths } from '../../src/config/paths.js';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadConfig } from '../../src/config/config.js';
import { createSource } from '../../src/sources/index.js';
import { Podman } from '../../src/runtime/podman/podman.js';
import { requirePodman } from '../helpers/podman.js';
import { repoRoot } from '../helpers/shared-data.js';

/** doctor tells the truth (issue 10.5): about config.yaml, policy.yaml, each source, and whether anything can work. */
let home: string;
let paths: RegistryPaths;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'mcp-registry-doctor-'));
  paths = resolvePaths({ MCP_REGISTRY_HOME: home });
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

/** A loopback port nothing listens on: a source there is unreachable, at once. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

const noPodman = () => new Podman({ bin: '/nonexistent/podman' });
const check = (res: Awaited<ReturnType<typeof runDoctor>>, name: string) => res.checks.find((c) => c.name === name);

describe('doctor', () => {
  it('reports a missing config.yaml as "using the defaults", and checks the three default sources', async () => {
    const res = await runDoctor(paths, noPodman());
    // Before: "[ok] config: …config.yaml: 3 source(s) enabled" for a file that does not exist.
    expect(check(res, 'config')).toMatchObject({ ok: true, info: true, detail: `no ${paths.configFile}: using the three public sources (defaults: docker, mcpservers, official)` });
    const text = formatDoctor(res);
    expect(text).toContain(`[info] config: no ${paths.configFile}: using the three public sources (defaults: docker, mcpservers, official)`);
    for (const [name, url] of [
      ['docker', 'https://github.com/docker/mcp-registry.git'],
      ['mcpservers', 'https://mcpservers.org'],
      ['official', 'https://registry.modelcontextprotocol.io'],
    ]) {
      expect(check(res, `source ${name}`)?.detail).toContain(url);
    }
    // Offline too, a first run has the catalog snapshot shipped with the package for these three.
    expect(check(res, 'catalog')).toMatchObject({ ok: true, detail: expect.stringMatching(/^no cache yet: searches use the catalog snapshot shipped with the package \(\d+ entries of docker, mcpservers, official, as of \d{4}-\d\d-\d\d\)/) });
  });

  it('names each source\'s state (unreadable path, unreachable host, last refresh error) and says no "Ready" when nothing can work', async (ctx) => {
    await requirePodman(ctx); // servers could run: only the catalog side fails
    const port = await closedPort();
    await writeFile(
      paths.configFile,
      `sources:\n  - name: mine\n    type: file\n    path: ./catalog.yaml\n  - name: official\n    type: official\n    url: http://127.0.0.1:${port}\nrefresh:\n  cooldown: 0\n`,
    );
    // A refresh that failed leaves its error in the status records; doctor shows it.
    const config = await loadConfig(paths.configFile);
    await new Catalog(config, paths.cacheDir, paths.sourcesDir, createSource).refresh({ source: 'mine' });

    const res = await runDoctor(paths);
    expect(check(res, 'source mine')).toMatchObject({
      ok: false,
      optional: true,
      detail: expect.stringMatching(new RegExp(`^${join(home, 'catalog.yaml')}: does not exist; no entries yet; last refresh failed: catalog .*catalog\\.yaml.* does not exist`)),
      fix: `fix the path of source "mine" in ${paths.configFile}`,
    });
    expect(check(res, 'source official')).toMatchObject({ ok: false, optional: true, detail: expect.stringMatching(new RegExp(`^http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`)) });
    expect(check(res, 'catalog')).toMatchObject({ ok: false, detail: expect.stringMatching(/empty, and no source can be fetched from here/), fix: expect.stringMatching(/a `file` source with your own catalog works offline/) });
    const text = formatDoctor(res);
    expect(res.ok).toBe(false);
    expect(text).not.toMatch(/Ready/);
    expect(text).toMatch(/1 problem to fix \(catalog\) before the registry can find servers\.$/);

    // Once the catalog has data, an unreachable source is a limitation, and the registry is ready.
    await writeFile(join(home, 'catalog.yaml'), JSON.stringify([{ name: 'com.example/weather', description: 'Weather forecasts', version: '1.0.0', remotes: [{ type: 'streamable-http', url: 'https://weather.example.com/mcp' }] }]));
    await new Catalog(config, paths.cacheDir, paths.sourcesDir, createSource).refresh({ source: 'mine' });
    const ready = await runDoctor(paths);
    expect(check(ready, 'source mine')).toMatchObject({ ok: true, detail: expect.stringMatching(/is readable; 1 entries, refreshed /) });
    expect(check(ready, 'catalog')).toMatchObject({ ok: true, detail: expect.stringMatching(/^1 entries cached/) });
    expect(formatDoctor(ready)).toMatch(/\nReady to run servers[^\n]*\.$/);
  });

  it('never prints (or sends) credentials a source url carries', async () => {
    const port = await closedPort();
    await writeFile(paths.configFile, `sources:\n  - name: private\n    type: docker\n    url: https://bot:s3cret-t0ken@127.0.0.1:${port}/mcp-registry.git\n`);
    const res = await runDoctor(paths, noPodman());
    expect(check(res, 'source private')?.detail).toMatch(new RegExp(`^https://…@127\\.0\\.0\\.1:${port}/mcp-registry\\.git: .*ECONNREFUSED`));
    expect(formatDoctor(res)).not.toContain('s3cret-t0ken');
  });

  it('fails on everything the server would refuse to start with: an unknown key, a bad schedule, a broken policy.yaml', async () => {
    await writeFile(paths.configFile, 'runtime:\n  idleTimout: 10m\n');
    const typo = await runDoctor(paths, noPodman());
    expect(check(typo, 'config')).toMatchObject({ ok: false, detail: expect.stringMatching(/config\.yaml:2:3: runtime: unknown key "idleTimout".*did you mean "idleTimeout"\?/) });
    await writeFile(paths.configFile, 'refresh:\n  schedule: "0 25 * * *"\n');
    expect(check(await runDoctor(paths, noPodman()), 'config')).toMatchObject({ ok: false, detail: expect.stringMatching(/refresh\.schedule: "0 25 \* \* \*" is not a cron expression/) });

    await writeFile(paths.configFile, `sources:\n  - name: mine\n    type: file\n    path: ${join(repoRoot, 'test/fixtures/runtime-catalog')}\n`);
    await writeFile(paths.policyFile, 'alow: [docker/*]\n');
    const policy = await runDoctor(paths, noPodman());
    expect(check(policy, 'policy')).toMatchObject({ ok: false, detail: expect.stringMatching(/policy\.yaml:1:1: \(top level\): unknown key "alow".*did you mean "allow"\?/) });
    expect(check(policy, 'source mine')).toMatchObject({ ok: true });
    expect(check(policy, 'catalog')).toMatchObject({ ok: true, detail: expect.stringMatching(/empty so far: the first search fetches mine/) });
    expect(formatDoctor(policy)).toMatch(/problems to fix \(podman, policy\) before servers can run\.$/);
  });
});
