// What a call to a child carries across protocol eras: the child's era verdict (probed once, remembered), the caller
// each call belongs to (elicitation, logs, log level), and the translation of a 2026 `input_required` round into
// elicitation asked of the caller.
import { CLIENT_CAPABILITIES_META_KEY, LOG_LEVEL_META_KEY } from '@modelcontextprotocol/client';
import type { Elicit, LogLevel } from '../model/tool-contract.js';

export type { EraVerdict } from '../model/era.js';

/** The caller of one call in flight: where a child's pushed elicitation and its log messages go. */
export interface CallSink {
  elicit?: Elicit;
  log?: (level: LogLevel, data: unknown, logger?: string) => void;
  logLevel?: LogLevel;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** Whether a message at `level` reaches a caller who asked for `wanted` and above. */
export function logWanted(level: string, wanted: LogLevel | undefined): boolean {
  if (!wanted) return false;
  const at = LEVELS.indexOf(level as LogLevel);
  return at < 0 || at >= LEVELS.indexOf(wanted);
}

/**
 * The per-request `_meta` of a call to a 2026 child: the capabilities of *our caller* (the child must not ask for
 * input the caller cannot give) and the caller's log level (2026 has no logging/setLevel).
 */
export function modernEnvelope(sink: CallSink): Record<string, unknown> {
  return {
    [CLIENT_CAPABILITIES_META_KEY]: sink.elicit ? { elicitation: { form: {} } } : {},
    ...(sink.logLevel ? { [LOG_LEVEL_META_KEY]: sink.logLevel } : {}),
  };
}

/** Rounds of input a 2026 child may ask for in one call before the registry gives up on it (the SDK's default). */
export const MAX_INPUT_ROUNDS = 10;

/**
 * Answers to a 2026 child's `inputRequests`, asked of the caller through elicitation (form mode). A request the
 * caller cannot answer throws an Error whose message names the feature (sampling, roots, URL elicitation, or
 * elicitation itself when the caller's client has none) — the call fails with it instead of hanging.
 */
export async function answerInputRequests(requests: unknown, sink: CallSink, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const entries = typeof requests === 'object' && requests !== null ? Object.entries(requests as Record<string, unknown>) : [];
  if (!entries.length) throw new Error('it asked for input (input_required) without saying what');
  for (const [key, raw] of entries) {
    signal?.throwIfAborted();
    const req = (raw ?? {}) as { method?: unknown; params?: Record<string, unknown> };
    out[key] = await askCaller(String(req.method), req.params ?? {}, sink);
  }
  return out;
}

/**
 * One server-to-client request of a child (pushed by a 2025 child, embedded in `input_required` by a 2026 one),
 * answered by the caller. Only form elicitation can be carried; everything else is refused by name.
 */
export async function askCaller(method: string, params: Record<string, unknown>, sink: CallSink | undefined): Promise<Record<string, unknown>> {
  if (method === 'sampling/createMessage') throw new Error('it asked for sampling (sampling/createMessage), which mcp-registry does not forward to its client');
  if (method === 'roots/list') throw new Error('it asked for the client’s roots (roots/list), which mcp-registry does not forward');
  if (method !== 'elicitation/create') throw new Error(`it asked the client for ${method}, which mcp-registry does not forward`);
  if (params.mode === 'url') throw new Error('it asked for URL-mode elicitation, which mcp-registry does not forward (only form elicitation)');
  if (!sink?.elicit) throw new Error('it asked the user a question (elicitation), but the client connected to mcp-registry cannot answer elicitation');
  const schema = (params.requestedSchema ?? { type: 'object', properties: {} }) as Record<string, unknown>;
  const answer = await sink.elicit(String(params.message ?? ''), schema);
  return { action: answer.action, ...(answer.content ? { content: answer.content } : {}) };
}

/**
 * A 2026 child's result as the registry forwards it: without the child's own `io.modelcontextprotocol/*` identity
 * keys in `_meta` (its serverInfo would claim the result came from the child, not from us) and without
 * `resultType` (the registry's server stamps its own).
 */
export function stripEraMarks<T extends Record<string, unknown>>(r: T): T {
  const out: Record<string, unknown> = { ...r };
  delete out.resultType;
  const meta = out._meta;
  if (meta && typeof meta === 'object') {
    const kept = Object.fromEntries(Object.entries(meta as Record<string, unknown>).filter(([k]) => !k.startsWith('io.modelcontextprotocol/')));
    if (Object.keys(kept).length) out._meta = kept;
    else delete out._meta;
  }
  return out as T;
}

/**
 * The calls in flight to one child, for what a child sends outside any request's answer: a 2025 child's pushed
 * `elicitation/create`, and log messages. Nothing on the wire ties those to the call that caused them, so they
 * are given to the caller only when exactly one call is in flight; with several, none of the callers can be told
 * apart and none gets another's question or logs.
 */
export class CallsInFlight {
  private readonly calls = new Set<CallSink>();

  enter(sink: CallSink): () => void {
    this.calls.add(sink);
    return () => this.calls.delete(sink);
  }

  /** The only call in flight, or undefined (none, or several). */
  sole(): CallSink | undefined {
    return this.calls.size === 1 ? this.calls.values().next().value : undefined;
  }

  get size(): number {
    return this.calls.size;
  }

  /** The lowest log level any call in flight asked for (what a 2025 child is set to with logging/setLevel). */
  lowestLevel(): LogLevel | undefined {
    let low: LogLevel | undefined;
    for (const c of this.calls) if (c.logLevel && (!low || LEVELS.indexOf(c.logLevel) < LEVELS.indexOf(low))) low = c.logLevel;
    return low;
  }
}
