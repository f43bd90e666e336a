/**
 * `mcp-registry doctor`: checks what running servers needs (podman that can start a container, git, writable
 * state), everything the server would refuse to start with (config.yaml, policy.yaml), and whether the catalog has
 * or can get data (each source: reachable or readable, last refresh, last error); prints, for each problem, the
 * exact command or config lines that fix it.
 */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';
import { isLocalGitUrl, readConfigFile, type RegistryConfig, type SourceConfig } from '../config/config.js';
import { Catalog, type SourceStatus } from '../catalog/catalog.js';
import { readShippedSnapshot, snapshotEntriesFor } from '../catalog/snapshot.js';
import { errorMessage } from '../util/log.js';
import type { RegistryPaths } from '../config/paths.js';
import { newInstanceId } from '../runtime/instance.js';
import { Podman } from '../runtime/podman/podman.js';
import { limitsProblem, type PodmanVersion, type RegistryEndpoint } from '../runtime/podman/version.js';
import { networkProblem } from '../sources/network-error.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** A limitation rather than a fault: reported, but does not make the whole result fail. */
  optional?: boolean;
  /** Worth knowing, not a problem (e.g. no config.yaml: the defaults are used). */
  info?: boolean;
  /** The catalog side (config, sources, data) rather than running servers: the final line says which kind fails. */
  catalog?: boolean;
}
export interface DoctorResult {
  ok: boolean;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  /** The registry API whose reachability says whether pulls can work (default Docker Hub's). */
  registryUrl?: string;
}

/** Docker Hub's registry API: where podman pulls `docker.io/…` from. A reachable one answers 401 (a token challenge). */
export const DOCKER_HUB_API = 'https://registry-1.docker.io/v2/';
const REGISTRY_TIMEOUT_MS = 5_000;
/** The system CA stores Go (podman) reads on Linux; the first that exists is the one it trusts. */
const SYSTEM_CA_FILES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/pki/tls/cacert.pem', '/etc/ssl/cert.pem'];

const INSTALL_PODMAN = 'sudo apt-get install -y --no-install-recommends podman runc catatonit uidmap   # Debian/Ubuntu; elsewhere see https://podman.io/docs/installation';

/** A hard limit from /proc/self/limits ("Max open files", "Max processes"), or null. */
async function hardLimit(label: string): Promise<number | null> {
  try {
    const text = await readFile('/proc/self/limits', 'utf8');
    const line = text.split('\n').find((l) => l.startsWith(label));
    const hard = line?.slice(label.length).trim().split(/\s+/)[1];
    return hard && /^\d+$/.test(hard) ? Number(hard) : null;
  } catch {
    return null;
  }
}

