/** A child MCP server connection (stdio process or remote HTTP): initialize, tools/list, calls, timeouts. */
import { Client, ProtocolError, ProtocolErrorCode, SdkError, SdkErrorCode, type RequestOptions, type Transport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { z } from 'zod';
import type { CallToolResult, GetPromptResult, Prompt, ReadResourceResult, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Elicit, LogLevel } from '../model/tool-contract.js';
import { answerInputRequests, askCaller, CallsInFlight, logWanted, MAX_INPUT_ROUNDS, modernEnvelope, stripEraMarks, type CallSink, type EraVerdict } from './child-eras.js';
import { errorMessage, type Logger } from '../util/log.js';
import { VERSION } from '../util/version.js';
import { MESSAGE_LIMIT, megabytes } from '../util/line-buffer.js';
import { makeTransport, redactWith, STDERR_KEEP, TooLarge, type StdoutNoise } from './child-transport.js';
import { nestedDeeperThan } from '../util/json-depth.js';

/** How to reach a child server: a process speaking MCP on stdio (podman run …) or a remote HTTP endpoint. */
export type ChildTarget =
  | { kind: 'stdio'; command: string; args: string[]; env?: Record<string, string>; cwd?: string }
  | {
      kind: 'http';
      url: string;
      transport: 'streamable-http' | 'sse';
      headers?: Record<string, string>;
      /** The fetch every request goes through (the remote URL guard's); closed with the child. */
      fetch?: { fetch: (input: string | URL, init?: RequestInit) => Promise<Response>; close(): Promise<void> };
    }
  /** A transport the launcher already made (an in-process server: tests, and launchers that bring their own). */
  | { kind: 'transport'; transport: Transport };

export interface ChildOptions {
  /** For log lines and error messages (the entry id). */
  label: string;
  log: Logger;
  /** initialize + the first tools/list must finish within this. */
  startTimeout: number;
  /** Default per-call timeout. */
  callTimeout: number;
  /**
   * The era this child was found to speak on an earlier start (remembered with its pins): it is connected without a
   * probe. Without it, the child is probed once (`server/discover`, falling back to `initialize`) on its own
   * connection — a container is never started twice for it.
   */
  prior?: EraVerdict;
  /** Applied to every line of the child's stderr before it is logged or kept. */
  redact?: (s: string) => string;
  /** The child's tool list changed (its own notification); `tools` is the fresh list. */
  onToolsChanged?(tools: Tool[]): void;
  onResourcesChanged?(): void;
  onPromptsChanged?(): void;
  /** The connection ended without close() being called: the process exited or the transport failed. */
  onExit?(reason: string): void;
  /** What happens after the server exited, for call errors (default: "the next call restarts it"). */
  nextStep?(): string;
  /**
   * Stops a local child by force (a container: `podman rm -f`) when it has not exited within the stop grace after
   * its stdin closed: a server that ignores stdin EOF (and SIGTERM) must not outlive its removal.
   */
  forceStop?(): Promise<void>;
  /** How long close() waits for the child to exit on its own before forceStop (default 2 s). */
  stopGrace?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  timeout?: number;
  onProgress?: (progress: number, total: number | undefined, message: string | undefined) => void;
  /** Asks the caller when the child wants input (its pushed elicitation/create, or a 2026 input_required). */
  elicit?: Elicit;
  /** The caller's log level and where the child's log messages for this call go. */
  logLevel?: LogLevel;
  log?: (level: LogLevel, data: unknown, logger?: string) => void;
}

/** How long the era probe (`server/discover`) may take before a stdio child counts as 2025-era (some never answer). */
const PROBE_TIMEOUT_MS = 10_000;

/** Any JSON object: tool results are forwarded as they came (see callTool). */
const PassThrough = z.looseObject({});

/** Pages fetched at most when following nextCursor: a child that loops its cursors must not hang us. */
const MAX_PAGES = 100;
/** Deeper results are refused: forwarding them would overflow JSON.stringify on the way to the client. */
const MAX_RESULT_DEPTH = 256;

/** A start with a remembered 2026 verdict the server refused: probed again. */
class StaleVerdict extends Error {}

const STOP_GRACE_MS = 2_000;
/** After forceStop, how long to wait for the process to notice (podman run ends when its container is removed). */
const FORCED_EXIT_WAIT_MS = 3_000;

/** True when the promise settles within `ms`. */
function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    t.unref();
    void p.then(
      () => (clearTimeout(t), resolve(true)),
      () => (clearTimeout(t), resolve(true)),
    );
  });
}

