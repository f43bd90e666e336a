import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { Client as ModernClient } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdio } from '@modelcontextprotocol/client/stdio';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as LegacyStdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { repoRoot } from '../helpers/shared-data.js';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';
import { requirePodman } from '../helpers/podman.js';
import type { SetReport } from '../helpers/conformance.js';
import { Podman } from '../../src/runtime/podman/podman.js';

/**
 * Our own conformance fixture server (test/fixtures/conformance-server) against the official MCP conformance suite,
 * run by scripts/conformance.mjs exactly as CI and round 3 run it: Node 22 and the pinned suite come from npm into a
 * cache directory (the first run downloads ~35 MB and takes about a minute; later runs reuse it), the fixture is
 * started on a free port, and both requirement sets must end without an unexpected failure.
 */

const harness = join(repoRoot, 'scripts', 'conformance.mjs');
const fixture = join(repoRoot, 'test', 'fixtures', 'conformance-server', 'server.mjs');
const scratch = await mkdtemp(join(tmpdir(), 'mcp-conformance-test-'));

const CONFORMANCE_IMAGE = 'localhost/mcp-registry-test/conformance:1';
const registries: RunningRegistry[] = [];

afterAll(async () => {
  for (const registry of registries) await registry.close();
  await rm(scratch, { recursive: true, force: true });
});


/** Runs the harness; returns its exit code, output and the --json summary (when it got that far). */
async function runHarness(args: string[], name: string) {
  const json = join(scratch, `${name}.json`);
  const result = await execa(process.execPath, [harness, '--json', json, ...args], { reject: false, cwd: repoRoot, timeout: 540_000 });
  const summary = await readFile(json, 'utf8').then((text) => JSON.parse(text) as { reports: SetReport[] }, () => undefined);
  return { ...result, summary };
}

describe('conformance harness and fixture server', () => {
  it('passes every scored scenario of both requirement sets (2025-11-25, 2026-07-28) with no unexpected failure', async () => {
    const run = await runHarness([], 'full');
    const explain = `${run.stdout}\n${run.stderr}`;
    expect(run.exitCode, explain).toBe(0);
    expect(run.summary?.reports.map((report) => report.revision)).toEqual(['2025-11-25', '2026-07-28']);
    for (const report of run.summary!.reports) {
      // Every scenario the revision requires ran and reported, and none of its checks failed or warned.
      expect(report.scenarios, `${report.revision}\n${explain}`).toBe(report.required);
      expect(report.required).toBeGreaterThan(25);
      expect(report.failed, `${report.revision}: ${report.problems.join('\n')}`).toBe(0);
      expect(report.problems).toEqual([]);
      expect(report.unexpectedFailures).toEqual([]);
      expect(report.staleEntries).toEqual([]);
    }
    expect(run.stdout).toContain('conformance: no unexpected failures');
  }, 600_000);

  it('fails (exit 1) and names the scenario when the target lacks the fixtures', async () => {
    // A real MCP server that is not our fixture: it has no test_simple_prompt. (Not tools-call-simple-text: the
    // suite accepts any text content there, even an isError "tool not found".)
    const everything = join(repoRoot, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
    const run = await runHarness(
      ['--requirements', '2025-11-25', '--scenario', 'prompts-get-simple', '--', 'env', 'PORT={port}', process.execPath, everything, 'streamableHttp'],
      'foreign',
    );
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(run.summary?.reports[0].unexpectedFailures).toEqual(['prompts-get-simple']);
    expect(run.stdout).toContain('UNEXPECTED: prompts-get-simple');
    expect(run.stdout).toContain('Prompt test_simple_prompt not found');
  }, 600_000);

  it('fails (exit 1) on a baseline entry that now passes, so the expected-failures file cannot rot', async () => {
    const baseline = join(scratch, 'stale.yml');
    await writeFile(baseline, 'server:\n  - tools-list # listed on purpose: the fixture passes it\n');
    const run = await runHarness(['--requirements', '2025-11-25', '--scenario', 'tools-list', '--expected-failures', baseline], 'stale');
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(run.summary?.reports[0].staleEntries).toEqual(['tools-list']);
  }, 600_000);

  it('refuses an unknown option with the usage line, before installing or starting anything', async () => {
    const run = await execa(process.execPath, [harness, '--requirement', '2025-11-25'], { reject: false, cwd: repoRoot });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('unknown option "--requirement"');
    expect(run.stderr).toContain('usage: node scripts/conformance.mjs');
  });
});

describe("conformance client leg against the registry's child client (test/conformance/registry-client.mjs)", () => {
  it('passes the 2025-11-25 client scenarios initialize, tools_call and sse-retry through a mounted remote', async () => {
    // The suite's mock server is mounted as a remote (Streamable HTTP) in the BUILT registry and its tools are
    // called through the proxy, so the checks judge src/runtime/child.ts. The other scored client scenarios fail
    // today for missing features (elicitation forwarding, OAuth, the 2026 era: see test/conformance/README.md).
    const run = await runHarness(['--client', '--requirements', '2025-11-25', '--scenario', 'initialize,tools_call,sse-retry'], 'client');
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    const [report] = run.summary!.reports;
    expect(report.leg).toBe('client');
    expect(report.scenarios).toBe(3);
    expect(report.failed, report.problems.join('\n')).toBe(0);
    expect(report.passed).toBeGreaterThanOrEqual(6);
  }, 600_000);
});

describe('conformance fixture server on stdio (how the registry mounts it as a child)', () => {
  const params = { command: process.execPath, args: [fixture, '--stdio'], stderr: 'pipe' as const };

  it('serves a 2025-11-25 client: pushed elicitation, unsolicited tools/list_changed', async () => {
    const client = new LegacyClient({ name: 'legacy-test', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      return { action: 'accept', content: { username: 'ada', email: 'ada@example.com' } };
    });
    let listChanged = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      listChanged++;
    });
    await client.connect(new LegacyStdio(params));
    try {
      const before = (await client.listTools()).tools.map((tool) => tool.name);
      expect(before).toContain('test_simple_text');
      const answer = await client.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } });
      expect(asked).toEqual(['Who are you?']);
      expect(answer.content).toEqual([
        { type: 'text', text: 'User response: action=accept, content={"username":"ada","email":"ada@example.com"}' },
      ]);
      await client.callTool({ name: 'test_trigger_tool_change', arguments: {} });
      await expect.poll(() => listChanged).toBe(1);
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual([...before, 'test_dynamic_tool']);
    } finally {
      await client.close();
    }
  });

  it('serves a 2026-07-28 client: input_required answered through its handler, list changes on the listen stream', async () => {
    const client = new ModernClient(
      { name: 'modern-test', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { form: {} } } },
    );
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(request.params.message);
      return { action: 'accept', content: { name: 'Grace' } };
    });
    let listChanged = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      listChanged++;
    });
    await client.connect(new ModernStdio(params));
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      await client.listen({ toolsListChanged: true });
      const answer = await client.callTool({ name: 'test_input_required_result_elicitation', arguments: {} });
      expect(asked).toEqual(['What is your name?']);
      expect(answer.content).toEqual([{ type: 'text', text: 'Hello, Grace!' }]);
      await client.callTool({ name: 'test_trigger_tool_change', arguments: {} });
      await expect.poll(() => listChanged).toBe(1);
      const tools = (await client.listTools({}, { cacheMode: 'refresh' })).tools.map((tool) => tool.name);
      expect(tools).toContain('test_dynamic_tool');
    } finally {
      await client.close();
    }
  });
});

