/** The build containers: a package built once into a labelled local image, isolated; recipes say what runs. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createLogger, errorMessage, type Logger } from '../../util/log.js';
import { INSTANCE_LABEL, PodmanError, type Podman } from '../podman/podman.js';
import { mcpbRecipe, mcpbTag, type McpbOptions } from './mcpb.js';
import { npmRecipe } from './npm.js';
import { pypiRecipe } from './pypi.js';
import { builtImageRef, imageTag, parseResult, RESULT_MARKER, type Recipe, type RecipeStep } from './recipe.js';
import { BuildError, CA_ENV, CA_PATH, type BuildKind, type BuildProgress, type BuildRecord, type PackageSpec, type ProgressFn, type RunnersConfig } from './types.js';

/**
 * Builds a package into a local image once, in a build container: network on (its own), no secrets, none of the
 * user's volumes, non-root, no capabilities; install scripts run there and only there. The image is committed as
 * `localhost/mcp-registry/<kind>/<name>:<version>` with the server as its entrypoint and the build record as a
 * label, so a later start (or another registry process) finds it without building. Recipes (npm.ts, pypi.ts,
 * mcpb.ts) say what runs; this module owns the containers.
 */

export const BUILD_LABEL = 'io.mcp-registry.build';
export const KIND_LABEL = 'io.mcp-registry.build.kind';
export const PACKAGE_LABEL = 'io.mcp-registry.build.package';
export const RECORD_LABEL = 'io.mcp-registry.build.record';

export interface BuilderOptions {
  podman: Podman;
  runners: RunnersConfig;
  /** This registry's instance id: build containers carry it, so a registry that is gone has them reaped. */
  instance?: string;
  logger?: Logger;
  mcpb?: McpbOptions;
}

export interface BuildOptions {
  onProgress?: ProgressFn;
  /** Build even when the image exists (a rebuild: its record may differ; compare it with the pins). */
  force?: boolean;
  /** This build's MCPB options (the entry's policy: which URLs, unverified bundles), over the builder's. */
  mcpb?: McpbOptions;
}

export interface BuiltImage {
  image: string;
  imageId: string;
  kind: BuildKind;
  package: string;
  version: string;
  builtAt?: string;
  /** What this image adds to its base image (its own layers). */
  ownBytes: number;
  baseImage?: string;
  baseImageId?: string;
  /** The base image's size: shared by every image built on it, counted once in `totalBytes`. */
  baseBytes?: number;
}

export interface BuiltImages {
  images: BuiltImage[];
  /** Own layers of every image plus each base image once. */
  totalBytes: number;
}

/** At most this much of the build's output is kept for an error message. */
const OUTPUT_TAIL = 40;

export class PackageBuilder {
  private readonly podman: Podman;
  private readonly runners: RunnersConfig;
  private readonly log: Logger;
  private readonly running = new Map<string, Promise<BuildRecord>>();
  private readonly found = new Map<string, BuildRecord>();

  constructor(private readonly opts: BuilderOptions) {
    this.podman = opts.podman;
    this.runners = opts.runners;
    this.log = opts.logger ?? createLogger('build');
  }

  /** The image a spec builds to, when it is known without building (an exact version, an MCPB with its hash). */
  async imageRef(spec: PackageSpec): Promise<string | undefined> {
    if (spec.kind === 'mcpb') {
      const t = mcpbTag(spec);
      return t && builtImageRef('mcpb', t.imageName, t.tag);
    }
    const r = await this.recipe(spec);
    return r.version ? builtImageRef(r.kind, r.imageName, r.version) : undefined;
  }

  /**
   * The record of the already built image for this spec, or null (not built, or its version is not exact). Kept in
   * memory per image ID: podman's own image ID lookup is cached while its image store is unchanged, so a second start
   * costs no `podman image inspect` of its own.
   */
  async find(spec: PackageSpec): Promise<BuildRecord | null> {
    const ref = await this.imageRef(spec);
    if (!ref) return null;
    const id = await this.podman.imageId(ref);
    const known = this.found.get(ref);
    if (!id) {
      this.found.delete(ref);
      return null;
    }
    if (known && known.imageId.replace(/^sha256:/, '') === id.replace(/^sha256:/, '')) return known;
    const rec = await this.inspect(ref);
    if (rec) this.found.set(ref, rec);
    return rec;
  }

