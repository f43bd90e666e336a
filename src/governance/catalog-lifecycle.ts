/** What a catalog says of an entry's lifecycle (status, envs, sunset, prod_allowed) folded into policy rules. */
import type { Entry } from '../model/entry.js';
import { signatureRefusal } from './launch-signature.js';

/**
 * What a catalog itself says about where an entry may be used — its `status` (active/deprecated/disabled), `envs`,
 * `sunset`, `governance.prodAllowed` and `dataAccess`, and its signature outcome — fed into policy's lifecycle
 * (governance/policy.ts), so the catalog's word and policy.yaml's are enforced by the same code. Policy wins where
 * both speak: a policy rule with a `status` or `sunset` replaces the catalog's status, sunset and message; one with
 * `environments` replaces the catalog's envs.
 */

interface LifeFields {
  status?: 'active' | 'deprecated' | 'disabled';
  sunset?: string;
  message?: string;
  environments?: string[];
}

/** Which of a rule's lifecycle fields came from the catalog (source name), for messages. */
export interface CatalogSays {
  source: string;
  status: boolean;
  environments: boolean;
}

/** The policy rule with the catalog's lifecycle filled in where the rule is silent. */
export function withCatalogLifecycle<R extends LifeFields>(rule: R, entry: Pick<Entry, 'lifecycle' | 'sources'>): R & { catalog?: CatalogSays } {
  const l = entry.lifecycle;
  if (!l) return rule;
  const out: R & { catalog?: CatalogSays } = { ...rule };
  const says: CatalogSays = { source: entry.sources[0]?.source ?? '?', status: false, environments: false };
  if (rule.status === undefined && rule.sunset === undefined) {
    if (l.status !== 'active' || l.sunset) {
      out.status = l.status;
      if (l.sunset) out.sunset = l.sunset;
      if (l.message && rule.message === undefined) out.message = l.message;
      says.status = true;
    }
  }
  if (rule.environments === undefined && l.envs) {
    out.environments = l.envs;
    says.environments = true;
  }
  if (says.status || says.environments) out.catalog = says;
  return out;
}

/** How a message names who said it: the catalog, or policy.yaml's rule. */
export function saidBy(rule: { catalog?: CatalogSays }, field: 'status' | 'environments', policyWhere: string): string {
  return rule.catalog?.[field] ? `by its catalog (source "${rule.catalog.source}")` : policyWhere;
}

/** Hidden and never started in prod when its catalog says `prod_allowed: false`. */
export function prodRefusal(entry: Pick<Entry, 'governance' | 'sources'>, environment: string | undefined): string | undefined {
  if (environment !== 'prod' || entry.governance?.prodAllowed !== false) return undefined;
  return `not allowed in prod by its catalog (source "${entry.sources[0]?.source ?? '?'}", governance prod_allowed: false); this registry runs in "prod" (config.yaml environment)`;
}

/**
 * Why the catalog's own facts keep the entry from starting (listed or not): not allowed in prod, a bad
 * signature, or unsigned under `requireSigned`. Undefined when nothing holds it.
 */
export function catalogRefusal(entry: Pick<Entry, 'id' | 'governance' | 'provenance' | 'sources'>, environment: string | undefined, launchSource: string | undefined, requireSigned: boolean): string | undefined {
  return prodRefusal(entry, environment) ?? signatureRefusal(entry, launchSource, requireSigned);
}

/**
 * The data-access classes policy says need a person's approval (`requireApproval.dataAccess: [pii]`): an entry
 * in one of them is not trusted just for coming from a file source or being Docker-built.
 */
export function approvalNeededFor(entry: Pick<Entry, 'governance'>, dataAccess: readonly string[] | undefined): string | undefined {
  const d = entry.governance?.dataAccess;
  if (!d || !dataAccess?.includes(d)) return undefined;
  return `its catalog says data_access: ${d}, which policy.yaml's requireApproval.dataAccess says needs approval`;
}
