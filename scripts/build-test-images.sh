#!/usr/bin/env bash
# Build the local test images without any registry (../shared/docs/podman.md, "Images without a registry"):
#   localhost/mcp-registry-test/tiny:1        test/images/tiny-server (plain JS on the MCP SDK)
#   localhost/mcp-registry-test/everything:1  the npm package @modelcontextprotocol/server-everything (stdio)
#   localhost/mcp-registry-test/conformance:1 test/fixtures/conformance-server on stdio (v2 SDK, both eras)
# Each is a root file system holding the host's node binary and the libraries it links, an /etc/passwd with
# nobody, and just the node_modules the server needs, imported as one deterministic layer (same image ID on every
# rebuild from the same inputs). Images are built for root and for the rootless test user (each has its own storage).
# An image whose inputs (node, its libraries, the server files, the packages) have not changed is left alone.
#
#   bash scripts/build-test-images.sh [--user NAME] [--force]
#     --user NAME  also build for this unprivileged user (default: mcpreg when it exists; "" for none)
#     --force      re-import even when the image is up to date
# Needs: node, podman (set up by scripts/setup-podman.sh), npm ci done.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
NAME=build-test-images HELP_LINES=2,15p
# shellcheck source=lib/image-args.sh
. "$REPO/scripts/lib/image-args.sh"
NODE=$(readlink -f "$(command -v node)")
WORK=$(mktemp -d /tmp/mcp-registry-images.XXXXXX)
chmod 755 "$WORK" # the rootless user imports the tar from here
trap 'rm -rf "$WORK"' EXIT
cd /

LIBS=$(ldd "$NODE" | grep -o '/[^ ]*' | xargs readlink -f | sort -u)

# The part every image shares: node, its libraries, users, an empty /tmp. Made only when an image needs building.
BASE="$WORK/base"
make_base() {
  [ -d "$BASE" ] && return
  mkdir -p "$BASE/usr/bin" "$BASE/etc" "$BASE/tmp" "$BASE/app"
  cp "$NODE" "$BASE/usr/bin/node"
  local lib
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
}

# What every image is made from; an image's key adds its own files, packages and command. The key is stored as a
# label, so an image whose key matches is already exactly what this run would build, and the copying is skipped.
COMMON_KEY=$(for f in "$REPO/scripts/build-test-images.sh" "$REPO/test/images/collect-deps.mjs" "$NODE" $LIBS; do
  sha256sum < "$f"
done | sha256sum | cut -c1-64)

# image REF CMD-JSON APP-FILE PACKAGE...: build REF (APP-FILE, if not "", becomes /app/server.mjs; a directory's
# *.mjs files are copied into /app as they are) for root and the user, unless each already has it from the same inputs.
image() {
  local ref="$1" cmd="$2" appfile="$3"; shift 3
  local deps key who have
  deps=$(node "$REPO/test/images/collect-deps.mjs" "$REPO" "$@")
  key=$( {
    echo "$COMMON_KEY $cmd $*"
    if [ -d "$appfile" ]; then cat "$appfile"/*.mjs | sha256sum; elif [ -n "$appfile" ]; then sha256sum < "$appfile"; fi
    (cd "$REPO" && for d in $deps; do echo "$d"; cat "$d/package.json"; done) | sha256sum
  } | sha256sum | cut -c1-32)
  local todo=()
  for who in root ${RUSER:+"$RUSER"}; do
    local run=()
    [ "$who" != root ] && run=("${AS_USER[@]}")
    have=$("${run[@]}" podman image inspect --format '{{index .Labels "io.mcp-registry.test.build"}}' "$ref" 2>/dev/null || true)
    if [ "$FORCE" = 0 ] && [ "$have" = "$key" ]; then
      say "$ref for $who: up to date ($("${run[@]}" podman image inspect --format '{{.Id}}' "$ref" | cut -c1-12))"
    else
      todo+=("$who")
    fi
  done
  [ ${#todo[@]} -eq 0 ] && return

  make_base
  local rootfs="$WORK/rootfs"
  rm -rf "$rootfs"
  cp -a "$BASE" "$rootfs"
  if [ -d "$appfile" ]; then cp "$appfile"/*.mjs "$rootfs/app/"; elif [ -n "$appfile" ]; then cp "$appfile" "$rootfs/app/server.mjs"; fi
  (cd "$REPO" && printf '%s\n' "$deps" | xargs cp -a --parents -t "$rootfs/app")
  chmod -R a+rX,go-w "$rootfs" && chmod 1777 "$rootfs/tmp"
  # One deterministic layer: same inputs, same bytes, same image ID.
  import_rootfs "$ref" "$rootfs" "${todo[@]}" -- --change 'USER 65534:65534' --change 'WORKDIR /app' --change "CMD $cmd" \
    --change "LABEL io.mcp-registry.test.build=$key"
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

image localhost/mcp-registry-test/tiny:1 '["/usr/bin/node","/app/server.mjs"]' \
  "$REPO/test/images/tiny-server/server.mjs" @modelcontextprotocol/sdk
image localhost/mcp-registry-test/everything:1 \
  '["/usr/bin/node","/app/node_modules/@modelcontextprotocol/server-everything/dist/index.js","stdio"]' \
  "" @modelcontextprotocol/server-everything
image localhost/mcp-registry-test/conformance:1 '["/usr/bin/node","/app/server.mjs","--stdio"]' \
  "$REPO/test/fixtures/conformance-server" @modelcontextprotocol/server @modelcontextprotocol/node

smoke localhost/mcp-registry-test/tiny:1
smoke localhost/mcp-registry-test/everything:1
smoke localhost/mcp-registry-test/conformance:1
say "done"