  /** Whether this process is building the spec now (registry-add answers "preparing" meanwhile). */
  isBuilding(spec: PackageSpec): boolean {
    return this.running.has(runKey(spec));
  }

  /**
   * Build the spec unless it is built (or `force`). Concurrent calls for the same spec share one build; the promise
   * goes on when a caller stops waiting, so a client that gave up finds the image built later.
   */
  build(spec: PackageSpec, opts: BuildOptions = {}): Promise<BuildRecord> {
    const key = runKey(spec);
    const running = this.running.get(key);
    if (running) return running;
    const p = this.doBuild(spec, opts).finally(() => this.running.delete(key));
    this.running.set(key, p);
    return p;
  }

  private async recipe(spec: PackageSpec, say?: (msg: string) => void, mcpb?: McpbOptions): Promise<Recipe> {
    if (spec.kind === 'npm') return npmRecipe(spec, this.runners, await this.rootless());
    if (spec.kind === 'pypi') return pypiRecipe(spec, this.runners, await this.rootless());
    if (spec.kind === 'mcpb') return mcpbRecipe(spec, this.runners, { ...this.opts.mcpb, ...mcpb }, say);
    throw new BuildError(`"${String((spec as PackageSpec).kind)}" packages cannot be built (npm, pypi and mcpb can)`, { package: (spec as PackageSpec).identifier, code: 'unsupported' });
  }

  private async rootless(): Promise<boolean> {
    return (await this.podman.version())?.rootless ?? false;
  }

  private async doBuild(spec: PackageSpec, opts: BuildOptions): Promise<BuildRecord> {
    const started = Date.now();
    const name = spec.identifier;
    const progress = (phase: BuildProgress['phase'], message: string, pkg = name) =>
      opts.onProgress?.({ kind: spec.kind, package: pkg, phase, message, elapsedMs: Date.now() - started });
    if (!opts.force) {
      const found = await this.find(spec);
      if (found) {
        progress('done', `${found.image} is already built (${found.imageId.slice(0, 12)})`);
        return found;
      }
    }
    const recipe = await this.recipe(spec, (m) => progress('download', m), opts.mcpb);
    try {
      return await this.run(recipe, started, progress);
    } finally {
      await recipe.cleanup?.().catch(() => undefined);
    }
  }

