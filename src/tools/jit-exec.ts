/** Just-in-time registry-exec: calling a tool of a server that is not mounted yet, by starting it first. */
import type { Entry } from '../model/entry.js';
import type { ToolContext } from '../model/tool-contract.js';
import type { ToolDef } from './tool-def.js';
import { ToolFinder, type LiveMounts, type ToolFindDeps } from './tool-find.js';
import { READONLY_EXEC, readOnlyError, readOnlyRefusal } from './registry-exec-readonly.js';
import type { ViewHooks } from '../catalog/views.js';

export { exposedProvider } from './lazy-tools.js';
export { learnedTool } from './tool-find.js';

/*
 * Just-in-time calls: registry-exec of a tool whose server is not mounted yet (the name a registry-find kind "tools"
 * hit gave) starts that server through registry-add's own path — the same start gate: policy, approval, settings,
 * image checks, each answered with what to do and nothing started — and then calls the tool, in one request.
 */

export interface JitDeps {
  /** The catalog as loaded (awaited first: a call right after start-up may come before the cache is read). */
  load(): Promise<void>;
  all(): readonly Entry[];
  mounts: LiveMounts & { active(): ReadonlyArray<{ id: string; prefix: string; state: string }> };
  hooks: ViewHooks;
  /** Tool lists seen at earlier starts (store/learned-tools.ts). */
  learned?: ToolFindDeps['learned'];
  /** registry-add as the tool does it (MountManager.add). */
  add(id: string, ctx: ToolContext): Promise<unknown>;
}

/** The finder registry-find kind "tools" and just-in-time registry-exec share, so both name tools alike. */
export function toolFinderFor(deps: Pick<JitDeps, 'all' | 'mounts' | 'hooks' | 'learned'>): ToolFinder {
  return new ToolFinder({ all: deps.all, mounts: deps.mounts, hooks: deps.hooks, trust: deps.hooks.trust, ...(deps.learned ? { learned: deps.learned } : {}) });
}

const JIT_NOTE = ' A tool name from registry-find kind "tools" works before its server runs: the server is started first, with the same checks as registry-add.';

/** The tool table with registry-exec (and its read-only variant) able to start a not-mounted tool's server. */
export function withJustInTimeExec(defs: ToolDef[], finder: ToolFinder, deps: JitDeps): ToolDef[] {
  return defs.map((def) => {
    if (def.name !== 'registry-exec' && def.name !== READONLY_EXEC) return def;
    return {
      ...def,
      description: def.description + JIT_NOTE,
      async handler(args: { tool: string; arguments?: Record<string, unknown> }, ctx: ToolContext) {
        const cut = args.tool.indexOf('__');
        const prefix = cut > 0 ? args.tool.slice(0, cut) : undefined;
        if (prefix && !deps.mounts.active().some((m) => m.prefix === prefix)) {
          await deps.load();
          const known = finder.toolOf(args.tool);
          const entry = known?.entry;
          // The read-only exec judges a server not running by what is known of its tool: nothing starts for a refusal.
          const refusal = entry && def.name === READONLY_EXEC ? readOnlyRefusal({ name: args.tool, annotations: known.tool.annotations }, known.origin) : undefined;
          if (refusal) throw readOnlyError(refusal);
          if (entry) {
            ctx.progress(0, undefined, `starting ${entry.id} for ${args.tool}…`);
            await deps.add(entry.id, ctx);
          }
        }
        return def.handler(args, ctx);
      },
    } as ToolDef;
  });
}
