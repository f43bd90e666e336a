// Launching a server from a container image: podman probed, the image looked up (pulled when absent) and checked
// against its pin, secrets staged as podman secrets, and the hardened `podman run` connected over stdio.
import { ToolError, type ToolContext } from '../../model/tool-contract.js';
import { dockerHubPath, formatImageRef, parseImageRef } from '../../model/image-ref.js';
import { checkDigestRequired, imageRefForRun, type PinStore } from '../../governance/pins.js';
import { errorMessage, type Logger } from '../../util/log.js';
import type { ChildTarget } from '../child.js';
import type { ContainerPlan, LaunchPlan } from '../launch-plan.js';
import type { Podman, StagedSecrets } from '../podman/podman.js';
import type { ContainerSpec } from '../podman/run-args.js';
import { limitsProblem } from '../podman/version.js';
import type { ContainerKit } from './mount.js';
import { refused, type Launcher } from './launcher.js';

const loadChild = () => import('../child.js');
const loadServed = () => import('./http-container-launcher.js');

export interface ContainerLauncherDeps {
  /** Podman and this instance's id, loaded on first use. */
  containers(): Promise<ContainerKit>;
  pins: PinStore;
  log: Logger;
  /** Called before the first `podman run` (shutdown cleans up containers only when there may be some). */
  onContainersUsed(): void;
}

export function containerLauncher(deps: ContainerLauncherDeps): Launcher<'container'> {
  return {
    async start({ entryId, prefix, plan, governance, childOpts, ctx, consented, verifySignature }) {
      const { Child } = await loadChild();
      const digest = checkDigestRequired(plan.image, governance.requireDigest);
      if (!digest.ok) throw refused(`${entryId} was not started: ${digest.reason}`);
      const kit = await deps.containers();
      const probe = await kit.podman.probe();
      deps.onContainersUsed();
      if (!probe.ok) {
        throw new ToolError(`podman is ${probe.reason === 'missing' ? 'not installed' : 'not usable'} (${probe.error}); run "mcp-registry doctor" for the fix.`);
      }
      // The image is pinned by its ID: looked up (pulled first when absent), checked against the approved one, and
      // run by that ID, so a tag moved in between cannot swap it.
      const imageId = await localImageId(kit.podman, plan.image, deps.log, ctx);
      // On the machine that runs it: the image is the signed one (by digest), or it does not start.
      const unsigned = await verifySignature({ ref: plan.image, digest: () => kit.podman.imageDigest(imageId) });
      if (unsigned) throw refused(unsigned);
      // Approved just now, with the image named in the question: it becomes the pinned one once the start succeeded.
      const image = consented ? { id: imageId, ref: plan.image } : undefined;
      if (!consented) {
        const pin = await deps.pins.checkImage(entryId, imageId, plan.image);
        if (!pin.ok) throw refused(pin.message);
      }
      const runRef = imageRefForRun(plan.image, imageId);
      const secrets = await kit.podman.stageSecrets(kit.instance, plan.secretEnv, { [kit.mod.INSTANCE_LABEL]: kit.instance, [kit.mod.ENTRY_LABEL]: plan.entryId });
      const wantsLimits = plan.memory !== undefined || plan.cpus !== undefined || plan.pidsLimit !== undefined;
      const limits = wantsLimits ? limitsProblem(probe.version)?.summary : undefined;
      const name = kit.mod.containerName(kit.instance, prefix);
      // A server that ignores stdin EOF (and the SIGTERM podman passes on) is stopped by removing its container.
      const containerOpts = { ...childOpts, forceStop: () => kit.podman.remove([name]) };
      const spec = containerSpec(kit, prefix, plan, runRef, secrets);
      // A server that speaks HTTP is reached on a loopback port; the rest speak MCP on the container's stdio.
      const served = plan.serves;
      const startChild = async () => (served ? (await loadServed()).startServedContainer(kit, spec, served, childOpts) : Child.start(stdioTarget(kit, spec), containerOpts));
      try {
        try {
          return { child: await startChild(), image, limits };
        } catch (err) {
          if (!kit.mod.nameInUse(err)) throw err;
          // A container of ours from a previous start has not been removed yet (its `--rm` still running).
          await kit.podman.remove([name]);
          return { child: await startChild(), image, limits };
        }
      } finally {
        // Once the server answers, podman has copied the values into the container's runtime configuration; a start
        // that failed needs them no more either. Every restart stores them afresh.
        await kit.podman.removeSecrets(Object.values(secrets.refs));
      }
    },
  };
}

