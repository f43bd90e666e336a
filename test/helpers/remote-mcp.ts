/**
 * A real MCP server on 127.0.0.1 standing in for a remote endpoint (streamable HTTP and SSE), built on the SDK's
 * server transports. Each session gets its own server. Tools:
 *   greet {name}        → "hello <name>"
 *   whoami              → whether the expected auth header arrived (never its value)
 *   add_tool {name}     → registers a new tool on this session and sends notifications/tools/list_changed
 *   wipe {what}         → "wiped <what>"; annotated destructiveHint (for the destructive-tool gate)
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';

export interface RemoteMcp {
  /** Streamable HTTP endpoint. */
  url: string;
  /** SSE endpoint (GET opens the stream). */
  sseUrl: string;
  /** Header values seen on requests, by header name (lower case). */
  seenHeaders: Map<string, string[]>;
  close(): Promise<void>;
}

export interface RemoteOptions {
  /** Reject requests without this header value (401), like an API behind a token. */
  auth?: { header: string; value: string };
}

function makeServer(req: IncomingMessage, opts: RemoteOptions): Server {
  const extra: Tool[] = [];
  const server = new Server({ name: 'remote-standin', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
  const base: Tool[] = [
    { name: 'greet', description: 'Greets someone.', inputSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
    { name: 'whoami', description: 'Says whether the auth header arrived.', inputSchema: { type: 'object', properties: {} } },
    { name: 'add_tool', description: 'Adds a tool to this session.', inputSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
    {
      name: 'wipe',
      description: 'Deletes everything named (pretend).',
      inputSchema: { type: 'object', properties: { what: { type: 'string' } }, required: ['what'] },
      annotations: { destructiveHint: true, title: 'Wipe data' },
    },
  ];
  const authed = opts.auth ? req.headers[opts.auth.header.toLowerCase()] === opts.auth.value : true;
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [...base, ...extra] }));
  server.setRequestHandler(CallToolRequestSchema, async (r) => {
    const args = (r.params.arguments ?? {}) as Record<string, unknown>;
    switch (r.params.name) {
      case 'greet':
        return { content: [{ type: 'text', text: `hello ${String(args.name)}` }] };
      case 'whoami':
        return { content: [{ type: 'text', text: authed ? 'authenticated' : 'anonymous' }], structuredContent: { authenticated: authed } };
      case 'wipe':
        return { content: [{ type: 'text', text: `wiped ${String(args.what)}` }] };
      case 'add_tool': {
        const name = String(args.name);
        extra.push({ name, description: `Added at run time: ${name}.`, inputSchema: { type: 'object', properties: {} } });
        await server.sendToolListChanged();
        return { content: [{ type: 'text', text: `added ${name}` }] };
      }
      default:
        if (extra.some((t) => t.name === r.params.name)) return { content: [{ type: 'text', text: `ran ${r.params.name}` }] };
        return { content: [{ type: 'text', text: `unknown tool ${r.params.name}` }], isError: true };
    }
  });
  return server;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

export async function startRemoteMcp(opts: RemoteOptions = {}): Promise<RemoteMcp> {
  const streams = new Map<string, StreamableHTTPServerTransport>();
  const sse = new Map<string, SSEServerTransport>();
  const seenHeaders = new Map<string, string[]>();
  const http: HttpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      if (opts.auth) {
        const v = req.headers[opts.auth.header.toLowerCase()];
        if (typeof v === 'string') seenHeaders.set(opts.auth.header.toLowerCase(), [...(seenHeaders.get(opts.auth.header.toLowerCase()) ?? []), v]);
        if (v !== opts.auth.value) {
          res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'missing or wrong token' }));
          return;
        }
      }
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/mcp') {
        const body = req.method === 'POST' ? await readBody(req) : undefined;
        const sid = req.headers['mcp-session-id'];
        let t = typeof sid === 'string' ? streams.get(sid) : undefined;
        if (!t) {
          if (typeof sid === 'string') {
            res.writeHead(404).end();
            return;
          }
          const transport = new StreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            onsessioninitialized: (id) => void streams.set(id, transport),
          });
          transport.onclose = () => {
            if (transport.sessionId) streams.delete(transport.sessionId);
          };
          await makeServer(req, opts).connect(transport);
          t = transport;
        }
        await t.handleRequest(req, res, body);
        return;
      }
      if (url.pathname === '/sse' && req.method === 'GET') {
        const transport = new SSEServerTransport('/messages', res);
        sse.set(transport.sessionId, transport);
        transport.onclose = () => void sse.delete(transport.sessionId);
        await makeServer(req, opts).connect(transport);
        return;
      }
      if (url.pathname === '/messages' && req.method === 'POST') {
        const t = sse.get(url.searchParams.get('sessionId') ?? '');
        if (!t) {
          res.writeHead(404).end();
          return;
        }
        await t.handlePostMessage(req, res, await readBody(req));
        return;
      }
      res.writeHead(404).end();
    })().catch((err) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    sseUrl: `http://127.0.0.1:${port}/sse`,
    seenHeaders,
    close: async () => {
      for (const t of [...streams.values(), ...sse.values()]) await t.close().catch(() => {});
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
