/** A Docker "poci" server served by the registry itself: an in-process MCP server whose every tool call runs one short-lived container. */
import { randomBytes } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { execa } from 'execa';
import { errorMessage, type Logger } from '../../util/log.js';
import { VERSION } from '../../util/version.js';
import type { RunCommand } from '../podman/podman.js';
import { renderPociCommand, type PociTool } from './command.js';

/** Standard output of one call kept at most; the rest is drained and dropped (a tool must not fill our memory). */
export const POCI_STDOUT_LIMIT = 1024 * 1024;
/** The end of standard error kept for the error of a failed call. */
const STDERR_KEEP = 4 * 1024;

export interface PociServerDeps {
  /** The server's name (the entry id), as initialize reports it. */
  name: string;
  tools: PociTool[];
  /** The hardened `podman run --rm` of one call: this tool's image and rendered command, in a container of this name. */
  runCommand(tool: PociTool, command: string[], containerName: string): Promise<RunCommand>;
  /** Removes containers by name at once (a call cancelled or timed out, the server closed while calls ran). */
  remove(names: string[]): Promise<void>;
  /** Container names start with this (podman.ts containerName of the mount). */
  nameBase: string;
  /** A call's container is removed after this long (the child's own call timeout cancels it first, usually). */
  callTimeout: number;
  /** Applied to standard error before it goes into an error result or a log line. */
  redact(s: string): string;
  log: Logger;
}

export interface PociServer {
  /** The client end, for Child.start({ kind: 'transport' }). */
  transport: Transport;
  /** Names of the containers of calls still running (for tests and shutdown). */
  running(): string[];
}

/**
 * The tools are the catalog's inline `tools[]`, listed as they are; each call renders the tool's command template
 * from its arguments and runs the tool's image once. When the connection closes (the mount removed, stopped, or
 * the registry shutting down), the containers of calls still running are removed.
 */
export async function pociServer(deps: PociServerDeps): Promise<PociServer> {
  const byName = new Map(deps.tools.map((t) => [t.name, t]));
  const running = new Set<string>();
  const server = new Server({ name: deps.name, version: VERSION }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: deps.tools.map(listed) }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const tool = byName.get(req.params.name);
    if (!tool) return failed(`${deps.name} has no tool ${JSON.stringify(req.params.name)}; its tools: ${deps.tools.map((t) => t.name).join(', ')}.`);
    if (tool.volumes?.length) {
      return failed(`tool ${tool.name} asks to mount ${tool.volumes.join(', ')} from the host into its container; poci tools run without host mounts here, so it is not run. Use a server that takes the files as arguments.`);
    }
    const rendered = renderPociCommand(tool, req.params.arguments ?? {});
    if (!rendered.ok) return failed(`${rendered.reason}.`);
    const name = `${deps.nameBase}-${tool.name}-${randomBytes(4).toString('hex')}`.replace(/[^a-zA-Z0-9_.-]+/g, '-');
    running.add(name);
    try {
      return await runOnce(deps, tool, rendered.command, name, extra.signal);
    } finally {
      running.delete(name);
    }
  });
  server.onclose = () => {
    const left = [...running];
    if (left.length) void deps.remove(left).catch((err) => deps.log.warn(`could not remove the containers of running poci calls (${left.join(', ')}): ${errorMessage(err)}`));
  };
  const [client, own] = InMemoryTransport.createLinkedPair();
  await server.connect(own);
  return { transport: client, running: () => [...running] };
}

function listed(t: PociTool): Tool {
  return { name: t.name, ...(t.description ? { description: t.description } : {}), inputSchema: { type: 'object', ...(t.inputSchema ?? {}) } as Tool['inputSchema'] };
}

function failed(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

async function runOnce(deps: PociServerDeps, tool: PociTool, command: string[], name: string, signal: AbortSignal): Promise<CallToolResult> {
  const cmd = await deps.runCommand(tool, command, name);
  const proc = execa(cmd.command, cmd.args, { env: cmd.env, extendEnv: false, cwd: cmd.cwd, stdin: 'ignore', buffer: false, reject: false });
  const out: Buffer[] = [];
  let outBytes = 0;
  let cut = false;
  let err = '';
  proc.stdout?.on('data', (b: Buffer) => {
    if (outBytes >= POCI_STDOUT_LIMIT) return void (cut = true);
    const room = POCI_STDOUT_LIMIT - outBytes;
    if (b.length > room) cut = true;
    out.push(b.subarray(0, room));
    outBytes += Math.min(b.length, room);
  });
  proc.stderr?.on('data', (b: Buffer) => {
    err = (err + b.toString('utf8')).slice(-STDERR_KEEP);
  });
  // Killing `podman run` can leave its container running: a call that must end is ended by removing the container.
  let stopped: string | undefined;
  const stop = (why: string) => {
    if (stopped) return;
    stopped = why;
    void deps.remove([name]).catch((e) => deps.log.warn(`could not remove ${name} (${why}): ${errorMessage(e)}`));
  };
  const onAbort = () => stop('the call was cancelled');
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  const timer = setTimeout(() => stop(`the call ran longer than ${Math.round(deps.callTimeout / 1000)} s`), deps.callTimeout);
  timer.unref();
  try {
    const r = await proc;
    if (stopped) {
      // `podman run` ends once its container is gone; make sure it is (the removal may still be under way).
      await deps.remove([name]).catch(() => {});
      return failed(`tool ${tool.name} was stopped: ${stopped}; its container was removed.`);
    }
    const text = Buffer.concat(out).toString('utf8') + (cut ? `\n[output cut at ${POCI_STDOUT_LIMIT} bytes]` : '');
    if (r.exitCode === 0) return { content: [{ type: 'text', text }] };
    const why = r.exitCode === undefined ? `did not run (${r.shortMessage ?? 'podman could not be started'})` : `exited with code ${r.exitCode}`;
    const stderr = deps.redact(err.trim());
    return failed(`tool ${tool.name} ${why}${stderr ? `; its standard error ends with:\n${stderr}` : ''}${text ? `\nstandard output:\n${text}` : ''}`);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}
