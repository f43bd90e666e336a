/** serve-http as an organisation's registry: named registries, credentials, publish API, health, replicas. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Catalog, RefreshOutcome } from '../catalog/catalog.js';
import type { RegistryConfig } from '../config/config.js';
import type { RegistryPaths } from '../config/paths.js';
import type { Entry } from '../model/entry.js';
import { RefreshScheduler } from '../catalog/scheduler.js';
import { errorMessage, type Logger } from '../util/log.js';
import type { NamedRegistryConfig } from '../config/org-config.js';
import type { Policy } from '../governance/policy.js';
import { INSTANCE } from '../store/file-stores.js';
import type { HttpAuditRecord, OrgStores, PublishedRecord } from '../store/org-stores.js';
import { problem, type ApiResponse } from './api.js';
import { ApiKeyVerifier } from './apikeys.js';
import { ANONYMOUS, Authenticator, readRefusal, resourceMetadata, unauthorized, type Identity } from './auth.js';
import { HealthChecker } from './health.js';
import { callers } from './entry-claims.js';
import { CONTENT_TYPE, RegistryMetrics, routeOf } from './metrics.js';
import { handleOrgApi, type OrgApiResult } from './publish.js';
import { LayeredView, publishedRows, withAggregatorFacts } from './published-view.js';
import { normalizeBasePath, RegistryHttpServer, type HttpServerOptions, type InterceptedRequest } from './http-server.js';
import type { EntryFilter, MappingOptions } from './server-json-out.js';
import type { EntryVisibility } from '../governance/policy.js';
import { ServedStamps } from './stamps.js';
import { ServedView, type Row } from './view.js';

/**
 * serve-http as an organisation's registry: named registries by audience at /registry/<name>/v0.1/…, credentials
 * (API keys, OIDC tokens) and claims, the publish API, health checks, Prometheus metrics and the HTTP audit trail —
 * over the one-process server (RegistryHttpServer), which keeps serving reads from memory. With a database, the
 * replicas elect one refresher (sources, health probes, served timestamps) and follow each other's changes through
 * notifications; a replica that loses the database keeps answering from its last good view with a Warning header.
 */

export interface OrgOptions {
  host: string;
  basePath?: string;
  trustProxy?: boolean;
  /** The default registry's filter (policy for the configured environment). */
  filter: EntryFilter;
  mapping: MappingOptions;
  /** policy.yaml for an environment (a named registry may have its own). */
  loadPolicy: (environment: string) => Promise<Policy>;
  /** The policy of the configured environment, as serve-http keeps it current. */
  policy: () => Policy | undefined;
  log: Logger;
}

export interface OrgServe {
  /** Options for the front server (the default registry). */
  httpOptions: Partial<HttpServerOptions>;
  /** After the front listens: named registries, elections, health, subscriptions. */
  attach(front: RegistryHttpServer): Promise<void>;
  /** True when this layer decides when the catalog refreshes (replicas: the elected refresher only). */
  controlsRefresh: boolean;
  policyChanged(): Promise<void>;
  stop(): Promise<void>;
}

const HIDDEN: EntryVisibility = { visible: false, status: 'active' };
const MAX_BODY = 256 * 1024;

interface Served {
  name: string;
  /** URL prefix under the base path: '' for the default registry. */
  prefix: string;
  sources: string[];
  claims?: NamedRegistryConfig['claims'];
  environment: string;
  policy?: Policy;
  server?: RegistryHttpServer;
  overlay: ServedView;
  stamps: ServedStamps;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        resolve('too-large');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** What the organisation's registry needs of the assembled app (assemble.ts's App has it). */
export interface OrgApp {
  config: RegistryConfig;
  paths: Pick<RegistryPaths, 'cacheDir'>;
  catalog: Catalog;
  org: OrgStores;
}

