// `mcp-registry --profile NAME`: the profile read before the stdio server's tool table is built, activated after restore.
import type { App } from '../assemble.js';
import { ProfileStore, type FoundProfile } from '../config/profiles.js';
import { resolveEntry } from '../catalog/lookups.js';
import type { MountManager } from '../runtime/mounts/manager.js';
import type { StateStore } from '../store/state.js';
import { activateProfile, formatActivation, type ProfileDeps } from '../tools/registry-profile.js';
import { errorMessage, type Logger } from '../util/log.js';

/** registry-profile's view of the running registry (the profiles of the config in effect, the mounts, the settings). */
export function profileDeps(app: App, manager: MountManager, state: StateStore): ProfileDeps {
  return {
    store: () => new ProfileStore(app.paths.configFile, app.config.profiles),
    async resolve(id) {
      await app.catalog.load();
      if (!app.catalog.hasData) await app.catalog.ready();
      return resolveEntry(app.catalog, id);
    },
    add: (id, opts, ctx) => manager.add(id, opts, ctx),
    active: () => manager.active(),
    settingsOf: (id) => state.settings(id),
  };
}

/** The profile `--profile` names; a missing or broken one is an error that stops the start (exit 1). */
export async function readStartProfile(app: App, name: string): Promise<FoundProfile> {
  const store = new ProfileStore(app.paths.configFile, app.config.profiles);
  const found = await store.get(name).catch((err: unknown) => {
    throw new Error(`--profile ${name}: ${errorMessage(err)}`);
  });
  if (!found) throw new Error(`--profile ${name}: there is no such profile (not under profiles: in ${app.paths.configFile}, no ${store.fileOf(name)}). Save one with registry-profile {"action": "save", "name": "${name}"}.`);
  return found;
}

/** Mount the profile's servers with no client question to ask (approval needed: reported, not started). */
export async function activateAtStart(found: FoundProfile, deps: ProfileDeps, log: Logger): Promise<void> {
  try {
    const reports = await activateProfile(found, deps, { signal: new AbortController().signal, progress: () => {} });
    const text = formatActivation(found.name, reports);
    if (reports.every((r) => r.status === 'mounted')) log.info(text);
    else log.warn(text);
  } catch (err) {
    log.error(`--profile ${found.name}: ${errorMessage(err)}`);
  }
}
