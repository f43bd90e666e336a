/** The live mounts: start on add, restore after a restart, restart after a crash, idle stop, shutdown. */
import { ABSENT, fileStamp } from '../../util/file-stamp.js';
import type { CallToolResult, GetPromptResult, Prompt, ReadResourceResult, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Entry, Launch } from '../../model/entry.js';
import { describeLaunchRef, launchEntry, launchSourceOf, launchSources, pickLaunch, type LaunchChoice } from '../../model/launch-choice.js';
import { formatDuration, type RegistryConfig } from '../../config/config.js';
import { errorMessage, type Logger } from '../../util/log.js';
import { ToolError, type ResourceProvider, type ToolContext, type ToolProvider } from '../../model/tool-contract.js';
import { quoteInput } from '../../util/quote.js';
import { withOutcome, type AuditLog } from '../../governance/audit-log.js';
import type { AuditOutcome } from '../../governance/audit-record.js';
import { auditSignatureRefusal, verifyAtLaunch } from '../../governance/launch-signature.js';
import { entryAtVersion } from '../../model/versions.js';
import { destructiveGate } from '../../governance/destructive.js';
import type { PinStore, ToolCheck } from '../../governance/pins.js';
import { credentialWarning } from '../../governance/secret-scan.js';
import type { Child } from '../child.js';
import { tryQualifyImageRef } from '../../model/image-ref.js';
import type { LaunchView } from '../../catalog/views.js';
import { derivePrefix, Namer, prefixOf, prefixProblem } from '../../model/naming.js';
import type { Podman } from '../podman/podman.js';
import type { Governance, Policy, PolicyDecision } from '../../governance/policy.js';
import { Redactor } from '../../governance/redact.js';
import type { AddResult, MountedTool, MountInfo, MountState } from './mount-info.js';
import { containerLauncher } from './container-launcher.js';
import { refused, type LaunchRequest, type Launchers } from './launcher.js';
import { remoteLauncher } from './remote-launcher.js';
import type { MountRecord, SecretStore, StateStore } from '../../store/state.js';

/**
 * The live side of the runtime: which entries are mounted, their child connections, and everything that keeps
 * them usable — start on add, restore after a registry restart, restart after a crash (with back-off and a limit),
 * stop when idle and start again on the next call, stop everything on shutdown.
 */

export interface MountManagerDeps {
  /** Entry lookup by id or alias (waits for the catalog to load); throws a ToolError naming close ids when there is none. */
  resolve(id: string): Promise<Entry>;
  runtime: RegistryConfig['runtime'];
  /** Podman and this instance's id, loaded on first use (podman.ts pulls in execa: not worth it before a start). */
  containers(): Promise<ContainerKit>;
  state: StateStore;
  secrets: SecretStore;
  /** The current policy (re-read when policy.yaml changed); throws when the file is invalid. */
  policy(): Promise<Policy>;
  /** The policy last loaded, without waiting (refreshes itself in the background); null before the first load. */
  policyNow?(): Policy | null;
  log: Logger;
  redactor: Redactor;
  /** Image and tool pins (governance/pins.ts): what was approved, so a changed server cannot slip in. */
  pins: PinStore;
  /** Where approvals given by elicitation are recorded (tool calls are audited by the server's wrappers). */
  audit?: AuditLog | null;
  notify: { toolsChanged(): void; resourcesChanged(): void; promptsChanged(): void };
  /** How each kind of launch plan starts (default: podman for images, the guarded HTTP client for remotes). */
  launchers?: Partial<Launchers>;
}

export interface ContainerKit {
  podman: Podman;
  /** This registry process's id, the value of the io.mcp-registry.instance label of its containers. */
  instance: string;
  mod: typeof import('../podman/podman.js');
}

/**
 * Loaded on first use: the MCP client, its HTTP transports and Ajv cost tens of milliseconds to import, and the
 * registry must answer `initialize` before any of them is needed.
 */
const load = {
  plan: () => import('../launch-plan.js'),
  settings: () => import('../settings.js'),
  built: () => import('../build/start.js'),
};

/** Back-off before restart n (1-based) after a crash or failed start. */
export function restartDelay(consecutive: number): number {
  if (consecutive <= 0) return 0;
  return Math.min(30_000, 250 * 2 ** (consecutive - 1));
}

/** How long a stopped child may take to exit after its stdin closed before its container is removed by force. */
const STOP_GRACE_MS = 2_000;
/** The same at shutdown, kept short: a client gives the whole registry about 2 s before it sends SIGTERM. */
const SHUTDOWN_GRACE_MS = 750;
/** Saved mounts restored at once at start-up (10 containers at once take ~1 s here; more only queue in podman). */
const RESTORE_CONCURRENCY = 4;
const RESOURCE_SCHEME = 'mcp-registry://';
const CONFIGURED_TTL_MS = 3_000;
/** While tools are withheld, state.json is checked this often for an approval given in a terminal. */
const PIN_POLL_MS = 1_000;

function outcomeOf(err: unknown): AuditOutcome | undefined {
  return (err as { auditOutcome?: AuditOutcome } | null)?.auditOutcome;
}

/**
 * What the user may answer when an entry needs approval: start it this time (this mount, while this registry
 * runs), or always (a durable approval in state). A plain string enum: every elicitation-capable client renders it.
 */
export const CONSENT_ANSWERS = { 'this time': 'once', always: 'always' } as const;
export type ConsentChoice = (typeof CONSENT_ANSWERS)[keyof typeof CONSENT_ANSWERS];

/** A "yes" the user gave; nothing of it is recorded (approval, pins, audit "ok") until the start it allowed succeeded. */
interface Consent {
  choice: ConsentChoice;
  /** As approvals and pins record it: `elicitation (<client>), this time`. */
  by: string;
  client?: string;
  askedAt: number;
  /** The launch approved: its source, and the id that source lists the entry by (where "always" is kept). */
  launch?: { source: string; sourceId: string };
}

/** A start's consent: given by the caller, or asked for during the start; and the image it lets run (pinned on success). */
interface Grant {
  consent?: Consent;
  image?: { id: string; ref: string };
}

