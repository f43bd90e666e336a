/** The mount and user rules of a container plan: which volumes a catalog entry may mount, and as which user it runs. */
import { homedir } from 'node:os';
import { isAbsolute } from 'node:path';
import { existsSync } from 'node:fs';
import { launchSourceOf, sourceIdOf } from '../../model/launch-choice.js';
import { normalizeHostPath, protectedHostPath } from '../host-mounts.js';
import { templateSettings } from '../templates.js';
import type { MountView } from '../launch-plan.js';
import { isObj, PlanError, PlanState, type Obj } from './plan-state.js';

export class MountRules extends PlanState {
  protected readonly mountViews: MountView[] = [];
  protected readonly mountWarnings: string[] = [];

  protected renderVolume(tpl: string): string[] {
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
  protected checkVolume(spec: string, params: string[]): string[] {
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
  protected grantFor(host: string, container: string): 'ro' | 'rw' | undefined {
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
  protected userChose(host: string, params: string[]): boolean {
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
  protected ownVolumeName(name: string): string {
    const launch = this.entry.launch[0];
    const owner = launch ? sourceIdOf(this.entry, launchSourceOf(this.entry, launch)) : this.entry.id;
    return `mcp-registry-${owner.replace(/[^A-Za-z0-9_.-]+/g, '-')}-${name}`;
  }

  /**
   * Root in the container (uid or gid 0, "root") or a user name (which the image may map to root) needs a `user` in
   * policy.yaml; a numeric non-root user passes.
   */
  protected checkUser(user: string, params: string[]): void {
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

  protected addPathProblem(params: string[], why: string, refused = false): void {
    if (!params.length) throw new PlanError(refused ? why : `mounts a volume it cannot use: ${why}`, refused);
    for (const p of params) this.addMissingSetting(p, why, true);
  }

  protected expandHome(spec: string): string {
    const home = this.input.home ?? homedir();
    return spec.replace(/^(?:\$\{HOME\}|\$HOME|~)(?=\/|:|$)/, home);
  }
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
