/** Building MCPB bundles: fetching under the URL guard, hash checks, safe unzip, the bundle's image tag. */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { checkRemoteUrl, guardedFetch, type RemoteGuardOptions } from '../../governance/url-guard.js';
import { BuildError, type PackageSpec, type RunnersConfig } from './types.js';
import { imagePathPart, type Recipe } from './recipe.js';
import { ManifestError, mapManifest } from './mcpb-manifest.js';

/**
 * MCPB bundles (server.json `registryType: mcpb`): the bundle is downloaded on the host (through the URL guard),
 * its sha256 checked against the catalog's `fileSha256` (no match, no build; no published hash, no build unless
 * allowed), unpacked (yauzl: no absolute paths, no "..", sizes checked) and copied into /app of an image made from
 * the node runner (node and binary bundles) or the python runner. Nothing of the bundle runs during the build: its
 * dependencies are bundled. The image is tagged by the bundle's hash: a bundle is what its bytes are.
 */

export interface McpbOptions {
  /** Which bundle URLs may be fetched (default: https to public addresses only). */
  download?: RemoteGuardOptions;
  /** Build a bundle whose catalog entry publishes no fileSha256 (policy's call; the default is to refuse). */
  allowUnverified?: boolean;
  /** Largest bundle accepted, and largest total unpacked size (defaults 512 MiB and 2 GiB). */
  maxBytes?: number;
  maxUnpackedBytes?: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

export async function mcpbRecipe(spec: PackageSpec, runners: RunnersConfig, opts: McpbOptions = {}, onProgress?: (msg: string) => void): Promise<Recipe> {
  const url = spec.identifier.trim();
  const expected = spec.fileSha256?.trim().toLowerCase().replace(/^sha256:/, '');
  const label = bundleName(url);
  if (expected !== undefined && !SHA256.test(expected)) {
    throw new BuildError(`${label}: the catalog's fileSha256 "${spec.fileSha256}" is not a sha256 (64 hex digits)`, { package: label, source: url, code: 'checksum', fix: 'fix the catalog entry\'s fileSha256' });
  }
  if (!expected && !opts.allowUnverified) {
    throw new BuildError(`${label}: its catalog entry publishes no fileSha256, so the bundle cannot be verified; it is not built`, {
      package: label,
      source: url,
      code: 'checksum',
      fix: 'ask the publisher to add fileSha256 to the server.json package, or set allowUnverifiedBundles: true for this entry in policy.yaml (entries."<id>"), if you trust its source',
    });
  }
  const check = await checkRemoteUrl(url, opts.download);
  if (!check.ok) throw new BuildError(`${label}: the bundle URL is refused: ${check.reason}`, { package: label, source: url, code: 'unreachable' });

  const work = await mkdtemp(join(tmpdir(), 'mcp-registry-mcpb-'));
  const cleanup = () => rm(work, { recursive: true, force: true });
  try {
    const file = join(work, 'bundle.mcpb');
    onProgress?.(`downloading ${url}`);
    const { sha256, bytes } = await download(check.url, file, opts, label);
    if (expected && sha256 !== expected) {
      throw new BuildError(`${label}: the bundle's sha256 is ${sha256}, but its catalog entry says ${expected}: the bytes are not the ones published, so it is not built`, {
        package: label,
        source: url,
        code: 'checksum',
        fix: 'do not run it; if the publisher replaced the bundle on purpose, the catalog entry must publish the new fileSha256',
      });
    }
    onProgress?.(`downloaded ${bytes} bytes, sha256 ${sha256}${expected ? ' (matches the catalog)' : ' (unverified: the catalog publishes none)'}`);
    const app = join(work, 'app');
    await unpack(file, app, opts.maxUnpackedBytes ?? 2 * 1024 ** 3, label);
    await rm(file);
    let manifest: unknown;
    try {
      manifest = JSON.parse(await readFile(join(app, 'manifest.json'), 'utf8'));
    } catch (err) {
      throw new BuildError(`${label}: the bundle has no readable manifest.json (${(err as Error).message})`, { package: label, source: url, code: 'unsupported', fix: 'this is not an MCPB bundle' });
    }
    let mapped;
    try {
      mapped = mapManifest(manifest);
    } catch (err) {
      if (err instanceof ManifestError) throw new BuildError(`${label}: ${err.message}`, { package: label, source: url, code: 'unsupported' });
      throw err;
    }
    const tree = { digest: `sha256:${sha256}`, packages: [`${mapped.name}@${mapped.version}`] };
    return {
      kind: 'mcpb',
      package: mapped.name,
      imageName: imagePathPart(label),
      tag: `sha256-${sha256.slice(0, 16)}`,
      version: mapped.version,
      baseImage: mapped.serverType === 'python' ? runners.pypi.image : runners.npm.image,
      source: url,
      mode: 'networked',
      copyIn: app,
      steps: [],
      // The bytes downloaded, named by the bundle's URL as `sign` names it: what a signature covers.
      finish: () => ({ package: mapped.name, version: mapped.version, tree, installed: [{ kind: 'mcpb' as const, ref: url, digest: `sha256:${sha256}` }], entrypoint: [], cmd: mapped.launch.command, env: {}, mcpb: mapped }),
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The tag an already built bundle has, when the catalog publishes its hash (found without downloading). */
export function mcpbTag(spec: PackageSpec): { imageName: string; tag: string } | undefined {
  const sha = spec.fileSha256?.trim().toLowerCase().replace(/^sha256:/, '');
  return sha && SHA256.test(sha) ? { imageName: imagePathPart(bundleName(spec.identifier)), tag: `sha256-${sha.slice(0, 16)}` } : undefined;
}

function bundleName(url: string): string {
  try {
    const base = posix.basename(new URL(url).pathname).replace(/\.(mcpb|dxt|zip)$/i, '');
    return base || 'bundle';
  } catch {
    return 'bundle';
  }
}

async function download(url: URL, file: string, opts: McpbOptions, label: string): Promise<{ sha256: string; bytes: number }> {
  const max = opts.maxBytes ?? 512 * 1024 ** 2;
  const guarded = guardedFetch(url, opts.download);
  try {
    const res = await guarded.fetch(url, { redirect: 'follow' });
    if (!res.ok || !res.body) throw new BuildError(`${label}: downloading ${url.href} answered HTTP ${res.status}`, { package: label, source: url.href, code: res.status === 404 ? 'not-found' : 'unreachable', fix: 'check the bundle URL in the catalog entry' });
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > max) throw new BuildError(`${label}: the bundle is ${declared} bytes, more than the ${max} accepted`, { package: label, source: url.href, code: 'unsupported' });
    const hash = createHash('sha256');
    let bytes = 0;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > max) body.destroy(new BuildError(`${label}: the bundle is more than the ${max} bytes accepted`, { package: label, source: url.href, code: 'unsupported' }));
      hash.update(chunk);
    });
    await pipeline(body, createWriteStream(file, { mode: 0o600 }));
    return { sha256: hash.digest('hex'), bytes };
  } catch (err) {
    if (err instanceof BuildError) throw err;
    throw new BuildError(`${label}: cannot download ${url.href}: ${(err as Error).message}`, { package: label, source: url.href, code: 'unreachable', fix: 'check the URL and this machine\'s network' });
  } finally {
    await guarded.close().catch(() => undefined);
  }
}