/** The containers.conf lines this machine needs (../shared/docs/podman.md): its own hard limits, and runc. */
export async function containersConfFix(rootless: boolean): Promise<string> {
  const nofile = (await hardLimit('Max open files')) ?? 1048576;
  const pidMax = Number((await readFile('/proc/sys/kernel/pid_max', 'utf8').catch(() => '4194304')).trim());
  const nproc = Math.min((await hardLimit('Max processes')) ?? pidMax, pidMax);
  const file = rootless ? join(homedir(), '.config/containers/containers.conf') : '/etc/containers/containers.conf.d/50-mcp-registry.conf';
  return [
    `put these lines in ${file}${process.env.CONTAINERS_CONF ? ` (CONTAINERS_CONF is set: podman reads only ${process.env.CONTAINERS_CONF}, so put them there)` : ''}:`,
    '[containers]',
    `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
    '[engine]',
    'runtime = "runc"',
    '(from a checkout, as root: bash scripts/setup-podman.sh does this)',
  ].join('\n');
}

/** The fix for a container that would not start, from podman's words. */
async function startFix(detail: string, rootless: boolean): Promise<string> {
  if (/rlimit|ulimit/i.test(detail)) return containersConfFix(rootless);
  if (/crun|cgroup/i.test(detail)) return `${await containersConfFix(rootless)}\nand install runc: sudo apt-get install -y runc`;
  if (/newuidmap|subuid|subgid|uid_map|user namespace/i.test(detail)) {
    const user = process.env.USER ?? 'YOUR_USER';
    return `sudo apt-get install -y uidmap && sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user} && podman system migrate`;
  }
  if (/storage|driver|overlay/i.test(detail)) {
    return 'choose overlay storage: printf \'[storage]\\ndriver = "overlay"\\n\' > ~/.config/containers/storage.conf && podman system reset -f   # reset deletes local images';
  }
  return 'run `podman --log-level=debug run --rm --network none --rootfs "$(mktemp -d)" /x` to see where it fails';
}

/** Whether the registry answers at all (any HTTP status), reached the way podman would: system CAs, proxy variables. */
async function reachRegistry(url: string): Promise<{ ok: true; status: number } | { ok: false; why: string }> {
  let ca: string | undefined;
  for (const f of SYSTEM_CA_FILES) {
    ca = await readFile(f, 'utf8').catch(() => undefined);
    if (ca) break;
  }
  const tls = ca ? { ca } : {};
  const dispatcher = new EnvHttpProxyAgent({ connect: tls, requestTls: tls, proxyTls: tls });
  try {
    const r = await undiciFetch(url, { dispatcher, redirect: 'manual', signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS) });
    await r.body?.cancel().catch(() => undefined);
    return { ok: true, status: r.status };
  } catch (err) {
    return { ok: false, why: networkProblem(err, REGISTRY_TIMEOUT_MS) };
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
}

/** The registry API (`/v2/`) of a registries.conf location: Docker Hub's own, or the host of a mirror. */
function registryApi(e: RegistryEndpoint): string {
  if (e.location === 'docker.io') return DOCKER_HUB_API;
  return `${e.insecure ? 'http' : 'https'}://${e.location.split('/')[0]}/v2/`;
}

/**
 * Whether `registry-add` could pull an image podman does not have: a registry podman pulls docker.io images from
 * (a mirror from registries.conf, or Docker Hub) answering, and what podman would do with a short name (we qualify
 * names ourselves, so its search list does not matter, but say so).
 */
async function pullCheck(v: PodmanVersion, hubUrl: string): Promise<DoctorCheck> {
  const search = v.searchRegistries.length
    ? `Podman itself would search ${v.searchRegistries.join(', ')} for a short name`
    : 'Podman has no unqualified-search registries (registries.conf), so it could not pull a short name such as mcp/postgres by itself';
  const names = `${search}; mcp-registry names images as Docker does (mcp/postgres is docker.io/mcp/postgres), so short names work either way`;
  const tried: string[] = [];
  for (const e of v.dockerHubSources) {
    const url = e.location === 'docker.io' ? hubUrl : registryApi(e);
    const what = `${e.location === 'docker.io' ? '' : 'mirror '}${new URL(url).host}`;
    const r = await reachRegistry(url);
    if (r.ok && r.status < 500) return { name: 'image pulls', ok: true, detail: `${what} answers (HTTP ${r.status}): images podman does not have can be pulled. ${names}.` };
    tried.push(`${what} ${r.ok ? `answers HTTP ${r.status}` : `cannot be reached (${r.why})`}`);
  }
  return {
    name: 'image pulls',
    ok: false,
    optional: true,
    detail: `${tried.join('; ')}: a server whose image podman does not have yet cannot start; servers whose images are already here ("podman images") run as usual. ${names}.`,
    fix: [
      'bring images in without a registry: podman load -i image.tar (from "podman save" on a machine that can pull), or podman build -t docker.io/mcp/NAME:TAG .',
      'or use a registry mirror you can reach, in /etc/containers/registries.conf (rootless: ~/.config/containers/registries.conf):',
      '[[registry]]',
      'location = "docker.io"',
      '[[registry.mirror]]',
      'location = "mirror.example.com"',
      'behind a proxy: set HTTPS_PROXY for the registry (podman uses it)',
    ].join('\n'),
  };
}

