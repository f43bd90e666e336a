// The catalog as policy lets this environment see it: which entries are visible and how each stands (trust,
// deprecation), from the policy and the run-time approvals — the one view registry-find/-list/-info and the CLI use.
import type { Entry } from '../model/entry.js';
import type { CatalogGovernance, GovernanceTrust } from '../catalog/views.js';
import { fileStamp } from '../util/file-stamp.js';
import type { StateData } from '../store/state.js';
import type { Policy } from './policy.js';
import type { PolicyLoader } from './policy-loader.js';

/** Where the run-time approvals are kept (the state store; a file stamp tells when they changed). */
export interface ApprovalSource {
  readonly file: string;
  read(): Promise<Pick<StateData, 'approvals'>>;
}

export interface CatalogView extends Pick<CatalogGovernance, 'prepare' | 'visible' | 'trust'> {
  /** The approvals as of the last prepare. */
  approvals(): Record<string, unknown>;
}

/**
 * registry-find, -list and -info under policy: `prepare` (awaited by each) brings policy and approvals up to date
 * (two stat calls when nothing changed); then visibility and trust answer synchronously from that snapshot.
 */
export function catalogView({ policy, state, lookup }: { policy: PolicyLoader; state: ApprovalSource; lookup: (id: string) => Entry | undefined }): CatalogView {
  let approvals: Record<string, unknown> = {};
  let approvalsKey = '';
  // Visibility per id, for the policy object and day it was computed under (sunset dates turn at midnight UTC).
  let cache: { policy: Policy; day: string; visible: Map<string, boolean> } | null = null;
  const current = () => {
    const p = policy.now();
    if (!p) return null;
    const day = new Date().toISOString().slice(0, 10);
    if (!cache || cache.policy !== p || cache.day !== day) cache = { policy: p, day, visible: new Map() };
    return cache;
  };
  return {
    async prepare() {
      await Promise.all([
        policy.load().catch(() => {}),
        (async () => {
          const key = await fileStamp(state.file);
          if (key === approvalsKey) return;
          approvals = (await state.read()).approvals;
          approvalsKey = key;
        })().catch(() => {}),
      ]);
    },
    visible(id) {
      const c = current();
      if (!c) return true;
      let v = c.visible.get(id);
      if (v === undefined) {
        const entry = lookup(id);
        v = entry ? c.policy.visibility(entry).visible : true;
        c.visible.set(id, v);
      }
      return v;
    },
    trust(entry): GovernanceTrust {
      const p = policy.now();
      if (!p) return { status: 'unknown', reason: `policy.yaml could not be read (${policy.error() ?? 'not loaded yet'}); no server starts until it is fixed` };
      return p.trustView(entry, approvals);
    },
    approvals: () => approvals,
  };
}
