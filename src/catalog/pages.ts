// The catalog page by page and one entry in full, as registry-list / registry-info and `mcp-registry list` /
// `info` show them (policy's view of entries passed in).
import { z } from 'zod';
import type { Catalog } from './catalog.js';
import { oneLine } from '../model/entry.js';
import { categoryMatches } from '../model/categories.js';
import { ToolError } from '../model/tool-contract.js';
import { quoteInput } from '../util/quote.js';
import { resolveEntry } from './lookups.js';
import { findItem, FindItemSchema, formatInfoText, formatLaunches, infoView, InfoViewSchema, LaunchViewSchema, type CatalogGovernance, type Surface, type ViewHooks } from './views.js';

/** One page of the catalog (registry-list's result). */
export const ListPageSchema = z.object({ entries: z.array(FindItemSchema), nextCursor: z.string().optional(), total: z.number() });
export type ListPage = z.infer<typeof ListPageSchema>;

/** One entry in full (registry-info's result): its view, each launch with its trust, and what is pinned. */
export const EntryInfoSchema = z.looseObject({ ...InfoViewSchema.shape, launches: z.array(LaunchViewSchema).optional(), pins: z.record(z.string(), z.unknown()).optional() });
export type EntryInfo = z.infer<typeof EntryInfoSchema>;

/** One page of the catalog (registry-list and `mcp-registry list`): sorted by id, by source and category. */
export function listPage(
  catalog: Catalog,
  args: { source?: string; category?: string; cursor?: string; limit: number },
  view: { visible: (id: string) => boolean; hooks: ViewHooks },
  surface: Surface,
): { text: string; structured: ListPage } {
  const offset = decodeCursor(args.cursor, surface);
  const all = catalog
    .all()
    .filter((e) => view.visible(e.id))
    .filter((e) => !args.source || e.sources.some((s) => s.source === args.source))
    .filter((e) => !args.category || categoryMatches(e.category, args.category))
    .slice()
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const page = all.slice(offset, offset + args.limit);
  const entries = page.map((e) => findItem(e, 1, view.hooks));
  const next = offset + args.limit < all.length ? encodeCursor(offset + args.limit) : undefined;
  // The CLI's hint is a command line to paste (no full stop after it).
  const more =
    surface === 'mcp'
      ? `call registry-list with cursor "${next}".`
      : `mcp-registry list --cursor ${next}${args.source ? ` --source ${args.source}` : ''}${args.category ? ` --category ${args.category}` : ''}${args.limit !== 50 ? ` --limit ${args.limit}` : ''}`;
  const text = entries.length
    ? `${offset + 1}-${offset + entries.length} of ${all.length}:\n` + entries.map((e) => `${oneLine(e.id)} — ${oneLine(e.name)}`).join('\n') + (next ? `\nMore: ${more}` : '')
    : `No entries${args.source ? ` from source ${args.source}` : ''}${args.category ? ` in category ${args.category}` : ''}.`;
  return { text, structured: { entries, total: all.length, ...(next ? { nextCursor: next } : {}) } };
}

/** Everything about one entry (registry-info and `mcp-registry info`): details fetched once, policy standing, pins. */
export async function entryInfo(
  catalog: Catalog,
  id: string,
  view: { visible: (id: string) => boolean; hooks: ViewHooks; details?: CatalogGovernance['details']; launches?: CatalogGovernance['launches'] },
  surface: Surface,
): Promise<{ text: string; structured: EntryInfo }> {
  const entry = resolveEntry(catalog, id, view.visible, surface);
  const [detailed, pins] = await Promise.all([catalog.withDetail(entry), view.details?.(entry)]);
  const launches = await view.launches?.(detailed);
  const info = infoView(detailed, view.hooks);
  const lines = [formatInfoText(info, surface)];
  if (launches) lines.push(...formatLaunches(launches));
  if (info.trust.warning) lines.push(`⚠ ${info.trust.warning}`);
  if (pins) lines.push(...pins.text);
  return { text: lines.join('\n'), structured: { ...info, ...(launches ? { launches } : {}), ...(pins ? { pins: pins.structured } : {}) } };
}

function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}
function decodeCursor(cursor: string | undefined, surface: Surface): number {
  if (!cursor) return 0;
  const m = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new ToolError(`cursor ${quoteInput(cursor)} is not one ${surface === 'mcp' ? 'registry-list' : 'mcp-registry list'} gave out: omit it to start from the first page.`);
  return Number(m[1]);
}
