/** MCPB bundles at start: their manifest's user_config on the entry's config, and the launch of a built bundle. */
import type { Entry, EntryConfig, PackageLaunch } from '../../model/entry.js';
import type { LaunchChoice } from '../../model/launch-choice.js';
import { launchSourceOf } from '../../model/launch-choice.js';
import type { RegistryConfig } from '../../config/config.js';
import type { Podman } from '../podman/podman.js';
import { PackageBuilder } from './builder.js';
import { runnersConfig } from './index.js';
import { launchForBuiltBundle, packageSpecOf } from './launch.js';
import { mcpbTag } from './mcpb.js';
import { builtImageRef } from './recipe.js';
import type { BuildRecord } from './types.js';

/**
 * A bundle's settings and secrets are in its manifest (user_config), which only the bundle's bytes carry: once it is
 * built (the manifest mapping is kept in the image's record label), the entry's config is the catalog's plus the
 * manifest's — so registry-config-set takes its options, registry-info lists them and the planner passes them (a
 * sensitive one as a secret: a bare `-e NAME`, never an argument). Before the first build, the first registry-add
 * builds it and then says what is missing.
 */

export function isBundleLaunch(l: LaunchChoice['launch'] | undefined): l is PackageLaunch {
  return l?.type === 'package' && l.registryType.toLowerCase() === 'mcpb';
}

/** The catalog's config with the manifest's options added (the catalog's own names win). */
export function withBundleConfig(base: EntryConfig, bundle: NonNullable<BuildRecord['mcpb']>['config']): EntryConfig {
  const props = { ...((bundle.parameters?.properties as Record<string, unknown> | undefined) ?? {}), ...((base.parameters?.properties as Record<string, unknown> | undefined) ?? {}) };
  const required = [...new Set([...((base.parameters?.required as string[] | undefined) ?? []), ...((bundle.parameters?.required as string[] | undefined) ?? [])])];
  const have = new Set(base.secrets.map((s) => s.name));
  return {
    ...base,
    ...(Object.keys(props).length ? { parameters: { ...(base.parameters ?? {}), type: 'object', properties: props, ...(required.length ? { required } : {}) } } : {}),
    secrets: [...base.secrets, ...bundle.secrets.filter((s) => !have.has(s.name))],
    env: [...base.env, ...bundle.env],
  };
}

/** The built bundle as the planner runs it: an image launch of the built image, with the manifest's command and options. */
export function bundleChoice(choice: LaunchChoice, record: BuildRecord): LaunchChoice {
  return { ...choice, launch: launchForBuiltBundle(record, choice.launch.source), config: withBundleConfig(choice.config, record.mcpb!.config) };
}

/** Before the build: the image it builds to (tagged by the published hash), so a preview shows user, network and mounts. */
export function plannedBundleChoice(choice: LaunchChoice): LaunchChoice {
  const spec = packageSpecOf(choice.launch as PackageLaunch)!;
  const t = mcpbTag(spec);
  const image = t ? builtImageRef('mcpb', t.imageName, t.tag) : 'localhost/mcp-registry/mcpb/unverified:unresolved';
  return { ...choice, launch: { type: 'image', ...(choice.launch.source ? { source: choice.launch.source } : {}), image } };
}

/**
 * The entry with the options of each of its bundles that is built here (an image found by its published hash; no
 * download). Entries without a bundle are returned as they are, without a podman call.
 */
export async function entryWithBuiltBundles(entry: Entry, podman: Podman, runtime: Pick<RegistryConfig['runtime'], 'runners' | 'caBundle'>): Promise<Entry> {
  const bundles = entry.launch.filter(isBundleLaunch);
  if (!bundles.length) return entry;
  const builder = new PackageBuilder({ podman, runners: runnersConfig({ runtime } as Pick<RegistryConfig, 'runtime'>) });
  let out = entry;
  for (const l of bundles) {
    const rec = await builder.find(packageSpecOf(l)!).catch(() => null);
    if (!rec?.mcpb) continue;
    const source = launchSourceOf(entry, l);
    if (out.configs?.[source]) out = { ...out, configs: { ...out.configs, [source]: withBundleConfig(out.configs[source]!, rec.mcpb.config) } };
    else out = { ...out, config: withBundleConfig(out.config, rec.mcpb.config) };
  }
  return out;
}
