/** The destructive-tool gate: which calls count as destructive, and asking, allowing or refusing them. */
import type { Elicit } from '../model/tool-contract.js';

/**
 * Calls to tools a server marks destructive (`annotations.destructiveHint: true`), under policy `destructive`:
 * - allow: call them like any other tool (the default);
 * - ask:   ask the user first through MCP elicitation, and refuse when the client cannot ask;
 * - deny:  refuse them.
 * Only an explicit `destructiveHint: true` counts: the spec's default (true for any tool not marked read-only)
 * would make "ask" ask for nearly every tool of every server.
 */

export type DestructiveMode = 'ask' | 'allow' | 'deny';

export interface AnnotatedTool {
  /** The name the agent called (mounted name). */
  name: string;
  annotations?: { destructiveHint?: boolean; title?: string } & Record<string, unknown>;
}

export type DestructiveDecision = { ok: true; asked: boolean } | { ok: false; outcome: 'refused'; reason: string };

export function isDestructive(tool: AnnotatedTool): boolean {
  return tool.annotations?.destructiveHint === true;
}

const PREVIEW_CHARS = 500;

/** The arguments as the user will see them in the question (bounded; `redact` removes known secrets). */
function preview(args: Record<string, unknown> | undefined, redact: (s: string) => string): string {
  if (!args || !Object.keys(args).length) return 'no arguments';
  const text = redact(JSON.stringify(args));
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
}

/**
 * Whether a call may go ahead under the policy mode. With `ask`, the user answers a yes/no elicitation naming the
 * server, the tool and the arguments.
 */
export async function destructiveGate(
  mode: DestructiveMode,
  tool: AnnotatedTool,
  call: { entryId: string; args?: Record<string, unknown>; redact?: (s: string) => string },
  ctx: { elicit?: Elicit },
): Promise<DestructiveDecision> {
  if (mode === 'allow' || !isDestructive(tool)) return { ok: true, asked: false };
  const setting = `destructive: ${mode} in policy.yaml`;
  if (mode === 'deny') {
    return { ok: false, outcome: 'refused', reason: `${tool.name} (from ${call.entryId}) is marked destructive, and ${setting} refuses such calls. Change that setting (globally or for ${call.entryId}) to allow it.` };
  }
  if (!ctx.elicit) {
    return {
      ok: false,
      outcome: 'refused',
      reason: `${tool.name} (from ${call.entryId}) is marked destructive and ${setting} requires asking you first, but this client cannot ask (no elicitation support). Use a client that supports elicitation, or set destructive: allow for ${call.entryId} in policy.yaml.`,
    };
  }
  const title = tool.annotations?.title ? ` ("${tool.annotations.title}")` : '';
  let answer: Awaited<ReturnType<Elicit>>;
  try {
    answer = await ctx.elicit(
      `The agent wants to call ${tool.name}${title} from ${call.entryId}, which the server marks as destructive (it may delete or overwrite data). Arguments: ${preview(call.args, call.redact ?? ((s) => s))}. Allow this call?`,
      { type: 'object', properties: { confirm: { type: 'boolean', title: 'Allow this call', description: `Run ${tool.name} once with these arguments` } }, required: ['confirm'] },
    );
  } catch (err) {
    return { ok: false, outcome: 'refused', reason: `${tool.name} needs your confirmation (it is marked destructive), but asking failed: ${(err as Error).message}. Nothing was run.` };
  }
  if (answer.action === 'accept' && answer.content?.confirm === true) return { ok: true, asked: true };
  const how = answer.action === 'cancel' ? 'cancelled' : 'declined';
  return { ok: false, outcome: 'refused', reason: `You ${how} the call to ${tool.name} (marked destructive), so it was not run.` };
}