describe('conformance fixture server as a container child of the built registry', () => {
  it('mounts from its test image: every fixture tool proxied, content, errors and 2020-12 schemas intact', async (ctx) => {
    await requirePodman(ctx);
    if (!(await new Podman().imageExists(CONFORMANCE_IMAGE))) {
      throw new Error(`the test image ${CONFORMANCE_IMAGE} is not built. Fix: bash scripts/build-test-images.sh`);
    }
    const home = await makeHome({
      sources: [{ name: 'test', type: 'file', path: join(repoRoot, 'test', 'fixtures', 'conformance-catalog') }],
      refresh: { onStart: false },
    });
    const registry = await startRegistry(home);
    registries.push(registry);
    const call = (name: string, args: Record<string, unknown> = {}) =>
      registry.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 }) as Promise<{
        content: { type: string; text?: string; mimeType?: string }[];
        isError?: boolean;
        structuredContent?: Record<string, unknown>;
      }>;
    expect((await call('registry-refresh')).isError).toBeFalsy();
    const added = await call('registry-add', { id: 'test/conformance' });
    expect(added.isError, JSON.stringify(added.content)).toBeFalsy();
    expect(added.structuredContent?.prefix).toBe('conformance');
    try {
      const direct = new LegacyClient({ name: 'direct', version: '1.0.0' });
      await direct.connect(new LegacyStdio({ command: process.execPath, args: [fixture, '--stdio'], stderr: 'pipe' }));
      const own = (await direct.listTools()).tools.map((tool) => tool.name);
      await direct.close();
      const tools = (await registry.client.listTools()).tools;
      const mounted = tools.map((tool) => tool.name).filter((name) => name.startsWith('conformance__'));
      expect(mounted).toEqual(own.map((name) => `conformance__${name}`));
      const schema = tools.find((tool) => tool.name === 'conformance__json_schema_2020_12_tool')?.inputSchema as Record<string, unknown>;
      expect(schema).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', additionalProperties: false, then: { required: ['phone'] } });
      expect(schema.$defs).toEqual({ address: expect.objectContaining({ $anchor: 'addressDef' }) });
      expect((await call('conformance__test_simple_text')).content).toEqual([{ type: 'text', text: 'This is a simple text response for testing.' }]);
      const mixed = await call('conformance__test_multiple_content_types');
      expect(mixed.content.map((block) => block.type)).toEqual(['text', 'image', 'resource']);
      const failed = await call('conformance__test_error_handling');
      expect(failed.isError).toBe(true);
      expect(failed.content[0].text).toBe('This tool intentionally returns an error for testing');
    } finally {
      await call('registry-remove', { id: 'test/conformance' });
    }
  }, 180_000);
});
