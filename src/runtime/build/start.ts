/** Starting built packages (npm, PyPI): built once, checked against the build pin, then run as an OCI image. */
import type { Entry } from '../../model/entry.js';
import type { LaunchChoice } from '../../model/launch-choice.js';
import type { PinStore } from '../../governance/pins.js';
import type { Logger } from '../../util/log.js';
import type { RegistryConfig } from '../../config/config.js';
import type { LaunchPlan } from '../launch-plan.js';
import type { Governance, LaunchOverrides } from '../../governance/policy.js';
import type { Podman } from '../podman/podman.js';
import type { StateStore } from '../../store/state.js';
import { PackageBuilder, runnersConfig } from './index.js';
import { buildKindOf, launchForBuiltPackage, packageSpecOf, runAdditions } from './launch.js';
import { buildPinOf, checkBuildPin, type BuildPin } from './pins.js';
import { BuildError, describeBuildError, type BuildRecord } from './types.js';
import { npmRecipe } from './npm.js';
import { pypiRecipe } from './pypi.js';
import { builtImageRef, imageTag } from './recipe.js';
import { bundleChoice, isBundleLaunch, plannedBundleChoice } from './bundle.js';

/**
 * The launcher's seam for built packages (npm, PyPI): before the plan, the package is built once into its local
 * image (or the built one found) and checked against what was approved; the chosen launch then becomes an OCI
 * package of that image, so the planner and podman run it exactly like a catalog image (read-only root, no
 * capabilities, non-root, limits, secrets as bare `-e NAME`). After the plan, `adjust` takes its network away unless
 * it needs one, and gives a networked one the CA bundle.
 */

export interface BuiltStartDeps {
  entry: Entry;
  choice: LaunchChoice;
  podman: Podman;
  instance?: string;
  runtime: Pick<RegistryConfig['runtime'], 'runners' | 'caBundle'>;
  pins: PinStore;
  state: StateStore;
  /** The user approved this start just now (its image becomes the pinned one when it succeeds). */
  approvedNow: boolean;
  /** The entry's policy: where a bundle may be downloaded from, and whether an unverified one may be built. */
  governance?: Pick<Governance, 'remote' | 'allowUnverifiedBundles'>;
  progress?: (step: number, total: number | undefined, message: string) => void;
  log?: Logger;
}

export type BuiltStart =
  | { ok: true; choice: LaunchChoice; record: BuildRecord; adjust(plan: LaunchPlan, overrides: LaunchOverrides): void }
  | { ok: false; refused: boolean; message: string; /** The build goes on; registry-add again (or prepare) later. */ preparing?: boolean };

/** Built-package pins beside the image pins in state.json: the installed tree the pinned image ID was built from. */
const STATE_KEY = 'buildPins';

/** One builder per podman (rootful, rootless): concurrent starts of one package share a build. */
const builders = new WeakMap<Podman, PackageBuilder>();

/** Whether the chosen launch is a package this seam builds (npm, PyPI, MCPB). */
export function isBuiltLaunch(choice: LaunchChoice | undefined): boolean {
  const l = choice?.launch;
  return l?.type === 'package' && (buildKindOf(l) === 'npm' || buildKindOf(l) === 'pypi' || buildKindOf(l) === 'mcpb');
}

/**
 * Before anything is built (registry-info's preview, doctor): the launch planned as the image it builds to, so the
 * plan shows the command, user, network and mounts it will run with. A version still to resolve shows as `unresolved`.
 */
export function plannedChoice(choice: LaunchChoice, runtime: BuiltStartDeps['runtime']): LaunchChoice {
  if (!isBuiltLaunch(choice) || choice.launch.type !== 'package') return choice;
  if (isBundleLaunch(choice.launch)) return plannedBundleChoice(choice);
  const spec = packageSpecOf(choice.launch)!;
  const runners = runnersConfig({ runtime } as Pick<RegistryConfig, 'runtime'>);
  const recipe = spec.kind === 'npm' ? npmRecipe(spec, runners, false) : pypiRecipe(spec, runners, false);
  const image = builtImageRef(recipe.kind, recipe.imageName, recipe.version ? imageTag(recipe.version) : 'unresolved');
  return { ...choice, launch: launchForBuiltPackage(choice.launch, { image, kind: recipe.kind } as BuildRecord).launch };
}

