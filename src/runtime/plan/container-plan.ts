/** A container plan: image, command, environment, volumes, user and limits of a catalog image or OCI package. */
import type { EnvSpec, Launch, PackageLaunch } from '../../model/entry.js';
import { ImageRefError, isImageId, qualifyImageRef } from '../../model/image-ref.js';
import { kib, unusableValue } from '../settings.js';
import { templateSettings } from '../templates.js';
import type { LaunchPlan, PlanResult } from '../launch-plan.js';
import { PackageArgs } from './package-args.js';
import { resolveServedUrl, type ServedEndpoint } from '../served-url.js';
import { isBlank, PlanError } from './plan-state.js';

/**
 * The environment and arguments of one container together at most: they share Linux's ARG_MAX (2 MiB with the usual
 * 8 MiB stack) with podman's own flags and the host environment podman is given.
 */
export const MAX_PLAN_BYTES = 1024 * 1024;

/** The user containers run as unless the entry or policy says otherwise: `nobody`. */
export const DEFAULT_USER = '65534:65534';

export class ContainerPlanner extends PackageArgs {
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
    let serves: ServedEndpoint | undefined;

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
      serves = this.servedEndpoint(launch, env);
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
      ...(serves ? { serves } : {}),
    };
    for (const v of Object.values(secretEnv)) this.usedSecretValues.add(v);
    return { ok: true, plan, secretValues: [...this.usedSecretValues].filter(Boolean) };
  }

  /** Where an OCI package with an HTTP transport listens in its container; undefined for stdio. */
  private servedEndpoint(launch: PackageLaunch, env: Record<string, string>): ServedEndpoint | undefined {
    const type = launch.transport?.type ?? 'stdio';
    if (type === 'stdio') return undefined;
    if (type !== 'streamable-http' && type !== 'sse') throw new PlanError(`serves over ${type}, which is not an MCP transport this registry speaks (stdio, streamable-http, sse)`);
    const args = [...(launch.packageArguments ?? []), ...(launch.runtimeArguments ?? [])];
    const lookup = (name: string): string | undefined => {
      if (env[name] !== undefined) return env[name];
      const a = args.find((x) => x.valueHint === name || x.name === name || x.name === `--${name}`);
      const v = a ? this.argumentValue(a).values[0] : this.settings[name];
      return v === undefined || v === null ? undefined : String(v);
    };
    const r = resolveServedUrl(type, launch.transport?.url, lookup);
    if (!r.ok) throw new PlanError(r.reason);
    return r.endpoint;
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
}

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
