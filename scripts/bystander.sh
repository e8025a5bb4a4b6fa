#!/usr/bin/env bash
# Someone else's work on the shared engine, for make test to prove it leaves
# such work alone: a docker-compose project of three containers on two user
# networks (one container on both, one with a volume) plus a plain container
# with a named volume of its own. None of it carries a label of topo's or of
# its tests, so no cleanup of theirs may take it.
#
# Usage: scripts/bystander.sh up STATE      create it; record how it is in STATE
#        scripts/bystander.sh check STATE   fail, naming each difference, unless
#                                           every object is as recorded
#        scripts/bystander.sh down STATE    remove exactly what up created
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TOPO_LOG_PREFIX=bystander

[[ $# == 2 ]] || die "usage: scripts/bystander.sh up|check|down STATE"
action=$1 state=$2
need_cmd docker "install Docker (apt-get install -y docker.io)"
need_cmd docker-compose "install docker-compose (apt-get install -y docker-compose; scripts/ensure-engine.sh does)"
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0

# describe prints one line per object of the bystander, in a stable order:
# what must not change (ID, state, start time, networks with addresses,
# mounts) for containers, ID and members for networks, name for volumes.
describe() {
	local id=$1 c
	for c in $(docker ps -aq --filter "label=com.docker.compose.project=$id") $(docker ps -aq --filter "name=^$id-plain\$"); do
		docker inspect --format \
			'container {{.Name}} {{.Id}} {{.State.Status}} started={{.State.StartedAt}} restarts={{.RestartCount}} nets={{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}},{{end}} mounts={{range .Mounts}}{{.Name}}:{{.Destination}}:{{.RW}},{{end}}' "$c"
	done | sort
	docker network ls -q --filter "label=com.docker.compose.project=$id" | while read -r n; do
		docker network inspect --format 'network {{.Name}} {{.Id}} members={{len .Containers}}' "$n"
	done | sort
	docker volume ls -q --filter "label=com.docker.compose.project=$id" | sed 's/^/volume /' | sort
	docker volume ls -q --filter "name=^$id-vol\$" | sed 's/^/volume /'
}

case $action in
up)
	id="topo-bystander-$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	(cd "$TOPO_ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/app" ./internal/testserver)
	tag="topo-bystander/app:$(sha256sum "$work/app" | cut -c1-12)"
	if ! docker image inspect "$tag" >/dev/null 2>&1; then
		printf 'FROM scratch\nCOPY app /app\nENTRYPOINT ["/app"]\n' >"$work/Dockerfile"
		docker build -q -t "$tag" "$work" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; die "could not build $tag"; }
	fi
	cat >"$work/docker-compose.yml" <<YAML
version: "2.4"
services:
  web:
    image: $tag
    networks: [front]
  api:
    image: $tag
    networks: [front, back]
  db:
    image: $tag
    networks: [back]
    volumes: ["data:/data"]
networks:
  front: {}
  back: {}
volumes:
  data: {}
YAML
	docker-compose -p "$id" -f "$work/docker-compose.yml" up -d >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; die "docker-compose up failed"; }
	docker volume create "$id-vol" >/dev/null
	docker run -d --name "$id-plain" -v "$id-vol:/data" "$tag" >/dev/null
	{
		echo "$id"
		describe "$id"
	} >"$state"
	log "created $id: $(($(wc -l <"$state") - 1)) objects (compose project, a plain container, volumes)"
	;;
check)
	[[ -s $state ]] || die "no bystander state at $state: run 'scripts/bystander.sh up $state' first"
	id=$(head -1 "$state")
	if ! diff <(tail -n +2 "$state") <(describe "$id") >"$state.diff"; then
		log "the bystander $id changed during the run (< before, > after):"
		cat "$state.diff" >&2
		die "the tests touched objects they did not create"
	fi
	log "bystander $id untouched: $(($(wc -l <"$state") - 1)) objects as before"
	;;
down)
	[[ -s $state ]] || exit 0
	id=$(head -1 "$state")
	docker rm -f -v "$id-plain" >/dev/null 2>&1 || true
	docker ps -aq --filter "label=com.docker.compose.project=$id" | xargs -r docker rm -f -v >/dev/null
	docker network ls -q --filter "label=com.docker.compose.project=$id" | xargs -r docker network rm >/dev/null
	docker volume ls -q --filter "label=com.docker.compose.project=$id" | xargs -r docker volume rm >/dev/null
	docker volume rm "$id-vol" >/dev/null 2>&1 || true
	rm -f "$state" "$state.diff"
	;;
*) die "unknown action '$action' (up, check or down)" ;;
esac
