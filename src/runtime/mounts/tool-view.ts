/** What a mount shows: its tools after policy and pins (withheld ones held back), its resources and prompts namespaced. */
import { ABSENT, fileStamp } from '../../util/file-stamp.js';
import type { GetPromptResult, Prompt, ReadResourceResult, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { errorMessage } from '../../util/log.js';
import { ToolError, type CompleteAnswer, type CompleteParams } from '../../model/tool-contract.js';
import type { ToolCheck } from '../../governance/pins.js';
import type { Child } from '../child.js';
import { prefixOf } from '../../model/naming.js';
import type { MountedTool } from './mount-info.js';
import { type Mount, type MountSet, Room } from './mount.js';
import { mountedPrompts, mountedResources, mountedTemplates, uriTail } from './listing-names.js';

const RESOURCE_SCHEME = 'mcp-registry://';
/** While tools are withheld, state.json is checked this often for an approval given in a terminal. */
const PIN_POLL_MS = 1_000;

/**
 * The tool list of every mount (policy's `tools`, then the pins: changed and new tools withheld; one list_changed
 * per real change; a poll of state.json while anything is withheld), and the mounts' resources and prompts under
 * their prefixes.
 */
export class ToolView extends Room {
  private pinWatch: NodeJS.Timeout | null = null;
  private pinStateKey = ABSENT;

  constructor(
    core: MountSet,
    /** A live child for the mount (started again when it stopped): resources and prompts are read from it. */
    private readonly live: (mount: Mount) => Promise<Child>,
  ) {
    super(core);
  }

  /** No more polling (shutdown). */
  stopWatching(): void {
    if (this.pinWatch) clearInterval(this.pinWatch);
    this.pinWatch = null;
  }

  async listResources(signal: AbortSignal): Promise<{ resources: Resource[]; resourceTemplates: ResourceTemplate[] }> {
    // Per mount, then joined in mount order: the list does not depend on which child answered first.
    const byMount = new Map<Mount, { resources: Resource[]; resourceTemplates: ResourceTemplate[] }>();
    await this.eachLive('resources', (c) => c.hasResources, async (m, child) => {
      const r = await child.listResources(signal);
      const resources = mountedResources(m.prefix, r.resources, (tail) => mountUri(m.prefix, tail), m.resourceTails);
      byMount.set(m, { resources, resourceTemplates: mountedTemplates(m.prefix, r.templates, (t) => mountUri(m.prefix, t)) });
    });
    const lists = [...this.core.byId.values()].flatMap((m) => (byMount.has(m) ? [byMount.get(m)!] : []));
    return { resources: lists.flatMap((l) => l.resources), resourceTemplates: lists.flatMap((l) => l.resourceTemplates) };
  }

  /** Run `fn` for every running child that has `what`; one failing child is logged and left out. */
  private async eachLive(what: string, has: (c: Child) => boolean, fn: (m: Mount, c: Child) => Promise<void>): Promise<void> {
    await Promise.all(
      [...this.core.byId.values()].map(async (m) => {
        const child = m.child;
        if (!child?.alive || !has(child)) return;
        await fn(m, child).catch((err) => this.log.warn(`${m.id}: listing ${what} failed: ${errorMessage(err)}`));
      }),
    );
  }

  readResource(uri: string, signal: AbortSignal): Promise<ReadResourceResult> | undefined {
    const parsed = parseMountUri(uri);
    const mount = parsed && this.core.byPrefix.get(parsed.prefix);
    if (!parsed || !mount) return undefined;
    return (async () => {
      const child = await this.live(mount);
      const r = await child.readResource(mount.resourceTails.get(parsed.uri) ?? parsed.uri, signal);
      const out = { ...r, contents: r.contents.map((c) => ({ ...c, uri: mountUri(mount.prefix, uriTail(c.uri)) })) };
      return this.deps.redactor.active ? this.deps.redactor.deep(out) : out;
    })();
  }

  async listPrompts(signal: AbortSignal): Promise<Prompt[]> {
    const byMount = new Map<Mount, Prompt[]>();
    await this.eachLive('prompts', (c) => c.hasPrompts, async (m, child) => {
      byMount.set(m, mountedPrompts(m.prompts, await child.listPrompts(signal)));
    });
    return [...this.core.byId.values()].flatMap((m) => byMount.get(m) ?? []);
  }

  getPrompt(name: string, args: Record<string, string> | undefined, signal: AbortSignal): Promise<GetPromptResult> | undefined {
    const prefix = prefixOf(name);
    const mount = prefix ? this.core.byPrefix.get(prefix) : undefined;
    if (!mount) return undefined;
    return (async () => {
      const child = await this.live(mount);
      if (!mount.prompts.size && child.hasPrompts) mount.prompts.assign((await child.listPrompts(signal)).map((p) => p.name));
      const original = mount.prompts.original(name);
      if (original === undefined) throw new ToolError(`${mount.id} has no prompt "${name}"; prompts/list shows its prompts.`);
      const r = await child.getPrompt(original, args, signal);
      return this.deps.redactor.active ? this.deps.redactor.deep(r) : r;
    })();
  }

  /**
   * completion/complete for a mounted prompt (by its mounted name) or resource template (by its mounted URI),
   * answered by the child that owns it; undefined when the ref is no mount's.
   */
  complete(params: CompleteParams, signal: AbortSignal): Promise<CompleteAnswer> | undefined {
    const ref = params.ref;
    const parsed = ref.type === 'ref/resource' ? parseMountUri(ref.uri) : undefined;
    const prefix = ref.type === 'ref/prompt' ? prefixOf(ref.name) : parsed?.prefix;
    const mount = prefix ? this.core.byPrefix.get(prefix) : undefined;
    if (!mount || (ref.type === 'ref/resource' && !parsed)) return undefined;
    return (async () => {
      const child = await this.live(mount);
      let own: CompleteParams['ref'] = { type: 'ref/resource', uri: parsed?.uri ?? '' };
      if (ref.type === 'ref/prompt') {
        if (!mount.prompts.size && child.hasPrompts) mount.prompts.assign((await child.listPrompts(signal)).map((p) => p.name));
        const original = mount.prompts.original(ref.name);
        if (original === undefined) throw new ToolError(`${mount.id} has no prompt "${ref.name}"; prompts/list shows its prompts.`);
        own = { type: 'ref/prompt', name: original };
      }
      // A server without completions has none to give: an empty list, as MCP lets a server answer.
      if (!child.hasCompletions) return { completion: { values: [] } };
      const r = (await child.complete({ ...params, ref: own }, signal)) as unknown as CompleteAnswer;
      return this.deps.redactor.active ? this.deps.redactor.deep(r) : r;
    })();
  }

  /**
   * Take a fresh tool list from the child (start, its tools/list_changed, or an approval): policy's `tools` first,
   * then the pins — changed and new tools are withheld, the rest mounted. Tells the client when the list changed.
   * `consented`: the user approved the server just now, so what it presents is mounted as it is (and pinned by
   * recordConsent once the start succeeded).
   */
  applyTools(mount: Mount, all: Tool[], gen: number, consented = false): Promise<void> {
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
    // What tool search learns: the tools mounted, under their own names (a withheld, unapproved change is not).
    this.deps.onToolsSeen?.(mount.id, candidates.filter((t) => !mount.withheldNames.has(t.name)));
    if (changed) this.deps.notify.toolsChanged();
    this.watchPins();
  }

  /**
   * A running registry picks up `mcp-registry approve` (run in a terminal, written to state.json): while any tool
   * is withheld, state.json is polled every PIN_POLL_MS, and a call to a withheld tool or registry-active checks at
   * once. Nothing is polled while nothing is withheld.
   */
  watchPins(): void {
    const waiting = [...this.core.byId.values()].some((m) => m.withheld.length);
    if (!waiting || this.core.closed) {
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
    const mounts = mount ? [mount] : [...this.core.byId.values()];
    await Promise.all(mounts.filter((m) => m.withheld.length).map((m) => this.applyTools(m, m.presented, m.generation)));
  }

  describeTools(mount: Mount): MountedTool[] {
    return mount.listed.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), inputSchema: t.inputSchema }));
  }
}

export function withheldMessage(mount: Mount, name: string, original: string): string {
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
