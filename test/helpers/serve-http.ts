import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { cliPath } from './registry-client.js';

const run = promisify(execFile);

/**
 * The BUILT `mcp-registry serve-http` as a process, as an operator runs it: its stderr collected, its URL taken from
 * the listening line. `waitLog` waits for a line to appear.
 */
export interface ServeHttp {
  url: string;
  child: ChildProcess;
  log(): string;
  waitLog(re: RegExp, ms?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000, every = 50): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

export async function startServeHttp(home: string, args: string[] = [], env: Record<string, string> = {}): Promise<ServeHttp> {
  const child = spawn(process.execPath, [cliPath, 'serve-http', '--port', '0', ...args], {
    env: { ...process.env, MCP_REGISTRY_HOME: home, MCP_REGISTRY_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (text += `[stdout] ${d}`));
  const waitLog = (re: RegExp, ms = 30_000) =>
    waitFor(`${re} in the serve-http log`, () => {
      if (child.exitCode !== null && !re.test(text)) throw new Error(`serve-http exited (${child.exitCode}):\n${text.slice(-3000)}`);
      return re.exec(text) ?? undefined;
    }, ms);
  const m = await waitLog(/API v0\.1 at (http:\/\/[\d.:]+)\/v0\.1\/servers/, 60_000);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url: m[1]!,
    child,
    log: () => text,
    waitLog,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** `mcp-registry apikey create` against a home (its config names the store); returns the key it printed. */
export async function createKey(home: string, scope: 'read' | 'publish' | 'admin', extra: string[] = []): Promise<string> {
  const { stdout } = await run(process.execPath, [cliPath, 'apikey', 'create', '--scope', scope, ...extra], { env: { ...process.env, MCP_REGISTRY_HOME: home } });
  return stdout.trim();
}
