/**
 * A small typed layer over the podman CLI. Always argument arrays (never a shell), options ended with `--` before
 * the first positional argument (an image reference or name can never be read as a flag), always `cwd: '/'`
 * (rootless podman fails in a directory its user cannot read), and podman's stderr chatter is not a failure.
 * Secret values never appear in an argv: they travel as bare `-e NAME` with the value in podman's own environment.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createLogger, errorMessage, type Logger } from '../log.js';
import { ImageRefError, isImageId, parseImageRef } from './image-ref.js';

export const INSTANCE_LABEL = 'io.mcp-registry.instance';
export const ENTRY_LABEL = 'io.mcp-registry.entry';

export interface ContainerSpec {
  name: string;
  image: string;
  labels: Record<string, string>;
  /** Non-secret environment: `-e K=V` (visible in the process list). */
  env: Record<string, string>;
  /** Secrets: only `-e NAME` goes on the command line; the value reaches podman through its environment. */
  secretEnv: Record<string, string>;
  command?: string[];
  /** `-v` arguments as podman takes them, e.g. `/host/dir:/data:ro`. */
  volumes?: string[];
  /** Default `65534:65534` (nobody). */
  user?: string;
  network: 'none' | 'default';
  readOnly: boolean;
  memory?: string;
  cpus?: string;
  pidsLimit?: number;
  /** Appended just before the image; the caller vouches for them. */
  extraArgs?: string[];
}

export interface RunArgsOptions {
  /**
   * Whether to pass `--memory`, `--cpus` and `--pids-limit`. Rootless podman on cgroup v1 ignores them with a
   * warning on every start, so the caller turns them off there (see `PodmanVersion.resourceLimits`).
   */
  resourceLimits?: boolean;
}

const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * Variables that podman (a Go program), its helpers and the dynamic loader read from their own environment. Secrets
 * are handed over in that environment, so a secret under one of these names (declared by a catalog entry) would
 * re-point or hijack the host's podman process instead of reaching the container.
 */
const PODMAN_READS =
  /^(?:PATH|HOME|USER|LOGNAME|SHELL|PWD|TMPDIR|NOTIFY_SOCKET|REGISTRY_AUTH_FILE|DBUS_SESSION_BUS_ADDRESS|SSL_CERT_FILE|SSL_CERT_DIR|CONTAINER_HOST|CONTAINER_CONNECTION|CONTAINER_SSHKEY|CONTAINER_PASSPHRASE|STORAGE_DRIVER|STORAGE_OPTS|LISTEN_FDS|LISTEN_PID|LISTEN_FDNAMES|GODEBUG|GOGC|GOMAXPROCS|GOMEMLIMIT|GOTRACEBACK|GOTMPDIR|GCONV_PATH|LOCPATH|NLSPATH|HOSTALIASES|RES_OPTIONS|LOCALDOMAIN|(?:LD|XDG|CONTAINERS|_CONTAINERS|PODMAN|BUILDAH|SYSTEMD|MALLOC)_[A-Za-z0-9_]*)$/;

export class ContainerSpecError extends Error {}

/** The arguments of `podman run` for a spec (without the `podman` itself). Throws ContainerSpecError on bad input. */
export function buildRunArgs(spec: ContainerSpec, opts: RunArgsOptions = {}): string[] {
  const bad = (msg: string): never => {
    throw new ContainerSpecError(`container ${JSON.stringify(spec.name)}: ${msg}`);
  };
  if (!CONTAINER_NAME.test(spec.name)) bad('a container name is letters, digits, "_", "." and "-", starting with a letter or digit');
  if (!isImageId(spec.image)) {
    try {
      parseImageRef(spec.image);
    } catch (err) {
      bad(err instanceof ImageRefError ? err.message : `"${spec.image}" is not an image reference`);
    }
  }
  for (const k of Object.keys(spec.labels)) if (!k || k.includes('=')) bad(`label key "${k}" must be non-empty and free of "="`);
  for (const k of [...Object.keys(spec.env), ...Object.keys(spec.secretEnv)]) {
    if (!ENV_NAME.test(k)) bad(`"${k}" is not an environment variable name (letters, digits and _, not starting with a digit)`);
    if (k in spec.env && k in spec.secretEnv) bad(`"${k}" is given both as a setting and as a secret`);
  }
  for (const k of Object.keys(spec.secretEnv)) {
    if (PODMAN_READS.test(k)) bad(`"${k}" cannot hold a secret: secrets reach the container through podman's own environment, and podman itself reads ${k}; this entry cannot be run with that secret set (remove it with registry-config-set, value "")`);
  }
  for (const v of spec.volumes ?? []) if (!v || v.startsWith('-')) bad(`"${v}" is not a volume`);
  if (spec.user !== undefined && !/^[a-zA-Z0-9_.-]+(?::[a-zA-Z0-9_.-]+)?$/.test(spec.user)) bad(`"${spec.user}" is not a user`);

  const args = ['run', '-i', '--rm', '--init', '--pull', 'never', '--name', spec.name];
  for (const [k, v] of Object.entries(spec.labels).sort(([a], [b]) => a.localeCompare(b))) args.push('--label', `${k}=${v}`);
  args.push(
    '--cap-drop', 'ALL',
    '--security-opt', 'no-new-privileges',
    // Without this podman copies the host's HTTP(S)_PROXY variables (credentials included) into the container.
    '--http-proxy=false',
    // The default k8s-file driver would store the MCP traffic (secret-bearing results too) in a file on disk.
    '--log-driver', 'none',
    '--user', spec.user ?? '65534:65534',
  );
  if (spec.readOnly) args.push('--read-only', '--tmpfs', '/tmp:rw,size=64m,mode=1777');
  if (spec.network === 'none') args.push('--network', 'none');
  if (opts.resourceLimits !== false) {
    if (spec.memory) args.push('--memory', spec.memory);
    if (spec.cpus) args.push('--cpus', spec.cpus);
    if (spec.pidsLimit !== undefined) args.push('--pids-limit', String(spec.pidsLimit));
  }
  for (const [k, v] of Object.entries(spec.env)) args.push('-e', `${k}=${v}`);
  for (const k of Object.keys(spec.secretEnv)) args.push('-e', k);
  for (const v of spec.volumes ?? []) args.push('-v', v);
  args.push(...(spec.extraArgs ?? []), '--', spec.image, ...(spec.command ?? []));
  return args;
}

