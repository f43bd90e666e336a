/** The PyPI build recipe: PEP 508/440 checks, the install step, and what `uvx` would run. */
import { BuildError, type PackageSpec, type RunnersConfig } from './types.js';
import { downloadMode, explainCommon, imagePathPart, treeOf, type Recipe, RESULT_MARKER } from './recipe.js';

/**
 * PyPI packages (server.json `registryType: pypi`, `runtimeHint: uvx` or `pip`): `pip install --target /app/site
 * <name>==<version>` in a build container on the python runner image; the project's console script (or
 * `python -m <module>`) becomes the entrypoint. What was installed is pip's own install report: every distribution's
 * name, version and archive sha256.
 *
 * uv is not used: the runner images carry pip, which every python image has; the package index is the same.
 */

/** PEP 508 project names. */
const PYPI_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
/** A PEP 440 version (as a catalog writes one); anything else is refused rather than passed to pip. */
const VERSION = /^[0-9][0-9A-Za-z.!+_-]*$/;
const PUBLIC_INDEXES = new Set(['https://pypi.org', 'https://pypi.org/simple', 'https://pypi.python.org/simple', 'https://files.pythonhosted.org']);

// Runs inside the build container (python3, stdlib only). argv[1] is the step's JSON argument.
const SCRIPT = String.raw`
import configparser, json, os, subprocess, sys
a = json.loads(sys.argv[1])
cmd = [sys.executable, '-m', 'pip', 'install', '--target', '/app/site', '--no-cache-dir', '--disable-pip-version-check',
       '--no-input', '--progress-bar', 'off', '--no-warn-script-location', '--report', '/tmp/pip-report.json',
       '--index-url', a['index'], a['req']]
if a['onlyBinary']:
    cmd[4:4] = ['--only-binary', ':all:']
r = subprocess.run(cmd, stdout=sys.stderr)
if r.returncode:
    sys.exit(r.returncode)
report = json.load(open('/tmp/pip-report.json'))
installed, scripts, top = [], {}, None
for i in report.get('install', []):
    meta, info = i.get('metadata', {}), i.get('download_info', {})
    archive = info.get('archive_info') or {}
    sha = (archive.get('hashes') or {}).get('sha256') or (archive.get('hash') or '').replace('sha256=', '')
    item = {'name': meta.get('name', ''), 'version': meta.get('version', ''), 'sha256': sha, 'url': info.get('url', '')}
    installed.append(item)
    if i.get('requested'):
        top = item
if top:
    norm = lambda s: s.lower().replace('-', '_').replace('.', '_')
    for d in os.listdir('/app/site'):
        if d.endswith('.dist-info') and norm(d[:-10].rsplit('-', 1)[0]) == norm(top['name']):
            ep = os.path.join('/app/site', d, 'entry_points.txt')
            if os.path.exists(ep):
                c = configparser.ConfigParser(interpolation=None)
                c.read(ep)
                if c.has_section('console_scripts'):
                    scripts = dict(c.items('console_scripts'))
print('\n' + a['marker'] + json.dumps({'python': sys.executable, 'installed': installed, 'top': top, 'scripts': scripts,
      'pyver': '%d.%d' % sys.version_info[:2]}))
`;

interface PipResult {
  python: string;
  installed: { name: string; version: string; sha256: string; url: string }[];
  top: { name: string; version: string } | null;
  scripts: Record<string, string>;
}

