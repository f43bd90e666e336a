# Sourced by the scripts that build local images for root and the rootless test user (build-test-images.sh,
# build-runner-images.sh): parses their common options and sets RUSER (the user, or "" for none), FORCE (0/1),
# AS_USER (the prefix that runs a command as RUSER) and say(). The sourcing script sets NAME and HELP_LINES first.
#   --user NAME  also build for this unprivileged user (default: mcpreg when it exists; "" for none)
#   --force      re-import even when the image is up to date
RUSER=mcpreg
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --user) RUSER="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h|--help) sed -n "$HELP_LINES" "$0"; exit 0 ;;
    *) echo "$NAME: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -n "$RUSER" ] && ! id "$RUSER" >/dev/null 2>&1; then
  if [ "$RUSER" = mcpreg ]; then RUSER=""; else echo "$NAME: no user $RUSER" >&2; exit 1; fi
fi
if [ -n "$RUSER" ] && [ "$(id -u)" != 0 ]; then
  echo "$NAME: building for $RUSER needs root (or pass --user '')" >&2
  exit 1
fi
say() { printf '[%s] %s\n' "$NAME" "$*"; }
# podman as the rootless user: no XDG variables of root's session (they would point at root's directories).
AS_USER=(runuser -u "$RUSER" -- env -u XDG_RUNTIME_DIR -u XDG_CONFIG_HOME -u XDG_DATA_HOME)

# import_rootfs REF DIR WHO... -- CHANGE...: DIR as one deterministic layer (same inputs, same bytes, same image ID),
# imported as REF for each WHO (root or RUSER) with podman import's --change arguments; DIR is removed. Needs WORK.
import_rootfs() {
  local ref="$1" dir="$2" who whos=() tar="$WORK/image.tar"; shift 2
  while [ "$1" != -- ]; do whos+=("$1"); shift; done
  shift
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$dir" -cf "$tar" .
  touch -d @0 "$tar" && chmod 644 "$tar" && rm -rf "$dir"
  for who in "${whos[@]}"; do
    local run=() old
    [ "$who" != root ] && run=("${AS_USER[@]}")
    old=$("${run[@]}" podman image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
    "${run[@]}" podman import -q "$@" "$tar" "$ref" >/dev/null
    # The previous build, now untagged, would only take space (kept if a container still uses it).
    [ -n "$old" ] && "${run[@]}" podman rmi "$old" >/dev/null 2>&1 || true
    say "$ref for $who: imported ($("${run[@]}" podman image inspect --format '{{.Id}}' "$ref" | cut -c1-12), $(du -m "$tar" | cut -f1) MB)"
  done
  rm -f "$tar"
}
