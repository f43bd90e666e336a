/**
 * The package runners' build subsystem, as the launcher uses it (see README, "Package runners"):
 *   const builder = new PackageBuilder({ podman, runners: runnersConfig(config), instance });
 *   const spec = packageSpecOf(launch);              // undefined: not a built kind (notBuildableReason says why)
 *   const record = await builder.build(spec, { onProgress });   // a no-op when the image exists
 *   checkBuildPin(entryId, pinned, record)           // a changed tree is refused until approved
 *   launchForBuiltPackage(launch, record) / launchForBuiltBundle(record)  → planLaunch as for any image
 */
export { PackageBuilder, type BuilderOptions, type BuildOptions, type BuiltImage, type BuiltImages, BUILD_LABEL, KIND_LABEL } from './builder.js';
export { buildKindOf, notBuildableReason, packageSpecOf, launchForBuiltPackage, launchForBuiltBundle, runAdditions } from './launch.js';
export { checkBuildPin, buildPinOf, type BuildPin, type BuildPinCheck } from './pins.js';
export { mapManifest, ManifestError, type McpbLaunch } from './mcpb-manifest.js';
export type { McpbOptions } from './mcpb.js';
export { BuildError, describeBuildError, CA_ENV, CA_PATH, type BuildKind, type BuildProgress, type BuildRecord, type InstalledTree, type PackageSpec, type ProgressFn, type RunnersConfig } from './types.js';
import type { RegistryConfig } from '../../config/config.js';
import type { RunnersConfig } from './types.js';

/** The runners' settings out of config.yaml (runtime.runners and runtime.caBundle). */
export function runnersConfig(config: Pick<RegistryConfig, 'runtime'>): RunnersConfig {
  const r = config.runtime.runners;
  return { ...r, ...(config.runtime.caBundle ? { caBundle: config.runtime.caBundle } : {}) };
}
