// The seam between a mount and how its server starts: one Launcher per kind of launch plan (a container image, a
// remote endpoint; package runners add theirs), each in its own file; the mount manager picks one by plan kind.
import { withOutcome } from '../../governance/audit-log.js';
import type { Governance } from '../../governance/policy.js';
import { ToolError, type ToolContext } from '../../model/tool-contract.js';
import type { Child, ChildOptions } from '../child.js';
import type { LaunchPlan } from '../launch-plan.js';

export type LaunchKind = LaunchPlan['kind'];

/** One start of one mount: the plan, the governance options it runs under, and the child connection's options. */
export interface LaunchRequest<K extends LaunchKind = LaunchKind> {
  entryId: string;
  /** The mount's tool-name prefix (container names are derived from it). */
  prefix: string;
  plan: Extract<LaunchPlan, { kind: K }>;
  governance: Governance;
  childOpts: ChildOptions;
  ctx?: ToolContext;
  /** The user approved this start just now: the image it runs is pinned when it succeeds, not checked against the pin. */
  consented: boolean;
  /**
   * The signature check at launch (governance/launch-signature.ts), called once the start is about to happen: a
   * remote calls it without an image (audited only), a container with the image it runs; the refusal, or undefined.
   */
  verifySignature(image?: { ref: string; digest: () => Promise<string | null> }): Promise<string | undefined>;
}

export interface LaunchResult {
  child: Child;
  /** The image that runs (pinned on success of a consented start). */
  image?: { id: string; ref: string };
  /** The container runs without the resource limits it asked for, and why (AddResult.limits). */
  limits?: string;
}

export interface Launcher<K extends LaunchKind = LaunchKind> {
  /** Start the server; a refusal (policy, pins, URL guard) throws a ToolError marked 'refused'. */
  start(req: LaunchRequest<K>): Promise<LaunchResult>;
}

/** A launcher for every kind of plan. */
export type Launchers = { [K in LaunchKind]: Launcher<K> };

/** A refusal by policy or pins: audited as 'refused', and not counted as a crash (no back-off, no restart limit). */
export function refused(message: string): ToolError {
  return withOutcome(new ToolError(message), 'refused');
}
