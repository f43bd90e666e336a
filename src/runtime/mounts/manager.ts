/** The mount manager: the face of the live mounts (add, remove, list, call routing); each job lives in a room beside it. */
import type { CallToolResult, GetPromptResult, Prompt, ReadResourceResult, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Entry } from '../../model/entry.js';
import { errorMessage } from '../../util/log.js';
import { ToolError, type CompleteAnswer, type CompleteParams, type ResourceProvider, type ToolContext, type ToolProvider } from '../../model/tool-contract.js';
import { quoteInput } from '../../util/quote.js';
import type { LaunchView } from '../../catalog/views.js';
import { derivePrefix, prefixOf, prefixProblem } from '../../model/naming.js';
import type { AddResult, MountInfo } from './mount-info.js';
import type { MountRecord } from '../../store/state.js';
import { atVersion, Mount, type MountManagerDeps, MountSet, Room } from './mount.js';
import { ToolView } from './tool-view.js';
import { Approval } from './approval.js';
import { Starter } from './start.js';
import { Lifecycle } from './lifecycle.js';
import { MountCalls, type CallRefusal } from './call.js';
import { Restorer } from './restore.js';
import { Values } from './values.js';

export type { ContainerKit, MountManagerDeps } from './mount.js';
export { restartDelay } from './lifecycle.js';
export type { CallRefusal } from './call.js';
export { CONSENT_ANSWERS, type ConsentChoice } from './approval.js';
export { mountUri, parseMountUri } from './tool-view.js';

/**
 * The live side of the runtime: which entries are mounted, their child connections, and everything that keeps
 * them usable — start on add, restore after a registry restart, restart after a crash (with back-off and a limit),
 * stop when idle and start again on the next call, stop everything on shutdown. The jobs live in rooms that share
 * one MountSet (mount.ts): the tool view (tool-view.ts), approval by elicitation (approval.ts), launching
 * (start.ts), the lifecycle (lifecycle.ts), calls (call.ts), restore and shutdown (restore.ts), settings
 * (values.ts). This class routes the registry tools and the MCP lists and calls to them.
 */
export class MountManager extends Room implements ToolProvider, ResourceProvider {
  private readonly view: ToolView;
  private readonly approval: Approval;
  private readonly starter: Starter;
  private readonly lifecycle: Lifecycle;
  private readonly calls: MountCalls;
  private readonly restorer: Restorer;
  private readonly values: Values;