/**
 * One connected child MCP server. Everything a child returns passes through untouched (content blocks,
 * structuredContent, isError, _meta): the registry is a proxy, the upstream client validates against the schema.
 */
export class Child {
  private constructor(
    private readonly client: Client,
    private readonly transport: Transport,
    private readonly opts: ChildOptions,
    private readonly stderrLines: string[],
    private readonly noise: StdoutNoise,
  ) {
    this.ended = new Promise<void>((resolve) => (this.markEnded = resolve));
  }

  tools: Tool[] = [];
  /** The era it speaks, as probed on this start (or taken from `prior`). */
  verdict: EraVerdict = { era: 'legacy' };
  private readonly inFlight = new CallsInFlight();
  /** The level a 2025 child was last set to with logging/setLevel (undefined: never set). */
  private childLogLevel: LogLevel | undefined;
  private closing = false;
  private stopped: Promise<void> | null = null;
  private exited: string | null = null;
  /** Resolves when the connection has ended (for stdio: the process has exited and its pipes closed). */
  private readonly ended: Promise<void>;
  private markEnded!: () => void;
  private relisting: Promise<void> | null = null;
  private relistAgain = false;
  private resourcesCache: { resources: Resource[]; templates: ResourceTemplate[] } | null = null;
  private promptsCache: Prompt[] | null = null;

  /**
   * Start the child, connect in its era (probed once, or the remembered one), and list its tools (following
   * pagination). Fails with the child's own words. A remembered 2026 era the server no longer speaks (its first
   * request is refused) is probed afresh, once.
   */
  static async start(target: ChildTarget, opts: ChildOptions): Promise<Child> {
    try {
      return await Child.startOnce(target, opts);
    } catch (err) {
      if (!(err instanceof StaleVerdict) || target.kind === 'transport') throw err;
      opts.log.info(`${opts.label}: it no longer speaks the 2026 protocol it did; probing its protocol again`);
      return Child.startOnce(target, { ...opts, prior: undefined });
    }
  }

  private static async startOnce(target: ChildTarget, opts: ChildOptions): Promise<Child> {
    const stderrLines: string[] = [];
    const noise: StdoutNoise = { lines: 0, oversized: 0, oversizedBytes: 0 };
    const transport = makeTransport(target, stderrLines, noise, opts);
    const client = new Client(
      { name: 'mcp-registry', version: VERSION },
      {
        // Form elicitation is declared so a 2025 child may ask; whether our caller can answer is decided per call
        // (a 2026 child is told per request, in its _meta).
        capabilities: { elicitation: { form: {} } },
        versionNegotiation: { mode: 'auto', probe: { timeoutMs: Math.min(PROBE_TIMEOUT_MS, opts.startTimeout) } },
        // A 2026 child's input_required comes back to us: the caller is asked (callTool), not a handler of ours.
        inputRequired: { autoFulfill: false },
      },
    );
    const child = new Child(client, transport, opts, stderrLines, noise);
    client.onclose = () => {
      child.markEnded();
      child.handleClose();
    };
    client.onerror = (err) => child.handleTransportError(err);
    child.wireServerRequests();
    const deadline = AbortSignal.timeout(opts.startTimeout);
    try {
      const prior = opts.prior ? (opts.prior.era === 'modern' ? { kind: 'modern' as const, discover: opts.prior.discover as never } : { kind: 'legacy' as const }) : undefined;
      await client.connect(transport, { signal: deadline, timeout: opts.startTimeout, ...(prior ? { prior } : {}) });
      child.tools = await child.fetchTools({ signal: deadline, timeout: opts.startTimeout });
    } catch (err) {
      await child.close();
      const message = child.describeStartFailure(err);
      // The server answered, but not in the era remembered for it (a modern verdict connects without a round trip).
      throw opts.prior?.era === 'modern' && err instanceof ProtocolError ? new StaleVerdict(message) : new Error(message);
    }
    // Read now: the SDK forgets the discover answer once the connection closes.
    const discover = client.getDiscoverResult();
    child.verdict = client.getProtocolEra() === 'modern' && discover ? { era: 'modern', discover: { ...discover } } : { era: 'legacy' };
    if (child.describeNoise()) opts.log.warn(`${opts.label}: ${child.describeNoise()}; it was ignored`);
    child.wireNotifications();
    return child;
  }

