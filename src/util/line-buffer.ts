/** Newline-delimited JSON-RPC framing for stdio, dropping one oversized message (id and kind kept), not the link. */
import { deserializeMessage, type JSONRPCMessage } from '@modelcontextprotocol/server';

/**
 * Newline-delimited JSON-RPC framing for the stdio transports (ours to the client, and ours to each child), with a
 * per-message size limit that drops the one message instead of the connection. The SDK's ReadBuffer throws on a
 * message over its limit and its transports then close: one oversized request would stop the registry, and one
 * oversized child result would look like the child crashing.
 */

/** The largest message (one line) taken on a stdio connection: the SDK's own limit, 10 MiB. */
export const MESSAGE_LIMIT = 10 * 1024 * 1024;

/** What is known about a message dropped for its size: enough to answer it, never its content. */
export interface OversizedMessage {
  bytes: number;
  /** The JSON-RPC id, when it could be read from the first or last bytes of the line. */
  id?: string | number;
  /** From the first keys: a request/notification has `method`, a response `result` or `error`. */
  kind: 'request' | 'response' | 'unknown';
}

/** Bytes of an oversized line kept to read its id and kind (SDK peers write `id` last, others near the start). */
const HEAD_BYTES = 4096;
const TAIL_BYTES = 512;
const ID = String.raw`(-?\d{1,16}|"(?:[^"\\]|\\.){0,200}")`;
/** `id` among the first keys of the top-level object (after `jsonrpc`). */
const HEAD_ID = new RegExp(String.raw`^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*${ID}`);
/** `id` as the last key of the top-level object: nothing but the closing brace follows it. */
const TAIL_ID = new RegExp(String.raw`[,{]\s*"id"\s*:\s*${ID}\s*\}\s*$`);
/** The first keys up to `method` / `result` / `error` (only `jsonrpc` and `id` may come before). */
const FIRST_KEYS = new RegExp(String.raw`^\s*\{(?:\s*"(?:jsonrpc|id)"\s*:\s*(?:"(?:[^"\\]|\\.){0,200}"|-?\d{1,16})\s*,)*\s*"(method|result|error)"\s*:`);

/**
 * Drop-in for the SDK's ReadBuffer (append / readMessage / clear). A line longer than `limit` is skipped to its
 * newline (memory stays bounded however long it is) and reported, in its place among the messages, to `onOversized`;
 * the lines before and after it are read as usual, so pipelined requests stay in order.
 */
export class BoundedLineBuffer {
  private parts: Buffer[] = [];
  private size = 0;
  private skipping: { bytes: number; head: Buffer; tail: Buffer } | null = null;
  /** Complete lines, and the oversized ones in their place. */
  private queue: (Buffer | OversizedMessage)[] = [];

  constructor(
    private readonly onOversized: (m: OversizedMessage) => void,
    private readonly limit = MESSAGE_LIMIT,
  ) {}

  append(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos);
      const piece = chunk.subarray(pos, nl === -1 ? chunk.length : nl);
      if (this.skipping) {
        this.skipping.bytes += piece.length;
        this.skipping.tail = lastBytes([this.skipping.tail, piece], TAIL_BYTES);
      } else if (this.size + piece.length > this.limit) {
        const parts = [...this.parts, piece];
        this.skipping = { bytes: this.size + piece.length, head: firstBytes(parts, HEAD_BYTES), tail: lastBytes(parts, TAIL_BYTES) };
        this.parts = [];
        this.size = 0;
      } else {
        this.parts.push(piece);
        this.size += piece.length;
      }
      if (nl === -1) return;
      if (this.skipping) {
        this.queue.push(describe(this.skipping));
        this.skipping = null;
      } else {
        this.queue.push(this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts));
        this.parts = [];
        this.size = 0;
      }
      pos = nl + 1;
    }
  }

  readMessage(): JSONRPCMessage | null {
    for (;;) {
      const next = this.queue.shift();
      if (next === undefined) return null;
      if (Buffer.isBuffer(next)) return deserializeMessage(next.toString('utf8').replace(/\r$/, ''));
      this.onOversized(next);
    }
  }

  clear(): void {
    this.parts = [];
    this.size = 0;
    this.skipping = null;
    this.queue = [];
  }
}

/**
 * Put a BoundedLineBuffer in place of an SDK stdio transport's ReadBuffer. `_readBuffer` is private to the SDK
 * (1.x and 2.x keep it under this name in their StdioServerTransport and StdioClientTransport); the tests of both
 * transports fail if that changes, and so does this, rather than silently keeping the closing behaviour.
 */
export function installLineBuffer(transport: object, buffer: BoundedLineBuffer): void {
  if (!('_readBuffer' in transport)) throw new Error('the MCP SDK stdio transport has no _readBuffer any more: the message size guard needs updating');
  (transport as { _readBuffer: unknown })._readBuffer = buffer;
}

/** "10 MB", "11.3 MB" (MiB, as the limit is). */
export function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
}

function describe(s: { bytes: number; head: Buffer; tail: Buffer }): OversizedMessage {
  const head = s.head.toString('utf8');
  const tail = s.tail.toString('utf8');
  const first = FIRST_KEYS.exec(head)?.[1];
  const kind = first === 'method' ? 'request' : first ? 'response' : 'unknown';
  const raw = HEAD_ID.exec(head)?.[1] ?? TAIL_ID.exec(tail)?.[1];
  let id: string | number | undefined;
  if (raw !== undefined) {
    try {
      const v: unknown = JSON.parse(raw);
      if (typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v))) id = v;
    } catch {
      // not a well-formed id: answer without one
    }
  }
  return { bytes: s.bytes, kind, ...(id !== undefined ? { id } : {}) };
}

function firstBytes(parts: Buffer[], n: number): Buffer {
  const out: Buffer[] = [];
  let have = 0;
  for (const p of parts) {
    if (have >= n) break;
    out.push(p.subarray(0, n - have));
    have += Math.min(p.length, n - have);
  }
  return Buffer.concat(out);
}

function lastBytes(parts: Buffer[], n: number): Buffer {
  const out: Buffer[] = [];
  let have = 0;
  for (let i = parts.length - 1; i >= 0 && have < n; i--) {
    const p = parts[i]!;
    out.unshift(p.subarray(Math.max(0, p.length - (n - have))));
    have += Math.min(p.length, n - have);
  }
  // concat copies: a view would keep the whole chunk it came from alive while skipping.
  return Buffer.concat(out);
}
