// The contract between the MCP layer and everything below it: what a call carries (ToolContext), what a handler
// returns, the user-facing error, and the providers of tools, resources and prompts that come and go at run time.
import type { CallToolResult, GetPromptResult, Prompt, ReadResourceResult, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';

/** Ask the user a question through MCP elicitation (a JSON Schema for the answer's form). */
export type Elicit = (message: string, schema: Record<string, unknown>) => Promise<{ action: 'accept' | 'decline' | 'cancel'; content?: Record<string, unknown> }>;

/** What a tool handler may use besides its arguments; built per call by the server. */
export interface ToolContext {
  signal: AbortSignal;
  /** Sends notifications/progress when the client gave a progress token; a no-op otherwise. */
  progress(progress: number, total: number | undefined, message: string): void;
  /** Whether the client gave a progress token (a proxied call asks its child for progress only then). */
  progressWanted?: boolean;
  /** Name of the connected client (from initialize), for audit records. */
  clientName?: string;
  /** Ask the user a question through MCP elicitation; undefined when the client cannot (or is 2026-era: no push). */
  elicit?: Elicit;
  /** The caller's protocol era: 'legacy' = 2025-era (initialize), 'modern' = 2026-07-28 (per-request `_meta`). */
  era?: 'legacy' | 'modern';
  /** The caller's capabilities (2025: from initialize; 2026: from this request's envelope), to forward to a child. */
  clientCapabilities?: Record<string, unknown>;
  /** The log level this request asked for (2026 only: `_meta` logLevel); absent: the caller wants no logs. */
  logLevel?: LogLevelName;
  /** Send a log message about this call to the caller (the SDK drops it when the caller did not ask for logs). */
  log?(level: LogLevelName, data: unknown, logger?: string): void;
  /** 2026 multi round-trip: the answers (`inputResponses`) and opaque `requestState` of a retried call. */
  inputResponses?: Record<string, unknown>;
  requestState?: string;
}

/** MCP's log levels (RFC 5424 names). */
export type LogLevelName = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical' | 'alert' | 'emergency';

export interface ToolOutput {
  /** Compact text for people (and models). */
  text: string;
  /** Machine-readable result matching the tool's output schema. */
  structured?: Record<string, unknown>;
  isError?: boolean;
}

/** A user-facing error: the message says what went wrong and what to do next. */
export class ToolError extends Error {}

/** Tools that come and go at run time (mounted child servers). */
export interface ToolProvider {
  listTools(): Tool[];
  /** Returns undefined when `name` is not one of this provider's tools. */
  callTool(name: string, args: Record<string, unknown> | undefined, ctx: ToolContext): Promise<CallToolResult> | undefined;
}

/** Resources and prompts that come and go at run time (mounted child servers), already namespaced. */
export interface ResourceProvider {
  listResources(signal: AbortSignal): Promise<{ resources: Resource[]; resourceTemplates: ResourceTemplate[] }>;
  /** Undefined when `uri` is not one of this provider's. */
  readResource(uri: string, signal: AbortSignal): Promise<ReadResourceResult> | undefined;
  listPrompts(signal: AbortSignal): Promise<Prompt[]>;
  /** Undefined when `name` is not one of this provider's. */
  getPrompt(name: string, args: Record<string, string> | undefined, signal: AbortSignal): Promise<GetPromptResult> | undefined;
}
