#!/usr/bin/env bash
# Builds bin/ferretdb (FerretDB v1.24.2, static, with its embedded SQLite
# backend) at the repository root from the pinned tool module tools/ferretdb,
# and prints its path on the last line of stdout. Skips the build when
# bin/ferretdb already reports v1.24.2.
#
# Why the detour through a copy of the source: FerretDB panics at start unless
# build/version/version.txt is embedded, and that file is generated upstream
# and absent from the module zip. The module cache is read-only and -overlay is
# refused there, so the module source is copied to a writable folder under
# TOPO_CACHE, version.txt is added, and the build uses a replace directive in a
# separate modfile, leaving the committed tools/ferretdb/go.mod untouched.
#
# Usage: scripts/ferretdb.sh            # build if needed, print the path
#        scripts/ferretdb.sh --force    # rebuild even if bin/ferretdb is current
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly FERRETDB_VERSION=v1.24.2
readonly FERRETDB_MODULE=github.com/FerretDB/FerretDB
readonly MODDIR="$TOPO_ROOT/tools/ferretdb"
readonly BIN="$TOPO_ROOT/bin/ferretdb"
readonly WORK="$TOPO_CACHE/ferretdb"
readonly SRC="$WORK/src-$FERRETDB_VERSION"

parse_force "$@"

# is_current succeeds when bin/ferretdb runs and reports the pinned version.
is_current() {
	[[ -x $BIN ]] || return 1
	# Read all of the output: a pipe into head could kill the binary with
	# SIGPIPE, which pipefail turns into a failure.
	local out
	out="$("$BIN" --version 2>/dev/null)" || return 1
	[[ ${out%%$'\n'*} == "version: $FERRETDB_VERSION" ]]
}

# prepare_source makes $SRC: a writable copy of the module source with
# build/version/version.txt added. The copy is made aside and renamed into
# place, so an interrupted run never leaves a half copy that looks complete.
prepare_source() {
	if [[ -f $SRC/build/version/version.txt ]]; then
		return
	fi
	log "copying $FERRETDB_MODULE@$FERRETDB_VERSION source to $SRC"
	(cd "$MODDIR" && go mod download "$FERRETDB_MODULE") ||
		die "could not download $FERRETDB_MODULE@$FERRETDB_VERSION: check that the Go module proxy is reachable (GOPROXY) and retry"
	local modsrc tmp
	modsrc="$(cd "$MODDIR" && go list -m -f '{{.Dir}}' "$FERRETDB_MODULE")"
	[[ -n $modsrc && -d $modsrc ]] || die "go list found no source folder for $FERRETDB_MODULE: run 'go mod download' in tools/ferretdb and retry"
	mkdir -p "$WORK"
	rm -rf "$SRC".tmp.*
	tmp="$(mktemp -d "$SRC.tmp.XXXXXX")"
	cp -R "$modsrc/." "$tmp/"
	chmod -R u+w "$tmp"
	printf '%s\n' "$FERRETDB_VERSION" >"$tmp/build/version/version.txt"
	rm -rf "$SRC"
	mv "$tmp" "$SRC"
}

go_build() {
	# The flags must stay identical run after run: the Go build cache only hits
	# when they are.
	(cd "$MODDIR" && CGO_ENABLED=0 go build -modfile="$WORK/build.mod" -mod=readonly -buildvcs=false -trimpath -ldflags='-s -w' \
		-o "$1" "$FERRETDB_MODULE/cmd/ferretdb") ||
		die "go build of FerretDB failed (see above); a network error means the Go module proxy was not reachable: check GOPROXY and retry"
}

build() {
	need_go
	require_pinned "$MODDIR" "$FERRETDB_MODULE" "$FERRETDB_VERSION" \
		"restore it (git checkout -- tools/ferretdb) or update FERRETDB_VERSION in scripts/ferretdb.sh"
	local start
	start=$(date +%s)
	prepare_source

	# The build's own modfile: the committed go.mod plus a replace to the copy.
	# -modfile reads the go.sum next to it, so that is copied too.
	{
		cat "$MODDIR/go.mod"
		printf '\nreplace %s => %s\n' "$FERRETDB_MODULE" "$SRC"
	} >"$WORK/build.mod"
	cp "$MODDIR/go.sum" "$WORK/build.sum"

	log "building FerretDB $FERRETDB_VERSION (cold: 2-5 min; warm: seconds)"
	build_into "$BIN" go_build
	is_current || die "the built $BIN does not report FerretDB $FERRETDB_VERSION: delete $SRC and retry"
	log "built bin/ferretdb in $(elapsed "$start") s"
}

ensure_built ferretdb "FerretDB $FERRETDB_VERSION" build
echo "$BIN"
