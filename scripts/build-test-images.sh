#!/usr/bin/env bash
# Build the local test images without any registry (../shared/docs/podman.md, "Images without a registry"):
#   localhost/mcp-registry-test/tiny:1        test/images/tiny-server (plain JS on the MCP SDK)
#   localhost/mcp-registry-test/everything:1  the npm package @modelcontextprotocol/server-everything (stdio)
# Each is a root file system holding the host's node binary and the libraries it links, an /etc/passwd with
# nobody, and just the node_modules the server needs, imported as one deterministic layer (same image ID on every
# rebuild from the same inputs). Images are built for root and for the rootless test user (each has its own storage).
# An image whose inputs have not changed is left alone, so a second run takes about a second.
#
#   bash scripts/build-test-images.sh [--user NAME] [--force]
#     --user NAME  also build for this unprivileged user (default: mcpreg when it exists; "" for none)
#     --force      re-import even when the image is up to date
# Needs: node, podman (set up by scripts/setup-podman.sh), npm ci done.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
RUSER=mcpreg
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --user) RUSER="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "build-test-images: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -n "$RUSER" ] && ! id "$RUSER" >/dev/null 2>&1; then
  if [ "$RUSER" = mcpreg ]; then RUSER=""; else echo "build-test-images: no user $RUSER" >&2; exit 1; fi
fi
if [ -n "$RUSER" ] && [ "$(id -u)" != 0 ]; then
  echo "build-test-images: building for $RUSER needs root (or pass --user '')" >&2
  exit 1
fi

say() { printf '[build-test-images] %s\n' "$*"; }
NODE=$(readlink -f "$(command -v node)")
WORK=$(mktemp -d /tmp/mcp-registry-images.XXXXXX)
chmod 755 "$WORK" # the rootless user imports the tar from here
trap 'rm -rf "$WORK"' EXIT
cd /

# podman as the rootless user: no XDG variables of root's session (they would point at root's directories).
AS_USER=(runuser -u "$RUSER" -- env -u XDG_RUNTIME_DIR -u XDG_CONFIG_HOME -u XDG_DATA_HOME)

# The part every image shares: node, its libraries, users, an empty /tmp.
BASE="$WORK/base"
mkdir -p "$BASE/usr/bin" "$BASE/etc" "$BASE/tmp" "$BASE/app"
cp "$NODE" "$BASE/usr/bin/node"
for lib in $(ldd "$NODE" | grep -o '/[^ ]*'); do
  cp -L --parents "$lib" "$BASE"
done
if ldd "$NODE" | grep -q libnode; then
  # Debian's shared-libnode build keeps its bundled modules here.
  [ -d /usr/share/nodejs ] && cp -a --parents /usr/share/nodejs "$BASE"
fi
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$BASE/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$BASE/etc/group"
chmod 1777 "$BASE/tmp"

# import_image NAME ROOTFS CMD-JSON: tar the root file system deterministically and import it for root and user.
import_image() {
  local ref="$1" rootfs="$2" cmd="$3"
  chmod -R a+rX,go-w "$rootfs" && chmod 1777 "$rootfs/tmp"
  local tar="$WORK/$(basename "${ref%%:*}").tar"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$tar" .
  touch -d @0 "$tar"
  chmod 644 "$tar"
  # The build key covers the layer and the image settings, so "up to date" means exactly these inputs.
  local key
  key=$( (sha256sum < "$tar"; printf '%s' "$cmd") | sha256sum | cut -c1-32)
  local changes=(--change 'USER 65534:65534' --change 'WORKDIR /app' --change "CMD $cmd"
    --change "LABEL io.mcp-registry.test.build=$key")
  local who
  for who in root ${RUSER:+"$RUSER"}; do
    local run=()
    [ "$who" != root ] && run=("${AS_USER[@]}")
    local have
    have=$("${run[@]}" podman image inspect --format '{{index .Labels "io.mcp-registry.test.build"}}' "$ref" 2>/dev/null || true)
    if [ "$FORCE" = 0 ] && [ "$have" = "$key" ]; then
      say "$ref for $who: up to date ($("${run[@]}" podman image inspect --format '{{.Id}}' "$ref" | cut -c1-12))"
      continue
    fi
    "${run[@]}" podman import -q "${changes[@]}" "$tar" "$ref" >/dev/null
    say "$ref for $who: imported ($("${run[@]}" podman image inspect --format '{{.Id}}' "$ref" | cut -c1-12), $(du -m "$tar" | cut -f1) MB)"
  done
}

# copy_modules ROOTFS PACKAGE...: the packages and their run-time dependencies, at the same node_modules paths.
copy_modules() {
  local rootfs="$1"; shift
  local dirs
  dirs=$(node "$REPO/test/images/collect-deps.mjs" "$REPO" "$@")
  (cd "$REPO" && printf '%s\n' "$dirs" | xargs cp -a --parents -t "$rootfs/app")
}

# smoke REF: the image answers `initialize` on stdin, as root and as the user, with the hardening flags.
smoke() {
  local ref="$1" who out
  local init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"build-test-images","version":"1"}}}'
  for who in root ${RUSER:+"$RUSER"}; do
    local run=()
    [ "$who" != root ] && run=("${AS_USER[@]}")
    out=$(printf '%s\n' "$init" | timeout 30 "${run[@]}" podman run -i --rm --init --pull never --network none \
      --read-only --cap-drop ALL --security-opt no-new-privileges "$ref" 2>/dev/null | head -n 1 || true)
    if ! printf '%s' "$out" | grep -q '"serverInfo"'; then
      echo "[build-test-images] $ref does not answer initialize for $who; got: ${out:-nothing}" >&2
      exit 1
    fi
    say "$ref for $who: answers initialize ($(printf '%s' "$out" | grep -o '"serverInfo":{[^}]*}'))"
  done
}

# (a) tiny
TINY="$WORK/tiny"
cp -a "$BASE" "$TINY"
cp "$REPO/test/images/tiny-server/server.mjs" "$TINY/app/server.mjs"
copy_modules "$TINY" @modelcontextprotocol/sdk
import_image localhost/mcp-registry-test/tiny:1 "$TINY" '["/usr/bin/node","/app/server.mjs"]'
rm -rf "$TINY"

# (b) everything, in stdio mode
EVERY="$WORK/everything"
cp -a "$BASE" "$EVERY"
copy_modules "$EVERY" @modelcontextprotocol/server-everything
import_image localhost/mcp-registry-test/everything:1 "$EVERY" \
  '["/usr/bin/node","/app/node_modules/@modelcontextprotocol/server-everything/dist/index.js","stdio"]'
rm -rf "$EVERY"

smoke localhost/mcp-registry-test/tiny:1
smoke localhost/mcp-registry-test/everything:1
say "done"
