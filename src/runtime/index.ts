import type { App } from '../app.js';
import type { Entry } from '../catalog/entry.js';
import { stat } from 'node:fs/promises';
import { AuditLog } from '../governance/audit-log.js';
import { describeToolDiff, PinStore, shortId } from '../governance/pins.js';
import { addLogRedactor, errorMessage, redactText, type Logger } from '../log.js';
import type { CatalogGovernance, RuntimeStatusView } from '../server/catalog-tools.js';
import { resolveEntry } from '../server/resolve-entry.js';
import { runtimeTools } from '../server/runtime-tools.js';
import type { ToolDef } from '../server/tool-def.js';
import { newInstanceId } from './instance.js';
import { MountManager, type ContainerKit } from './mounts.js';
import type { Policy } from './policy.js';
import { Redactor } from './redact.js';
import { SecretStore, StateStore } from './state.js';

/** What the runtime needs from the MCP server: telling the client that lists changed. */
export interface RuntimeNotifier {
  notifyToolsChanged(): void;
  notifyResourcesChanged(): void;
  notifyPromptsChanged(): void;
}

export interface Runtime {
  /** registry-add, registry-remove, registry-active, registry-config-set, registry-exec. */
  tools: ToolDef[];
  /** Mounted tools, resources and prompts. */
  provider: MountManager;
  /** Reap containers of dead registry instances and restore saved mounts, in the background. */
  start(): Promise<void>;
  /** Stop every child and container of this instance. */
  shutdown(): Promise<void>;
  /** For registry-status. */
  status(): Promise<RuntimeStatusView>;
  /** Names of settings and secrets already set (registry-find's requiresConfig leaves them out). */
  configured(entry: Entry): Set<string>;
  /** Podman and this instance's id (loads podman.ts on first use). */
  containers(): Promise<ContainerKit>;
  /** This process's audit log (instance id = the containers' io.mcp-registry.instance label). */
  audit: AuditLog;
  /** The entry a mounted tool belongs to (for audit records). */
  entryOfTool(name: string): string | undefined;
  /** Policy as registry-find/list/info apply it: hidden entries, trust and deprecation, pins. */
  governance: CatalogGovernance;
}

/**
 * Build the runtime for a registry process. Reads the saved mounts before returning, so their tool names are
 * claimed (calls wait for the restore) from the moment the server answers.
 */
