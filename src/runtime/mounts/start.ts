/** Launching a mount: the launch choice (source, version), its plan with settings and secrets, the package build, the policy check of now. */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Entry } from '../../model/entry.js';
import { describeLaunchRef, launchEntry, launchSourceOf, launchSources, pickLaunch, type LaunchChoice } from '../../model/launch-choice.js';
import { errorMessage } from '../../util/log.js';
import { ToolError, type ToolContext } from '../../model/tool-contract.js';
import { verifyAtLaunch } from '../../governance/launch-signature.js';
import type { Child } from '../child.js';
import type { LaunchView } from '../../catalog/views.js';
import type { Policy } from '../../governance/policy.js';
import { refused, type LaunchRequest } from './launcher.js';
import { atVersion, type Mount, type MountSet, Room } from './mount.js';
import type { Approval, Grant } from './approval.js';
import type { ToolView } from './tool-view.js';

/**
 * Loaded on first use: the MCP client, its HTTP transports and Ajv cost tens of milliseconds to import, and the
 * registry must answer `initialize` before any of them is needed.
 */
export const load = {
  plan: () => import('../launch-plan.js'),
  settings: () => import('../settings.js'),
  built: () => import('../build/start.js'),
};

/** How long a stopped child may take to exit after its stdin closed before its container is removed by force. */
const STOP_GRACE_MS = 2_000;

/** What the lifecycle hears of a launched child: its exit, and what happens next (for its messages). */
export interface ChildEvents {
  onExit(reason: string): void;
  nextStep(): string;
}

/**
 * How a mount's child comes to run: which source's launch, at which version, planned with its settings and secrets
 * (npm/PyPI packages built into an image first), checked against the policy of now and the signature, and handed
 * to the launcher of its kind. Also registry-info's preview of every launch of an entry.
 */
export class Starter extends Room {
  constructor(
    core: MountSet,
    private readonly approval: Approval,
    private readonly view: ToolView,
  ) {
    super(core);
  }

  /** The plan of one launch (`choice`; none: the entry has nothing runnable and planLaunch says why). */
  async plan(entry: Entry, choice: LaunchChoice | undefined) {
    const [settings, secrets, policy] = await Promise.all([this.deps.state.settings(entry.id), this.deps.secrets.get(entry.id), this.core.policyOrFail()]);
    const [{ planLaunch }, { plannedChoice }] = await Promise.all([load.plan(), load.built()]);
    // A package still to build is planned as the image it builds to (launch() hands over the built one).
    if (choice) choice = plannedChoice(choice, this.deps.runtime);
    return planLaunch(choice ? launchEntry(entry, choice) : entry, {
      settings,
      secrets,
      defaults: { memory: this.deps.runtime.memory, cpus: this.deps.runtime.cpus, pidsLimit: this.deps.runtime.pidsLimit },
      overrides: policy.overridesFor(entry),
    });
  }