export async function startBuilt(d: BuiltStartDeps): Promise<BuiltStart> {
  const launch = d.choice.launch;
  if (launch.type !== 'package') throw new Error('startBuilt: not a package launch');
  const spec = packageSpecOf(launch)!;
  const runners = runnersConfig({ runtime: d.runtime } as Pick<RegistryConfig, 'runtime'>);
  let builder = builders.get(d.podman);
  if (!builder) builders.set(d.podman, (builder = new PackageBuilder({ podman: d.podman, runners, ...(d.instance ? { instance: d.instance } : {}), ...(d.log ? { logger: d.log } : {}) })));
  let step = 0;
  let record: BuildRecord;
  const started = Date.now();
  try {
    // The build goes on when the wait is over (builder.build shares it with the next call), so a client whose
    // patience is shorter than npm's gets an answer instead of a timeout.
    const mcpb = spec.kind === 'mcpb' && d.governance ? { download: d.governance.remote, allowUnverified: d.governance.allowUnverifiedBundles } : undefined;
    const build = builder.build(spec, { onProgress: (p) => d.progress?.(++step, undefined, p.message.slice(0, 300)), ...(mcpb ? { mcpb } : {}) });
    build.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const wait = runners.buildWait ?? 45_000;
    const waited = await Promise.race([build, new Promise<null>((r) => (timer = setTimeout(() => r(null), wait)))]).finally(() => clearTimeout(timer));
    if (!waited) {
      return {
        ok: false,
        refused: false,
        preparing: true,
        message: `${d.entry.id} is being prepared: its ${spec.kind} package ${spec.identifier} is still building (${Math.round((Date.now() - started) / 1000)} s so far; runtime.runners.buildWait is ${Math.round(wait / 1000)} s). The build goes on: call registry-add ${d.entry.id} again in a minute (it waits for the same build), or run mcp-registry prepare ${d.entry.id} in a terminal.`,
      };
    }
    record = waited;
  } catch (err) {
    // A bundle whose bytes are not the published ones (or unverifiable) is a refusal, not a failure to retry.
    if (err instanceof BuildError) return { ok: false, refused: err.detail.code === 'checksum', message: buildFailure(d.entry.id, err) };
    throw err;
  }
  const pin = await checkPins(d, record);
  if (!pin.ok) return { ok: false, refused: true, message: pin.message };
  const bundle = record.mcpb ? bundleChoice(d.choice, record) : undefined;
  const { launch: oci, warnings } = bundle ? { launch: bundle.launch, warnings: record.mcpb!.warnings } : launchForBuiltPackage(launch, record);
  const config = bundle?.config ?? d.entry.config;
  return {
    ok: true,
    record,
    choice: bundle ?? { ...d.choice, launch: oci },
    adjust(plan, overrides) {
      if (plan.kind !== 'container') return;
      if (overrides.network === undefined) plan.network = needsNetwork({ config }) ? 'default' : 'none';
      const add = runAdditions(runners, plan.network === 'none' ? 'none' : 'default');
      Object.assign(plan.env, add.env);
      plan.volumes.push(...add.volumes);
      if (warnings.length) plan.warnings = [...(plan.warnings ?? []), ...warnings];
    },
  };
}

/** What registry-info shows of a built package's launch: its image, whether it is built yet, and what it runs. */
export interface BuildView {
  kind: 'npm' | 'pypi' | 'mcpb';
  image: string;
  /** Built: the next start runs at once; not built: the first registry-add builds it (or `mcp-registry prepare`). */
  built: boolean;
  /** The exact version installed (when built), and the command the container runs (entrypoint, then arguments). */
  version?: string;
  command?: string[];
  network: 'none' | 'default';
}

export async function previewBuilt(d: { entry: Entry; choice: LaunchChoice; runtime: BuiltStartDeps['runtime']; podman: Podman; overrides: LaunchOverrides; args?: string[] }): Promise<BuildView | undefined> {
  if (!isBuiltLaunch(d.choice) || d.choice.launch.type !== 'package') return undefined;
  const planned = plannedChoice(d.choice, d.runtime).launch as { identifier?: string; image?: string };
  const kind = buildKindOf(d.choice.launch) as BuildView['kind'];
  const builder = new PackageBuilder({ podman: d.podman, runners: runnersConfig({ runtime: d.runtime } as Pick<RegistryConfig, 'runtime'>) });
  const rec = await builder.find(packageSpecOf(d.choice.launch)!).catch(() => null);
  const network = d.overrides.network ?? (needsNetwork(d.entry) ? 'default' : 'none');
  return { kind, image: rec?.image ?? planned.identifier ?? planned.image!, built: !!rec, ...(rec ? { version: rec.version, command: [...rec.entrypoint, ...(rec.mcpb ? rec.mcpb.launch.command : (d.args ?? []))] } : {}), network };
}