/** Unpack a zip into `dir`: regular files and folders only, modes kept (a bundled binary stays executable). */
async function unpack(file: string, dir: string, maxTotal: number, label: string): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, z) => (err ? reject(err) : resolve(z))),
  ).catch((err: Error) => {
    throw new BuildError(`${label}: the bundle is not a zip archive (${err.message})`, { package: label, code: 'unsupported' });
  });
  let total = 0;
  await mkdir(dir, { recursive: true });
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', resolve);
      zip.on('entry', (entry: yauzl.Entry) => {
        const target = join(dir, entry.fileName);
        const mode = (entry.externalFileAttributes >>> 16) & 0o170777;
        const kind = mode & 0o170000;
        if (/\/$/.test(entry.fileName)) {
          mkdir(target, { recursive: true }).then(() => zip.readEntry(), reject);
          return;
        }
        // A symbolic link could point anywhere once unpacked; bundles need none.
        if (kind === 0o120000) return reject(new Error(`${entry.fileName} is a symbolic link`));
        total += entry.uncompressedSize;
        if (total > maxTotal) return reject(new Error(`it unpacks to more than ${maxTotal} bytes`));
        zip.openReadStream(entry, (err, stream) => {
          if (err) return reject(err);
          mkdir(dirname(target), { recursive: true })
            .then(() => pipeline(stream, createWriteStream(target, { mode: 0o644 })))
            .then(() => (mode & 0o111 ? chmod(target, 0o755) : undefined))
            .then(() => zip.readEntry(), reject);
        });
      });
      zip.readEntry();
    });
  } catch (err) {
    throw new BuildError(`${label}: the bundle cannot be unpacked: ${(err as Error).message}`, { package: label, code: 'unsupported' });
  } finally {
    zip.close();
  }
}
