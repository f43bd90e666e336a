/** A build recipe: its container steps, their network, and the result a build script prints last. */
import { createHash } from 'node:crypto';
import type { BuildKind, BuildRecord, InstalledTree } from './types.js';

/**
 * What one kind of package (npm.ts, pypi.ts, mcpb.ts) tells the builder: which base image, what goes into /app
 * first, which commands run in the build containers, and how to read what they printed into a build record.
 * builder.ts owns the containers; a recipe never touches podman.
 */

/** The line a build script prints last on stdout, followed by its result as JSON. */
export const RESULT_MARKER = '@@mcp-registry-build@@';

export type StepNetwork = 'bridge' | 'host' | 'none';

export interface RecipeStep {
  phase: 'install' | 'scripts';
  network: StepNetwork;
  /** The container's command (the script and its one JSON argument). */
  command: string[];
  /** Skip this step when the previous step's result says there is nothing for it to do. */
  skip?: (previous: unknown) => boolean;
}

export interface RecipeResult {
  package: string;
  version: string;
  tree: InstalledTree;
  entrypoint: string[];
  /** Environment set in the image. */
  env: Record<string, string>;
  /** The image's default arguments (informational: the launcher passes its own). */
  cmd?: string[];
  mcpb?: BuildRecord['mcpb'];
  installed?: BuildRecord['installed'];
}

export interface Recipe {
  kind: BuildKind;
  /** The package's name for messages ("@scope/name", "project", a bundle's name). */
  package: string;
  /** The image's path below localhost/mcp-registry/<kind>/ (lower case). */
  imageName: string;
  /** The exact version, when known before building (then an existing image is found without building). */
  version?: string;
  /** The image tag when it is not the version (MCPB: the bundle's hash). */
  tag?: string;
  /** What the catalog asked for when it is not an exact version ("latest", a range). */
  requestedVersion?: string;
  baseImage: string;
  /** The registry, index or URL, for the record and for messages. */
  source: string;
  mode: BuildRecord['mode'];
  /** A host directory whose content becomes /app before the first step (else /app starts empty). */
  copyIn?: string;
  steps: RecipeStep[];
  /** The record's parts from the last step's printed result (undefined when no step ran). */
  finish(result: unknown): RecipeResult;
  /** A known failure in the installer's output: what it means and what to do. */
  explain?(output: string): { code: NonNullable<import('./types.js').BuildError['detail']['code']>; why: string; fix: string } | undefined;
  /** Called once the build ended (temporary files). */
  cleanup?(): Promise<void>;
}

/** `localhost/mcp-registry/<kind>/<name>:<version>`, the tag made to fit podman's grammar. */
export function builtImageRef(kind: BuildKind, imageName: string, version: string): string {
  return `localhost/mcp-registry/${kind}/${imageName}:${imageTag(version)}`;
}

/** A version as an image tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}` (a semver's "+build" becomes "_build"). */
export function imageTag(version: string): string {
  const t = version.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.-]/, '_');
  return t.slice(0, 128) || '_';
}

/** An image path component: lower case letters and digits, separated by single ".", "_" or "-". */
export function imagePathPart(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/[._-]{2,}/g, '-')
      .replace(/^[._-]+|[._-]+$/g, '') || 'package'
  );
}

/** The digest of an installed tree: one `name\0version\0integrity` line per package, sorted. */
export function treeOf(items: { name: string; version: string; integrity: string }[]): InstalledTree {
  const lines = items.map((i) => `${i.name}\0${i.version}\0${i.integrity}`).sort();
  return {
    digest: `sha256:${createHash('sha256').update(lines.join('\n')).digest('hex')}`,
    packages: [...new Set(items.map((i) => `${i.name}@${i.version}`))].sort(),
  };
}

/** The result a build script printed after RESULT_MARKER, or undefined. */
export function parseResult(stdout: string): unknown {
  const at = stdout.lastIndexOf(RESULT_MARKER);
  if (at < 0) return undefined;
  const line = stdout.slice(at + RESULT_MARKER.length).split('\n')[0]!;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** Failures every installer shares: TLS interception, DNS, refused connections, a full disk. */
export function explainCommon(output: string, source: string): ReturnType<NonNullable<Recipe['explain']>> {
  if (/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERTIFICATE_VERIFY_FAILED|self[- ]signed certificate/i.test(output)) {
    return {
      code: 'tls',
      why: `the connection to ${source} presented a certificate the build container does not trust (TLS is intercepted on this network)`,
      fix: 'set runtime.caBundle in config.yaml to the CA bundle this machine trusts (e.g. /etc/ssl/certs/ca-certificates.crt); it is mounted read-only into build and run containers',
    };
  }
  if (/ENOTFOUND|EAI_AGAIN|Temporary failure in name resolution|Name or service not known|getaddrinfo/i.test(output)) {
    return {
      code: 'unreachable',
      why: `${hostOf(source)} could not be resolved from inside the build container`,
      fix: 'check that this machine reaches it, or point the runner at a mirror you can reach (runtime.runners.npm.registry / runtime.runners.pypi.index)',
    };
  }
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|Connection refused|Network is unreachable|Max retries exceeded/i.test(output)) {
    return {
      code: 'unreachable',
      why: `${source} could not be reached from inside the build container`,
      fix: 'check the network and any proxy, or point the runner at a mirror you can reach (runtime.runners.npm.registry / runtime.runners.pypi.index)',
    };
  }
  if (/ENOSPC|No space left on device/i.test(output)) {
    return { code: 'failed', why: 'the disk (or the build container\'s /tmp) is full', fix: 'free disk space ("mcp-registry status" lists built images and their size) and try again' };
  }
  return undefined;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Whether a registry URL points at this machine (a bridged container cannot reach the host's loopback). */
export function isLoopbackUrl(url: string): boolean {
  try {
    const h = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return h === 'localhost' || h.endsWith('.localhost') || /^127\./.test(h) || h === '::1';
  } catch {
    return false;
  }
}

/**
 * The network of the step that downloads. A rootful container gets its own (bridged) network and the install runs
 * with its scripts in one step. Rootless podman here has no user-mode networking, and a registry on loopback is not
 * reachable from a bridge: then the download runs with the host's network but runs no package code, and the
 * scripts (if any) run in a second container with no network at all.
 */
export function downloadMode(rootless: boolean, source: string): { mode: BuildRecord['mode']; network: StepNetwork } {
  return rootless || isLoopbackUrl(source) ? { mode: 'split', network: 'host' } : { mode: 'networked', network: 'bridge' };
}
