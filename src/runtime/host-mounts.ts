/** Host paths a container may never mount (engine sockets, system trees, homes) and the grants other paths need. */
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { posix } from 'node:path';

/**
 * Host paths whose mount gives a container the host itself: the container engine's socket and state, the system
 * trees, home directories, and every parent of those. A catalog never mounts them, whatever policy says; a path the
 * user chose through a setting may, apart from home directories, only with an exact grant in policy.yaml (settings
 * can be set by the agent, policy.yaml cannot).
 */

/** Any socket named like a container engine's, wherever it lives. */
const ENGINE_SOCKET = /(?:^|\/)(?:docker|podman|containerd|crio|buildkitd)\.sock$/;
/** Where container engines keep their sockets and state (root-equivalent to write). */
const ENGINE_DIRS = ['/run/podman', '/var/run/podman', '/run/docker', '/var/run/docker', '/run/containerd', '/var/run/containerd', '/run/containers', '/var/run/containers', '/var/lib/docker', '/var/lib/containers'];
/** Trees of which nothing may be mounted. */
const SYSTEM_TREES: Record<string, string> = {
  '/proc': 'the host kernel and its processes',
  '/sys': 'the host kernel',
  '/dev': 'the host devices',
  '/run': 'the host services\' runtime state and sockets',
  '/var/run': 'the host services\' runtime state and sockets',
};
/** Directories that may not be mounted themselves (a file inside needs its own exact grant). */
const SYSTEM_DIRS: Record<string, string> = { '/etc': 'the host configuration', '/boot': 'the host kernel and boot loader' };

export interface HostContext {
  /** The home directory `$HOME`/`~` expand to. */
  home?: string;
}

/** `/a/b/../c/` → `/a/c`: how a path is compared (no trailing slash but for `/`). */
export function normalizeHostPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

function within(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir + '/');
}

/** Home directories of this machine: ours, root's, and every folder of /home. */
function homes(ctx: HostContext): string[] {
  const out = new Set(['/root', '/home', '/var/home', '/Users', homedir()]);
  if (ctx.home) out.add(ctx.home);
  if (process.env.HOME) out.add(process.env.HOME);
  for (const base of ['/home', '/var/home', '/Users']) {
    try {
      for (const d of readdirSync(base)) out.add(posix.join(base, d));
    } catch {
      /* not on this machine */
    }
  }
  return [...out].filter((h) => h.startsWith('/')).map(normalizeHostPath);
}

/** This user's own engine directories: the rootless runtime dirs podman falls back to, and its storage under home. */
function ownEngineDirs(ctx: HostContext, withHome: boolean): string[] {
  const out = [...ENGINE_DIRS];
  const uid = process.getuid?.();
  if (uid !== undefined) out.push(`/tmp/podman-run-${uid}`, `/tmp/containers-user-${uid}`, `/tmp/run-${uid}`);
  if (process.env.XDG_RUNTIME_DIR) out.push(posix.join(process.env.XDG_RUNTIME_DIR, 'podman'), posix.join(process.env.XDG_RUNTIME_DIR, 'containers'));
  if (withHome) {
    for (const h of new Set([ctx.home ?? homedir(), homedir()])) out.push(posix.join(h, '.local/share/containers'), posix.join(h, '.config/containers'));
  }
  return out.map(normalizeHostPath);
}

/** Why mounting `p` (already normalised) gives the host away, or undefined. */
function classify(p: string, ctx: HostContext, includeHomes: boolean): string | undefined {
  if (p === '/') return "the host's root directory";
  if (ENGINE_SOCKET.test(p)) return "a container engine's socket (it controls every container, and through them the host)";
  const engine = ownEngineDirs(ctx, includeHomes);
  for (const d of engine) if (within(p, d)) return `${d} (a container engine's socket and state)`;
  for (const [d, what] of Object.entries(SYSTEM_TREES)) if (within(p, d)) return `${d} (${what})`;
  for (const [d, what] of Object.entries(SYSTEM_DIRS)) if (p === d) return `${d} (${what})`;
  const homeDirs = includeHomes ? homes(ctx) : [];
  for (const h of homeDirs) if (p === h) return `a home directory (${h})`;
  for (const r of [...engine, ...Object.keys(SYSTEM_TREES), ...Object.keys(SYSTEM_DIRS), ...homeDirs]) {
    if (r.startsWith(p + '/')) return `a parent of ${r}`;
  }
  return undefined;
}

/**
 * Why a host path must not be mounted (the path and, when it is a symlink, what it resolves to), or undefined.
 * `includeHomes`: home directories count too (for catalog-declared mounts; a user may share their own home).
 */
export function protectedHostPath(hostPath: string, ctx: HostContext, includeHomes: boolean): string | undefined {
  const p = normalizeHostPath(hostPath);
  const direct = classify(p, ctx, includeHomes);
  if (direct) return direct;
  if (!existsSync(p)) return undefined;
  let real: string;
  try {
    real = normalizeHostPath(realpathSync.native(p));
  } catch {
    return undefined;
  }
  if (real === p) return undefined;
  const via = classify(real, ctx, includeHomes);
  return via ? `${via}, which ${p} resolves to` : undefined;
}
