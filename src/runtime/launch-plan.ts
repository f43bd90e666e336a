/** Planning a start: entry + settings + secrets into a hardened container or remote endpoint, or what is missing. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute } from 'node:path';
import type { ErrorObject } from 'ajv';
import type { ContainerSpec } from './podman/podman.js';
import type { Entry, EnvSpec, HeaderSpec, Launch, PackageLaunch, RemoteLaunch, SecretSpec } from '../model/entry.js';
import { ImageRefError, isImageId, qualifyImageRef } from '../model/image-ref.js';
import { launchSourceOf, pickLaunch, sourceIdOf } from '../model/launch-choice.js';
import { normalizeHostPath, protectedHostPath } from './host-mounts.js';
import { argumentSettingName, compileSchema, kib, leaves, MAX_ARG_STRLEN, parametersSchema, settingSchema, unusableValue } from './settings.js';
import type { LaunchOverrides } from '../governance/policy.js';
import { renderTemplateDetailed, templateSettings, TemplateError, type RenderOptions, type TemplateContext } from './templates.js';

/**
 * Turns a catalog entry plus the user's settings and secrets into exactly what to start: a hardened container
 * (image, command, env, secret env, volumes, limits) or a remote endpoint (URL, headers). Pure apart from checking
 * that host paths to be mounted exist. Everything the user still has to provide is reported at once, each item with
 * the exact `registry-config-set` call that provides it.
 */

export interface MissingItem {
  name: string;
  kind: 'setting' | 'secret';
  env?: string;
  description?: string;
  /** The exact registry-config-set call that provides it. */
  how: string;
}

/** One mount of a planned container, as registry-info shows it before a start. */
export interface MountView {
  /** The host path, for a bind mount. */
  host?: string;
  /** The podman volume, for a named volume. */
  volume?: string;
  container: string;
  mode: 'ro' | 'rw';
  /** Why it may be mounted: a path the user set, an exact grant in policy.yaml, or the server's own named volume. */
  origin: 'setting' | 'policy' | 'volume';
}

export type LaunchPlan =
  | (Pick<ContainerSpec, 'image' | 'command' | 'env' | 'secretEnv' | 'user' | 'network' | 'readOnly' | 'memory' | 'cpus' | 'pidsLimit'> & {
      kind: 'container';
      entryId: string;
      volumes: string[];
      /** The same mounts as `volumes`, described. */
      mounts: MountView[];
      /** Hosts the catalog says the server needs (informational; egress filtering is not enforced here). */
      allowHosts?: string[];
      /** Parts of the entry that were left out (e.g. unsupported runtime arguments). */
      warnings?: string[];
    })
  | {
      kind: 'remote';
      entryId: string;
      url: string;
      transport: 'streamable-http' | 'sse';
      headers: Record<string, string>;
      /** Names of headers whose values came from secrets: never log them. */
      secretHeaders?: string[];
    };

export type PlanResult =
  | { ok: true; plan: LaunchPlan; secretValues: string[] }
  /** `refused`: the entry asks for something only policy.yaml can allow (a host mount, root), not a missing value. */
  | { ok: false; missing: MissingItem[]; message: string; refused?: boolean };

export interface PlanInput {
  settings: Record<string, unknown>;
  /** Secret values keyed by the secret's `name` (as SecretStore keeps them). */
  secrets: Record<string, string>;
  defaults: { memory: string; cpus: string; pidsLimit: number };
  overrides?: LaunchOverrides;
  /** Host home directory for `$HOME` / `~` in mounted paths (defaults to the current user's). */
  home?: string;
  /** Check that host paths to be mounted exist, reporting the setting to fix when not (default true). */
  checkPaths?: boolean;
}

/** `docker run` flags of OCI packages that are honoured; anything else (--privileged, --network …) is dropped. */
const RUNTIME_FLAGS = new Set(['-e', '--env', '-v', '--volume', '--mount']);

/**
 * The environment and arguments of one container together at most: they share Linux's ARG_MAX (2 MiB with the usual
 * 8 MiB stack) with podman's own flags and the host environment podman is given.
 */
