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
