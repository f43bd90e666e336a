/** The app both CLI and MCP server share: paths, the config in effect (reloaded on change) and the catalog. */
import { loadConfig, type RegistryConfig, type SourceConfig } from './config/config.js';
import { resolvePaths, type RegistryPaths } from './config/paths.js';
import { Catalog } from './catalog/catalog.js';
import { createLogger, errorMessage, type Logger } from './util/log.js';
import { RefreshScheduler } from './catalog/scheduler.js';
import { fileStamp } from './util/file-stamp.js';
import { openOrgStores, type OrgStores } from './store/org-stores.js';

/** Everything the CLI and the MCP server share: where things are, the config and the catalog. */
export interface App {
  paths: RegistryPaths;
  /** The config in effect: replaced when config.yaml changes (see checkConfig). */
  config: RegistryConfig;
  catalog: Catalog;
  scheduler: RefreshScheduler;
  log: Logger;
  /** Published entries, API keys, health, HTTP audit: files under the home, or PostgreSQL with database.url. */
  org: OrgStores;
  /**
   * Re-read config.yaml when it changed since it was read (one stat otherwise): sources and refresh settings take
   * effect at once, a new or redefined source is fetched now. Returns what the caller should tell the user when the
   * changed file cannot be used (the previous settings stay in effect), else undefined.
   */
  checkConfig(): Promise<string | undefined>;
}

/** `load: false` leaves loading the cached catalog to the caller (the stdio server answers initialize first). */
export async function createApp(env: NodeJS.ProcessEnv = process.env, opts: { load?: boolean } = {}): Promise<App> {
  const paths = resolvePaths(env);
  // The key is taken before reading, so an edit racing with this read is picked up by the next check.
  let loadedKey = await fileStamp(paths.configFile);
  const config = await loadConfig(paths.configFile);
  const log = createLogger('registry');
  // Source modules (cheerio, simple-git) load on the first refresh, not at start-up.
  const org = await openOrgStores(paths, config, log);
  const makeSource = async (cfg: SourceConfig) => (await import('./sources/index.js')).createSource(cfg, { published: async () => org.published });
  const catalog = new Catalog(config, paths.cacheDir, paths.sourcesDir, makeSource, log.child('catalog'), { store: org.catalogStore });
  if (opts.load !== false) await catalog.load();
  // With a database, the catalog follows what the refresher writes there (the local files are only a cache).
  if (org.database) (await import('./store/pg/follow.js')).followDatabase(catalog, org.database);
  const scheduler = new RefreshScheduler(catalog, log.child('scheduler'));

  let problem: string | undefined;
  let checking: Promise<void> | null = null;
  const app: App = {
    paths,
    config,
    catalog,
    scheduler,
    log,
    org,
    async checkConfig() {
      checking ??= (async () => {
        const key = await fileStamp(paths.configFile);
        if (key === loadedKey) return;
        loadedKey = key;
        let next: RegistryConfig;
        try {
          next = await loadConfig(paths.configFile);
        } catch (err) {
          problem = `config.yaml changed but cannot be used, so the registry goes on with its previous settings: ${errorMessage(err)}`;
          log.warn(problem);
          return;
        }
        problem = undefined;
        applyConfig(app, next);
      })().finally(() => (checking = null));
      await checking;
      return problem;
    },
  };
  return app;
}

/** Put a changed config into effect: the parts a running registry can change now, and a word about the rest. */
function applyConfig(app: App, next: RegistryConfig): void {
  const prev = app.config;
  app.config = next;
  const changed = app.catalog.reconfigure(next);
  void app.scheduler.reschedule().catch((err) => app.log.warn(`could not change the refresh schedule: ${errorMessage(err)}`));
  const later = (['runtime', 'environment', 'audit'] as const).filter((k) => JSON.stringify(prev[k]) !== JSON.stringify(next[k]));
  app.log.info(`config.yaml changed: using it now${changed.length ? `; fetching ${changed.join(', ')}` : ''}`);
  if (later.length) app.log.warn(`config.yaml: the new ${later.join(', ')} settings take effect when the registry restarts`);
  // Registered synchronously: a search that follows waits for these sources (Catalog.loadingSources).
  for (const name of changed) void app.catalog.refresh({ source: name }).catch((err) => app.log.warn(`refreshing ${name} failed: ${errorMessage(err)}`));
}
