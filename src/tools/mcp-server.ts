/** The registry's MCP face: its tool table plus mounted servers' tools, resources and prompts; thin handlers. */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type CompleteResult,
  type Tool,
  ElicitResultSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ReadResourceRequestSchema,
  ListPromptsRequestSchema,
  GetPromptRequestSchema,
  CompleteRequestSchema,
  McpError,
  ErrorCode,
  type Resource,
  type ResourceTemplate,
  type ReadResourceResult,
  type Prompt,
  type GetPromptResult,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { addLogSink, errorMessage, redactText, type LogLevel } from '../util/log.js';
import { describeTool, formatInputError, MAX_ARGUMENT_DEPTH, type ToolDef } from './tool-def.js';
import { ToolError, type CompleteParams, type ResourceProvider, type ToolContext, type ToolOutput, type ToolProvider } from '../model/tool-contract.js';
import { quoteInput } from '../util/quote.js';
import { nestedDeeperThan } from '../util/json-depth.js';
import { VERSION } from '../util/version.js';

export interface RegistryServer {
  server: Server;
  /** Tell the client the tool list changed (mounted tools came or went). */
  notifyToolsChanged(): void;
  addProvider(p: ToolProvider): void;
  /** Resources and prompts of mounted servers (issue 3). */
  addResourceProvider(p: ResourceProvider): void;
  notifyResourcesChanged(): void;
  notifyPromptsChanged(): void;
}

const INSTRUCTIONS = `This server is a registry of MCP servers. Use registry-find to search thousands of servers by what
they do, registry-info for details and required settings, registry-add to start one: its tools then appear as
<prefix>__<tool> and can always be called through registry-exec (use it if your client does not refresh its tool list).`;

/**
 * The MCP face of the registry: a table of registry tools plus providers of mounted tools.
 * Handlers stay thin; everything they do lives in modules testable without MCP.
 * `tools` may still be loading (the stdio server connects first): initialize is answered at once, and every request
 * that needs the registry waits for the table (a table that fails to load fails those requests).
 */
export function createRegistryServer(tools: ToolDef[] | Promise<ToolDef[]>): RegistryServer {
  const server = new RegistryMcpServer(
    { name: 'mcp-registry', version: VERSION, title: 'MCP Registry' },
    {
      capabilities: { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true }, logging: {}, completions: {} },
      instructions: INSTRUCTIONS,
    },
  );
  type Table = { list: ToolDef[]; byName: Map<string, ToolDef> };
  let table: Table | null = null;
  const loading = Promise.resolve(tools).then((list) => (table = { list, byName: new Map(list.map((t) => [t.name, t])) }));
  loading.catch(() => {}); // the caller reports a failed start-up; requests that wait see the error themselves
  const ready = (): Table | Promise<Table> => table ?? loading;
  // Converted on the first tools/list, after initialize has been answered.
  let described: Tool[] | null = null;
  const providers: ToolProvider[] = [];

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const { list: tools } = await ready();
    described ??= tools.map(describeTool);
    const list: Tool[] = [...described];
    for (const p of providers) list.push(...p.listTools());
    return { tools: list };
  });

  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const { name, arguments: args } = req.params;
    const token = req.params._meta?.progressToken;
    const caps = server.getClientCapabilities();
    const ctx: ToolContext = {
      signal: extra.signal,
      progressWanted: token !== undefined,
      clientName: server.getClientVersion()?.name,
      progress: (progress, total, message) => {
        if (token === undefined) return;
        void extra
          .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, total, message } })
          .catch(() => {});
      },
      elicit: caps?.elicitation
        ? async (message, schema) => {
            const r = await extra.sendRequest({ method: 'elicitation/create', params: { message, requestedSchema: schema as never } }, ElicitResultSchema);
            return { action: r.action, content: r.content as Record<string, unknown> | undefined };
          }
        : undefined,
    };
    const named = name.length <= MAX_TOOL_NAME;
    const def = named ? (table ?? (await loading)).byName.get(name) : undefined;
    // Checked before anything walks the arguments: zod, the audit shapes and JSON.stringify to a child recurse.
    const tooDeep = nestedDeeperThan(args, MAX_ARGUMENT_DEPTH);
    if (tooDeep && (def || providers.some((p) => p.listTools().some((t) => t.name === name)))) {
      return errorResult(`Invalid arguments for ${name}: they are nested more than ${MAX_ARGUMENT_DEPTH} levels deep. Flatten them and call ${name} again.`);
    }
    if (def) return runTool(def, args, ctx);
    for (const p of named && !tooDeep ? providers : []) {
      const r = p.callTool(name, args, ctx);
      if (r) return r;
    }
    // A protocol error (-32602), as MCP specifies for an unknown tool; the name is echoed only as a short prefix.
    throw new McpError(ErrorCode.InvalidParams, `Unknown tool ${quoteInput(name)}. Call tools/list (or registry-active) to see the available tools; mounted tools are named <prefix>__<tool>.`);
  });

  const resourceProviders: ResourceProvider[] = [];
  server.setRequestHandler(ListResourcesRequestSchema, async (_req, extra) => {
    await ready();
    const lists = await Promise.all(resourceProviders.map((p) => p.listResources(extra.signal)));
    return { resources: lists.flatMap((l) => l.resources) };
  });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async (_req, extra) => {
    await ready();
    const lists = await Promise.all(resourceProviders.map((p) => p.listResources(extra.signal)));
    return { resourceTemplates: lists.flatMap((l) => l.resourceTemplates) };
  });
  server.setRequestHandler(ReadResourceRequestSchema, async (req, extra) => {
    await ready();
    for (const p of resourceProviders) {
      const r = p.readResource(req.params.uri, extra.signal);
      if (r) return r;
    }
    throw new McpError(ErrorCode.InvalidParams, `Unknown resource ${quoteInput(req.params.uri)}: resources/list shows the resources of mounted servers.`);
  });
  server.setRequestHandler(ListPromptsRequestSchema, async (_req, extra) => {
    await ready();
    const lists = await Promise.all(resourceProviders.map((p) => p.listPrompts(extra.signal)));
    return { prompts: lists.flat() };
  });
  server.setRequestHandler(GetPromptRequestSchema, async (req, extra) => {
    await ready();
    for (const p of resourceProviders) {
      const r = p.getPrompt(req.params.name, req.params.arguments, extra.signal);
      if (r) return r;
    }
    throw new McpError(ErrorCode.InvalidParams, `Unknown prompt ${quoteInput(req.params.name)}: prompts/list shows the prompts of mounted servers.`);
  });

  // Completions are answered by the child that owns the prompt or template (an empty list when nobody does).
  server.setRequestHandler(CompleteRequestSchema, async (req, extra) => {
    await ready();
    for (const p of resourceProviders) {
      const r = p.complete?.(req.params as CompleteParams, extra.signal);
      if (r) return (await r) as CompleteResult;
    }
    return { completion: { values: [] } };
  });

  let connected = false;
  server.oninitialized = () => {
    connected = true;
  };
  addLogSink((level: LogLevel, logger, message, data) => {
    if (!connected) return;
    void server.sendLoggingMessage({ level, logger, data: data ? { message, ...data } : message }).catch(() => {});
  });

  // Coalesce bursts (several mounts restored at once) into one notification per list.
  const pendingLists = new Set<'tools' | 'resources' | 'prompts'>();
  const notifyList = (what: 'tools' | 'resources' | 'prompts') => {
    if (!connected || pendingLists.has(what)) return;
    pendingLists.add(what);
    setTimeout(() => {
      pendingLists.delete(what);
      const send = what === 'tools' ? server.sendToolListChanged() : what === 'resources' ? server.sendResourceListChanged() : server.sendPromptListChanged();
      void send.catch(() => {});
    }, 20);
  };
  return {
    server,
    addProvider: (p) => providers.push(p),
    addResourceProvider: (p) => resourceProviders.push(p),
    notifyToolsChanged: () => notifyList('tools'),
    notifyResourcesChanged: () => notifyList('resources'),
    notifyPromptsChanged: () => notifyList('prompts'),
  };
}

