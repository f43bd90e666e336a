import type { App } from '../app.js';
import type { Entry } from '../catalog/entry.js';
import { stat } from 'node:fs/promises';
import { addLogRedactor, errorMessage } from '../log.js';
import { resolveEntry } from '../server/resolve-entry.js';
import { runtimeTools } from '../server/runtime-tools.js';
import type { ToolDef } from '../server/tool-def.js';
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
  status(): Promise<{ podman: string | null; rootless: boolean | null; active: number }>;
  /** Names of settings and secrets already set (registry-find's requiresConfig leaves them out). */
  configured(entry: Entry): Set<string>;
  /** Podman and this instance's id (loads podman.ts on first use). */
  containers(): Promise<ContainerKit>;
}

/**
 * Build the runtime for a registry process. Reads the saved mounts before returning, so their tool names are
 * claimed (calls wait for the restore) from the moment the server answers.
 */
export async function createRuntime({ app, reg }: { app: App; reg: RuntimeNotifier }): Promise<Runtime> {
  const log = app.log.child('runtime');
  let kit: Promise<ContainerKit> | null = null;
  const containers = () =>
    (kit ??= import('./podman.js').then((mod) => ({
      mod,
      instance: mod.newInstanceId(),
      podman: new mod.Podman({ bin: app.config.runtime.podman, logger: log.child('podman') }),
    })));
  const state = new StateStore(app.paths.stateDir);
  const secrets = new SecretStore(app.paths.secretsFile);
  const sourceTypes = Object.fromEntries(app.config.sources.map((s) => [s.name, s.type]));
  const policy = policyLoader(app.paths.policyFile, sourceTypes, app.config.environment);

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
    policy,
    log,
    redactor,
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
    configured: (entry) => manager.configured(entry),
    async start() {
      await policy().catch((err) => log.error(`${errorMessage(err)} — no server can start until it is fixed`));
      // Reaping runs beside the restore: container names differ per instance, so the two cannot collide. It also
      // warms the podman probe, so the first registry-add does not pay for `podman info`.
      const reap = (async () => {
        const { podman, mod } = await containers();
        if (!(await podman.probe()).ok) return;
        await podman.reapOrphans(mod.instanceAlive).catch((err) => log.warn(`could not remove containers of dead registry instances: ${errorMessage(err)}`));
      })();
      await Promise.all([manager.restore(), reap]);
    },
    shutdown: () => manager.shutdown(),
    async status() {
      const v = await (await containers()).podman.version();
      return { podman: v?.version ?? null, rootless: v ? v.rootless : null, active: manager.count };
    },
  };
}

/**
 * The policy, re-read whenever policy.yaml changes (`mcp-registry allow <id>` in a terminal must take effect in a
 * running registry without a restart). A broken file rejects, with the file's own error.
 */
function policyLoader(file: string, sourceTypes: Record<string, string>, environment: string): () => Promise<Policy> {
  let loaded: { key: string; policy: Promise<Policy> } | null = null;
  return async () => {
    const st = await stat(file).catch(() => null);
    const key = st ? `${st.mtimeMs}:${st.size}:${st.ino}` : 'absent';
    if (!loaded || loaded.key !== key) loaded = { key, policy: import('./policy.js').then(({ Policy }) => Policy.load(file, sourceTypes, { environment })) };
    return loaded.policy;
  };
}