export async function createRuntime({ app, reg }: { app: App; reg: RuntimeNotifier }): Promise<Runtime> {
  const log = app.log.child('runtime');
  const instance = newInstanceId();
  let kit: Promise<ContainerKit> | null = null;
  const containers = () =>
    (kit ??= import('./podman.js').then((mod) => ({
      mod,
      instance,
      podman: new mod.Podman({ bin: app.config.runtime.podman, logger: log.child('podman') }),
    })));
  const state = new StateStore(app.paths.stateDir);
  const secrets = new SecretStore(app.paths.secretsFile);
  const pins = new PinStore(state);
  // Read at each check: config.yaml may add a source while the registry runs (its type decides the default trust).
  const sourceTypes = () => Object.fromEntries(app.catalog.config.sources.map((s) => [s.name, s.type]));
  const policy = policyLoader(app.paths.policyFile, sourceTypes, app.config.environment);
  // Every search applies it: loaded beside the catalog, so the first search does not wait for it too.
  void policy.load().catch(() => {});
  // Records pass through the log redactor too, which knows every stored secret (below).
  const audit = new AuditLog(app.paths.stateDir, { instance, maxBytes: app.config.audit.maxSize, keep: app.config.audit.keep, redact: redactText });

  const redactor = new Redactor();
  // Every secret value known at start, so nothing a child says (or we log) can carry one out.
  redactor.add(await secrets.allValues().catch(() => []));
  addLogRedactor((s) => redactor.text(s));

  const manager = new MountManager({
    async resolve(id) {
      await app.catalog.load();
      // First run with saved mounts but no cache: the entries exist only after the first refresh.
      if (!app.catalog.hasData) await app.catalog.ready();
      return resolveEntry(app.catalog, id);
    },
    runtime: app.config.runtime,
    containers,
    state,
    secrets,
    policy: policy.load,
    policyNow: policy.now,
    log,
    redactor,
    pins,
    audit,
    notify: {
      toolsChanged: () => reg.notifyToolsChanged(),
      resourcesChanged: () => reg.notifyResourcesChanged(),
      promptsChanged: () => reg.notifyPromptsChanged(),
    },
  });
  const saved = await state.mounts().catch((err) => {
    log.warn(`could not read saved mounts: ${errorMessage(err)}`);
    return [];
  });
  manager.claim(saved);
  await manager.refreshConfigured();

  return {
    tools: runtimeTools(manager),
    provider: manager,
    containers,
    audit,
    entryOfTool: (name) => manager.entryOfTool(name),
    governance: catalogGovernance({ app, policy, state, pins, manager, log }),
    configured: (entry) => manager.configured(entry),
    async start() {
      await policy.load().catch((err) => log.error(`${errorMessage(err)} — no server can start until it is fixed`));
      // Reaping runs beside the restore: container names differ per instance, so the two cannot collide. It also
      // warms the podman probe, so the first registry-add does not pay for `podman info`.
      const reap = (async () => {
        const { podman, mod } = await containers();
        if (!(await podman.probe()).ok) return;
        await podman.reapOrphans(mod.instanceAlive).catch((err) => log.warn(`could not remove containers of dead registry instances: ${errorMessage(err)}`));
      })();
      await Promise.all([manager.restore(), reap]);
    },
    // Records of calls answered just before the stop are still queued: written before the process exits.
    shutdown: () => manager.shutdown().finally(() => audit.close()),
    async status() {
      const { podman, mod } = await containers();
      // Reading both files finds (and repairs) one that went bad since the last read.
      const [v] = await Promise.all([podman.version(), state.read().catch(() => null), secrets.namesByEntry().catch(() => null)]);
      const limits = v && mod.limitsProblem(v);
      const built = v ? await (await import('./build/start.js')).builtStatus(podman, app.config.runtime) : undefined;
      const recovered = [...state.recoveries, ...secrets.recoveries].sort((a, b) => a.at.localeCompare(b.at));
      return {
        podman: v?.version ?? null,
        rootless: v ? v.rootless : null,
        active: manager.count,
        resourceLimits: v ? v.resourceLimits : null,
        ...(limits ? { limits: limits.summary } : {}),
        ...(built ? { builtImages: built } : {}),
        ...(recovered.length ? { recovered } : {}),
      };
    },
  };
}

/** How stale the synchronous policy snapshot (tool calls) may get before it is checked again in the background. */
const SNAPSHOT_MS = 1_000;

interface PolicyLoader {
  /** The policy, re-read when policy.yaml changed; a broken file rejects, with the file's own error. */
  load(): Promise<Policy>;
  /** The last policy loaded (null before the first), without waiting; checks the file in the background when stale. */
  now(): Policy | null;
  /** Why the file could not be loaded the last time, if it could not. */
  error(): string | undefined;
}

/**
 * The policy, re-read whenever policy.yaml changes (`mcp-registry allow <id>` in a terminal must take effect in a
 * running registry without a restart): `load` checks the file each time (adds, starts); `now` serves the hot path.
 */
function policyLoader(file: string, sourceTypesNow: () => Record<string, string>, environment: string): PolicyLoader {
  let loaded: { key: string; policy: Promise<Policy> } | null = null;
  let last: Policy | null = null;
  let lastError: string | undefined;
  let checkedAt = 0;
  let checking = false;
  const load = async () => {
    checkedAt = Date.now();
    const st = await stat(file).catch(() => null);
    const sourceTypes = sourceTypesNow();
    const key = `${st ? `${st.mtimeMs}:${st.size}:${st.ino}` : 'absent'} ${JSON.stringify(sourceTypes)}`;
    if (!loaded || loaded.key !== key) loaded = { key, policy: import('./policy.js').then(({ Policy }) => Policy.load(file, sourceTypes, { environment })) };
    try {
      const p = await loaded.policy;
      last = p;
      lastError = undefined;
      return p;
    } catch (err) {
      lastError = errorMessage(err);
      throw err;
    }
  };
  return {
    load,
    now() {
      if (!checking && Date.now() - checkedAt > SNAPSHOT_MS) {
        checking = true;
        void load()
          .catch(() => {})
          .finally(() => (checking = false));
      }
      return last;
    },
    error: () => lastError,
  };
}