/** MCP's limit on tool names: a longer name is no tool here, and is not looked up anywhere. */
const MAX_TOOL_NAME = 128;

/**
 * The SDK server, sending error replies without a doubled code prefix. An McpError's message already starts with
 * "MCP error <code>: " and the SDK sends that message as it is, so the client, which adds the prefix itself, showed
 * "MCP error -32602: MCP error -32602: …". Every error reply passes the transport's send: stripped there, whoever
 * threw it (our handlers, the SDK's own validation, a child's error passed on).
 */
class RegistryMcpServer extends Server {
  override async connect(transport: Transport): Promise<void> {
    const send = transport.send.bind(transport);
    transport.send = (message, options) => send(withoutCodePrefix(message), options);
    return super.connect(transport);
  }
}

function withoutCodePrefix(message: JSONRPCMessage): JSONRPCMessage {
  if (!('error' in message)) return message;
  const prefix = `MCP error ${message.error.code}: `;
  let text = message.error.message;
  while (text.startsWith(prefix)) text = text.slice(prefix.length);
  return text === message.error.message ? message : { ...message, error: { ...message.error, message: text } };
}

async function runTool(def: ToolDef, args: unknown, ctx: ToolContext): Promise<CallToolResult> {
  const parsed = def.input.safeParse(args ?? {});
  if (!parsed.success) return errorResult(formatInputError(def.name, parsed.error, Object.keys(def.input.shape)));
  try {
    const out = await def.handler(parsed.data, ctx);
    if ('content' in out) return out as CallToolResult;
    return toResult(out as ToolOutput);
  } catch (err) {
    // Known secret values never leave in an error message, whatever put them there.
    const msg = redactText(err instanceof ToolError ? err.message : `${def.name} failed: ${errorMessage(err)}`);
    return errorResult(msg);
  }
}

export function toResult(out: ToolOutput): CallToolResult {
  const r: CallToolResult = { content: [{ type: 'text', text: out.text }] };
  if (out.structured && !out.isError) r.structuredContent = out.structured;
  if (out.isError) r.isError = true;
  return r;
}

export function errorResult(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}
