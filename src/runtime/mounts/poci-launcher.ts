// Launching a Docker "poci" server: no container until a tool is called. The registry serves the catalog's inline
// tools from an in-process MCP server (runtime/poci/tool-server.ts); each call is one hardened `podman run --rm`.
import { ToolError } from '../../model/tool-contract.js';
import { qualifyImageRef } from '../../model/image-ref.js';
import { imageRefForRun } from '../../governance/pins.js';
import type { Logger } from '../../util/log.js';
import type { ContainerKit } from './mount.js';
import { hardeningOf, localImageId } from './container-launcher.js';
import { refused, type Launcher } from './launcher.js';

const load = {
  child: () => import('../child.js'),
  server: () => import('../poci/tool-server.js'),
};

export interface PociLauncherDeps {
  containers(): Promise<ContainerKit>;
  log: Logger;
  /** Called before the first `podman run` (shutdown cleans up containers only when there may be some). */
  onContainersUsed(): void;
}

export function pociLauncher(deps: PociLauncherDeps): Launcher<'poci'> {
  return {
    async start({ entryId, prefix, plan, childOpts, ctx, verifySignature }) {
      const [{ Child }, { pociServer }] = await Promise.all([load.child(), load.server()]);
      const kit = await deps.containers();
      const probe = await kit.podman.probe();
      deps.onContainersUsed();
      if (!probe.ok) throw new ToolError(`podman is ${probe.reason === 'missing' ? 'not installed' : 'not usable'} (${probe.error}); run "mcp-registry doctor" for the fix.`);
      // No image runs at the start: the check is audited like a remote's, and each tool's image is looked up per call.
      const unsigned = await verifySignature();
      if (unsigned) throw refused(unsigned);
      const labels = { [kit.mod.INSTANCE_LABEL]: kit.instance, [kit.mod.ENTRY_LABEL]: plan.entryId };
      const server = await pociServer({
        name: entryId,
        tools: plan.tools,
        nameBase: kit.mod.containerName(kit.instance, prefix),
        callTimeout: childOpts.callTimeout,
        redact: childOpts.redact ?? ((s) => s),
        log: childOpts.log,
        remove: (names) => kit.podman.remove(names),
        async runCommand(tool, command, name) {
          // Pulled on the first call that needs it (absent images are pulled as for any container start).
          const ref = qualifyImageRef(tool.image);
          const id = await localImageId(kit.podman, ref, deps.log, ctx);
          return kit.podman.runCommand({
            name,
            image: imageRefForRun(ref, id),
            labels,
            env: plan.env,
            secretEnv: plan.secretEnv,
            command,
            ...hardeningOf(plan),
          });
        },
      });
      return { child: await Child.start({ kind: 'transport', transport: server.transport }, childOpts) };
    },
  };
}
