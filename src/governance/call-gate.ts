/** "May this call go through?": one answer for every call to a mounted tool — blocked servers, destructive confirmation, the secret scan. */
import type { Entry } from '../model/entry.js';
import type { Elicit } from '../model/tool-contract.js';
import { destructiveGate, type AnnotatedTool } from './destructive.js';
import type { Governance, Policy } from './policy.js';
import { credentialWarning } from './secret-scan.js';

/*
 * Every call to a mounted tool reaches this gate: a call by its mounted name from the client, registry-exec, and
 * registry-exec of a tool whose server was started just for it (tools/jit-exec.ts starts it, then calls through the
 * same path). Which tools a server offers at all (policy's `tools`, withheld tools) is the tool view's job.
 */

export interface CallRequest {
  entryId: string;
  /** The tool as the agent called it (mounted name) and its annotations (destructiveHint). */
  tool: AnnotatedTool;
  args?: Record<string, unknown>;
  /** Removes known secret values from what the user is shown. */
  redact?: (s: string) => string;
}

export type CallVerdict = { ok: true } | { ok: false; outcome: 'refused'; reason: string };

export interface CallGate {
  /** Why a running server (mounted as `id`) may no longer run under `policy` (denied since it started), or undefined. */
  blocked(policy: Policy, running: { id: string; entry: Entry; source?: string }): string | undefined;
  /** Before the call: a destructive tool is asked about (elicitation) or refused, as policy's `destructive` says. */
  check(req: CallRequest, g: Governance, ctx: { elicit?: Elicit }): Promise<CallVerdict>;
  /** policy `scanSecrets: warn`: the warning for arguments or a result that look like credentials, or undefined. */
  scan(what: string, value: unknown, g: Governance): string | undefined;
}

export const defaultCallGate: CallGate = {
  blocked(policy, { id, entry, source }) {
    // Approvals are not consulted: a server that needs approval was approved to start; only a denial stops it.
    const d = policy.decide(entry, undefined, { source });
    return !d.allowed && !d.needsApproval ? `${id} may no longer run: ${d.reason}. It was stopped.` : undefined;
  },
  async check(req, g, ctx) {
    if (g.destructive === 'allow') return { ok: true };
    const gate = await destructiveGate(g.destructive, req.tool, { entryId: req.entryId, args: req.args, ...(req.redact ? { redact: req.redact } : {}) }, ctx);
    return gate.ok ? { ok: true } : gate;
  },
  scan(what, value, g) {
    if (g.scanSecrets !== 'warn') return undefined;
    const w = credentialWarning(what, value);
    return w ? `${w} (policy scanSecrets: warn)` : undefined;
  },
};

/** For tests of other parts: every call goes through, nothing is scanned. */
export const permissiveCallGate: CallGate = {
  blocked: () => undefined,
  check: async () => ({ ok: true }),
  scan: () => undefined,
};