/** How secrets reach containers: podman secrets (a store-and-remove round trip proves it), else podman's environment. */
async function secretsCheck(podman: Podman, v: PodmanVersion): Promise<DoctorCheck> {
  const fallback = 'secrets reach containers through podman\'s environment, where podman also writes them into its container database';
  if (!v.envSecrets) {
    return { name: 'container secrets', ok: false, optional: true, detail: `podman ${v.version} has no environment secrets: ${fallback}`, fix: 'upgrade podman to 3.2 or newer' };
  }
  const staged = await podman.stageSecrets(newInstanceId(), { MCP_REGISTRY_DOCTOR: 'doctor-probe' });
  await podman.removeSecrets(Object.values(staged.refs));
  if (staged.fallback) {
    return { name: 'container secrets', ok: false, optional: true, detail: `podman secret create failed (${staged.fallback}): ${fallback}`, fix: 'podman secret ls   # shows what is wrong with podman\'s secret store' };
  }
  return {
    name: 'container secrets',
    ok: true,
    detail:
      'secrets go to each container as podman secrets, stored for its start and removed once it runs: never in podman\'s environment or its container database. ' +
      'While a server runs, its environment, secrets included, is in the container\'s runtime configuration (config.json), which "podman inspect" reads: whoever can use this user\'s podman can see it there.',
  };
}

async function podmanChecks(podman: Podman, opts: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const probe = await podman.probe(true);
  if (!probe.ok) {
    return [
      probe.reason === 'missing'
        ? { name: 'podman', ok: false, detail: probe.error, fix: INSTALL_PODMAN }
        : { name: 'podman', ok: false, detail: `podman info failed: ${probe.error}`, fix: await startFix(probe.error, process.getuid?.() !== 0) },
    ];
  }
  const v = probe.version;
  const checks: DoctorCheck[] = [
    {
      name: 'podman',
      ok: true,
      detail: `podman ${v.version}, ${v.rootless ? 'rootless' : 'rootful'}, runtime ${v.runtime}${v.cgroupVersion ? `, cgroup ${v.cgroupVersion}` : ''}`,
    },
  ];
  const trial = await podman.trialRun();
  checks.push(
    trial.ok
      ? { name: 'container start', ok: true, detail: trial.detail }
      : { name: 'container start', ok: false, detail: trial.detail, fix: await startFix(trial.detail, v.rootless) },
  );
  if (!v.rootless) {
    checks.push({
      name: 'rootless',
      ok: true,
      optional: true,
      detail: 'running as root: containers are rootful. They are hardened either way; an ordinary user is safer.',
    });
  }
  const limits = limitsProblem(v);
  checks.push(
    limits
      ? { name: 'resource limits', ok: false, optional: true, detail: limits.detail, fix: limits.commands }
      : { name: 'resource limits', ok: true, detail: 'memory, CPU and process limits are enforced' },
  );
  if (v.rootless) checks.push(await rootlessNetworkCheck());
  checks.push(await secretsCheck(podman, v), await pullCheck(v, opts.registryUrl ?? DOCKER_HUB_API));
  return checks;
}

/** Rootless containers get a network only through slirp4netns or pasta, which need /dev/net/tun. */
async function rootlessNetworkCheck(): Promise<DoctorCheck> {
  const helpers = await Promise.all(
    ['slirp4netns', 'pasta'].map(async (b) => ((await execa(b, ['--version'], { reject: false, stdin: 'ignore' })).failed ? null : b)),
  );
  const helper = helpers.find(Boolean);
  const tun = await access('/dev/net/tun', constants.R_OK | constants.W_OK).then(
    () => true,
    () => false,
  );
  if (helper && tun) return { name: 'container network', ok: true, detail: `rootless networking through ${helper}` };
  return {
    name: 'container network',
    ok: false,
    optional: true,
    detail: `servers that need the network cannot start (${helper ? '' : 'no slirp4netns or pasta; '}${tun ? '' : '/dev/net/tun is not usable'}); servers with network "none" work`,
    fix: [helper ? '' : 'sudo apt-get install -y slirp4netns', tun ? '' : 'sudo chmod 0666 /dev/net/tun'].filter(Boolean).join(' && '),
  };
}

async function gitCheck(): Promise<DoctorCheck> {
  const r = await execa('git', ['--version'], { reject: false, stdin: 'ignore' });
  if (!r.failed) return { name: 'git', ok: true, detail: String(r.stdout).trim() };
  return { name: 'git', ok: false, detail: 'git is not installed (the docker source clones a git repository)', fix: 'sudo apt-get install -y git' };
}

