import { loadConfig, type RegistryConfig, type SourceConfig } from './config.js';
import { resolvePaths, type RegistryPaths } from './paths.js';
import { Catalog } from './catalog/catalog.js';
import { createLogger, type Logger } from './log.js';
import { RefreshScheduler } from './catalog/scheduler.js';

/** Everything the CLI and the MCP server share: where things are, the config and the catalog. */
export interface App {
  paths: RegistryPaths;
  config: RegistryConfig;
  catalog: Catalog;
  scheduler: RefreshScheduler;
  log: Logger;
}

/** `load: false` leaves loading the cached catalog to the caller (the stdio server answers initialize first). */
export async function createApp(env: NodeJS.ProcessEnv = process.env, opts: { load?: boolean } = {}): Promise<App> {
  const paths = resolvePaths(env);
  const config = await loadConfig(paths.configFile);
  const log = createLogger('registry');
  // Source modules (cheerio, simple-git) load on the first refresh, not at start-up.
  const makeSource = async (cfg: SourceConfig) => (await import('./sources/index.js')).createSource(cfg);
  const catalog = new Catalog(config, paths.cacheDir, paths.sourcesDir, makeSource, log.child('catalog'));
  if (opts.load !== false) await catalog.load();
  return { paths, config, catalog, scheduler: new RefreshScheduler(catalog, log.child('scheduler')), log };
}
