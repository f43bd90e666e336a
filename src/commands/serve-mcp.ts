// `mcp-registry serve-mcp`: the registry's MCP server over Streamable HTTP, shared by several clients (one set of containers).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRegistryServer } from '../tools/mcp-server.js';
import type { ToolDef } from '../tools/tool-def.js';
import { LOOPBACK_HOSTS, serveMcpHttp } from '../tools/mcp-http.js';
import { assemble, startBackgroundWork } from './serve-stdio.js';
import { createLogger, errorMessage, setLogLevel, type LogLevel } from '../util/log.js';

export interface ServeMcpFlags {
  host?: string;
  port?: string;
  'token-file'?: string;
  'allow-remote'?: boolean;
  'allowed-host'?: string[];
}

export interface ServeMcpOptions {
  host: string;
  port: number;
  tokenFile?: string;
  allowedHosts: string[];
}

/** The flags as options, or what is wrong with them (a sentence saying how to fix it). */
export function parseServeMcpFlags(v: ServeMcpFlags): ServeMcpOptions | string {
  const host = v.host?.trim() || '127.0.0.1';
  const portText = v.port ?? '8765';
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535)) return `--port must be a number from 0 to 65535 (got "${portText}")`;
  // Anyone who can reach the port and has the token runs containers on this machine: off the loopback only by choice.
  if (!LOOPBACK_HOSTS.includes(host) && !v['allow-remote']) {
    return `--host ${host} is not a loopback address: other machines could reach the registry (and start containers here). Add --allow-remote (and --allowed-host NAME for the names clients use) if that is what you want, or use --host 127.0.0.1.`;
  }
  return { host, port, tokenFile: v['token-file'], allowedHosts: v['allowed-host'] ?? [] };
}

/** Where the bearer token comes from: --token-file, else MCP_REGISTRY_TOKEN, else a new one printed once to stderr. */
export async function resolveToken(opts: { tokenFile?: string }, env: NodeJS.ProcessEnv): Promise<{ token: string; generated: boolean } | string> {
  if (opts.tokenFile) {
    let text: string;
    try {
      text = await readFile(opts.tokenFile, 'utf8');
    } catch (err) {
      return `cannot read --token-file ${opts.tokenFile}: ${errorMessage(err)}`;
    }
    const token = text.trim();
    if (token.length < 16) return `the token in ${opts.tokenFile} is too short (${token.length} characters): use at least 16, e.g. from "openssl rand -hex 32"`;
    return { token, generated: false };
  }
  const fromEnv = env.MCP_REGISTRY_TOKEN?.trim();
  if (fromEnv) {
    if (fromEnv.length < 16) return `MCP_REGISTRY_TOKEN is too short (${fromEnv.length} characters): use at least 16, e.g. from "openssl rand -hex 32"`;
    return { token: fromEnv, generated: false };
  }
  return { token: randomBytes(32).toString('base64url'), generated: true };
}

/** Serve until SIGTERM/SIGINT; then stop the containers this registry started and exit 0. */
export async function serveMcp(flags: ServeMcpFlags): Promise<number> {
  const opts = parseServeMcpFlags(flags);
  if (typeof opts === 'string') {
    process.stderr.write(`mcp-registry serve-mcp: ${opts}\n`);
    return 2;
  }
  const tok = await resolveToken(opts, process.env);
  if (typeof tok === 'string') {
    process.stderr.write(`mcp-registry serve-mcp: ${tok}\n`);
    return 2;
  }
  // A server process logs at info (the CLI quiets subcommands to warnings); the user's choice wins.
  setLogLevel((process.env.MCP_REGISTRY_LOG_LEVEL as LogLevel | undefined) ?? 'info');
  const log = createLogger('serve-mcp');
  let settleTools!: (t: Promise<ToolDef[]>) => void;
  const reg = createRegistryServer(new Promise<ToolDef[]>((resolve) => (settleTools = resolve)));
  const parts = assemble(reg);
  settleTools(parts.then((p) => p.tools));
  let assembled: Awaited<typeof parts>;
  try {
    assembled = await parts;
  } catch (err) {
    process.stderr.write(`mcp-registry serve-mcp: ${errorMessage(err)}\n`);
    return 1;
  }
  const { app, runtime, audit } = assembled;
  process.once('exit', () => audit.flushSync());
  let endpoint: Awaited<ReturnType<typeof serveMcpHttp>>;
  try {
    endpoint = await serveMcpHttp(reg, { host: opts.host, port: opts.port, token: tok.token, allowedHosts: opts.allowedHosts, log });
  } catch (err) {
    process.stderr.write(`mcp-registry serve-mcp: cannot listen on ${opts.host}:${opts.port}: ${errorMessage(err)}. Pick another --port.\n`);
    await runtime.shutdown().catch(() => {});
    return 1;
  }
  void assembled.catalogLoaded.then(() => runtime.start().catch((err) => app.log.error(`runtime start-up failed: ${errorMessage(err)}`)), () => {});
  void assembled.catalogLoaded.then(
    () => startBackgroundWork(app),
    (err) => app.log.error(`could not load the catalog cache: ${errorMessage(err)}`),
  );
  // The URL on stderr (stdout stays free); a generated token is shown this once and never logged.
  process.stderr.write(`mcp-registry serve-mcp: MCP (Streamable HTTP, 2025-11-25 and 2026-07-28) at ${endpoint.url}\n`);
  if (tok.generated) process.stderr.write(`mcp-registry serve-mcp: bearer token (shown once; set MCP_REGISTRY_TOKEN or --token-file to choose one): ${tok.token}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info('shutting down');
  const force = setTimeout(() => process.exit(0), 10_000);
  force.unref();
  await endpoint.close().catch(() => {});
  await app.scheduler.stop().catch(() => {});
  await runtime.shutdown().catch((e) => log.warn(`stopping the servers failed: ${errorMessage(e)}`));
  return 0;
}
