#!/usr/bin/env bash
# Runs the whole test suite the way make test does, once what it needs is
# built: a bystander (someone else's compose project, a plain container and
# volumes) is made first and must be exactly as it was afterwards; nothing
# the tests made may be left; the run ends with one line counting passed,
# failed and skipped tests (internal/testsummary). Exit 0 only when all
# three hold.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TOPO_LOG_PREFIX=run-tests
cd "$TOPO_ROOT"

# test_objects lists what carries the tests' prefix (topotest-) or label
# (topo.test), one "kind name" a line, sorted.
test_objects() {
	{
		docker ps -a --format 'container {{.Names}}' --filter name=topotest-
		docker ps -a --format 'container {{.Names}}' --filter label=topo.test
		docker network ls --format 'network {{.Name}}' --filter name=topotest-
		docker network ls --format 'network {{.Name}}' --filter label=topo.test
		docker volume ls --format 'volume {{.Name}}' --filter name=topotest-
		docker volume ls --format 'volume {{.Name}}' --filter label=topo.test
	} | sort -u
}
# What an earlier run or session left (a network the engine will not
# remove: "has active endpoints" with none attached, moby#42119) is not
# this run's to answer for; it is named at the end.
before=$(test_objects)

state=$(mktemp "${TMPDIR:-/tmp}/topo-bystander.XXXXXX")
trap './scripts/bystander.sh down "$state" || true; rm -f "$state"' EXIT
./scripts/bystander.sh up "$state"

images=$(./scripts/test-images.sh)
eval "$images"
export PATH="$TOPO_ROOT/bin:$PATH"

# One package at a time (-p 1): two packages deploying the demo at once
# saturate a 2-core machine until health checks time out, which tests
# nothing. pipefail is off for the pipe so that the summary decides.
go build -o bin/testsummary ./internal/testsummary
status=0
set +o pipefail
# The patched Bubble Tea (third_party/bubbletea, issue 18) is a module of
# its own: its tests run too, counted in the same summary.
{
	go test -json -p 1 -count=1 -timeout 40m ./...
	(cd third_party/bubbletea && go test -json -count=1 -timeout 5m ./...)
} 2>&1 | bin/testsummary || status=1
set -o pipefail

./scripts/bystander.sh check "$state" || status=1

# What the tests made carries their prefix (topotest-) and label
# (topo.test): nothing of it made by this run may outlive it.
left=$(comm -23 <(test_objects) <(printf '%s\n' "$before" | sed '/^$/d'))
if [[ -n $before ]]; then
	log "present before this run, so not its leftovers (remove them by hand):"
	echo "$before" >&2
fi
if [[ -n $left ]]; then
	log "the tests left these behind:"
	echo "$left" >&2
	status=1
else
	log "nothing the tests created is left on the engine"
fi
exit "$status"