  constructor(deps: MountManagerDeps) {
    super(new MountSet(deps));
    this.view = new ToolView(this.core, (mount) => this.lifecycle.ensureRunning(mount));
    this.approval = new Approval(this.core);
    this.starter = new Starter(this.core, this.approval, this.view);
    this.lifecycle = new Lifecycle(this.core, this.starter, this.view, this.approval);
    this.calls = new MountCalls(this.core, this.lifecycle, this.view);
    this.restorer = new Restorer(this.core, this.lifecycle, this.view);
    this.values = new Values(this.core);
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
    if (this.core.closed) throw new ToolError('The registry is shutting down; try again after it restarts.');
    const resolved = await this.deps.resolve(idOrAlias);
    const existing = this.core.byId.get(resolved.id);
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
    const choice = this.starter.choose(entry, source, opts.source !== undefined);
    // Set when the user approved this entry just now: its start pins what it finds instead of checking.
    const { consent, warning } = await this.approval.checkPolicy(entry, ctx, existing, choice);
    const warned = warning ? { warning } : {};
    if (opts.config && Object.keys(opts.config).length) await this.values.storeValues(entry, opts.config, choice?.source);

    if (existing) {
      if (opts.prefix && opts.prefix !== existing.prefix) {
        throw new ToolError(`${entry.id} is already mounted with prefix "${existing.prefix}"; registry-remove it first to mount it under "${opts.prefix}".`);
      }
      if (existing.pending) await existing.pending.catch(() => {});
      // Asking again is a fresh chance for a server that hit its restart limit.
      existing.failures = [];
      existing.gaveUp = null;
      if (opts.config && Object.keys(opts.config).length) await this.lifecycle.restart(existing, ctx, consent);
      else if (existing.state !== 'running') await (consent && !existing.pending ? this.lifecycle.start(existing, ctx, consent) : this.lifecycle.ensureRunning(existing, ctx));
      // Running already (it was started before policy asked for approval): the answer is recorded all the same.
      else if (consent) await this.approval.recordConsent(existing, consent);
      return { mount: existing.info(), tools: this.view.describeTools(existing), ...warned, ...(existing.limits ? { limits: existing.limits } : {}) };
    }

    const prefix = await this.choosePrefix(entry, opts.prefix);
    if (this.core.byId.has(entry.id) || this.core.byPrefix.has(prefix)) {
      // Another add of the same entry (or prefix) won the race while we were reading state: answer as a repeat.
      return this.add(idOrAlias, { prefix: opts.prefix, source: opts.source, version: opts.version }, ctx);
    }
    const mount = new Mount(entry.id, prefix, new Date().toISOString(), choice?.source);
    mount.version = opts.version;
    this.core.register(mount);
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
      await this.lifecycle.start(mount, ctx, consent);
    } catch (err) {
      this.core.unregister(mount);
      if (await saving) await this.deps.state.removeMount(entry.id).catch(() => {});
      throw err instanceof ToolError ? err : new ToolError(errorMessage(err));
    }
    await saving;
    this.log.info(`mounted ${entry.id} as ${prefix}__* (${mount.listed.length} tools)`);
    return { mount: mount.info(), tools: this.view.describeTools(mount), ...warned, ...(mount.limits ? { limits: mount.limits } : {}) };
  }

  async remove(idOrAlias: string): Promise<boolean> {
    let id = idOrAlias;
    if (!this.core.byId.has(id)) id = (await this.deps.resolve(idOrAlias).catch(() => null))?.id ?? idOrAlias;
    const mount = this.core.byId.get(id);
    const saved = (await this.deps.state.mounts()).some((m) => m.id === id);
    if (!mount && !saved) return false;
    if (mount) {
      mount.removed = true;
      this.core.unregister(mount);
      // A running child's resources and prompts were listed too: each list that loses something is notified.
      const child = mount.child;
      await this.lifecycle.stopChild(mount);
      if (mount.listed.length) this.deps.notify.toolsChanged();
      if (child?.hasResources) this.deps.notify.resourcesChanged();
      if (child?.hasPrompts) this.deps.notify.promptsChanged();
      this.view.watchPins();
    }
    await this.deps.state.removeMount(id);
    this.log.info(`removed ${id}`);
    return true;
  }

  active(): MountInfo[] {
    return [...this.core.byId.values()].map((m) => m.info());
  }

  /** The entry a mounted tool belongs to (audit records of calls). */
  entryOfTool(name: string): string | undefined {
    const prefix = prefixOf(name);
    return prefix ? this.core.byPrefix.get(prefix)?.id : undefined;
  }

  /** The live mount facts registry-info shows for an entry (withheld tools), when it is mounted. */
  mountInfo(id: string): MountInfo | undefined {
    return this.core.byId.get(id)?.info();
  }

  get count(): number {
    return this.core.byId.size;
  }

  /**
   * Store validated settings and secrets for an entry (mounted or not). A running server restarts so it sees
   * them. Returns the names set and the names still missing; never a value.
   */
  async configSet(idOrAlias: string, values: Record<string, unknown>, ctx?: ToolContext): Promise<{ id: string; set: string[]; missing: string[]; restarted: boolean }> {
    const entry = await this.deps.resolve(idOrAlias);
    const mount = this.core.byId.get(entry.id);
    // Values are checked against what the launch that runs declares (the mounted one, else the default).
    const choice = this.starter.choose(entry, mount?.source, false);
    const set = await this.values.storeValues(entry, values, choice?.source);
    const plan = await this.starter.plan(entry, choice);
    const missing = plan.ok ? [] : plan.missing.map((m) => m.name);
    let restarted = false;
    if (mount && plan.ok && (mount.state === 'running' || mount.state === 'starting')) {
      try {
        await this.lifecycle.restart(mount, ctx);
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


  /** Setting and secret names already set for an entry (values.ts: a snapshot, refreshed in the background). */
  configured(entry: Entry): Set<string> {
    return this.values.configured(entry);
  }

  refreshConfigured(): Promise<void> {
    return this.values.refreshConfigured();
  }

  /**
   * registry-exec: call a mounted tool by its mounted name. `refuse` (registry-exec-readonly) sees the tool as the
   * running server lists it and may refuse the call with a reason, after the start and before the child is asked.
   */
  exec(tool: string, args: Record<string, unknown> | undefined, ctx: ToolContext, refuse?: CallRefusal): Promise<CallToolResult> {
    const r = this.callTool(tool, args, ctx, refuse);
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
    if (this.core.byId.size === 1) return this.core.byId.values().next().value!.listed;
    const out: Tool[] = [];
    for (const m of this.core.byId.values()) out.push(...m.listed);
    return out;
  }

  callTool(name: string, args: Record<string, unknown> | undefined, ctx: ToolContext, refuse?: CallRefusal): Promise<CallToolResult> | undefined {
    const prefix = prefixOf(name);
    if (!prefix) return undefined;
    const mount = this.core.byPrefix.get(prefix);
    if (!mount) return undefined;
    return this.calls.callMounted(mount, name, args, ctx, refuse);
  }


  // ---- resources and prompts (namespaced: tool-view.ts) ----------------------------------------------------

  listResources(signal: AbortSignal): Promise<{ resources: Resource[]; resourceTemplates: ResourceTemplate[] }> {
    return this.view.listResources(signal);
  }

  readResource(uri: string, signal: AbortSignal): Promise<ReadResourceResult> | undefined {
    return this.view.readResource(uri, signal);
  }

  listPrompts(signal: AbortSignal): Promise<Prompt[]> {
    return this.view.listPrompts(signal);
  }

  getPrompt(name: string, args: Record<string, string> | undefined, signal: AbortSignal): Promise<GetPromptResult> | undefined {
    return this.view.getPrompt(name, args, signal);
  }

  complete(params: CompleteParams, signal: AbortSignal): Promise<CompleteAnswer> | undefined {
    return this.view.complete(params, signal);
  }

  /** Check withheld tools against the pins again (registry-active: an approval given in a terminal shows at once). */
  recheckPins(): Promise<void> {
    return this.view.recheckPins();
  }

  // ---- start-up and shutdown (restore.ts) ------------------------------------------------------------------

  /**
   * Claim the saved mounts (synchronously, from records read at start-up) so calls to their tools wait instead of
   * failing as unknown; `restore()` then starts them.
   */
  claim(records: MountRecord[]): void {
    this.restorer.claim(records);
  }

  /** Start the claimed mounts in the background, a few at a time. Resolves when every one has finished. */
  restore(): Promise<void> {
    return this.restorer.restore();
  }

  /** Stop every child of this instance and remove any container of it that outlived its process. */
  shutdown(): Promise<void> {
    return this.restorer.shutdown();
  }

  removeInstanceContainers(): Promise<void> {
    return this.restorer.removeInstanceContainers();
  }

  // ---- launches and prefixes -------------------------------------------------------------------------------

  /**
   * Every launch of an entry, before anything starts: its source and trust, whether it is the default (or the one
   * mounted), and for a container who it would run as and what it would mount — or why it would not start.
   */
  previewLaunches(entry: Entry, approvals?: Record<string, unknown>): Promise<LaunchView[]> {
    return this.starter.previewLaunches(entry, approvals);
  }

  private async choosePrefix(entry: Entry, wanted?: string): Promise<string> {
    // Another registry process sharing this home may have mounted something under a prefix: keep them distinct.
    const saved = new Map((await this.deps.state.mounts()).map((m) => [m.prefix, m.id]));
    const holder = (p: string) => this.core.byPrefix.get(p)?.id ?? saved.get(p);
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
}
