/** A server.json package's arguments in a container plan: package and runtime arguments, and the docker flags honoured. */
import { argumentSettingName } from '../settings.js';
import { MountRules } from './mount-rules.js';
import { isBlank, isObj, PlanError, str, type Obj } from './plan-state.js';

/** `docker run` flags of OCI packages that are honoured; anything else (--privileged, --network …) is dropped. */
const RUNTIME_FLAGS = new Set(['-e', '--env', '-v', '--volume', '--mount']);

export class PackageArgs extends MountRules {
  // ---- OCI packages (server.json) -----------------------------------------------------------------

  /**
   * The value(s) of one server.json argument. A fixed `value` has its `{var}` placeholders filled from settings;
   * secrets may only go into an environment variable (`-e NAME={secret}`, then `secret` is true), never into a
   * command-line argument.
   */
  protected argumentValue(a: Obj, allowSecrets = false): { values: string[]; secret: boolean } {
    if (typeof a.value === 'string') {
      const secretNames = new Map(this.entry.config.secrets.map((s) => [s.name, s.env]));
      // `{token}` naming a secret becomes `${TOKEN}`, which the renderer reads from the secrets.
      const tpl = a.value.replace(/\{([A-Za-z0-9_.-]+)\}/g, (m, k: string) => (secretNames.has(k) ? `\${${secretNames.get(k)}}` : m));
      const r = this.render(tpl, { singleBrace: true });
      const usesSecret = r.secrets.length > 0 || tpl !== a.value;
      if (usesSecret && !allowSecrets) throw new PlanError(`puts a secret into a command-line argument (${JSON.stringify(a.value)}), where it would be visible; this is refused`);
      const vars = isObj(a.variables) ? a.variables : {};
      for (const m of r.missing) {
        const v = isObj(vars[m]) ? (vars[m] as Obj) : undefined;
        if (a.isRequired === true || v?.isRequired === true) this.addMissingRef(m, v);
      }
      if (r.missing.length || r.value === undefined) return { values: [], secret: false };
      return { values: Array.isArray(r.value) ? r.value : [r.value], secret: r.secrets.length > 0 };
    }
    const name = argumentSettingName(a);
    let v: unknown = name !== undefined ? this.settings[name] : undefined;
    if (isBlank(v) && a.default !== undefined) v = a.default;
    if (isBlank(v)) {
      if (a.isRequired === true && name) this.addMissingSetting(name, str(a.description));
      return { values: [], secret: false };
    }
    const list = Array.isArray(v) ? v.map(String) : [String(v)];
    return { values: a.isRepeated === true ? list : [list.join(',')], secret: false };
  }

  protected renderPackageArgs(args: Obj[], where: string): string[] {
    const out: string[] = [];
    for (const a of args) {
      const { values } = this.argumentValue(a);
      if (a.type === 'named' && typeof a.name === 'string') {
        for (const v of values) out.push(a.name, v);
      } else if (a.type === 'positional') out.push(...values);
      else throw new PlanError(`has an argument of unknown type ${JSON.stringify(a.type)} in ${where}`);
    }
    return out;
  }

  /** `docker run` flags of an OCI package: env and bind mounts are honoured, anything else is left out and said. */
  protected applyRuntimeArgs(args: Obj[], put: (n: string, v: string, secret: boolean) => void, volumes: string[], warnings: string[]): void {
    for (const a of args) {
      const flag = typeof a.name === 'string' ? a.name : undefined;
      if (a.type !== 'named' || !flag) {
        warnings.push(`runtime argument ${JSON.stringify(a.value ?? a.valueHint ?? a.name ?? a.type)} left out (only -e/--env, -v/--volume and --mount are used)`);
        continue;
      }
      if (!RUNTIME_FLAGS.has(flag)) {
        warnings.push(`runtime argument ${flag} left out (only -e/--env, -v/--volume and --mount are used)`);
        continue;
      }
      const isEnv = flag === '-e' || flag === '--env';
      const { values, secret } = this.argumentValue(a, isEnv);
      for (const v of values) {
        if (isEnv) {
          const eq = v.indexOf('=');
          if (eq > 0) put(v.slice(0, eq), v.slice(eq + 1), secret);
        } else if (flag === '-v' || flag === '--volume') {
          volumes.push(...this.checkedVolumes(v, a));
        } else if (flag === '--mount') {
          const m = parseMount(v);
          if (m) volumes.push(...this.checkedVolumes(m, a));
          else warnings.push(`runtime argument --mount ${v} left out (only type=bind mounts with src and dst are used)`);
        }
      }
    }
  }

  protected checkedVolumes(spec: string, a: Obj): string[] {
    const params =
      typeof a.value === 'string' ? [...a.value.matchAll(/\{([A-Za-z0-9_.-]+)\}/g)].map((m) => m[1]!) : [argumentSettingName(a)].filter((n): n is string => !!n);
    return this.checkVolume(spec, params);
  }
}

/** `type=bind,src=/a,dst=/b[,readonly]` → `/a:/b[:ro]`; other mount types are not supported. */
function parseMount(v: string): string | undefined {
  const kv = new Map<string, string>();
  for (const part of v.split(',')) {
    const [k, ...rest] = part.split('=');
    kv.set(k!.trim(), rest.join('=').trim());
  }
  if ((kv.get('type') ?? 'bind') !== 'bind') return undefined;
  const src = kv.get('src') ?? kv.get('source');
  const dst = kv.get('dst') ?? kv.get('target') ?? kv.get('destination');
  if (!src || !dst) return undefined;
  const ro = kv.has('readonly') || kv.has('ro') ? ':ro' : '';
  return `${src}:${dst}${ro}`;
}
