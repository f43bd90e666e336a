/**
 * A small typed layer over the podman CLI. Always argument arrays (never a shell), options ended with `--` before
 * the first positional argument (an image reference or name can never be read as a flag), always `cwd: '/'`
 * (rootless podman fails in a directory its user cannot read), and podman's stderr chatter is not a failure.
 * Secret values never appear in an argv: they go into podman's secret store through stdin, one secret per container
 * start (`--secret NAME,type=env,target=VAR`), removed once the container runs; a podman without env secrets gets
 * bare `-e NAME` with the value in its own environment.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createLogger, errorMessage, type Logger } from '../../util/log.js';
import { withFifoStdin } from './fifo-stdin.js';
import { buildRunArgs, type ContainerSpec, type RunArgsOptions } from './run-args.js';
import { dockerHubSources, versionAtLeast, type PodmanProbe, type PodmanVersion, type RegistriesConfInfo } from './version.js';

export const INSTANCE_LABEL = 'io.mcp-registry.instance';
export const ENTRY_LABEL = 'io.mcp-registry.entry';

/**
 * A fresh podman secret name for one secret of one container start: `mcp-registry-<instance>-<random>`. The instance
 * is in the name because podman 4.3 cannot list secrets by label, and a registry that was killed leaves its secrets
 * to the next one to reap; nothing else fits podman's 64 characters.
 */
export function secretName(instance: string): string {
  return `mcp-registry-${instance}-${randomBytes(6).toString('hex')}`;
}
const INSTANCE_SECRET = /^mcp-registry-(\d+-\d+-[0-9a-f]{10})-[0-9a-f]{12}$/;

/** Secrets of one container start, as `stageSecrets` left them. */
export interface StagedSecrets {
  /** Variable → podman secret name (`ContainerSpec.podmanSecrets`). */
  refs: Record<string, string>;
  /** Values still to be passed the fallback way (`ContainerSpec.secretEnv`). */
  env: Record<string, string>;
  /** Why the fallback was used for some or all of them. */
  fallback?: string;
}

/** Whether a failed `podman run` failed because a container of that name still exists (its `--rm` still running). */
export function nameInUse(err: unknown): boolean {
  return /already in use/i.test(errorMessage(err));
}

/** `mcp-registry-<instance>-<prefix>`, cleaned to what podman accepts in a name. */
export function containerName(instance: string, prefix: string): string {
  return `mcp-registry-${instance}-${prefix}`.replace(/[^a-zA-Z0-9_.-]+/g, '-');
}

// Instance ids live in instance.ts (no execa: the audit log needs the id before podman support loads).
import { instanceAlive } from '../instance.js';
export { newInstanceId, instanceAlive } from '../instance.js';

