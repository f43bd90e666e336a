/** The npm build recipe: package name and version rules, an offline install, and the bin `npx` would run. */
import { BuildError, type PackageSpec, type RunnersConfig } from './types.js';
import { downloadMode, explainCommon, imagePathPart, treeOf, type Recipe, RESULT_MARKER } from './recipe.js';

/**
 * npm packages (server.json `registryType: npm`, `runtimeHint: npx`): `npm install <name>@<version>` into /app of a
 * build container on the npm runner image, then the package's bin becomes the image's entrypoint. What was installed
 * is the lockfile: every package's path, version and integrity, hashed into the record's tree digest.
 */

/** npm's package-name rules (validate-npm-package-name): lower case, URL-safe, an optional @scope/. */
const NPM_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
/** An exact semver version. Anything else (a tag, a range) is resolved by the build and recorded. */
const EXACT = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
/** What may stand after `name@`: a version, a range or a tag — never a URL, a path or a git spec. */
const VERSION_OR_RANGE = /^[0-9A-Za-z.+\-^~<>=| *]+$/;
/** Registries a catalog entry may name itself; any other one must be configured (runtime.runners.npm.registry). */
const PUBLIC_REGISTRIES = new Set(['https://registry.npmjs.org', 'https://registry.npmjs.com']);

// Runs inside the build container (node, CommonJS, no dependencies). argv[1] is the step's JSON argument.
const SCRIPT = String.raw`
const { spawnSync } = require('child_process');
const fs = require('fs');
const a = JSON.parse(process.argv[1]);
process.chdir('/app');
const npm = (args) => {
  const r = spawnSync('npm', args, { stdio: ['ignore', 2, 2] });
  if (r.error) { console.error('cannot run npm: ' + r.error.message); process.exit(127); }
  if (r.status !== 0) process.exit(r.status || 1);
};
const common = ['--no-audit', '--no-fund', '--no-update-notifier', '--omit=dev', '--registry', a.registry];
if (a.phase === 'install') {
  fs.writeFileSync('package.json', JSON.stringify({ name: 'mcp-registry-package', private: true }));
  npm(['install', '--save-exact', '--loglevel=http', ...common, ...(a.scripts ? ['--foreground-scripts'] : ['--ignore-scripts']), a.spec]);
} else {
  npm(['rebuild', '--foreground-scripts', ...common]);
}
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
const top = JSON.parse(fs.readFileSync('node_modules/' + a.name + '/package.json', 'utf8'));
process.stdout.write('\n' + a.marker + JSON.stringify({
  node: process.execPath,
  packages: lock.packages || {},
  top: { name: top.name, version: top.version, bin: top.bin, main: top.main },
}) + '\n');
`;

interface LockPackage {
  version?: string;
  integrity?: string;
  resolved?: string;
  hasInstallScript?: boolean;
  link?: boolean;
}

interface NpmResult {
  node: string;
  packages: Record<string, LockPackage>;
  top: { name: string; version: string; bin?: string | Record<string, string>; main?: string };
}

