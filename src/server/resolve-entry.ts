import { z } from 'zod';
import type { Catalog } from '../catalog/catalog.js';
import { CONTROL_CHARS, type Entry } from '../catalog/entry.js';
import type { Surface } from '../catalog/views.js';
import { quoteInput, ToolError } from './tool-def.js';

const CONTROL_PROBLEM = 'contains a control character (a NUL, newline, tab or bidirectional control), which no id holds: pass the id exactly as registry-find shows it, e.g. "docker/postgres"';

/** The `id` argument of the tools that take an entry id or alias. */
export const EntryIdArg = z
  .string()
  .trim()
  .min(1, 'id is empty: pass an id from registry-find, e.g. "docker/postgres"')
  .max(300)
  .refine((s) => !CONTROL_CHARS.test(s), { message: `the id ${CONTROL_PROBLEM}` });

/** Find an entry by id or alias, or fail with a message that suggests close ids. */
export function resolveEntry(catalog: Catalog, id: string, visible: (id: string) => boolean = () => true, surface: Surface = 'mcp'): Entry {
  // Said before any lookup: an id like that can only be a mistake, and echoed as given it could forge lines.
  if (CONTROL_CHARS.test(id)) throw new ToolError(`The id ${escapeControls(quoteInput(id))} ${CONTROL_PROBLEM}.`);
  const entry = catalog.get(id);
  if (entry && visible(entry.id)) return entry;
  const suggestions = catalog.suggest(id).filter(visible);
  throw new ToolError(
    `No catalog entry with id ${quoteInput(id)}. ${suggestions.length ? `Did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}? ` : ''}Ids look like <source>/<name>; ${surface === 'mcp' ? 'use registry-find' : 'run mcp-registry search <words>'} to look one up.`,
  );
}

/** JSON escapes C0 controls; the rest (C1, separators, bidirectional controls) are spelled as \u escapes too. */
function escapeControls(s: string): string {
  return s.replace(new RegExp(CONTROL_CHARS.source, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
