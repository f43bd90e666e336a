/** A call's ToolContext built from the SDK v2 request context, per protocol era; and results cleaned of a child's identity. */
import type { ClientCapabilities, LoggingLevel, Server, ServerContext } from '@modelcontextprotocol/server';
import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, LOG_LEVEL_META_KEY } from '@modelcontextprotocol/server';
import type { Elicit, ToolContext } from '../model/tool-contract.js';

/**
 * What the registry tells a tool about the call: the same fields for both eras, read where each era puts them. A
 * 2025 client said who it is and what it can do once, in initialize; a 2026-07-28 client says it in every request's
 * `_meta` envelope (and the log level it wants, if any).
 */
export function toolContext(server: Server, ctx: ServerContext, progressToken: string | number | undefined): ToolContext {
  const era = server.getNegotiatedProtocolVersion() === MODERN ? 'modern' : 'legacy';
  const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
  const caps = era === 'modern' ? (envelope[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined) : server.getClientCapabilities();
  const clientName = era === 'modern' ? (envelope[CLIENT_INFO_META_KEY] as { name?: string } | undefined)?.name : server.getClientVersion()?.name;
  const logLevel = era === 'modern' ? (envelope[LOG_LEVEL_META_KEY] as LoggingLevel | undefined) : legacyLogLevel(server, ctx);
  return {
    signal: ctx.mcpReq.signal,
    era,
    progressWanted: progressToken !== undefined,
    clientName,
    ...(caps ? { clientCapabilities: caps as Record<string, unknown> } : {}),
    ...(logLevel ? { logLevel } : {}),
    ...(ctx.mcpReq.inputResponses ? { inputResponses: ctx.mcpReq.inputResponses } : {}),
    ...(era === 'modern' && typeof ctx.mcpReq.requestState() === 'string' ? { requestState: ctx.mcpReq.requestState() as string } : {}),
    progress: (progress, total, message) => {
      if (progressToken === undefined) return;
      void ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, total, message } }).catch(() => {});
    },
    // The SDK filters: 2026 by the request's logLevel (none: dropped), 2025 by the level logging/setLevel set.
    log: (level, data, logger) => void ctx.mcpReq.log(level, data, logger).catch(() => {}),
    // A 2026-07-28 request has no server→client channel: questions go back as input_required results, which only
    // a mounted child's own input_required carries today; the registry's own tools then act as for a client
    // without elicitation.
    elicit: era === 'legacy' && caps?.elicitation ? pushElicit(ctx) : undefined,
  };
}

export const MODERN = '2026-07-28';

/**
 * The level a 2025 client chose with logging/setLevel (per session; undefined: it never asked, so a proxied call
 * asks its child for no logs). SDK 2.4 keeps it in a private map and offers no accessor; read it here, in the one
 * module that owns era differences, and fall back to "not asked" if the SDK changes.
 */
function legacyLogLevel(server: Server, ctx: ServerContext): LoggingLevel | undefined {
  const levels = (server as unknown as { _loggingLevels?: Map<string | undefined, LoggingLevel> })._loggingLevels;
  if (!(levels instanceof Map)) return undefined;
  return levels.get(ctx.sessionId) ?? levels.get(undefined);
}

function pushElicit(ctx: ServerContext): Elicit {
  return async (message, schema) => {
    const r = await ctx.mcpReq.elicitInput({ message, requestedSchema: schema as never });
    return { action: r.action, content: r.content as Record<string, unknown> | undefined };
  };
}

/**
 * A mounted child's result as the registry's own: the SDK stamps `resultType` and the registry's serverInfo on
 * every 2026 result, but a value already there wins, so a child's `io.modelcontextprotocol/*` meta keys and its
 * `resultType` would make the result claim to come from the child (and 2025 clients never expect them).
 */
export function asOwnResult<T>(result: T): T {
  if (!result || typeof result !== 'object') return result;
  const { resultType: _drop, ...rest } = result as Record<string, unknown>;
  const meta = rest._meta as Record<string, unknown> | undefined;
  if (meta && typeof meta === 'object') {
    const kept = Object.fromEntries(Object.entries(meta).filter(([k]) => !k.startsWith('io.modelcontextprotocol/')));
    if (Object.keys(kept).length) rest._meta = kept;
    else delete rest._meta;
  }
  return rest as T;
}
