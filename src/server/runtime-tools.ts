import { z } from 'zod';
import type { MountInfo, MountManager, MountedTool } from '../runtime/mounts.js';
import { defineTool, type ToolDef } from './tool-def.js';
import { EntryIdArg } from './resolve-entry.js';

/**
 * The runtime's registry tools (contract.md): add/remove/active/config-set/exec. Thin: the MountManager does the
 * work; these validate input, shape the output and write text a model can act on even when its client shows it
 * neither structuredContent nor a refreshed tool list.
 */


const MountedToolSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()),
});

const MountInfoSchema = z.object({
  id: z.string(),
  prefix: z.string(),
  state: z.string(),
  tools: z.array(z.string()),
  startedAt: z.string().optional(),
  version: z.string().optional(),
  restarts: z.number(),
  lastError: z.string().optional(),
  withheld: z.array(z.object({ name: z.string(), reason: z.enum(['changed', 'new']), description: z.string().optional() })).optional(),
  removedTools: z.array(z.string()).optional(),
  approval: z.string().optional(),
  source: z.string().optional(),
});

export function runtimeTools(manager: MountManager): ToolDef[] {
  const add = defineTool({
    name: 'registry-add',
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
      };
      return { text: (warning ? `⚠ ${warning}\n` : '') + (limits ? `⚠ No resource limits: ${limits}\n` : '') + formatAdded(mount, tools), structured };
    },
  });

  const remove = defineTool({
    name: 'registry-remove',
    title: 'Stop an MCP server',
    description: 'Stop a mounted server and remove its tools. It is no longer restored when the registry restarts.',
    input: z.strictObject({ id: EntryIdArg }),
    output: z.object({ id: z.string(), removed: z.boolean() }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async handler(args) {
      const removed = await manager.remove(args.id);
      return {
        text: removed ? `Removed ${args.id}: its container is stopped and its tools are gone.` : `${args.id} was not mounted; nothing to remove (registry-active lists what is).`,
        structured: { id: args.id, removed },
      };
    },
  });

  const active = defineTool({
    name: 'registry-active',
    title: 'Mounted MCP servers',
    description: 'The mounted servers: state (running, idle, starting, crashed, failed), tool names, start time, restarts and the last error.',
    input: z.strictObject({}),
    output: z.object({ mounts: z.array(MountInfoSchema) }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async handler() {
      // An approval given in a terminal since the last check shows (and applies) at once.
      await manager.recheckPins();
      const mounts = manager.active();
      return { text: formatActive(mounts), structured: { mounts } };
    },
  });

  const configSet = defineTool({
    name: 'registry-config-set',
    title: 'Set settings and secrets of a server',
    description:
      'Set settings and secrets a server needs (names from registry-info). Values are validated against what the server declares; secrets are kept in a private file and never shown again. A running server restarts to pick them up.',
    input: z.strictObject({
      id: EntryIdArg,
      values: z.record(z.string(), z.unknown()).refine((v) => Object.keys(v).length > 0, 'values is empty: pass e.g. {"API_TOKEN": "…"}'),
    }),
    output: z.object({ id: z.string(), set: z.array(z.string()), missing: z.array(z.string()) }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async handler(args, ctx) {
      const r = await manager.configSet(args.id, args.values, ctx);
      const lines = [`${r.id}: set ${r.set.length ? r.set.join(', ') : 'nothing'}.`];
      if (r.missing.length) lines.push(`Still missing: ${r.missing.join(', ')}.`);
      else lines.push(r.restarted ? 'It was running and has been restarted with the new values.' : 'Everything it needs is set; registry-add starts it.');
      return { text: lines.join(' '), structured: { id: r.id, set: r.set, missing: r.missing } };
    },
  });

  const exec = defineTool({
    name: 'registry-exec',
    title: 'Call a mounted tool',
    description:
      'Call any mounted tool by its name (<prefix>__<tool>, as registry-add or registry-active list them) with its arguments. Use it when your client does not show the mounted tools. Returns the tool\'s result as it came.',
    input: z.strictObject({
      tool: z.string().trim().min(1, 'tool is empty: pass a mounted tool name such as "tiny__echo"').max(64),
      arguments: z.record(z.string(), z.unknown()).optional(),
    }),
    annotations: { readOnlyHint: false, openWorldHint: true },
    async handler(args, ctx) {
      return manager.exec(args.tool, args.arguments, ctx);
    },
  });

  return [add, remove, active, configSet, exec];
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

function formatActive(mounts: MountInfo[]): string {
  if (!mounts.length) return 'No servers are mounted. registry-find finds one, registry-add starts it.';
  return mounts
    .map(
      (m) =>
        `${m.id} [${m.prefix}] ${m.state}, ${m.tools.length} tools${m.startedAt ? `, started ${m.startedAt}` : ''}${m.restarts ? `, ${m.restarts} restart${m.restarts === 1 ? '' : 's'}` : ''}${m.lastError ? `; last error: ${m.lastError}` : ''}` +
        (m.withheld?.length
          ? `\n  withheld: ${m.withheld.map((w) => `${w.name} (${w.reason}${w.description ? `; now: "${w.description}"` : ''})`).join(', ')}${m.removedTools?.length ? `; no longer offered: ${m.removedTools.join(', ')}` : ''}\n  ${m.approval ?? ''}`
          : ''),
    )
    .join('\n');
}
