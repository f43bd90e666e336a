/** Where the registry keeps its files: MCP_REGISTRY_HOME, else the XDG config, data, state and cache dirs. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the registry keeps its files (contract: MCP_REGISTRY_HOME, else XDG locations). */
export interface RegistryPaths {
  configFile: string;
  policyFile: string;
  cacheDir: string;
  sourcesDir: string;
  stateDir: string;
  secretsFile: string;
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): RegistryPaths {
  const home = env.MCP_REGISTRY_HOME;
  if (home) {
    return {
      configFile: join(home, 'config.yaml'),
      policyFile: join(home, 'policy.yaml'),
      cacheDir: join(home, 'cache'),
      sourcesDir: join(home, 'sources'),
      stateDir: join(home, 'state'),
      secretsFile: join(home, 'state', 'secrets.json'),
    };
  }
  const user = env.HOME || homedir();
  const configHome = env.XDG_CONFIG_HOME || join(user, '.config');
  const cacheHome = env.XDG_CACHE_HOME || join(user, '.cache');
  const dataHome = env.XDG_DATA_HOME || join(user, '.local', 'share');
  const cacheRoot = join(cacheHome, 'mcp-registry');
  const stateDir = join(dataHome, 'mcp-registry', 'state');
  return {
    configFile: join(configHome, 'mcp-registry', 'config.yaml'),
    policyFile: join(configHome, 'mcp-registry', 'policy.yaml'),
    cacheDir: cacheRoot,
    sourcesDir: join(cacheRoot, 'sources'),
    stateDir,
    secretsFile: join(stateDir, 'secrets.json'),
  };
}
