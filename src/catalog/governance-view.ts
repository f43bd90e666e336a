/** An entry's governance facts as find/list show them: the shown fields, one-line marks, the governance filter. */
import { z } from 'zod';
import { GovernanceSchema, type Entry } from '../model/entry.js';

/**
 * The governance facts registry-find and registry-list show per result (owner, approver, risk, data access, review
 * date, prod), and the filter registry-find takes on them. The whole record is in registry-info (entry.governance).
 */

const SHOWN = { owner: true, approvedBy: true, approvedAt: true, risk: true, dataAccess: true, reviewedAt: true, prodAllowed: true } as const;
export const FindGovernanceSchema = GovernanceSchema.pick(SHOWN);
export type FindGovernance = z.infer<typeof FindGovernanceSchema>;

export function findGovernance(entry: Pick<Entry, 'governance'>): FindGovernance | undefined {
  const g = entry.governance;
  if (!g) return undefined;
  const out: FindGovernance = {};
  for (const k of Object.keys(SHOWN) as (keyof typeof SHOWN)[]) {
    if (g[k] !== undefined) (out as Record<string, unknown>)[k] = g[k];
  }
  return Object.keys(out).length ? out : undefined;
}

/** One line for a text listing: "signature verified; owner payments-platform; risk high; data pii". */
export function governanceMarks(it: { signature?: string; governance?: FindGovernance }): string {
  const g = it.governance ?? {};
  return [
    it.signature && `signature ${it.signature}`,
    g.owner && `owner ${g.owner}`,
    g.approvedBy && `approved by ${g.approvedBy}${g.approvedAt ? ` on ${g.approvedAt}` : ''}`,
    g.risk && `risk ${g.risk}`,
    g.dataAccess && `data access ${g.dataAccess}`,
    g.reviewedAt && `reviewed ${g.reviewedAt}`,
  ]
    .filter(Boolean)
    .join('; ');
}

/** registry-find's `governance` filter: every key given must match (case-insensitively; `approved: true` = has an approver). */
export const GovernanceFilterSchema = z
  .strictObject({
    owner: z.string().min(1).max(200).optional(),
    approvedBy: z.string().min(1).max(200).optional(),
    approved: z.boolean().optional().describe('true: only entries whose catalog names an approver'),
    risk: z.string().min(1).max(50).optional(),
    dataAccess: z.enum(['none', 'restricted', 'pii']).optional(),
    prodAllowed: z.boolean().optional(),
    signature: z.enum(['verified', 'unsigned', 'bad']).optional(),
    reviewedSince: z.string().regex(/^\d{4}-\d{2}-\d{2}/, 'reviewedSince is a date such as 2026-01-31').optional(),
  })
  .describe('only entries whose catalog governance matches, e.g. {"dataAccess": "pii"}, {"owner": "payments-platform"}, {"signature": "verified"}');
export type GovernanceFilter = z.infer<typeof GovernanceFilterSchema>;

export function matchesGovernance(entry: Pick<Entry, 'governance' | 'provenance'>, f: GovernanceFilter | undefined): boolean {
  if (!f) return true;
  const g = entry.governance ?? {};
  const same = (a: string | undefined, b: string | undefined) => b === undefined || (a !== undefined && a.toLowerCase() === b.toLowerCase());
  if (!same(g.owner, f.owner) || !same(g.approvedBy, f.approvedBy) || !same(g.risk, f.risk) || !same(g.dataAccess, f.dataAccess)) return false;
  if (f.approved !== undefined && !!g.approvedBy !== f.approved) return false;
  if (f.prodAllowed !== undefined && g.prodAllowed !== f.prodAllowed) return false;
  if (f.signature !== undefined && (entry.provenance?.signature ?? 'unsigned') !== f.signature) return false;
  const reviewed = g.reviewedAt ?? g.approvedAt;
  if (f.reviewedSince !== undefined && !(reviewed && reviewed >= f.reviewedSince)) return false;
  return true;
}
