// registry-add: start a server from the catalog (a hardened container, or its remote endpoint) and mount its tools.
import { z } from 'zod';
import type { MountManager } from '../runtime/mounts/manager.js';
import { MountedToolSchema, MountInfoSchema, type MountedTool, type MountInfo } from '../runtime/mounts/mount-info.js';
import { EntryIdArg } from './args.js';
import { defineTool, type ToolDef } from './tool-def.js';
import { definitionTokens } from './definition-tokens.js';
import type { ToolExposure } from './lazy-tools.js';

/** `exposure`: how mounted tools reach this client (in `all` they enter tools/list, so the result says what they cost). */
export function registryAdd(manager: MountManager, exposure: ToolExposure = 'all'): ToolDef {
  return defineTool({
    name: 'registry-add',
    audit: 'add',
    title: 'Start an MCP server',
    description:
      'Start a server from the catalog (in a hardened container, or connect to its remote endpoint) and mount its tools as <prefix>__<tool>. ' +
      'The result lists the new tools with their input schemas: call them directly, or through registry-exec if your client does not refresh its tool list. ' +
      'Settings may be passed in config; secrets go through registry-config-set.',
    input: z.strictObject({
      id: EntryIdArg,
      config: z.record(z.string(), z.unknown()).optional().describe('settings for this server (names from registry-info)'),
      prefix: z.string().trim().min(1).max(24).optional().describe('tool name prefix (default: from the server name)'),
      source: z
        .string()
        .trim()
        .min(1, 'source is empty: pass a source name from registry-info\'s launches, or leave it out for the default')
        .max(100)
        .optional()
        .describe('run the launch of this catalog source (registry-info lists each launch with its source and trust); default: the first source with a runnable launch'),
      version: z.string().trim().min(1).max(100).optional().describe('run this version (registry-info lists the versions its catalog has); default: the latest by semver'),
    }),
    output: z.object({
      id: z.string(),
      prefix: z.string(),
      state: z.string(),
      source: z.string().optional(),
      /** The version asked for (absent: the latest). */
      version: z.string().optional(),
      tools: z.array(MountedToolSchema),
      withheld: MountInfoSchema.shape.withheld,
      approval: z.string().optional(),
      warning: z.string().optional(),
      /** The container runs without the memory, CPU and pids limits (rootless podman on cgroup v1): why, and the fix. */
      limits: z.string().optional(),
      /** state "preparing": what to call when the build is done. */
      next: z.string().optional(),
      /** tools.expose all: how many definitions entered tools/list and their size in tokens (o200k tokenizer). */
      toolCount: z.number().int().optional(),
      tokens: z.number().int().optional(),
    }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async handler(args, ctx) {
      const added = await manager.add(args.id, { config: args.config, prefix: args.prefix, source: args.source, version: args.version }, ctx).catch((err: unknown) => {
        // A package build that outlasts runtime.runners.buildWait: not a failure, an answer saying what to call next.
        if ((err as { preparing?: boolean }).preparing) return { preparing: (err as Error).message };
        throw err;
      });
      if ('preparing' in added) return { text: added.preparing, structured: { id: args.id, prefix: '', state: 'preparing', tools: [], next: `registry-add ${args.id}` } };
      const { mount, tools, warning, limits } = added;
      const cost = exposure === 'all' && tools.length ? { toolCount: tools.length, tokens: await definitionTokens(tools) } : undefined;
      const structured = {
        id: mount.id,
        prefix: mount.prefix,
        state: mount.state,
        ...(mount.source ? { source: mount.source } : {}),
        ...(mount.version ? { version: mount.version } : {}),
        tools,
        ...(mount.withheld ? { withheld: mount.withheld, approval: mount.approval } : {}),
        ...(warning ? { warning } : {}),
        ...(limits ? { limits } : {}),
        ...(cost ?? {}),
      };
      const costLine = cost ? `\n${cost.toolCount} tool definition${cost.toolCount === 1 ? '' : 's'} added to your tool list: ${cost.tokens} tokens.` : '';
      return { text: (warning ? `⚠ ${warning}\n` : '') + (limits ? `⚠ No resource limits: ${limits}\n` : '') + formatAdded(mount, tools) + costLine, structured };
    },
  });
}

/** `name(a: string, b?: number)` — enough for a model to call a tool it only saw in text. */
export function signature(t: MountedTool): string {
  const schema = t.inputSchema as { properties?: Record<string, { type?: unknown }>; required?: string[] };
  const req = new Set(schema.required ?? []);
  const params = Object.entries(schema.properties ?? {}).map(([k, p]) => `${k}${req.has(k) ? '' : '?'}: ${Array.isArray(p?.type) ? p.type.join('|') : (p?.type ?? 'any')}`);
  return `${t.name}(${params.join(', ')})`;
}

function formatAdded(mount: MountInfo, tools: MountedTool[]): string {
  const lines = [`${mount.id} is ${mount.state} as prefix "${mount.prefix}"${mount.source ? ` (the launch from source "${mount.source}")` : ''} with ${tools.length} tool${tools.length === 1 ? '' : 's'}:`];
  for (const t of tools.slice(0, 100)) {
    const desc = (t.description ?? '').replace(/\s+/g, ' ').trim();
    lines.push(`- ${signature(t)}${desc ? ` — ${desc.length > 160 ? desc.slice(0, 159) + '…' : desc}` : ''}`);
  }
  if (tools.length > 100) lines.push(`… and ${tools.length - 100} more (structuredContent has them all).`);
  lines.push('Call them directly, or as registry-exec {"tool": "<name>", "arguments": {…}} if they do not appear in your tool list.');
  if (mount.withheld?.length) lines.push(`Withheld (changed since approval): ${mount.withheld.map((w) => `${w.name} (${w.reason})`).join(', ')}. ${mount.approval ?? ''}`.trim());
  return lines.join('\n');
}
