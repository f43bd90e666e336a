/** The stdio server transport: the SDK's, but an oversized message gets a JSON-RPC error and the link stays up. */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { BoundedLineBuffer, installLineBuffer, MESSAGE_LIMIT, megabytes, type OversizedMessage } from '../util/line-buffer.js';

/**
 * The registry's stdio server transport: the SDK's, except that a message over the size limit is answered with a
 * JSON-RPC error (-32600, with the request's id when it could be read from the line) and skipped, and the connection
 * goes on. The SDK's own transport closes on it, which stopped the registry and every container it runs.
 */
export class RegistryStdioServerTransport extends StdioServerTransport {
  constructor(opts: { onOversized?: (m: OversizedMessage) => void; limit?: number } = {}) {
    super();
    installLineBuffer(
      this,
      new BoundedLineBuffer((m) => {
        opts.onOversized?.(m);
        this.refuse(m, opts.limit ?? MESSAGE_LIMIT);
      }, opts.limit),
    );
  }

  private refuse(m: OversizedMessage, limit: number): void {
    // A response of the client's (to an elicitation) has no one to answer: the request it answers times out.
    if (m.kind === 'response') return;
    const message = `Request too large: ${megabytes(m.bytes)} (limit ${megabytes(limit)}); the registry discarded it and keeps serving. Send less in one call: large data belongs in a file or a resource, not in the arguments.`;
    // Without a readable id the error goes out without one (MCP's schema: id is optional on errors).
    void this.send({ jsonrpc: '2.0', ...(m.id !== undefined ? { id: m.id } : {}), error: { code: ErrorCode.InvalidRequest, message } }).catch(() => {});
  }
}