  get alive(): boolean {
    return !this.closing && this.exited === null;
  }
  get serverName(): string | undefined {
    return this.client.getServerVersion()?.name;
  }
  get instructions(): string | undefined {
    return this.client.getInstructions();
  }
  /** Process id of the local process (podman), when there is one. */
  get pid(): number | null {
    return this.transport instanceof StdioClientTransport ? this.transport.pid : null;
  }
  /** The last lines the child wrote to stderr (already redacted), for error messages. */
  stderrTail(lines = 3): string {
    return this.stderrLines.slice(-lines).join(' | ');
  }
  get hasResources(): boolean {
    return !!this.client.getServerCapabilities()?.resources;
  }
  get hasPrompts(): boolean {
    return !!this.client.getServerCapabilities()?.prompts;
  }
  get hasCompletions(): boolean {
    return !!this.client.getServerCapabilities()?.completions;
  }
  /** The protocol version in use with the child (2026-07-28, or a 2025 one). */
  get protocolVersion(): string | undefined {
    return this.client.getNegotiatedProtocolVersion();
  }
  private get modern(): boolean {
    return this.client.getProtocolEra() === 'modern';
  }

  /**
   * Call a tool and return its result exactly as the child sent it. A JSON-RPC error from the child (unknown tool,
   * bad arguments), a timeout or a lost connection become an isError result that says what happened.
   */
  async callTool(name: string, args: Record<string, unknown> | undefined, o: CallOptions = {}): Promise<CallToolResult> {
    const options: RequestOptions = { timeout: o.timeout ?? this.opts.callTimeout, signal: o.signal, allowInputRequired: true };
    if (o.onProgress) options.onprogress = (p) => o.onProgress!(p.progress, p.total, p.message);
    const sink: CallSink = { ...(o.elicit ? { elicit: o.elicit } : {}), ...(o.log && o.logLevel ? { log: o.log, logLevel: o.logLevel } : {}) };
    const leave = this.inFlight.enter(sink);
    try {
      await this.setChildLogLevel(sink.logLevel);
      let params: Record<string, unknown> = { name, arguments: args ?? {}, ...(this.modern ? { _meta: modernEnvelope(sink) } : {}) };
      let r: CallToolResult & { resultType?: string; inputRequests?: unknown; requestState?: string };
      for (let round = 0; ; round++) {
        // client.request, not client.callTool: the latter re-validates structuredContent against the child's output
        // schema and would turn a slightly-off result into an exception instead of forwarding it. The result is not
        // parsed here either: the registry's own server validates every tools/call result on the way out.
        r = (await this.client.request({ method: 'tools/call', params }, PassThrough, options)) as typeof r;
        if (r.resultType !== 'input_required') break;
        // A 2026 child wants input: asked of our caller (elicitation), then the call is retried with the answers.
        if (round >= MAX_INPUT_ROUNDS) return this.failed(`${name} asked for input more than ${MAX_INPUT_ROUNDS} times in one call; the server has a bug`);
        let answers: Record<string, unknown>;
        try {
          answers = await answerInputRequests(r.inputRequests, sink, o.signal);
        } catch (err) {
          if (o.signal?.aborted) throw err;
          return this.failed(`${name} could not finish: ${redactWith(this.opts, errorMessage(err))}.`);
        }
        params = { ...params, inputResponses: answers, ...(r.requestState !== undefined ? { requestState: r.requestState } : {}) };
      }
      r = stripEraMarks(r);
      if (!Array.isArray(r.content)) {
        return { content: [{ type: 'text', text: `${this.opts.label}: ${name} answered with a malformed result (no content list); the server has a bug.` }], isError: true };
      }
      if (nestedDeeperThan(r, MAX_RESULT_DEPTH)) {
        return { content: [{ type: 'text', text: `${this.opts.label}: ${name} returned a result nested more than ${MAX_RESULT_DEPTH} levels deep, which the registry does not forward; the server has a bug.` }], isError: true };
      }
      return r;
    } catch (err) {
      return { content: [{ type: 'text', text: this.describeCallFailure(name, err, options.timeout!) }], isError: true };
    } finally {
      leave();
    }
  }

