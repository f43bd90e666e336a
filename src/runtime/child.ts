/** A child MCP server connection (stdio process or remote HTTP): initialize, tools/list, calls, timeouts. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import {
  ErrorCode,
  GetPromptResultSchema,
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListToolsResultSchema,
  McpError,
  PromptListChangedNotificationSchema,
  ReadResourceResultSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type GetPromptResult,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { errorMessage, type Logger } from '../util/log.js';
import { VERSION } from '../util/version.js';
import { BoundedLineBuffer, installLineBuffer, MESSAGE_LIMIT, megabytes } from '../util/line-buffer.js';
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
}

/** Any JSON object: tool results are forwarded as they came (see callTool). */
const PassThrough = z.looseObject({});

/** Pages fetched at most when following nextCursor: a child that loops its cursors must not hang us. */
const MAX_PAGES = 100;
const STDERR_KEEP = 20;
/** Deeper results are refused: forwarding them would overflow JSON.stringify on the way to the client. */
const MAX_RESULT_DEPTH = 256;

/**
 * The `data` of the error that stands in for a child's response over the message size limit. A class of ours, so a
 * child cannot fake it: it only ever comes from the line buffer below.
 */
class TooLarge {
  constructor(readonly bytes: number) {}
}

/** Characters of a stderr line that are kept and logged. */
const STDERR_SHOWN = 500;
/**
 * A stderr line is kept whole (for redaction) up to this length, then shown cut. Far beyond the longest form a stored
 * secret is searched in (settings.ts: at most 120 KiB per secret; its URL-encoded form is at most 3 times that).
 */
const MAX_STDERR_LINE = 1 << 20;

const STOP_GRACE_MS = 2_000;
/** After forceStop, how long to wait for the process to notice (podman run ends when its container is removed). */
const FORCED_EXIT_WAIT_MS = 3_000;

/**
 * What a stdio child wrote on stdout that is not MCP: lines that are not JSON-RPC (the SDK reports each as a parse
 * error), and lines over the message limit that do not even start like JSON-RPC (the line buffer skips them). A
 * server that logs to stdout, or dumps something there, shows up here.
 */