/** The local image's ID, pulling the image first (with progress) when it is not here. */
export async function localImageId(podman: Podman, ref: string, log: Logger, ctx?: ToolContext): Promise<string> {
  let id = await podman.imageId(ref);
  if (!id) {
    await pull(podman, ref, log, ctx);
    id = await podman.imageId(ref);
  }
  if (!id) throw new ToolError(`podman has no image ${ref} even after pulling it; check "podman images", or load it with "podman load"/"podman pull".`);
  return id;
}

function containerSpec(kit: ContainerKit, prefix: string, plan: Extract<LaunchPlan, { kind: 'container' }>, image: string, secrets: StagedSecrets): ContainerSpec {
  return {
    name: kit.mod.containerName(kit.instance, prefix),
    image,
    labels: { [kit.mod.INSTANCE_LABEL]: kit.instance, [kit.mod.ENTRY_LABEL]: plan.entryId },
    env: plan.env,
    secretEnv: secrets.env,
    podmanSecrets: secrets.refs,
    command: plan.command,
    ...hardeningOf(plan),
  };
}

/** What a plan says of how its container is confined: the same for a server's container and a poci call's. */
export function hardeningOf(plan: Pick<ContainerPlan, 'volumes' | 'user' | 'network' | 'readOnly' | 'memory' | 'cpus' | 'pidsLimit'>): Pick<ContainerSpec, 'volumes' | 'user' | 'network' | 'readOnly' | 'memory' | 'cpus' | 'pidsLimit'> {
  return { volumes: plan.volumes, user: plan.user, network: plan.network, readOnly: plan.readOnly, memory: plan.memory, cpus: plan.cpus, pidsLimit: plan.pidsLimit };
}

function stdioTarget(kit: ContainerKit, spec: ContainerSpec): ChildTarget {
  const cmd = kit.podman.runCommand(spec);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(cmd.env)) if (v !== undefined) env[k] = v;
  return { kind: 'stdio', command: cmd.command, args: cmd.args, env, cwd: cmd.cwd };
}

async function pull(podman: Podman, image: string, log: Logger, ctx?: ToolContext): Promise<void> {
  log.info(`pulling ${image} (not present locally)`);
  let step = 0;
  ctx?.progress(0, undefined, `pulling ${image}…`);
  try {
    await podman.pull(image, (line) => ctx?.progress(++step, undefined, line.slice(0, 200)));
  } catch (err) {
    const local = await localNamesake(podman, image);
    const hint = local ? ` podman has ${local} (podman build names images localhost/…): to run that one, name it so in the catalog entry or in policy.yaml (entries: {"<id>": {image: "${local}"}}).` : '';
    throw new ToolError(`${errorMessage(err)}.${hint} Check the image name and your network ("mcp-registry doctor" says whether this machine can pull), or load the image with "podman load"/"podman pull" yourself.`);
  }
  ctx?.progress(++step, undefined, `pulled ${image}`);
}

/**
 * `localhost/x:tag` when a Docker Hub reference `x:tag` was not found and podman has that image: the name `podman
 * build` gives, which podman's own short-name lookup used to find under `x:tag`.
 */
async function localNamesake(podman: Podman, ref: string): Promise<string | undefined> {
  const path = dockerHubPath(ref);
  if (!path) return undefined;
  const { tag, digest } = parseImageRef(ref);
  const local = formatImageRef({ domain: 'localhost', path: path.replace(/^library\//, ''), tag, digest });
  return (await podman.imageExists(local).catch(() => false)) ? local : undefined;
}