  async launch(mount: Mount, gen: number, ctx: ToolContext | undefined, grant: Grant, events: ChildEvents): Promise<Child> {
    const entry = atVersion(await this.deps.resolve(mount.id), mount.version);
    const policy = await this.core.policyOrFail();
    // Always the launch of the source added (a source added to the catalog since cannot take over the mount).
    const recorded = mount.source !== undefined;
    const choice = this.choose(entry, mount.source, recorded);
    // Every start (add, restore, restart after a crash or idle stop) answers to the policy of now; one that needs
    // approval goes ahead with the user's consent — given just now, or earlier to this mount in this process.
    const v = await this.core.startGate.check(entry, choice, { consented: !!(grant.consent || mount.consent) });
    if (v.verdict === 'refused') throw refused(v.reason);
    if (v.verdict === 'needs-approval') grant.consent = await this.approval.askConsent(entry, v.decision, ctx, choice);
    // A mount saved before mounts named their source stays with the one it runs now.
    if (choice && !recorded) await this.recordSource(mount, choice.source);
    const built = await this.buildPackage(entry, choice, ctx, !!(grant.consent || mount.consent));
    const res = await this.plan(entry, built?.choice ?? choice);
    mount.entry = entry;
    mount.pinned = policy.toolsFor(entry);
    const g = policy.governanceFor(entry);
    mount.gov = { policy, g };
    if (!res.ok) throw res.refused ? refused(res.message) : new ToolError(res.message);
    this.deps.redactor.add(res.secretValues);
    const plan = res.plan;
    built?.adjust(plan, policy.overridesFor(entry));
    const childOpts = {
      label: entry.id,
      log: this.log.child(mount.prefix),
      startTimeout: this.deps.runtime.startTimeout,
      callTimeout: this.deps.runtime.callTimeout,
      prior: await this.deps.pins.era(entry.id),
      redact: (s: string) => this.deps.redactor.text(s),
      onToolsChanged: (tools: Tool[]) => {
        if (mount.generation === gen && !mount.removed) {
          this.view.applyTools(mount, tools, gen).catch((err) => this.log.warn(`${mount.id}: could not check its new tool list against the approved one (keeping the old list): ${errorMessage(err)}`));
        }
      },
      onResourcesChanged: () => this.deps.notify.resourcesChanged(),
      onPromptsChanged: () => this.deps.notify.promptsChanged(),
      onExit: (reason: string) => events.onExit(reason),
      nextStep: () => events.nextStep(),
      stopGrace: STOP_GRACE_MS,
    };
    const consented = !!grant.consent;
    // The signature check at launch (governance/launch-signature.ts): audited for a remote; for a container, the
    // image that runs is the signed one (by digest), or the start is refused.
    const requireSigned = policy.requireSignedFor(entry);
    const audit = this.deps.audit ?? undefined;
    // A built package is checked by what its build installed (the signature names the package, not our image).
    const builtCheck = built ? { built: { kind: built.record.kind, image: built.record.image, installed: built.record.installed } } : {};
    const verifySignature: LaunchRequest['verifySignature'] = (image) =>
      verifyAtLaunch(image ? { entry, launchSource: choice?.source, requireSigned, audit, log: this.log, image, ...builtCheck } : { entry, launchSource: choice?.source, requireSigned, audit });
    if (plan.kind === 'remote') {
      const { child } = await this.core.launchers.remote.start({ entryId: entry.id, prefix: mount.prefix, plan, governance: g, childOpts, ctx, consented, verifySignature });
      return child;
    }
    if (plan.kind === 'poci') return (await this.core.launchers.poci.start({ entryId: entry.id, prefix: mount.prefix, plan, governance: g, childOpts, ctx, consented, verifySignature })).child;
    mount.limits = undefined;
    const started = await this.core.launchers.container.start({ entryId: entry.id, prefix: mount.prefix, plan, governance: g, childOpts, ctx, consented, verifySignature });
    if (started.image) grant.image = started.image;
    mount.limits = started.limits;
    return started.child;
  }

  /** npm and PyPI packages, MCPB bundles: built once into a local image (progress notified), checked against the pins; else undefined. */
  private async buildPackage(entry: Entry, choice: LaunchChoice | undefined, ctx: ToolContext | undefined, approvedNow: boolean) {
    const seam = await load.built();
    if (!seam.isBuiltLaunch(choice)) return undefined;
    const kit = await this.deps.containers();
    const progress = ctx ? (p: number, t: number | undefined, m: string) => ctx.progress(p, t, m) : undefined;
    const governance = (await this.core.policyOrFail()).governanceFor(entry);
    const r = await seam.startBuilt({ entry, choice: choice!, podman: kit.podman, instance: kit.instance, runtime: this.deps.runtime, pins: this.deps.pins, state: this.deps.state, approvedNow, governance, ...(progress ? { progress } : {}), log: this.log });
    if (!r.ok) throw r.refused ? refused(r.message) : Object.assign(new ToolError(r.message), r.preparing ? { preparing: true } : {});
    this.deps.onBuilt?.();
    return r;
  }

  /** registry-info's view of an npm or PyPI launch: its image, built or not, and its command; undefined for the rest. */
  private async previewBuild(entry: Entry, choice: LaunchChoice, policy: Policy, args: string[] | undefined) {
    const seam = await load.built();
    if (!seam.isBuiltLaunch(choice)) return undefined;
    const kit = await this.deps.containers();
    return seam.previewBuilt({ entry, choice, runtime: this.deps.runtime, podman: kit.podman, overrides: policy.overridesFor(entry), ...(args ? { args } : {}) });
  }