/** `mcp-registry-<instance>-<prefix>`, cleaned to what podman accepts in a name. */
export function containerName(instance: string, prefix: string): string {
  return `mcp-registry-${instance}-${prefix}`.replace(/[^a-zA-Z0-9_.-]+/g, '-');
}

// Instance ids live in instance.ts (no execa: the audit log needs the id before podman support loads).
import { instanceAlive } from './instance.js';
export { newInstanceId, instanceAlive } from './instance.js';

// ---- the CLI wrapper -------------------------------------------------------------------------------------------

export interface PodmanVersion {
  version: string;
  rootless: boolean;
  /** The OCI runtime, e.g. runc or crun. */
  runtime: string;
  cgroupVersion?: string;
  /** False when --memory/--cpus/--pids-limit would be ignored (rootless on cgroup v1). */
  resourceLimits: boolean;
  /** Where podman keeps images (`store.graphRoot`) and with which driver. */
  graphRoot?: string;
  graphDriver?: string;
}

export type PodmanProbe =
  | { ok: true; version: PodmanVersion }
  | { ok: false; reason: 'missing' | 'failed'; error: string };

export interface ContainerInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
  state?: string;
}

export interface RunCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export class PodmanError extends Error {
  constructor(
    message: string,
    readonly args: string[],
    readonly exitCode?: number,
    readonly stderr = '',
  ) {
    super(message);
  }
}

export interface PodmanOptions {
  /** The podman executable (default `podman`). */
  bin?: string;
  /** Arguments placed before podman's own, e.g. bin `runuser` with `['-u', 'someone', '--', 'podman']`. */
  argsPrefix?: string[];
  /** Environment of every podman process (default: this process's). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

interface CliResult {
  exitCode?: number;
  stdout: string;
  stderr: string;
  failed: boolean;
  missing: boolean;
  timedOut: boolean;
  message: string;
}

/** Why podman failed: its "Error: …" lines, else the last lines that are not warnings (which precede errors). */
function tail(stderr: string, lines = 4): string {
  const all = stderr.trim().split('\n').filter((l) => l.trim());
  const errors = all.filter((l) => l.startsWith('Error:'));
  if (errors.length) return errors.join('\n');
  const rest = all.filter((l) => !/level=(warning|info|debug)/.test(l));
  return (rest.length ? rest : all).slice(-lines).join('\n');
}

export class Podman {
  readonly bin: string;
  private readonly prefix: string[];
  private readonly env: NodeJS.ProcessEnv;
  private readonly log: Logger;
  private probed?: Promise<PodmanProbe>;
  /** The last successful probe, for the synchronous runCommand. */
  private facts?: PodmanVersion;
  private warnedLimits = false;

  constructor(opts: PodmanOptions = {}) {
    this.bin = opts.bin ?? 'podman';
    this.prefix = opts.argsPrefix ?? [];
    this.env = opts.env ?? process.env;
    this.log = opts.logger ?? createLogger('podman');
  }

  private execOptions(timeoutMs: number) {
    return {
      cwd: '/',
      env: this.env,
      extendEnv: false,
      stdin: 'ignore',
      reject: false,
      timeout: timeoutMs,
      forceKillAfterDelay: 2000,
    } as const;
  }

