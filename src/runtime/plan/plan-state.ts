/** The state of one launch plan being built: settings with defaults, secrets, rendering, and what is still missing. */
import type { ErrorObject } from 'ajv';
import type { Entry, HeaderSpec, SecretSpec } from '../../model/entry.js';
import { compileSchema, leaves, parametersSchema, settingSchema, unusableValue } from '../settings.js';
import { renderTemplateDetailed, type RenderOptions, type TemplateContext } from '../templates.js';
import type { MissingItem, PlanInput, PlanResult } from '../launch-plan.js';

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON of a config-set call; `values` keys in the order given. */
export function configSetCall(id: string, values: Record<string, unknown>): string {
  return `registry-config-set ${JSON.stringify({ id, values })}`;
}

export class PlanError extends Error {
  constructor(
    message: string,
    /** Refused by the mount and user rules (policy.yaml can allow it), not broken. */
    readonly refused = false,
  ) {
    super(message);
  }
}

/**
 * What every kind of plan shares: the settings (schema defaults filled, blanks removed) and secrets it renders
 * templates against, each secret value used (for redaction), and the missing items it reports all at once.
 * container-plan.ts and remote-plan.ts build on it.
 */
export class PlanState {
  protected readonly missing: MissingItem[] = [];
  protected readonly missingKeys = new Set<string>();
  protected readonly settings: Obj;
  protected readonly ctx: TemplateContext;
  protected readonly secretsByEnv = new Map<string, SecretSpec>();
  protected readonly usedSecretValues = new Set<string>();
  /** The settings as the user stored them, before schema defaults: what they chose themselves. */
  protected readonly userSettings: Obj;

  constructor(
    protected readonly entry: Entry,
    protected readonly input: PlanInput,
  ) {
    this.settings = withoutEmpty(structuredClone(input.settings ?? {})) as Obj;
    this.userSettings = structuredClone(this.settings);
    const secretCtx: Record<string, string> = {};
    for (const s of entry.config.secrets) {
      if (!this.secretsByEnv.has(s.env)) this.secretsByEnv.set(s.env, s);
      // Declared but absent secrets render empty (so an optional one's env var is omitted), unknown `$X` stay literal.
      const v = input.secrets?.[s.name];
      if (v) secretCtx[s.env] = v;
      else if (!(s.env in secretCtx)) secretCtx[s.env] = '';
    }
    this.ctx = { server: entry.nativeName, settings: this.settings, secrets: secretCtx };
  }

  /** A placeholder that rendered empty: a secret (by env or name) or a setting. */
  protected addMissingRef(name: string, variable?: Obj, header?: HeaderSpec): void {
    const secret = this.secretsByEnv.get(name) ?? this.entry.config.secrets.find((s) => s.name === name);
    if (secret) this.addMissingSecret(secret);
    else this.addMissingSetting(name, str(variable?.description) ?? header?.description);
  }

  // ---- settings ------------------------------------------------------------------------------------

  /**
   * Stored values no command line, environment or header can carry (a NUL character, a string past Linux's limit),
   * written by hand or by an older version, are asked for again by name instead of failing the start in podman.
   */
  protected checkStoredValues(): void {
    for (const [path, v] of leaves(this.settings)) {
      const why = unusableValue(v);
      if (why) this.addMissingSetting(path, `the stored value ${why}; set it again`, true);
    }
    for (const s of this.entry.config.secrets) {
      const v = this.input.secrets?.[s.name];
      const why = v ? unusableValue(v) : undefined;
      if (why) this.addMissingSecret(s, `the stored secret ${why}; set it again`);
    }
  }

  /**
   * Fill schema defaults into the settings and validate them: missing required ones (including "one of" groups)
   * and stored values the schema no longer accepts become missing items. `report=false` only fills defaults
   * (a remote endpoint reads just the settings its URL and headers name).
   */
  protected applyParameterDefaults(report = true): void {
    const schema = parametersSchema(this.entry);
    if (!schema) return;
    const validate = compileSchema(schema);
    if (validate instanceof Error) return;
    if (validate(this.settings) || !report) return;
    const errors = validate.errors ?? [];
    const groups = new Map<string, string[]>();
    for (const e of errors) {
      const base = pointerToPath(e.instancePath);
      if (/\/(anyOf|oneOf)\//.test(e.schemaPath)) {
        if (e.keyword === 'required') {
          const key = `${base}|${e.schemaPath.replace(/\/(anyOf|oneOf)\/\d+\/.*$/, '')}`;
          const list = groups.get(key) ?? [];
          list.push(joinPath(base, missingProperty(e)));
          groups.set(key, list);
        }
        continue;
      }
      if (e.keyword === 'anyOf' || e.keyword === 'oneOf') continue;
      if (e.keyword === 'required') {
        const name = joinPath(base, missingProperty(e));
        this.addMissingSetting(name, str(settingSchema(this.entry, name.split('.'))?.description));
      } else {
        this.addMissingSetting(base || '(settings)', `the stored value ${describeAjv(e)}; set it again`, true);
      }
    }
    for (const names of groups.values()) {
      const unique = [...new Set(names)];
      const leaves = unique.map((n) => requiredLeaf(this.entry, n));
      this.push({
        name: leaves.join(' or '),
        kind: 'setting',
        description: `set at least one of: ${leaves.join(', ')}`,
        how: configSetCall(this.entry.id, { [leaves[0]!]: placeholderFor(settingSchema(this.entry, leaves[0]!.split('.'))) }),
      });
    }
  }

