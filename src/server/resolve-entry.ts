import type { Catalog } from '../catalog/catalog.js';
import type { Entry } from '../catalog/entry.js';
import { quoteInput, ToolError } from './tool-def.js';

/** Find an entry by id or alias, or fail with a message that suggests close ids. */
export function resolveEntry(catalog: Catalog, id: string, visible: (id: string) => boolean = () => true): Entry {
  const entry = catalog.get(id);
  if (entry && visible(entry.id)) return entry;
  const suggestions = catalog.suggest(id).filter(visible);
  throw new ToolError(
    `No catalog entry with id ${quoteInput(id)}. ${suggestions.length ? `Did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}? ` : ''}Ids look like <source>/<name>; use registry-find to look one up.`,
  );
}