export function pypiRecipe(spec: PackageSpec, runners: RunnersConfig, rootless: boolean): Recipe {
  const name = spec.identifier.trim();
  if (!PYPI_NAME.test(name)) {
    throw new BuildError(`"${spec.identifier}" is not a PyPI project name`, { package: spec.identifier, code: 'invalid', fix: 'fix the catalog entry: a pypi identifier is a project name such as mcp-server-time' });
  }
  const index = indexFor(spec, runners, name);
  const version = spec.version?.trim();
  if (version && version !== 'latest' && !VERSION.test(version)) {
    throw new BuildError(`${name}: "${spec.version}" is not a PyPI version`, { package: name, source: index, code: 'invalid', fix: 'fix the entry\'s version (e.g. 1.2.3)' });
  }
  const exact = version && version !== 'latest' ? version : undefined;
  const { mode, network } = downloadMode(rootless, index);
  // Without its own network the install may not build from source: a build backend is package code.
  const arg = JSON.stringify({ index, req: exact ? `${name}==${exact}` : name, onlyBinary: mode === 'split', marker: RESULT_MARKER });
  return {
    kind: 'pypi',
    package: name,
    imageName: imagePathPart(name),
    ...(exact ? { version: exact } : { requestedVersion: 'latest' }),
    baseImage: runners.pypi.image,
    source: index,
    mode,
    steps: [{ phase: 'install', network, command: ['python3', '-c', SCRIPT, arg] }],
    finish(result) {
      const r = result as PipResult | undefined;
      if (!r?.top) throw new BuildError(`${name}: the build printed no result`, { package: name, source: index, code: 'failed' });
      const tree = treeOf(r.installed.map((i) => ({ name: i.name.toLowerCase(), version: i.version, integrity: i.sha256 ? `sha256:${i.sha256}` : i.url })));
      // The requested distribution's archive, named as `sign` names it (identifier==version, file): what a signature covers.
      const top = r.installed.find((i) => i.name === r.top!.name && i.version === r.top!.version);
      const file = top?.url ? decodeURIComponent(top.url.split('/').pop() ?? '') : '';
      const installed = top?.sha256 ? [{ kind: 'pypi' as const, ref: `${name}==${r.top.version}`, digest: `sha256:${top.sha256}`, ...(file ? { file } : {}) }] : [];
      return { package: r.top.name, version: r.top.version, tree, installed, entrypoint: entrypointOf(r, name), env: { PYTHONPATH: '/app/site', PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' } };
    },
    explain(output) {
      if (/No matching distribution found|Could not find a version that satisfies/.test(output)) {
        const sourceOnly = mode === 'split' ? ` (this build installs wheels only: a project published only as source needs a build container with its own network, i.e. rootful podman and an index it can reach)` : '';
        return { code: 'not-found', why: `${index} has no installable ${name}${exact ? ` ${exact}` : ''}${sourceOnly}`, fix: `check the entry's identifier and version, or set runtime.runners.pypi.index to an index that serves ${name}` };
      }
      if (/\b40[13]\b.*(?:Unauthorized|Forbidden)|HTTP error 40[13]/i.test(output)) {
        return { code: 'auth', why: `${index} refused to serve ${name} without credentials`, fix: 'builds carry no credentials: use an index or mirror that serves it anonymously (runtime.runners.pypi.index)' };
      }
      return explainCommon(output, index);
    },
  };
}

function indexFor(spec: PackageSpec, runners: RunnersConfig, name: string): string {
  const configured = runners.pypi.index;
  const asked = spec.registryBaseUrl?.trim().replace(/\/+$/, '');
  if (asked && !PUBLIC_INDEXES.has(asked) && asked !== configured.replace(/\/+$/, '')) {
    throw new BuildError(`${name}: its catalog entry installs from ${asked}, which is not PyPI nor the index configured (${configured})`, {
      package: name,
      source: asked,
      code: 'unsupported',
      fix: `if you trust that index, set runtime.runners.pypi.index: ${asked} in config.yaml`,
    });
  }
  return configured;
}

/** What `uvx <name>` would run: the console script named like the project, the only one, or `python -m <module>`. */
function entrypointOf(r: PipResult, name: string): string[] {
  const norm = (s: string) => s.toLowerCase().replace(/[-_.]+/g, '-');
  const scripts = Object.keys(r.scripts ?? {});
  const script = scripts.find((s) => norm(s) === norm(name)) ?? (scripts.length === 1 ? scripts[0] : scripts.sort()[0]);
  if (script) return [r.python || 'python3', `/app/site/bin/${script}`];
  return [r.python || 'python3', '-m', name.toLowerCase().replace(/[-.]/g, '_')];
}
