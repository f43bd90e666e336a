// The catalog as policy lets this environment see it has one owner (governance/catalog-view.ts): registry-find of
// the BUILT stdio server, `mcp-registry search` and serve-http's /v0.1/servers agree on what is hidden in prod —
// an entry policy.yaml disables, one it keeps to dev, one whose catalog does not allow it in prod — and keep
// agreeing after the catalog itself changes what it says of an entry while the stdio server runs.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { runCli } from '../helpers/file-catalog.js';
import { startServeHttp, type ServeHttp } from '../helpers/serve-http.js';

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
});

/** One team catalog entry (registry.yaml format) whose description carries the word every query looks for. */
function server(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: id,
    description: `Zebrafish tank log ${id}.`,
    status: 'active',
    governance: { prod_allowed: true },
    versions: [{ version: '1.0.0', transport: { type: 'streamable-http', url: `https://${id}.corp.example/mcp` } }],
    ...extra,
  };
}

const ALL = ['kept', 'policy-disabled', 'dev-only', 'not-in-prod', 'retired-later'];
const catalog = (retired: boolean) =>
  toYaml({
    servers: [
      server('kept'),
      server('policy-disabled'),
      server('dev-only'),
      server('not-in-prod', { governance: { prod_allowed: false } }),
      server('retired-later', retired ? { status: 'disabled' } : {}),
    ],
  });

/** Which of the test's servers a surface shows, from its answer's text. */
const shown = (answer: string) => ALL.filter((id) => new RegExp(`\\b${id}\\b`).test(answer));

describe('one catalog view for registry-find, the CLI and serve-http', () => {
  it('an entry hidden in prod (by policy or by its catalog) is absent from all three, also after the catalog changes while the server runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'catalog-view-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'registry.yaml');
    await writeFile(file, catalog(false));
    const home = await makeHome({ sources: [{ name: 'team', type: 'file', path: file }], refresh: { onStart: false, cooldown: '1ms' }, environment: 'prod' });
    cleanup.push(() => rm(home, { recursive: true, force: true }));
    await writeFile(
      join(home, 'policy.yaml'),
      toYaml({ allow: ['team/*'], entries: { 'team/policy-disabled': { status: 'disabled' }, 'team/dev-only': { environments: ['dev'] } } }),
    );

    const reg: RunningRegistry = await startRegistry(home, { clientName: 'catalog-view-test' });
    cleanup.push(() => reg.close());
    const call = async (name: string, args: Record<string, unknown> = {}) => (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as Result;
    const refreshed = await call('registry-refresh', {});
    expect(refreshed.isError, text(refreshed)).toBeFalsy();

    const find = async () => {
      const r = await call('registry-find', { query: 'zebrafish tank log', limit: 20 });
      expect(r.isError, text(r)).toBeFalsy();
      return shown(JSON.stringify(r.structuredContent));
    };
    const search = async () => {
      const r = await runCli(['search', 'zebrafish tank log', '--limit', '20', '--json'], { MCP_REGISTRY_HOME: home });
      expect(r.code, r.stderr).toBe(0);
      return shown(r.stdout);
    };
    const served = async () => {
      const http: ServeHttp = await startServeHttp(home);
      try {
        const res = await fetch(`${http.url}/v0.1/servers?limit=100`);
        expect(res.status).toBe(200);
        return shown(await res.text());
      } finally {
        await http.stop();
      }
    };

    const before = ['kept', 'retired-later'];
    expect(await find()).toEqual(before);
    expect(await search()).toEqual(before);
    expect(await served()).toEqual(before);

    // The team retires an entry in its catalog; the running server refreshes: nobody shows it any more.
    await writeFile(file, catalog(true));
    const again = await call('registry-refresh', { force: true });
    expect(again.isError, text(again)).toBeFalsy();
    expect(await find()).toEqual(['kept']);
    expect(await search()).toEqual(['kept']);
    expect(await served()).toEqual(['kept']);
  }, 180_000);
});
