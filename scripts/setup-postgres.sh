#!/usr/bin/env bash
# Make PostgreSQL available for the tests and `npm run bench` on a Debian 12 machine (developer box or CI). Idempotent;
# run as root. It only installs the server binaries: the tests and the bench start their own throw-away clusters
# (initdb + pg_ctl in a temp dir, as an unprivileged user, on a free loopback port), so no system cluster is needed.
#
#   bash scripts/setup-postgres.sh [--user NAME]
#
#   --user NAME  the unprivileged user that runs the throw-away clusters when the tests run as root (default: mcpreg,
#                the rootless podman user; created here when missing)
set -euo pipefail

RUSER=mcpreg
while [ $# -gt 0 ]; do
  case "$1" in
    --user) RUSER="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup-postgres: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
say() { printf '[setup-postgres] %s\n' "$*"; }
if [ "$(id -u)" != 0 ]; then
  echo "setup-postgres: run me as root (it installs packages and may create a user)" >&2
  exit 1
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  say "installing postgresql (Debian 12: PostgreSQL 15)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql
else
  say "present: $(ls -d /usr/lib/postgresql/*/bin | head -1) ($("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/postgres" --version))"
fi
# The package starts a system cluster on 5432; the tests do not use it (they never touch a cluster they did not make).

if ! id -u "$RUSER" >/dev/null 2>&1; then
  say "creating user $RUSER (runs the tests' throw-away clusters: postgres refuses to run as root)"
  useradd --create-home --shell /usr/sbin/nologin "$RUSER"
fi
say "ready: tests run clusters as $RUSER"
