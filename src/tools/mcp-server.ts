/** The registry's MCP face: its tool table plus mounted servers' tools, resources and prompts; thin handlers. */
import { Server, ProtocolError, ProtocolErrorCode, ResourceNotFoundError, inputRequired, type McpRequestContext } from '@modelcontextprotocol/server';
import type { CallToolResult, Tool, JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import { addLogSink, errorMessage, redactText, type LogLevel } from '../util/log.js';
import { describeTool, formatInputError, MAX_ARGUMENT_DEPTH, type ToolDef } from './tool-def.js';
import { ToolError, type CompleteParams, type ResourceProvider, type ToolContext, type ToolOutput, type ToolProvider } from '../model/tool-contract.js';
import { quoteInput } from '../util/quote.js';
import { nestedDeeperThan } from '../util/json-depth.js';
import { VERSION } from '../util/version.js';
import { asOwnResult, toolContext } from './call-context.js';

export type ListName = 'tools' | 'resources' | 'prompts';

export interface RegistryServer {
  /**
   * A fresh SDK Server over the shared registry (tool table, providers), one per connection: serveStdio and the
   * HTTP entry call it once per connection or request (and once for a `server/discover` probe). Every instance
   * answers the same tools/list. `live: false` (per-request HTTP instances) keeps it out of change notifications.
   */
  build(ctx?: Partial<McpRequestContext>, opts?: { live?: boolean }): Server;
  /** A 2025-era instance for a direct `connect(transport)` (in-process clients, tests): built on first use. */
  readonly server: Server;
  /** Tell the clients the tool list changed (mounted tools came or went). */
  notifyToolsChanged(): void;
  addProvider(p: ToolProvider): void;
  /** Resources and prompts of mounted servers (issue 3). */
  addResourceProvider(p: ResourceProvider): void;
  notifyResourcesChanged(): void;
  notifyPromptsChanged(): void;
  /** Also told of every (coalesced) list change: entries that publish changes themselves (HTTP's per-request instances). */
  onListChanged(listener: (what: ListName) => void): void;
}

const INSTRUCTIONS = `This server is a registry of MCP servers. Use registry-find to search thousands of servers by what
they do, registry-info for details and required settings, registry-add to start one: its tools then appear as
<prefix>__<tool> and can always be called through registry-exec (use it if your client does not refresh its tool list).`;

const CAPABILITIES = { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true }, logging: {}, completions: {} };

/** An instance that may receive change notifications and (2025 era, once initialized) log messages. */
interface LiveInstance {
  server: Server;
  era: 'legacy' | 'modern';
  /** 2025: initialized; 2026: always (the SDK routes its list changes onto the client's listen streams). */
  ready: boolean;
}

/**
 * The MCP face of the registry: a table of registry tools plus providers of mounted tools, served to any number of
 * connections of either protocol era. Handlers stay thin; everything they do lives in modules testable without MCP.
 * `tools` may still be loading (the stdio server connects first): initialize and server/discover are answered at
 * once, and every request that needs the registry waits for the table (a table that fails to load fails those
 * requests).
 */
