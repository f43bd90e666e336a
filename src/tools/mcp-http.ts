/** The registry's own MCP endpoint over Streamable HTTP (serve-mcp): bearer token, Host/Origin checks, both protocol eras. */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createMcpHandler, isLegacyRequest } from '@modelcontextprotocol/server';
import { NodeStreamableHTTPServerTransport, hostHeaderValidation, localhostHostValidation, localhostOriginValidation, originValidation, toNodeHandler, toWebRequest } from '@modelcontextprotocol/node';
import type { RegistryServer } from './mcp-server.js';
import { errorMessage, type Logger } from '../util/log.js';
import { MESSAGE_LIMIT } from '../util/line-buffer.js';

export interface McpHttpOptions {
  host: string;
  port: number;
  /** Every request must carry `Authorization: Bearer <token>`. */
  token: string;
  /** Host names (besides the bind host) that Host and Origin may name; loopback binds allow localhost names only. */
  allowedHosts?: string[];
  log: Logger;
}

export interface McpHttpEndpoint {
  url: string;
  close(): Promise<void>;
}

/** Hosts a loopback bind answers to (the DNS-rebinding guard refuses any other Host). */
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1', '[::1]'];
export const MCP_PATH = '/mcp';

/**
 * Serve the registry over Streamable HTTP at /mcp. A 2026-07-28 request (per-request `_meta` envelope) is served
 * per request by the SDK's handler; 2025-era traffic gets a session (initialize → Mcp-Session-Id) on its own SDK
 * transport, so server→client requests (elicitation) and the GET notification stream work as in 2025. Every
 * connection shares the one registry behind `reg`: one tool table, one mount manager, one set of containers.
 */
export async function serveMcpHttp(reg: RegistryServer, opts: McpHttpOptions): Promise<McpHttpEndpoint> {
  const log = opts.log;
  const loopback = LOOPBACK_HOSTS.includes(opts.host);
  const names = [...new Set([...(loopback ? [] : [opts.host]), ...(opts.allowedHosts ?? [])].filter((h) => h && h !== '0.0.0.0' && h !== '::'))];
  // DNS rebinding: a web page must not reach this endpoint through a name that resolves to it.
  const hostOk = loopback ? localhostHostValidation() : names.length ? hostHeaderValidation([...names, ...LOOPBACK_HOSTS]) : undefined;
  const originOk = loopback ? localhostOriginValidation() : names.length ? originValidation([...names, ...LOOPBACK_HOSTS]) : undefined;
  if (!hostOk) log.warn(`serve-mcp on ${opts.host}: no --allowed-host given, so the Host header is not checked (the bearer token still is)`);

  const modern = createMcpHandler((ctx) => reg.build(ctx, { live: false }), { onerror: (e) => log.debug(`MCP over HTTP: ${e.message}`), maxRequestBodySize: MESSAGE_LIMIT });
  reg.onListChanged((what) => (what === 'tools' ? modern.notify.toolsChanged() : what === 'resources' ? modern.notify.resourcesChanged() : modern.notify.promptsChanged()));
  const modernNode = toNodeHandler(modern, { maxRequestBodySize: MESSAGE_LIMIT, onerror: (e) => log.warn(`MCP over HTTP: ${e.message}`) });
  const sessions = new Map<string, NodeStreamableHTTPServerTransport>();
  const wanted = digest(opts.token);

  const legacy = async (req: IncomingMessage, res: ServerResponse, body: unknown) => {
    const sid = req.headers['mcp-session-id'];
    let t = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (!t) {
      if (sid !== undefined) return reply(res, 404, -32001, 'Session not found: it ended or the registry restarted. Initialize a new session.');
      const transport = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, transport),
        onsessionclosed: (id) => void sessions.delete(id),
      });
      transport.onclose = () => void (transport.sessionId && sessions.delete(transport.sessionId));
      await reg.build({ era: 'legacy' }).connect(transport);
      t = transport;
    }
    await t.handleRequest(req, res, body);
  };

  const http: HttpServer = createServer((req, res) => {
    void (async () => {
      if (hostOk && !hostOk(req, res)) return;
      if (originOk && !originOk(req, res)) return;
      if (new URL(req.url ?? '/', 'http://x').pathname !== MCP_PATH) return reply(res, 404, -32600, `Not found: the MCP endpoint is ${MCP_PATH}.`);
      if (!authorized(req.headers.authorization, wanted)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="mcp-registry"');
        return reply(res, 401, -32001, 'Unauthorized: send "Authorization: Bearer <token>" with the token serve-mcp printed or read from --token-file / MCP_REGISTRY_TOKEN.');
      }
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      if (body === TOO_LARGE) return reply(res, 413, -32600, `Request too large (limit ${MESSAGE_LIMIT / (1024 * 1024)} MB): send less in one call.`);
      const web = await toWebRequest(req, body);
      if (await isLegacyRequest(web)) await legacy(req, res, body);
      else await modernNode(req, res, body);
    })().catch((err) => {
      log.warn(`MCP over HTTP: ${errorMessage(err)}`);
      if (!res.headersSent) reply(res, 500, -32603, 'Internal error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => resolve());
  });
  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shown}:${port}${MCP_PATH}`,
    close: async () => {
      for (const t of sessions.values()) await t.close().catch(() => {});
      await modern.close?.().catch(() => {});
      http.closeAllConnections?.();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

const TOO_LARGE = Symbol('too large');

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MESSAGE_LIMIT) return TOO_LARGE;
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined; // the SDK answers the parse error
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time: compared as digests, so neither the length nor a prefix of the token leaks through timing. */
function authorized(header: string | undefined, wanted: Buffer): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return !!m && timingSafeEqual(digest(m[1]!), wanted);
}

function reply(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }));
}
