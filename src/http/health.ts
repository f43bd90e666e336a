/** Health of remote endpoints: which entries to probe, one MCP round trip, the checker and its summaries. */
import { EventEmitter } from 'node:events';
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Entry } from '../model/entry.js';
import { checkRemoteUrl, guardedFetch, type RemoteGuardOptions } from '../governance/url-guard.js';
import { errorMessage, type Logger } from '../util/log.js';
import type { HttpConfig } from '../config/org-config.js';
import type { HealthCheck, HealthState, HealthStateName, HealthStore } from '../store/org-stores.js';
import { VERSION } from '../util/version.js';
import { summariesByEntry, type HealthSummary } from '../catalog/health-view.js';

/**
 * Health of the catalog's remote endpoints: each is probed on a schedule with a real MCP round trip (the SDK
 * client's `server/discover` for a 2026-era endpoint, falling back to `initialize`, over the endpoint's own transport), under a timeout, a few at a time, through the remote URL
 * guard the runtime uses (policy.yaml's `remote` settings decide what may be contacted). An endpoint turns INACTIVE
 * after `failureThreshold` failed probes in a row and ACTIVE after `successThreshold` answered ones; until then, or
 * when it cannot be probed (a URL with {placeholders}, refused by the guard), it is UNKNOWN. An answer that asks for
 * credentials (401/403) counts as up: the server is there, the probe has no secrets to send.
 */

export type HealthOptions = HttpConfig['health'];

export interface HealthTarget {
  key: string;
  entryId: string;
  url: string;
  transport: 'streamable-http' | 'sse';
  entry: Entry;
}

export type { HealthSummary } from '../catalog/health-view.js';

type ProbeResult = { ok: true; latencyMs: number } | { ok: false; latencyMs: number; error: string; unprobed?: boolean };

