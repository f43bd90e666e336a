// The catalog as policy lets this environment see it: which entries are visible and how each stands (trust,
// deprecation), from the policy and the run-time approvals — the one view registry-find/-list/-info, the CLI and
// serve-http use, over the one policy loader (re-read when policy.yaml or the sources' types change).
import type { Entry } from '../model/entry.js';
import type { CatalogGovernance, GovernanceTrust } from '../catalog/views.js';
import { fileStamp } from '../util/file-stamp.js';
import type { StateData } from '../store/state.js';
import type { EntryVisibility, Policy } from './policy.js';
import { policyLoader, type PolicyLoader } from './policy-loader.js';

/** Where the run-time approvals are kept (the state store; a file stamp tells when they changed). */
export interface ApprovalSource {
  readonly file: string;
  read(): Promise<Pick<StateData, 'approvals'>>;
}

export interface CatalogView extends Pick<CatalogGovernance, 'prepare' | 'visible' | 'trust'> {
  /** The approvals as of the last prepare. */
  approvals(): Record<string, unknown>;
  /** Whether an entry is listed here, and as what (deprecated, with its message): what serve-http serves by. */
  visibility(entry: Entry): EntryVisibility;
  /** The policy loader the view reads: `load` to wait for (or fail on) policy.yaml, `watch` to follow its edits. */
  readonly loader: PolicyLoader;
}

/**
 * registry-find, -list and -info under policy: `prepare` (awaited by each) brings policy and approvals up to date
 * (two stat calls when nothing changed); then visibility and trust answer synchronously from that snapshot.
 */
export function catalogView({ policy, state, lookup }: { policy: PolicyLoader; state?: ApprovalSource; lookup: (id: string) => Entry | undefined }): CatalogView {
  let approvals: Record<string, unknown> = {};
  let approvalsKey = '';
  // Visibility per entry object, for the policy object and day it was computed under (sunset dates turn at midnight
  // UTC). Keyed by the entry, not its id: a refresh that changes what the catalog says of an entry (its status, its
  // prod approval) brings a new object, which policy judges afresh.
  let cache: { policy: Policy; day: string; visible: WeakMap<Entry, boolean> } | null = null;
  const current = () => {
    const p = policy.now();
    if (!p) return null;
    const day = new Date().toISOString().slice(0, 10);
    if (!cache || cache.policy !== p || cache.day !== day) cache = { policy: p, day, visible: new WeakMap() };
    return cache;
  };
  return {
    loader: policy,
    async prepare() {
      await Promise.all([
        policy.load().catch(() => {}),
        (async () => {
          if (!state) return;
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
      const entry = lookup(id);
      if (!entry) return true;
      let v = c.visible.get(entry);
      if (v === undefined) {
        v = c.policy.visibility(entry).visible;
        c.visible.set(entry, v);
      }
      return v;
    },
    visibility(entry) {
      const c = current();
      return c ? c.policy.visibility(entry) : { visible: true, status: 'active' };
    },
    trust(entry): GovernanceTrust {
      const p = policy.now();
      if (!p) return { status: 'unknown', reason: `policy.yaml could not be read (${policy.error() ?? 'not loaded yet'}); no server starts until it is fixed` };
      return p.trustView(entry, approvals);
    },
    approvals: () => approvals,
  };
}

/**
 * The view of one registry process (stdio server, CLI command or serve-http) over policy.yaml in `environment`:
 * the sources' types are read at each check (config.yaml may add a source while it runs; a source's type decides
 * the default trust). `state`: where run-time approvals are kept (serve-http serves an organisation's catalog: none).
 */
export function governedCatalog(opts: {
  policyFile: string;
  sources: () => readonly { name: string; type: string }[];
  environment: string | undefined;
  state?: ApprovalSource;
  lookup: (id: string) => Entry | undefined;
}): CatalogView {
  const policy = policyLoader(opts.policyFile, () => Object.fromEntries(opts.sources().map((s) => [s.name, s.type])), opts.environment);
  return catalogView({ policy, ...(opts.state ? { state: opts.state } : {}), lookup: opts.lookup });
}
