/** Finding tools for registry-find kind "tools": mounted and catalog tools, the names to call. */
import { z } from 'zod';
import { categoryMatches } from '../model/categories.js';
import { isRunnable, oneLine, ToolHintsSchema, type Entry, type ToolInfo } from '../model/entry.js';
import { missingConfig, shortDescription, type GovernanceTrust, type ViewHooks } from '../catalog/views.js';
import { compactSchema, shorten } from '../search/compact-schema.js';
import { ToolIndex, type LiveTool, type ToolHit } from '../search/tool-index.js';

/*
 * registry-find with kind "tools": single tools across the catalog, running or not, each with the name to call and
 * what its server still needs before that call can work. The index is rebuilt only when the catalog or the set of
 * mounted tools changed (a search in between reuses it).
 */

/** What a running registry knows of its mounts (runtime/mounts/manager.ts active() + listTools()). */
export interface LiveMounts {
  /** Mounted servers: entry id, prefix, state. */
  active(): ReadonlyArray<{ id: string; prefix: string; state: string }>;
  /** Every mounted tool as the client sees it (`<prefix>__<tool>`). */
  listTools(): ReadonlyArray<{ name: string; description?: string; inputSchema?: unknown; annotations?: unknown }>;
}

export interface ToolFindDeps {
  all(): readonly Entry[];
  mounts?: LiveMounts;
  /** Tool lists seen at earlier starts, by entry id (store/learned-tools.ts; a new map object when it changed). */
  learned?: () => ReadonlyMap<string, readonly ToolInfo[]>;
  hooks: ViewHooks;
  trust?: (entry: Entry) => GovernanceTrust;
}

export const ToolFindItemSchema = z.object({
  /** The name to call (through registry-exec, or directly once mounted). */
  tool: z.string(),
  /** The tool's own name on its server. */
  name: z.string(),
  description: z.string(),
  inputSchema: z.record(z.string(), z.unknown()).optional(),
  /** The server's catalog id. */
  id: z.string(),
  server: z.string(),
  running: z.boolean(),
  /** What must happen before a call can work: settings to set, approval to give; empty when nothing. */
  needs: z.array(z.string()),
  /** live: from the running server; learned: from an earlier start; declared: from the catalog. */
  origin: z.enum(['live', 'learned', 'declared']),
  score: z.number(),
});
export type ToolFindItem = z.infer<typeof ToolFindItemSchema>;

export interface ToolFindFilters {
  sources?: string[];
  category?: string;
  runnable?: boolean;
  visible?: (entry: Entry) => boolean;
}

const TOOL_DESCRIPTION = 200;

export class ToolFinder {
  private index?: ToolIndex;
  private builtFor?: { entries: readonly Entry[]; live: string; learned?: ReadonlyMap<string, readonly ToolInfo[]> };

  constructor(private readonly deps: ToolFindDeps) {}

  find(query: string, limit: number, filters: ToolFindFilters = {}): ToolFindItem[] {
    const { index, running } = this.current();
    const sources = filters.sources?.length ? new Set(filters.sources) : undefined;
    const filter = (e: Entry) =>
      (!sources || e.sources.some((s) => sources.has(s.source))) &&
      (filters.category === undefined || categoryMatches(e.category, filters.category)) &&
      (filters.runnable === undefined || isRunnable(e) === filters.runnable) &&
      (!filters.visible || filters.visible(e));
    return index.search(query, { limit, filter }).map((h) => this.item(h, running.has(h.entry.id)));
  }

  /**
   * For server results: which of each server's tools the query matches (callable names, best first, at most
   * `perServer` each). Servers without a matching tool are left out.
   */
  matchedTools(query: string, entries: readonly Entry[], perServer = 3): Map<string, string[]> {
    const out = new Map<string, string[]>();
    if (!entries.length) return out;
    // A small index over these servers only: a server search never waits for the whole catalog's tool index.
    const index = ToolIndex.build(entries, this.liveSources());
    for (const h of index.search(query, { limit: Math.min(200, entries.length * perServer * 2) })) {
      let list = out.get(h.entry.id);
      if (!list) out.set(h.entry.id, (list = []));
      if (list.length < perServer) list.push(h.callable);
    }
    return out;
  }

  /** The catalog entry a tool's callable name (as a tool hit gave it) belongs to, mounted or not. */
  entryOf(callable: string): Entry | undefined {
    return this.toolOf(callable)?.entry;
  }

  /** The tool a callable name stands for, with its entry and where its listing came from. */
  toolOf(callable: string): ReturnType<ToolIndex['lookup']> {
    return this.current().index.lookup(callable);
  }

  private item(h: ToolHit, running: boolean): ToolFindItem {
    const item: ToolFindItem = {
      tool: h.callable,
      name: h.tool.name,
      description: shorten(h.tool.description ?? '', TOOL_DESCRIPTION),
      id: h.entry.id,
      server: h.entry.name,
      running,
      needs: running ? [] : this.needs(h.entry),
      origin: h.origin,
      score: h.score,
    };
    const schema = ToolIndex.compactInput(h.tool);
    if (schema) item.inputSchema = schema;
    return item;
  }