export function npmRecipe(spec: PackageSpec, runners: RunnersConfig, rootless: boolean): Recipe {
  const name = spec.identifier.trim();
  if (!NPM_NAME.test(name)) {
    throw new BuildError(`"${spec.identifier}" is not an npm package name`, { package: spec.identifier, code: 'invalid', fix: 'fix the catalog entry: an npm identifier is a package name such as @scope/name' });
  }
  const registry = registryFor(spec, runners, name);
  const wanted = spec.version?.trim() || 'latest';
  if (!VERSION_OR_RANGE.test(wanted)) {
    throw new BuildError(`${name}: "${spec.version}" is not an npm version, range or tag`, { package: name, source: registry, code: 'invalid', fix: 'fix the entry\'s version (e.g. 1.2.3)' });
  }
  const exact = EXACT.test(wanted) ? wanted : undefined;
  const { mode, network } = downloadMode(rootless, registry);
  const arg = (phase: 'install' | 'scripts', scripts: boolean) =>
    JSON.stringify({ phase, scripts, registry, spec: `${name}@${wanted}`, name, marker: RESULT_MARKER });
  const steps: Recipe['steps'] =
    mode === 'networked'
      ? [{ phase: 'install', network, command: ['node', '-e', SCRIPT, arg('install', true)] }]
      : [
          { phase: 'install', network, command: ['node', '-e', SCRIPT, arg('install', false)] },
          // Only when some package has install scripts: they run here, with no network at all.
          { phase: 'scripts', network: 'none', command: ['node', '-e', SCRIPT, arg('scripts', true)], skip: (prev) => !hasInstallScripts(prev as NpmResult) },
        ];
  return {
    kind: 'npm',
    package: name,
    imageName: name.replace(/^@/, '').split('/').map(imagePathPart).join('/'),
    ...(exact ? { version: exact } : { requestedVersion: wanted }),
    baseImage: runners.npm.image,
    source: registry,
    mode,
    steps,
    finish(result) {
      const r = result as NpmResult | undefined;
      if (!r?.top?.version || !r.packages) throw new BuildError(`${name}: the build printed no result`, { package: name, source: registry, code: 'failed' });
      const tree = treeOf(
        Object.entries(r.packages)
          .filter(([path]) => path !== '')
          .map(([path, p]) => ({ name: path.replace(/^.*node_modules\//, ''), version: p.version ?? '', integrity: p.integrity ?? p.resolved ?? (p.link ? 'link' : '') })),
      );
      // The catalog's package as installed, named as `sign` names it (identifier@version): what a signature covers.
      const integrity = r.packages[`node_modules/${name}`]?.integrity;
      const installed = integrity ? [{ kind: 'npm' as const, ref: `${name}@${r.top.version}`, digest: integrity }] : [];
      return { package: r.top.name || name, version: r.top.version, tree, installed, entrypoint: [r.node || 'node', `/app/node_modules/${name}/${binOf(r.top, name)}`], env: { NODE_ENV: 'production' } };
    },
    explain(output) {
      if (/\bE404\b|404 Not Found/.test(output)) {
        return { code: 'not-found', why: `${registry} has no package ${name}`, fix: `check the entry's identifier, or set runtime.runners.npm.registry to the registry that serves ${name}` };
      }
      if (/\bETARGET\b|No matching version found/.test(output)) {
        return { code: 'not-found', why: `${registry} has no version ${wanted} of ${name}`, fix: 'check the entry\'s version, or point runtime.runners.npm.registry at a registry (or mirror) that has it' };
      }
      if (/\bE401\b|\bE403\b|ENEEDAUTH/.test(output)) {
        return { code: 'auth', why: `${registry} refused to serve ${name} without credentials`, fix: 'builds carry no credentials: use a registry or mirror that serves it anonymously (runtime.runners.npm.registry)' };
      }
      return explainCommon(output, registry);
    },
  };
}

/**
 * The registry to install from: the configured one. A catalog's registryBaseUrl is accepted only when it is the
 * public registry (a catalog must not make the build container fetch from wherever it likes, a LAN address included).
 */
function registryFor(spec: PackageSpec, runners: RunnersConfig, name: string): string {
  const configured = runners.npm.registry;
  const asked = spec.registryBaseUrl?.trim().replace(/\/+$/, '');
  if (asked && !PUBLIC_REGISTRIES.has(asked) && asked !== configured.replace(/\/+$/, '')) {
    throw new BuildError(`${name}: its catalog entry installs from ${asked}, which is not the public npm registry nor the one configured (${configured})`, {
      package: name,
      source: asked,
      code: 'unsupported',
      fix: `if you trust that registry, set runtime.runners.npm.registry: ${asked} in config.yaml`,
    });
  }
  return configured;
}

/** The file `npx <name>` would run: the bin named like the package, the only bin, or `main`. */
export function binOf(pkg: NpmResult['top'], name: string): string {
  const clean = (p: string) => p.replace(/^\.\//, '');
  if (typeof pkg.bin === 'string') return clean(pkg.bin);
  const bins = Object.entries(pkg.bin ?? {});
  const unscoped = name.replace(/^@[^/]+\//, '');
  const named = bins.find(([k]) => k === unscoped) ?? bins.find(([k]) => k === name);
  if (named) return clean(named[1]);
  if (bins.length) return clean(bins[0]![1]);
  if (pkg.main) return clean(pkg.main);
  throw new BuildError(`${name} has no "bin" and no "main" in its package.json: there is nothing to run`, { package: name, code: 'unsupported', fix: 'this package is not a runnable server; pick another launch of the entry' });
}

function hasInstallScripts(r: NpmResult | undefined): boolean {
  return Object.values(r?.packages ?? {}).some((p) => p.hasInstallScript);
}
