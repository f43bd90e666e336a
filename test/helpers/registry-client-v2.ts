import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { registryProcess } from './registry-client.js';

/** The BUILT registry driven by an SDK v2 client over stdio, pinned to the 2026-07-28 revision (or another mode). */
export interface RunningRegistryV2 {
  client: Client;
  stderr(): string;
  pid: number | null;
  close(): Promise<void>;
}

export async function startRegistryV2(
  home: string,
  opts: { mode?: 'legacy' | 'auto' | { pin: string }; env?: Record<string, string>; clientName?: string } = {},
): Promise<RunningRegistryV2> {
  const transport = new StdioClientTransport(registryProcess(home, opts.env));
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: opts.clientName ?? 'registry-test-v2', version: '1.0.0' }, { versionNegotiation: { mode: opts.mode ?? { pin: '2026-07-28' } } });
  await client.connect(transport);
  return {
    client,
    stderr: () => err,
    pid: transport.pid,
    close: async () => {
      await client.close().catch(() => {});
    },
  };
}