  protected addMissingSetting(name: string, description?: string, exact = false): void {
    const leaf = exact ? name : requiredLeaf(this.entry, name);
    const choices = settingSchema(this.entry, leaf.split('.'))?.enum;
    if (Array.isArray(choices) && choices.length) {
      description = `${description ? `${description}; ` : ''}one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`;
    }
    this.push({
      name: leaf,
      kind: 'setting',
      ...(description ? { description } : {}),
      how: configSetCall(this.entry.id, { [leaf]: placeholderFor(settingSchema(this.entry, leaf.split('.'))) }),
    });
  }

  protected addMissingSecret(s: SecretSpec, why?: string): void {
    const description = why ?? s.description;
    this.push({
      name: s.name,
      kind: 'secret',
      env: s.env,
      ...(description ? { description } : {}),
      how: configSetCall(this.entry.id, { [s.name]: '…' }),
    });
  }

  protected push(item: MissingItem): void {
    const key = `${item.kind}:${item.name}`;
    if (this.missingKeys.has(key)) return;
    this.missingKeys.add(key);
    this.missing.push(item);
  }

  protected missingResult(): PlanResult {
    const all: Record<string, unknown> = {};
    for (const m of this.missing) Object.assign(all, (JSON.parse(m.how.slice(m.how.indexOf('{'))) as { values: Obj }).values);
    const list = this.missing.map((m) => `${m.name} (${m.kind === 'secret' ? `secret, env ${m.env}` : 'setting'}${m.description ? `: ${oneLine(m.description)}` : ''})`);
    return {
      ok: false,
      missing: this.missing,
      message:
        `${this.entry.id} needs ${this.missing.length === 1 ? 'one more value' : `${this.missing.length} more values`} before it can start: ${list.join('; ')}. ` +
        `Provide ${this.missing.length === 1 ? 'it' : 'them (all at once is fine)'} with ${configSetCall(this.entry.id, all)}`,
    };
  }

  /** Render against the entry's settings and secrets, remembering every secret value used (for redaction). */
  protected render(tpl: string, opts: RenderOptions = {}) {
    const r = renderTemplateDetailed(tpl, this.ctx, opts);
    for (const env of r.secrets) this.usedSecretValues.add(this.ctx.secrets[env]!);
    return r;
  }
}

// ---- helpers ---------------------------------------------------------------------------------------

export function isBlank(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

/** Empty strings and lists mean "not set" (so a required setting left blank is reported, and defaults apply). */
function withoutEmpty(v: unknown): unknown {
  if (!isObj(v)) return v;
  for (const [k, x] of Object.entries(v)) {
    if (isBlank(x)) delete v[k];
    else if (isObj(x)) withoutEmpty(x);
  }
  return v;
}

function pointerToPath(p: string): string {
  return p
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function joinPath(base: string, name: string): string {
  return base ? `${base}.${name}` : name;
}

function missingProperty(e: ErrorObject): string {
  return String((e.params as { missingProperty?: unknown }).missingProperty ?? '');
}

function describeAjv(e: ErrorObject): string {
  if (e.keyword === 'enum') return `must be one of ${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).map((x) => JSON.stringify(x)).join(', ')}`;
  return e.message ?? 'is invalid';
}

export function requiredTopLevel(schema: Obj | undefined): string[] {
  return Array.isArray(schema?.required) ? (schema!.required as unknown[]).filter((x): x is string => typeof x === 'string') : [];
}

/** A missing object-typed setting is asked for by its first required (else first) leaf: "confluence" → "confluence.url". */
function requiredLeaf(entry: Entry, name: string): string {
  let path = name;
  for (let depth = 0; depth < 5; depth++) {
    const s = settingSchema(entry, path.split('.'));
    const next = requiredTopLevel(s)[0] ?? (isObj(s?.properties) ? Object.keys(s!.properties as Obj)[0] : undefined);
    if (!s || !next) break;
    path = `${path}.${next}`;
  }
  return path;
}

function placeholderFor(schema: Obj | undefined): unknown {
  if (Array.isArray(schema?.enum) && schema!.enum.length) return schema!.enum[0];
  if (schema?.type === 'array') return ['…'];
  if (schema?.type === 'boolean') return true;
  return '…';
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 160 ? t.slice(0, 159) + '…' : t;
}
