/**
 * The shapes the package builders share with the launcher: what to build (a PackageSpec), how the runners are
 * configured (RunnersConfig, from config.yaml's runtime.runners and runtime.caBundle), and what a build returns (a
 * BuildRecord: the built image, what was installed, and how to run it).
 */

export type BuildKind = 'npm' | 'pypi' | 'mcpb';

export interface PackageSpec {
  kind: BuildKind;
  /** The npm package name, the PyPI project name, or the MCPB bundle's URL. */
  identifier: string;
  /** The entry's version. Missing (or a tag or range): the build resolves it once and the record says so. */
  version?: string;
  /** server.json's registryBaseUrl. Only the public registry is taken from a catalog; a private one is config. */
  registryBaseUrl?: string;
  /** MCPB: the sha256 (hex) the catalog publishes for the bundle. */
  fileSha256?: string;
}

export interface RunnersConfig {
  npm: { image: string; registry: string };
  pypi: { image: string; index: string };
  buildTimeout: number;
  buildMemory: string;
  /** How long registry-add waits for a build before it answers "preparing" (the build goes on). */
  buildWait?: number;
  /** Host path of a PEM bundle mounted read-only into build and (networked) run containers. */
  caBundle?: string;
}

/** Where the CA bundle is mounted inside containers, and the variables that name it for node, python and pip. */
export const CA_PATH = '/etc/mcp-registry/ca-bundle.crt';
export const CA_ENV = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'PIP_CERT', 'REQUESTS_CA_BUNDLE'] as const;

/** What was installed, in a form two builds can be compared by. */
export interface InstalledTree {
  /** `sha256:<hex>` over every installed package's name, version and integrity (npm lockfile, pip hashes, bundle). */
  digest: string;
  /** `name@version` of every installed package, sorted (for a readable difference). */
  packages: string[];
}

export interface BuildRecord {
  kind: BuildKind;
  /** npm name, PyPI project name (as published), or the bundle's name. */
  package: string;
  /** The exact version that was installed. */
  version: string;
  /** Set when the catalog named no exact version: what it asked for ("latest", a range). Show and record it. */
  requestedVersion?: string;
  /** `localhost/mcp-registry/<kind>/<name>:<version>`. */
  image: string;
  imageId: string;
  /** Where it was installed from: the npm registry, the package index, or the bundle URL. */
  source: string;
  baseImage: string;
  baseImageId: string;
  tree: InstalledTree;
  /** The image's entrypoint: the server's command (package arguments are appended after it). */
  entrypoint: string[];
  /** Environment the image sets (PYTHONPATH …). */
  env: Record<string, string>;
  /**
   * `networked`: one build container with its own network ran the install and its scripts. `split`: the download
   * ran with the host's network and no package code; install scripts (if any) ran in a container without network.
   */
  mode: 'networked' | 'split';
  /** Images made on the way (split builds), removed with the image. */
  intermediate?: string[];
  builtAt: string;
  /** MCPB: the manifest's launch, mapped onto an image launch and the entry's settings and secrets. */
  mcpb?: import('./mcpb-manifest.js').McpbLaunch;
  /**
   * The artefact the catalog named, as installed, in the form a signature states it (signing/signing.ts): the npm
   * package's lockfile integrity, the wheel's sha256, the bundle's sha256. Checked against the signed digests at
   * launch (governance/launch-signature.ts). Missing in records of images built before it was kept.
   */
  installed?: import('../../model/entry.js').ArtefactDigest[];
}

export interface BuildProgress {
  kind: BuildKind;
  package: string;
  phase: 'base' | 'download' | 'install' | 'scripts' | 'commit' | 'done';
  message: string;
  elapsedMs: number;
}

export type ProgressFn = (p: BuildProgress) => void;

export class BuildError extends Error {
  constructor(
    message: string,
    readonly detail: {
      package: string;
      /** The registry, index or URL it was installed from. */
      source?: string;
      /** What to do about it, one sentence. */
      fix?: string;
      /** The last lines the installer printed. */
      output?: string;
      code?: 'invalid' | 'tls' | 'not-found' | 'unreachable' | 'auth' | 'base-image' | 'checksum' | 'unsupported' | 'timeout' | 'failed';
    },
  ) {
    super(message);
  }
}

/** Installer lines that say nothing about this failure (npm's boilerplate after an E404, its log path, fetch traces). */
const NOISE = /complete log of this run|Note that you can also install|tarball, folder, http url|^npm error 404\s*$|^npm (?:http fetch|verbose|timing)|^\s*$/;

/**
 * A failed build for people: what failed (the package, where from), the fix, and the installer's last telling lines
 * — each once. registry-add and `mcp-registry prepare` both say it this way.
 */
export function describeBuildError(err: BuildError): string {
  const { fix, output, source } = err.detail;
  const telling = (output ?? '').split('\n').filter((l) => !NOISE.test(l)).slice(-3).map((l) => l.trim().slice(0, 200));
  return (
    `${err.message.replace(/\.$/, '')}${source && !err.message.includes(source) ? ` (from ${source})` : ''}.` +
    (fix ? ` Fix: ${fix.replace(/\.$/, '')}.` : '') +
    (telling.length ? ` Last output: ${telling.join(' | ')}` : '')
  );
}