export const MAX_PLAN_BYTES = 1024 * 1024;

/** The user containers run as unless the entry or policy says otherwise: `nobody`. */
export const DEFAULT_USER = '65534:65534';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON of a config-set call; `values` keys in the order given. */
export function configSetCall(id: string, values: Record<string, unknown>): string {
  return `registry-config-set ${JSON.stringify({ id, values })}`;
}

/**
 * Which launch option to use (launch-choice.ts decides): the first source with a runnable launch, within it a
 * container image first, then an OCI package, then a remote endpoint. planLaunch is given the chosen launch's view
 * of the entry (launchEntry), so here there is one source to choose from.
 */
export function chooseLaunch(entry: Pick<Entry, 'id' | 'launch' | 'sources' | 'config' | 'configs'>): { launch: Launch } | { reason: string } {
  const pick = pickLaunch(entry);
  return pick.ok ? { launch: pick.choice.launch } : { reason: pick.reason };
}

export function planLaunch(entry: Entry, input: PlanInput): PlanResult {
  const chosen = chooseLaunch(entry);
  if ('reason' in chosen) return { ok: false, missing: [], message: chosen.reason };
  try {
    const b = new PlanBuilder(entry, input);
    return chosen.launch.type === 'remote' ? b.remote(chosen.launch) : b.container(chosen.launch as Extract<Launch, { type: 'image' | 'package' }>);
  } catch (err) {
    if (err instanceof PlanError && err.refused) return { ok: false, missing: [], message: `${entry.id} was not started: ${err.message}`, refused: true };
    if (err instanceof TemplateError || err instanceof PlanError) return { ok: false, missing: [], message: `not runnable: ${entry.id} ${err.message}` };
    throw err;
  }
}

class PlanError extends Error {
  constructor(
    message: string,
    /** Refused by the mount and user rules (policy.yaml can allow it), not broken. */
    readonly refused = false,
  ) {
    super(message);
  }
}

class PlanBuilder {
  private readonly missing: MissingItem[] = [];
  private readonly missingKeys = new Set<string>();
  private readonly settings: Obj;
  private readonly ctx: TemplateContext;
  private readonly secretsByEnv = new Map<string, SecretSpec>();
  private readonly usedSecretValues = new Set<string>();
  /** The settings as the user stored them, before schema defaults: what they chose themselves. */
  private readonly userSettings: Obj;
  private readonly mountViews: MountView[] = [];
  private readonly mountWarnings: string[] = [];