  private async run(recipe: Recipe, started: number, progress: (phase: BuildProgress['phase'], message: string, pkg?: string) => void): Promise<BuildRecord> {
    const deadline = started + this.runners.buildTimeout;
    const baseImageId = await this.baseImage(recipe, (m) => progress('base', m, recipe.package));
    const say = (phase: BuildProgress['phase'], m: string) => progress(phase, m, recipe.package);
    if (recipe.requestedVersion) say('install', `no exact version named (${recipe.requestedVersion}): the build resolves it, and the record keeps the version installed`);
    const facts = await this.podman.version();
    const intermediate: string[] = [];
    let from = recipe.baseImage;
    let result: unknown;
    let container: string | undefined;
    try {
      const steps = recipe.steps.length ? recipe.steps : [undefined];
      for (const [i, step] of steps.entries()) {
        if (step?.skip?.(result)) continue;
        if (container) {
          // An earlier step's container becomes the image the next one starts from.
          from = await this.commit(container, []);
          intermediate.push(from);
          await this.podman.remove([container]);
        }
        container = await this.create(recipe, step, from, facts?.resourceLimits ?? true);
        if (i === 0) await this.copyIn(container, recipe.copyIn);
        if (step) {
          say(step.phase, `${step.phase === 'install' ? 'installing' : 'running install scripts of'} ${recipe.package} from ${recipe.source} (${step.network === 'none' ? 'no network' : step.network === 'host' ? "host network, no package code" : 'own network'})`);
          const out = await this.start(container, recipe, step, deadline, (line) => say(step.phase, line));
          result = parseResult(out) ?? result;
        }
      }
      const r = recipe.finish(result);
      const tag = recipe.tag ?? imageTag(r.version);
      const image = builtImageRef(recipe.kind, recipe.imageName, tag);
      const record: Omit<BuildRecord, 'imageId'> = {
        kind: recipe.kind,
        package: r.package,
        version: r.version,
        ...(recipe.requestedVersion ? { requestedVersion: recipe.requestedVersion } : {}),
        image,
        source: recipe.source,
        baseImage: recipe.baseImage,
        baseImageId,
        tree: r.tree,
        entrypoint: r.entrypoint,
        env: r.env,
        mode: recipe.mode,
        ...(intermediate.length ? { intermediate } : {}),
        builtAt: new Date().toISOString(),
        ...(r.mcpb ? { mcpb: r.mcpb } : {}),
        ...(r.installed ? { installed: r.installed } : {}),
      };
      say('commit', `committing ${image}`);
      const old = await this.podman.imageId(image);
      const changes = [
        `ENTRYPOINT ${JSON.stringify(r.entrypoint)}`,
        `CMD ${JSON.stringify(r.cmd ?? [])}`,
        'WORKDIR /app',
        'USER 65534:65534',
        ...Object.entries(r.env).map(([k, v]) => `ENV ${k}=${JSON.stringify(v)}`),
        `LABEL ${BUILD_LABEL}=1`,
        `LABEL ${KIND_LABEL}=${recipe.kind}`,
        `LABEL ${PACKAGE_LABEL}=${encodeLabel(r.package)}`,
        `LABEL ${RECORD_LABEL}=${encodeLabel(JSON.stringify(record))}`,
      ];
      const imageId = await this.commit(container!, changes, image);
      await this.podman.remove([container!]);
      container = undefined;
      // The image this one replaced (a rebuild) is only taking space now; a container still using it keeps it.
      if (old && old !== imageId) await this.removeImages([old]).catch(() => undefined);
      say('done', `built ${image} (${imageId.slice(0, 12)}) in ${Math.round((Date.now() - started) / 1000)} s: ${r.tree.packages.length} package(s), tree ${r.tree.digest.slice(0, 19)}…`);
      this.log.info(`built ${image}`, { imageId, tree: r.tree.digest, mode: recipe.mode });
      return { ...record, imageId };
    } catch (err) {
      if (container) await this.podman.remove([container]).catch(() => undefined);
      if (intermediate.length) await this.removeImages(intermediate).catch(() => undefined);
      throw err;
    }
  }

  /** The base image's ID: present, or pulled (a local runner image cannot be pulled: say how to build it). */
  private async baseImage(recipe: Recipe, say: (m: string) => void): Promise<string> {
    const ref = recipe.baseImage;
    const id = await this.podman.imageId(ref);
    if (id) return id;
    const setting = recipe.kind === 'pypi' || (recipe.kind === 'mcpb' && ref === this.runners.pypi.image) ? 'runtime.runners.pypi.image' : 'runtime.runners.npm.image';
    if (ref.startsWith('localhost/')) {
      throw new BuildError(`${recipe.package}: the runner image ${ref} (${setting}) does not exist`, {
        package: recipe.package,
        code: 'base-image',
        fix: `build it (bash scripts/build-runner-images.sh), or set ${setting} to an image podman can pull (the default is the official slim image)`,
      });
    }
    say(`pulling the runner image ${ref}`);
    try {
      await this.podman.pull(ref, say);
    } catch (err) {
      throw new BuildError(`${recipe.package}: the runner image ${ref} (${setting}) cannot be pulled: ${errorMessage(err)}`, {
        package: recipe.package,
        code: 'base-image',
        fix: `check the network and registries.conf, or set ${setting} to an image this machine has ("podman images")`,
      });
    }
    const pulled = await this.podman.imageId(ref);
    if (!pulled) throw new BuildError(`${recipe.package}: ${ref} was pulled but podman does not list it`, { package: recipe.package, code: 'base-image' });
    return pulled;
  }

