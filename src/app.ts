import { loadConfig, type RegistryConfig } from './config.js';
import { resolvePaths, type RegistryPaths } from './paths.js';
import { Catalog } from './catalog/catalog.js';
import { createSource } from './sources/index.js';
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

export async function createApp(env: NodeJS.ProcessEnv = process.env): Promise<App> {
  const paths = resolvePaths(env);
  const config = await loadConfig(paths.configFile);
  const log = createLogger('registry');
  const catalog = new Catalog(config, paths.cacheDir, paths.sourcesDir, createSource, log.child('catalog'));
  await catalog.load();
  return { paths, config, catalog, scheduler: new RefreshScheduler(catalog, log.child('scheduler')), log };
}
