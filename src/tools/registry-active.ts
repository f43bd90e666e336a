// registry-active: the mounted servers, their state, tools, restarts, last error and withheld tools.
import { z } from 'zod';
import type { MountManager } from '../runtime/mounts/manager.js';
import { MountInfoSchema, type MountInfo } from '../runtime/mounts/mount-info.js';
import { defineTool, type ToolDef } from './tool-def.js';

export function registryActive(manager: MountManager): ToolDef {
  return defineTool({
    name: 'registry-active',
    audit: 'active',
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
