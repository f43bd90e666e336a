import type { Entry } from '../catalog/entry.js';

/**
 * What a catalog itself says about where an entry may be used: its `status` (active/deprecated/disabled), `envs`,
 * `sunset`, `governance.prodAllowed`, and its signature outcome. Policy (policy.yaml) wins where both speak; this is
 * the catalog's half, for the lifecycle and for `export` (only what may run reaches the clients' allowlists).
 */
export interface CatalogStanding {
  /** Listed here at all (false: disabled, past its sunset, not for this environment, or not allowed in prod). */
  visible: boolean;
  /** May start (a visible entry with a bad signature is shown, never started). */
  startable: boolean;
  reason?: string;
  /** Deprecated: with its sunset date and the catalog's message. */
  warning?: string;
}

export function catalogStanding(e: Pick<Entry, 'id' | 'lifecycle' | 'governance' | 'provenance'>, environment: string | undefined, now = Date.now()): CatalogStanding {
  const l = e.lifecycle;
  const msg = l?.message ? `: ${l.message}` : '';
  if (l?.status === 'disabled') return { visible: false, startable: false, reason: `${e.id} is disabled by its catalog${msg}` };
  if (l?.sunset && now >= Date.parse(`${l.sunset}T00:00:00Z`) + 86_400_000) return { visible: false, startable: false, reason: `${e.id} is past its sunset date ${l.sunset} (its catalog)${msg}` };
  if (l?.envs && !(environment && l.envs.includes(environment))) {
    return { visible: false, startable: false, reason: `${e.id} is listed by its catalog for ${l.envs.join(', ')} only; this registry runs in "${environment ?? 'unset'}" (config.yaml environment)` };
  }
  if (environment === 'prod' && e.governance?.prodAllowed === false) return { visible: false, startable: false, reason: `${e.id} is not allowed in prod by its catalog (governance prod_allowed: false)` };
  const warning = l?.status === 'deprecated' || l?.sunset ? `${e.id} is deprecated by its catalog${msg}${l?.sunset ? ` (available until ${l.sunset})` : ''}` : undefined;
  if (e.provenance?.signature === 'bad') return { visible: true, startable: false, reason: `${e.id}: ${e.provenance.reason ?? 'its signature does not verify'}`, ...(warning ? { warning } : {}) };
  return { visible: true, startable: true, ...(warning ? { warning } : {}) };
}