/** A directory is usable when it is a writable directory, or can be created under its nearest existing parent. */
async function writableCheck(name: string, dir: string): Promise<DoctorCheck> {
  let probe = dir;
  for (;;) {
    const s = await stat(probe).catch(() => null);
    if (s) {
      if (!s.isDirectory()) return { name, ok: false, detail: `${probe} is not a directory`, fix: `move ${probe} away, or set MCP_REGISTRY_HOME to another directory` };
      break;
    }
    if (dirname(probe) === probe) break;
    probe = dirname(probe);
  }
  try {
    await access(probe, constants.W_OK);
    return { name, ok: true, detail: probe === dir ? `${dir} is writable` : `${dir} will be created under ${probe}` };
  } catch {
    return { name, ok: false, detail: `${probe} is not writable by this user`, fix: `sudo mkdir -p ${dir} && sudo chown -R "$USER" ${dir}   # or set MCP_REGISTRY_HOME to a directory you own` };
  }
}

async function secretsFileCheck(file: string): Promise<DoctorCheck | null> {
  const s = await stat(file).catch(() => null);
  if (!s) return null;
  if ((s.mode & 0o077) === 0) return { name: 'secrets file', ok: true, detail: `${file} is private (mode ${(s.mode & 0o777).toString(8)})` };
  return { name: 'secrets file', ok: false, detail: `${file} can be read by other users (mode ${(s.mode & 0o777).toString(8)})`, fix: `chmod 600 ${file}` };
}

/** The config check, and the config itself when it loads (the podman check needs runtime.podman from it). */
async function configCheck(file: string): Promise<{ check: DoctorCheck; config: RegistryConfig | null; exists?: boolean }> {
  try {
    const { config, exists } = await readConfigFile(file);
    const on = config.sources.filter((s) => s.enabled).map((s) => s.name);
    if (!exists) {
      return {
        check: { name: 'config', ok: true, info: true, catalog: true, detail: `no ${file}: using the three public sources (defaults: ${on.join(', ')})`, fix: `to add your own catalog or change sources, create ${file} (README, "Configuration")` },
        config,
        exists,
      };
    }
    return { check: { name: 'config', ok: true, catalog: true, detail: `${file}: ${on.length} source(s) enabled (${on.join(', ') || 'none'})` }, config, exists };
  } catch (err) {
    return { check: { name: 'config', ok: false, catalog: true, detail: errorMessage(err), fix: `edit ${file} (or move it away to use the defaults)` }, config: null };
  }
}

/** policy.yaml as the server reads it: a broken one stops every start. */
async function policyCheck(file: string, config: RegistryConfig): Promise<DoctorCheck> {
  const { Policy, sourceTypesOf } = await import('../governance/policy.js');
  try {
    const policy = await Policy.load(file, sourceTypesOf(config.sources), { environment: config.environment });
    return { name: 'policy', ok: true, detail: policy.exists ? `${file} is valid` : `no ${file}: the default allowlist (your file sources and Docker-built mcp/ images; anything else asks first)`, info: !policy.exists };
  } catch (err) {
    return { name: 'policy', ok: false, detail: errorMessage(err), fix: `edit ${file} (mcp-registry policy shows the effective policy once it loads)` };
  }
}

const REACH_TIMEOUT_MS = 3_000;

/** Where a source reads from, and whether this machine can get there now: undefined when it can, else why not. */
async function sourceReach(cfg: SourceConfig): Promise<{ where: string; problem?: string; skipped?: string }> {
  const local = cfg.type === 'file' ? cfg.path : cfg.type === 'docker' && isLocalGitUrl(cfg.url) ? cfg.url : undefined;
  if (local !== undefined) {
    const st = await stat(local).catch((err: NodeJS.ErrnoException) => err);
    return { where: local, problem: st instanceof Error ? (st.code === 'ENOENT' ? 'does not exist' : `cannot be read (${st.message})`) : undefined };
  }
  if (cfg.type === 'managed') return { where: 'the registry store', skipped: 'entries published through serve-http (POST /v1/entries)' };
  const raw = cfg.type === 'file' ? '' : cfg.url;
  const url = /^https?:\/\//i.test(raw) ? URL.parse(raw) : null;
  if (!url) return { where: raw.replace(/^[^@/]+@/, '…@'), skipped: 'not checked (not an http(s) URL)' };
  // A git URL may carry a token (https://user:token@host/…): never printed, never sent with the probe.
  const where = url.username || url.password ? `${url.protocol}//…@${url.host}${url.pathname}` : raw;
  try {
    // Any HTTP answer means the host is there; what the source makes of it shows in its last refresh.
    await fetch(`${url.origin}${url.pathname}`, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(REACH_TIMEOUT_MS) });
    return { where };
  } catch (err) {
    const e = err as { cause?: { code?: string } };
    return { where, problem: e?.cause?.code === 'ENOTFOUND' ? `its host does not resolve from here (${url.hostname})` : networkProblem(err, REACH_TIMEOUT_MS) };
  }
}

