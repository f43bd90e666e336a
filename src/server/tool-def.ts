import { z } from 'zod';
import type { CallToolResult, Tool, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';

/** What a tool handler may use besides its arguments; built per call by the server. */
export interface ToolContext {
  signal: AbortSignal;
  /** Sends notifications/progress when the client gave a progress token; a no-op otherwise. */
  progress(progress: number, total: number | undefined, message: string): void;
  /** Whether the client gave a progress token (a proxied call asks its child for progress only then). */
  progressWanted?: boolean;
  /** Name of the connected client (from initialize), for audit records. */
  clientName?: string;
  /** Ask the user a question through MCP elicitation; undefined when the client cannot. */
  elicit?: (message: string, schema: Record<string, unknown>) => Promise<{ action: 'accept' | 'decline' | 'cancel'; content?: Record<string, unknown> }>;
}

export interface ToolOutput {
  /** Compact text for people (and models). */
  text: string;
  /** Machine-readable result matching the tool's output schema. */
  structured?: Record<string, unknown>;
  isError?: boolean;
}

/** A registry tool: validated input (zod), declared output schema, a thin handler calling into modules. */
export interface ToolDef<I extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: I;
  output?: z.ZodObject;
  annotations?: ToolAnnotations;
  handler(args: z.infer<I>, ctx: ToolContext): Promise<ToolOutput | CallToolResult>;
}

export function defineTool<I extends z.ZodObject>(def: ToolDef<I>): ToolDef {
  return def as unknown as ToolDef;
}

/** Tools that come and go at run time (mounted child servers). */
export interface ToolProvider {
  listTools(): Tool[];
  /** Returns undefined when `name` is not one of this provider's tools. */
  callTool(name: string, args: Record<string, unknown> | undefined, ctx: ToolContext): Promise<CallToolResult> | undefined;
}

/** A user-facing error: the message says what went wrong and what to do next. */
export class ToolError extends Error {}

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Tool['inputSchema'] {
  const js = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete js.$schema;
  return js as Tool['inputSchema'];
}

export function describeTool(def: ToolDef): Tool {
  const tool: Tool = {
    name: def.name,
    title: def.title,
    description: def.description,
    inputSchema: jsonSchemaOf(def.input, 'input'),
  };
  if (def.output) tool.outputSchema = jsonSchemaOf(def.output, 'output') as Tool['outputSchema'];
  if (def.annotations) tool.annotations = { title: def.title, ...def.annotations };
  return tool;
}

/** Turn zod issues into one sentence naming each bad argument. */
export function formatInputError(tool: string, err: z.ZodError): string {
  const parts = err.issues.map((i) => {
    const where = i.path.length ? `"${i.path.join('.')}"` : 'arguments';
    return `${where}: ${i.message}`;
  });
  return `Invalid arguments for ${tool}: ${parts.join('; ')}. Fix the arguments and call ${tool} again.`;
}
