/** `mcp-registry serve-http`: its flags, starting the server with background refresh, graceful shutdown. */
import type { Catalog } from '../catalog/catalog.js';
import type { RefreshScheduler } from '../catalog/scheduler.js';
import type { RegistryPaths } from '../config/paths.js';
import type { RegistryConfig } from '../config/config.js';
import { errorMessage, setLogLevel, type Logger, type LogLevel } from '../util/log.js';
import { Policy, sourceTypesOf } from '../governance/policy.js';
import { governedCatalog, type CatalogView } from '../governance/catalog-view.js';
import type { RateLimitOptions } from './rate-limit.js';
import { normalizeBasePath, startHttpServer, type RegistryHttpServer } from './http-server.js';
import { sourceNamespace, type EntryFilter, type MappingOptions, type TrustFn } from './server-json-out.js';
import { prepareOrg, type OrgApp, type OrgServe } from './org.js';

/** `mcp-registry serve-http`: the catalog as an MCP Registry API v0.1, refreshed in the background while serving. */

export interface ServeHttpOptions {
  host: string;
  port: number;
  basePath?: string;
  trustProxy?: boolean;
  /** Requests per second per client (burst: 6 s worth); false: no limit. Default: DEFAULT_RATE_LIMIT. */
  rateLimit?: RateLimitOptions | false;
  /** Policy's view of entries (visible in this environment? deprecated?); default: everything, catalog status. */
  filter?: EntryFilter;
  trust?: TrustFn;
}

/** Names for entries without one come from their source's URL; official and file sources publish their own. */
function mappingFor(config: RegistryConfig, trust?: TrustFn): MappingOptions {
  const namespaces: Record<string, string> = {};
  for (const s of config.sources) namespaces[s.name] = sourceNamespace({ name: s.name, type: s.type, url: 'url' in s ? s.url : undefined });
  const serverJsonSources = new Set(config.sources.filter((s) => s.type === 'official' || s.type === 'file' || s.type === 'managed').map((s) => s.name));
  return { namespaces, serverJsonSources, trust };
}

/** Parse and check the CLI flags; returns an error message for the user instead of throwing. */
export function parseServeFlags(v: { host?: string; port?: string; 'base-path'?: string; 'trust-proxy'?: boolean; 'rate-limit'?: string }): ServeHttpOptions | string {
  const host = v.host?.trim() || '127.0.0.1';
  const portText = v.port ?? '8080';
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535)) return `--port must be a number from 0 to 65535 (got "${portText}")`;
  const basePath = v['base-path'];
  try {
    normalizeBasePath(basePath);
  } catch {
    return `--base-path may only contain letters, digits and . _ ~ - / (got "${basePath}"), e.g. --base-path /registry`;
  }
  let rateLimit: RateLimitOptions | false | undefined;
  if (v['rate-limit'] !== undefined) {
    const n = /^\d+(\.\d+)?$/.test(v['rate-limit']) ? Number(v['rate-limit']) : NaN;
    if (!Number.isFinite(n)) return `--rate-limit must be requests per second per client, 0 for no limit (got "${v['rate-limit']}")`;
    rateLimit = n === 0 ? false : { perSecond: n, burst: Math.max(30, Math.ceil(n * 6)) };
  }
  return { host, port, basePath, trustProxy: v['trust-proxy'] === true, rateLimit };
}

/** Start serving and keep going until SIGTERM/SIGINT; then stop accepting, finish in-flight requests and exit 0. */
/** What serve-http needs of the assembled registry (assemble.ts's App has it): http sits below the composition root. */
export interface ServeApp extends OrgApp {
  paths: Pick<RegistryPaths, 'policyFile' | 'cacheDir' | 'configFile'>;
  config: RegistryConfig;
  catalog: Catalog;
  scheduler: RefreshScheduler;
  log: Logger;
}

