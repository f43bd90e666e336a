// registry-exec-readonly: registry-exec for tools their server marks read-only, so a client may always allow it.
import { withOutcome } from '../governance/audit-log.js';
import type { ToolHints } from '../model/entry.js';
import { ToolError } from '../model/tool-contract.js';
import type { MountManager } from '../runtime/mounts/manager.js';
import { quoteInput } from '../util/quote.js';
import { execInput } from './registry-exec.js';
import { defineTool, type ToolDef } from './tool-def.js';

export const READONLY_EXEC = 'registry-exec-readonly';

/*
 * Only a tool its server annotates `readOnlyHint: true` (and not `destructiveHint: true`) is called; anything else
 * is refused before the child sees it, pointing at registry-exec, which keeps the confirmation policy asks for. A
 * client's "always allow read-only tools" can then cover this tool without covering writes.
 */

/** Where the annotations judged came from: the running server, an earlier start, or the catalog. */
export type HintsOrigin = 'live' | 'learned' | 'declared';

/** Why a call through registry-exec-readonly is refused, or undefined when the tool is read-only. */
export function readOnlyRefusal(tool: { name: string; annotations?: ToolHints }, origin: HintsOrigin): string | undefined {
  const a = tool.annotations;
  const name = quoteInput(tool.name);
  const instead = `Call it with registry-exec instead (it keeps the confirmation policy asks for).`;
  if (a?.readOnlyHint === true && a.destructiveHint !== true) return undefined;
  if (a?.readOnlyHint === true) return `${READONLY_EXEC} refused ${name}: it is marked both read-only and destructive, and this tool calls only tools that are read-only and not destructive. ${instead}`;
  if (origin === 'live') return `${READONLY_EXEC} refused ${name}: its server does not mark it read-only (readOnlyHint), so it may change something. ${instead}`;
  const said = origin === 'learned' ? 'when it last ran, its server did not mark it read-only' : a?.readOnlyHint === false ? 'the catalog marks it as not read-only' : 'its server is not running and the catalog does not say whether it is read-only';
  return `${READONLY_EXEC} refused ${name}: ${said}, so nothing was started. ${instead} Or registry-add its server first: then this tool judges by what the running server says.`;
}

/** A refusal the audit log records as "refused", not as an error. */
export function readOnlyError(message: string): ToolError {
  return withOutcome(new ToolError(message), 'refused');
}

export function registryExecReadonly(manager: MountManager): ToolDef {
  return defineTool({
    name: READONLY_EXEC,
    audit: 'exec',
    title: 'Call a read-only mounted tool',
    description:
      'registry-exec for read-only tools: calls a tool only if its server marks it read-only (readOnlyHint), and refuses any other. Same input as registry-exec; use registry-exec for tools that change things.',
    input: execInput,
    annotations: { readOnlyHint: true, openWorldHint: true },
    async handler(args, ctx) {
      // Judged from the listing first, so a stopped server is not started for a call that will be refused.
      const listed = manager.listTools().find((t) => t.name === args.tool);
      const refusal = listed && readOnlyRefusal(listed, 'live');
      if (refusal) throw readOnlyError(refusal);
      return manager.exec(args.tool, args.arguments, ctx, (tool) => readOnlyRefusal(tool, 'live'));
    },
  });
}