/**
 * Each enabled source (reachable or readable? entries, last refresh, last error), then the verdict that matters:
 * does the catalog have data, or can it get some. Sources that fail while others work are a limitation, not a fault.
 */
async function sourceChecks(paths: RegistryPaths, config: RegistryConfig, configured: boolean): Promise<DoctorCheck[]> {
  const catalog = new Catalog(config, paths.cacheDir, paths.sourcesDir, () => {
    throw new Error('doctor does not fetch sources');
  });
  const enabled = config.sources.filter((s) => s.enabled);
  const [records, reach, shipped] = await Promise.all([catalog.status(), Promise.all(enabled.map((s) => sourceReach(s))), readShippedSnapshot()]);
  const status = new Map(records.map((s) => [s.name, s]));
  const checks: DoctorCheck[] = [];
  const usable: string[] = [];
  let entries = 0;
  // What a first run searches before its sources refresh: the snapshot shipped with the package, where it covers them.
  const snapshot = { entries: 0, sources: [] as string[], asOf: '' };
  for (const [i, cfg] of enabled.entries()) {
    const r = reach[i]!;
    const st: Partial<SourceStatus> = status.get(cfg.name) ?? {};
    entries += st.entries ?? 0;
    const shippedPart = !st.entries && shipped ? snapshotEntriesFor(shipped.data, cfg) : undefined;
    if (shippedPart?.entries.length) {
      snapshot.entries += shippedPart.entries.length;
      snapshot.sources.push(cfg.name);
      if (!snapshot.asOf || shippedPart.asOf < snapshot.asOf) snapshot.asOf = shippedPart.asOf;
    }
    if (!r.problem || st.entries) usable.push(cfg.name);
    const data = st.entries
      ? `${st.entries} entries${st.lastRefresh ? `, refreshed ${st.lastRefresh}` : ''}`
      : shippedPart?.entries.length
        ? `no entries of its own yet; until then, ${shippedPart.entries.length} from the shipped snapshot (as of ${shippedPart.asOf.slice(0, 10)})`
        : 'no entries yet';
    const isLocal = cfg.type === 'file' || (cfg.type === 'docker' && isLocalGitUrl(cfg.url));
    const where = r.problem || r.skipped ? `${r.where}: ${r.problem ?? r.skipped}` : `${r.where} is ${isLocal ? 'readable' : 'reachable'}`;
    const lastError = st.lastError ? `; last refresh failed: ${st.lastError}` : '';
    checks.push({
      name: `source ${cfg.name}`,
      ok: !r.problem && !st.lastError,
      optional: true,
      catalog: true,
      detail: `${where}; ${data}${lastError}`,
      fix: r.problem
        ? isLocal
          ? `fix the ${cfg.type === 'file' ? 'path' : 'url'} of source "${cfg.name}" in ${paths.configFile}`
          : `check the network (a proxy or firewall?)${configured ? ` and the url of source "${cfg.name}" in ${paths.configFile}` : ''}`
        : st.lastError
          ? `mcp-registry refresh --source ${cfg.name} --force tries again and prints the error`
          : undefined,
    });
  }
  const noneEnabled = !enabled.length;
  checks.push(
    entries > 0
      ? { name: 'catalog', ok: true, catalog: true, detail: `${entries} entries cached (${paths.cacheDir})` }
      : snapshot.entries > 0
        ? {
            name: 'catalog',
            ok: true,
            catalog: true,
            detail: `no cache yet: searches use the catalog snapshot shipped with the package (${snapshot.entries} entries of ${snapshot.sources.join(', ')}, as of ${snapshot.asOf.slice(0, 10)}) until the sources refresh`,
          }
        : usable.length
        ? { name: 'catalog', ok: true, catalog: true, detail: `empty so far: the first search fetches ${usable.join(', ')} (mcp-registry refresh does it now)` }
        : {
            name: 'catalog',
            ok: false,
            catalog: true,
            detail: noneEnabled ? 'empty: every source is disabled in config.yaml' : 'empty, and no source can be fetched from here: every search would find nothing',
            fix: noneEnabled
              ? `enable a source (enabled: true) in ${paths.configFile}`
              : `where these sites are out of reach, a \`file\` source with your own catalog works offline: add one to ${paths.configFile} (README, "Configuration"); then mcp-registry refresh`,
          },
  );
  return checks;
}

