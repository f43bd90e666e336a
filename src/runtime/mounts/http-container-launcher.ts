// Starting a container whose server speaks HTTP (an OCI package with a streamable-http or sse transport): the
// hardened `podman run` with its port published on a random loopback port, waited for until it answers, then
// connected like a remote through a fetch that reaches that one port only. Its container goes with the connection.
import { createServer } from 'node:net';
import { SSEClientTransport, StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';
import { execa } from 'execa';
import { ToolError } from '../../model/tool-contract.js';
import { errorMessage } from '../../util/log.js';
import type { Child, ChildOptions } from '../child.js';
import type { ContainerSpec } from '../podman/run-args.js';
import type { ServedEndpoint } from '../served-url.js';
import type { ContainerKit } from './mount.js';

const load = {
  child: () => import('../child.js'),
  urlGuard: () => import('../../governance/url-guard.js'),
};

/** Log lines of the container kept for the error of a start that failed. */
const LOG_KEEP = 15;
/** How often the port is tried while the server comes up. */
const POLL_MS = 150;

/** A port of the host's loopback that nothing listens on now (the kernel's pick). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Run the container and connect to its server. The `podman run` process stays attached (its output is the server's
 * log, kept for errors; podman's log driver is `none`); when it ends, the connection ends, and the mount sees a crash.
 * Closing the connection removes the container.
 */
export async function startServedContainer(kit: ContainerKit, spec: ContainerSpec, serves: ServedEndpoint, childOpts: ChildOptions): Promise<Child> {
  const [{ Child }, { loopbackPortFetch }] = await Promise.all([load.child(), load.urlGuard()]);
  const hostPort = await freeLoopbackPort();
  const url = `http://127.0.0.1:${hostPort}${serves.path}`;
  const cmd = kit.podman.runCommand({ ...spec, publish: { hostPort, containerPort: serves.containerPort } });
  const redact = childOpts.redact ?? ((s: string) => s);
  const logLines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      logLines.push(redact(line).slice(0, 500));
      if (logLines.length > LOG_KEEP) logLines.shift();
    }
  };
  // stdin stays open: `podman run -i --rm` ends (and removes its container) when it closes, like a stdio server's.
  const proc = execa(cmd.command, cmd.args, { env: cmd.env, extendEnv: false, cwd: cmd.cwd, stdin: 'pipe', buffer: false, reject: false });
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let exited: string | undefined;
  const ended = proc.then((r) => (exited = r.exitCode === undefined ? (r.shortMessage ?? 'podman did not start') : `exit code ${r.exitCode}`));
  const lastLines = () => (logLines.length ? `; its last log lines:\n${logLines.join('\n')}` : '; it wrote no log lines');
  const removeContainer = () => kit.podman.remove([spec.name]).catch((err) => childOpts.log.warn(`could not remove ${spec.name}: ${errorMessage(err)}`));
  const guard = loopbackPortFetch(hostPort);
  const fail = async (why: string): Promise<never> => {
    await removeContainer();
    proc.stdin?.end();
    await guard.close().catch(() => {});
    throw new ToolError(`${childOpts.label}: ${why}${lastLines()}`);
  };

  const deadline = Date.now() + childOpts.startTimeout;
  for (;;) {
    if (exited) return fail(`its container ended (${exited}) before its server answered on port ${serves.containerPort}`);
    if (await answers(guard.fetch, url)) break;
    if (Date.now() > deadline) return fail(`its server did not answer at ${serves.path} on port ${serves.containerPort} of its container within ${Math.round(childOpts.startTimeout / 1000)} s (runtime.startTimeout)`);
    await Promise.race([ended, new Promise((r) => setTimeout(r, POLL_MS))]);
  }

  const transport: Transport = serves.transport === 'sse' ? new SSEClientTransport(new URL(url), { fetch: guard.fetch }) : new StreamableHTTPClientTransport(new URL(url), { fetch: guard.fetch });
  const close = transport.close.bind(transport);
  let closed = false;
  transport.close = async () => {
    if (closed) return;
    closed = true;
    await close().catch(() => {});
    proc.stdin?.end();
    await removeContainer();
    await guard.close().catch(() => {});
  };
  // The server's end is the connection's end: the mount sees the crash (and restarts it on the next call).
  void ended.then(() => {
    childOpts.log.warn(`${childOpts.label}: its container ended (${exited})${lastLines()}`);
    void transport.close();
  });
  try {
    return await Child.start({ kind: 'transport', transport }, { ...childOpts, startTimeout: Math.max(1_000, deadline - Date.now()) });
  } catch (err) {
    await transport.close();
    throw new ToolError(`${errorMessage(err)}${lastLines()}`);
  }
}

/** Whether an HTTP server answers at the URL (any status: it is listening and speaks HTTP). */
async function answers(fetch: (u: string, init?: RequestInit) => Promise<Response>, url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { method: 'GET', headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(1_000) });
    // An SSE endpoint answers with a stream that never ends: the status is enough.
    await r.body?.cancel().catch(() => {});
    return true;
  } catch {
    return false;
  }
}
