/** Approval by elicitation: whether policy lets an entry start, asking the user when it needs approval; recording a "yes". */
import type { Entry, Launch } from '../../model/entry.js';
import type { LaunchChoice } from '../../model/launch-choice.js';
import { errorMessage } from '../../util/log.js';
import type { ToolContext } from '../../model/tool-contract.js';
import type { AuditOutcome } from '../../governance/audit-record.js';
import { tryQualifyImageRef } from '../../model/image-ref.js';
import type { PolicyDecision } from '../../governance/policy.js';
import { refused } from './launcher.js';
import { type Mount, Room } from './mount.js';

/**
 * What the user may answer when an entry needs approval: start it this time (this mount, while this registry
 * runs), or always (a durable approval in state). A plain string enum: every elicitation-capable client renders it.
 */
export const CONSENT_ANSWERS = { 'this time': 'once', always: 'always' } as const;
export type ConsentChoice = (typeof CONSENT_ANSWERS)[keyof typeof CONSENT_ANSWERS];

/** A "yes" the user gave; nothing of it is recorded (approval, pins, audit "ok") until the start it allowed succeeded. */
export interface Consent {
  choice: ConsentChoice;
  /** As approvals and pins record it: `elicitation (<client>), this time`. */
  by: string;
  client?: string;
  askedAt: number;
  /** The launch approved: its source, and the id that source lists the entry by (where "always" is kept). */
  launch?: { source: string; sourceId: string };
}

/** A start's consent: given by the caller, or asked for during the start; and the image it lets run (pinned on success). */
export interface Grant {
  consent?: Consent;
  image?: { id: string; ref: string };
}

/** Policy's verdict on a start, and the user's answer when it needs approval (elicitation, "this time" or "always"). */
export class Approval extends Room {
  /**
   * Whether policy lets the entry start, asking the user (elicitation) when it needs approval — unless the user
   * already consented to this mount in this process. Returns the consent given just now (the start records it if
   * it succeeds), and policy's warning (deprecated).
   */
  async checkPolicy(entry: Entry, ctx: ToolContext, mount: Mount | undefined, choice: LaunchChoice | undefined): Promise<{ consent?: Consent; warning?: string }> {
    const v = await this.core.startGate.check(entry, choice, { consented: !!mount?.consent });
    const warned = v.decision?.warning ? { warning: v.decision.warning } : {};
    if (v.verdict === 'refused') throw refused(v.reason);
    if (v.verdict === 'allowed') return warned;
    return { consent: await this.askConsent(entry, v.decision, ctx, choice), ...warned };
  }

  /**
   * Ask the user whether an entry that needs approval may start (the launch of `choice`): this time, or always.
   * Refused when they cannot or do not.
   */
  async askConsent(entry: Entry, d: PolicyDecision, ctx: ToolContext | undefined, launch: LaunchChoice | undefined): Promise<Consent> {
    const command = d.command ?? `mcp-registry allow ${entry.id}`;
    if (!ctx?.elicit) {
      throw refused(`${d.reason}. To allow it, run this in a terminal: ${command} — then call registry-add again.`);
    }
    const askedAt = Date.now();
    const record = (outcome: AuditOutcome, error: string) =>
      this.deps.audit?.write({ op: 'approve', client: ctx.clientName, entry: entry.id, outcome, durationMs: Date.now() - askedAt, error });
    const answer = await ctx
      .elicit(
        `Start the MCP server ${entry.id}? ${d.reason}. ${describeLaunch(launch)} It runs in a hardened container with your settings for it. ` +
          `"this time": start it now only — you are asked again after the registry restarts or when it is added again. "always": approve it for good (mcp-registry deny ${entry.id} blocks it again).`,
        {
          type: 'object',
          properties: { start: { type: 'string', title: `Start ${entry.id}`, description: 'this time, or always', enum: Object.keys(CONSENT_ANSWERS) } },
          required: ['start'],
        },
      )
      .catch(async (err) => {
        const e = refused(`${entry.id} needs your approval, but asking failed (${errorMessage(err)}). To allow it, run: ${command}`);
        await record('error', e.message);
        throw e;
      });
    const picked = answer.content?.start;
    const choice = answer.action === 'accept' && typeof picked === 'string' && Object.hasOwn(CONSENT_ANSWERS, picked) ? CONSENT_ANSWERS[picked as keyof typeof CONSENT_ANSWERS] : undefined;
    if (!choice) {
      const e = refused(`${entry.id} was not approved, so it was not started. To allow it later, run: ${command}`);
      await record('refused', `the user answered ${answer.action}${answer.action === 'accept' ? ` without choosing "this time" or "always"` : ''}`);
      throw e;
    }
    const by = `elicitation${ctx.clientName ? ` (${ctx.clientName})` : ''}, ${choice === 'once' ? 'this time' : 'always'}`;
    return { choice, by, ...(ctx.clientName ? { client: ctx.clientName } : {}), askedAt, ...(d.launch ? { launch: d.launch } : {}) };
  }

  /**
   * A start the user consented to has succeeded: pin the image and tools it presented (they guard its later starts),
   * store the approval when they chose "always", and keep the consent on the mount for its restarts in this process.
   */
  async recordConsent(mount: Mount, consent: Consent, image?: Grant['image']): Promise<void> {
    mount.consent = consent;
    try {
      await this.deps.pins.approve(mount.id, { ...(image ? { imageId: image.id, imageRef: image.ref } : {}), tools: mount.presented, by: consent.by });
      // Kept under the id of the source whose launch was approved, naming it: it approves that launch, no other.
      if (consent.choice === 'always') await this.deps.state.approve(consent.launch?.sourceId ?? mount.id, consent.by, consent.launch?.source);
    } catch (err) {
      // It runs (the user said yes); only what protects later starts is missing, and a later start asks or pins anew.
      const why = `${mount.id} started, but its approval could not be saved: ${errorMessage(err)}`;
      this.log.warn(why);
      await this.auditConsent(mount.id, consent, 'error', why);
      return;
    }
    await this.auditConsent(mount.id, consent, 'ok');
    this.log.info(`${mount.id} approved by the user (${consent.choice === 'always' ? 'always' : 'this time only'}${consent.client ? `, client ${consent.client}` : ''})`);
  }

  async auditConsent(entryId: string, consent: Consent, outcome: AuditOutcome, error?: string): Promise<void> {
    await this.deps.audit?.write({ op: 'approve', client: consent.client, entry: entryId, outcome, choice: consent.choice, durationMs: Date.now() - consent.askedAt, ...(error ? { error } : {}) });
  }
}

function describeLaunch(choice: LaunchChoice | undefined): string {
  const l: Launch | undefined = choice?.launch;
  if (!l) return '';
  const from = ` (from source "${choice!.source}")`;
  if (l.type === 'image') return `Image: ${tryQualifyImageRef(l.image) ?? l.image}${from}.`;
  if (l.type === 'package') return `Package: ${l.identifier}${from}.`;
  if (l.type === 'remote') return `Remote endpoint: ${l.url}${from}.`;
  return '';
}
