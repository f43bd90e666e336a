// What the catalog tools (find, list, info, refresh, status) share: their dependencies, policy's view of entries,
// the wait for a first fetch, and the config.yaml check each call makes first.
import type { Catalog } from '../catalog/catalog.js';
import type { CatalogGovernance, ViewHooks } from '../catalog/views.js';
import type { HealthView } from '../catalog/health-view.js';
import type { RuntimeStatus } from '../runtime/status.js';
import { ToolFinder, type LiveMounts } from './tool-find.js';

export interface CatalogToolDeps {
  catalog: Catalog;
  hooks?: ViewHooks;
  /** Runtime facts for registry-status. */
  runtimeStatus?: () => Promise<RuntimeStatus>;
  /** How long registry-refresh waits before answering and letting the refresh go on in the background. */
  refreshWaitMs?: number;
  /** Policy: when given, it decides visibility and `hooks.trust`, brought up to date before each search. */
  governance?: CatalogGovernance;
  /** Picks up an edited config.yaml before each call (App.checkConfig); a returned text is shown with the result. */
  checkConfig?: () => Promise<string | undefined>;
  /** Mounted servers and their tools, for registry-find kind "tools" (running, live tool lists). */
  mounts?: LiveMounts;
  /** One tool finder shared with registry-exec's just-in-time start (jit-exec.ts); made here when not given. */
  toolFinder?: ToolFinder;
  /** Remote endpoints' health as serve-http's probes keep it in the shared store (shown by find and info). */
  health?: HealthView;
}

type Progress = (p: number, t: number | undefined, m: string) => void;

export interface CatalogKit {
  deps: CatalogToolDeps;
  catalog: Catalog;
  governance?: CatalogGovernance;
  hooks: ViewHooks;
  /** Single tools across the catalog (registry-find kind "tools"). */
  tools: ToolFinder;
  /** Hidden entries (policy: disabled, wrong environment) never appear in results. */
  visible(id: string): boolean;
  /** The note a changed-but-broken config.yaml adds to a result ('' when none). */
  checkConfig(): Promise<string>;
  /** The catalog loaded (a first run fetches it, with progress) and policy brought up to date. */
  prepare(progress: Progress): Promise<void>;
}

export function catalogKit(deps: CatalogToolDeps): CatalogKit {
  const { catalog, governance } = deps;
  const health = deps.health;
  const withHealth: ViewHooks = health ? { ...deps.hooks, health: (e) => health.summary(e.id) } : (deps.hooks ?? {});
  const hooks: ViewHooks = governance ? { ...withHealth, trust: (e) => governance.trust(e) } : withHealth;
  const visible = governance ? (id: string) => governance.visible(id) : () => true;
  const tools = deps.toolFinder ?? new ToolFinder({ all: () => catalog.all(), mounts: deps.mounts, hooks, trust: hooks.trust });

  const waitForData = async (progress: Progress) => {
    await catalog.load();
    if (catalog.hasData && !catalog.loadingSources.length) return;
    let step = 0;
    progress(0, undefined, 'First run: fetching the catalog sources now…');
    await catalog.ready((p) => progress(++step, undefined, `${p.source}: ${p.message}`));
  };
  return {
    deps,
    catalog,
    governance,
    hooks,
    tools,
    visible,
    async checkConfig() {
      const problem = await deps.checkConfig?.();
      return problem ? `\n⚠ ${problem}` : '';
    },
    // Each handler calls checkConfig first: a source an edit adds or fixes is known to the argument checks and is
    // being fetched before waitForData looks.
    async prepare(progress) {
      await Promise.all([waitForData(progress), governance?.prepare(), health?.prepare()]);
    },
  };
}
