/** Which package launches are built here (npm, pypi, mcpb), what to build, and the launch of a built one. */
import type { ImageLaunch, PackageLaunch } from '../../model/entry.js';
import { CA_ENV, CA_PATH, type BuildKind, type BuildRecord, type PackageSpec, type RunnersConfig } from './types.js';

/**
 * The seam between a catalog launch and the builders: which server.json packages are built here, what to build,
 * and how the built image is handed back to the existing launch planner (launch-plan.ts) so that a built package
 * starts exactly like a catalog image (read-only root, no capabilities, non-root, limits, secrets as bare `-e NAME`).
 */

/** npm (also `runtimeHint: npx`), pypi (`uvx`, `pip`), mcpb; anything else is not built here. */
export function buildKindOf(launch: Pick<PackageLaunch, 'registryType' | 'runtimeHint'>): BuildKind | undefined {
  const type = launch.registryType.toLowerCase();
  const hint = launch.runtimeHint?.toLowerCase();
  if (type === 'npm' || (type !== 'oci' && hint === 'npx')) return 'npm';
  if (type === 'pypi' || (type !== 'oci' && (hint === 'uvx' || hint === 'pip' || hint === 'pipx'))) return 'pypi';
  if (type === 'mcpb') return 'mcpb';
  return undefined;
}

/** Why a package launch is not runnable here, one sentence, or undefined when it is (oci, npm, pypi, mcpb over stdio). */
export function notBuildableReason(launch: PackageLaunch): string | undefined {
  const kind = buildKindOf(launch);
  if (!kind && launch.registryType !== 'oci') {
    return `its ${launch.registryType} package (${launch.identifier}) has no runner here: npm, PyPI, MCPB and OCI packages run (a ${launch.registryType} package needs its own tooling)`;
  }
  if (kind && launch.transport.type !== 'stdio') {
    return `its ${kind} package serves over ${launch.transport.type}; built packages run over stdio only`;
  }
  return undefined;
}

/** What to build for a package launch of one of the built kinds. */
export function packageSpecOf(launch: PackageLaunch): PackageSpec | undefined {
  const kind = buildKindOf(launch);
  if (!kind) return undefined;
  return {
    kind,
    identifier: launch.identifier,
    ...(launch.version ? { version: launch.version } : {}),
    ...(launch.registryBaseUrl ? { registryBaseUrl: launch.registryBaseUrl } : {}),
    ...(launch.fileSha256 ? { fileSha256: launch.fileSha256 } : {}),
  };
}

/**
 * The launch the planner gets for a built npm or PyPI package: an OCI package of the built image, so its
 * packageArguments render exactly as today (appended to the image's entrypoint) and its environment variables
 * (already the entry's config) too. runtimeArguments were meant for npx/uvx/node/python, not for `podman run`:
 * they are left out, and said so.
 */
export function launchForBuiltPackage(launch: PackageLaunch, record: BuildRecord): { launch: PackageLaunch; warnings: string[] } {
  const warnings = (launch.runtimeArguments ?? [])
    .filter((a) => !isRunnerNoise(a))
    .map((a) => `runtime argument ${JSON.stringify(a.value ?? a.name ?? a.valueHint ?? a.type)} left out (it was for ${launch.runtimeHint ?? record.kind}, which is not used: the package is installed in its image)`);
  const { runtimeArguments: _dropped, version: _v, registryBaseUrl: _r, runtimeHint: _h, fileSha256: _f, ...rest } = launch;
  return { launch: { ...rest, registryType: 'oci', identifier: record.image }, warnings };
}

/** The image launch the planner gets for a built MCPB bundle (its settings and secrets: `record.mcpb.config`). */
export function launchForBuiltBundle(record: BuildRecord, source?: string): ImageLaunch {
  const m = record.mcpb;
  if (!m) throw new Error(`${record.image} is not an MCPB build`);
  return {
    type: 'image',
    ...(source ? { source } : {}),
    image: record.image,
    command: m.launch.command,
    ...(m.launch.volumes.length ? { volumes: m.launch.volumes } : {}),
    ...(Object.keys(m.launch.env).length ? { env: m.launch.env } : {}),
  };
}

/**
 * What a run of a built image adds to the planned container: with network, the CA bundle (read-only) and the
 * variables that name it; without network, nothing (the server cannot reach anything to verify).
 */
export function runAdditions(runners: Pick<RunnersConfig, 'caBundle'>, network: 'none' | 'default'): { env: Record<string, string>; volumes: string[] } {
  if (network === 'none' || !runners.caBundle) return { env: {}, volumes: [] };
  return { env: Object.fromEntries(CA_ENV.map((v) => [v, CA_PATH])), volumes: [`${runners.caBundle}:${CA_PATH}:ro`] };
}

/** `-y`, `--yes`, `--quiet` and the like: flags for npx/uvx themselves, meaningless once the package is installed. */
function isRunnerNoise(a: Record<string, unknown>): boolean {
  const v = typeof a.value === 'string' ? a.value : typeof a.name === 'string' ? a.name : '';
  return /^(?:-y|--yes|-q|--quiet|--silent|--no-install|--prefer-offline)$/.test(v);
}