  /**
   * The launch that starts: `source`'s, else the default. `asked`: the source was named (by the user, or by the
   * mount record), so a source without a runnable launch is an error listing the ones there are. Undefined when the
   * entry has nothing runnable (planLaunch then says why).
   */
  choose(entry: Entry, source: string | undefined, asked: boolean): LaunchChoice | undefined {
    const pick = pickLaunch(entry, source);
    if (pick.ok) return pick.choice;
    if (asked && source !== undefined) {
      const others = launchSources(entry).filter((s) => s !== source && pickLaunch(entry, s).ok);
      throw new ToolError(
        `${pick.reason}. ${others.length ? `Pass "source" as one of ${others.map((s) => `"${s}"`).join(', ')}, or leave it out for the default` : 'No other source has a launch that runs here'}` +
          `${this.core.byId.get(entry.id)?.source === source ? `; registry-remove ${entry.id} and add it again to run another source's launch` : ''}.`,
      );
    }
    return undefined;
  }

  /** A mount saved before launches were tied to sources adopts the one it runs now, so it stays with it. */
  private async recordSource(mount: Mount, source: string): Promise<void> {
    mount.source = source;
    const saved = (await this.deps.state.mounts()).find((m) => m.id === mount.id);
    if (saved && !saved.source) await this.deps.state.putMount({ ...saved, source }).catch((err) => this.log.debug(`could not save the source of ${mount.id}: ${errorMessage(err)}`));
  }

  /**
   * Every launch of an entry, before anything starts: its source and trust, whether it is the default (or the one
   * mounted), and for a container who it would run as and what it would mount — or why it would not start.
   */
  async previewLaunches(entry: Entry, approvals?: Record<string, unknown>): Promise<LaunchView[]> {
    const policy = await this.core.policyOrFail();
    const approved = approvals ?? (await this.core.approvals());
    const def = pickLaunch(entry);
    // Mounted under an id that has since become an alias (a source ahead of it appeared) counts too.
    const mounted = [entry.id, ...entry.aliases].map((id) => this.core.byId.get(id)).find(Boolean)?.source;
    const out: LaunchView[] = [];
    for (const source of launchSources(entry)) {
      const pick = pickLaunch(entry, source);
      const d = policy.decide(entry, approved, { source });
      const first = entry.launch.find((l) => launchSourceOf(entry, l) === source)!;
      const p: LaunchView = {
        source,
        sourceId: d.launch?.sourceId ?? entry.id,
        launch: describeLaunchRef(pick.ok ? pick.choice.launch : first),
        default: def.ok && def.choice.source === source,
        ...(mounted === source ? { mounted: true } : {}),
        trust: { status: d.allowed ? 'allowed' : d.needsApproval ? 'needs-approval' : 'denied', reason: d.reason, ...(d.command ? { command: d.command } : {}) },
      };
      if (!pick.ok) p.problem = pick.reason;
      else {
        const res = await this.plan(entry, pick.choice);
        if (!res.ok) {
          if (res.missing.length && !res.refused) p.missing = res.missing.map((m) => m.name);
          // A path problem on a setting is a missing value with a reason; say the reason too.
          p.problem = res.message;
        } else if (res.plan.kind === 'container') {
          const serves = res.plan.serves && { transport: res.plan.serves.transport, port: res.plan.serves.containerPort, path: res.plan.serves.path };
          p.container = { image: res.plan.image, user: res.plan.user ?? 'image default', network: res.plan.network, mounts: res.plan.mounts, ...(serves ? { serves } : {}) };
          const build = await this.previewBuild(entry, pick.choice, policy, res.plan.command);
          if (build) Object.assign(p, { build, container: { ...p.container, network: build.network } });
        } else if (res.plan.kind === 'poci') {
          p.container = { image: [...new Set(res.plan.tools.map((t) => t.image))].join(', '), user: res.plan.user ?? 'image default', network: res.plan.network, mounts: res.plan.mounts };
          p.poci = { tools: res.plan.tools.map((t) => ({ name: t.name, image: t.image, ...(t.command ? { command: t.command } : {}) })) };
        } else p.remote = { url: res.plan.url };
      }
      out.push(p);
    }
    return out;
  }
}