export function createRegistryServer(tools: ToolDef[] | Promise<ToolDef[]>): RegistryServer {
  type Table = { list: ToolDef[]; byName: Map<string, ToolDef> };
  let table: Table | null = null;
  const loading = Promise.resolve(tools).then((list) => (table = { list, byName: new Map(list.map((t) => [t.name, t])) }));
  loading.catch(() => {}); // the caller reports a failed start-up; requests that wait see the error themselves
  const ready = (): Table | Promise<Table> => table ?? loading;
  // Converted on the first tools/list, after initialize has been answered.
  let described: Tool[] | null = null;
  const providers: ToolProvider[] = [];
  const resourceProviders: ResourceProvider[] = [];
  const live = new Set<LiveInstance>();
  const listeners: ((what: ListName) => void)[] = [];

  const listTools = async (): Promise<{ tools: Tool[] }> => {
    const { list: tools } = await ready();
    described ??= tools.map(describeTool);
    // Registry tools in their fixed order, then each mount's tools in its child's order, mounts by prefix: the same
    // list, in the same order, for every connection and call (2026-07-28 asks for a deterministic order; restored
    // mounts come up in any order). The sort is stable, so a child's own order stays.
    const mounted = providers.flatMap((p) => p.listTools() as Tool[]).sort((a, b) => byPrefix(a.name, b.name));
    return { tools: [...described, ...mounted] };
  };

  const callTool = async (server: Server, params: { name: string; arguments?: Record<string, unknown>; _meta?: { progressToken?: string | number } }, rctx: Parameters<typeof toolContext>[1]) => {
    const { name, arguments: args } = params;
    const ctx: ToolContext = toolContext(server, rctx, params._meta?.progressToken);
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
      if (r) return fromChild(await r);
    }
    // A protocol error (-32602), as MCP specifies for an unknown tool; the name is echoed only as a short prefix.
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool ${quoteInput(name)}. Call tools/list (or registry-active) to see the available tools; mounted tools are named <prefix>__<tool>.`);
  };

  const build = (rctx: Partial<McpRequestContext> = {}, opts: { live?: boolean } = {}): Server => {
    const era = rctx.era ?? 'legacy';
    const server = new RegistryMcpServer({ name: 'mcp-registry', version: VERSION, title: 'MCP Registry' }, { capabilities: CAPABILITIES, instructions: INSTRUCTIONS });
    server.setRequestHandler('tools/list', listTools);
    server.setRequestHandler('tools/call', (req, ctx) => callTool(server, req.params, ctx) as Promise<CallToolResult>);
    server.setRequestHandler('resources/list', async (_req, ctx) => {
      await ready();
      const lists = await Promise.all(resourceProviders.map((p) => p.listResources(ctx.mcpReq.signal)));
      return { resources: lists.flatMap((l) => l.resources) as never };
    });
    server.setRequestHandler('resources/templates/list', async (_req, ctx) => {
      await ready();
      const lists = await Promise.all(resourceProviders.map((p) => p.listResources(ctx.mcpReq.signal)));
      return { resourceTemplates: lists.flatMap((l) => l.resourceTemplates) as never };
    });
    server.setRequestHandler('resources/read', async (req, ctx) => {
      await ready();
      for (const p of resourceProviders) {
        const r = p.readResource(req.params.uri, ctx.mcpReq.signal);
        if (r) return asOwnResult(await r) as never;
      }
      // -32602 with data.uri, as 2026-07-28 asks of a resource that does not exist (SEP-2164).
      throw new ResourceNotFoundError(req.params.uri, `Unknown resource ${quoteInput(req.params.uri)}: resources/list shows the resources of mounted servers.`);
    });
    server.setRequestHandler('prompts/list', async (_req, ctx) => {
      await ready();
      const lists = await Promise.all(resourceProviders.map((p) => p.listPrompts(ctx.mcpReq.signal)));
      return { prompts: lists.flat() as never };
    });
    server.setRequestHandler('prompts/get', async (req, ctx) => {
      await ready();
      for (const p of resourceProviders) {
        const r = p.getPrompt(req.params.name, req.params.arguments, ctx.mcpReq.signal);
        if (r) return asOwnResult(await r) as never;
      }
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt ${quoteInput(req.params.name)}: prompts/list shows the prompts of mounted servers.`);
    });
    // Completions are answered by the child that owns the prompt or template (an empty list when nobody does).
    server.setRequestHandler('completion/complete', async (req, ctx) => {
      await ready();
      for (const p of resourceProviders) {
        const r = p.complete?.(req.params as CompleteParams, ctx.mcpReq.signal);
        if (r) return asOwnResult(await r) as never;
      }
      return { completion: { values: [] } } as never;
    });
    if (opts.live !== false) {
      const inst: LiveInstance = { server, era, ready: era === 'modern' };
      live.add(inst);
      // A 2025 client hears nothing before it said initialized (oninitialized never fires on 2026 connections).
      server.oninitialized = () => (inst.ready = true);
      const closed = server.onclose;
      server.onclose = () => {
        live.delete(inst);
        closed?.();
      };
    }
    return server;
  };

  // The registry's log lines, as 2025 logging (notifications/message) to initialized 2025 clients. A 2026 client
  // gets no unsolicited log messages (the revision allows logs only about a request that asked, with its logLevel).
  addLogSink((level: LogLevel, logger, message, data) => {
    for (const inst of live) {
      if (inst.era !== 'legacy' || !inst.ready) continue;
      void inst.server.sendLoggingMessage({ level, logger, data: data ? { message, ...data } : message }).catch(() => {});
    }
  });

  // Coalesce bursts (several mounts restored at once) into one notification per list.
  const pendingLists = new Set<ListName>();
  const notifyList = (what: ListName) => {
    if (pendingLists.has(what)) return;
    pendingLists.add(what);
    setTimeout(() => {
      pendingLists.delete(what);
      for (const inst of live) {
        if (!inst.ready) continue;
        const s = inst.server;
        const send = what === 'tools' ? s.sendToolListChanged() : what === 'resources' ? s.sendResourceListChanged() : s.sendPromptListChanged();
        void send.catch(() => {});
      }
      for (const l of listeners) l(what);
    }, 20);
  };
  let direct: Server | undefined;
  return {
    build,
    get server() {
      return (direct ??= build({ era: 'legacy' }));
    },
    addProvider: (p) => providers.push(p),
    addResourceProvider: (p) => resourceProviders.push(p),
    notifyToolsChanged: () => notifyList('tools'),
    notifyResourcesChanged: () => notifyList('resources'),
    notifyPromptsChanged: () => notifyList('prompts'),
    onListChanged: (l) => listeners.push(l),
  };
}

/**
 * A mounted tool's result as the caller's era expects it: a child's `input_required` (2026 multi round-trip) goes
 * back as one — the SDK turns it into a pushed elicitation for a 2025 caller — and anything else is the registry's
 * own result, without the child's identity stamps.
 */
function fromChild(r: CallToolResult): CallToolResult {
  const raw = r as Record<string, unknown>;
  if (raw.resultType === 'input_required') {
    return inputRequired({ inputRequests: raw.inputRequests as never, ...(typeof raw.requestState === 'string' ? { requestState: raw.requestState } : {}) }) as never;
  }
  return asOwnResult(r);
}

const prefixOf = (name: string) => name.slice(0, Math.max(0, name.indexOf('__')));
const byPrefix = (a: string, b: string) => (prefixOf(a) < prefixOf(b) ? -1 : prefixOf(a) > prefixOf(b) ? 1 : 0);

/** MCP's limit on tool names: a longer name is no tool here, and is not looked up anywhere. */
const MAX_TOOL_NAME = 128;

/**
 * The SDK server, sending error replies without a doubled code prefix. A 1.x McpError's message (a child's error
 * passed on by a 1.x client) starts with "MCP error <code>: ", and clients add the prefix themselves, showing
 * "MCP error -32602: MCP error -32602: …". Every error reply passes the transport's send: stripped there, whoever
 * threw it.
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
