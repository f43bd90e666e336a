// The registry's own tool table: the catalog tools and the runtime tools, in the order tools/list shows them.
import type { ToolExposure } from './lazy-tools.js';
import type { MountManager } from '../runtime/mounts/manager.js';
import { catalogKit, type CatalogToolDeps } from './catalog-kit.js';
import { registryActive } from './registry-active.js';
import { registryAdd } from './registry-add.js';
import { registryConfigSet } from './registry-config-set.js';
import { registryExec } from './registry-exec.js';
import { registryExecReadonly } from './registry-exec-readonly.js';
import { registryFind } from './registry-find.js';
import { registryInfo } from './registry-info.js';
import { registryList } from './registry-list.js';
import { registryProfile, type ProfileDeps } from './registry-profile.js';
import { registryRefresh } from './registry-refresh.js';
import { registryRemove } from './registry-remove.js';
import { registryStatus } from './registry-status.js';
import type { ToolDef } from './tool-def.js';

/** registry-find, -list, -info, -refresh and -status over one catalog (and policy, when given). */
export function catalogTools(deps: CatalogToolDeps): ToolDef[] {
  const kit = catalogKit(deps);
  return [registryFind(kit), registryList(kit), registryInfo(kit), registryRefresh(kit), registryStatus(kit)];
}

/** registry-add, -remove, -active, -config-set, -exec and -exec-readonly over the mount manager. */
export function runtimeTools(manager: MountManager, exposure: ToolExposure = 'all'): ToolDef[] {
  return [registryAdd(manager, exposure), registryRemove(manager), registryActive(manager), registryConfigSet(manager), registryExec(manager), registryExecReadonly(manager)];
}

/** registry-profile: profiles saved from the mounts, listed, shown and activated. */
export function profileTools(deps: ProfileDeps): ToolDef[] {
  return [registryProfile(deps)];
}
