// The runtime of one registry process: podman (loaded on first use), the mount manager over the stores and policy
// it is given, start-up (reap orphans, restore saved mounts), shutdown, and its part of registry-status and -info.
import type { Catalog } from '../catalog/catalog.js';
import { resolveEntry } from '../catalog/lookups.js';
import type { LaunchView } from '../catalog/views.js';
import type { RegistryConfig } from '../config/config.js';
import type { AuditLog } from '../governance/audit-log.js';
import type { PinStore } from '../governance/pins.js';
import { pinDetails } from '../governance/pins-view.js';
import type { PolicyLoader } from '../governance/policy-loader.js';
import { Redactor } from '../governance/redact.js';
import type { Entry } from '../model/entry.js';
import type { SecretStore, StateStore } from '../store/state.js';
import { addLogRedactor, errorMessage, type Logger } from '../util/log.js';
import { MountManager, type ContainerKit, type MountManagerDeps } from './mounts/manager.js';
import { limitsProblem } from './podman/version.js';
import { BuiltIndex } from './build/built-index.js';
import type { RuntimeStatus } from './status.js';

/** What the runtime needs from the MCP server: telling the client that lists changed. */
export interface RuntimeNotifier {
  notifyToolsChanged(): void;
  notifyResourcesChanged(): void;
  notifyPromptsChanged(): void;
}

export interface RuntimeDeps {
  catalog: Catalog;
  runtime: RegistryConfig['runtime'];
  /** The runtime settings of the config in effect now (config.yaml may change while serving); default: `runtime`. */
  liveRuntime?: () => RegistryConfig['runtime'];
  /** This registry process's id (the io.mcp-registry.instance label of its containers, the audit log's instance). */
  instance: string;
  policy: PolicyLoader;
  state: StateStore;
  secrets: SecretStore;
  pins: PinStore;
  audit: AuditLog;
  log: Logger;
  notify: RuntimeNotifier;
  /** A server's tools as mounted (its own names), at each start and list change: what tool search learns. */
  onToolsSeen?: MountManagerDeps['onToolsSeen'];
}

export interface Runtime {
  /** Mounted tools, resources and prompts; the registry tools' operations. */
  manager: MountManager;
  /** Reap containers of dead registry instances and restore saved mounts, in the background. */
  start(): Promise<void>;
  /** Stop every child and container of this instance. */
  shutdown(): Promise<void>;
  /** For registry-status. */
  status(): Promise<RuntimeStatus>;
  /** Names of settings and secrets already set (registry-find's requiresConfig leaves them out). */
  configured(entry: Entry): Set<string>;
  /** Whether the npm or PyPI package an entry builds is built (registry-find's `built`), from a cached list. */
  built(entry: Entry): boolean | undefined;
  /** Podman and this instance's id (loads podman.ts on first use). */
  containers(): Promise<ContainerKit>;
  /** The entry a mounted tool belongs to (for audit records). */
  entryOfTool(name: string): string | undefined;
  /** registry-info: each launch of an entry with its trust under `approvals`; undefined when none can be shown. */
  launches(entry: Entry, approvals: Record<string, unknown>): Promise<LaunchView[] | undefined>;
  /** registry-info: pins, changes waiting for approval and withheld tools. */
  details(entry: Entry): Promise<{ text: string[]; structured: Record<string, unknown> } | undefined>;
}

/**
 * Build the runtime for a registry process. Reads the saved mounts before returning, so their tool names are
 * claimed (calls wait for the restore) from the moment the server answers.
 */
export async function createRuntime(deps: RuntimeDeps): Promise<Runtime> {
  const { catalog, instance, policy, state, secrets, pins, audit } = deps;
  const log = deps.log;
  let kit: Promise<ContainerKit> | null = null;
  const containers = () =>
    (kit ??= import('./podman/podman.js').then((mod) => ({
      mod,
      instance,
      podman: new mod.Podman({ bin: deps.runtime.podman, logger: log.child('podman') }),
    })));

  const redactor = new Redactor();
  // Every secret value known at start, so nothing a child says (or we log) can carry one out.
  redactor.add(await secrets.allValues().catch(() => []));
  addLogRedactor((s) => redactor.text(s));

  // Read in the background on first use and after every build: find asks it for every result.
  const builtIndex = new BuiltIndex(async () => {
    const { podman } = await containers();
    return (await (await import('./build/start.js')).builtStatus(podman, deps.liveRuntime?.() ?? deps.runtime))?.images ?? [];
  });
  // A built MCPB bundle's options (its manifest's user_config) are part of its config (settings, secrets, previews).
  const withBundleOptions = async (entry: Entry): Promise<Entry> => {
    if (!entry.launch.some((l) => l.type === 'package' && l.registryType.toLowerCase() === 'mcpb')) return entry;
    const [{ entryWithBuiltBundles }, { podman }] = await Promise.all([import('./build/bundle.js'), containers()]);
    return entryWithBuiltBundles(entry, podman, deps.runtime);
  };

  const manager = new MountManager({
    async resolve(id) {
      await catalog.load();
      // First run with saved mounts but no cache: the entries exist only after the first refresh.
      if (!catalog.hasData) await catalog.ready();
      let entry = resolveEntry(catalog, id);
      // A long-tail entry (a repository, no launch): its detail page may document one (inferred, needs approval).
      if (!entry.launch.length) entry = await catalog.withDetail(entry);
      return withBundleOptions(entry);
    },
    runtime: deps.runtime,
    containers,
    state,
    secrets,
    policy: policy.load,
    policyNow: policy.now,
    log,
    redactor,
    pins,
    audit,
    onBuilt: () => void builtIndex.refresh(),
    notify: {
      toolsChanged: () => deps.notify.notifyToolsChanged(),
      resourcesChanged: () => deps.notify.notifyResourcesChanged(),
      promptsChanged: () => deps.notify.notifyPromptsChanged(),
    },
    ...(deps.onToolsSeen ? { onToolsSeen: deps.onToolsSeen } : {}),
  });
  const saved = await state.mounts().catch((err) => {
    log.warn(`could not read saved mounts: ${errorMessage(err)}`);
    return [];
  });
  manager.claim(saved);
  await manager.refreshConfigured();

  return {
    manager,
    containers,
    entryOfTool: (name) => manager.entryOfTool(name),
    configured: (entry) => manager.configured(entry),
    built: (entry) => builtIndex.built(entry),
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
      const { podman } = await containers();
      // Reading both files finds (and repairs) one that went bad since the last read.
      const [v] = await Promise.all([podman.version(), state.read().catch(() => null), secrets.namesByEntry().catch(() => null)]);
      const limits = v && limitsProblem(v);
      const built = v ? await (await import('./build/start.js')).builtStatus(podman, deps.liveRuntime?.() ?? deps.runtime) : undefined;
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
    launches(entry, approvals) {
      // A preview must never break registry-info: with policy.yaml broken, trust already says why.
      return withBundleOptions(entry).then((e) => manager.previewLaunches(e, approvals)).catch((err) => {
        log.debug(`no launch preview for ${entry.id}: ${errorMessage(err)}`);
        return undefined;
      });
    },
    details: (entry) => pinDetails(pins, entry.id, manager.mountInfo(entry.id)?.withheld),
  };
}
