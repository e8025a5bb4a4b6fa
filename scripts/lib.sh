# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this
# Shared helpers for topo's build scripts. Source it; do not run it.
#
# Every script prints progress on stderr and keeps stdout for its result, so
# callers can capture the result with $(...) or eval.

# TOPO_ROOT is the repository root, found from this file's own location so the
# scripts work from any working directory.
TOPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# TOPO_CACHE holds what the scripts download or unpack (module source copies,
# .deb files): kept across runs so a second run needs no network.
TOPO_CACHE="${XDG_CACHE_HOME:-${HOME:?HOME is not set: set HOME or XDG_CACHE_HOME}/.cache}/topo"

# log prints a progress line on stderr, prefixed by the script's name.
log() {
	printf '%s: %s\n' "${TOPO_LOG_PREFIX:-$(basename "$0" .sh)}" "$*" >&2
}

# die prints an error on stderr and exits non-zero. Say what failed and what
# to do about it.
die() {
	printf '%s: error: %s\n' "${TOPO_LOG_PREFIX:-$(basename "$0" .sh)}" "$*" >&2
	exit 1
}

# need_cmd fails with an install hint when a command is missing.
# Usage: need_cmd CMD "how to get it"
need_cmd() {
	command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH: $2"
}

# need_go checks the Go toolchain is usable.
need_go() {
	need_cmd go "install Go 1.26 or newer (https://go.dev/dl/) and put its bin/ on PATH"
}

# with_lock runs a command while holding an exclusive lock named NAME under
# TOPO_CACHE, so two runs at once (two shells, CI and a developer) do the work
# once and never write the same output file together.
# Usage: with_lock NAME CMD [ARGS...]
with_lock() {
	local name=$1
	shift
	mkdir -p "$TOPO_CACHE/locks"
	if command -v flock >/dev/null 2>&1; then
		(
			flock 9
			"$@"
		) 9>"$TOPO_CACHE/locks/$name.lock"
	else
		"$@"
	fi
}

# elapsed prints the seconds since the epoch second given.
elapsed() {
	echo $(($(date +%s) - $1))
}

# parse_force reads a build script's only argument: --force sets force=1
# (rebuild even when current), anything else is refused.
parse_force() {
	force=0
	case "${1:-}" in
	"") ;;
	--force) force=1 ;;
	*) die "unknown argument '$1' (usage: scripts/$(basename "$0") [--force])" ;;
	esac
}

# require_pinned checks a tool module is there and pins MODULE at VERSION.
# Usage: require_pinned MODDIR MODULE VERSION WHAT-TO-DO-OTHERWISE
require_pinned() {
	local moddir=$1 module=$2 version=$3 hint=$4 rel
	rel=${moddir#"$TOPO_ROOT"/}
	[[ -f $moddir/go.mod && -f $moddir/go.sum ]] ||
		die "$moddir/go.mod or go.sum is missing: restore them from git (git checkout -- $rel)"
	grep -Eq "^[[:space:]]*$module $version( |$)" "$moddir/go.mod" ||
		die "$rel/go.mod does not pin $module $version: $hint"
}

# build_into runs FN TMP, which writes a binary to TMP beside BIN, then
# renames it to BIN, so a reader never sees half a binary; TMP is removed
# if FN fails or the script is interrupted.
# Usage: build_into BIN FN
build_into() {
	local bin=$1 fn=$2 tmp
	mkdir -p "$(dirname "$bin")"
	tmp="$(mktemp "$(dirname "$bin")/.$(basename "$bin").XXXXXX")"
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -f '$tmp'" EXIT
	"$fn" "$tmp"
	mv -f "$tmp" "$bin"
	trap - EXIT
}

# ensure_built runs FN under the lock NAME-build unless bin/NAME is current
# (is_current, defined by the script) and --force was not given; the check
# is made under the lock, since another run may have built it while this
# one waited.
# Usage: ensure_built NAME WHAT FN
ensure_built() {
	with_lock "$1-build" _build_unless_current "$@"
}

_build_unless_current() {
	if ((force == 0)) && is_current; then
		log "bin/$1 is already $2: nothing to do"
		return
	fi
	"$3"
}
