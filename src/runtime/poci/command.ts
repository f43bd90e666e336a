/** A Docker "poci" tool call's container command: the tool's `container.command` template filled from the call's arguments. */
import type { PociLaunch } from '../../model/entry.js';
import { renderTemplateDetailed, TemplateError } from '../templates.js';

export type PociTool = PociLaunch['tools'][number];

export type PociCommand = { ok: true; command: string[] } | { ok: false; reason: string };

/**
 * server.yaml's poci tools write `container.command` in Docker's template language with the tool's own arguments
 * as the values: `{{args|into}}` spreads a list into several arguments, `{{path}}` is one argument. Each template
 * item gives one argument (or, for a whole-item `|into` list, several); an item that renders empty is left out.
 * Arguments never pass through a shell and are never scanned again, so a value like "$HOME" or "{{x}}" stays
 * literal text. A string under `|into` stays ONE argument: there is no shell to split it into words.
 */
export function renderPociCommand(tool: PociTool, args: Record<string, unknown>): PociCommand {
  const required = requiredOf(tool.inputSchema);
  const absent = required.filter((n) => args[n] === undefined || args[n] === null || args[n] === '');
  if (absent.length) return { ok: false, reason: `missing required argument${absent.length > 1 ? 's' : ''} ${absent.map((a) => JSON.stringify(a)).join(', ')} of tool ${tool.name}` };
  const known = propertiesOf(tool.inputSchema);
  const unknown = known ? Object.keys(args).filter((k) => !known.has(k)) : [];
  if (unknown.length) return { ok: false, reason: `unknown argument${unknown.length > 1 ? 's' : ''} ${unknown.map((a) => JSON.stringify(a)).join(', ')} of tool ${tool.name} (it takes: ${[...known!].join(', ') || 'none'})` };
  const command: string[] = [];
  try {
    for (const tpl of tool.command ?? []) {
      // No secrets reach a poci command: `$VAR` stays literal (the context has none).
      const r = renderTemplateDetailed(tpl, { server: '', settings: args, secrets: {} });
      if (r.value === undefined) continue;
      if (Array.isArray(r.value)) command.push(...r.value);
      else command.push(r.value);
    }
  } catch (err) {
    if (err instanceof TemplateError) return { ok: false, reason: `tool ${tool.name} has a command template this registry cannot read: ${err.message}` };
    throw err;
  }
  return { ok: true, command };
}

function requiredOf(schema: Record<string, unknown> | undefined): string[] {
  const r = schema?.required;
  return Array.isArray(r) ? r.filter((x): x is string => typeof x === 'string') : [];
}

function propertiesOf(schema: Record<string, unknown> | undefined): Set<string> | undefined {
  const p = schema?.properties;
  return p && typeof p === 'object' && !Array.isArray(p) ? new Set(Object.keys(p)) : undefined;
}