function nodeCheck(): DoctorCheck {
  const [major, minor] = process.versions.node.split('.').map(Number);
  const ok = major > 20 || (major === 20 && minor >= 18);
  return ok
    ? { name: 'node', ok, detail: `node ${process.versions.node}` }
    : { name: 'node', ok, detail: `node ${process.versions.node} is older than 20.18`, fix: 'install Node.js 20.18 or newer (https://nodejs.org)' };
}

/** Checks everything; `podman` defaults to the binary config.yaml names (runtime.podman). */
export async function runDoctor(paths: RegistryPaths, podman?: Podman, opts: DoctorOptions = {}): Promise<DoctorResult> {
  const { check: config, config: loaded, exists } = await configCheck(paths.configFile);
  const bin = loaded?.runtime.podman;
  const [podmanResults, git, cache, sources, state, secrets, policy, catalog] = await Promise.all([
    podmanChecks(podman ?? new Podman({ bin }), opts),
    gitCheck(),
    writableCheck('cache directory', paths.cacheDir),
    writableCheck('sources directory', paths.sourcesDir),
    writableCheck('state directory', paths.stateDir),
    secretsFileCheck(paths.secretsFile),
    loaded ? policyCheck(paths.policyFile, loaded) : null,
    loaded ? sourceChecks(paths, loaded, !!exists) : [],
  ]);
  // The package runners (runtime/build/doctor.ts): after podman's own checks, with the config's runner settings.
  const runners = loaded ? await (await import('../runtime/build/doctor.js')).runnerChecks(podman ?? new Podman({ bin }), loaded.runtime).catch(() => []) : [];
  const checks = [nodeCheck(), ...podmanResults, ...runners, git, config, ...(policy ? [policy] : []), cache, sources, state, ...(secrets ? [secrets] : []), ...catalog];
  return { ok: checks.every((c) => c.ok || c.optional), checks };
}

export function formatDoctor(result: DoctorResult): string {
  const lines = result.checks.map((c) => {
    const mark = c.info ? '[info]' : c.ok ? '[ok]  ' : c.optional ? '[warn]' : '[FAIL]';
    const fix = (!c.ok || c.info) && c.fix ? '\n' + c.fix.split('\n').map((l, i) => `         ${i === 0 ? (c.ok ? 'note: ' : 'fix: ') : '     '}${l}`).join('\n') : '';
    return `${mark} ${c.name}: ${c.detail}${fix}`;
  });
  const failing = result.checks.filter((c) => !c.ok && !c.optional);
  const problems = failing.length;
  const warnings = result.checks.filter((c) => !c.ok && c.optional).length;
  // Whether images can come from a registry changes what "ready" means: say which it is.
  const pulls = result.checks.find((c) => c.name === 'image pulls');
  const which = pulls && !pulls.ok ? ' whose images podman already has (no registry to pull others from: see "image pulls")' : '';
  // "Ready" only when servers can run and the catalog has, or can get, something to find.
  const blocks = failing.some((c) => !c.catalog) ? 'servers can run' : 'the registry can find servers';
  lines.push(
    problems
      ? `${problems} problem${problems === 1 ? '' : 's'} to fix (${failing.map((c) => c.name).join(', ')}) before ${blocks}.`
      : `Ready to run servers${which}${warnings ? ` (${warnings} limitation${warnings === 1 ? '' : 's'} noted above)` : ''}.`,
  );
  return lines.join('\n');
}
