/** A registry tool's definition: zod input, output schema, handler, audit op; schemas made portable. */
import { z } from 'zod';
import type { CallToolResult, Tool, ToolAnnotations } from '@modelcontextprotocol/server';
import { closestName } from '../util/edit-distance.js';
import type { ToolContext, ToolOutput } from '../model/tool-contract.js';
import type { AuditOp } from '../governance/audit-record.js';
import { quoteInput } from '../util/quote.js';

/** A registry tool: validated input (zod), declared output schema, a thin handler calling into modules. */
export interface ToolDef<I extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: I;
  output?: z.ZodObject;
  annotations?: ToolAnnotations;
  /** The audit operation a call of this tool is recorded as (tools/audited.ts); none: not audited. */
  audit?: AuditOp;
  handler(args: z.infer<I>, ctx: ToolContext): Promise<ToolOutput | CallToolResult>;
}

export function defineTool<I extends z.ZodObject>(def: ToolDef<I>): ToolDef {
  return def as unknown as ToolDef;
}

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Tool['inputSchema'] {
  const js = portableSchema(z.toJSONSchema(schema, { io, unrepresentable: 'any' })) as Record<string, unknown>;
  delete js.$schema;
  return js as Tool['inputSchema'];
}

/** Keywords whose values are data, not schemas: never rewritten. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples']);

/**
 * JSON Schema in the spelling every MCP client reads: a `type` list (zod's nullable) becomes `anyOf` of single
 * types (several clients read `type` as one string), and "any value" for additionalProperties (zod's record of
 * unknown) is `true`, not a bare `{}`. Both rewrites keep the meaning.
 */
export function portableSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(portableSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = DATA_KEYWORDS.has(k) ? v : portableSchema(v);
  if (isEmptyObject(out.additionalProperties)) out.additionalProperties = true;
  if (Array.isArray(out.type)) {
    const branches = out.type.map((type: unknown) => ({ type }));
    delete out.type;
    if (out.anyOf) {
      out.allOf = [...((out.allOf as unknown[] | undefined) ?? []), { anyOf: out.anyOf }, { anyOf: branches }];
      delete out.anyOf;
    } else out.anyOf = branches;
  }
  return out;
}

function isEmptyObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
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

/** Arguments nested deeper than this are refused before anything walks them (zod, audit, a child's transport). */
export const MAX_ARGUMENT_DEPTH = 64;

const MAX_ISSUES_SHOWN = 8;
const MAX_UNKNOWN_KEYS_SHOWN = 5;

/**
 * Turn zod issues into one sentence naming each bad argument. `known` are the tool's argument names: an unknown
 * argument is named with the closest of them ("did you mean"), and the list of them.
 */
export function formatInputError(tool: string, err: z.ZodError, known: readonly string[] = []): string {
  let unknownKeys = false;
  const parts = err.issues.slice(0, MAX_ISSUES_SHOWN).map((i) => {
    const where = i.path.length ? quoteInput(i.path.map(String).join('.')) : 'arguments';
    if (i.code !== 'unrecognized_keys') return `${where}: ${i.message}`;
    unknownKeys = true;
    const top = i.path.length === 0;
    const keys = i.keys.slice(0, MAX_UNKNOWN_KEYS_SHOWN).map((k) => {
      const near = top ? closestName(k, known) : undefined;
      return `${quoteInput(k)}${near ? ` (did you mean "${near}"?)` : ''}`;
    });
    const more = i.keys.length > MAX_UNKNOWN_KEYS_SHOWN ? ` and ${i.keys.length - MAX_UNKNOWN_KEYS_SHOWN} more` : '';
    return `${top ? '' : `${where}: `}unknown argument${i.keys.length > 1 ? 's' : ''} ${keys.join(', ')}${more}`;
  });
  if (err.issues.length > MAX_ISSUES_SHOWN) parts.push(`and ${err.issues.length - MAX_ISSUES_SHOWN} more problems`);
  const takes = unknownKeys && known.length ? ` ${tool} takes: ${known.join(', ')}.` : '';
  return `Invalid arguments for ${tool}: ${parts.join('; ')}.${takes} Fix the arguments and call ${tool} again.`;
}
