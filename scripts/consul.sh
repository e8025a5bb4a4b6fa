#!/usr/bin/env bash
# Builds bin/consul (Consul v1.14.11, static, stripped) at the repository root
# from the pinned tool module tools/consul, and prints its path on the last
# line of stdout. Skips the build when bin/consul already reports v1.14.11.
#
# v1.14.11 is the newest MPL-2.0 release of Consul: never move past it.
#
# Usage: scripts/consul.sh            # build if needed, print the path
#        scripts/consul.sh --force    # rebuild even if bin/consul is current
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly CONSUL_VERSION=v1.14.11
readonly CONSUL_MODULE=github.com/hashicorp/consul
readonly MODDIR="$TOPO_ROOT/tools/consul"
readonly BIN="$TOPO_ROOT/bin/consul"

parse_force "$@"

# is_current succeeds when bin/consul runs and reports the pinned version.
is_current() {
	[[ -x $BIN ]] || return 1
	# Read all of the output: a pipe into head could kill the binary with
	# SIGPIPE, which pipefail turns into a failure.
	local out
	out="$("$BIN" version 2>/dev/null)" || return 1
	[[ ${out%%$'\n'*} == "Consul $CONSUL_VERSION" ]]
}

go_build() {
	# The flags must stay identical run after run: the Go build cache only hits
	# when they are.
	(cd "$MODDIR" && CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -ldflags='-s -w' \
		-o "$1" "$CONSUL_MODULE") ||
		die "go build of Consul failed (see above); a network error means the Go module proxy was not reachable: check GOPROXY and retry"
}

build() {
	need_go
	require_pinned "$MODDIR" "$CONSUL_MODULE" "$CONSUL_VERSION" \
		"restore it (git checkout -- tools/consul); newer Consul releases are not open source"
	local start
	start=$(date +%s)
	log "building Consul $CONSUL_VERSION (cold: 4-7 min on 2 idle cores, longer on a busy machine; warm: seconds)"
	build_into "$BIN" go_build
	is_current || die "the built $BIN does not report Consul $CONSUL_VERSION: check tools/consul/go.mod"
	log "built bin/consul in $(elapsed "$start") s"
}

ensure_built consul "Consul $CONSUL_VERSION" build
echo "$BIN"