  private failed(text: string): CallToolResult {
    return { content: [{ type: 'text', text: `${this.opts.label}: ${text}` }], isError: true };
  }

  /**
   * A 2025 child has one log level for the connection (logging/setLevel): lowered when a caller wants more; a 2026
   * child is told per request instead. Best effort: a child that refuses still runs the call.
   */
  private async setChildLogLevel(wanted: LogLevel | undefined): Promise<void> {
    if (this.modern || !wanted || !this.client.getServerCapabilities()?.logging) return;
    const level = this.inFlight.lowestLevel() ?? wanted;
    if (level === this.childLogLevel) return;
    this.childLogLevel = level;
    await this.client.setLoggingLevel(level, { timeout: this.opts.callTimeout }).catch((err) => this.opts.log.debug(`${this.opts.label}: logging/setLevel ${level} failed: ${errorMessage(err)}`));
  }

  /**
   * What a child asks of us outside an answer: a 2025 child's elicitation (given to the caller of the one call in
   * flight), and its log messages.
   */
  private wireServerRequests(): void {
    const ask = async (method: string, params: Record<string, unknown>) => {
      const sink = this.inFlight.sole();
      if (!sink && this.inFlight.size > 1) {
        throw new ProtocolError(ProtocolErrorCode.InvalidRequest, `mcp-registry cannot tell which of ${this.inFlight.size} calls in flight asked (${method}); ask again when one call runs`);
      }
      try {
        return await askCaller(method, params, sink);
      } catch (err) {
        if (err instanceof ProtocolError) throw err;
        throw new ProtocolError(ProtocolErrorCode.InvalidRequest, `mcp-registry: ${errorMessage(err).replace(/^it asked/, 'you asked')}`);
      }
    };
    this.client.setRequestHandler('elicitation/create', (req) => ask('elicitation/create', req.params as Record<string, unknown>) as never);
    // Sampling and roots are not declared to a 2025 child: the SDK answers its request "method not found" at once.
    this.client.setNotificationHandler('notifications/message', (n) => {
      const { level, data, logger } = n.params;
      const sink = this.inFlight.sole();
      if (sink?.log && logWanted(level, sink.logLevel)) sink.log(level, data, logger);
      else this.opts.log.debug(`${this.opts.label} log (${level}): ${redactWith(this.opts, JSON.stringify(data ?? null).slice(0, 300))}`);
    });
  }

