/** `mcp-registry prepare <id>`: builds an entry's npm or PyPI package ahead of its first start, or removes it. */
import { createApp } from '../assemble.js';
import { pickLaunch } from '../model/launch-choice.js';
import { ToolError } from '../model/tool-contract.js';
import { haveData, cliResult, loadPolicy } from './subcommands.js';

/**
 * `mcp-registry prepare <id>`: build the npm or PyPI package of an entry's default launch ahead of time, so its first
 * registry-add starts at once (the same build registry-add would run; progress on stderr). `--remove`: remove the
 * entry's built images instead (every version).
 */
export async function prepare(id: string, opts: { json: boolean; remove: boolean; source?: string }): Promise<number> {
  const target = id.trim();
  if (!target || /\s/.test(target)) {
    process.stderr.write('mcp-registry prepare: give one entry id, e.g. mcp-registry prepare official/io.github.modelcontextprotocol/server-memory\n');
    return 2;
  }
  const app = await createApp();
  if (!(await haveData(app))) return 1;
  return cliResult('prepare', async () => {
    const entry = app.catalog.get(target);
    if (!entry) throw new ToolError(`no entry "${target}" in the catalog (mcp-registry search finds ids)`);
    const pick = pickLaunch(entry, opts.source);
    if (!pick.ok) throw new ToolError(pick.reason);
    const { buildKindOf, packageSpecOf, PackageBuilder, runnersConfig, BuildError, describeBuildError } = await import('../runtime/build/index.js');
    const launch = pick.choice.launch;
    const kind = launch.type === 'package' ? buildKindOf(launch) : undefined;
    if (launch.type !== 'package' || (kind !== 'npm' && kind !== 'pypi')) {
      throw new ToolError(`${entry.id} runs as ${launch.type === 'package' ? `an ${launch.registryType} package` : `a${launch.type === 'image' ? 'n' : ''} ${launch.type}`} from source "${pick.choice.source}": there is nothing to build (only npm and PyPI packages are built)`);
    }
    if (!opts.remove) {
      // The start gate every start answers to: a build runs the package's installer, so a denied entry is not built.
      const [{ policyStartGate }, { StateStore }] = await Promise.all([import('../governance/start-gate.js'), import('../store/state.js')]);
      const gate = policyStartGate({ policy: () => loadPolicy(app), approvals: async () => (await new StateStore(app.paths.stateDir).read()).approvals });
      const v = await gate.check(entry, pick.choice);
      if (v.verdict === 'refused') throw new ToolError(`${v.reason}; nothing was built (${v.next})`);
    }
    const { Podman } = await import('../runtime/podman/podman.js');
    const builder = new PackageBuilder({ podman: new Podman({ bin: app.config.runtime.podman }), runners: runnersConfig(app.config) });
    const spec = packageSpecOf(launch)!;
    if (opts.remove) {
      const removed = await builder.remove({ kind, package: spec.identifier });
      if (opts.json) process.stdout.write(JSON.stringify({ id: entry.id, removed }, null, 2) + '\n');
      else process.stdout.write(removed.length ? `Removed ${removed.join(', ')}.\n` : `No built image of ${spec.identifier} to remove.\n`);
      return;
    }
    try {
      const r = await builder.build(spec, { onProgress: (p) => process.stderr.write(`  ${p.phase}: ${p.message}\n`) });
      if (opts.json) process.stdout.write(JSON.stringify({ id: entry.id, record: r }, null, 2) + '\n');
      else process.stdout.write(`${entry.id}: ${r.image} (${r.imageId.slice(0, 12)}) holds ${r.package} ${r.version}, ${r.tree.packages.length} package(s), tree ${r.tree.digest.slice(0, 19)}…; registry-add starts it without building.\n`);
    } catch (err) {
      if (!(err instanceof BuildError)) throw err;
      throw new ToolError(describeBuildError(err));
    }
  });
}
