import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { requirePodman } from '../helpers/podman.js';

/**
 * Issue 12 point 6: a failed install says which package, from which registry, and what to do — once, readably.
 * The package does not exist on the real npm registry (reachable here; TLS through the host's CA bundle).
 */

const PKG = '@modelcontextprotocol/server-that-does-not-exist-f12b';
const ID = 'pkgs/io.example/missing';
const RUNNER = 'localhost/mcp-registry/runner-node:20';
const CA = '/etc/ssl/certs/ca-certificates.crt';

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

let home: string;
let reg: RunningRegistry;

beforeAll(async () => {
  home = await makeHome({
    sources: [{ name: 'pkgs', type: 'file', path: './pkgs.json' }],
    refresh: { onStart: false },
    runtime: { caBundle: CA, runners: { npm: { image: RUNNER }, buildWait: '5m' } },
  });
  await writeFile(
    join(home, 'pkgs.json'),
    JSON.stringify([{ name: 'io.example/missing', description: 'Not on npm.', version: '1.0.0', packages: [{ registryType: 'npm', identifier: PKG, version: '1.0.0', transport: { type: 'stdio' } }] }]),
  );
  reg = await startRegistry(home, { env: { NODE_EXTRA_CA_CERTS: CA } });
  const r = (await reg.client.callTool({ name: 'registry-refresh', arguments: {} })) as Result;
  expect(r.isError, text(r)).toBeFalsy();
}, 120_000);

afterAll(async () => {
  await reg?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('errors of a failed install (issue 12)', () => {
  it('a package the npm registry does not have: names the package, the registry and the fix, each once', async (ctx) => {
    await requirePodman(ctx);
    const add = (await reg.client.callTool({ name: 'registry-add', arguments: { id: ID } }, undefined, { timeout: 300_000 })) as Result;
    expect(add.isError).toBe(true);
    const msg = text(add);
    expect(msg).toContain(`${ID} was not started: building its package failed`);
    expect(msg).toContain(`https://registry.npmjs.org/ has no package ${PKG}`);
    expect(msg).toContain(`Fix: check the entry's identifier, or set runtime.runners.npm.registry to the registry that serves ${PKG}`);
    expect(msg.split('Fix:').length - 1).toBe(1);
    expect(msg.split('Last output').length - 1).toBe(1);
    // The installer's telling line, not its boilerplate.
    expect(msg).toMatch(/Last output: .*npm error 404 Not Found - GET https:\/\/registry\.npmjs\.org\/@modelcontextprotocol%2fserver-that-does-not-exist-f12b/);
    expect(msg).not.toContain('complete log of this run');
  }, 300_000);
});
