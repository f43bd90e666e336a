import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { repoRoot } from './shared-data.js';

export const cliPath = join(repoRoot, 'dist', 'cli.js');

/** A fresh MCP_REGISTRY_HOME with the given config.yaml. */
export async function makeHome(config: unknown): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'mcp-registry-test-'));
  await mkdir(home, { recursive: true });
  await writeFile(join(home, 'config.yaml'), toYaml(config));
  return home;
}

export interface RunningRegistry {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  pid: number | null;
  close(): Promise<void>;
}

/** How a client starts the BUILT server (`node dist/cli.js`) on a home, logging at debug on a piped stderr. */
export function registryProcess(home: string, env?: Record<string, string>, args: string[] = []) {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run "npm run build" first (npm test does it)`);
  return {
    command: process.execPath,
    args: [cliPath, ...args],
    env: { ...(process.env as Record<string, string>), MCP_REGISTRY_HOME: home, MCP_REGISTRY_LOG_LEVEL: 'debug', ...env },
    stderr: 'pipe' as const,
  };
}

/** Start the BUILT server as a user's client would (`node dist/cli.js`) and connect the SDK client over stdio. */
export async function startRegistry(home: string, opts: { env?: Record<string, string>; clientName?: string; capabilities?: Record<string, unknown>; args?: string[] } = {}): Promise<RunningRegistry> {
  const transport = new StdioClientTransport(registryProcess(home, opts.env, opts.args));
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: opts.clientName ?? 'registry-test', version: '1.0.0' }, { capabilities: opts.capabilities ?? {} });
  await client.connect(transport);
  return {
    client,
    transport,
    stderr: () => err,
    pid: transport.pid,
    close: async () => {
      await client.close().catch(() => {});
    },
  };
}
