/** How an entry's launch runs (image, oci, npm, pypi, mcpb, remote…), and whether it can run here. */
import type { Launch, PackageLaunch } from './entry.js';

/**
 * How a launch runs here, and whether it starts at all: the one place that says so for registry-find
 * (`runs`, `runnable`), registry-info and the launch choice, so `--runnable` is true only for what really starts.
 * Packages of the built kinds (npm, PyPI) are installed once into a local image (src/runtime/build/) and then run
 * like any image.
 */

export type RunKind = 'image' | 'oci' | 'npm' | 'pypi' | 'mcpb' | 'remote' | 'poci' | 'inferred' | 'other';

export interface RunnerOf {
  runs: RunKind;
  /** It starts here (given its settings, trust and a working podman). */
  runnable: boolean;
  /** Why not, one sentence (only when not runnable). */
  reason?: string;
  /** The package is built into a local image on first start (npm, PyPI). */
  built?: boolean;
}

/** npm (also `runtimeHint: npx`) and PyPI (`uvx`, `pip`) packages are built here; the hint never turns an OCI package into one. */
export function packageKindOf(l: Pick<PackageLaunch, 'registryType' | 'runtimeHint'>): RunKind {
  const type = l.registryType.toLowerCase();
  const hint = l.runtimeHint?.toLowerCase();
  if (type === 'oci') return 'oci';
  if (type === 'npm' || hint === 'npx') return 'npm';
  if (type === 'pypi' || hint === 'uvx' || hint === 'pip' || hint === 'pipx') return 'pypi';
  if (type === 'mcpb') return 'mcpb';
  return 'other';
}

export function runnerOf(l: Launch): RunnerOf {
  // Read from a detail page, not published: it runs as what it names (npm, PyPI, image), and always asks first.
  if ((l.type === 'package' || l.type === 'image') && l.inferred) {
    const r = runnerOf({ ...l, inferred: undefined });
    return { ...r, runs: 'inferred' };
  }
  switch (l.type) {
    case 'image':
      return { runs: 'image', runnable: true };
    case 'remote':
      return { runs: 'remote', runnable: true };
    case 'poci':
      // Its tools are served by the registry; each call runs the tool's own container (runtime/poci/).
      return { runs: 'poci', runnable: true };
    case 'package': {
      const runs = packageKindOf(l);
      const transport = l.transport?.type ?? 'stdio';
      if (runs === 'other') return { runs, runnable: false, reason: `its ${l.registryType} package ${l.identifier} has no runner here (npm, PyPI and OCI packages run; a ${l.registryType} package needs its own tooling)` };
      // An OCI image that serves HTTP runs with its port published on loopback (runtime/mounts/http-container-launcher.ts).
      if (runs === 'oci' && (transport === 'stdio' || transport === 'streamable-http' || transport === 'sse')) return { runs, runnable: true };
      if (transport !== 'stdio') {
        return { runs, runnable: false, reason: `its ${runs === 'oci' ? 'OCI' : runs} package ${l.identifier} serves over ${transport}; only OCI images run over HTTP here (other packages over stdio)` };
      }
      if (runs === 'oci') return { runs, runnable: true };
      return { runs, runnable: true, built: true };
    }
  }
}

/** The entry's launches as find shows them: each distinct way it runs, the runnable ones first. */
export function runKindsOf(launches: readonly Launch[]): RunKind[] {
  const r = launches.map(runnerOf);
  return [...new Set([...r.filter((x) => x.runnable), ...r.filter((x) => !x.runnable)].map((x) => x.runs))];
}

/** Why none of the launches starts here, one sentence per way it is published; undefined when one does. */
export function notRunnableWhy(launches: readonly Launch[]): string | undefined {
  const r = launches.map(runnerOf);
  if (r.some((x) => x.runnable)) return undefined;
  if (!r.length) return 'it lists no way to run it (no image, package or remote endpoint)';
  return [...new Set(r.map((x) => x.reason!))].join('; ');
}