export async function runHttpServer(app: ServeApp, opts: ServeHttpOptions): Promise<number> {
  // A server process logs at info (the CLI quiets subcommands to warnings); the user's choice wins.
  setLogLevel((process.env.MCP_REGISTRY_LOG_LEVEL as LogLevel | undefined) ?? 'info');
  const log = app.log.child('http');
  // Only what policy.yaml lets this environment see is served (the catalog view the MCP tools and the CLI use, with
  // no user's approvals: this is an organisation's catalog); edits to it apply without a restart.
  let view: CatalogView | undefined;
  let policy: () => Policy | undefined = () => undefined;
  if (!opts.filter) {
    view = governedCatalog({ policyFile: app.paths.policyFile, sources: () => app.config.sources, environment: app.config.environment, lookup: (id) => app.catalog.get(id) });
    try {
      await view.loader.load();
    } catch (err) {
      process.stderr.write(`mcp-registry serve-http: ${errorMessage(err)}\nFix ${app.paths.policyFile} and start again.\n`);
      return 1;
    }
    const loader = view.loader;
    policy = () => loader.now() ?? undefined;
  }
  const filter = opts.filter ?? view!.visibility;
  const trust = opts.trust ?? (view ? (e) => policy()!.trust(e) : undefined);
  const mapping = mappingFor(app.config, trust);
  // Named registries, credentials, publish API, health, metrics, replicas (src/http/org.ts).
  let org: OrgServe;
  try {
    org = await prepareOrg(app, { host: opts.host, basePath: opts.basePath, trustProxy: opts.trustProxy, filter, mapping, policy, loadPolicy: (environment) => loadPolicy(app, environment), log });
  } catch (err) {
    process.stderr.write(`mcp-registry serve-http: ${errorMessage(err)}\nFix ${app.paths.configFile} or ${app.paths.policyFile} and start again.\n`);
    return 1;
  }
  let srv: RegistryHttpServer;
  try {
    srv = await startHttpServer({
      catalog: app.catalog,
      host: opts.host,
      port: opts.port,
      basePath: opts.basePath,
      trustProxy: opts.trustProxy,
      rateLimit: opts.rateLimit,
      filter,
      mapping,
      cacheDir: app.paths.cacheDir,
      log,
      ...org.httpOptions,
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'EADDRINUSE' ? ' (something else listens there: pick another --port)' : code === 'EACCES' ? ' (ports below 1024 need privileges: pick --port 8080)' : '';
    process.stderr.write(`mcp-registry serve-http: cannot listen on ${opts.host}:${opts.port}: ${errorMessage(err)}${hint}\n`);
    return 1;
  }
  const base = normalizeBasePath(opts.basePath);
  log.info(`MCP Registry API v0.1 at ${srv.url}${base}/v0.1/servers, catalog page at ${srv.url}${base}/ (${srv.view.size} servers)`);
  await org.attach(srv);

  const unwatch = view?.loader.watch(
    () => {
      log.info(`${app.paths.policyFile} changed: re-applying policy to the served catalog`);
      void org.policyChanged().then(() => srv.rebuild());
    },
    (err) => log.warn(`${errorMessage(err)}; still serving with the previous policy`),
  );
  // With replicas, only the elected refresher runs the schedule (org.ts starts it there).
  if (!org.controlsRefresh) void app.scheduler.start().catch((err) => log.warn(`background refresh could not start: ${errorMessage(err)}`));
  if (org.controlsRefresh) {
    if (!app.catalog.hasData) log.info('the catalog is empty here: waiting for the refresher replica to fill the database');
  } else if (!app.catalog.hasData) {
    log.info('the catalog is empty (first run): fetching sources in the background; the API serves them as they arrive');
    void app.catalog.ready().catch((err) => log.warn(`first refresh failed: ${errorMessage(err)}`));
  } else if (app.config.refresh.onStart) void app.scheduler.tick('start');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: no new connections; finishing requests in flight`);
      void (async () => {
        unwatch?.();
        await app.scheduler.stop().catch(() => {});
        await srv.close(10_000);
        await org.stop().catch(() => {});
        log.info('stopped');
        resolve(0);
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** policy.yaml as a named registry in another environment sees it (the configured environment's is the view's). */
function loadPolicy(app: ServeApp, environment: string): Promise<Policy> {
  return Policy.load(app.paths.policyFile, sourceTypesOf(app.config.sources), { environment });
}