  /** What stands between this server and a call: settings unset, approval not given, no way to start it. */
  private needs(entry: Entry): string[] {
    const out: string[] = [];
    if (!isRunnable(entry)) out.push('a launch: the catalog has no way to run this server here (registry-info shows what it offers)');
    const missing = missingConfig(entry, this.deps.hooks);
    if (missing.length) out.push(`settings: ${missing.join(', ')} (registry-config-set)`);
    const trust = this.deps.trust?.(entry);
    if (trust?.status === 'needs-approval') out.push(`approval: ${trust.reason ?? 'policy asks for approval before a first start'}`);
    else if (trust?.status === 'denied') out.push(`policy allows no start: ${trust.reason ?? 'denied by policy'}`);
    return out;
  }

  /** The index for the catalog and mounts as they are now. */
  private current(): { index: ToolIndex; running: Set<string> } {
    const entries = this.deps.all();
    const live = this.liveSources();
    const learned = this.deps.learned?.();
    if (!this.index || this.builtFor?.entries !== entries || this.builtFor.live !== live.key || this.builtFor.learned !== learned) {
      this.index = ToolIndex.build(entries, { ...live, ...(learned ? { learned } : {}) });
      this.builtFor = { entries, live: live.key, learned };
    }
    return { index: this.index, running: live.running };
  }

  /** Mounted servers' prefixes and tools (by entry id), which run, and a key that changes when any of it does. */
  private liveSources(): { live: Map<string, LiveTool[]>; prefixes: Map<string, string>; running: Set<string>; key: string } {
    const active = this.deps.mounts?.active() ?? [];
    const running = new Set(active.filter((m) => m.state === 'running' || m.state === 'idle').map((m) => m.id));
    const listed = this.deps.mounts?.listTools() ?? [];
    // The mounted tool list changes on start, restart and list_changed: its names and descriptions say when.
    const key = active.map((m) => `${m.id}=${m.prefix}`).join('\n') + '\n' + listed.map((t) => `${t.name}\u0000${t.description ?? ''}`).join('\n');
    const prefixes = new Map(active.map((m) => [m.id, m.prefix]));
    const live = new Map<string, LiveTool[]>();
    const byPrefix = new Map(active.map((m) => [m.prefix, m.id]));
    for (const t of listed) {
      const cut = t.name.indexOf('__');
      const id = cut > 0 ? byPrefix.get(t.name.slice(0, cut)) : undefined;
      if (!id) continue;
      let list = live.get(id);
      if (!list) live.set(id, (list = []));
      const tool: LiveTool = { name: t.name.slice(cut + 2), callable: t.name };
      if (t.description) tool.description = t.description;
      if (t.inputSchema && typeof t.inputSchema === 'object') tool.inputSchema = t.inputSchema as ToolInfo['inputSchema'];
      if (t.annotations && typeof t.annotations === 'object') tool.annotations = t.annotations as ToolInfo['annotations'];
      list.push(tool);
    }
    return { live, prefixes, running, key };
  }
}

const LEARNED_DESCRIPTION = 500;

/** A mounted tool as tool search keeps it after its server stops: short description, compact schema, hints. */
export function learnedTool(t: { name: string; description?: string; inputSchema?: unknown; annotations?: Record<string, unknown> }): ToolInfo {
  const out: ToolInfo = { name: t.name };
  if (t.description) out.description = shorten(t.description, LEARNED_DESCRIPTION);
  const schema = compactSchema(t.inputSchema);
  if (schema && typeof schema === 'object' && !Array.isArray(schema)) out.inputSchema = schema as ToolInfo['inputSchema'];
  const hints = ToolHintsSchema.safeParse(t.annotations ?? {});
  if (t.annotations && hints.success && Object.keys(hints.data).length) out.annotations = hints.data;
  return out;
}

export function formatToolFindText(query: string, items: ToolFindItem[]): string {
  if (!items.length) return `No tools match "${oneLine(query)}". Try other words, or kind "servers".`;
  const lines = [`Tools for "${oneLine(query)}":`];
  for (const [i, it] of items.entries()) {
    const state = it.running ? 'running' : it.needs.length ? `needs ${it.needs.map((n) => n.slice(0, n.indexOf(':') > 0 ? n.indexOf(':') : n.length)).join(', ')}` : 'not running';
    lines.push(`${i + 1}. ${oneLine(it.tool)} — ${oneLine(it.server)} (${oneLine(it.id)}; ${state})`);
    if (it.description) lines.push(`   ${shortDescription(it.description, 160)}`);
  }
  lines.push('Call a tool with registry-exec {tool, arguments}; a server that is not running is started with registry-add <id> first.');
  return lines.join('\n');
}