  /** completion/complete for one of its prompts or resource templates, forwarded as it came and answered as is. */
  complete(params: Record<string, unknown>, signal?: AbortSignal): Promise<Record<string, unknown>> {
    return this.client.request({ method: 'completion/complete', params }, PassThrough, { signal, timeout: this.opts.callTimeout }).then(stripEraMarks);
  }

  async listResources(signal?: AbortSignal): Promise<{ resources: Resource[]; templates: ResourceTemplate[] }> {
    if (!this.hasResources) return { resources: [], templates: [] };
    if (this.resourcesCache) return this.resourcesCache;
    const opts = { signal, timeout: this.opts.callTimeout };
    const resources = await this.paginate('resources', (cursor) =>
      this.client.request({ method: 'resources/list', params: cursor ? { cursor } : {} }, opts).then((r) => ({ items: r.resources as Resource[], next: r.nextCursor })),
    );
    const templates = await this.paginate('resource templates', (cursor) =>
      this.client
        .request({ method: 'resources/templates/list', params: cursor ? { cursor } : {} }, opts)
        .then((r) => ({ items: r.resourceTemplates as ResourceTemplate[], next: r.nextCursor })),
    ).catch(() => [] as ResourceTemplate[]); // templates are optional; a server without them may answer "method not found"
    this.resourcesCache = { resources, templates };
    return this.resourcesCache;
  }

  readResource(uri: string, signal?: AbortSignal): Promise<ReadResourceResult> {
    return this.client
      .request({ method: 'resources/read', params: { uri } }, PassThrough, { signal, timeout: this.opts.callTimeout })
      .then((r) => stripEraMarks(r) as ReadResourceResult);
  }

  async listPrompts(signal?: AbortSignal): Promise<Prompt[]> {
    if (!this.hasPrompts) return [];
    if (this.promptsCache) return this.promptsCache;
    const prompts = await this.paginate('prompts', (cursor) =>
      this.client
        .request({ method: 'prompts/list', params: cursor ? { cursor } : {} }, { signal, timeout: this.opts.callTimeout })
        .then((r) => ({ items: r.prompts as Prompt[], next: r.nextCursor })),
    );
    this.promptsCache = prompts;
    return prompts;
  }

  getPrompt(name: string, args: Record<string, string> | undefined, signal?: AbortSignal): Promise<GetPromptResult> {
    return this.client
      .request({ method: 'prompts/get', params: { name, ...(args ? { arguments: args } : {}) } }, PassThrough, { signal, timeout: this.opts.callTimeout })
      .then((r) => stripEraMarks(r) as GetPromptResult);
  }

  /**
   * Stop the child: closing stdin lets a well-behaved server (and `podman run --rm` with it) end. One that is still
   * running after the grace is stopped by force (forceStop: its container is removed), so this takes at most about
   * grace + 3 s. `force: false` leaves the forcing to the caller (shutdown removes all containers in one go).
   * Idempotent: a second call waits for the first.
   */
  close(o: { grace?: number; force?: boolean } = {}): Promise<void> {
    this.closing = true;
    this.stopped ??= (async () => {
      // Ends stdin; the SDK then sends SIGTERM (after 2 s) and SIGKILL (after 4 s) to the process it started —
      // which for a container is `podman run`, not the server: killing it can leave the container running.
      const closing = this.client.close().catch(() => {});
      if (!this.opts.forceStop || o.force === false) return closing;
      const grace = o.grace ?? this.opts.stopGrace ?? STOP_GRACE_MS;
      if (await settlesWithin(this.ended, grace)) return;
      await this.forceStop(`still running ${grace} ms after its stdin closed`);
    })();
    return this.stopped;
  }

  private async forceStop(why: string): Promise<void> {
    const t0 = Date.now();
    try {
      await this.opts.forceStop!();
    } catch (err) {
      this.opts.log.warn(`${this.opts.label}: could not stop it by force: ${redactWith(this.opts, errorMessage(err))}`);
    }
    const exited = await settlesWithin(this.ended, FORCED_EXIT_WAIT_MS);
    this.opts.log.info(`${this.opts.label}: ${why}: stopped by force${exited ? ` (exited ${Date.now() - t0} ms later)` : ', but its process has not exited yet'}`);
  }

