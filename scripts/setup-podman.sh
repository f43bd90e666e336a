#!/usr/bin/env bash
# Make podman usable on a Debian 12 machine (developer box or CI), rootful and rootless. Idempotent; run as root.
#
#   bash scripts/setup-podman.sh [--user NAME] [--conf FILE]
#
#   --user NAME  the unprivileged user for rootless tests (default: mcpreg; "" to skip)
#   --conf FILE  write the podman settings to FILE (then point CONTAINERS_CONF at it yourself) instead of the
#                system-wide drop-in /etc/containers/containers.conf.d/50-mcp-registry.conf
#
# Why a system drop-in by default: every process that runs podman must see the settings — the test runner, the
# registry it spawns, and `runuser -u mcpreg -- podman`. CONTAINERS_CONF would have to reach all of them (and it
# replaces, rather than extends, the distribution defaults), so a plain `npm test` without it would fail.
# See ../shared/docs/podman.md for the measurements behind each setting.
set -euo pipefail

RUSER=mcpreg
CONF=/etc/containers/containers.conf.d/50-mcp-registry.conf
while [ $# -gt 0 ]; do
  case "$1" in
    --user) RUSER="$2"; shift 2 ;;
    --conf) CONF="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "setup-podman: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '[setup-podman] %s\n' "$*"; }
if [ "$(id -u)" != 0 ]; then
  echo "setup-podman: run me as root (it installs packages, writes /etc/containers and creates a user)" >&2
  exit 1
fi

# 1. Packages. crun 1.8 fails on this kernel's hybrid cgroups, so runc; catatonit backs --init; uidmap = rootless.
missing=()
for pkg in podman runc catatonit uidmap; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  say "packages present: podman runc catatonit uidmap ($(podman --version))"
fi

# 2. Settings. Root here cannot raise its open-files limit, and podman's default ulimits (nofile 1048576) make
# the runtime fail with EPERM, so ask for exactly the hard limits this machine grants.
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
pidmax=$(cat /proc/sys/kernel/pid_max)
if [ "$nofile" = unlimited ]; then nofile=1048576; fi
if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pidmax" ]; then nproc=$pidmax; fi
mkdir -p "$(dirname "$CONF")"
want=$(cat <<EOF
# Written by mcp-registry scripts/setup-podman.sh — podman settings this machine needs.
[containers]
# The hard limits of this machine (ulimit -Hn, min(ulimit -Hu, pid_max)); podman's defaults exceed them.
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]

[engine]
# crun 1.8 rejects this kernel's hybrid cgroup layout.
runtime = "runc"
EOF
)
if [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$want" ]; then
  say "$CONF is up to date (nofile=$nofile nproc=$nproc runtime=runc)"
else
  printf '%s\n' "$want" > "$CONF.tmp" && chmod 644 "$CONF.tmp" && mv "$CONF.tmp" "$CONF"
  say "wrote $CONF (nofile=$nofile nproc=$nproc runtime=runc)"
fi
if [ "$CONF" != /etc/containers/containers.conf.d/50-mcp-registry.conf ]; then
  say "remember: export CONTAINERS_CONF=$CONF for every process that runs podman"
fi

# 3. The rootless user: subordinate ids, and overlay storage chosen BEFORE its first podman command (changing
# the driver later needs `podman system reset -f`).
if [ -n "$RUSER" ]; then
  if ! id "$RUSER" >/dev/null 2>&1; then
    useradd -m -s /bin/bash "$RUSER"
    say "created user $RUSER"
  fi
  for f in /etc/subuid /etc/subgid; do
    touch "$f"
    if ! grep -q "^$RUSER:" "$f"; then
      # Next free range after every existing one, 65536 ids wide.
      start=$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' "$f")
      printf '%s:%s:65536\n' "$RUSER" "$start" >> "$f"
      say "gave $RUSER subordinate ids $start-$((start + 65535)) in $f"
    fi
  done
  home=$(getent passwd "$RUSER" | cut -d: -f6)
  cfgdir="$home/.config/containers"
  if [ ! -f "$cfgdir/storage.conf" ]; then
    install -d -o "$RUSER" -g "$(id -gn "$RUSER")" "$home/.config" "$cfgdir"
    printf '[storage]\ndriver = "overlay"\n' > "$cfgdir/storage.conf"
    chown "$RUSER:$(id -gn "$RUSER")" "$cfgdir/storage.conf"
    say "wrote $cfgdir/storage.conf (overlay)"
    if [ -d "$home/.local/share/containers/storage" ]; then
      # Storage made earlier with another driver would refuse the new one.
      runuser -u "$RUSER" -- env -u XDG_RUNTIME_DIR -u XDG_CONFIG_HOME -u XDG_DATA_HOME sh -c 'cd / && podman system reset -f' >/dev/null 2>&1 || true
    fi
  fi
  if [ "$CONF" != /etc/containers/containers.conf.d/50-mcp-registry.conf ]; then
    # With a non-system file the user needs its own copy too (podman reads ~/.config/containers/containers.conf).
    install -o "$RUSER" -m 644 "$CONF" "$cfgdir/containers.conf"
  fi
fi

# 4. Prove it: a container from an empty root file system whose command does not exist. Exit 127 ("not found")
# means podman, the runtime and the ulimits all worked; 125/126 means they did not.
probe() {
  local who="$1" owner="$2"; shift 2
  local dir rc out
  dir=$(mktemp -d)
  chmod 755 "$dir"
  chown "$owner" "$dir"  # podman writes its mount points (etc/hosts, proc, …) into the root file system
  set +e
  out=$("$@" podman run --rm --network none --rootfs "$dir" /mcp-registry-probe 2>&1)
  rc=$?
  set -e
  rm -rf "$dir"
  if [ $rc -eq 127 ]; then
    say "$who container start: ok"
  else
    echo "[setup-podman] $who container start FAILED (exit $rc): $out" >&2
    return 1
  fi
}
cd /
probe "rootful" root
if [ -n "$RUSER" ]; then
  probe "rootless ($RUSER)" "$RUSER" runuser -u "$RUSER" -- env -u XDG_RUNTIME_DIR -u XDG_CONFIG_HOME -u XDG_DATA_HOME
fi
say "done"
