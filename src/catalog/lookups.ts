// Looking things up in the catalog the way a user names them: an entry by id or alias (with "did you mean"),
// source names and categories (an unknown one is a mistake to point out, not a filter that finds nothing).
import type { Catalog } from './catalog.js';
import { CONTROL_CHARS, type Entry } from '../model/entry.js';
import { CATEGORIES, knownCategory } from '../model/categories.js';
import type { Surface } from './views.js';
import { ToolError } from '../model/tool-contract.js';
import { closestName } from '../util/edit-distance.js';
import { quoteInput } from '../util/quote.js';

export const CONTROL_PROBLEM = 'contains a control character (a NUL, newline, tab or bidirectional control), which no id holds: pass the id exactly as registry-find shows it, e.g. "docker/postgres"';

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

/** Source names not in config.yaml are an error listing the configured ones (they used to filter out everything). */
export function checkSources(catalog: Pick<Catalog, 'config'>, names: readonly string[]): void {
  const known = catalog.config.sources.map((s) => s.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (!unknown.length) return;
  const near = unknown.length === 1 ? closestName(unknown[0]!, known) : undefined;
  throw new ToolError(
    `Unknown source${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 5).map((n) => quoteInput(n)).join(', ')}${near ? ` (did you mean "${near}"?)` : ''}: the configured sources are ${known.join(', ') || '(none)'}.`,
  );
}

/** A category filter must be a category (or a synonym of one): an unknown word is an error listing them. */
export function checkCategory(word: string | undefined): void {
  if (word === undefined || knownCategory(word)) return;
  const near = closestName(word, CATEGORIES);
  throw new ToolError(`Unknown category ${quoteInput(word)}${near ? ` (did you mean "${near}"?)` : ''}: the categories are ${CATEGORIES.join(', ')}.`);
}