  private async cli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
    const r = await execa(this.bin, [...this.prefix, ...args], this.execOptions(timeoutMs));
    const stdout = typeof r.stdout === 'string' ? r.stdout : '';
    const stderr = typeof r.stderr === 'string' ? r.stderr : '';
    return {
      exitCode: r.exitCode,
      stdout,
      stderr,
      failed: r.failed,
      missing: r.code === 'ENOENT',
      timedOut: r.timedOut,
      message: r.timedOut ? `timed out after ${timeoutMs} ms` : tail(stderr) || r.shortMessage || 'failed',
    };
  }

  /** Run a podman command that must succeed; its stdout. */
  private async must(args: string[], timeoutMs?: number): Promise<string> {
    const r = await this.cli(args, timeoutMs);
    if (r.missing) throw new PodmanError(`podman not found ("${this.bin}"); install it (see "mcp-registry doctor")`, args);
    if (r.failed) throw new PodmanError(`podman ${args[0]} failed: ${r.message}`, args, r.exitCode, r.stderr);
    return r.stdout;
  }

  /** What `podman info` says, or why podman is unusable. Cached; `refresh` asks again. */
  probe(refresh = false): Promise<PodmanProbe> {
    if (!this.probed || refresh) {
      this.probed = this.doProbe().then((p) => {
        if (p.ok) this.facts = p.version;
        return p;
      });
    }
    return this.probed;
  }

  private async doProbe(): Promise<PodmanProbe> {
    const r = await this.cli(['info', '--format', 'json'], 30_000);
    if (r.missing) return { ok: false, reason: 'missing', error: `"${this.bin}" is not installed or not on PATH` };
    if (r.failed) return { ok: false, reason: 'failed', error: r.message };
    try {
      const info = JSON.parse(r.stdout) as {
        version?: { Version?: string };
        host?: { security?: { rootless?: boolean }; ociRuntime?: { name?: string }; cgroupVersion?: string };
        store?: { graphRoot?: string; graphDriverName?: string };
      };
      const rootless = Boolean(info.host?.security?.rootless);
      const cgroupVersion = info.host?.cgroupVersion;
      return {
        ok: true,
        version: {
          version: info.version?.Version ?? 'unknown',
          rootless,
          runtime: info.host?.ociRuntime?.name ?? 'unknown',
          cgroupVersion,
          resourceLimits: !(rootless && cgroupVersion === 'v1'),
          graphRoot: info.store?.graphRoot,
          graphDriver: info.store?.graphDriverName,
        },
      };
    } catch (err) {
      return { ok: false, reason: 'failed', error: `podman info printed something that is not JSON: ${errorMessage(err)}` };
    }
  }

  /** Version facts, or null when podman is missing or broken (`probe()` says why). */
  async version(): Promise<PodmanVersion | null> {
    const p = await this.probe();
    return p.ok ? p.version : null;
  }

  async imageExists(ref: string): Promise<boolean> {
    const r = await this.cli(['image', 'exists', '--', ref]);
    if (r.missing) throw new PodmanError(`podman not found ("${this.bin}")`, ['image', 'exists', '--', ref]);
    return r.exitCode === 0;
  }

  /**
   * The image's config digest (stable across save/load), or null when there is no such image.
   * Answers are remembered per reference while podman's image list file (`<graphRoot>/<driver>-images/images.json`,
   * rewritten on every pull, tag, untag and removal) is unchanged: a start then skips a ~25 ms `podman image inspect`.
   */
  async imageId(ref: string): Promise<string | null> {
    const marker = await this.imageStoreMarker();
    const cached = marker ? this.imageIds.get(ref) : undefined;
    if (cached && cached.marker === marker) return cached.id;
    const r = await this.cli(['image', 'inspect', '--format', '{{.Id}}', '--', ref]);
    if (r.missing) throw new PodmanError(`podman not found ("${this.bin}")`, ['image', 'inspect', '--', ref]);
    const id = r.exitCode === 0 ? r.stdout.trim() || null : null;
    if (marker && id) this.imageIds.set(ref, { marker, id });
    return id;
  }

  private readonly imageIds = new Map<string, { marker: string; id: string }>();

  /** A stamp of podman's image list file, or null when it cannot be known (then nothing is cached). */
  private async imageStoreMarker(): Promise<string | null> {
    const facts = this.facts;
    if (!facts?.graphRoot || !facts.graphDriver) return null;
    try {
      const st = await stat(join(facts.graphRoot, `${facts.graphDriver}-images`, 'images.json'));
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return null;
    }
  }

