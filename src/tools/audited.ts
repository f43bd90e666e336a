// Every registry tool call and every mounted tool call leaves one audit record: the MCP-side wrapping of the
// tool table and of the mounted-tool provider (the audit log itself lives in governance/audit-log.ts).
import type { ToolContext, ToolProvider } from '../model/tool-contract.js';
import { auditToolCall, type AuditLog } from '../governance/audit-log.js';
import type { ToolDef } from './tool-def.js';

export interface AuditedToolsOptions {
  /** The entry a mounted tool belongs to (for registry-exec records); e.g. the mount manager's lookup by prefix. */
  entryOfTool?: (mountedTool: string) => string | undefined;
}

/**
 * The registry's tools with every call audited under the op each tool declares (`ToolDef.audit`; tools without one
 * are not wrapped). The entry comes from `args.id`, the tool from `args.tool` (registry-exec).
 */
export function auditedTools(defs: ToolDef[], auditLog: AuditLog | null | undefined, opts: AuditedToolsOptions = {}): ToolDef[] {
  if (!auditLog) return defs;
  return defs.map((def) => {
    const op = def.audit;
    if (!op) return def;
    return {
      ...def,
      handler: (args: Record<string, unknown>, ctx: ToolContext) => {
        const tool = typeof args.tool === 'string' ? args.tool : undefined;
        const entry = typeof args.id === 'string' ? args.id : tool ? opts.entryOfTool?.(tool) : undefined;
        // registry-exec: the shape of the mounted tool's arguments is what matters.
        const shapeOf = op === 'exec' ? args.arguments : args;
        return auditToolCall(auditLog, { op, client: ctx.clientName, entry, tool, args: shapeOf ?? {} }, () => def.handler(args as never, ctx));
      },
    } as ToolDef;
  });
}

/**
 * Mounted tools called directly (not through registry-exec) audited as `exec` records: wrap the provider before
 * handing it to the server (`reg.addProvider(auditedProvider(manager, audit, {entryOfTool}))`).
 */
export function auditedProvider(provider: ToolProvider, auditLog: AuditLog | null | undefined, opts: Pick<AuditedToolsOptions, 'entryOfTool'> = {}): ToolProvider {
  if (!auditLog) return provider;
  return {
    listTools: () => provider.listTools(),
    callTool(name, args, ctx) {
      const pending = provider.callTool(name, args, ctx);
      if (!pending) return undefined;
      return auditToolCall(auditLog, { op: 'exec', client: ctx.clientName, entry: opts.entryOfTool?.(name), tool: name, args: args ?? {} }, () => pending);
    },
  };
}