class Mount {
  state: MountState = 'starting';
  child: Child | null = null;
  readonly tools: Namer;
  readonly prompts: Namer;
  /** Mounted (renamed) tools from the last listing: kept while stopped so calls can start the server again. */
  listed: Tool[] = [];
  startedAt?: string;
  restarts = 0;
  /**
   * When it crashed or failed to start, oldest first; only those within runtime.restartWindow count. A successful
   * run clears nothing: a server that is killed after every successful call still runs out of restarts.
   */
  failures: number[] = [];
  /** Set when the failures within the window went past runtime.maxRestarts: no automatic restart until registry-add. */
  gaveUp: { count: number; last: string } | null = null;
  lastError?: string;
  /** A start (or restart) in progress: calls wait for it. */
  pending: Promise<void> | null = null;
  /** Set from claim() until its restore has finished (successfully or not): calls wait for it. */
  restoring: Promise<void> | null = null;
  inFlight = 0;
  lastUsed = Date.now();
  idleTimer: NodeJS.Timeout | null = null;
  /** Bumped per child start, so late events of an old child are ignored. */
  generation = 0;
  removed = false;
  /** Tool names policy pins this entry to (undefined: all). */
  pinned?: string[];
  /** The version registry-add asked for (undefined: the latest at each start). */
  version?: string;
  /** Set by a container start where podman cannot enforce the limits the plan asks for (AddResult.limits). */
  limits?: string;
  /** The catalog entry as of the last start (policy rules are matched against its id, aliases and origin). */
  entry?: Entry;
  /** What the child presented last (original names, after policy's `tools`), before pins withheld anything. */
  presented: Tool[] = [];
  withheld: ToolCheck['withheld'] = [];
  readonly withheldNames = new Set<string>();
  removedTools: string[] = [];
  pinMessage?: string;
  /** Mounted name → tool, for the per-call lookups (annotations for the destructive gate). */
  listedByName = new Map<string, Tool>();
  /** Governance options under the policy object they were computed from; recomputed when policy.yaml changes. */
  gov?: { policy: Policy; g: Governance; blocked?: string };
  /** Tool-list updates (start, tools/list_changed, approvals) apply one at a time, in order. */
  toolsQueue: Promise<void> = Promise.resolve();
  /**
   * The user's consent to run this mount although it needs approval, given in this process: its restarts (crash,
   * idle stop, new settings) need no new question. Never saved: a restore after a registry restart asks again.
   */
  consent?: Consent;

  constructor(
    readonly id: string,
    readonly prefix: string,
    readonly addedAt: string,
    /** The source whose launch runs (chosen at add, kept in the mount record); unset only for records from before. */
    public source?: string,
  ) {
    this.tools = new Namer(prefix);
    this.prompts = new Namer(prefix);
  }

  info(): MountInfo {
    return {
      id: this.id,
      prefix: this.prefix,
      state: this.state,
      tools: this.listed.map((t) => t.name),
      ...(this.startedAt ? { startedAt: this.startedAt } : {}),
      ...(this.version ? { version: this.version } : {}),
      restarts: this.restarts,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.withheld.length
        ? {
            withheld: this.withheld.map((w) => {
              const t = this.presented.find((p) => p.name === w.name);
              return { name: this.tools.mounted(w.name) ?? `${this.prefix}__${w.name}`, reason: w.reason, ...(t?.description ? { description: t.description } : {}) };
            }),
          }
        : {}),
      ...(this.removedTools.length ? { removedTools: this.removedTools } : {}),
      ...(this.withheld.length && this.pinMessage ? { approval: this.pinMessage } : {}),
      ...(this.source ? { source: this.source } : {}),
    };
  }
}

export class MountManager implements ToolProvider, ResourceProvider {
  private readonly byId = new Map<string, Mount>();
  private readonly byPrefix = new Map<string, Mount>();
  private readonly log: Logger;
  private closed = false;
  /** Whether this instance ever ran `podman run` (else there is nothing to clean up at shutdown). */
  private ranContainers = false;
  private readonly claimed: { mount: Mount; open: () => void }[] = [];
  private configuredNames = new Map<string, Set<string>>();
  private configuredAt = 0;
  private pinWatch: NodeJS.Timeout | null = null;
  private pinStateKey = ABSENT;

  private readonly launchers: Launchers;

  constructor(private readonly deps: MountManagerDeps) {
    this.log = deps.log;
    this.launchers = {
      container: containerLauncher({ containers: deps.containers, pins: deps.pins, log: deps.log, onContainersUsed: () => (this.ranContainers = true) }),
      remote: remoteLauncher(),
      ...deps.launchers,
    };
  }

  // ---- the registry tools' operations ----------------------------------------------------------------------

  /**
   * Mount an entry: policy and approval, settings, start, list tools. Returns the new tools with their input
   * schemas so the caller can use them at once. Adding a mounted entry again returns it as it is (after applying
   * `config`, which restarts it).
   */
  async add(
    idOrAlias: string,
    opts: { config?: Record<string, unknown>; prefix?: string; source?: string; version?: string },
    ctx: ToolContext,
  ): Promise<AddResult> {
    if (this.closed) throw new ToolError('The registry is shutting down; try again after it restarts.');
    const resolved = await this.deps.resolve(idOrAlias);
    const existing = this.byId.get(resolved.id);
    if (opts.version !== undefined && existing && existing.version !== opts.version) {
      throw new ToolError(`${resolved.id} is already mounted at ${existing.version ? `version ${existing.version}` : 'its latest version'}; registry-remove it first to run version ${opts.version}.`);
    }
    const entry = atVersion(resolved, opts.version ?? existing?.version);
    if (opts.source !== undefined && existing && existing.source !== opts.source) {
      const running = existing.source ? `running the launch from source "${existing.source}"` : '(from before launches named their source)';
      throw new ToolError(`${entry.id} is already mounted ${running}; registry-remove it first to run the one from "${opts.source}".`);
    }
    // What starts is one source's launch: the one asked for, the one mounted, or the default.
    const source = opts.source ?? existing?.source;
    const choice = this.choose(entry, source, opts.source !== undefined);
    // Set when the user approved this entry just now: its start pins what it finds instead of checking.
    const { consent, warning } = await this.checkPolicy(entry, ctx, existing, choice);
    const warned = warning ? { warning } : {};
    if (opts.config && Object.keys(opts.config).length) await this.storeValues(entry, opts.config, choice?.source);

    if (existing) {
      if (opts.prefix && opts.prefix !== existing.prefix) {
        throw new ToolError(`${entry.id} is already mounted with prefix "${existing.prefix}"; registry-remove it first to mount it under "${opts.prefix}".`);
      }
      if (existing.pending) await existing.pending.catch(() => {});
      // Asking again is a fresh chance for a server that hit its restart limit.
      existing.failures = [];
      existing.gaveUp = null;
      if (opts.config && Object.keys(opts.config).length) await this.restart(existing, ctx, consent);
      else if (existing.state !== 'running') await (consent && !existing.pending ? this.start(existing, ctx, consent) : this.ensureRunning(existing, ctx));
      // Running already (it was started before policy asked for approval): the answer is recorded all the same.
      else if (consent) await this.recordConsent(existing, consent);
      return { mount: existing.info(), tools: this.describeTools(existing), ...warned, ...(existing.limits ? { limits: existing.limits } : {}) };
    }

    const prefix = await this.choosePrefix(entry, opts.prefix);
    if (this.byId.has(entry.id) || this.byPrefix.has(prefix)) {
      // Another add of the same entry (or prefix) won the race while we were reading state: answer as a repeat.
      return this.add(idOrAlias, { prefix: opts.prefix, source: opts.source, version: opts.version }, ctx);
    }
    const mount = new Mount(entry.id, prefix, new Date().toISOString(), choice?.source);
    mount.version = opts.version;
    this.register(mount);
    // Saved while the server starts (the write's fsync costs as much as the rest of an add); undone if it fails.
    const record: MountRecord = { id: entry.id, prefix, addedAt: mount.addedAt, ...(mount.source ? { source: mount.source } : {}), ...(mount.version ? { version: mount.version } : {}) };
    const saving = this.deps.state.putMount(record).then(
      () => true,
      (err) => {
        this.log.warn(`could not save the mount of ${entry.id} (it works now, but will not be restored after a restart): ${errorMessage(err)}`);
        return false;
      },
    );
    try {
      await this.start(mount, ctx, consent);
    } catch (err) {
      this.unregister(mount);
      if (await saving) await this.deps.state.removeMount(entry.id).catch(() => {});
      throw err instanceof ToolError ? err : new ToolError(errorMessage(err));
    }
    await saving;
    this.log.info(`mounted ${entry.id} as ${prefix}__* (${mount.listed.length} tools)`);
    return { mount: mount.info(), tools: this.describeTools(mount), ...warned, ...(mount.limits ? { limits: mount.limits } : {}) };
  }