interface StdoutNoise {
  lines: number;
  oversized: number;
  oversizedBytes: number;
}

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

  /** Start the child, initialize, and list its tools (following pagination). Fails with the child's own words. */
  static async start(target: ChildTarget, opts: ChildOptions): Promise<Child> {
    const stderrLines: string[] = [];
    const noise: StdoutNoise = { lines: 0, oversized: 0, oversizedBytes: 0 };
    const transport = makeTransport(target, stderrLines, noise, opts);
    const client = new Client({ name: 'mcp-registry', version: VERSION }, { capabilities: {} });
    const child = new Child(client, transport, opts, stderrLines, noise);
    client.onclose = () => {
      child.markEnded();
      child.handleClose();
    };
    client.onerror = (err) => child.handleTransportError(err);
    const deadline = AbortSignal.timeout(opts.startTimeout);
    try {
      await client.connect(transport, { signal: deadline, timeout: opts.startTimeout });
      child.tools = await child.fetchTools({ signal: deadline, timeout: opts.startTimeout });
    } catch (err) {
      await child.close();
      throw new Error(child.describeStartFailure(err));
    }
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

  /**
   * Call a tool and return its result exactly as the child sent it. A JSON-RPC error from the child (unknown tool,
   * bad arguments), a timeout or a lost connection become an isError result that says what happened.
   */
  async callTool(name: string, args: Record<string, unknown> | undefined, o: CallOptions = {}): Promise<CallToolResult> {
    const options: RequestOptions = { timeout: o.timeout ?? this.opts.callTimeout, signal: o.signal };
    if (o.onProgress) options.onprogress = (p) => o.onProgress!(p.progress, p.total, p.message);
    try {
      // client.request, not client.callTool: the latter re-validates structuredContent against the child's output
      // schema and would turn a slightly-off result into an exception instead of forwarding it. The result is not
      // parsed here either: the registry's own server validates every tools/call result on the way out.
      const r = (await this.client.request({ method: 'tools/call', params: { name, arguments: args ?? {} } }, PassThrough, options)) as CallToolResult;
      if (!Array.isArray(r.content)) {
        return { content: [{ type: 'text', text: `${this.opts.label}: ${name} answered with a malformed result (no content list); the server has a bug.` }], isError: true };
      }
      if (nestedDeeperThan(r, MAX_RESULT_DEPTH)) {
        return { content: [{ type: 'text', text: `${this.opts.label}: ${name} returned a result nested more than ${MAX_RESULT_DEPTH} levels deep, which the registry does not forward; the server has a bug.` }], isError: true };
      }
      return r;
    } catch (err) {
      return { content: [{ type: 'text', text: this.describeCallFailure(name, err, options.timeout!) }], isError: true };
    }
  }

  async listResources(signal?: AbortSignal): Promise<{ resources: Resource[]; templates: ResourceTemplate[] }> {
    if (!this.hasResources) return { resources: [], templates: [] };
    if (this.resourcesCache) return this.resourcesCache;
    const opts = { signal, timeout: this.opts.callTimeout };
    const resources = await this.paginate('resources', (cursor) =>
      this.client.request({ method: 'resources/list', params: cursor ? { cursor } : {} }, ListResourcesResultSchema, opts).then((r) => ({ items: r.resources, next: r.nextCursor })),
    );
    const templates = await this.paginate('resource templates', (cursor) =>
      this.client
        .request({ method: 'resources/templates/list', params: cursor ? { cursor } : {} }, ListResourceTemplatesResultSchema, opts)
        .then((r) => ({ items: r.resourceTemplates, next: r.nextCursor })),
    ).catch(() => [] as ResourceTemplate[]); // templates are optional; a server without them may answer "method not found"
    this.resourcesCache = { resources, templates };
    return this.resourcesCache;
  }

  readResource(uri: string, signal?: AbortSignal): Promise<ReadResourceResult> {
    return this.client.request({ method: 'resources/read', params: { uri } }, ReadResourceResultSchema, { signal, timeout: this.opts.callTimeout });
  }

  async listPrompts(signal?: AbortSignal): Promise<Prompt[]> {
    if (!this.hasPrompts) return [];
    if (this.promptsCache) return this.promptsCache;
    const prompts = await this.paginate('prompts', (cursor) =>
      this.client
        .request({ method: 'prompts/list', params: cursor ? { cursor } : {} }, ListPromptsResultSchema, { signal, timeout: this.opts.callTimeout })
        .then((r) => ({ items: r.prompts, next: r.nextCursor })),
    );
    this.promptsCache = prompts;
    return prompts;
  }

  getPrompt(name: string, args: Record<string, string> | undefined, signal?: AbortSignal): Promise<GetPromptResult> {
    return this.client.request({ method: 'prompts/get', params: { name, ...(args ? { arguments: args } : {}) } }, GetPromptResultSchema, {
      signal,
      timeout: this.opts.callTimeout,
    });
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

  /** Errors the transport reports; a line that is not JSON-RPC is counted (messages then say what the server wrote). */
  private handleTransportError(err: Error): void {
    if (err.name === 'SyntaxError' || err.name === 'ZodError') this.noise.lines++;
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
    this.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      void this.relistTools();
    });
    if (caps?.resources) {
      this.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
        this.resourcesCache = null;
        this.opts.onResourcesChanged?.();
      });
    }
    if (caps?.prompts) {
      this.client.setNotificationHandler(PromptListChangedNotificationSchema, () => {
        this.promptsCache = null;
        this.opts.onPromptsChanged?.();
      });
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
      this.client.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, ListToolsResultSchema, opts).then((r) => ({ items: r.tools, next: r.nextCursor })),
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
    if (err instanceof McpError && err.data instanceof TooLarge) why = `its answer during start-up was too large: ${megabytes(err.data.bytes)} (limit ${megabytes(MESSAGE_LIMIT)})`;
    else if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) why = `it did not answer initialize/tools/list within ${this.opts.startTimeout} ms`;
    else if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed) why = 'it exited during start-up';
    else if (/aborted|timeout/i.test(why)) why = `it did not answer initialize/tools/list within ${this.opts.startTimeout} ms`;
    const noise = this.describeNoise();
    if (noise) why += `: ${noise}`;
    const status = (err as { code?: unknown }).code;
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
    if (err instanceof McpError) {
      if (err.data instanceof TooLarge) {
        return `${this.opts.label}: ${name} returned a result too large: ${megabytes(err.data.bytes)} (limit ${megabytes(MESSAGE_LIMIT)}). It was discarded and the server keeps running: ask for less in one call (a narrower query, a smaller page).`;
      }
      if (err.code === ErrorCode.RequestTimeout) return `${this.opts.label}: ${name} did not answer within ${timeout} ms (runtime.callTimeout in config.yaml sets the limit); the call was cancelled.`;
      if (err.code === ErrorCode.ConnectionClosed || !this.alive) {
        return `${this.opts.label}: ${this.exited ?? 'the connection closed'} while ${name} was running; ${this.nextStep()}.`;
      }
      return `${this.opts.label}: ${name} failed — the server answered error ${err.code}: ${redactWith(this.opts, err.message.replace(/^(MCP error -?\d+: )+/, ''))}`;
    }
    if (!this.alive) return `${this.opts.label}: ${this.exited ?? 'the server stopped'} while ${name} was running; ${this.nextStep()}.`;
    return `${this.opts.label}: ${name} failed: ${redactWith(this.opts, errorMessage(err))}`;
  }
}

