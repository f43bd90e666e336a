/** The stdio server transport: the SDK's, but an oversized message gets a JSON-RPC error and the link stays up; stdin's end waits for answers. */
import { PassThrough, type Readable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { ProtocolErrorCode, type JSONRPCMessage } from '@modelcontextprotocol/server';
import { BoundedLineBuffer, installLineBuffer, MESSAGE_LIMIT, megabytes, type OversizedMessage } from '../util/line-buffer.js';

type Id = string | number;

/**
 * The registry's stdio server transport: the SDK's, except
 * - a message over the size limit is answered with a JSON-RPC error (-32600, with the request's id when it could be
 *   read from the line) and skipped, and the connection goes on. The SDK's own transport closes on it, which stopped
 *   the registry and every container it runs;
 * - the end of stdin does not close it: the SDK (2.x) would abort the requests still in flight, unanswered (a client
 *   that writes its requests and closes stdin got none of the answers). The owner decides when to close, after
 *   `whenAnswered()`.
 */
export class RegistryStdioServerTransport extends StdioServerTransport {
  private readonly pending = new Set<Id>();
  private drained: (() => void)[] = [];
  /** Called once when the transport closed (the client's stdout failed, or the owner closed it). */
  onclosed?: () => void;
  /** Sees every message from the client before the server does (the owner starts work on the first one). */
  oninbound?: (message: JSONRPCMessage) => void;

  constructor(opts: { onOversized?: (m: OversizedMessage) => void; limit?: number; stdin?: Readable } = {}) {
    const input = new PassThrough();
    // The SDK transport reads a copy that never ends by itself; stdin's own end is the owner's to act on.
    (opts.stdin ?? process.stdin).pipe(input, { end: false });
    super(input, process.stdout);
    installLineBuffer(
      this,
      new BoundedLineBuffer((m) => {
        opts.onOversized?.(m);
        this.refuse(m, opts.limit ?? MESSAGE_LIMIT);
      }, opts.limit),
    );
  }

  override async start(): Promise<void> {
    // serveStdio sets onmessage before it starts the transport: count the requests on their way in.
    const deliver = this.onmessage;
    this.onmessage = (m: JSONRPCMessage) => {
      if ('method' in m && 'id' in m) this.pending.add(m.id as Id);
      this.oninbound?.(m);
      deliver?.(m);
    };
    return super.start();
  }

  override async send(message: JSONRPCMessage): Promise<void> {
    await super.send(message);
    if (!('method' in message) && 'id' in message && message.id !== undefined && this.pending.delete(message.id as Id) && !this.pending.size) {
      for (const done of this.drained.splice(0)) done();
    }
  }

  override async close(): Promise<void> {
    await super.close();
    const closed = this.onclosed;
    this.onclosed = undefined;
    closed?.();
  }

  /** Resolves once every request received has been answered (true), or after `timeoutMs` (false). */
  whenAnswered(timeoutMs: number): Promise<boolean> {
    if (!this.pending.size) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.drained.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private refuse(m: OversizedMessage, limit: number): void {
    // A response of the client's (to an elicitation) has no one to answer: the request it answers times out.
    if (m.kind === 'response') return;
    const message = `Request too large: ${megabytes(m.bytes)} (limit ${megabytes(limit)}); the registry discarded it and keeps serving. Send less in one call: large data belongs in a file or a resource, not in the arguments.`;
    // Without a readable id the error goes out without one (MCP's schema: id is optional on errors).
    void this.send({ jsonrpc: '2.0', ...(m.id !== undefined ? { id: m.id } : {}), error: { code: ProtocolErrorCode.InvalidRequest, message } } as JSONRPCMessage).catch(() => {});
  }
}