/**
 * A server that takes a secret or names a URL, host or API in its variables talks to something: it keeps the
 * network. Everything else (a memory, a filesystem, a calculator) runs with `--network none`; policy.yaml's
 * `network: default` gives it one.
 */
export function needsNetwork(entry: Pick<Entry, 'config'>): boolean {
  if (entry.config.secrets.length) return true;
  return entry.config.env.some((e) => /URL|URI|HOST|ENDPOINT|API|PROXY|DOMAIN|SERVER/i.test(e.name));
}

/**
 * The image pin decides (pins.ts): the first start pins the built image's ID, a different image is refused until
 * `mcp-registry approve`. The build pin says what tree that image holds, so a rebuild of the SAME tree (the image was
 * removed, the base image was rebuilt) moves the image pin along instead of asking again, while a rebuild that
 * installed anything else is refused with what changed.
 */
async function checkPins(d: BuiltStartDeps, record: BuildRecord): Promise<{ ok: true } | { ok: false; message: string }> {
  const id = d.entry.id;
  const pinnedImage = (await d.pins.get(id))?.imageId;
  const pinnedBuild = await readBuildPin(d.state, id);
  const fresh = buildPinOf(record);
  if (d.approvedNow || !pinnedImage || sameId(pinnedImage, record.imageId)) {
    if (!pinnedBuild || pinnedBuild.imageId !== fresh.imageId) await writeBuildPin(d.state, id, fresh);
    return { ok: true };
  }
  if (pinnedBuild && pinnedBuild.treeDigest === fresh.treeDigest && pinnedBuild.package === fresh.package && pinnedBuild.version === fresh.version) {
    await d.pins.approve(id, { imageId: record.imageId, imageRef: record.image, by: `rebuild of the approved ${record.kind} tree ${short(fresh.treeDigest)}` });
    await writeBuildPin(d.state, id, fresh);
    return { ok: true };
  }
  // Leaves the new image pending, so `mcp-registry approve <id>` accepts it (and with it this tree).
  const img = await d.pins.checkImage(id, record.imageId, record.image);
  if (img.ok) return { ok: true };
  // checkBuildPin says what changed in the tree; without a build pin (an image pinned before), the image check does.
  const tree = pinnedBuild ? checkBuildPin(id, pinnedBuild, record) : undefined;
  return { ok: false, message: tree && !tree.ok ? tree.message : img.message };
}

export async function readBuildPin(state: StateStore, entryId: string): Promise<BuildPin | undefined> {
  const all = (await state.read())[STATE_KEY] as Record<string, BuildPin> | undefined;
  return all?.[entryId];
}

async function writeBuildPin(state: StateStore, entryId: string, pin: BuildPin): Promise<void> {
  await state.update((d) => {
    const all = { ...((d[STATE_KEY] as Record<string, BuildPin> | undefined) ?? {}) };
    all[entryId] = pin;
    d[STATE_KEY] = all;
  });
}

function buildFailure(entryId: string, err: BuildError): string {
  return `${entryId} was not started: building its package failed — ${describeBuildError(err)}`;
}

const sameId = (a: string, b: string) => a.replace(/^sha256:/, '') === b.replace(/^sha256:/, '');
const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);


/** registry-status's view of the built package images: each with its own disk use, and the total (bases once). */
export async function builtStatus(podman: Podman, runtime: BuiltStartDeps['runtime']): Promise<{ images: { image: string; kind: string; package: string; version: string; ownBytes: number }[]; totalBytes: number } | undefined> {
  const builder = builders.get(podman) ?? new PackageBuilder({ podman, runners: runnersConfig({ runtime } as Pick<RegistryConfig, 'runtime'>) });
  const list = await builder.list().catch(() => undefined);
  if (!list?.images.length) return undefined;
  return { images: list.images.map((i) => ({ image: i.image, kind: i.kind, package: i.package, version: i.version, ownBytes: i.ownBytes })), totalBytes: list.totalBytes };
}