export function healthTargets(entries: readonly Entry[]): HealthTarget[] {
  const out: HealthTarget[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    for (const l of e.launch) {
      if (l.type !== 'remote') continue;
      const key = `${e.id} ${l.url}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ key, entryId: e.id, url: l.url, transport: l.transport, entry: e });
    }
  }
  return out;
}

/** One MCP round trip to a remote endpoint. */
export async function probe(t: Pick<HealthTarget, 'url' | 'transport'>, guard: RemoteGuardOptions, timeoutMs: number): Promise<ProbeResult> {
  const t0 = performance.now();
  const took = () => Math.round(performance.now() - t0);
  if (/\{[^}]*\}/.test(t.url)) return { ok: false, latencyMs: 0, error: 'its URL has {placeholders} filled from the user’s settings: not probed', unprobed: true };
  const check = await checkRemoteUrl(t.url, guard);
  if (!check.ok) return { ok: false, latencyMs: took(), error: `not probed: ${check.reason}`, unprobed: true };
  const gf = guardedFetch(check.url, guard);
  const transport = t.transport === 'sse' ? new SSEClientTransport(check.url, { fetch: gf.fetch }) : new StreamableHTTPClientTransport(check.url, { fetch: gf.fetch });
  const client = new Client({ name: 'mcp-registry-health', version: VERSION }, { capabilities: {}, versionNegotiation: { mode: 'auto' } });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(transport, { timeout: timeoutMs }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, latencyMs: took() };
  } catch (err) {
    // v2's HTTP errors carry the status in `status` (SdkHttpError), older ones in `code`.
    const code = (err as { status?: unknown }).status ?? (err as { code?: unknown }).code;
    if (code === 401 || code === 403 || (err as Error).name === 'UnauthorizedError') return { ok: true, latencyMs: took() };
    return { ok: false, latencyMs: took(), error: errorMessage(err).slice(0, 300) };
  } finally {
    clearTimeout(timer);
    await client.close().catch(() => {});
    await gf.close().catch(() => {});
  }
}

export class HealthChecker extends EventEmitter {
  private states = new Map<string, HealthState>();
  private byEntry = new Map<string, HealthSummary>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: HealthStore,
    private readonly opts: HealthOptions,
    /** The remote guard settings for an entry (policy.yaml). */
    private readonly guardFor: (e: Entry) => RemoteGuardOptions,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    super();
  }

  summary(entryId: string): HealthSummary | undefined {
    return this.byEntry.get(entryId);
  }

  counts(): Record<HealthStateName, number> {
    const c = { ACTIVE: 0, INACTIVE: 0, UNKNOWN: 0 };
    for (const s of this.states.values()) c[s.state]++;
    return c;
  }

  all(): HealthState[] {
    return [...this.states.values()];
  }

  /** Take the states the store has (another replica probes; or a restart). */
  async load(): Promise<void> {
    this.setStates(await this.store.states());
  }

  private setStates(list: HealthState[]): void {
    const before = JSON.stringify([...this.byEntry]);
    this.states = new Map(list.map((s) => [s.key, s]));
    this.byEntry = summariesByEntry(list);
    if (JSON.stringify([...this.byEntry]) !== before) this.emit('changed');
  }

  /** Probe on the schedule (the refresher only, when replicas share a database). */
  start(entries: () => readonly Entry[]): void {
    if (this.timer) return;
    const run = () => void this.round(entries()).catch((err) => this.log.warn(`health round failed: ${errorMessage(err)}`));
    this.timer = setInterval(run, this.opts.interval);
    this.timer.unref();
    run();
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.running ?? Promise.resolve();
  }

  /** One round over every endpoint (never two at once). */
  round(entries: readonly Entry[]): Promise<void> {
    this.running ??= this.doRound(entries).finally(() => (this.running = null));
    return this.running;
  }

  private async doRound(entries: readonly Entry[]): Promise<void> {
    const targets = healthTargets(entries);
    const next = new Map<string, HealthState>();
    const checks: HealthCheck[] = [];
    let i = 0;
    const worker = async () => {
      while (i < targets.length) {
        const t = targets[i++]!;
        let guard: RemoteGuardOptions;
        try {
          guard = this.guardFor(t.entry);
        } catch {
          guard = {};
        }
        const r = await probe(t, guard, this.opts.timeout);
        const at = this.now().toISOString();
        next.set(t.key, this.advance(this.states.get(t.key), t, r, at));
        if (!(!r.ok && r.unprobed)) checks.push({ key: t.key, at, ok: r.ok, latencyMs: r.latencyMs, ...(r.ok ? {} : { error: r.error }) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, targets.length) }, worker));
    const list = targets.map((t) => next.get(t.key)!);
    const changed = list.filter((s) => this.states.get(s.key)?.state !== s.state);
    for (const s of changed) this.log.info(`health: ${s.entryId} ${s.url} is ${s.state}${s.lastError && s.state !== 'ACTIVE' ? ` (${s.lastError})` : ''}`);
    this.setStates(list);
    this.emit('round', list);
    await this.store.record(list, checks, this.opts.history).catch((err) => this.log.warn(`could not save health states: ${errorMessage(err)}`));
  }

  /** The state machine: thresholds of consecutive outcomes. */
  private advance(prev: HealthState | undefined, t: HealthTarget, r: ProbeResult, at: string): HealthState {
    const s: HealthState = prev
      ? { ...prev }
      : { key: t.key, entryId: t.entryId, url: t.url, state: 'UNKNOWN', consecutiveFailures: 0, consecutiveSuccesses: 0, since: at };
    const become = (state: HealthStateName) => {
      if (s.state !== state) (s.state = state), (s.since = at);
    };
    s.checkedAt = at;
    if (!r.ok && r.unprobed) {
      s.consecutiveFailures = s.consecutiveSuccesses = 0;
      s.lastError = r.error;
      delete s.latencyMs;
      become('UNKNOWN');
      return s;
    }
    s.latencyMs = r.latencyMs;
    if (r.ok) {
      s.consecutiveSuccesses++;
      s.consecutiveFailures = 0;
      s.lastSuccessAt = at;
      delete s.lastError;
      if (s.consecutiveSuccesses >= this.opts.successThreshold) become('ACTIVE');
    } else {
      s.consecutiveFailures++;
      s.consecutiveSuccesses = 0;
      s.lastError = r.error;
      if (s.consecutiveFailures >= this.opts.failureThreshold) become('INACTIVE');
    }
    return s;
  }
}