  private async create(recipe: Recipe, step: RecipeStep | undefined, image: string, limits: boolean): Promise<string> {
    const name = `mcp-registry-build-${randomBytes(6).toString('hex')}`;
    const network = step?.network ?? 'none';
    const args = ['create', '--name', name, '--label', `${BUILD_LABEL}=${recipe.kind}/${recipe.imageName}`];
    if (this.opts.instance) args.push('--label', `${INSTANCE_LABEL}=${this.opts.instance}`);
    args.push(
      '--pull', 'never',
      '--user', '65534:65534',
      '--cap-drop', 'ALL',
      '--security-opt', 'no-new-privileges',
      // Nothing of the host's environment: no proxy credentials, no tokens. Only what is set below.
      '--http-proxy=false',
      '--log-driver', 'none',
      '--tmpfs', '/tmp:rw,size=2g,mode=1777',
      '-e', 'HOME=/tmp/home',
      '-e', 'npm_config_cache=/tmp/npm-cache',
      '-e', 'npm_config_update_notifier=false',
      '-e', 'PIP_NO_CACHE_DIR=1',
      '-e', 'PYTHONNOUSERSITE=1',
      '-w', '/',
    );
    if (network === 'none') args.push('--network', 'none');
    else if (network === 'host') args.push('--network', 'host');
    if (limits) args.push('--memory', this.runners.buildMemory, '--pids-limit', '4096');
    if (network !== 'none' && this.runners.caBundle) {
      args.push('-v', `${this.runners.caBundle}:${CA_PATH}:ro`);
      for (const v of CA_ENV) args.push('-e', `${v}=${CA_PATH}`);
    }
    args.push('--', image, ...(step?.command ?? ['/bin/true']));
    await this.must(args, 120_000, recipe);
    return name;
  }

  /** /app of the first container: the recipe's files, or an empty folder — owned by the build user either way. */
  private async copyIn(container: string, dir: string | undefined): Promise<void> {
    const empty = dir ? undefined : await mkdtemp(join(tmpdir(), 'mcp-registry-app-'));
    try {
      // podman cp gives what it copies to the container's user (65534): the build writes /app without being root.
      await this.must(['cp', '--', `${dir ?? empty}/.`, `${container}:/app`], 10 * 60_000);
    } finally {
      if (empty) await rm(empty, { recursive: true, force: true });
    }
  }