export async function prepareOrg(app: OrgApp, opts: OrgOptions): Promise<OrgServe> {
  const cfg = app.config;
  const log = opts.log;
  const stores = app.org;
  const db = stores.database;
  const metrics = new RegistryMetrics();
  const auth = new Authenticator(new ApiKeyVerifier(stores.apikeys), cfg.http.auth.oidc);
  const anonymousReads = cfg.http.auth.anonymous ?? isLoopbackHost(opts.host);
  if (!anonymousReads && cfg.http.auth.anonymous === undefined) {
    log.warn(`listening on ${opts.host} (not loopback): reads need an API key or a token; set http.auth.anonymous: true in config.yaml to serve them to anyone (GitHub Copilot sends no credential)`);
  }
  const basePath = normalizeBasePath(opts.basePath);
  const sourceType = new Map(cfg.sources.map((s) => [s.name, s.type]));
  const managedSources = cfg.sources.filter((s) => s.type === 'managed' && s.enabled).map((s) => s.name);
  const managedPrimary = (e: Entry) => sourceType.get(e.sources[0]?.source ?? '') === 'managed';
  const scopeNames = { publish: cfg.http.auth.oidc?.scopes.publish ?? 'publish', admin: cfg.http.auth.oidc?.scopes.admin ?? 'admin' };

  // ---- elections (replicas) ----
  const { RefresherElection } = db ? await import('../store/pg/leader.js') : { RefresherElection: undefined };
  const election = db && RefresherElection ? new RefresherElection(db, cfg.database?.leaderPoll ?? 5_000, log.child('election')) : undefined;
  const isRefresher = () => (election ? election.isRefresher : true);
  if (stores.catalogStore && 'refreshAllowed' in stores.catalogStore) (stores.catalogStore as { refreshAllowed: () => boolean }).refreshAllowed = isRefresher;

  const stampsFor = async (registry: string): Promise<ServedStamps> => {
    if (!db) return new ServedStamps(registry === 'default' ? `${app.paths.cacheDir}/http-served.json` : `${app.paths.cacheDir}/http-served-${registry}.json`, log);
    const { PgStampsBackend } = await import('../store/pg/stores.js');
    return new ServedStamps(new PgStampsBackend(db, registry, isRefresher), log);
  };

  // ---- the registries ----
  const all: Served[] = [];
  const defaultReg: Served = { name: 'default', prefix: '', sources: cfg.sources.map((s) => s.name), environment: cfg.environment, overlay: new ServedView([]), stamps: await stampsFor('default') };
  all.push(defaultReg);
  for (const r of cfg.registries) {
    if (r.name === 'default') {
      // `default` configures the root registry.
      defaultReg.sources = r.sources;
      defaultReg.claims = r.claims;
      if (r.environment) defaultReg.environment = r.environment;
      continue;
    }
    all.push({ name: r.name, prefix: `/registry/${r.name}`, sources: r.sources, claims: r.claims, environment: r.environment ?? cfg.environment, overlay: new ServedView([]), stamps: await stampsFor(r.name) });
  }
  const named = new Map(all.filter((r) => r.prefix).map((r) => [r.name, r]));
  const restricted = (reg: Served) => reg.sources.length !== cfg.sources.length || reg.sources.some((s, i) => s !== cfg.sources[i]!.name);

  const loadPolicies = async () => {
    for (const reg of all) reg.policy = reg.environment === cfg.environment ? opts.policy() : await opts.loadPolicy(reg.environment);
  };
  await loadPolicies();

  /** What policy shows of an entry in a registry, before the managed-source split. */
  const visibilityIn = (reg: Served) => {
    const inSources = new Set(reg.sources);
    const base: EntryFilter = reg === defaultReg && reg.environment === cfg.environment ? opts.filter : (e) => (reg.policy ? reg.policy.visibility(e) : { visible: e.status !== 'deleted', status: 'active' });
    return (e: Entry): EntryVisibility => (!restricted(reg) || e.sources.some((s) => inSources.has(s.source)) ? base(e) : HIDDEN);
  };
  /** The catalog view leaves managed entries to the published layer (served from the store at once). */
  const catalogFilter = (reg: Served): EntryFilter => {
    const vis = visibilityIn(reg);
    return (e) => (managedPrimary(e) ? HIDDEN : vis(e));
  };

  // ---- published layer, health, composition ----
  let records: PublishedRecord[] = [];
  const health = new HealthChecker(
    stores.health,
    cfg.http.health,
    (e) => opts.policy()?.governanceFor(e).remote ?? {},
    log.child('health'),
  );
  const decorate = (r: Row): Row => {
    const h = r.id ? health.summary(r.id) : undefined;
    return h ? withAggregatorFacts(r, { health: h }) : r;
  };
  const compose = (reg: Served) => (base: ServedView) => {
    const order = reg.sources;
    const rank = (s: string | undefined) => (s === undefined ? order.length : order.indexOf(s) < 0 ? order.length : order.indexOf(s));
    const view = new LayeredView(base, reg.overlay, rank, decorate);
    metrics.served.set({ registry: reg.name }, view.size);
    return view;
  };
  const rebuildOverlays = () => {
    for (const reg of all) {
      const mine = new Set(reg.sources.filter((s) => sourceType.get(s) === 'managed'));
      reg.overlay = mine.size ? publishedRows(records, mine, visibilityIn(reg), opts.mapping) : new ServedView([]);
    }
  };
  let front: RegistryHttpServer | undefined;
  const servers = () => all.map((r) => (r === defaultReg ? front : r.server)).filter((s): s is RegistryHttpServer => !!s);
  const recomposeAll = () => {
    for (const s of servers()) s.recompose();
  };

  let loadingRecords: Promise<void> | null = null;
  let again = false;
  const reloadRecords = (): Promise<void> => {
    if (loadingRecords) {
      again = true;
      return loadingRecords;
    }
    loadingRecords = (async () => {
      do {
        again = false;
        try {
          records = managedSources.length ? await stores.published.list() : [];
          rebuildOverlays();
          recomposeAll();
        } catch (err) {
          log.warn(`could not read the published entries (${errorMessage(err)}); still serving the previous ones`);
        }
      } while (again);
    })().finally(() => (loadingRecords = null));
    return loadingRecords;
  };
  await reloadRecords();

  // The catalog's own copy of the managed sources (registry-find, health probes) follows, on the refresher. Each
  // such refresh makes every replica merge its whole catalog again, so a burst of publishes is batched into one
  // (the HTTP API serves published entries from the store at once; only the catalog's copy waits).
  let managedTimer: NodeJS.Timeout | null = null;
  const refreshManagedSoon = (delayMs = 2_000) => {
    if (!managedSources.length || !isRefresher() || managedTimer) return;
    managedTimer = setTimeout(() => {
      managedTimer = null;
      void Promise.all(managedSources.map((source) => app.catalog.refresh({ source, force: true }))).then(
        (outs) => {
          const cool = outs.flat().find((o) => o.status === 'cooldown' || o.status === 'busy');
          if (cool) refreshManagedSoon(Math.max(1_000, cfg.refresh.cooldown));
        },
        (err) => log.warn(`could not refresh the managed sources: ${errorMessage(err)}`),
      );
    }, delayMs);
    managedTimer.unref();
  };
  stores.published.onChange(() => {
    void reloadRecords();
    refreshManagedSoon();
  });
  health.on('changed', () => {
    const c = health.counts();
    for (const [state, n] of Object.entries(c)) metrics.health.set({ state }, n);
    recomposeAll();
  });

  // ---- metrics from the catalog ----
  app.catalog.on('refreshed', (outcomes: RefreshOutcome[]) => {
    for (const o of outcomes) {
      metrics.refreshes.inc({ source: o.name, outcome: o.status });
      if (o.status === 'ok' || o.status === 'unchanged' || o.status === 'error') metrics.refreshDuration.observe({ source: o.name }, o.durationMs / 1000);
    }
  });
  const catalogSize = () => metrics.catalogEntries.set({}, app.catalog.size);
  app.catalog.on('updated', catalogSize);
  catalogSize();

  // ---- audit ----
  const audit = async (rec: Omit<HttpAuditRecord, 'time' | 'instance'> & { time?: string }) => {
    try {
      await stores.audit.write({ time: rec.time ?? new Date().toISOString(), instance: INSTANCE, ...rec } as HttpAuditRecord);
    } catch (err) {
      log.error(`could not write the audit trail (${errorMessage(err)}): ${rec.action} by ${rec.actor.id} ${rec.outcome}`);
    }
  };
  const actorOf = (who: Identity): HttpAuditRecord['actor'] => ({ type: who.type, id: who.id, ...(who.name ? { name: who.name } : {}) });

  // ---- refresh requests (POST /v1/refresh) go to the refresher ----
  let scheduler: RefreshScheduler | undefined;
  const refreshNow = async (source?: string): Promise<string> => {
    if (!isRefresher()) {
      await db!.notify({ kind: 'refresh', ...(source ? { source } : {}) });
      return 'the refresher replica';
    }
    void app.catalog.refresh(source ? { source, force: true } : { force: true }).catch((err) => log.warn(`refresh failed: ${errorMessage(err)}`));
    return INSTANCE;
  };

  const baseUrl = (req: IncomingMessage, prefix: string) => {
    const fwd = (h: string) => (opts.trustProxy ? String(req.headers[h] ?? '').split(',')[0]!.trim() : '');
    const proto = fwd('x-forwarded-proto') || 'http';
    const host = fwd('x-forwarded-host') || req.headers.host || opts.host;
    return `${proto}://${host}${basePath}${prefix}`;
  };

  const answer = (r: InterceptedRequest, api: ApiResponse) => front!.answer(r.req, r.res, api);

  /** The org API (/v1/…): body, credential, handler, audit. */
  const orgApi = async (r: InterceptedRequest, reg: Served, sub: string): Promise<boolean> => {
    const t0 = performance.now();
    let body: Buffer | undefined;
    if (r.method !== 'GET' && r.method !== 'HEAD') {
      const b = await readBody(r.req, MAX_BODY);
      if (b === 'too-large') return answer(r, problem(413, `the body is over ${MAX_BODY / 1024} KiB; a server.json is a few KiB`, { cors: false })), true;
      body = b;
    }
    const idOutcome = await auth.identify(r.req);
    const who = idOutcome.ok ? idOutcome.identity : ANONYMOUS;
    let result: OrgApiResult;
    if (!idOutcome.ok) {
      result = { api: unauthorized(idOutcome.reason, baseUrl(r.req, reg.prefix), false), audit: { action: r.method === 'GET' ? 'read' : 'auth', reason: idOutcome.reason, write: r.method !== 'GET' } };
    } else {
      result = await handleOrgApi(
        {
          published: stores.published,
          managedSources: managedSources.filter((s) => reg.sources.includes(s)),
          health,
          audit: stores.audit,
          refresh: refreshNow,
          changed: () => reloadRecords(),
        },
        { method: r.method, path: sub, query: new URLSearchParams(r.query), body, contentType: r.req.headers['content-type'] },
        who,
        baseUrl(r.req, reg.prefix),
        scopeNames,
      );
    }
    answer(r, result.api);
    if (result.audit && (result.audit.write || cfg.http.audit.reads)) {
      const status = result.api.status;
      const action = result.audit.action;
      if (action.startsWith('entry.')) metrics.publishes.inc({ action: action.slice(6), outcome: status < 300 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failure' });
      await audit({
        action,
        outcome: status < 300 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failure',
        actor: actorOf(who),
        client: { ip: r.ip, ...(r.req.headers['user-agent'] ? { userAgent: String(r.req.headers['user-agent']).slice(0, 300) } : {}) },
        request: { id: r.rid, method: r.method, path: `${basePath}${reg.prefix}${sub}`.slice(0, 500), status },
        ...(result.audit.target ? { target: { registry: reg.name, ...result.audit.target } } : { target: { registry: reg.name } }),
        ...(status >= 300 ? { reason: (JSON.parse(result.api.body) as { detail?: string }).detail?.slice(0, 500) ?? result.audit.reason } : {}),
        durationMs: Math.round(performance.now() - t0),
      });
    }
    return true;
  };

  const auditRead = (r: InterceptedRequest, reg: Served, who: Identity, t0: number) =>
    r.res.once('finish', () => {
      void audit({
        action: 'read',
        outcome: r.res.statusCode < 400 ? 'success' : r.res.statusCode === 401 || r.res.statusCode === 403 ? 'denied' : 'failure',
        actor: actorOf(who),
        client: { ip: r.ip, ...(r.req.headers['user-agent'] ? { userAgent: String(r.req.headers['user-agent']).slice(0, 300) } : {}) },
        request: { id: r.rid, method: r.method, path: (r.req.url ?? '').slice(0, 500), status: r.res.statusCode },
        target: { registry: reg.name },
        durationMs: Math.round(performance.now() - t0),
      });
    });

  const intercept = (r: InterceptedRequest): boolean | Promise<boolean> => {
    const t0 = performance.now();
    let reg = defaultReg;
    let sub = r.path;
    if (sub.startsWith('/registry/')) {
      const rest = sub.slice('/registry/'.length);
      const i = rest.indexOf('/');
      const name = i < 0 ? rest : rest.slice(0, i);
      const found = named.get(decodeURIComponent(name));
      if (!found) {
        answer(r, problem(404, `no registry named "${name.slice(0, 60)}"; registries: ${[...named.keys()].map((n) => `/registry/${n}/`).join(', ') || 'none (only the default at /v0.1/)'}`, { cors: true }));
        return true;
      }
      reg = found;
      sub = i < 0 ? '/' : rest.slice(i) || '/';
    }
    const route = routeOf(sub);
    r.res.once('finish', () => {
      metrics.requests.inc({ registry: reg.name, route, method: r.method, status: String(r.res.statusCode) });
      metrics.latency.observe({ registry: reg.name, route }, (performance.now() - t0) / 1000);
    });
    if (db && !db.available) {
      r.res.setHeader('Warning', `199 mcp-registry "the database is unavailable${db.downSince ? ` since ${db.downSince.toISOString()}` : ''}: serving the last good view"`);
    }
    if ((sub === '/healthz' || sub === '/readyz') && reg === defaultReg) {
      // For load balancers and orchestrators: alive means answering; ready means able to answer from a view (a
      // replica that lost the database still is: it serves its last good view). No credential, no CORS.
      const ready = sub === '/healthz' || !db || db.available || app.catalog.size > 0;
      const body = { status: ready ? 'ok' : 'unavailable', instance: INSTANCE, refresher: isRefresher(), servers: front?.view.size ?? 0, ...(db ? { database: db.available ? 'up' : 'down' } : {}) };
      answer(r, { status: ready ? 200 : 503, body: JSON.stringify(body), contentType: 'application/json; charset=utf-8', cache: 'none', cors: false });
      return true;
    }
    if (sub === '/.well-known/oauth-protected-resource' || sub.startsWith('/.well-known/oauth-protected-resource/')) {
      const base = baseUrl(r.req, sub.length > '/.well-known/oauth-protected-resource'.length ? sub.slice('/.well-known/oauth-protected-resource'.length) : reg.prefix);
      answer(r, { status: 200, body: JSON.stringify(resourceMetadata(base, cfg.http.auth.oidc)), contentType: 'application/json; charset=utf-8', cache: 'none', cors: true });
      return true;
    }
    if (sub.startsWith('/v1/') || sub === '/v1') return orgApi(r, reg, sub);

    const respond = () => (reg === defaultReg ? false : (reg.server!.respond(r.req, r.res, r.method, sub, r.query, r.req.url ?? '', r.rid), true));
    const isMetrics = sub === '/metrics' && reg === defaultReg;
    if (isMetrics && !cfg.http.metrics.enabled) return respond();
    const sendMetrics = () => {
      answer(r, { status: 200, body: metrics.render(), contentType: CONTENT_TYPE, cache: 'none', cors: false });
      return true;
    };
    // The hot path: nothing to check, nothing to wait for.
    if (anonymousReads && !reg.claims && r.req.headers.authorization === undefined) {
      if (cfg.http.audit.reads) auditRead(r, reg, ANONYMOUS, t0);
      return isMetrics ? sendMetrics() : respond();
    }
    const decide = (checked: Awaited<ReturnType<Authenticator['identify']>>): boolean => {
      const base = baseUrl(r.req, reg.prefix);
      const cors = sub.startsWith('/v0');
      let outcome = checked;
      if (!outcome.ok) {
        // Where anyone may read, a credential that is not ours (an IDE sends its GitHub token) changes nothing: the
        // read is anonymous, as before credentials existed. Writes (orgApi) and claim-restricted registries refuse.
        if (!anonymousReads || reg.claims) {
          answer(r, unauthorized(outcome.reason, base, cors));
          return true;
        }
        outcome = { ok: true, identity: ANONYMOUS };
      }
      const refused = readRefusal(outcome.identity, reg.claims, anonymousReads, base, cors);
      if (cfg.http.audit.reads || refused) auditRead(r, reg, outcome.identity, t0);
      if (refused) {
        answer(r, refused);
        return true;
      }
      // Entries with claims of their own are served to this caller only when they match (entry-claims.ts).
      callers.set(r.req, { claims: outcome.identity.claims, all: outcome.identity.scope === 'admin' });
      return isMetrics ? sendMetrics() : respond();
    };
    const outcome = auth.identify(r.req);
    return outcome instanceof Promise ? outcome.then(decide) : decide(outcome);
  };

  // ---- lifecycle ----
  const unsubscribers: (() => void)[] = [];
  const serve: OrgServe = {
    controlsRefresh: !!db,
    httpOptions: {
      intercept,
      filter: catalogFilter(defaultReg),
      compose: compose(defaultReg),
      stamps: defaultReg.stamps,
      ...(db ? { beforeBuild: () => defaultReg.stamps.load() } : {}),
    },
    async attach(f) {
      front = f;
      for (const reg of named.values()) {
        reg.server = new RegistryHttpServer({
          catalog: app.catalog,
          filter: catalogFilter(reg),
          mapping: opts.mapping,
          stamps: reg.stamps,
          compose: compose(reg),
          ...(db ? { beforeBuild: () => reg.stamps.load() } : {}),
          rateLimit: false,
          accessLog: false,
          log: log.child(reg.name),
        });
        await reg.server.prepare();
        log.info(`registry ${reg.name} at ${f.url}${basePath}${reg.prefix}/v0.1/servers (${reg.server.view.size} servers; sources ${reg.sources.join(', ')}${reg.claims ? `; for ${Object.entries(reg.claims).map(([k, v]) => `${k}: ${[v].flat().join('|')}`).join(', ')}` : ''})`);
      }
      if (managedSources.length) log.info(`publish API at ${f.url}${basePath}/v1/entries (managed sources: ${managedSources.join(', ')})`);
      if (cfg.http.metrics.enabled) log.info(`metrics at ${f.url}${basePath}/metrics`);
      await health.load().catch(() => {});
      const startRefreshing = () => {
        scheduler = new RefreshScheduler(app.catalog, log.child('scheduler'));
        void scheduler.start().catch((err) => log.warn(`background refresh could not start: ${errorMessage(err)}`));
        // A refresh the previous refresher started and never finished (it died): run it again now.
        void app.catalog.status().then(
          (list) => {
            for (const st of list) {
              if (!st.enabled || st.refreshing || !st.lastAttempt || (st.lastRefresh && Date.parse(st.lastRefresh) >= Date.parse(st.lastAttempt))) continue;
              log.info(`source ${st.name}: its last refresh (${st.lastAttempt}) never finished; refreshing it again`);
              void app.catalog.refresh({ source: st.name, force: true }).catch((err) => log.warn(`refreshing ${st.name} failed: ${errorMessage(err)}`));
            }
            void scheduler?.tick('this replica became the refresher');
          },
          () => void scheduler?.tick('this replica became the refresher'),
        );
        if (cfg.http.health.enabled) health.start(() => app.catalog.all());
        // Stamps: the refresher writes what every replica serves.
        for (const s of servers()) void s.rebuild();
        refreshManagedSoon(0);
        metrics.refresher.set({}, 1);
      };
      const stopRefreshing = () => {
        void scheduler?.stop();
        scheduler = undefined;
        void health.stop();
        metrics.refresher.set({}, 0);
      };
      if (election && db) {
        metrics.refresher.set({}, 0);
        election.on('acquired', startRefreshing);
        election.on('lost', stopRefreshing);
        election.start();
        const onNotify = (n: import('../store/pg/db.js').Notification) => {
          if (n.from === INSTANCE) return;
          if (n.kind === 'stamps') {
            const reg = n.registry === 'default' ? defaultReg : named.get(n.registry ?? '');
            const s = reg === defaultReg ? front : reg?.server;
            if (s && !isRefresher()) void s.rebuild();
          } else if (n.kind === 'health' && !isRefresher()) void health.load().catch(() => {});
          else if (n.kind === 'refresh' && isRefresher()) void refreshNow(n.source);
        };
        db.on('notify', onNotify);
        const onUp = () => {
          metrics.databaseUp.set({}, 1);
          void health.load().catch(() => {});
          for (const s of servers()) void s.rebuild();
        };
        const onDown = () => metrics.databaseUp.set({}, 0);
        db.on('up', onUp);
        db.on('down', onDown);
        metrics.databaseUp.set({}, db.available ? 1 : 0);
        unsubscribers.push(() => db.off('notify', onNotify), () => db.off('up', onUp), () => db.off('down', onDown));
      } else {
        // One process: it refreshes (serve.ts runs the schedule) and probes.
        metrics.refresher.set({}, 1);
        if (cfg.http.health.enabled) health.start(() => app.catalog.all());
      }
    },
    async policyChanged() {
      await loadPolicies();
      rebuildOverlays();
      for (const reg of named.values()) void reg.server?.rebuild();
    },
    async stop() {
      for (const u of unsubscribers) u();
      if (managedTimer) clearTimeout(managedTimer);
      await health.stop();
      await scheduler?.stop();
      await election?.stop();
      for (const reg of named.values()) await reg.server?.close(1_000);
      await stores.close();
    },
  };
  return serve;
}