  /** Errors the transport reports (lines that are not JSON-RPC are counted where they are read: makeTransport). */
  private handleTransportError(err: Error): void {
    this.opts.log.debug(`${this.opts.label}: transport error: ${redactWith(this.opts, errorMessage(err).slice(0, 300))}`);
  }

  /** What the server wrote on stdout that is not MCP, or '' when nothing was. */
  private describeNoise(): string {
    const { lines, oversized, oversizedBytes } = this.noise;
    if (!lines && !oversized) return '';
    const parts: string[] = [];
    if (oversized) parts.push(`${megabytes(oversizedBytes)} in ${oversized === 1 ? 'a line' : `${oversized} lines`} over the ${megabytes(MESSAGE_LIMIT)} message limit`);
    if (lines) parts.push(`${lines} line${lines === 1 ? '' : 's'} that ${lines === 1 ? 'is' : 'are'} not JSON-RPC`);
    return `it wrote output on stdout that is not MCP (${parts.join(', and ')}) — does it log to stdout instead of stderr? MCP over stdio keeps stdout for protocol messages`;
  }

  private wireNotifications(): void {
    const caps = this.client.getServerCapabilities();
    this.client.setNotificationHandler('notifications/tools/list_changed', () => {
      void this.relistTools();
    });
    if (caps?.resources) {
      this.client.setNotificationHandler('notifications/resources/list_changed', () => {
        this.resourcesCache = null;
        this.opts.onResourcesChanged?.();
      });
    }
    if (caps?.prompts) {
      this.client.setNotificationHandler('notifications/prompts/list_changed', () => {
        this.promptsCache = null;
        this.opts.onPromptsChanged?.();
      });
    }
    // A 2026 child sends change notifications only on a subscriptions/listen stream it was asked to open.
    if (this.modern) {
      const filter = {
        ...(caps?.tools?.listChanged ? { toolsListChanged: true } : {}),
        ...(caps?.resources?.listChanged ? { resourcesListChanged: true } : {}),
        ...(caps?.prompts?.listChanged ? { promptsListChanged: true } : {}),
      };
      if (Object.keys(filter).length) {
        this.client.listen(filter).catch((err) => this.opts.log.warn(`${this.opts.label}: could not listen for its list changes (subscriptions/listen): ${redactWith(this.opts, errorMessage(err))}`));
      }
    }
  }

  /** Re-list after the child's tools/list_changed; a burst of notifications costs at most two listings. */
  private relistTools(): Promise<void> {
    if (this.relisting) {
      this.relistAgain = true;
      return this.relisting;
    }
    this.relisting = (async () => {
      do {
        this.relistAgain = false;
        try {
          this.tools = await this.fetchTools({ timeout: this.opts.callTimeout });
          this.opts.onToolsChanged?.(this.tools);
        } catch (err) {
          if (this.alive) this.opts.log.warn(`${this.opts.label}: could not re-list tools after tools/list_changed: ${redactWith(this.opts, errorMessage(err))}`);
        }
      } while (this.relistAgain && this.alive);
    })().finally(() => (this.relisting = null));
    return this.relisting;
  }