  async remove(idOrAlias: string): Promise<boolean> {
    let id = idOrAlias;
    if (!this.byId.has(id)) id = (await this.deps.resolve(idOrAlias).catch(() => null))?.id ?? idOrAlias;
    const mount = this.byId.get(id);
    const saved = (await this.deps.state.mounts()).some((m) => m.id === id);
    if (!mount && !saved) return false;
    if (mount) {
      mount.removed = true;
      this.unregister(mount);
      // A running child's resources and prompts were listed too: each list that loses something is notified.
      const child = mount.child;
      await this.stopChild(mount);
      if (mount.listed.length) this.deps.notify.toolsChanged();
      if (child?.hasResources) this.deps.notify.resourcesChanged();
      if (child?.hasPrompts) this.deps.notify.promptsChanged();
      this.watchPins();
    }
    await this.deps.state.removeMount(id);
    this.log.info(`removed ${id}`);
    return true;
  }

  active(): MountInfo[] {
    return [...this.byId.values()].map((m) => m.info());
  }

  /** The entry a mounted tool belongs to (audit records of calls). */
  entryOfTool(name: string): string | undefined {
    const prefix = prefixOf(name);
    return prefix ? this.byPrefix.get(prefix)?.id : undefined;
  }

  /** The live mount facts registry-info shows for an entry (withheld tools), when it is mounted. */
  mountInfo(id: string): MountInfo | undefined {
    return this.byId.get(id)?.info();
  }

  get count(): number {
    return this.byId.size;
  }

  /**
   * Store validated settings and secrets for an entry (mounted or not). A running server restarts so it sees
   * them. Returns the names set and the names still missing; never a value.
   */
  async configSet(idOrAlias: string, values: Record<string, unknown>, ctx?: ToolContext): Promise<{ id: string; set: string[]; missing: string[]; restarted: boolean }> {
    const entry = await this.deps.resolve(idOrAlias);
    const mount = this.byId.get(entry.id);
    // Values are checked against what the launch that runs declares (the mounted one, else the default).
    const choice = this.choose(entry, mount?.source, false);
    const set = await this.storeValues(entry, values, choice?.source);
    const plan = await this.plan(entry, choice);
    const missing = plan.ok ? [] : plan.missing.map((m) => m.name);
    let restarted = false;
    if (mount && plan.ok && (mount.state === 'running' || mount.state === 'starting')) {
      try {
        await this.restart(mount, ctx);
      } catch (err) {
        throw new ToolError(`Saved ${set.join(', ') || 'nothing'} for ${entry.id}, but restarting it with the new values failed: ${errorMessage(err)}`);
      }
      restarted = true;
    } else if (mount && plan.ok && (mount.state === 'failed' || mount.state === 'crashed')) {
      // New settings are a new chance: a server that failed for want of them may start now.
      mount.failures = [];
      mount.gaveUp = null;
    }
    return { id: entry.id, set, missing, restarted };
  }

  /**
   * Setting and secret names already set for an entry (registry-find drops them from requiresConfig). Synchronous
   * for the catalog views, so it answers from a snapshot refreshed after every change made here and, at most every
   * few seconds, from disk (another registry process may have changed it).
   */
  configured(entry: Entry): Set<string> {
    if (Date.now() - this.configuredAt > CONFIGURED_TTL_MS) void this.refreshConfigured();
    return this.configuredNames.get(entry.id) ?? new Set();
  }

  async refreshConfigured(): Promise<void> {
    this.configuredAt = Date.now();
    try {
      // One read of each file (the secrets file used to be read once per entry).
      const [state, secrets] = await Promise.all([this.deps.state.read(), this.deps.secrets.namesByEntry()]);
      const next = new Map<string, Set<string>>();
      for (const [id, settings] of Object.entries(state.settings)) next.set(id, new Set(Object.keys(settings)));
      for (const [id, names] of Object.entries(secrets)) {
        if (!names.length) continue;
        const set = next.get(id) ?? new Set<string>();
        for (const n of names) set.add(n);
        next.set(id, set);
      }
      this.configuredNames = next;
    } catch (err) {
      this.log.debug(`could not read settings: ${errorMessage(err)}`);
    }
  }

  /** registry-exec: call a mounted tool by its mounted name. */
  exec(tool: string, args: Record<string, unknown> | undefined, ctx: ToolContext): Promise<CallToolResult> {
    const r = this.callTool(tool, args, ctx);
    if (r) return r;
    const names = this.listTools().map((t) => t.name);
    throw new ToolError(
      names.length
        ? `No mounted tool ${quoteInput(tool)}. Mounted tools: ${names.slice(0, 30).join(', ')}${names.length > 30 ? ` (and ${names.length - 30} more; see registry-active)` : ''}.`
        : `No mounted tool ${quoteInput(tool)}: nothing is mounted. Use registry-add <id> first; its result lists the tool names.`,
    );
  }

  // ---- ToolProvider ----------------------------------------------------------------------------------------

  listTools(): Tool[] {
    if (this.byId.size === 1) return this.byId.values().next().value!.listed;
    const out: Tool[] = [];
    for (const m of this.byId.values()) out.push(...m.listed);
    return out;
  }

  callTool(name: string, args: Record<string, unknown> | undefined, ctx: ToolContext): Promise<CallToolResult> | undefined {
    const prefix = prefixOf(name);
    if (!prefix) return undefined;
    const mount = this.byPrefix.get(prefix);
    if (!mount) return undefined;
    return this.callMounted(mount, name, args, ctx);
  }

