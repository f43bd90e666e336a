#!/usr/bin/env bash
# Build the package runners' base images from host files, without any registry:
#   localhost/mcp-registry/runner-node:<major>     the host's node and npm (e.g. runner-node:20)
#   localhost/mcp-registry/runner-python:<x.y>     Debian's python3 and its pip (e.g. runner-python:3.11)
# The package builders (src/runtime/build/) install an npm or PyPI package on top of one of them, in a build
# container, and run the result hardened. Each image is a root file system holding the interpreter and the libraries
# ldd lists for it (and for python's extension modules), /bin/sh (dash) and /usr/bin/env (install scripts and
# "#!/usr/bin/env node" shebangs need them), an /etc/passwd with nobody, and an empty 1777 /tmp; imported as one
# deterministic layer, for root and for the rootless test user. An image whose inputs are unchanged is left alone.
#
# A real user does not need this: runtime.runners.npm.image / runtime.runners.pypi.image default to the official
# docker.io/library/node:22-slim and docker.io/library/python:3.12-slim, which podman pulls on first use. CI (which
# reaches no image registry) points them at these images instead (see README, "Package runners").
#
#   bash scripts/build-runner-images.sh [--user NAME] [--force]
#     --user NAME  also build for this unprivileged user (default: mcpreg when it exists; "" for none)
#     --force      re-import even when the image is up to date
# Needs: node and npm; Debian's python3 with pip (apt-get install python3 python3-pip); podman (setup-podman.sh).
set -euo pipefail

SELF=$(readlink -f "$0")
NAME=build-runner-images HELP_LINES=2,19p
# shellcheck source=lib/image-args.sh
. "$(dirname "$SELF")/lib/image-args.sh"
die() { echo "[build-runner-images] $*" >&2; exit 1; }

NODE=$(readlink -f "$(command -v node)")
NPM_DIR=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd) # .../node_modules/npm
# Debian's python, not a pyenv or venv one: it lives in /usr, and its pip is a whole (vendored) copy.
PY=$(readlink -f /usr/bin/python3 2>/dev/null || true)
[ -x "$PY" ] || die "no /usr/bin/python3: apt-get install -y python3 python3-pip"
PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PIP_DIR=$("$PY" -c 'import os, pip; print(os.path.dirname(pip.__file__))' 2>/dev/null) || die "Debian's python3 has no pip: apt-get install -y python3-pip"
PYLIB=/usr/lib/python$PYVER
SH=$(readlink -f /bin/sh)
ENV_BIN=$(readlink -f /usr/bin/env)
NODE_MAJOR=$("$NODE" -p 'process.versions.node.split(".")[0]')

WORK=$(mktemp -d /tmp/mcp-registry-runners.XXXXXX)
chmod 755 "$WORK" # the rootless user imports the tar from here
trap 'rm -rf "$WORK"' EXIT
cd /

# libs FILE...: the shared libraries (resolved) the files link, the loader included.
libs() { ldd "$@" 2>/dev/null | grep -o '/[^ ]*' | grep -v ':$' | xargs -r readlink -f | sort -u; }

# rootfs DIR FILE...: a root file system with the files (kept at their paths) and every library they link.
rootfs() {
  local dir="$1" f lib; shift
  mkdir -p "$dir/etc" "$dir/tmp" "$dir/bin" "$dir/usr/bin"
  for f in "$@"; do cp -a --parents "$f" "$dir"; done
  for lib in $(ldd "$@" "$SH" "$ENV_BIN" 2>/dev/null | grep -o '/[^ ]*' | grep -v ':$' | sort -u); do
    [ -e "$dir$lib" ] || cp -L --parents "$lib" "$dir"
  done
  cp "$SH" "$dir/bin/sh"
  cp "$ENV_BIN" "$dir/usr/bin/env"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/tmp:/sbin/nologin\n' > "$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
  chmod -R a+rX,go-w "$dir" && chmod 1777 "$dir/tmp"
}

# stale REF KEY: the users (root, then the rootless one) whose REF was not built from KEY (a label); "" when none.
stale() {
  local ref="$1" key="$2" who have out=()
  for who in root ${RUSER:+"$RUSER"}; do
    local run=()
    [ "$who" != root ] && run=("${AS_USER[@]}")
    have=$("${run[@]}" podman image inspect --format '{{index .Labels "io.mcp-registry.runner.build"}}' "$ref" 2>/dev/null || true)
    if [ "$FORCE" = 0 ] && [ "$have" = "$key" ]; then
      say "$ref for $who: up to date ($("${run[@]}" podman image inspect --format '{{.Id}}' "$ref" | cut -c1-12))" >&2
    else
      out+=("$who")
    fi
  done
  echo "${out[*]:-}"
}

