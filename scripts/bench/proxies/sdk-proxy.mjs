// The thinnest MCP proxy the SDK allows: one low-level Server whose tools/call handler forwards to one Client of
// the child, nothing else (no catalog, policy, audit, redaction). The runtime bench puts it between the client and
// the same child: what any SDK-based proxy pays per call, beside what the registry pays.
// Usage: node scripts/bench/proxies/sdk-proxy.mjs <command> [args...]
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const [command, ...args] = process.argv.slice(2);
const client = new Client({ name: 'sdk-proxy', version: '1' });
await client.connect(new StdioClientTransport({ command, args, env: process.env, stderr: 'inherit' }));
const server = new Server({ name: 'sdk-proxy', version: '1' }, { capabilities: { tools: {} } });
const Anything = z.any();
server.setRequestHandler(ListToolsRequestSchema, () => client.listTools());
server.setRequestHandler(CallToolRequestSchema, (req, extra) => client.request({ method: 'tools/call', params: req.params }, Anything, { signal: extra.signal }));
await server.connect(new StdioServerTransport());
process.stdin.on('end', () => void client.close().finally(() => process.exit(0)));