  private async callMounted(mount: Mount, name: string, args: Record<string, unknown> | undefined, ctx: ToolContext): Promise<CallToolResult> {
    mount.inFlight++;
    try {
      let child = mount.child;
      if (!child || !child.alive || mount.pending || mount.restoring) {
        try {
          child = await this.ensureRunning(mount, ctx);
        } catch (err) {
          return errorResult(errorMessage(err), outcomeOf(err));
        }
      }
      let original = mount.tools.original(name);
      // An approval may have been given in a terminal since the last poll: look before refusing.
      if (original !== undefined && mount.withheldNames.has(original)) {
        await this.recheckPins(mount);
        original = mount.tools.original(name);
      }
      if (original === undefined) {
        return errorResult(`${mount.id} has no tool ${quoteInput(name)}. Its tools: ${mount.listed.map((t) => t.name).join(', ') || '(none)'}.`);
      }
      if (mount.withheldNames.has(original)) return errorResult(withheldMessage(mount, name, original), 'withheld');
      const gov = this.governance(mount);
      if (gov?.blocked) {
        void this.stopChild(mount);
        mount.state = 'failed';
        mount.lastError = gov.blocked;
        return errorResult(gov.blocked, 'refused');
      }
      if (gov && gov.g.destructive !== 'allow') {
        const tool = mount.listedByName.get(name);
        const gate = await destructiveGate(gov.g.destructive, { name, annotations: tool?.annotations }, { entryId: mount.id, args, redact: (s) => this.deps.redactor.text(s) }, ctx);
        if (!gate.ok) return errorResult(gate.reason, gate.outcome);
      }
      const scan = gov?.g.scanSecrets === 'warn';
      if (scan) this.warnCredentials(`arguments of ${name} (${mount.id})`, args);
      // Progress is asked of the child only when our client asked for it (else the SDK tracks a token per call).
      const onProgress = ctx.progressWanted ? (p: number, t: number | undefined, m: string | undefined) => ctx.progress(p, t, m ?? '') : undefined;
      const result = await child.callTool(original, args, { signal: ctx.signal, onProgress });
      const out = this.deps.redactor.active ? this.deps.redactor.result(result) : result;
      if (scan) this.warnCredentials(`result of ${name} (${mount.id})`, out);
      return out;
    } finally {
      mount.inFlight--;
      mount.lastUsed = Date.now();
    }
  }

  private warnCredentials(what: string, value: unknown): void {
    const w = credentialWarning(what, value);
    if (w) this.log.warn(`${w} (policy scanSecrets: warn)`);
  }

  /**
   * The governance options of a mount under the policy of now (from the snapshot, no waiting: this is the call
   * path). When policy.yaml changed since the start, they are recomputed, and a server the new policy forbids is
   * `blocked`.
   */
  private governance(mount: Mount): Mount['gov'] {
    const policy = this.deps.policyNow?.();
    if (!policy || !mount.gov || mount.gov.policy === policy || !mount.entry) return mount.gov;
    const d = policy.decide(mount.entry, undefined, { source: mount.source });
    const blocked = !d.allowed && !d.needsApproval ? `${mount.id} may no longer run: ${d.reason}. It was stopped.` : undefined;
    mount.gov = { policy, g: policy.governanceFor(mount.entry), ...(blocked ? { blocked } : {}) };
    return mount.gov;
  }

  // ---- resources and prompts (namespaced) ------------------------------------------------------------------

  async listResources(signal: AbortSignal): Promise<{ resources: Resource[]; resourceTemplates: ResourceTemplate[] }> {
    const resources: Resource[] = [];
    const resourceTemplates: ResourceTemplate[] = [];
    await this.eachLive('resources', (c) => c.hasResources, async (m, child) => {
      const r = await child.listResources(signal);
      for (const res of r.resources) resources.push({ ...res, uri: mountUri(m.prefix, res.uri), name: `${m.prefix}__${res.name}` });
      for (const t of r.templates) resourceTemplates.push({ ...t, uriTemplate: mountUri(m.prefix, t.uriTemplate), name: `${m.prefix}__${t.name}` });
    });
    return { resources, resourceTemplates };
  }

  /** Run `fn` for every running child that has `what`; one failing child is logged and left out. */
  private async eachLive(what: string, has: (c: Child) => boolean, fn: (m: Mount, c: Child) => Promise<void>): Promise<void> {
    await Promise.all(
      [...this.byId.values()].map(async (m) => {
        const child = m.child;
        if (!child?.alive || !has(child)) return;
        await fn(m, child).catch((err) => this.log.warn(`${m.id}: listing ${what} failed: ${errorMessage(err)}`));
      }),
    );
  }

  readResource(uri: string, signal: AbortSignal): Promise<ReadResourceResult> | undefined {
    const parsed = parseMountUri(uri);
    const mount = parsed && this.byPrefix.get(parsed.prefix);
    if (!parsed || !mount) return undefined;
    return (async () => {
      const child = await this.ensureRunning(mount);
      const r = await child.readResource(parsed.uri, signal);
      const out = { ...r, contents: r.contents.map((c) => ({ ...c, uri: mountUri(mount.prefix, c.uri) })) };
      return this.deps.redactor.active ? this.deps.redactor.deep(out) : out;
    })();
  }

  async listPrompts(signal: AbortSignal): Promise<Prompt[]> {
    const out: Prompt[] = [];
    await this.eachLive('prompts', (c) => c.hasPrompts, async (m, child) => {
      const prompts = await child.listPrompts(signal);
      m.prompts.assign(prompts.map((p) => p.name));
      for (const p of prompts) out.push({ ...p, name: m.prompts.mounted(p.name)! });
    });
    return out;
  }

  getPrompt(name: string, args: Record<string, string> | undefined, signal: AbortSignal): Promise<GetPromptResult> | undefined {
    const prefix = prefixOf(name);
    const mount = prefix ? this.byPrefix.get(prefix) : undefined;
    if (!mount) return undefined;
    return (async () => {
      const child = await this.ensureRunning(mount);
      if (!mount.prompts.size && child.hasPrompts) mount.prompts.assign((await child.listPrompts(signal)).map((p) => p.name));
      const original = mount.prompts.original(name);
      if (original === undefined) throw new ToolError(`${mount.id} has no prompt "${name}"; prompts/list shows its prompts.`);
      const r = await child.getPrompt(original, args, signal);
      return this.deps.redactor.active ? this.deps.redactor.deep(r) : r;
    })();
  }

  // ---- start-up and shutdown -------------------------------------------------------------------------------

  /**
   * Restore the saved mounts in the background: their prefixes are claimed at once, so a call to one of their
   * tools waits for the start instead of failing as unknown. Resolves when every restore has finished.
   */
  /**
   * Claim the saved mounts (synchronously, from records read at start-up) so calls to their tools wait instead of
   * failing as unknown; `restore()` then starts them.
   */
  claim(records: MountRecord[]): void {
    for (const r of records) {
      if (this.byId.has(r.id) || this.byPrefix.has(r.prefix)) continue;
      const mount = new Mount(r.id, r.prefix, r.addedAt, r.source);
      mount.version = r.version;
      this.register(mount);
      // Claimed now: a call arriving before its start begins waits on this gate instead of failing as unknown.
      let open!: () => void;
      mount.restoring = new Promise<void>((res) => (open = res));
      this.claimed.push({ mount, open });
    }
  }

