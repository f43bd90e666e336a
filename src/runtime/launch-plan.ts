/** Planning a start: entry + settings + secrets into a hardened container or remote endpoint, or what is missing. */
import type { ContainerSpec } from './podman/run-args.js';
import type { Entry, Launch, PociLaunch } from '../model/entry.js';
import { pickLaunch } from '../model/launch-choice.js';
import type { LaunchOverrides } from '../governance/policy.js';
import { TemplateError } from './templates.js';
import { ContainerPlanner } from './plan/container-plan.js';
import { PlanError } from './plan/plan-state.js';
import { RemotePlanner } from './plan/remote-plan.js';
import type { ServedEndpoint } from './served-url.js';

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

export type ContainerPlan = Pick<ContainerSpec, 'image' | 'command' | 'env' | 'secretEnv' | 'user' | 'network' | 'readOnly' | 'memory' | 'cpus' | 'pidsLimit'> & {
  kind: 'container';
  entryId: string;
  volumes: string[];
  /** The same mounts as `volumes`, described. */
  mounts: MountView[];
  /** Hosts the catalog says the server needs (informational; egress filtering is not enforced here). */
  allowHosts?: string[];
  /** Parts of the entry that were left out (e.g. unsupported runtime arguments). */
  warnings?: string[];
  /** The server speaks HTTP on this port and path of its container (an OCI package with an HTTP transport), not stdio. */
  serves?: ServedEndpoint;
};

/** A Docker "poci" server: its tools served by the registry, each call one container run like the plan's limits say. */
export type PociPlan = Omit<ContainerPlan, 'kind' | 'image' | 'command' | 'serves'> & { kind: 'poci'; tools: PociLaunch['tools'] };

export type LaunchPlan =
  | ContainerPlan
  | PociPlan
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
    if (chosen.launch.type === 'poci') return pociPlan(new ContainerPlanner(entry, input), chosen.launch);
    return chosen.launch.type === 'remote'
      ? new RemotePlanner(entry, input).remote(chosen.launch)
      : new ContainerPlanner(entry, input).container(chosen.launch as Extract<Launch, { type: 'image' | 'package' }>);
  } catch (err) {
    if (err instanceof PlanError && err.refused) return { ok: false, missing: [], message: `${entry.id} was not started: ${err.message}`, refused: true };
    if (err instanceof TemplateError || err instanceof PlanError) return { ok: false, missing: [], message: `not runnable: ${entry.id} ${err.message}` };
    throw err;
  }
}

/**
 * A poci server's containers run under what a server of its entry would (env, secrets, user, network, limits,
 * policy overrides): planned as an image of its first tool, then the image and command left to each tool.
 */
function pociPlan(planner: ContainerPlanner, launch: PociLaunch): PlanResult {
  const r = planner.container({ type: 'image', image: launch.tools[0]!.image });
  if (!r.ok || r.plan.kind !== 'container') return r;
  const { kind: _kind, image: _image, command: _command, serves: _serves, ...rest } = r.plan;
  return { ...r, plan: { ...rest, kind: 'poci', tools: launch.tools } };
}