  /** `podman start -a`: the step's output streamed line by line; its stdout returned; a failure explained. */
  private async start(container: string, recipe: Recipe, step: RecipeStep, deadline: number, onLine: (line: string) => void): Promise<string> {
    const cmd = this.podman.command(['start', '-a', '--', container]);
    const timeout = Math.max(1000, deadline - Date.now());
    const sub = execa(cmd.command, cmd.args, { env: cmd.env, extendEnv: false, cwd: cmd.cwd, stdin: 'ignore', reject: false, timeout, forceKillAfterDelay: 2000, buffer: { stdout: true, stderr: false }, maxBuffer: { stdout: 64 * 1024 * 1024 } });
    const tail: string[] = [];
    const lines = (stream: NodeJS.ReadableStream | null, keepStdout: boolean) => {
      let pending = '';
      stream?.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const parts = pending.split(/\r?\n|\r/);
        pending = parts.pop() ?? '';
        for (const raw of parts) {
          const line = raw.trim();
          if (!line || (keepStdout && line.startsWith(RESULT_MARKER))) continue;
          tail.push(line);
          if (tail.length > OUTPUT_TAIL) tail.shift();
          onLine(line.length > 300 ? line.slice(0, 299) + '…' : line);
        }
      });
    };
    lines(sub.stdout, true);
    lines(sub.stderr, false);
    const r = await sub;
    const output = tail.join('\n');
    if (r.timedOut) {
      await this.podman.remove([container]).catch(() => undefined);
      throw new BuildError(`${recipe.package}: the build did not finish within ${Math.round(this.runners.buildTimeout / 1000)} s`, {
        package: recipe.package,
        source: recipe.source,
        code: 'timeout',
        output,
        fix: 'raise runtime.runners.buildTimeout in config.yaml, or check the network to the registry',
      });
    }
    const exit = await this.exitCode(container);
    if (exit !== 0) {
      const known = recipe.explain?.(output);
      const why = known ? known.why : `the installer exited with ${exit ?? r.exitCode ?? '?'}`;
      // The fix and the installer's output are in the detail (describeBuildError says each once).
      throw new BuildError(`${recipe.package}${recipe.version ? ` ${recipe.version}` : ''} could not be installed from ${recipe.source}: ${why}`, {
        package: recipe.package,
        source: recipe.source,
        code: known?.code ?? 'failed',
        output,
        ...(known ? { fix: known.fix } : { fix: step.phase === 'scripts' ? 'an install script failed (it had no network in this build)' : 'read the installer\'s output above' }),
      });
    }
    return typeof r.stdout === 'string' ? r.stdout : '';
  }

  private async exitCode(container: string): Promise<number | undefined> {
    const out = await this.must(['inspect', '--format', '{{.State.ExitCode}}', '--', container]);
    const n = Number(out.trim());
    return Number.isFinite(n) ? n : undefined;
  }

  /** `podman commit`; the new image's ID. */
  private async commit(container: string, changes: string[], ref?: string): Promise<string> {
    const ctx = await this.commitEnv();
    const args = [...ctx.args, 'commit', '-q'];
    for (const c of changes) args.push('--change', c);
    args.push('--', container, ...(ref ? [ref] : []));
    return (await this.must(args, 10 * 60_000, undefined, ctx.env)).trim().split('\n').pop()!.trim();
  }

  /**
   * Rootless podman 4.3 without XDG_RUNTIME_DIR (a service, runuser) runs containers but fails `commit` with
   * "runroot must be set". The commit gets the directory podman falls back to itself (where its socket is) and the
   * run root it uses now, so it shares the locks and state of every other podman call.
   */
  private commitContext?: Promise<{ args: string[]; env: Record<string, string> }>;
  private commitEnv(): Promise<{ args: string[]; env: Record<string, string> }> {
    this.commitContext ??= (async (): Promise<{ args: string[]; env: Record<string, string> }> => {
      if (!(await this.rootless()) || this.podman.command([]).env.XDG_RUNTIME_DIR) return { args: [], env: {} };
      const info = JSON.parse((await this.must(['info', '--format', 'json']).catch(() => '{}')) || '{}') as { store?: { runRoot?: string }; host?: { remoteSocket?: { path?: string } } };
      const runRoot = info.store?.runRoot;
      const fallback = /^(.*)\/podman\/podman\.sock$/.exec(info.host?.remoteSocket?.path ?? '')?.[1];
      const env: Record<string, string> = fallback ? { XDG_RUNTIME_DIR: fallback } : {};
      return { args: runRoot ? ['--runroot', runRoot] : [], env };
    })();
    return this.commitContext;
  }

  private async must(args: string[], timeoutMs = 60_000, recipe?: Recipe, env: Record<string, string> = {}): Promise<string> {
    const cmd = this.podman.command(args);
    const r = await execa(cmd.command, cmd.args, { env: { ...cmd.env, ...env }, extendEnv: false, cwd: cmd.cwd, stdin: 'ignore', reject: false, timeout: timeoutMs, forceKillAfterDelay: 2000 });
    if (r.code === 'ENOENT') throw new PodmanError(`podman not found ("${cmd.command}"); install it (see "mcp-registry doctor")`, args);
    if (r.failed) {
      const err = String(r.stderr ?? '').trim().split('\n').filter((l) => l.startsWith('Error') || !/^time=|level=warn/i.test(l)).slice(-3).join('; ');
      const msg = `podman ${args[0]} failed: ${r.timedOut ? `timed out after ${timeoutMs} ms` : err || r.shortMessage}`;
      if (recipe) throw new BuildError(`${recipe.package}: ${msg}`, { package: recipe.package, code: 'failed' });
      throw new PodmanError(msg, args, r.exitCode, String(r.stderr ?? ''));
    }
    return String(r.stdout ?? '');
  }

  /** The record of a built image (from its label), or null when there is no such image or it is not ours. */
  async inspect(ref: string): Promise<BuildRecord | null> {
    const cmd = this.podman.command(['image', 'inspect', '--', ref]);
    const r = await execa(cmd.command, cmd.args, { env: cmd.env, extendEnv: false, cwd: cmd.cwd, stdin: 'ignore', reject: false, timeout: 30_000 });
    if (r.failed) return null;
    try {
      const [img] = JSON.parse(String(r.stdout)) as { Id: string; Labels?: Record<string, string> | null; Config?: { Labels?: Record<string, string> } }[];
      const label = img?.Labels?.[RECORD_LABEL] ?? img?.Config?.Labels?.[RECORD_LABEL];
      if (!img || !label) return null;
      return { ...(JSON.parse(decodeLabel(label)) as Omit<BuildRecord, 'imageId'>), imageId: img.Id };
    } catch {
      return null;
    }
  }

  /** Every built package image with its own size and its base's (the base counted once in the total). */
  async list(): Promise<BuiltImages> {
    const out = await this.must(['images', '--filter', `label=${KIND_LABEL}`, '--format', 'json']);
    const rows = (out.trim() ? JSON.parse(out) : []) as { Id: string; Names?: string[] | null; Size?: number; Labels?: Record<string, string> | null }[];
    const baseSizes = new Map<string, number>();
    const images: BuiltImage[] = [];
    for (const row of rows) {
      const labels = row.Labels ?? {};
      let rec: Partial<BuildRecord> = {};
      try {
        rec = JSON.parse(decodeLabel(labels[RECORD_LABEL] ?? '')) as Partial<BuildRecord>;
      } catch {
        /* an image labelled by hand: listed with what is known */
      }
      let baseBytes: number | undefined;
      if (rec.baseImageId) {
        if (!baseSizes.has(rec.baseImageId)) baseSizes.set(rec.baseImageId, await this.imageSize(rec.baseImageId));
        baseBytes = baseSizes.get(rec.baseImageId);
      }
      for (const name of row.Names?.length ? row.Names : [row.Id]) {
        images.push({
          image: name,
          imageId: row.Id,
          kind: (labels[KIND_LABEL] ?? rec.kind) as BuildKind,
          package: rec.package ?? decodeLabelSafe(labels[PACKAGE_LABEL]),
          version: rec.version ?? '',
          ...(rec.builtAt ? { builtAt: rec.builtAt } : {}),
          ownBytes: Math.max(0, (row.Size ?? 0) - (baseBytes ?? 0)),
          ...(rec.baseImage ? { baseImage: rec.baseImage, baseImageId: rec.baseImageId } : {}),
          ...(baseBytes !== undefined ? { baseBytes } : {}),
        });
      }
    }
    const own = new Map(images.map((i) => [i.imageId, i.ownBytes]));
    const totalBytes = [...own.values()].reduce((a, b) => a + b, 0) + [...baseSizes.values()].reduce((a, b) => a + b, 0);
    return { images: images.sort((a, b) => a.image.localeCompare(b.image)), totalBytes };
  }

  private async imageSize(id: string): Promise<number> {
    const out = await this.must(['image', 'inspect', '--format', '{{.Size}}', '--', id]).catch(() => '0');
    return Number(out.trim()) || 0;
  }

  /**
   * Remove the built images of a package (every version), or of one spec's exact image. Returns the images removed.
   * An image a running container uses is not removed: the error says which.
   */
  async remove(target: PackageSpec | { kind: BuildKind; package: string }): Promise<string[]> {
    const { images } = await this.list();
    let hits: BuiltImage[];
    if ('identifier' in target) {
      const ref = await this.imageRef(target);
      const rec = ref ? await this.inspect(ref) : null;
      hits = images.filter((i) => (ref ? i.image === ref : false) || (!ref && i.kind === target.kind && i.package.toLowerCase() === target.identifier.toLowerCase()) || (rec && i.imageId === rec.imageId));
    } else {
      hits = images.filter((i) => i.kind === target.kind && i.package.toLowerCase() === target.package.toLowerCase());
    }
    const removed: string[] = [];
    for (const img of hits) {
      const rec = await this.inspect(img.image);
      await this.must(['rmi', '--', img.image]);
      removed.push(img.image);
      if (rec?.intermediate?.length) await this.removeImages(rec.intermediate).catch(() => undefined);
    }
    return removed;
  }

  private async removeImages(ids: string[]): Promise<void> {
    // Newest first: an intermediate image is the parent of the next one.
    for (const id of [...ids].reverse()) await this.must(['rmi', '--', id]).catch((err) => this.log.debug(`could not remove ${id}: ${errorMessage(err)}`));
  }
}

function runKey(spec: PackageSpec): string {
  return `${spec.kind}\0${spec.identifier}\0${spec.version ?? ''}\0${spec.fileSha256 ?? ''}`;
}

/** Label values go through `podman commit --change LABEL k=v`: base64url keeps quotes and spaces out of it. */
function encodeLabel(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}
function decodeLabel(s: string): string {
  return Buffer.from(s, 'base64url').toString('utf8');
}
function decodeLabelSafe(s: string | undefined): string {
  return s ? decodeLabel(s) : '';
}