  /** Start the claimed mounts in the background, a few at a time. Resolves when every one has finished. */
  restore(): Promise<void> {
    const queue = this.claimed.splice(0);
    if (!queue.length) return Promise.resolve();
    this.log.info(`restoring ${queue.length} mounted server(s): ${queue.map((q) => q.mount.id).join(', ')}`);
    const worker = async () => {
      for (let q = queue.shift(); q; q = queue.shift()) {
        await this.restoreOne(q.mount).catch(() => {});
        q.mount.restoring = null;
        q.open();
      }
    };
    return Promise.all(Array.from({ length: Math.min(RESTORE_CONCURRENCY, queue.length) }, worker)).then(() => {});
  }

  private async restoreOne(mount: Mount): Promise<void> {
    // Started (or removed) since it was claimed — a config-set restart, an add — while the catalog loaded: nothing
    // to restore, and a second start would replace its container.
    if (mount.pending) await mount.pending.catch(() => {});
    if (mount.removed || (mount.child?.alive && mount.state === 'running')) return;
    try {
      // The start answers to the policy of now: a deny stops it, and so does a missing approval (one given "this
      // time" ended with the process that asked). Such a mount stays claimed: its next call or registry-add asks.
      await this.start(mount);
      this.log.info(`restored ${mount.id} (${mount.listed.length} tools)`);
    } catch (err) {
      mount.state = 'failed';
      mount.lastError = errorMessage(err);
      this.log.warn(`could not restore ${mount.id}: ${mount.lastError}`);
      throw err;
    }
  }

