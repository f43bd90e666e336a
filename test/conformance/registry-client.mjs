#!/usr/bin/env node
// The conformance suite's *client* leg against the registry's child-side client (prototype, issue 13).
//
//   node <suite> client --command "node test/conformance/registry-client.mjs" --scenario <name>
//
// The suite starts a mock MCP server for the scenario, then runs this command with the server URL appended and
// MCP_CONFORMANCE_SCENARIO set. We do what a user would: start the BUILT registry (dist/cli.js) on stdio in a
// throw-away home whose `file` catalog holds one entry, a remote (Streamable HTTP) at that URL; mount it with
// registry-add; then call every tool it proxies with arguments made from the tool's input schema. So what the
// mock server observes is the registry's own child client (src/runtime/child.ts) — its initialize, headers,
// _meta, retries, elicitation forwarding — not an SDK client of ours.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { stringify as toYaml } from 'yaml';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = 'conformance/io.example/conformance-target';
const url = process.argv[2];
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '(unknown scenario)';
const log = (message) => console.error(`[registry-client ${scenario}] ${message}`);

/** A value that satisfies a JSON Schema well enough for a conformance mock: defaults first, then by type. */
function sampleValue(schema = {}) {
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  switch (Array.isArray(schema.type) ? schema.type[0] : schema.type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return sampleArguments(schema);
    default:
      return 'test';
  }
}

function sampleArguments(schema = {}) {
  return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, property]) => [name, sampleValue(property)]));
}

async function makeHome() {
  const home = await mkdtemp(join(tmpdir(), 'mcp-registry-conformance-client-'));
  await writeFile(
    join(home, 'config.yaml'),
    toYaml({ sources: [{ name: 'conformance', type: 'file', path: './target.json' }], refresh: { onStart: false } }),
  );
  await writeFile(
    join(home, 'target.json'),
    JSON.stringify([
      {
        name: 'io.example/conformance-target',
        description: 'The conformance suite mock server for this scenario',
        version: '1.0.0',
        remotes: [{ type: 'streamable-http', url }],
      },
    ]),
  );
  // The mock server is plain http on localhost, which the remote URL guard refuses unless policy allows it.
  await writeFile(
    join(home, 'policy.yaml'),
    toYaml({ allow: ['conformance/*'], entries: { 'conformance/*': { remote: { allowPrivate: true, allowHttp: true } } } }),
  );
  return home;
}

async function main() {
  if (!url) throw new Error('no server URL: the conformance suite appends it as the last argument');
  const cli = join(repoRoot, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  const home = await makeHome();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli],
    env: { ...process.env, MCP_REGISTRY_HOME: home },
    stderr: 'inherit',
  });
  // The user at the other end: accepts every form as offered (defaults filled in), so a forwarded elicitation
  // comes back with values.
  const user = new Client({ name: 'conformance-user', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  user.setRequestHandler(ElicitRequestSchema, async (request) => {
    log(`elicitation reached the user: ${request.params.message}`);
    return { action: 'accept', content: sampleArguments(request.params.requestedSchema) };
  });
  try {
    await user.connect(transport);
    const call = async (name, args = {}) => {
      const result = await user.callTool({ name, arguments: args });
      const text = (result.content ?? []).filter((block) => block.type === 'text').map((block) => block.text).join(' ');
      log(`${name} -> ${result.isError ? 'ERROR ' : ''}${text.slice(0, 300)}`);
      return result;
    };
    await call('registry-refresh', {});
    const added = await call('registry-add', { id: ENTRY });
    if (added.isError) return 1;
    const { prefix, tools } = added.structuredContent;
    for (const tool of tools) {
      const schema = tool.inputSchema;
      await call(tool.name.startsWith(`${prefix}__`) ? tool.name : `${prefix}__${tool.name}`, sampleArguments(schema));
    }
    await call('registry-remove', { id: ENTRY });
    return 0;
  } finally {
    await user.close().catch(() => {});
    await rm(home, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    log(error?.stack ?? String(error));
    process.exit(1);
  },
);
