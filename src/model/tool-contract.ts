// The contract between the MCP layer and everything below it: what a call carries (ToolContext), what a handler
// returns, the user-facing error, and the providers of tools, resources and prompts that come and go at run time.
import type { CallToolResult, GetPromptResult, Prompt, ReadResourceResult, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';

/** Ask the user a question through MCP elicitation (a JSON Schema for the answer's form). */
export type Elicit = (message: string, schema: Record<string, unknown>) => Promise<{ action: 'accept' | 'decline' | 'cancel'; content?: Record<string, unknown> }>;

/** MCP log levels (RFC 5424 names), lowest first. */
export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical' | 'alert' | 'emergency';

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
  /**
   * The lowest log level the caller wants for this call (2026: the request's `_meta` log level; 2025: the level set
   * with logging/setLevel); undefined when it wants no log messages. A proxied call asks its child for logs only then.
   */
  logLevel?: LogLevel;
  /** Sends a notifications/message to the caller, tied to this call's request (set together with logLevel). */
  log?(level: LogLevel, data: unknown, logger?: string): void;
  /** The caller's protocol era (2026-07-28: 'modern'), for what differs between eras; undefined: unknown (legacy). */
  era?: 'legacy' | 'modern';
  /** The caller's capabilities (2025: from initialize; 2026: from this request's envelope), to forward to a child. */
  clientCapabilities?: Record<string, unknown>;
  /** 2026 multi round-trip: the answers (`inputResponses`) and opaque `requestState` of a retried call. */
  inputResponses?: Record<string, unknown>;
  requestState?: string;
}

/** MCP's log levels (RFC 5424 names); the same type as LogLevel. */
export type LogLevelName = LogLevel;

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
  /**
   * completion/complete for one of this provider's prompts (`ref/prompt`, by its mounted name) or resource templates
   * (`ref/resource`, by its mounted URI template), answered by the child that owns it. Undefined when the ref is not
   * one of this provider's.
   */
  complete?(params: CompleteParams, signal: AbortSignal): Promise<CompleteAnswer> | undefined;
}

/** The result of completion/complete. */
export interface CompleteAnswer {
  completion: { values: string[]; total?: number; hasMore?: boolean };
}

/** The params of completion/complete (as MCP defines them). */
export interface CompleteParams {
  ref: { type: 'ref/prompt'; name: string } | { type: 'ref/resource'; uri: string };
  argument: { name: string; value: string };
  context?: { arguments?: Record<string, string> };
}
