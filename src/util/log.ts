/**
 * Logging goes to stderr (stdout is the MCP channel) and, when a sink is attached,
 * to MCP logging notifications. Known secret values are scrubbed before anything is written.
 */
export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, notice: 2, warning: 3, error: 4 };

export type LogSink = (level: LogLevel, logger: string, message: string, data?: Record<string, unknown>) => void;

export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
  child(name: string): Logger;
}

const sinks = new Set<LogSink>();
const redactors = new Set<(s: string) => string>();
let minLevel: LogLevel = (process.env.MCP_REGISTRY_LOG_LEVEL as LogLevel) in ORDER ? (process.env.MCP_REGISTRY_LOG_LEVEL as LogLevel) : 'info';

export function setLogLevel(level: LogLevel): void {
  minLevel = level;
}
export function addLogSink(sink: LogSink): () => void {
  sinks.add(sink);
  return () => sinks.delete(sink);
}
/** Register a function that removes secret values from any text about to be logged. */
export function addLogRedactor(fn: (s: string) => string): () => void {
  redactors.add(fn);
  return () => redactors.delete(fn);
}
export function redactText(s: string): string {
  let out = s;
  for (const r of redactors) out = r(out);
  return out;
}

function emit(level: LogLevel, name: string, msg: string, data?: Record<string, unknown>): void {
  if (ORDER[level] < ORDER[minLevel]) return;
  // Redact once: the same safe message and data go to stderr and to every sink.
  const safeMsg = redactText(msg);
  let safeJson: string | undefined;
  if (data && Object.keys(data).length) {
    try {
      safeJson = redactText(JSON.stringify(data));
    } catch {
      safeJson = undefined;
    }
  }
  const dataText = safeJson !== undefined ? ' ' + safeJson : data && Object.keys(data).length ? ' [unserialisable data]' : '';
  process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} [${name}] ${safeMsg}${dataText}\n`);
  if (!sinks.size) return;
  const safeData = safeJson !== undefined ? (JSON.parse(safeJson) as Record<string, unknown>) : undefined;
  for (const sink of sinks) {
    try {
      sink(level, name, safeMsg, safeData);
    } catch {
      /* a broken sink must not break logging */
    }
  }
}

export function createLogger(name = 'registry'): Logger {
  return {
    debug: (m, d) => emit('debug', name, m, d),
    info: (m, d) => emit('info', name, m, d),
    warn: (m, d) => emit('warning', name, m, d),
    error: (m, d) => emit('error', name, m, d),
    child: (n) => createLogger(`${name}:${n}`),
  };
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
