/** A call to a mounted tool: start the server if needed, then the call-time governance (withheld, blocked, destructive, secret scan). */
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { errorMessage } from '../../util/log.js';
import type { ToolContext } from '../../model/tool-contract.js';
import { quoteInput } from '../../util/quote.js';
import type { Governance } from '../../governance/policy.js';
import { errorResult, type Mount, type MountSet, outcomeOf, Room } from './mount.js';
import type { Lifecycle } from './lifecycle.js';
import { withheldMessage, type ToolView } from './tool-view.js';

/** A caller's own condition on a mounted tool (its live listing): a reason to refuse the call, or undefined. */
export type CallRefusal = (tool: Tool) => string | undefined;

/**
 * One call to a mounted tool, from the MCP layer or registry-exec: a stopped server starts first; a withheld tool,
 * a server the policy of now blocks, or a destructive tool the user did not confirm is answered with an error
 * result; the result is redacted before it leaves.
 */
export class MountCalls extends Room {
  constructor(
    core: MountSet,
    private readonly lifecycle: Lifecycle,
    private readonly view: ToolView,
  ) {
    super(core);
  }

  async callMounted(mount: Mount, name: string, args: Record<string, unknown> | undefined, ctx: ToolContext, refuse?: CallRefusal): Promise<CallToolResult> {
    mount.inFlight++;
    try {
      let child = mount.child;
      if (!child || !child.alive || mount.pending || mount.restoring) {
        try {
          child = await this.lifecycle.ensureRunning(mount, ctx);
        } catch (err) {
          return errorResult(errorMessage(err), outcomeOf(err));
        }
      }
      let original = mount.tools.original(name);
      // An approval may have been given in a terminal since the last poll: look before refusing.
      if (original !== undefined && mount.withheldNames.has(original)) {
        await this.view.recheckPins(mount);
        original = mount.tools.original(name);
      }
      if (original === undefined) {
        return errorResult(`${mount.id} has no tool ${quoteInput(name)}. Its tools: ${mount.listed.map((t) => t.name).join(', ') || '(none)'}.`);
      }
      if (mount.withheldNames.has(original)) return errorResult(withheldMessage(mount, name, original), 'withheld');
      const refusal = refuse?.(mount.listedByName.get(name) ?? { name, inputSchema: { type: 'object' } });
      if (refusal) return errorResult(refusal, 'refused');
      const gov = this.governance(mount);
      if (gov?.blocked) {
        void this.lifecycle.stopChild(mount);
        mount.state = 'failed';
        mount.lastError = gov.blocked;
        return errorResult(gov.blocked, 'refused');
      }
      const gate = this.core.callGate;
      if (gov) {
        const tool = mount.listedByName.get(name);
        const verdict = await gate.check({ entryId: mount.id, tool: { name, annotations: tool?.annotations }, args, redact: (s) => this.deps.redactor.text(s) }, gov.g, ctx);
        if (!verdict.ok) return errorResult(verdict.reason, verdict.outcome);
      }
      const scan = gov !== undefined;
      if (scan) this.warnCredentials(`arguments of ${name} (${mount.id})`, args, gov.g);
      // Progress is asked of the child only when our client asked for it (else the SDK tracks a token per call).
      const onProgress = ctx.progressWanted ? (p: number, t: number | undefined, m: string | undefined) => ctx.progress(p, t, m ?? '') : undefined;
      // The caller's elicitation and logs reach the child's questions and log messages, whatever era each speaks.
      const result = await child.callTool(original, args, { signal: ctx.signal, onProgress, elicit: ctx.elicit, logLevel: ctx.logLevel, log: ctx.log });
      const out = this.deps.redactor.active ? this.deps.redactor.result(result) : result;
      if (scan) this.warnCredentials(`result of ${name} (${mount.id})`, out, gov.g);
      return out;
    } finally {
      mount.inFlight--;
      mount.lastUsed = Date.now();
    }
  }

  private warnCredentials(what: string, value: unknown, g: Governance): void {
    const w = this.core.callGate.scan(what, value, g);
    if (w) this.log.warn(w);
  }

  /**
   * The governance options of a mount under the policy of now (from the snapshot, no waiting: this is the call
   * path). When policy.yaml changed since the start, they are recomputed, and a server the new policy forbids is
   * `blocked`.
   */
  private governance(mount: Mount): Mount['gov'] {
    const policy = this.deps.policyNow?.();
    if (!policy || !mount.gov || mount.gov.policy === policy || !mount.entry) return mount.gov;
    const blocked = this.core.callGate.blocked(policy, { id: mount.id, entry: mount.entry, source: mount.source });
    mount.gov = { policy, g: policy.governanceFor(mount.entry), ...(blocked ? { blocked } : {}) };
    return mount.gov;
  }
}