function redactWith(opts: ChildOptions, s: string): string {
  return opts.redact ? opts.redact(s) : s;
}

function makeTransport(target: ChildTarget, stderrLines: string[], noise: StdoutNoise, opts: ChildOptions): Transport {
  if (target.kind === 'transport') return target.transport;
  if (target.kind === 'http') {
    const url = new URL(target.url);
    const requestInit = target.headers && Object.keys(target.headers).length ? { headers: target.headers } : undefined;
    const fetch = target.fetch?.fetch;
    const transport = target.transport === 'sse' ? new SSEClientTransport(url, { requestInit, fetch }) : new StreamableHTTPClientTransport(url, { requestInit, fetch });
    if (target.fetch) {
      const closeFetch = target.fetch.close;
      const close = transport.close.bind(transport);
      transport.close = () => close().finally(() => closeFetch().catch(() => {}));
    }
    return transport;
  }
  const t = new StdioClientTransport({
    command: target.command,
    args: target.args,
    env: target.env,
    // Rootless podman needs a working directory its user can read; "/" always is.
    cwd: target.cwd ?? '/',
    stderr: 'pipe',
  });
  // A message over the size limit is skipped instead of closing the connection (the SDK's way, which looked like
  // a crash and restarted the server). A response that big fails just the request it answers.
  installLineBuffer(
    t,
    new BoundedLineBuffer((m) => {
      opts.log.warn(`${opts.label}: discarded a ${m.kind === 'response' ? 'response' : 'message'} of ${megabytes(m.bytes)} from the server (over the limit)`);
      // Not even the start of a JSON-RPC message: output that does not belong on stdout (messages say so).
      if (m.kind === 'unknown') {
        noise.oversized++;
        noise.oversizedBytes += m.bytes;
      }
      if (m.kind !== 'response' || m.id === undefined) return;
      const message = `response too large: ${megabytes(m.bytes)} (limit ${megabytes(MESSAGE_LIMIT)})`;
      t.onmessage?.({ jsonrpc: '2.0', id: m.id, error: { code: ErrorCode.InternalError, message, data: new TooLarge(m.bytes) } });
    }),
  );
  let partial = '';
  // The current line passed MAX_STDERR_LINE: it was shown cut, the rest of it is dropped.
  let overflowed = false;
  const decoder = new StringDecoder('utf8');
  const emit = (raw: string, cut = false) => {
    const line = redactWith(opts, raw.trimEnd()).slice(0, STDERR_SHOWN) + (cut ? ' …(line cut)' : '');
    if (!line) return;
    stderrLines.push(line);
    if (stderrLines.length > STDERR_KEEP) stderrLines.shift();
    opts.log.debug(`${opts.label} stderr: ${line}`);
  };
  t.stderr?.on('data', (chunk: Buffer) => {
    // Whatever a child writes, and whatever goes wrong with it here, must not take the registry down.
    try {
      // A decoder keeps a character split between two chunks whole (a secret with non-ASCII text stays findable).
      const text = decoder.write(chunk);
      let at = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', at)) {
        if (!overflowed) emit(partial + text.slice(at, nl));
        partial = '';
        overflowed = false;
        at = nl + 1;
      }
      if (overflowed) return;
      partial += text.slice(at);
      if (partial.length > MAX_STDERR_LINE) {
        // Redacted whole before it is cut: every secret starting in the part shown ends inside what is kept.
        emit(partial, true);
        partial = '';
        overflowed = true;
      }
    } catch (err) {
      partial = '';
      // Only the error's kind: its message could quote the very text that could not be processed.
      opts.log.warn(`${opts.label}: a line of its stderr could not be processed (${err instanceof Error ? err.name : typeof err}) and was dropped`);
    }
  });
  return t;
}
