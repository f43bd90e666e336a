/** A remote endpoint's plan: its URL and headers rendered, secret headers marked, what is missing reported. */
import type { HeaderSpec, RemoteLaunch } from '../../model/entry.js';
import { parametersSchema } from '../settings.js';
import type { LaunchPlan, PlanResult } from '../launch-plan.js';
import { PlanState, requiredTopLevel } from './plan-state.js';

export class RemotePlanner extends PlanState {
  remote(launch: RemoteLaunch): PlanResult {
    const { entry } = this;
    this.checkStoredValues();
    this.applyParameterDefaults(false);
    const url = this.render(launch.url, { singleBrace: true, encode: encodeURIComponent });
    for (const m of url.missing) this.addMissingRef(m, launch.variables?.[m]);
    const headers: Record<string, string> = {};
    const secretHeaders: string[] = [];
    for (const h of launch.headers ?? []) {
      const tpl = h.value ?? (h.secret ? undefined : `{${h.name}}`);
      if (tpl === undefined) continue;
      const r = this.render(tpl, { singleBrace: true });
      if (r.missing.length || r.value === undefined) {
        // A header with a hole is worse than none: send it whole or not at all.
        if (this.headerRequired(h, r.missing)) for (const m of r.missing) this.addMissingRef(m, undefined, h);
        continue;
      }
      const value = Array.isArray(r.value) ? r.value.join(',') : r.value;
      headers[h.name] = value;
      if (h.secret || r.secrets.length) {
        secretHeaders.push(h.name);
        this.usedSecretValues.add(value);
      }
    }
    if (this.missing.length) return this.missingResult();
    if (typeof url.value !== 'string') return { ok: false, missing: [], message: `not runnable: ${entry.id} has an empty remote URL` };
    const plan: LaunchPlan = {
      kind: 'remote',
      entryId: entry.id,
      url: url.value,
      transport: launch.transport,
      headers,
      ...(secretHeaders.length ? { secretHeaders } : {}),
    };
    return { ok: true, plan, secretValues: [...this.usedSecretValues].filter(Boolean) };
  }

  private headerRequired(h: HeaderSpec, missing: string[]): boolean {
    if (h.required) return true;
    return missing.some((m) => {
      const secret = this.secretsByEnv.get(m) ?? this.entry.config.secrets.find((s) => s.name === m);
      if (secret) return secret.required;
      return requiredTopLevel(parametersSchema(this.entry)).includes(m);
    });
  }
}
