/** What `podman info` says of this podman (version, rootless, cgroups, registries) and what it cannot enforce. */

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
  /** Whether `--secret NAME,type=env` works (podman >= 3.2): secrets then bypass podman's environment. */
  envSecrets: boolean;
  /** Whether `podman secret create --label` works (podman >= 4.3). */
  secretLabels: boolean;
  /** registries.conf `unqualified-search-registries` (where podman itself would look for a short name). */
  searchRegistries: string[];
  /** Where podman pulls docker.io images from, in order: registries.conf mirrors first, then docker.io's location. */
  dockerHubSources: RegistryEndpoint[];
}

export interface RegistryEndpoint {
  /** `host[:port][/namespace]` as registries.conf writes it; `docker.io` for Docker Hub itself. */
  location: string;
  /** Plain http (or unverified TLS) allowed. */
  insecure: boolean;
}

export interface RegistriesConfInfo {
  Location?: string;
  Insecure?: boolean;
  Mirrors?: { Location?: string; Insecure?: boolean }[] | null;
}

/** podman info's view of registries.conf for docker.io: mirrors, then the registry itself. */
export function dockerHubSources(conf: RegistriesConfInfo | undefined): RegistryEndpoint[] {
  const mirrors = (conf?.Mirrors ?? []).filter((m) => m.Location).map((m) => ({ location: m.Location!, insecure: Boolean(m.Insecure) }));
  return [...mirrors, { location: conf?.Location || 'docker.io', insecure: Boolean(conf?.Insecure) }];
}

/** Whether a podman version string (`4.3.1`, `5.0.0-dev`) is at least major.minor. */
export function versionAtLeast(version: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

/** What missing resource limits mean and how to get them, for registry-status, registry-add and doctor. */
export interface LimitsProblem {
  detail: string;
  /** One paragraph: what to do, pointing at doctor for the commands. */
  fix: string;
  /** The exact commands, for doctor. */
  commands: string;
  /** detail and fix in one line (registry-status, registry-add). */
  summary: string;
}

/** Why podman cannot enforce memory, CPU and pids limits here, with the fix; null when it can. */
export function limitsProblem(v: PodmanVersion): LimitsProblem | null {
  if (v.resourceLimits) return null;
  const detail =
    'rootless podman on cgroup v1 cannot enforce memory, CPU or process limits: containers run without them (runtime.memory, runtime.cpus, runtime.pidsLimit and policy overrides are not applied)';
  const fix =
    'boot the machine with cgroup v2 (kernel parameter systemd.unified_cgroup_hierarchy=1) with the cpu, memory and pids controllers delegated to users, or run the registry as root (rootful podman enforces them); "mcp-registry doctor" prints the exact commands';
  return {
    detail,
    fix,
    summary: `${detail}. Fix: ${fix}.`,
    commands: [
      'switch the machine to cgroup v2 and delegate the controllers to users, then reboot:',
      `  sudo sed -i 's/^GRUB_CMDLINE_LINUX="/&systemd.unified_cgroup_hierarchy=1 /' /etc/default/grub && sudo update-grub   # Fedora/RHEL: sudo grub2-mkconfig -o /boot/grub2/grub.cfg`,
      "  sudo mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf",
      '  sudo reboot   # then "stat -fc %T /sys/fs/cgroup" prints cgroup2fs',
      'or run the registry as root: rootful podman enforces the limits on cgroup v1 too',
    ].join('\n'),
  };
}

export type PodmanProbe =
  | { ok: true; version: PodmanVersion }
  | { ok: false; reason: 'missing' | 'failed'; error: string };