  constructor(
    private readonly entry: Entry,
    private readonly input: PlanInput,
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

  // ---- containers ----------------------------------------------------------------------------------

  container(launch: Extract<Launch, { type: 'image' | 'package' }>): PlanResult {
    const { entry, input } = this;
    this.checkStoredValues();
    this.applyParameterDefaults();
    for (const s of entry.config.secrets) if (s.required && !input.secrets?.[s.name]) this.addMissingSecret(s);
    for (const e of entry.config.env) {
      if (e.value === undefined && e.required && e.default === undefined && isBlank(this.settings[e.name])) this.addMissingSetting(e.name, e.description);
    }

    const env: Record<string, string> = {};
    const secretEnv: Record<string, string> = {};
    const put = (name: string, value: string, secret: boolean) => {
      delete env[name];
      delete secretEnv[name];
      (secret ? secretEnv : env)[name] = value;
    };
    for (const s of entry.config.secrets) {
      const v = input.secrets?.[s.name];
      // server.json: a secret environment variable has name === env; other secrets are argument/header variables
      // (synthetic env names) that reach the container only where an argument places them.
      if (launch.type === 'package' && s.name !== s.env) continue;
      if (v) {
        put(s.env, v, true);
        this.usedSecretValues.add(v);
      }
    }
    for (const e of entry.config.env) this.renderEnv(e.name, envTemplate(e), e, put);
    const warnings: string[] = [];
    let image: string;
    let command: string[] | undefined;
    const volumes: string[] = [];
    let user: string | undefined;
    let network: 'none' | 'default' = 'default';
    let allowHosts: string[] | undefined;

    if (launch.type === 'image') {
      image = launch.image;
      for (const [name, tpl] of Object.entries(launch.env ?? {})) this.renderEnv(name, tpl, undefined, put);
      if (launch.command) command = this.renderArgs(launch.command, 'run.command');
      for (const tpl of launch.volumes ?? []) volumes.push(...this.renderVolume(tpl));
      if (launch.user) {
        const r = this.render(launch.user);
        if (typeof r.value === 'string') user = r.value;
        // A policy `user` replaces it; without one, root (or a name the image may map to root) is refused.
        if (user !== undefined && !input.overrides?.user) this.checkUser(user, templateSettings(launch.user, entry.nativeName));
      }
      if (launch.disableNetwork) network = 'none';
      allowHosts = launch.allowHosts;
    } else {
      image = ociImage(launch);
      const args = this.renderPackageArgs(launch.packageArguments ?? [], 'packageArguments');
      if (args.length) command = args;
      this.applyRuntimeArgs(launch.runtimeArguments ?? [], put, volumes, warnings);
    }

    if (this.missing.length) return this.missingResult();
    checkSpawnable(env, secretEnv, command ?? []);
    const o = input.overrides ?? {};
    warnings.push(...this.mountWarnings);
    const plan: LaunchPlan = {
      kind: 'container',
      entryId: entry.id,
      image: runnableImage(entry.id, o.image ?? image),
      ...(command ? { command } : {}),
      env,
      secretEnv,
      volumes,
      mounts: this.mountViews,
      user: o.user ?? user ?? DEFAULT_USER,
      network: o.network ?? network,
      readOnly: o.readOnly ?? true,
      memory: o.memory ?? input.defaults.memory,
      cpus: o.cpus ?? input.defaults.cpus,
      pidsLimit: o.pidsLimit ?? input.defaults.pidsLimit,
      ...(allowHosts?.length ? { allowHosts } : {}),
      ...(warnings.length ? { warnings } : {}),
    };
    for (const v of Object.values(secretEnv)) this.usedSecretValues.add(v);
    return { ok: true, plan, secretValues: [...this.usedSecretValues].filter(Boolean) };
  }

  private renderEnv(name: string, tpl: string, spec: EnvSpec | undefined, put: (n: string, v: string, secret: boolean) => void): void {
    let r = this.render(tpl);
    if (r.value === undefined && spec?.default !== undefined && spec.value === undefined) r = { ...r, value: String(spec.default) };
    if (r.value === undefined) return;
    const value = Array.isArray(r.value) ? r.value.join(',') : r.value;
    put(name, value, r.secrets.length > 0);
  }

  /** Command arguments: a `|into` list expands into several, an empty one is left out; secrets never go here. */
  private renderArgs(templates: string[], where: string): string[] {
    const out: string[] = [];
    for (const tpl of templates) {
      const r = this.render(tpl);
      if (r.secrets.length) throw new PlanError(`puts the secret ${r.secrets.join(', ')} into ${where}, where it would be visible on a command line; this is refused`);
      if (Array.isArray(r.value)) out.push(...r.value);
      else if (r.value !== undefined) out.push(r.value);
    }
    return out;
  }

  private renderVolume(tpl: string): string[] {
    const r = this.render(tpl);
    if (r.secrets.length) throw new PlanError(`puts a secret into a volume specification; this is refused`);
    const specs = Array.isArray(r.value) ? r.value : r.value === undefined ? [] : [r.value];
    const params = templateSettings(tpl, this.entry.nativeName);
    return specs.flatMap((spec) => this.checkVolume(spec, params));
  }

  /**
   * One volume of the catalog entry, checked. `$HOME`/`~` expanded. A named volume becomes this server's own (named
   * after it, so no other server and nothing of the host's is reached) unless policy grants that very volume. A host
   * path must be absolute, and may be mounted only when the user chose it (a setting they stored, and it exists) or
   * policy.yaml grants exactly this mount; never the engine socket, /, system trees or home directories from the
   * catalog. Mount options other than ro/rw (relabel, chown, overlay …) are dropped. Problems with a path that came
   * from a setting are reported on that setting, so the user can point it elsewhere.
   */
  private checkVolume(spec: string, params: string[]): string[] {
    const expanded = this.expandHome(spec);
    const [rawHost = '', container, ...rest] = expanded.split(':');
    const opts = rest.join(':').split(',').filter(Boolean);
    // "{{x}}:/dst" with x unset: an optional mount that is simply not wanted (a required x is reported as missing).
    if (rawHost === '') return [];
    // `-v /path`: an anonymous volume inside the container, nothing of the host.
    if (container === undefined) return [expanded];
    const catalogMode: 'ro' | 'rw' = opts.includes('ro') ? 'ro' : 'rw';
    const dropped = opts.filter((x) => x !== 'ro' && x !== 'rw');
    if (dropped.length) this.mountWarnings.push(`mount option${dropped.length > 1 ? 's' : ''} ${dropped.join(',')} of ${rawHost}:${container} left out (only ro and rw are used)`);
    const grant = this.grantFor(rawHost, container);
    if (/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(rawHost)) {
      const volume = grant ? rawHost : this.ownVolumeName(rawHost);
      const mode = grant ?? catalogMode;
      this.mountViews.push({ volume, container, mode, origin: grant ? 'policy' : 'volume' });
      return [`${volume}:${container}${mode === 'ro' ? ':ro' : ''}`];
    }
    if (!isAbsolute(rawHost)) {
      this.addPathProblem(params, `"${rawHost}" is not an absolute path; give the full path of a folder on this machine`);
      return [];
    }
    const host = normalizeHostPath(rawHost);
    const chosen = this.userChose(host, params);
    const grantLine = `entries: {"${this.entry.id}": {mounts: ["${host}:${container}"]}} (read-only; end it in :rw to allow writes)`;
    const hit = protectedHostPath(host, { home: this.input.home }, !chosen);
    if (hit && !chosen) {
      this.addPathProblem(
        params,
        `its catalog entry would mount ${host === rawHost ? host : `${rawHost} (${host})`} at ${container}: that is ${hit}, which is never mounted from a catalog, whatever policy.yaml says`,
        true,
      );
      return [];
    }
    if (hit && !grant) {
      this.addPathProblem(params, `${host} is ${hit}; a setting may share it only when policy.yaml allows exactly this mount: ${grantLine}`, true);
      return [];
    }
    if (!chosen && !grant) {
      this.addPathProblem(
        params,
        params.length
          ? `the catalog's default would mount ${host} (at ${container}), a host path you did not choose: set ${params.join(', ')} to the path you want to share, or allow exactly this mount in policy.yaml: ${grantLine}`
          : `its catalog entry mounts the host path ${host} at ${container}, which you did not choose; a catalog's own host mounts need your say-so in policy.yaml: ${grantLine}`,
        true,
      );
      return [];
    }
    if (this.input.checkPaths !== false && (params.length || grant) && !existsSync(host)) {
      this.addPathProblem(params, `${host} does not exist on this machine; give the path of an existing folder or file to share`);
      return [];
    }
    const mode = grant ?? catalogMode;
    this.mountViews.push({ host, container, mode, origin: grant ? 'policy' : 'setting' });
    return [`${host}:${container}${mode === 'ro' ? ':ro' : ''}`];
  }

  /** The mode policy grants for exactly `host:container` (read-only unless the grant ends in :rw), if it does. */
  private grantFor(host: string, container: string): 'ro' | 'rw' | undefined {
    const named = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(host);
    const want = `${named ? host : normalizeHostPath(host)}:${container}`;
    for (const g of this.input.overrides?.mounts ?? []) {
      const bits = g.split(':');
      const mode = bits[2] === 'rw' ? 'rw' : 'ro';
      const h = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(bits[0]!) ? bits[0]! : normalizeHostPath(bits[0]!);
      if (`${h}:${bits[1]}` === want) return mode;
    }
    return undefined;
  }

  /** Whether the host path is (inside) a path the user stored in one of the settings the volume template reads. */
  private userChose(host: string, params: string[]): boolean {
    for (const p of params) {
      for (const v of stringsOf(lookupPath(this.userSettings, p))) {
        const src = this.expandHome(v).split(':')[0]!;
        if (!isAbsolute(src)) continue;
        const chosen = normalizeHostPath(src);
        if (host === chosen || host.startsWith(chosen === '/' ? '/' : chosen + '/')) return true;
      }
    }
    return false;
  }

  /** A named volume of the catalog, kept apart per server and source: `mcp-registry-<source id>-<name>`. */
  private ownVolumeName(name: string): string {
    const launch = this.entry.launch[0];
    const owner = launch ? sourceIdOf(this.entry, launchSourceOf(this.entry, launch)) : this.entry.id;
    return `mcp-registry-${owner.replace(/[^A-Za-z0-9_.-]+/g, '-')}-${name}`;
  }

  /**
   * Root in the container (uid or gid 0, "root") or a user name (which the image may map to root) needs a `user` in
   * policy.yaml; a numeric non-root user passes.
   */
  private checkUser(user: string, params: string[]): void {
    const [u = '', g] = user.split(':');
    const parts = g === undefined ? [u] : [u, g];
    const root = parts.some((x) => x === '0' || x === 'root');
    const named = !root && parts.some((x) => !/^\d+$/.test(x));
    if (!root && !named) return;
    const what = root ? `"${user}", which is root inside the container` : `"${user}", a name the image could map to any user, root included`;
    const from = params.length ? `the setting ${params.join(', ')}` : 'run.user';
    throw new PlanError(
      `its catalog entry would run it as ${what} (${from}); running as root or as a named user needs your say-so in policy.yaml: entries: {"${this.entry.id}": {user: "${user}"}}${params.length ? `, or set ${params.join(', ')} to a numeric non-root user` : ''}`,
      true,
    );
  }

  private addPathProblem(params: string[], why: string, refused = false): void {
    if (!params.length) throw new PlanError(refused ? why : `mounts a volume it cannot use: ${why}`, refused);
    for (const p of params) this.addMissingSetting(p, why, true);
  }

  private expandHome(spec: string): string {
    const home = this.input.home ?? homedir();
    return spec.replace(/^(?:\$\{HOME\}|\$HOME|~)(?=\/|:|$)/, home);
  }

  // ---- OCI packages (server.json) -----------------------------------------------------------------

  /**
   * The value(s) of one server.json argument. A fixed `value` has its `{var}` placeholders filled from settings;
   * secrets may only go into an environment variable (`-e NAME={secret}`, then `secret` is true), never into a
   * command-line argument.
   */
  private argumentValue(a: Obj, allowSecrets = false): { values: string[]; secret: boolean } {
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

  private renderPackageArgs(args: Obj[], where: string): string[] {
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
  private applyRuntimeArgs(args: Obj[], put: (n: string, v: string, secret: boolean) => void, volumes: string[], warnings: string[]): void {
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

  private checkedVolumes(spec: string, a: Obj): string[] {
    const params =
      typeof a.value === 'string' ? [...a.value.matchAll(/\{([A-Za-z0-9_.-]+)\}/g)].map((m) => m[1]!) : [argumentSettingName(a)].filter((n): n is string => !!n);
    return this.checkVolume(spec, params);
  }

  // ---- remote endpoints ----------------------------------------------------------------------------

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

  /** A placeholder that rendered empty: a secret (by env or name) or a setting. */
  private addMissingRef(name: string, variable?: Obj, header?: HeaderSpec): void {
    const secret = this.secretsByEnv.get(name) ?? this.entry.config.secrets.find((s) => s.name === name);
    if (secret) this.addMissingSecret(secret);
    else this.addMissingSetting(name, str(variable?.description) ?? header?.description);
  }

  // ---- settings ------------------------------------------------------------------------------------

  /**
   * Stored values no command line, environment or header can carry (a NUL character, a string past Linux's limit),
   * written by hand or by an older version, are asked for again by name instead of failing the start in podman.
   */
  private checkStoredValues(): void {
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
  private applyParameterDefaults(report = true): void {
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

  private addMissingSetting(name: string, description?: string, exact = false): void {
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

  private addMissingSecret(s: SecretSpec, why?: string): void {
    const description = why ?? s.description;
    this.push({
      name: s.name,
      kind: 'secret',
      env: s.env,
      ...(description ? { description } : {}),
      how: configSetCall(this.entry.id, { [s.name]: '…' }),
    });
  }

  private push(item: MissingItem): void {
    const key = `${item.kind}:${item.name}`;
    if (this.missingKeys.has(key)) return;
    this.missingKeys.add(key);
    this.missing.push(item);
  }

  private missingResult(): PlanResult {
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
  private render(tpl: string, opts: RenderOptions = {}) {
    const r = renderTemplateDetailed(tpl, this.ctx, opts);
    for (const env of r.secrets) this.usedSecretValues.add(this.ctx.secrets[env]!);
    return r;
  }
}

// ---- helpers ---------------------------------------------------------------------------------------

/**
 * What `spawn` would refuse (E2BIG, or Node's "must be a string without null bytes"), said by name before anything
 * starts: a catalog template can join settings into one value past the limit even when each setting is within it.
 */
function checkSpawnable(env: Record<string, string>, secretEnv: Record<string, string>, command: string[]): void {
  const strings: [string, string][] = [
    ...Object.entries(env).map(([k, v]): [string, string] => [`the environment variable ${k}`, `${k}=${v}`]),
    ...Object.entries(secretEnv).map(([k, v]): [string, string] => [`the secret environment variable ${k}`, `${k}=${v}`]),
    ...command.map((a, i): [string, string] => [`command argument ${i + 1}`, a]),
  ];
  let total = 0;
  for (const [what, s] of strings) {
    const why = unusableValue(s);
    if (why) throw new PlanError(`cannot be started: ${what} ${why}; change the settings it is made from`);
    total += Buffer.byteLength(s) + 1;
  }
  if (total > MAX_PLAN_BYTES) {
    const biggest = strings.sort((a, b) => b[1].length - a[1].length).slice(0, 3).map(([what, s]) => `${what} (${kib(Buffer.byteLength(s))})`);
    throw new PlanError(`cannot be started: its environment and arguments would be ${kib(total)}, more than the ${kib(MAX_PLAN_BYTES)} a container is given; the largest are ${biggest.join(', ')}`);
  }
}

function envTemplate(e: EnvSpec): string {
  // No value: the user supplies the variable itself, stored as a setting of the same name.
  return e.value ?? `{{${e.name}}}`;
}

/**
 * The reference podman gets: checked against the reference grammar (so nothing like `--privileged` gets near a
 * podman command line) and qualified as Docker would (`mcp/x` → `docker.io/mcp/x`).
 */
function runnableImage(id: string, ref: string): string {
  if (isImageId(ref)) return ref;
  try {
    return qualifyImageRef(ref);
  } catch (err) {
    if (!(err instanceof ImageRefError)) throw err;
    // policy.yaml's own `image` is checked when the policy loads: this one came from the catalog.
    throw new PlanError(`has an image reference podman cannot use — ${err.message}. Fix the catalog entry, or give it a valid image in policy.yaml (entries: {"${id}": {image: "registry/name:tag"}})`);
  }
}

function ociImage(p: PackageLaunch): string {
  const id = p.identifier.replace(/^docker:\/\//, '');
  const lastSegment = id.slice(id.lastIndexOf('/') + 1);
  if (id.includes('@') || lastSegment.includes(':') || !p.version || p.version === 'latest') return id;
  return `${id}:${p.version}`;
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

/** A setting by path ("a.b"), as a flat key or nested. */
function lookupPath(settings: Obj, path: string): unknown {
  if (Object.prototype.hasOwnProperty.call(settings, path)) return settings[path];
  let cur: unknown = settings;
  for (const k of path.split('.')) {
    if (!isObj(cur) || !Object.prototype.hasOwnProperty.call(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function stringsOf(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(stringsOf);
  return [];
}

function isBlank(v: unknown): boolean {
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

function requiredTopLevel(schema: Obj | undefined): string[] {
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

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 160 ? t.slice(0, 159) + '…' : t;
}