# import REF KEY DIR WHO...: DIR imported as REF for each WHO, labelled with the KEY it was made from.
import() {
  local ref="$1" key="$2" dir="$3"; shift 3
  import_rootfs "$ref" "$dir" "$@" -- --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'ENV HOME=/tmp' \
    --change 'WORKDIR /' --change "LABEL io.mcp-registry.runner.build=$key"
}

# key FILE-OR-DIR...: a digest of everything an image is made from (this script included).
key() {
  { for f in "$SELF" "$(dirname "$SELF")/lib/image-args.sh" "$SH" "$ENV_BIN" "$@"; do
      if [ -d "$f" ]; then (cd "$f" && find . -type f -print0 | sort -z | xargs -0 sha256sum); else sha256sum < "$f"; fi
    done; } | sha256sum | cut -c1-32
}

# smoke REF CMD...: the image runs CMD hardened (as nobody, read-only, no network) for root and the user.
smoke() {
  local ref="$1" who out; shift
  for who in root ${RUSER:+"$RUSER"}; do
    local run=()
    [ "$who" != root ] && run=("${AS_USER[@]}")
    out=$(timeout 60 "${run[@]}" podman run --rm --pull never --network none --read-only --cap-drop ALL \
      --security-opt no-new-privileges --user 65534:65534 "$ref" "$@" 2>&1) || die "$ref does not run $* for $who: $out"
    say "$ref for $who: $(printf '%s' "$out" | tr '\n' ' ')"
  done
}

NODE_REF=localhost/mcp-registry/runner-node:$NODE_MAJOR
NODE_KEY=$(key "$NODE" "$NPM_DIR" $(libs "$NODE"))
todo=$(stale "$NODE_REF" "$NODE_KEY")
if [ -n "$todo" ]; then
  R="$WORK/node"
  rootfs "$R" "$NODE"
  [ "$NODE" = /usr/bin/node ] || cp "$NODE" "$R/usr/bin/node"
  # Debian's shared-libnode build keeps its bundled modules here.
  if ldd "$NODE" | grep -q libnode && [ -d /usr/share/nodejs ]; then cp -a --parents /usr/share/nodejs "$R"; fi
  mkdir -p "$R/usr/lib/node_modules"
  cp -a "$NPM_DIR" "$R/usr/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/bin/npx"
  chmod -R a+rX,go-w "$R/usr"
  # shellcheck disable=SC2086 # one word per user
  import "$NODE_REF" "$NODE_KEY" "$R" $todo
  smoke "$NODE_REF" npm --version
fi

PY_REF=localhost/mcp-registry/runner-python:$PYVER
DYNLOAD=$(ls "$PYLIB"/lib-dynload/*.so)
# shellcheck disable=SC2086
PY_KEY=$(key "$PY" "$PYLIB" "$PIP_DIR" $(libs "$PY" $DYNLOAD))
todo=$(stale "$PY_REF" "$PY_KEY")
if [ -n "$todo" ]; then
  R="$WORK/python"
  # shellcheck disable=SC2086
  rootfs "$R" "$PY" $DYNLOAD
  cp -a --parents "$PYLIB" "$R"
  # Debian marks its python "externally managed" (pip refuses to install into it); the image is ours to manage.
  rm -f "$R$PYLIB/EXTERNALLY-MANAGED"
  mkdir -p "$R/usr/lib/python3/dist-packages"
  cp -a "$PIP_DIR" "$R/usr/lib/python3/dist-packages/pip"
  # The layer's mtimes are all 0 (deterministic), which would make every timestamp-checked .pyc stale: python would
  # recompile everything on each start (seconds) and could not even cache it under --read-only.
  "$PY" -m compileall -q -f -j 0 --invalidation-mode unchecked-hash -s "$R" -p / "$R$PYLIB" "$R/usr/lib/python3/dist-packages" >/dev/null
  ln -sf "$(basename "$PY")" "$R/usr/bin/python3"
  ln -sf python3 "$R/usr/bin/python"
  chmod -R a+rX,go-w "$R/usr"
  # shellcheck disable=SC2086
  import "$PY_REF" "$PY_KEY" "$R" $todo
  smoke "$PY_REF" python3 -m pip --version
fi
say "done"
