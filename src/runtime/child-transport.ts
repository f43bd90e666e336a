// The transports to a child: stdio (with the message size guard, stderr capture and redaction, stdout noise
// counting) and remote Streamable HTTP / SSE through the URL guard's fetch.
import { ProtocolErrorCode, SSEClientTransport, StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { StringDecoder } from 'node:string_decoder';
import { BoundedLineBuffer, installLineBuffer, MESSAGE_LIMIT, megabytes } from '../util/line-buffer.js';
import type { ChildOptions, ChildTarget } from './child.js';

/** Lines of stderr kept for error messages. */
export const STDERR_KEEP = 20;
/**
 * The `data` of the error that stands in for a child's response over the message size limit. A class of ours, so a
 * child cannot fake it: it only ever comes from the line buffer below.
 */
export class TooLarge {
  constructor(readonly bytes: number) {}
}

/** Characters of a stderr line that are kept and logged. */
const STDERR_SHOWN = 500;
/**
 * A stderr line is kept whole (for redaction) up to this length, then shown cut. Far beyond the longest form a stored
 * secret is searched in (settings.ts: at most 120 KiB per secret; its URL-encoded form is at most 3 times that).
 */
const MAX_STDERR_LINE = 1 << 20;

/**
 * What a stdio child wrote on stdout that is not MCP: lines that are not JSON-RPC (the SDK reports each as a parse
 * error), and lines over the message limit that do not even start like JSON-RPC (the line buffer skips them). A
 * server that logs to stdout, or dumps something there, shows up here.
 */
export interface StdoutNoise {
  lines: number;
  oversized: number;
  oversizedBytes: number;
}

export function redactWith(opts: ChildOptions, s: string): string {
  return opts.redact ? opts.redact(s) : s;
}

/**
 * The SDK's stdio transport, subclassed only so that the era probe (`server/discover`) runs on this very process: on
 * the base class the SDK probes in a disposable sibling process, which would start every container twice.
 */
class InPlaceStdioTransport extends StdioClientTransport {}

export function makeTransport(target: ChildTarget, stderrLines: string[], noise: StdoutNoise, opts: ChildOptions): Transport {
  return responsesAfterNotifications(makeRawTransport(target, stderrLines, noise, opts));
}

/**
 * The SDK (v2.4) runs notification handlers a microtask later but settles a response at once: progress sent just
 * before a response and read in the same chunk finds its request already gone ("unknown token") and is lost. A
 * response that follows a notification is therefore handed on only after the notifications before it ran (the
 * next macrotask); responses keep their order.
 */
function responsesAfterNotifications<T extends Transport>(t: T): T {
  let deliver: Transport['onmessage'];
  let notified = false;
  let queued: Parameters<NonNullable<Transport['onmessage']>>[] = [];
  const flush = () => {
    const batch = queued;
    queued = [];
    notified = false;
    for (const args of batch) deliver?.(...args);
  };
  const wrapped: NonNullable<Transport['onmessage']> = (...args) => {
    const m = args[0] as { id?: unknown; method?: unknown };
    const isResponse = m.method === undefined && m.id !== undefined;
    if (!isResponse) {
      if (queued.length) return void queued.push(args);
      notified = true;
      setImmediate(() => (notified = false));
      return deliver?.(...args);
    }
    if (!notified && !queued.length) return deliver?.(...args);
    if (!queued.length) setImmediate(flush);
    queued.push(args);
  };
  // The SDK assigns onmessage (once for the era probe, again on connect): each assignment is what gets delivered to.
  Object.defineProperty(t, 'onmessage', { configurable: true, get: () => (deliver ? wrapped : undefined), set: (f: Transport['onmessage']) => (deliver = f) });
  return t;
}

function makeRawTransport(target: ChildTarget, stderrLines: string[], noise: StdoutNoise, opts: ChildOptions): Transport {
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
  const t = new InPlaceStdioTransport({
    command: target.command,
    args: target.args,
    env: target.env,
    // Rootless podman needs a working directory its user can read; "/" always is.
    cwd: target.cwd ?? '/',
    stderr: 'pipe',
  });
  // A message over the size limit is skipped instead of closing the connection (the SDK's way, which looked like
  // a crash and restarted the server). A response that big fails just the request it answers.
  const buffer = new BoundedLineBuffer((m) => {
      opts.log.warn(`${opts.label}: discarded a ${m.kind === 'response' ? 'response' : 'message'} of ${megabytes(m.bytes)} from the server (over the limit)`);
      // Not even the start of a JSON-RPC message: output that does not belong on stdout (messages say so).
      if (m.kind === 'unknown') {
        noise.oversized++;
        noise.oversizedBytes += m.bytes;
      }
      if (m.kind !== 'response' || m.id === undefined) return;
      const message = `response too large: ${megabytes(m.bytes)} (limit ${megabytes(MESSAGE_LIMIT)})`;
      t.onmessage?.({ jsonrpc: '2.0', id: m.id, error: { code: ProtocolErrorCode.InternalError, message, data: new TooLarge(m.bytes) } });
  });
  // A line that is not JSON-RPC is counted as it is read (messages then say what the server wrote): the transport's
  // error handler belongs to the era probe while it runs, so counting there would miss what came first.
  const readMessage = buffer.readMessage.bind(buffer);
  buffer.readMessage = () => {
    try {
      return readMessage();
    } catch (err) {
      if (err instanceof Error && (err.name === 'SyntaxError' || err.name === 'ZodError')) noise.lines++;
      throw err;
    }
  };
  installLineBuffer(t, buffer);
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
