/**
 * Prometheus metrics in the text exposition format (version 0.0.4): counters, gauges and histograms with labels,
 * kept in memory, rendered on GET /metrics. Small on purpose — an observation on the request path is a map lookup
 * and a few additions.
 */

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(names: readonly string[], values: readonly string[], extra = ''): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}
  protected key(labels: Labels): { key: string; values: string[] } {
    const values = this.labelNames.map((n) => labels[n] ?? '');
    return { key: values.join('\u0000'), values };
  }
  abstract type: string;
  abstract lines(): string[];
  render(): string {
    return [`# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${this.name} ${this.type}`, ...this.lines()].join('\n');
  }
}

export class Counter extends Metric {
  readonly type = 'counter';
  private readonly values = new Map<string, { values: string[]; v: number }>();
  inc(labels: Labels = {}, by = 1): void {
    const { key, values } = this.key(labels);
    const cur = this.values.get(key);
    if (cur) cur.v += by;
    else this.values.set(key, { values, v: by });
  }
  lines(): string[] {
    return [...this.values.values()].map((c) => `${this.name}${labelText(this.labelNames, c.values)} ${num(c.v)}`);
  }
}

export class Gauge extends Metric {
  readonly type = 'gauge';
  private readonly values = new Map<string, { values: string[]; v: number }>();
  set(labels: Labels, v: number): void {
    const { key, values } = this.key(labels);
    this.values.set(key, { values, v });
  }
  /** Replace every series (e.g. counts per state, where a state may have gone to zero). */
  reset(): void {
    this.values.clear();
  }
  lines(): string[] {
    return [...this.values.values()].map((c) => `${this.name}${labelText(this.labelNames, c.values)} ${num(c.v)}`);
  }
}

export class Histogram extends Metric {
  readonly type = 'histogram';
  private readonly series = new Map<string, { values: string[]; counts: number[]; sum: number; count: number }>();
  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames);
  }
  observe(labels: Labels, v: number): void {
    const { key, values } = this.key(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { values, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) s.counts[i]!++;
    s.sum += v;
    s.count++;
  }
  lines(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText(this.labelNames, s.values, `le="${num(b)}"`)} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${labelText(this.labelNames, s.values, 'le="+Inf"')} ${s.count}`);
      out.push(`${this.name}_sum${labelText(this.labelNames, s.values)} ${num(s.sum)}`);
      out.push(`${this.name}_count${labelText(this.labelNames, s.values)} ${s.count}`);
    }
    return out;
  }
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The registry's metrics (one set per serve-http process). */
export class RegistryMetrics {
  readonly requests = new Counter('mcp_registry_http_requests_total', 'HTTP requests answered, by registry, route, method and status code.', ['registry', 'route', 'method', 'status']);
  readonly latency = new Histogram('mcp_registry_http_request_duration_seconds', 'Time to answer an HTTP request (server side), by registry and route.', ['registry', 'route'], [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
  readonly refreshes = new Counter('mcp_registry_refresh_total', 'Source refreshes, by source and outcome (ok, unchanged, error, skipped, cooldown, busy).', ['source', 'outcome']);
  readonly refreshDuration = new Histogram('mcp_registry_refresh_duration_seconds', 'Duration of source refreshes that fetched, by source.', ['source'], [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]);
  readonly catalogEntries = new Gauge('mcp_registry_catalog_entries', 'Entries in the merged catalog.', []);
  readonly served = new Gauge('mcp_registry_served_servers', 'Servers each registry serves (after policy and claims of its sources).', ['registry']);
  readonly health = new Gauge('mcp_registry_health_endpoints', 'Remote endpoints by health state.', ['state']);
  readonly publishes = new Counter('mcp_registry_publish_total', 'Publish API operations, by action and outcome.', ['action', 'outcome']);
  readonly databaseUp = new Gauge('mcp_registry_database_up', '1 when the database answers (PostgreSQL mode).', []);
  readonly refresher = new Gauge('mcp_registry_refresher', '1 on the replica that refreshes the sources.', []);
  readonly startTime = new Gauge('process_start_time_seconds', 'Start time of the process since the epoch, in seconds.', []);
  readonly memory = new Gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', []);

  constructor() {
    this.startTime.set({}, Math.round(Date.now() / 1000 - process.uptime()));
  }

  render(): string {
    this.memory.set({}, process.memoryUsage.rss());
    const all = [this.requests, this.latency, this.refreshes, this.refreshDuration, this.catalogEntries, this.served, this.health, this.publishes, this.databaseUp, this.refresher, this.startTime, this.memory];
    return all.map((m) => m.render()).join('\n') + '\n';
  }
}

/** A route label with no names or versions in it (bounded cardinality). */
export function routeOf(path: string): string {
  if (path === '/' || path === '' || path === '/index.html') return '/';
  if (path.startsWith('/v0.1/servers/')) {
    const tail = path.slice('/v0.1/servers/'.length).split('/');
    const at = tail.indexOf('versions');
    if (at < 0) return '/v0.1/servers/{name}';
    const v = tail[at + 1];
    return v === undefined || v === '' ? '/v0.1/servers/{name}/versions' : v === 'latest' ? '/v0.1/servers/{name}/versions/latest' : '/v0.1/servers/{name}/versions/{version}';
  }
  if (path.startsWith('/v1/entries/')) return path.includes('/versions/') ? '/v1/entries/{name}/versions/{version}' : '/v1/entries/{name}';
  const known = ['/v0.1/servers', '/v0.1/health', '/v0.1/version', '/v1/entries', '/v1/audit', '/v1/health', '/v1/refresh', '/metrics', '/healthz', '/readyz', '/.well-known/oauth-protected-resource'];
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (known.includes(p)) return p;
  if (p.startsWith('/.well-known/oauth-protected-resource/')) return '/.well-known/oauth-protected-resource';
  return 'other';
}
