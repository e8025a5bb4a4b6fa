#!/usr/bin/env bash
# Makes sure what the tests need from the machine is there: a Docker engine
# that answers (installing Debian's docker.io and starting dockerd when it
# does not), tmux for the end-to-end tests and debootstrap for the swarm
# node image, docker-compose for the compose tests, rsvg-convert for the
# SVG test, ssh and podman for the engine tests. Skips whatever is
# present: under CI a missing tool fails its tests instead of skipping them.
set -euo pipefail

log() { echo "ensure-engine: $*" >&2; }

missing=()
command -v tmux >/dev/null || missing+=(tmux)
command -v docker >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
# The compose tests check topo's compose file with the real tool.
command -v docker-compose >/dev/null || missing+=(docker-compose)
# The picture test renders topo's SVG with a real renderer.
command -v rsvg-convert >/dev/null || missing+=(librsvg2-bin)
# The engine tests: ssh:// engines through the system's ssh, and Podman's
# Docker-compatible API.
command -v ssh >/dev/null || missing+=(openssh-client)
command -v podman >/dev/null || missing+=(podman)
if ((${#missing[@]})); then
	if [ "$(id -u)" != 0 ]; then
		log "missing ${missing[*]}: install them (apt-get install -y ${missing[*]}) or run as root"
		exit 1
	fi
	log "installing ${missing[*]}"
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

if docker info >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	log "the Docker engine does not answer and only root can start it: start Docker (sudo systemctl start docker)"
	exit 1
fi
log "the Docker engine does not answer: starting dockerd"
nohup dockerd >/var/log/topo-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
	if docker info >/dev/null 2>&1; then
		log "dockerd is up"
		exit 0
	fi
	sleep 1
done
log "dockerd did not answer within 60 s; see /var/log/topo-dockerd.log"
exit 1
