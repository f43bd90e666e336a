/** `podman run` arguments of a container spec: every hardening flag, checked names, and how secrets and limits are passed. */
import { ImageRefError, isImageId, parseImageRef } from '../../model/image-ref.js';

export interface ContainerSpec {
  name: string;
  image: string;
  labels: Record<string, string>;
  /** Non-secret environment: `-e K=V` (visible in the process list). */
  env: Record<string, string>;
  /**
   * Secrets passed the fallback way: only `-e NAME` goes on the command line; the value reaches podman through its
   * environment (where podman also keeps it in its container database).
   */
  secretEnv: Record<string, string>;
  /** Secrets already in podman's secret store (`stageSecrets`): variable name → podman secret name. */
  podmanSecrets?: Record<string, string>;
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
  /**
   * A port of a server that speaks HTTP, published on the host's loopback only (`-p 127.0.0.1:<host>:<container>`):
   * never on every interface, where anyone on the network could call the server's tools.
   */
  publish?: { hostPort: number; containerPort: number };
  /** Appended just before the image; the caller vouches for them. */
  extraArgs?: string[];
}

export interface RunArgsOptions {
  /**
   * Whether to pass `--memory`, `--cpus` and `--pids-limit`. Rootless podman on cgroup v1 ignores them with a
   * warning on every start, so the caller turns them off there (see `PodmanVersion.resourceLimits`).
   */
  resourceLimits?: boolean;
  /**
   * Rootless podman: run in a user namespace that maps this user's uid only to itself (`--userns=keep-id`), so uid 0
   * in the container is one of the user's subordinate ids, not the user. Without it, root inside IS the user outside
   * and can write whatever the user can in a mounted folder. (`--userns=auto` would isolate containers from each
   * other too, but with the usual 65536 subordinate ids a second container at once fails: "not enough available IDs".)
   * Rootful podman gets no user namespace: keep-id is rootless-only, and auto needs a `containers` range in
   * /etc/subuid that a stock install lacks; there root is refused unless policy sets the user (launch-plan.ts).
   */
  rootless?: boolean;
}

const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** What podman accepts as a secret name. */
const SECRET_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9])?$/;
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
  const stored = spec.podmanSecrets ?? {};
  for (const k of [...Object.keys(spec.env), ...Object.keys(spec.secretEnv), ...Object.keys(stored)]) {
    if (!ENV_NAME.test(k)) bad(`"${k}" is not an environment variable name (letters, digits and _, not starting with a digit)`);
    if (k in spec.env && (k in spec.secretEnv || k in stored)) bad(`"${k}" is given both as a setting and as a secret`);
    if (k in spec.secretEnv && k in stored) bad(`"${k}" is given twice as a secret`);
  }
  for (const name of Object.values(stored)) if (!SECRET_NAME.test(name)) bad(`"${name}" is not a podman secret name`);
  for (const k of Object.keys(spec.secretEnv)) {
    if (PODMAN_READS.test(k)) bad(`"${k}" cannot hold a secret: secrets reach the container through podman's own environment, and podman itself reads ${k}; this entry cannot be run with that secret set (remove it with registry-config-set, value "")`);
  }
  for (const v of spec.volumes ?? []) if (!v || v.startsWith('-')) bad(`"${v}" is not a volume`);
  const isPort = (n: number) => Number.isInteger(n) && n > 0 && n < 65536;
  if (spec.publish && !(isPort(spec.publish.hostPort) && isPort(spec.publish.containerPort))) bad(`${JSON.stringify(spec.publish)} is not a pair of ports`);
  if (spec.publish && spec.network === 'none') bad('a published port needs a network; this server serves HTTP, so it cannot run with --network none');
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
  if (opts.rootless) args.push('--userns=keep-id');
  if (spec.readOnly) args.push('--read-only', '--tmpfs', '/tmp:rw,size=64m,mode=1777');
  if (spec.network === 'none') args.push('--network', 'none');
  if (opts.resourceLimits !== false) {
    if (spec.memory) args.push('--memory', spec.memory);
    if (spec.cpus) args.push('--cpus', spec.cpus);
    if (spec.pidsLimit !== undefined) args.push('--pids-limit', String(spec.pidsLimit));
  }
  for (const [k, v] of Object.entries(spec.env)) args.push('-e', `${k}=${v}`);
  for (const k of Object.keys(spec.secretEnv)) args.push('-e', k);
  for (const [k, name] of Object.entries(stored)) args.push('--secret', `${name},type=env,target=${k}`);
  for (const v of spec.volumes ?? []) args.push('-v', v);
  if (spec.publish) args.push('-p', `127.0.0.1:${spec.publish.hostPort}:${spec.publish.containerPort}/tcp`);
  args.push(...(spec.extraArgs ?? []), '--', spec.image, ...(spec.command ?? []));
  return args;
}
