/** `mcp-registry doctor`'s package-runner checks: CA bundle, runner images, the npm registry from a container. */
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import type { RegistryConfig } from '../../config/config.js';
import type { Podman } from '../podman/podman.js';
import { CA_ENV, CA_PATH } from './types.js';

/**
 * `mcp-registry doctor`'s checks of the package runners: the CA bundle (when configured), each runner image (present,
 * or pulled on the first build), and whether the npm registry answers from inside a container — where an intercepted
 * TLS connection fails with SELF_SIGNED_CERT_IN_CHAIN unless runtime.caBundle names the host's bundle. Limitations,
 * not faults: servers from images run without any of this.
 */

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  optional?: boolean;
}

export async function runnerChecks(podman: Podman, runtime: Pick<RegistryConfig['runtime'], 'runners' | 'caBundle'>): Promise<Check[]> {
  const checks: Check[] = [];
  const ca = runtime.caBundle;
  if (ca) {
    const pem = await readFile(ca, 'utf8').catch((err: Error) => err);
    const ok = typeof pem === 'string' && pem.includes('-----BEGIN CERTIFICATE-----');
    checks.push({
      name: 'runner CA bundle',
      ok,
      optional: true,
      detail: ok ? `${ca} (mounted read-only into build and networked run containers)` : `runtime.caBundle ${ca} ${typeof pem === 'string' ? 'holds no PEM certificate' : `cannot be read (${pem.message})`}`,
      ...(ok ? {} : { fix: 'point runtime.caBundle at a PEM bundle, e.g. /etc/ssl/certs/ca-certificates.crt' }),
    });
  }
  const v = await podman.version();
  if (!v) return checks;
  for (const [kind, image] of [['npm', runtime.runners.npm.image], ['pypi', runtime.runners.pypi.image]] as const) {
    const here = await podman.imageExists(image).catch(() => false);
    checks.push({
      name: `${kind} runner image`,
      ok: here,
      optional: true,
      detail: here ? `${image} is present` : `${image} is not here; the first ${kind} build pulls it`,
      ...(here ? {} : { fix: `podman pull ${image} (or, where no registry is reachable, bash scripts/build-runner-images.sh and set runtime.runners.${kind}.image to the image it builds)` }),
    });
  }
  // Rootless podman here has no user-mode network: its builds download with the host's network, which the host's own checks cover.
  if (!v.rootless && (await podman.imageExists(runtime.runners.npm.image).catch(() => false))) checks.push(await npmReach(podman, runtime));
  return checks;
}

/** A `fetch` of the npm registry from a throw-away container on the npm runner image, as a build would make it. */
async function npmReach(podman: Podman, runtime: Pick<RegistryConfig['runtime'], 'runners' | 'caBundle'>): Promise<Check> {
  const registry = runtime.runners.npm.registry;
  const ca = runtime.caBundle ? ['-v', `${runtime.caBundle}:${CA_PATH}:ro`, ...CA_ENV.flatMap((e) => ['-e', `${e}=${CA_PATH}`])] : [];
  const script = `fetch(process.argv[1]).then(r=>console.log('HTTP '+r.status),e=>{console.log(String(e.cause&&e.cause.code||e.message));process.exit(1)})`;
  const cmd = podman.command(['run', '--rm', '--pull', 'never', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--user', '65534:65534', '--log-driver', 'none', ...ca, '--', runtime.runners.npm.image, 'node', '-e', script, registry]);
  const r = await execa(cmd.command, cmd.args, { env: cmd.env, extendEnv: false, cwd: cmd.cwd, stdin: 'ignore', reject: false, timeout: 30_000 });
  const said = String(r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.exitCode === 0) return { name: 'npm registry from a container', ok: true, optional: true, detail: `${registry} answers ${said}${runtime.caBundle ? ' (with runtime.caBundle)' : ''}` };
  const tls = /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT|CERT_/.test(said);
  return {
    name: 'npm registry from a container',
    ok: false,
    optional: true,
    detail: `${registry} cannot be reached from a build container: ${said || String(r.stderr ?? '').trim().slice(-200) || `exit ${r.exitCode}`}`,
    fix: tls
      ? `this network intercepts TLS: set runtime.caBundle in config.yaml to the host's CA bundle (e.g. /etc/ssl/certs/ca-certificates.crt)`
      : `check the network (podman's default network), or set runtime.runners.npm.registry to a registry or mirror this machine reaches`,
  };
}