// ---- the CLI wrapper -------------------------------------------------------------------------------------------

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
  private warnedSecrets = false;
  /** Podman secrets this object created and has not removed yet (removed at shutdown at the latest). */
  private readonly liveSecrets = new Set<string>();

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
        registries?: { search?: unknown; 'docker.io'?: RegistriesConfInfo };
      };
      const rootless = Boolean(info.host?.security?.rootless);
      const cgroupVersion = info.host?.cgroupVersion;
      const version = info.version?.Version ?? 'unknown';
      const search = info.registries?.search;
      return {
        ok: true,
        version: {
          version,
          envSecrets: versionAtLeast(version, 3, 2),
          secretLabels: versionAtLeast(version, 4, 3),
          searchRegistries: Array.isArray(search) ? search.filter((x): x is string => typeof x === 'string') : [],
          dockerHubSources: dockerHubSources(info.registries?.['docker.io']),
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

  /**
   * The image's manifest digest (`sha256:…`, what `name@sha256:…` references and signatures name), or null when
   * there is no such image. Unlike the ID it changes when the same content is pushed as another manifest.
   */
  async imageDigest(ref: string): Promise<string | null> {
    const r = await this.cli(['image', 'inspect', '--format', '{{.Digest}}', '--', ref]);
    if (r.missing) throw new PodmanError(`podman not found ("${this.bin}")`, ['image', 'inspect', '--', ref]);
    const d = r.exitCode === 0 ? r.stdout.trim() : '';
    return /^sha256:[0-9a-f]{64}$/.test(d) ? d : null;
  }

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

  /** Force-remove, in one podman call, every container labelled `key=value` (running or not); the IDs removed. */
  async removeLabelled(key: string, value: string): Promise<string[]> {
    const out = await this.must(['rm', '-f', '-t', '0', '--filter', `label=${key}=${value}`]);
    return out.split('\n').map((l) => l.trim()).filter(Boolean);
  }

  /**
   * Remove containers whose `io.mcp-registry.instance` label names an instance that is gone (a registry that
   * was killed cannot stop its containers, and a server that ignores stdin EOF outlives it). Returns their names.
   */
  async reapOrphans(isInstanceAlive: (instance: string) => boolean = instanceAlive): Promise<string[]> {
    const all = await this.listContainers({ [INSTANCE_LABEL]: '' });
    const dead = all.filter((c) => !isInstanceAlive(c.labels[INSTANCE_LABEL] ?? ''));
    await this.reapOrphanSecrets(isInstanceAlive).catch((err) => this.log.warn(`could not remove podman secrets of registry instances that are gone: ${errorMessage(err)}`));
    if (dead.length === 0) return [];
    await this.remove(dead.map((c) => c.id));
    const names = dead.map((c) => c.name);
    this.log.info(`removed ${names.length} container(s) left by registry instances that are gone`, { containers: names });
    return names;
  }

  // ---- secrets -----------------------------------------------------------------------------------------------

  /**
   * Put the secret values of one container start into podman's secret store: each under a fresh name, the value on
   * podman's stdin (never in an argv, never in podman's environment, so never in its container database). Podman
   * copies them into the container's runtime configuration when it starts it; `removeSecrets` then drops them from
   * the store. Where podman cannot (no env secrets, or creating one fails) the values come back in `env` for the
   * fallback way; so do empty ones (podman refuses an empty secret, and an empty value hides nothing).
   */
  async stageSecrets(instance: string, values: Record<string, string>, labels: Record<string, string> = {}): Promise<StagedSecrets> {
    const wanted = Object.entries(values).filter(([, v]) => v !== '');
    const empty = Object.fromEntries(Object.entries(values).filter(([, v]) => v === ''));
    if (!wanted.length) return { refs: {}, env: { ...values } };
    const facts = this.facts;
    const fallback = (why: string): StagedSecrets => {
      if (!this.warnedSecrets) {
        this.warnedSecrets = true;
        this.log.warn(`secrets reach containers through podman's environment (and podman's container database): ${why}`);
      }
      return { refs: {}, env: { ...values }, fallback: why };
    };
    if (!facts?.envSecrets) return fallback(facts ? `podman ${facts.version} has no environment secrets (podman 3.2 or newer has)` : 'podman was not probed');
    const named = wanted.map(([k, v]) => ({ k, v, name: secretName(instance) }));
    // At once: each create is mostly podman starting up, and podman locks its store for the write itself.
    const results = await Promise.allSettled(named.map((s) => this.createSecret(s.name, s.v, facts.secretLabels ? labels : {})));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // All of them, failed ones too: a create that timed out may have stored its secret all the same.
      await this.removeSecrets(named.map((s) => s.name));
      return fallback(errorMessage(failed.reason));
    }
    const refs = Object.fromEntries(named.map((s) => [s.k, s.name]));
    this.log.debug(`stored as podman secrets: ${Object.entries(refs).map(([k, n]) => `${k} (${n})`).join(', ')}`);
    return { refs, env: empty };
  }

  private async createSecret(name: string, value: string, labels: Record<string, string>): Promise<void> {
    const args = ['secret', 'create'];
    for (const [k, v] of Object.entries(labels)) args.push('--label', `${k}=${v}`);
    args.push('--', name, '-');
    const { stdin: _ignored, ...opts } = this.execOptions(30_000);
    // Tracked before podman runs: a secret created by a call that then timed out is still removed at shutdown.
    this.liveSecrets.add(name);
    // `podman secret create NAME -` insists on a FIFO for stdin; the value is never in argv or on disk. (execa types
    // list only fds 3-9, but any open descriptor is passed through as is.)
    const r = await withFifoStdin(value, (fd) => execa(this.bin, [...this.prefix, ...args], { ...opts, stdin: fd as 3 }));
    if (r.code === 'ENOENT' || r.exitCode === 127) throw new PodmanError(`podman not found ("${this.bin}")`, args);
    if (r.failed) {
      const why = r.timedOut ? 'timed out' : tail(String(r.stderr ?? '')) || r.shortMessage;
      throw new PodmanError(`podman secret create failed: ${why}`, args, r.exitCode, String(r.stderr ?? ''));
    }
  }

  /** Remove podman secrets; names podman does not know (any more) are fine. Never throws: a failure is logged. */
  async removeSecrets(names: string[]): Promise<void> {
    if (!names.length) return;
    const r = await this.cli(['secret', 'rm', '--', ...names]);
    for (const n of names) this.liveSecrets.delete(n);
    if (!r.failed || r.missing) return;
    // podman goes on after a name it does not know, and says so with "no such secret".
    const other = r.stderr.split('\n').filter((l) => l.startsWith('Error') && !/no such secret/i.test(l));
    if (other.length || r.timedOut) this.log.warn(`could not remove podman secret(s) ${names.join(', ')}: ${r.timedOut ? r.message : other.join('; ')}`);
  }

  /** Remove every secret this object created and has not removed yet (shutdown). */
  removeOwnSecrets(): Promise<void> {
    return this.removeSecrets([...this.liveSecrets]);
  }

  /** Names of all podman secrets of this user. */
  async listSecrets(): Promise<string[]> {
    const out = await this.must(['secret', 'ls', '--noheading', '--format', '{{.Name}}']);
    return out.split('\n').map((l) => l.trim()).filter(Boolean);
  }

  /** Remove secrets a registry instance that is gone left behind (killed between create and remove). */
  async reapOrphanSecrets(isInstanceAlive: (instance: string) => boolean = instanceAlive): Promise<string[]> {
    if (!this.facts?.envSecrets) return [];
    const dead = (await this.listSecrets()).filter((n) => {
      const m = INSTANCE_SECRET.exec(n);
      return m && !isInstanceAlive(m[1]!);
    });
    if (!dead.length) return [];
    await this.removeSecrets(dead);
    this.log.info(`removed ${dead.length} podman secret(s) left by registry instances that are gone`);
    return dead;
  }

  /**
   * What an stdio transport needs to spawn `podman run …` for the spec: the fallback secret values (`secretEnv`) are
   * added to podman's environment (and nowhere else). Resource limits are left out where podman would ignore them (known once
   * `probe()`/`version()` has answered; `opts.resourceLimits` overrides).
   */
  runCommand(spec: ContainerSpec, opts: RunArgsOptions = {}): RunCommand {
    const resourceLimits = opts.resourceLimits ?? this.facts?.resourceLimits ?? true;
    const rootless = opts.rootless ?? this.facts?.rootless ?? false;
    const wantsLimits = spec.memory !== undefined || spec.cpus !== undefined || spec.pidsLimit !== undefined;
    if (!resourceLimits && wantsLimits && !this.warnedLimits) {
      this.warnedLimits = true;
      this.log.warn('rootless podman on cgroup v1 cannot limit memory, CPU or processes: containers run without those limits');
    }
    return {
      command: this.bin,
      args: [...this.prefix, ...buildRunArgs(spec, { ...opts, resourceLimits, rootless })],
      env: { ...this.env, ...spec.secretEnv },
      cwd: '/',
    };
  }

  /** How to spawn `podman <args>` as this object would (bin, prefix, env, cwd), for a caller that streams a long command itself. */
  command(args: string[]): RunCommand {
    return { command: this.bin, args: [...this.prefix, ...args], env: this.env, cwd: '/' };
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