  private fetchTools(opts: RequestOptions): Promise<Tool[]> {
    return this.paginate('tools', (cursor) =>
      this.client.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, opts).then((r) => ({ items: r.tools as Tool[], next: r.nextCursor })),
    );
  }

  private async paginate<T>(what: string, page: (cursor?: string) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
    const out: T[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let i = 0; i < MAX_PAGES; i++) {
      const r = await page(cursor);
      out.push(...r.items);
      if (!r.next || seen.has(r.next)) return out;
      seen.add(r.next);
      cursor = r.next;
    }
    this.opts.log.warn(`${this.opts.label}: stopped listing ${what} after ${MAX_PAGES} pages`);
    return out;
  }

  private handleClose(): void {
    if (this.closing || this.exited !== null) return;
    const tail = this.stderrTail();
    const noise = this.describeNoise();
    const how = `the server exited${noise ? `: ${noise}` : ''}`;
    this.exited = tail ? `${how} (its last words: ${tail})` : how;
    this.opts.log.warn(`${this.opts.label}: ${this.exited}`);
    this.opts.onExit?.(this.exited);
  }

  private describeStartFailure(err: unknown): string {
    const tail = this.stderrTail(5);
    let why = errorMessage(err);
    if (err instanceof ProtocolError && err.data instanceof TooLarge) why = `its answer during start-up was too large: ${megabytes(err.data.bytes)} (limit ${megabytes(MESSAGE_LIMIT)})`;
    else if (err instanceof SdkError && err.code === SdkErrorCode.RequestTimeout) why = `it did not answer initialize/tools/list within ${this.opts.startTimeout} ms`;
    else if (err instanceof SdkError && (err.code === SdkErrorCode.ConnectionClosed || (err.code === SdkErrorCode.EraNegotiationFailed && /connection closed/i.test(err.message)))) {
      why = 'it exited during start-up';
    }
    else if (/aborted|timeout/i.test(why)) why = `it did not answer initialize/tools/list within ${this.opts.startTimeout} ms`;
    const noise = this.describeNoise();
    if (noise) why += `: ${noise}`;
    // v2's HTTP transports put the status in `status` (SdkHttpError); v1's and some fetch errors in `code`.
    const status = (err as { status?: unknown }).status ?? (err as { code?: unknown }).code;
    if (typeof status === 'number' && status >= 400 && status < 600) {
      // The HTTP transports put the status in `code`; 401/403 nearly always mean a missing or wrong credential.
      why = `the endpoint answered HTTP ${status}${status === 401 || status === 403 ? ' (a missing or wrong credential: check the secrets set with registry-config-set)' : ''}: ${why}`;
    }
    return redactWith(this.opts, `${this.opts.label} did not start: ${why}${tail ? ` (stderr: ${tail})` : ''}`);
  }

  private nextStep(): string {
    return (this.opts.nextStep?.() ?? 'the next call restarts it').replace(/\.$/, '');
  }

  private describeCallFailure(name: string, err: unknown, timeout: number): string {
    if (err instanceof SdkError) {
      if (err.code === SdkErrorCode.RequestTimeout) return `${this.opts.label}: ${name} did not answer within ${timeout} ms (runtime.callTimeout in config.yaml sets the limit); the call was cancelled.`;
      if (err.code === SdkErrorCode.ConnectionClosed || !this.alive) {
        return `${this.opts.label}: ${this.exited ?? 'the connection closed'} while ${name} was running; ${this.nextStep()}.`;
      }
    }
    if (err instanceof ProtocolError) {
      if (err.data instanceof TooLarge) {
        return `${this.opts.label}: ${name} returned a result too large: ${megabytes(err.data.bytes)} (limit ${megabytes(MESSAGE_LIMIT)}). It was discarded and the server keeps running: ask for less in one call (a narrower query, a smaller page).`;
      }
      if (!this.alive) return `${this.opts.label}: ${this.exited ?? 'the connection closed'} while ${name} was running; ${this.nextStep()}.`;
      return `${this.opts.label}: ${name} failed — the server answered error ${err.code}: ${redactWith(this.opts, err.message.replace(/^(MCP error -?\d+: )+/, ''))}`;
    }
    if (!this.alive) return `${this.opts.label}: ${this.exited ?? 'the server stopped'} while ${name} was running; ${this.nextStep()}.`;
    return `${this.opts.label}: ${name} failed: ${redactWith(this.opts, errorMessage(err))}`;
  }
}

