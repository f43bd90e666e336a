/**
 * Self-contained list cursors. VS Code appends the cursor to the URL unencoded and drops `search` on later pages,
 * so the cursor carries the position (last name and version served) and the filters of the first request, as
 * unpadded base64url (only `[A-Za-z0-9_-]`: nothing to encode, nothing a proxy rewrites). The official registry's
 * plain `name:version` form is accepted too (a `:` never occurs in base64url, so the two cannot be confused).
 */

export interface ListFilters {
  /** Lower-cased substring to find in name, title or description. */
  search?: string;
  /** `latest`, or an exact version. */
  version?: string;
  /** RFC 3339 as given by the client. */
  updatedSince?: string;
  includeDeleted?: boolean;
}

export interface CursorPosition {
  name: string;
  version: string;
}

export interface DecodedCursor {
  after: CursorPosition;
  /** Absent for the official `name:version` form. */
  filters?: ListFilters;
}

const FORMAT = 1;

export function encodeCursor(after: CursorPosition, f: ListFilters): string {
  const parts: unknown[] = [FORMAT, after.name, after.version, f.search ?? null, f.version ?? null, f.updatedSince ?? null, f.includeDeleted ? 1 : 0];
  while (parts.length > 3 && (parts.at(-1) === null || parts.at(-1) === 0)) parts.pop();
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

const optStr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Undefined when the cursor is not one of ours nor `name:version`. */
export function decodeCursor(raw: string): DecodedCursor | undefined {
  if (!raw) return undefined;
  if (raw.includes(':')) {
    // `name:version`; names never contain `:`. A `+` of a build suffix arrives as a space when sent unencoded.
    const i = raw.indexOf(':');
    const name = raw.slice(0, i);
    const version = raw.slice(i + 1).replace(/ /g, '+');
    return name && version ? { after: { name, version } } : undefined;
  }
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) return undefined;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts) || parts[0] !== FORMAT || typeof parts[1] !== 'string' || typeof parts[2] !== 'string') return undefined;
  const filters: ListFilters = {};
  const search = optStr(parts[3]);
  const version = optStr(parts[4]);
  const updatedSince = optStr(parts[5]);
  if (search !== undefined) filters.search = search;
  if (version !== undefined) filters.version = version;
  if (updatedSince !== undefined) filters.updatedSince = updatedSince;
  if (parts[6] === 1) filters.includeDeleted = true;
  return { after: { name: parts[1], version: parts[2] }, filters };
}