  /** Stop every child of this instance and remove any container of it that outlived its process. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pinWatch) clearInterval(this.pinWatch);
    this.pinWatch = null;
    const mounts = [...this.byId.values()];
    for (const m of mounts) if (m.idleTimer) clearTimeout(m.idleTimer);
    const t0 = Date.now();
    // Closing stdin ends a well-behaved server (and `podman run --rm` with it); give them a moment together. What is
    // left then (a server that ignores EOF, a start still in flight) is removed by force in one podman call, so the
    // whole stop stays within about SHUTDOWN_GRACE_MS + 2 s.
    const closing = Promise.all(mounts.map((m) => this.stopChild(m, { force: false })));
    const clean = await Promise.race([closing.then(() => true), sleep(SHUTDOWN_GRACE_MS).then(() => false)]);
    await this.removeInstanceContainers();
    if (!clean) await Promise.race([closing, sleep(1_000)]);
    if (mounts.length) this.log.info(`stopped ${mounts.length} server(s) in ${Date.now() - t0} ms`);
  }

  async removeInstanceContainers(): Promise<void> {
    if (!this.ranContainers) return;
    try {
      const { podman, instance, mod } = await this.deps.containers();
      // Secrets of a start the shutdown did not wait for (removeSecrets never throws).
      const secrets = podman.removeOwnSecrets();
      const removed = await podman.removeLabelled(mod.INSTANCE_LABEL, instance).finally(() => secrets);
      if (removed.length) this.log.info(`removed ${removed.length} container(s) of this instance that were still there`);
    } catch (err) {
      this.log.debug(`container clean-up skipped: ${errorMessage(err)}`);
    }
  }

  // ---- lifecycle internals ---------------------------------------------------------------------------------

  /** A live child for the mount: waits for a start in progress; restarts after a crash (back-off, limit) or idle stop. */
  private async ensureRunning(mount: Mount, ctx?: ToolContext): Promise<Child> {
    if (mount.restoring) await mount.restoring;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (mount.pending) await mount.pending.catch(() => {});
      if (mount.removed) throw new ToolError(`${mount.id} was removed; registry-add it again to use it.`);
      if (mount.child?.alive && mount.state === 'running') return mount.child;
      if (mount.pending) continue;
      if (mount.gaveUp) throw new ToolError(this.gaveUpMessage(mount));
      // Back-off by the failures still in the window: a server that crashes rarely restarts at once.
      const recent = mount.failures.filter((t) => t > Date.now() - this.deps.runtime.restartWindow).length;
      if (mount.state === 'crashed' || (mount.state === 'failed' && recent > 0)) {
        const wait = (mount.failures.at(-1) ?? 0) + restartDelay(recent) - Date.now();
        if (wait > 0) await sleep(wait, ctx?.signal);
        if (mount.pending) continue;
        mount.restarts++;
        this.log.info(`restarting ${mount.id} (restart ${mount.restarts}; ${mount.lastError ?? ''})`);
      }
      try {
        await this.start(mount, ctx);
      } catch (err) {
        const e = new ToolError(mount.gaveUp ? this.gaveUpMessage(mount) : `${mount.id} could not be started: ${errorMessage(err)}`);
        const outcome = outcomeOf(err);
        throw outcome ? withOutcome(e, outcome) : e;
      }
    }
    if (mount.child?.alive) return mount.child;
    throw new ToolError(`${mount.id} is not running: ${mount.lastError ?? 'it keeps stopping'}`);
  }

  /**
   * Start (or restart) the mount's child; concurrent callers share one start. `consent`: the user approved it just
   * now (registry-add asked); recorded only if this start succeeds.
   */
  private start(mount: Mount, ctx?: ToolContext, consent?: Consent): Promise<void> {
    if (mount.pending) return mount.pending;
    const grant: Grant = { consent };
    const p = (async () => {
      mount.state = 'starting';
      const gen = ++mount.generation;
      try {
        const child = await this.launch(mount, gen, ctx, grant);
        try {
          // Checked against the pins before anything is mounted: a changed tool is never listed, not even briefly.
          await this.applyTools(mount, child.tools, gen, !!grant.consent);
        } catch (err) {
          await child.close();
          throw new ToolError(`${mount.id}: could not check its tools against the approved ones: ${errorMessage(err)}`);
        }
        if (mount.removed || this.closed) {
          await child.close();
          throw new ToolError(`${mount.id} was removed while it was starting.`);
        }
        if (grant.consent) await this.recordConsent(mount, grant.consent, grant.image);
        mount.child = child;
        mount.state = 'running';
        mount.startedAt = new Date().toISOString();
        mount.lastUsed = Date.now();
        this.armIdle(mount);
        if (child.hasResources) this.deps.notify.resourcesChanged();
        if (child.hasPrompts) this.deps.notify.promptsChanged();
      } catch (err) {
        mount.state = 'failed';
        mount.lastError = errorMessage(err);
        // A refusal is no crash: no back-off, no restart limit; every call checks again (an approval may have come).
        if (outcomeOf(err) !== 'refused') this.countFailure(mount, mount.lastError);
        if (grant.consent) await this.auditConsent(mount.id, grant.consent, 'error', `not started, so nothing was recorded: ${mount.lastError}`);
        throw err;
      }
    })().finally(() => {
      if (mount.pending === p) mount.pending = null;
    });
    mount.pending = p;
    return p;
  }

  private async restart(mount: Mount, ctx?: ToolContext, consent?: Consent): Promise<void> {
    await this.stopChild(mount);
    await this.start(mount, ctx, consent);
  }

  /** The plan of one launch (`choice`; none: the entry has nothing runnable and planLaunch says why). */
  private async plan(entry: Entry, choice: LaunchChoice | undefined) {
    const [settings, secrets, policy] = await Promise.all([this.deps.state.settings(entry.id), this.deps.secrets.get(entry.id), this.policyOrFail()]);
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

  private async launch(mount: Mount, gen: number, ctx: ToolContext | undefined, grant: Grant): Promise<Child> {
    const entry = atVersion(await this.deps.resolve(mount.id), mount.version);
    const policy = await this.policyOrFail();
    // Always the launch of the source added (a source added to the catalog since cannot take over the mount).
    const recorded = mount.source !== undefined;
    const choice = this.choose(entry, mount.source, recorded);
    // Every start (add, restore, restart after a crash or idle stop) answers to the policy of now; one that needs
    // approval goes ahead with the user's consent — given just now, or earlier to this mount in this process.
    const decision = policy.decide(entry, await this.approvals(), { source: choice?.source });
    if (!decision.allowed && !decision.needsApproval) {
      auditSignatureRefusal(this.deps.audit ?? undefined, entry, choice?.source, policy.requireSignedFor(entry));
      throw refused(`${entry.id} may not be started: ${decision.reason}`);
    }
    if (!decision.allowed && !grant.consent && !mount.consent) grant.consent = await this.askConsent(entry, decision, ctx, choice);
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
      redact: (s: string) => this.deps.redactor.text(s),
      onToolsChanged: (tools: Tool[]) => {
        if (mount.generation === gen && !mount.removed) {
          this.applyTools(mount, tools, gen).catch((err) => this.log.warn(`${mount.id}: could not check its new tool list against the approved one (keeping the old list): ${errorMessage(err)}`));
        }
      },
      onResourcesChanged: () => this.deps.notify.resourcesChanged(),
      onPromptsChanged: () => this.deps.notify.promptsChanged(),
      onExit: (reason: string) => this.onChildExit(mount, gen, reason),
      nextStep: () => this.nextStep(mount),
      stopGrace: STOP_GRACE_MS,
    };
    const consented = !!grant.consent;
    // The signature check at launch (governance/launch-signature.ts): audited for a remote; for a container, the
    // image that runs is the signed one (by digest), or the start is refused.
    const requireSigned = policy.requireSignedFor(entry);
    const audit = this.deps.audit ?? undefined;
    const verifySignature: LaunchRequest['verifySignature'] = (image) =>
      verifyAtLaunch(image ? { entry, launchSource: choice?.source, requireSigned, audit, log: this.log, image } : { entry, launchSource: choice?.source, requireSigned, audit });
    if (plan.kind === 'remote') {
      const { child } = await this.launchers.remote.start({ entryId: entry.id, prefix: mount.prefix, plan, governance: g, childOpts, ctx, consented, verifySignature });
      return child;
    }
    mount.limits = undefined;
    const started = await this.launchers.container.start({ entryId: entry.id, prefix: mount.prefix, plan, governance: g, childOpts, ctx, consented, verifySignature });
    if (started.image) grant.image = started.image;
    mount.limits = started.limits;
    return started.child;
  }

  /** npm and PyPI packages: built once into a local image (progress notified), checked against the pins; else undefined. */
  private async buildPackage(entry: Entry, choice: LaunchChoice | undefined, ctx: ToolContext | undefined, approvedNow: boolean) {
    const seam = await load.built();
    if (!seam.isBuiltLaunch(choice)) return undefined;
    const kit = await this.deps.containers();
    const progress = ctx ? (p: number, t: number | undefined, m: string) => ctx.progress(p, t, m) : undefined;
    const r = await seam.startBuilt({ entry, choice: choice!, podman: kit.podman, instance: kit.instance, runtime: this.deps.runtime, pins: this.deps.pins, state: this.deps.state, approvedNow, ...(progress ? { progress } : {}), log: this.log });
    if (!r.ok) throw r.refused ? refused(r.message) : Object.assign(new ToolError(r.message), r.preparing ? { preparing: true } : {});
    return r;
  }

  /** registry-info's view of an npm or PyPI launch: its image, built or not, and its command; undefined for the rest. */
  private async previewBuild(entry: Entry, choice: LaunchChoice, policy: Policy, args: string[] | undefined) {
    const seam = await load.built();
    if (!seam.isBuiltLaunch(choice)) return undefined;
    const kit = await this.deps.containers();
    return seam.previewBuilt({ entry, choice, runtime: this.deps.runtime, podman: kit.podman, overrides: policy.overridesFor(entry), ...(args ? { args } : {}) });
  }

  private onChildExit(mount: Mount, gen: number, reason: string): void {
    if (mount.generation !== gen || mount.removed) return;
    mount.child = null;
    if (mount.idleTimer) clearTimeout(mount.idleTimer);
    mount.idleTimer = null;
    mount.state = 'crashed';
    mount.lastError = `${reason} at ${new Date().toISOString()}`;
    this.countFailure(mount, mount.lastError);
    this.log.warn(`${mount.id} stopped unexpectedly: ${reason}; ${this.nextStep(mount)}`);
  }

  /**
   * Count a crash or failed start. Past runtime.maxRestarts within runtime.restartWindow the mount gives up: state
   * failed, and no call restarts it until registry-add (or new settings) asks for a fresh start.
   */
  private countFailure(mount: Mount, reason: string): void {
    const now = Date.now();
    mount.failures.push(now);
    const since = now - this.deps.runtime.restartWindow;
    while (mount.failures.length && mount.failures[0]! <= since) mount.failures.shift();
    const n = mount.failures.length;
    const limit = this.deps.runtime.maxRestarts;
    if (n <= limit) return;
    mount.gaveUp = { count: n, last: reason };
    mount.state = 'failed';
    mount.lastError = `restart limit reached (${n} crashes or failed starts within ${formatDuration(this.deps.runtime.restartWindow)}; runtime.maxRestarts is ${limit}); last failure: ${reason}`;
    this.log.warn(`${mount.id}: ${mount.lastError}; not restarted again until registry-add`);
  }

  /** What happens after the mount's child exited, for messages: a restart on the next call, or none. */
  private nextStep(mount: Mount): string {
    return mount.gaveUp ? `it is not restarted again: ${this.gaveUpMessage(mount)}` : 'the next call restarts it';
  }

  private gaveUpMessage(mount: Mount): string {
    const window = formatDuration(this.deps.runtime.restartWindow);
    return (
      `${mount.id} crashed or failed to start ${mount.gaveUp?.count ?? 0} times within ${window} (runtime.maxRestarts is ${this.deps.runtime.maxRestarts}, runtime.restartWindow ${window}), so it is not restarted automatically. ` +
      `Last failure: ${mount.gaveUp?.last ?? 'unknown'}. Fix the cause (registry-config-set for settings), then call registry-add ${mount.id} for a fresh start.`
    );
  }

  private async stopChild(mount: Mount, close?: Parameters<Child['close']>[0]): Promise<void> {
    if (mount.idleTimer) clearTimeout(mount.idleTimer);
    mount.idleTimer = null;
    if (mount.pending) await mount.pending.catch(() => {});
    const child = mount.child;
    mount.child = null;
    mount.generation++;
    if (child) await child.close(close);
  }

  /** Stop a child nobody used for runtime.idleTimeout; its tools stay listed and the next call starts it again. */
  private armIdle(mount: Mount): void {
    const idle = this.deps.runtime.idleTimeout;
    if (!idle || idle <= 0) return;
    if (mount.idleTimer) clearTimeout(mount.idleTimer);
    const check = () => {
      mount.idleTimer = null;
      if (mount.removed || mount.state !== 'running' || !mount.child) return;
      const quiet = Date.now() - mount.lastUsed;
      if (mount.inFlight > 0 || quiet < idle) {
        mount.idleTimer = setTimeout(check, Math.max(50, idle - quiet));
        mount.idleTimer.unref();
        return;
      }
      this.log.info(`${mount.id} idle for ${Math.round(quiet / 1000)} s: stopping it (the next call starts it again)`);
      const child = mount.child;
      mount.child = null;
      mount.generation++;
      mount.state = 'idle';
      void child.close();
    };
    mount.idleTimer = setTimeout(check, idle);
    mount.idleTimer.unref();
  }

  /**
   * Take a fresh tool list from the child (start, its tools/list_changed, or an approval): policy's `tools` first,
   * then the pins — changed and new tools are withheld, the rest mounted. Tells the client when the list changed.
   * `consented`: the user approved the server just now, so what it presents is mounted as it is (and pinned by
   * recordConsent once the start succeeded).
   */
  private applyTools(mount: Mount, all: Tool[], gen: number, consented = false): Promise<void> {
    const run = mount.toolsQueue.then(async () => {
      if (mount.generation !== gen || mount.removed) return;
      const pinned = mount.pinned && new Set(mount.pinned);
      const candidates = pinned ? all.filter((t) => pinned.has(t.name)) : all;
      let check: ToolCheck;
      if (consented) check = { firstUse: false, allowed: candidates.map((t) => t.name), withheld: [], removed: [] };
      else check = await this.deps.pins.checkTools(mount.id, candidates);
      if (mount.generation !== gen || mount.removed) return;
      this.setTools(mount, candidates, check);
    });
    mount.toolsQueue = run.catch(() => {});
    return run;
  }

  private setTools(mount: Mount, candidates: Tool[], check: ToolCheck): void {
    const was = [...mount.withheldNames].sort().join();
    mount.presented = candidates;
    mount.withheld = check.withheld;
    mount.withheldNames.clear();
    for (const w of check.withheld) mount.withheldNames.add(w.name);
    mount.removedTools = check.removed;
    mount.pinMessage = check.message;
    if (check.withheld.length && was !== [...mount.withheldNames].sort().join()) this.log.warn(check.message ?? `${mount.id}: tools withheld`);
    // Withheld tools keep the name they would have (calls to it get a clear answer); only the others are listed.
    mount.tools.assign(candidates.map((t) => t.name));
    const listed: Tool[] = [];
    for (const t of candidates) if (!mount.withheldNames.has(t.name)) listed.push({ ...t, name: mount.tools.mounted(t.name)! });
    const changed = JSON.stringify(listed) !== JSON.stringify(mount.listed);
    mount.listed = listed;
    mount.listedByName = new Map(listed.map((t) => [t.name, t]));
    if (changed) this.deps.notify.toolsChanged();
    this.watchPins();
  }

  /**
   * A running registry picks up `mcp-registry approve` (run in a terminal, written to state.json): while any tool
   * is withheld, state.json is polled every PIN_POLL_MS, and a call to a withheld tool or registry-active checks at
   * once. Nothing is polled while nothing is withheld.
   */
  private watchPins(): void {
    const waiting = [...this.byId.values()].some((m) => m.withheld.length);
    if (!waiting || this.closed) {
      if (this.pinWatch) clearInterval(this.pinWatch);
      this.pinWatch = null;
      return;
    }
    if (this.pinWatch) return;
    this.pinWatch = setInterval(() => {
      void (async () => {
        const key = await fileStamp(this.deps.state.file);
        if (key === this.pinStateKey) return;
        this.pinStateKey = key;
        await this.recheckPins();
      })().catch((err) => this.log.debug(`pin check failed: ${errorMessage(err)}`));
    }, PIN_POLL_MS);
    this.pinWatch.unref();
  }

  /** Check withheld tools against the pins again (one mount, or all): approved ones are mounted at once. */
  async recheckPins(mount?: Mount): Promise<void> {
    const mounts = mount ? [mount] : [...this.byId.values()];
    await Promise.all(mounts.filter((m) => m.withheld.length).map((m) => this.applyTools(m, m.presented, m.generation)));
  }

  private describeTools(mount: Mount): MountedTool[] {
    return mount.listed.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), inputSchema: t.inputSchema }));
  }

  // ---- policy and settings ---------------------------------------------------------------------------------

  /**
   * Whether policy lets the entry start, asking the user (elicitation) when it needs approval — unless the user
   * already consented to this mount in this process. Returns the consent given just now (the start records it if
   * it succeeds), and policy's warning (deprecated).
   */
  private async checkPolicy(entry: Entry, ctx: ToolContext, mount: Mount | undefined, choice: LaunchChoice | undefined): Promise<{ consent?: Consent; warning?: string }> {
    const policy = await this.policyOrFail();
    const d = policy.decide(entry, await this.approvals(), { source: choice?.source });
    const warned = d.warning ? { warning: d.warning } : {};
    if (d.allowed) return warned;
    if (!d.needsApproval) {
      auditSignatureRefusal(this.deps.audit ?? undefined, entry, choice?.source, policy.requireSignedFor(entry));
      throw refused(`${entry.id} may not be started: ${d.reason}`);
    }
    if (mount?.consent) return warned;
    return { consent: await this.askConsent(entry, d, ctx, choice), ...warned };
  }

  /**
   * Ask the user whether an entry that needs approval may start (the launch of `choice`): this time, or always.
   * Refused when they cannot or do not.
   */
  private async askConsent(entry: Entry, d: PolicyDecision, ctx: ToolContext | undefined, launch: LaunchChoice | undefined): Promise<Consent> {
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
  private async recordConsent(mount: Mount, consent: Consent, image?: Grant['image']): Promise<void> {
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

  private async auditConsent(entryId: string, consent: Consent, outcome: AuditOutcome, error?: string): Promise<void> {
    await this.deps.audit?.write({ op: 'approve', client: consent.client, entry: entryId, outcome, choice: consent.choice, durationMs: Date.now() - consent.askedAt, ...(error ? { error } : {}) });
  }

  /** Validate (against what the launch of `source` declares) and store settings and secrets; the names that were set. */
  private async storeValues(entry: Entry, values: Record<string, unknown>, source: string | undefined): Promise<string[]> {
    const { validateSettings, combinedProblems } = await load.settings();
    const choice = source !== undefined ? pickLaunch(entry, source) : undefined;
    const view = choice?.ok ? launchEntry(entry, choice.choice) : entry;
    const v = validateSettings(view, values);
    if (!v.errors.length) {
      // Checked against what is stored: the entry's total, and secret values that a setting would expose.
      const [settings, secrets] = await Promise.all([this.deps.state.settings(entry.id), this.deps.secrets.byEntry()]);
      v.errors.push(...combinedProblems(view, { settings, secrets: secrets[entry.id] ?? {} }, v, secrets));
    }
    if (v.errors.length) {
      throw new ToolError(`Not saved — ${v.errors.join('; ')}. Fix these and call again (nothing was changed).`);
    }
    const set: string[] = [];
    if (Object.keys(v.settings).length) {
      await this.deps.state.setSettings(entry.id, v.settings);
      set.push(...Object.keys(v.settings));
    }
    if (Object.keys(v.secrets).length) {
      // Known to the redactor before they can reach any child.
      this.deps.redactor.add(Object.values(v.secrets));
      await this.deps.secrets.set(entry.id, v.secrets);
      set.push(...Object.keys(v.secrets));
    }
    await this.refreshConfigured();
    return set;
  }

  /**
   * The launch that starts: `source`'s, else the default. `asked`: the source was named (by the user, or by the
   * mount record), so a source without a runnable launch is an error listing the ones there are. Undefined when the
   * entry has nothing runnable (planLaunch then says why).
   */
  private choose(entry: Entry, source: string | undefined, asked: boolean): LaunchChoice | undefined {
    const pick = pickLaunch(entry, source);
    if (pick.ok) return pick.choice;
    if (asked && source !== undefined) {
      const others = launchSources(entry).filter((s) => s !== source && pickLaunch(entry, s).ok);
      throw new ToolError(
        `${pick.reason}. ${others.length ? `Pass "source" as one of ${others.map((s) => `"${s}"`).join(', ')}, or leave it out for the default` : 'No other source has a launch that runs here'}` +
          `${this.byId.get(entry.id)?.source === source ? `; registry-remove ${entry.id} and add it again to run another source's launch` : ''}.`,
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
    const policy = await this.policyOrFail();
    const approved = approvals ?? (await this.approvals());
    const def = pickLaunch(entry);
    // Mounted under an id that has since become an alias (a source ahead of it appeared) counts too.
    const mounted = [entry.id, ...entry.aliases].map((id) => this.byId.get(id)).find(Boolean)?.source;
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
          p.container = { image: res.plan.image, user: res.plan.user ?? 'image default', network: res.plan.network, mounts: res.plan.mounts };
          const build = await this.previewBuild(entry, pick.choice, policy, res.plan.command);
          if (build) Object.assign(p, { build, container: { ...p.container, network: build.network } });
        } else p.remote = { url: res.plan.url };
      }
      out.push(p);
    }
    return out;
  }

  private async choosePrefix(entry: Entry, wanted?: string): Promise<string> {
    // Another registry process sharing this home may have mounted something under a prefix: keep them distinct.
    const saved = new Map((await this.deps.state.mounts()).map((m) => [m.prefix, m.id]));
    const holder = (p: string) => this.byPrefix.get(p)?.id ?? saved.get(p);
    if (wanted) {
      const problem = prefixProblem(wanted);
      if (problem) throw new ToolError(`${problem}; pick another prefix or leave it out.`);
      const h = holder(wanted);
      if (h && h !== entry.id) throw new ToolError(`prefix "${wanted}" is taken by ${h}; pick another prefix or leave it out.`);
      return wanted;
    }
    return derivePrefix(entry.nativeName, (p) => {
      const h = holder(p);
      return h !== undefined && h !== entry.id;
    });
  }

  private async policyOrFail(): Promise<Policy> {
    try {
      return await this.deps.policy();
    } catch (err) {
      throw new ToolError(`No server can start while the policy file is broken: ${errorMessage(err)}`);
    }
  }

  private async approvals(): Promise<Record<string, { approvedAt: string; by: string }>> {
    return (await this.deps.state.read()).approvals;
  }

  private register(m: Mount): void {
    this.byId.set(m.id, m);
    this.byPrefix.set(m.prefix, m);
  }

  private unregister(m: Mount): void {
    if (this.byId.get(m.id) === m) this.byId.delete(m.id);
    if (this.byPrefix.get(m.prefix) === m) this.byPrefix.delete(m.prefix);
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

/** An error result; `outcome` rides along unseen by the client (not enumerable) for the audit record. */
function errorResult(text: string, outcome?: AuditOutcome): CallToolResult {
  const r: CallToolResult = { content: [{ type: 'text', text }], isError: true };
  if (outcome) Object.defineProperty(r, 'auditOutcome', { value: outcome, enumerable: false });
  return r;
}

function withheldMessage(mount: Mount, name: string, original: string): string {
  const w = mount.withheld.find((x) => x.name === original);
  const what = w?.reason === 'new' ? 'is new since' : 'changed (name, description or input schema) since';
  return (
    `${name} is withheld: it ${what} ${mount.id} was approved, and a changed tool could make the agent do something other than what was approved. ` +
    `The other tools of ${mount.id} work. registry-active shows what changed; to accept it, run in a terminal: mcp-registry approve ${mount.id}`
  );
}

/** `mcp-registry://<prefix>/<the child's own uri>`: unambiguous across mounts and reversible. */
export function mountUri(prefix: string, uri: string): string {
  return `${RESOURCE_SCHEME}${prefix}/${uri}`;
}

export function parseMountUri(uri: string): { prefix: string; uri: string } | undefined {
  if (!uri.startsWith(RESOURCE_SCHEME)) return undefined;
  const rest = uri.slice(RESOURCE_SCHEME.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  return { prefix: rest.slice(0, slash), uri: rest.slice(slash + 1) };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** The entry at the version a mount asked for (model/versions.ts), or the tool error saying which there are. */
function atVersion(entry: Entry, version: string | undefined): Entry {
  const r = entryAtVersion(entry, version);
  if ('problem' in r) throw new ToolError(r.problem);
  return r.entry;
}
