/** "May this start now?": one answer, from policy (rules, catalog lifecycle, signature rule) and approvals, for every path that starts a server. */
import type { Entry } from '../model/entry.js';
import type { AuditLog } from './audit-log.js';
import { auditSignatureRefusal } from './launch-signature.js';
import type { Policy, PolicyDecision } from './policy.js';

/*
 * Every start asks this gate, whatever started it: registry-add, registry-exec of a tool whose server is not mounted
 * yet (tools/jit-exec.ts goes through registry-add), the restore of saved mounts at start-up, a restart after a
 * crash or idle stop, a config-set restart, and `mcp-registry prepare` (a build runs the package's installer). The
 * checks that need the image itself — its pin and its signature by digest — run in the container launcher, on the
 * image about to run; the gate answers before anything is pulled, built or started.
 */

/** The launch asked about: the source whose launch would start (undefined: the entry's default launch). */
export interface StartChoice {
  source: string;
}

export interface StartContext {
  /** The user consented to this start (or to this mount in this process): a start that needs approval goes ahead. */
  consented?: boolean;
}

export type StartVerdict =
  | { verdict: 'allowed'; decision: PolicyDecision; warning?: string }
  /** The user may approve it: asked by elicitation, or `next` in a terminal. */
  | { verdict: 'needs-approval'; decision: PolicyDecision; reason: string; next: string }
  /** Denied (or disabled, or unsigned where a signature is required): nothing the user can answer starts it. */
  | { verdict: 'refused'; decision?: PolicyDecision; reason: string; next: string };

export interface StartGate {
  check(entry: Entry, choice: StartChoice | undefined, ctx?: StartContext): Promise<StartVerdict>;
}

export interface PolicyStartGateDeps {
  /** The policy of now (re-read when the file changed); throws when it is broken (then nothing starts). */
  policy(): Promise<Policy>;
  /** Approvals recorded in state (`mcp-registry allow`, "always"). */
  approvals(): Promise<Record<string, unknown>>;
  /** A refusal for want of a signature is audited (op verify), whichever path asked. */
  audit?: AuditLog | null;
}

/** The gate every start uses: policy's decision over the recorded approvals, a signature refusal audited. */
export function policyStartGate(deps: PolicyStartGateDeps): StartGate {
  return {
    async check(entry, choice, ctx = {}) {
      const policy = await deps.policy();
      const decision = policy.decide(entry, await deps.approvals(), { source: choice?.source });
      if (decision.allowed) return { verdict: 'allowed', decision, ...(decision.warning ? { warning: decision.warning } : {}) };
      if (!decision.needsApproval) {
        auditSignatureRefusal(deps.audit ?? undefined, entry, choice?.source, policy.requireSignedFor(entry));
        return { verdict: 'refused', decision, reason: `${entry.id} may not be started: ${decision.reason}`, next: `change ${policyFileOf(decision)} if it should run` };
      }
      const next = decision.command ?? `mcp-registry allow ${entry.id}`;
      if (ctx.consented) return { verdict: 'allowed', decision };
      return { verdict: 'needs-approval', decision, reason: decision.reason, next };
    },
  };
}

/** For tests of other parts: every start is allowed, nothing is asked. */
export const permissiveStartGate: StartGate = {
  async check() {
    return { verdict: 'allowed', decision: { allowed: true, needsApproval: false, reason: 'allowed (permissive start gate)' } };
  },
};

function policyFileOf(d: PolicyDecision): string {
  return /policy\.ya?ml/.exec(d.reason)?.[0] ?? 'the policy file';
}