  /** `podman pull`; each stderr line (podman's progress) goes to onProgress. */
  async pull(ref: string, onProgress?: (line: string) => void, timeoutMs = 15 * 60_000): Promise<void> {
    const args = ['pull', '--', ref];
    const sub = execa(this.bin, [...this.prefix, ...args], { ...this.execOptions(timeoutMs), stdout: 'ignore' });
    let pending = '';
    sub.stderr?.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split(/\r?\n|\r/);
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onProgress?.(line.trim());
    });
    const r = await sub;
    if (pending.trim()) onProgress?.(pending.trim());
    if (r.code === 'ENOENT') throw new PodmanError(`podman not found ("${this.bin}")`, args);
    if (r.failed) {
      const why = r.timedOut ? `timed out after ${timeoutMs} ms` : tail(String(r.stderr ?? '')) || r.shortMessage;
      throw new PodmanError(`cannot pull ${ref}: ${why}`, args, r.exitCode, String(r.stderr ?? ''));
    }
  }

  /** Containers (running or not) carrying all the given labels; an empty value matches any value. */
  async listContainers(labelFilter: Record<string, string>): Promise<ContainerInfo[]> {
    const args = ['ps', '-a', '--format', 'json'];
    for (const [k, v] of Object.entries(labelFilter)) args.push('--filter', v ? `label=${k}=${v}` : `label=${k}`);
    const out = await this.must(args);
    let rows: { Id?: string; Names?: string[] | string; Labels?: Record<string, string> | null; State?: string }[];
    try {
      rows = out.trim() ? JSON.parse(out) : [];
    } catch (err) {
      throw new PodmanError(`podman ps printed something that is not JSON: ${errorMessage(err)}`, args);
    }
    return (
      rows
        .map((r) => ({
          id: r.Id ?? '',
          name: Array.isArray(r.Names) ? (r.Names[0] ?? '') : (r.Names ?? ''),
          labels: r.Labels ?? {},
          state: r.State,
        }))
        // podman versions differ in how several label filters combine; insist on all of them here.
        .filter((c) => Object.entries(labelFilter).every(([k, v]) => k in c.labels && (!v || c.labels[k] === v)))
    );
  }

  /** Force-remove containers at once (no stop grace period); names that do not exist are ignored. */
  async remove(idsOrNames: string[]): Promise<void> {
    if (idsOrNames.length === 0) return;
    await this.must(['rm', '-f', '-t', '0', '--ignore', '--', ...idsOrNames]);
  }

  /**
   * Remove containers whose `io.mcp-registry.instance` label names an instance that is gone (a registry that
   * was killed cannot stop its containers, and a server that ignores stdin EOF outlives it). Returns their names.
   */
  async reapOrphans(isInstanceAlive: (instance: string) => boolean = instanceAlive): Promise<string[]> {
    const all = await this.listContainers({ [INSTANCE_LABEL]: '' });
    const dead = all.filter((c) => !isInstanceAlive(c.labels[INSTANCE_LABEL] ?? ''));
    if (dead.length === 0) return [];
    await this.remove(dead.map((c) => c.id));
    const names = dead.map((c) => c.name);
    this.log.info(`removed ${names.length} container(s) left by registry instances that are gone`, { containers: names });
    return names;
  }

  /**
   * What an stdio transport needs to spawn `podman run …` for the spec: the secret values are added to podman's
   * environment (and nowhere else). Resource limits are left out where podman would ignore them (known once
   * `probe()`/`version()` has answered; `opts.resourceLimits` overrides).
   */
  runCommand(spec: ContainerSpec, opts: RunArgsOptions = {}): RunCommand {
    const resourceLimits = opts.resourceLimits ?? this.facts?.resourceLimits ?? true;
    const wantsLimits = spec.memory !== undefined || spec.cpus !== undefined || spec.pidsLimit !== undefined;
    if (!resourceLimits && wantsLimits && !this.warnedLimits) {
      this.warnedLimits = true;
      this.log.warn('rootless podman on cgroup v1 cannot limit memory, CPU or processes: containers run without those limits');
    }
    return {
      command: this.bin,
      args: [...this.prefix, ...buildRunArgs(spec, { ...opts, resourceLimits })],
      env: { ...this.env, ...spec.secretEnv },
      cwd: '/',
    };
  }

  /**
   * Start a container from an empty root file system whose command does not exist: exit 127 ("not found") proves
   * podman, the OCI runtime and the ulimits all work, without needing any image.
   */
  async trialRun(): Promise<{ ok: boolean; detail: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-registry-probe-'));
    try {
      const r = await this.cli(['run', '--rm', '--pull', 'never', '--network', 'none', '--rootfs', '--', dir, '/mcp-registry-probe'], 60_000);
      if (r.missing) return { ok: false, detail: `"${this.bin}" is not installed` };
      if (r.exitCode === 127) return { ok: true, detail: 'a container started' };
      return { ok: false, detail: `exit ${r.exitCode ?? '?'}: ${r.message}` };
    } finally {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
