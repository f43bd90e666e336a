/**
 * Shared by every test that starts real containers. Images come from scripts/build-test-images.sh; podman and the
 * rootless user from scripts/setup-podman.sh (.ci/run runs both). In CI a missing piece fails the test; elsewhere the
 * test is skipped with a loud reason and the command that fixes it.
 */
import { execFileSync } from 'node:child_process';
import { ENTRY_LABEL, INSTANCE_LABEL, Podman } from '../../src/runtime/podman/podman.js';
import { skipOrFail as skipOrFailFor, type SkipContext } from './skip.js';

export const TINY_IMAGE = 'localhost/mcp-registry-test/tiny:1';
export const EVERYTHING_IMAGE = 'localhost/mcp-registry-test/everything:1';
/**
 * A catalog entry (docker-registry server.yaml) running the tiny image made to ignore both stdin EOF and SIGTERM
 * (node's handler; --init passes SIGTERM on to it): what only removing its container stops. Put it in a catalog
 * of its own — beside test/tiny the same image would merge the two entries.
 */
export const STUBBORN_YAML = `name: stubborn
image: ${TINY_IMAGE}
type: server
about:
  title: Stubborn tiny
  description: The tiny test server, ignoring stdin EOF and SIGTERM.
source:
  project: https://github.com/mcp-registry-test/stubborn
run:
  disableNetwork: true
  command: ["/usr/bin/node", "-e", "process.on('SIGTERM', Object); import('/app/server.mjs')"]
  env:
    TINY_IGNORE_EOF: "1"
`;
/** The unprivileged user setup-podman.sh creates for rootless runs. */
export const ROOTLESS_USER = process.env.MCP_REGISTRY_TEST_USER ?? 'mcpreg';

const SETUP = 'sudo bash scripts/setup-podman.sh && sudo bash scripts/build-test-images.sh';

function skipOrFail(ctx: SkipContext, why: string, fix = SETUP): never {
  return skipOrFailFor(ctx, 'container', why, fix);
}

async function missingImages(podman: Podman, who: string): Promise<string | null> {
  for (const ref of [TINY_IMAGE, EVERYTHING_IMAGE]) {
    if (!(await podman.imageExists(ref))) return `the test image ${ref} is not built for ${who}`;
  }
  return null;
}

let rootfulReason: Promise<string | null> | undefined;
/** Why containers cannot run for this user, or null when they can (podman works and the test images exist). */
export function podmanUnavailable(): Promise<string | null> {
  rootfulReason ??= (async () => {
    const podman = new Podman();
    const probe = await podman.probe();
    if (!probe.ok) return `podman is unusable: ${probe.error}`;
    const trial = await podman.trialRun();
    if (!trial.ok) return `podman cannot start a container (${trial.detail})`;
    return missingImages(podman, 'this user');
  })();
  return rootfulReason;
}

/** Call first in a test that runs containers as the current user. */
export async function requirePodman(ctx: SkipContext): Promise<void> {
  const why = await podmanUnavailable();
  if (why) skipOrFail(ctx, why);
}

/** The environment for podman run as another user: nothing of this user's session directories. */
export function rootlessEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'CONTAINERS_STORAGE_CONF']) delete env[k];
  return env;
}

/** A Podman that runs as the unprivileged test user (this process must be root). */
export function rootlessPodman(): Podman {
  return new Podman({ bin: 'runuser', argsPrefix: ['-u', ROOTLESS_USER, '--', 'podman'], env: rootlessEnv() });
}

let rootlessReason: Promise<string | null> | undefined;
/** Call first in a test that runs rootless containers as ROOTLESS_USER. */
export async function requireRootless(ctx: SkipContext): Promise<void> {
  rootlessReason ??= (async () => {
    if (process.getuid?.() !== 0) return `running as ${ROOTLESS_USER} needs root (this test runs as uid ${process.getuid?.()})`;
    try {
      execFileSync('id', [ROOTLESS_USER], { stdio: 'ignore' });
    } catch {
      return `there is no user ${ROOTLESS_USER}`;
    }
    const podman = rootlessPodman();
    const probe = await podman.probe();
    if (!probe.ok) return `podman as ${ROOTLESS_USER} is unusable: ${probe.error}`;
    if (!probe.version.rootless) return `podman as ${ROOTLESS_USER} is not rootless`;
    return missingImages(podman, ROOTLESS_USER);
  })();
  const why = await rootlessReason;
  if (why) skipOrFail(ctx, why, `${SETUP}, then run the tests as root (they use runuser -u ${ROOTLESS_USER})`);
}

/** The containers of one registry process (its instance label starts with its pid) for an entry: other test files run containers at the same time. */
export async function registryContainers(entry: string, pid: number | null | undefined, podman = new Podman()): Promise<{ id: string; name: string }[]> {
  const all = await podman.listContainers({ [ENTRY_LABEL]: entry });
  return all.filter((c) => (c.labels[INSTANCE_LABEL] ?? '').startsWith(`${pid}-`));
}

/** Remove what a test's registry left of an entry (after a failed assertion), quietly. */
export async function removeRegistryContainers(entry: string, pid: number | null | undefined, podman = new Podman()): Promise<void> {
  const left = await registryContainers(entry, pid, podman).catch(() => []);
  if (left.length) await podman.remove(left.map((c) => c.id)).catch(() => {});
}