/**
 * registry-find, -list and -info under policy: `prepare` (awaited by each) brings policy and approvals up to date
 * (two stat calls when nothing changed); then visibility and trust answer synchronously from that snapshot.
 */
function catalogGovernance({ app, policy, state, pins, manager, log }: { app: App; policy: PolicyLoader; state: StateStore; pins: PinStore; manager: MountManager; log: Logger }): CatalogGovernance {
  let approvals: Record<string, unknown> = {};
  let approvalsKey = '';
  // Visibility per id, for the policy object and day it was computed under (sunset dates turn at midnight UTC).
  let cache: { policy: Policy; day: string; visible: Map<string, boolean> } | null = null;
  const current = () => {
    const p = policy.now();
    if (!p) return null;
    const day = new Date().toISOString().slice(0, 10);
    if (!cache || cache.policy !== p || cache.day !== day) cache = { policy: p, day, visible: new Map() };
    return cache;
  };
  return {
    async prepare() {
      await Promise.all([
        policy.load().catch(() => {}),
        (async () => {
          const st = await stat(state.file).catch(() => null);
          const key = st ? `${st.mtimeMs}:${st.size}:${st.ino}` : 'absent';
          if (key === approvalsKey) return;
          approvals = (await state.read()).approvals;
          approvalsKey = key;
        })().catch(() => {}),
      ]);
    },
    visible(id) {
      const c = current();
      if (!c) return true;
      let v = c.visible.get(id);
      if (v === undefined) {
        const entry = app.catalog.get(id);
        v = entry ? c.policy.visibility(entry).visible : true;
        c.visible.set(id, v);
      }
      return v;
    },
    trust(entry) {
      const p = policy.now();
      if (!p) return { status: 'unknown', reason: `policy.yaml could not be read (${policy.error() ?? 'not loaded yet'}); no server starts until it is fixed` };
      return p.trustView(entry, approvals);
    },
    async launches(entry) {
      // A preview must never break registry-info: with policy.yaml broken, trust above already says why.
      return manager.previewLaunches(entry, approvals).catch((err) => {
        log.debug(`no launch preview for ${entry.id}: ${errorMessage(err)}`);
        return undefined;
      });
    },
    async details(entry) {
      const [pin, pending] = await Promise.all([pins.get(entry.id), pins.pending(entry.id)]);
      const mount = manager.mountInfo(entry.id);
      if (!pin && !pending && !mount?.withheld) return undefined;
      const text: string[] = [];
      if (pin) text.push(`Pinned: ${pin.imageId ? `image ${shortId(pin.imageId)}` : 'no image'}, ${pin.tools ? `${Object.keys(pin.tools).length} tools` : 'no tools'} (approved ${pin.approvedAt}${pin.by ? ` by ${pin.by}` : ''})`);
      if (pending) {
        const parts = [pending.image ? `image changed to ${shortId(pending.image.newId)}${pending.image.oldId ? ` (approved ${shortId(pending.image.oldId)})` : ''}` : '', pending.tools ? `tools ${describeToolDiff(pending.tools)}` : ''].filter(Boolean);
        text.push(`Waiting for approval: ${parts.join('; ')} — run in a terminal: mcp-registry approve ${entry.id}`);
      }
      if (mount?.withheld) text.push(`Withheld now: ${mount.withheld.map((w) => `${w.name} (${w.reason})${w.description ? ` — now described as: ${w.description}` : ''}`).join('; ')}`);
      return {
        text,
        structured: {
          ...(pin ? { pinned: { imageId: pin.imageId, imageRef: pin.imageRef, tools: pin.tools ? Object.keys(pin.tools).sort() : undefined, approvedAt: pin.approvedAt, by: pin.by } } : {}),
          ...(pending ? { pending } : {}),
          ...(mount?.withheld ? { withheld: mount.withheld } : {}),
        },
      };
    },
  };
}
