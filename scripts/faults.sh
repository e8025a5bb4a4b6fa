#!/usr/bin/env bash
# topo's fault figures (issue 10, item 6), run by `make faults`.
#
# Drives the built binary (bin/topo) in a real terminal (tmux) against a
# Docker engine this script owns: one Docker-in-Docker node container (the
# swarm tests' node image), on a private bridge network the script creates,
# reached over TCP, its /var/lib/docker in a named volume so that it
# survives a restart of the node. A Consul agent runs in a container on that
# node. Nothing else on the machine is touched: the outer engine only gets
# the node container, its network and its volume, all labelled
# topo.faults=<run id> and removed at the end, also on failure or Ctrl-C.
#
# Scenarios, in this order, on one running topo (but for (f)):
#   (c) the registry killed and restarted
#   (a) the engine restarted under topo (the node container stopped, then
#       started again: its dockerd goes away and comes back with its state)
#   (b) a burst of about 10,000 engine events (container create/start/stop/
#       remove cycles, renames, pause/unpause), bounded in time
#   (d) the terminal resized 100 times in about one second
#   (e) a 20x10 terminal, then back
#   (f) stdin closed: fd 0 closed at start; no terminal at all; the
#       terminal hung up under a running topo
# For each: the time until the screen says what happened, the time until
# it is current again after the engine (or registry) answers, whether the
# model equals what the engine and Consul report, topo's peak RSS, and that
# it ended without a panic. Writes RELIABILITY.md.
#
# How the model is read: with TOPO_FAULTS_RECORD=<file> set, topo writes
# its model (the topology and registry it draws), the time of every View
# and the engine-to-model delay of every event to that file on SIGUSR1 and
# at exit (faultsrecord.go). The screen is read with tmux capture-pane.
set -euo pipefail
export LC_ALL=C.UTF-8 # the screen is matched with UTF-8 patterns
cd "$(dirname "$0")/.."
ROOT=$PWD

W=200
H=50
POLL=0.02           # between screen captures, seconds
BURST_EVENTS=${FAULTS_BURST_EVENTS:-10000}
BURST_MAX=${FAULTS_BURST_SECONDS:-150} # the burst stops here, done or not
OUT=${FAULTS_OUT:-$ROOT/RELIABILITY.md}
BIN=$ROOT/bin/topo
CONSUL_BIN=${CONSUL_BIN:-$ROOT/bin/consul}

RUN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
LABEL=topo.faults=$RUN
PREFIX=topofaults-$RUN
NODE=$PREFIX-node
NET=$PREFIX-net
VOL=$PREFIX-lib
SOCK=topofaults-$RUN # a tmux server of our own
WORK=$(mktemp -d /tmp/topofaults.XXXXXX)
REC=$WORK/rec.json

log() { printf 'faults: %s\n' "$*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}

# --- clean-up: only what carries our label, our tmux server, our files ----
cleaned=
cleanup() {
	[ -n "$cleaned" ] && return
	cleaned=1
	set +e
	jobs -p | xargs -r kill 2>/dev/null
	tmux -L "$SOCK" kill-server 2>/dev/null
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"
	# The node's containers, networks and Consul live inside the node and
	# its volume: they go with them.
	local ids
	ids=$(docker ps -aq --filter "label=$LABEL")
	[ -n "$ids" ] && xargs -r docker rm -f -v <<<"$ids" >/dev/null
	ids=$(docker network ls -q --filter "label=$LABEL")
	[ -n "$ids" ] && xargs -r docker network rm <<<"$ids" >/dev/null
	ids=$(docker volume ls -q --filter "label=$LABEL")
	[ -n "$ids" ] && xargs -r docker volume rm <<<"$ids" >/dev/null
	left=$(
		docker ps -aq --filter "label=$LABEL"
		docker network ls -q --filter "label=$LABEL"
		docker volume ls -q --filter "label=$LABEL"
	)
	[ -z "$left" ] || log "WARNING: left behind, labelled $LABEL: $(tr '\n' ' ' <<<"$left")"
	[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# --- time and waiting, without a fork per nap --------------------------
exec {NAPFD}<> <(:)
nap() { read -r -t "$1" -u "$NAPFD" || true; }
now_us() { echo "${EPOCHREALTIME/./}"; }
now_ms() { echo $(($(now_us) / 1000)); }
ms_since() { echo $((($(now_us) - $1) / 1000)); } # ms_since T_US

screen() { tmux -L "$SOCK" capture-pane -p -t "$1" 2>/dev/null || true; }

# wait_screen SESSION REGEX TIMEOUT_S [absent]: polls the screen until
# REGEX matches (or no longer does) and sets SEEN_US to when it saw it.
# Returns 1 on timeout (the caller decides), leaving the screen in LAST.
SEEN_US=0
LAST=
wait_screen() {
	local session=$1 re=$2 timeout=$3 absent=${4:-} deadline
	deadline=$(($(now_us) + timeout * 1000000))
	while :; do
		LAST=$(screen "$session")
		SEEN_US=$(now_us)
		if [ -z "$absent" ] && [[ $LAST =~ $re ]]; then return 0; fi
		if [ -n "$absent" ] && ! [[ $LAST =~ $re ]]; then return 0; fi
		((SEEN_US > deadline)) && return 1
		nap "$POLL"
	done
}

# --- the node's engine and Consul, over the private bridge -------------
D() { docker -H "tcp://$IP:2375" "$@"; }
api() { curl -sf --max-time 5 "http://$IP:2375/v1.41$1"; }
engine_up() { curl -sf --max-time 1 "http://$IP:2375/_ping" >/dev/null 2>&1; }
consul_api() { curl -sf --max-time 5 "http://$IP:8500$1"; }
consul_up() { [[ $(curl -sf --max-time 1 "http://$IP:8500/v1/status/leader" 2>/dev/null) == *:* ]]; }

# engine_counts: "NETWORKS RUNNING/TOTAL" as topo's status bar counts them
# (running includes paused and restarting).
engine_counts() {
	local n c
	n=$(api /networks | jq length) || return 1
	c=$(api '/containers/json?all=1' | jq -r '"\([.[] | select(.State == "running" or .State == "paused" or .State == "restarting")] | length)/\(length)"') || return 1
	echo "$n $c"
}
# screen_counts: the same read off the status bar of the last capture.
screen_counts() {
	local re='([0-9]+) networks · ([0-9]+/[0-9]+) running'
	[[ $LAST =~ $re ]] && echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
}

# wait_current SESSION TIMEOUT_S: until the screen says live and its counts
# equal the engine's (both read each round); sets SEEN_US. 1 on timeout.
wait_current() {
	local session=$1 timeout=$2 deadline e s
	deadline=$(($(now_us) + timeout * 1000000))
	while :; do
		e=$(engine_counts 2>/dev/null || echo "?")
		LAST=$(screen "$session")
		SEEN_US=$(now_us)
		s=$(screen_counts || true)
		if [[ $LAST == *"● live"* ]] && [ "$s" = "$e" ]; then return 0; fi
		((SEEN_US > deadline)) && {
			log "screen counts '$s', engine '$e'"
			return 1
		}
		nap "$POLL"
	done
}

# record: asks topo to write its recording and waits for the new one.
record() {
	local before=0 deadline
	[ -f "$REC" ] && before=$(jq .written_at_ms "$REC")
	kill -USR1 "$TOPO"
	deadline=$(($(now_us) + 10000000))
	while :; do
		if [ -f "$REC" ] && [ "$(jq .written_at_ms "$REC" 2>/dev/null || echo 0)" != "$before" ]; then return 0; fi
		(($(now_us) > deadline)) && die "topo wrote no recording within 10 s of SIGUSR1"
		nap 0.05
	done
}

# The model and the engine, each as sorted lines "name state net=ip,...",
# networks as "name driver"; the registry as "service id,id".
model_lines() {
	jq -r '.topology.containers[] | "c \(.name) \(.state) " + ([.networks[] | "\(.network)=\(.ipv4 // "")"] | sort | join(","))' "$REC"
	jq -r '.topology.networks[] | "n \(.name) \(.driver)"' "$REC"
}
engine_lines() {
	local ids
	ids=$(api '/containers/json?all=1' | jq -r '.[].Id')
	if [ -n "$ids" ]; then
		# shellcheck disable=SC2086
		D inspect $ids | jq -r '.[] | "c \(.Name | ltrimstr("/")) \(.State.Status) " + ([.NetworkSettings.Networks // {} | to_entries[] | "\(.key)=\(.value.IPAddress)"] | sort | join(","))'
	fi
	api /networks | jq -r '.[] | "n \(.Name) \(.Driver)"'
}
model_registry_lines() {
	jq -r 'if .registry == null then "no registry" elif (.registry.error // "") != "" then "registry error: \(.registry.error)" else (.registry.services // [])[] | "s \(.name) " + ([.instances[].id] | sort | join(",")) end' "$REC"
}
consul_lines() {
	local s
	for s in $(consul_api /v1/catalog/services | jq -r 'keys[]'); do
		consul_api "/v1/catalog/service/$s" | jq -r --arg s "$s" '"s \($s) " + ([.[].ServiceID] | sort | join(","))'
	done
}

# exact WHAT: records topo's model and compares it with the engine (and,
# with WHAT=registry too, with Consul); the state may still be moving, so
# up to 5 tries a second apart. Sets EXACT to "yes" or "NO" and DIFF.
exact() {
	local what=$1 try
	for try in 1 2 3 4 5; do
		record
		{
			model_lines
			[ "$what" = engine ] || model_registry_lines
		} | sort >"$WORK/model.txt"
		{
			engine_lines
			[ "$what" = engine ] || consul_lines
		} | sort >"$WORK/engine.txt"
		if DIFF=$(diff "$WORK/engine.txt" "$WORK/model.txt"); then
			EXACT=yes
			return 0
		fi
		nap 1
	done
	EXACT=NO
	log "model (>) against engine/Consul (<) after 5 tries:"
	printf '%s\n' "$DIFF" | head -20 >&2
}

hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$TOPO/status" 2>/dev/null || echo 0; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# Results, one row per scenario, and notes.
ROWS=()
NOTES=()
FAILS=0
# row SCENARIO SAID CURRENT EXACT RSS NOPANIC VERDICT
row() {
	ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 |")
	case "$7" in ok*) ;; *) FAILS=$((FAILS + 1)) ;; esac
}
within() { [[ $1 =~ ^[0-9]+$ ]] && (($1 <= $2)); } # within MS LIMIT_MS

# --- prerequisites -------------------------------------------------------
for tool in tmux jq curl go; do
	command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install -y $tool)"
done
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (scripts/ensure-engine.sh starts it)"
[ -x "$CONSUL_BIN" ] || die "no Consul binary at $CONSUL_BIN: build it with scripts/consul.sh (or make consul)"
make -s build >&2
COMMIT=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "run $RUN on $COMMIT; work dir $WORK"

# The node image, built by the swarm tests' own code (once per machine).
TOPO_NODE_IMAGE_OUT=$WORK/node-image go test ./internal/swarmtest -run '^TestNodeImageIsBuilt$' -count=1 >"$WORK/node-image.log" 2>&1 ||
	{ cat "$WORK/node-image.log" >&2; die "building the node image"; }
NODE_IMAGE=$(cat "$WORK/node-image")

# --- the node: a fixed address on a bridge of our own -------------------
# The node must keep its address across a restart, and a fixed address
# needs a subnet named at create: let the engine pick a free one, then
# create the network again with it.
docker network create --label "$LABEL" "$NET" >/dev/null
SUBNET=$(docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' "$NET")
docker network rm "$NET" >/dev/null
docker network create --label "$LABEL" --subnet "$SUBNET" -o com.docker.network.driver.mtu=1400 "$NET" >/dev/null
IP=$(awk -F'[./]' '{printf "%d.%d.%d.%d", $1, $2, $3, $4 + 10}' <<<"$SUBNET")
docker volume create --label "$LABEL" "$VOL" >/dev/null
# What internal/swarmtest gives its nodes (see TESTENV.md): --privileged is
# refused by this engine, this is the rest of what it grants. The inner
# engine listens on TCP without TLS, reachable only on this bridge.
docker run -d --name "$NODE" --hostname topofaults-node --label "$LABEL" \
	--network "$NET" --ip "$IP" \
	--cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
	--security-opt apparmor=unconfined --security-opt systempaths=unconfined \
	--device-cgroup-rule='a *:* rwm' --tmpfs /run -v "$VOL:/var/lib/docker" \
	"$NODE_IMAGE" -H unix:///var/run/docker.sock -H tcp://0.0.0.0:2375 --tls=false --mtu 1400 >/dev/null
deadline=$(($(now_us) + 60000000))
until engine_up; do
	(($(now_us) > deadline)) && die "the node's engine did not answer within 60 s: $(docker logs --tail 5 "$NODE" 2>&1)"
	nap 0.1
done
log "node $NODE at $IP ($NODE_IMAGE)"

# Images, imported into the node (never built on the outer engine): the
# test server, and Consul (a FROM-scratch-like root with an empty /tmp).
mkdir -p "$WORK/app" "$WORK/consul/tmp"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$WORK/app/app" ./internal/testserver
tar -C "$WORK/app" -c . | D import -c 'ENTRYPOINT ["/app"]' - faults/app:1 >/dev/null
cp -L "$CONSUL_BIN" "$WORK/consul/consul"
tar -C "$WORK/consul" -c . | D import -c 'ENTRYPOINT ["/consul"]' - faults/consul:1 >/dev/null
rm -f "$WORK/consul/consul"

# The seed: two networks, four containers that restart with the engine
# (one on both networks), one created and never started, Consul.
D network create fa >/dev/null
D network create fb >/dev/null
for c in s1:fa s2:fa s3:fb; do
	D run -d --restart always --name "${c%%:*}" --network "${c##*:}" faults/app:1 >/dev/null
done
D create --restart always --name s4 --network fa faults/app:1 >/dev/null
D network connect fb s4
D start s4 >/dev/null
D create --name s5 --network fb faults/app:1 >/dev/null
D run -d --restart always --name consul --network fa -p 8500:8500 faults/consul:1 \
	agent -dev -client 0.0.0.0 -log-level warn >/dev/null
deadline=$(($(now_us) + 30000000))
until consul_up; do
	(($(now_us) > deadline)) && die "Consul on the node did not answer within 30 s: $(D logs --tail 5 consul 2>&1)"
	nap 0.1
done
register() { # register SERVICE ID PORT
	curl -sf -X PUT --data "{\"Name\":\"$1\",\"ID\":\"$2\",\"Port\":$3,\"Address\":\"127.0.0.1\"}" "http://$IP:8500/v1/agent/service/register" >/dev/null
}
register web web-1 8080
register web web-2 8081
register db db-1 27017

# --- topo in tmux ------------------------------------------------------
tmux -L "$SOCK" new-session -d -s keep -x 80 -y 24 "cat"
# The pane stays after topo exits, with its exit status.
tmux -L "$SOCK" set-option -g remain-on-exit on
start_topo() { # start_topo SESSION [shell redirections]
	tmux -L "$SOCK" new-session -d -s "$1" -x "$W" -y "$H" \
		"exec env TOPO_FAULTS_RECORD='$REC' '$BIN' -H tcp://$IP:2375 --consul $IP:8500 2>'$WORK/$1.err' ${2:-}"
}
pane_pid() { tmux -L "$SOCK" display-message -p -t "$1" '#{pane_pid}'; }
# pane_status SESSION: "1:STATUS" once the pane's process has ended ("1:sig
# N" if a signal ended it). tmux marks the pane dead when the terminal
# closes, a moment before it reaps the process: wait for "1:" and more.
pane_status() { tmux -L "$SOCK" display-message -p -t "$1" '#{pane_dead}:#{pane_dead_status}#{?pane_dead_signal,sig #{pane_dead_signal},}'; }

T0=$(now_us)
start_topo topo
wait_current topo 30 || die "topo never showed the node's engine: $LAST"
start_ms=$(((SEEN_US - T0) / 1000))
TOPO=$(pane_pid topo)
[ "$(cat /proc/"$TOPO"/comm)" = topo ] || die "pane process $TOPO is not topo"
wait_screen topo 'registry ● ' 15 || die "topo never showed the registry live: $(head -1 <<<"$LAST")"
exact registry
log "start: current after $start_ms ms, model exact: $EXACT"
row "start (for reference)" "-" "$start_ms ms from process start" "$EXACT" "$(mb "$(hwm_kb)") MB" "yes" \
	"$([ "$EXACT" = yes ] && echo ok || echo FAILED)"

# --- (c) the registry killed and restarted -------------------------------
t0=$(now_us)
D kill consul >/dev/null
if wait_screen topo 'registry ✗' 30; then said=$(((SEEN_US - t0) / 1000)); else said="never (30 s)"; fi
log "(c) registry killed: screen said so after $said ms"
D start consul >/dev/null
until consul_up; do nap 0.05; done
# A dev agent starts empty: what it holds now differs from before (web
# with one instance, db gone, cache new), so "current" is visible.
register web web-1 8080
register cache cache-1 6379
t_ans=$(now_us)
if wait_screen topo 'registry ● .*cache' 30; then cur=$(((SEEN_US - t_ans) / 1000)); else cur="never (30 s)"; fi
exact registry
log "(c) registry back: screen current $cur ms after it answered with the new services; exact: $EXACT"
v=ok
within "$cur" 2000 || v="MISSED (current > 2 s)"
[[ $said =~ ^[0-9]+$ ]] || v="FAILED (never said)"
[ "$EXACT" = yes ] || v="FAILED (model differs)"
row "(c) registry (Consul in a container on the node) killed, started again, services registered anew" \
	"$said ms to \"registry ✗\"" "$cur ms after Consul answered and held the new services" "$EXACT" "$(mb "$(hwm_kb)") MB" "yes" "$v"

# --- (a) the engine restarted under topo ---------------------------------
t0=$(now_us)
docker stop -t 10 "$NODE" >/dev/null &
stopper=$!
if wait_screen topo 'STALE' 30; then said=$(((SEEN_US - t0) / 1000)); else said="never (30 s)"; fi
wait "$stopper"
t_stopped=$(now_us)
log "(a) engine stopping: screen said STALE after $said ms; node stopped after $(((t_stopped - t0) / 1000)) ms"
docker start "$NODE" >/dev/null
until engine_up; do nap 0.05; done
t_ans=$(now_us)
log "(a) engine answers $(((t_ans - t_stopped) / 1000)) ms after the node was started"
if wait_current topo 30; then cur=$(((SEEN_US - t_ans) / 1000)); else cur="never (30 s)"; fi
# The containers with a restart policy and Consul come back on their own
# time; let them, then compare everything.
until consul_up; do nap 0.1; done
nap 2
exact registry
log "(a) screen current $cur ms after the engine answered; exact: $EXACT"
v=ok
within "$cur" 2000 || v="MISSED (current > 2 s)"
[[ $said =~ ^[0-9]+$ ]] || v="FAILED (never said)"
[ "$EXACT" = yes ] || v="FAILED (model differs)"
row "(a) engine restarted (node container stopped with its dockerd, started again; state kept in its volume)" \
	"$said ms to \"STALE\" from \`docker stop\` (the stop took $(((t_stopped - t0) / 1000)) ms)" \
	"$cur ms after the engine answered (/_ping), to \"● live\" with the engine's counts" "$EXACT" "$(mb "$(hwm_kb)") MB" "yes" "$v"

# --- (b) a burst of engine events ------------------------------------------
# Curl speaks to the API straight, several requests per connection, so the
# engine, not the client, sets the pace. Per 10,000 events: container
# lifecycles (create, connect, start, kill, die, disconnect, stop, destroy:
# 8 events each) for a quarter, renames for a half, pause/unpause for the
# rest, each kind from workers of its own.
A=http://$IP:2375/v1.41
LIFE=$((BURST_EVENTS / 4 / 8 / 2))   # containers per lifecycle worker (2)
RENAMES=$((BURST_EVENTS / 2 / 4))     # renames per rename worker (4)
PAUSES=$((BURST_EVENTS / 4 / 2 / 2))  # pause+unpause pairs per worker (2)
req() { printf 'url = "%s"\nrequest = %s\noutput = /dev/null\n' "$1" "$2"; }
for w in 1 2; do
	for i in $(seq 1 "$LIFE"); do
		c=b$w-$i
		req "$A/containers/create?name=$c" POST
		printf 'header = "Content-Type: application/json"\ndata = "{\\"Image\\":\\"faults/app:1\\",\\"HostConfig\\":{\\"NetworkMode\\":\\"fb\\"}}"\nnext\n'
		req "$A/containers/$c/start" POST && echo next
		req "$A/containers/$c/stop?t=0" POST && echo next
		req "$A/containers/$c" DELETE && echo next
	done | sed '$d' >"$WORK/life$w.cfg"
done
for w in 1 2 3 4; do
	D run -d --name "r$w-a" --network fa faults/app:1 >/dev/null
	for i in $(seq 1 "$RENAMES"); do
		if ((i % 2)); then req "$A/containers/r$w-a/rename?name=r$w-b" POST; else req "$A/containers/r$w-b/rename?name=r$w-a" POST; fi
		echo next
	done | sed '$d' >"$WORK/ren$w.cfg"
done
for w in 1 2; do
	D run -d --name "p$w" --network fb faults/app:1 >/dev/null
	for _ in $(seq 1 "$PAUSES"); do
		req "$A/containers/p$w/pause" POST && echo next
		req "$A/containers/p$w/unpause" POST && echo next
	done | sed '$d' >"$WORK/pau$w.cfg"
done
wait_current topo 30 || die "topo not current before the burst: $LAST"
log "(b) burst: 2 x $LIFE lifecycles, 4 x $RENAMES renames, 2 x $PAUSES pause/unpause (at most ${BURST_MAX}s)"
# The engine's own count, from a live stream: `docker events --since`
# replays only the engine's last 256 events.
D events --filter type=container --filter type=network --format '{{.TimeNano}}' >"$WORK/burst-events" &
counter=$!
nap 0.5
t0=$(now_us)
pids=()
for f in "$WORK"/life?.cfg "$WORK"/ren?.cfg "$WORK"/pau?.cfg; do
	timeout "$BURST_MAX" curl -s -K "$f" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
t_end=$(now_us)
burst_s=$(awk -v u=$((t_end - t0)) 'BEGIN {printf "%.1f", u / 1e6}')
# A worker stopped by the bound may leave a container paused or half-made:
# that is the engine's state, and the model must equal it all the same.
nap 1 # the last events of the burst reach the stream
kill "$counter" 2>/dev/null || true
wait "$counter" 2>/dev/null || true
ENGINE_EVENTS=$(awk -v a="$t0" -v b="$t_end" '$1 / 1000 >= a && $1 / 1000 <= b' "$WORK/burst-events" | wc -l)
log "(b) $ENGINE_EVENTS container and network events in $burst_s s"
if wait_current topo 60; then cur=$(((SEEN_US - t_end) / 1000)); else cur="never (60 s)"; fi
t_cur=$SEEN_US
exact engine
# Frames and event delays inside the burst, from topo's recording.
read -r GAP_MAX GAPS_OVER <<<"$(jq -r --argjson a $((t0 / 1000)) --argjson b $((t_cur / 1000)) '
	[.views_ms[] | select(. >= $a and . <= $b)] as $v
	| [range(1; $v | length) | $v[.] - $v[. - 1]] as $g
	| "\(($g | max) // "-") \([$g[] | select(. > 1000)] | length)"' "$REC")"
read -r LAG_MED LAG_P99 LAG_MAX APPLIED <<<"$(jq -r --argjson a $((t0 / 1000)) --argjson b $((t_end / 1000)) '
	[.events_ms[] | select(.[0] >= $a and .[0] <= $b) | .[1] - .[0]] | sort as $l
	| if ($l | length) == 0 then "- - - 0" else
	"\($l[($l | length) / 2 | floor]) \($l[(($l | length) * 0.99) | floor]) \($l[-1]) \($l | length)" end' "$REC")"
log "(b) current $cur ms after the last request; frames: longest gap $GAP_MAX ms ($GAPS_OVER over 1 s); event -> model: median $LAG_MED ms, p99 $LAG_P99, max $LAG_MAX ($APPLIED applied); exact: $EXACT"
v=ok
within "$cur" 2000 || v="MISSED (current > 2 s)"
within "$GAP_MAX" 1000 || v="MISSED (a frame > 1 s late)"
# An event on screen later than 1 s is a late frame too: the model's delay
# plus one frame (91 ms).
within "$LAG_MAX" 909 || v="MISSED (an event reached the screen > 1 s after the engine)"
[ "$EXACT" = yes ] || v="FAILED (model differs)"
[ "$APPLIED" = "$ENGINE_EVENTS" ] || NOTES+=("(b): the engine's event stream held $ENGINE_EVENTS container and network events in the burst window, topo applied $APPLIED with engine times in it (topo subscribes to fewer actions: not exec, attach, resize, top...).")
row "(b) burst of $ENGINE_EVENTS engine events in $burst_s s (bounded at ${BURST_MAX} s; target $BURST_EVENTS)" \
	"frames: longest gap $GAP_MAX ms, $GAPS_OVER gaps over 1 s; event -> model median $LAG_MED ms, p99 $LAG_P99 ms, max $LAG_MAX ms" \
	"$cur ms after the last request answered" "$EXACT" "$(mb "$(hwm_kb)") MB" "yes" "$v"

# --- (d) 100 resizes in about a second -------------------------------------
t0=$(now_us)
# Ten tmux calls of ten resizes each, a tenth of a second apart: one call
# per resize is slower than a second on a loaded machine.
for k in $(seq 0 9); do
	args=()
	for j in $(seq 1 10); do
		i=$((k * 10 + j))
		if ((i == 100)); then x=150 y=40; else x=$((60 + (i * 37) % 141)) y=$((16 + (i * 13) % 35)); fi
		args+=(resize-window -t topo -x "$x" -y "$y" ';')
	done
	tmux -L "$SOCK" "${args[@]}"
	((k == 9)) || nap 0.1
done
t_end=$(now_us)
# The frame for the last size: the status bar on the first line, the
# footer's help on the 40th, and the engine's counts.
re='^topo │ ● live[^'$'\n'']*'$'\n''(.*'$'\n'')*[^'$'\n'']*q quit *$'
if wait_screen topo "$re" 10 && [ "$(wc -l <<<"$LAST")" = 40 ]; then said=$(((SEEN_US - t_end) / 1000)); else said="never (10 s)"; fi
if wait_current topo 10; then cur=$(((SEEN_US - t_end) / 1000)); else cur="never (10 s)"; fi
exact engine
log "(d) 100 resizes in $(((t_end - t0) / 1000)) ms: last size drawn after $said ms, current $cur ms; exact: $EXACT"
v=ok
within "$cur" 2000 || v="MISSED (current > 2 s)"
[[ $said =~ ^[0-9]+$ ]] || v="FAILED (last size never drawn)"
[ "$EXACT" = yes ] || v="FAILED (model differs)"
row "(d) terminal resized 100 times in $(((t_end - t0) / 1000)) ms (tmux resize-window, 60..200 x 16..50, last 150x40)" \
	"$said ms after the last resize to a whole frame at 150x40" "$cur ms after the last resize" "$EXACT" "$(mb "$(hwm_kb)") MB" "yes" "$v"

# --- (e) a 20x10 terminal ----------------------------------------------------
t0=$(now_us)
tmux -L "$SOCK" resize-window -t topo -x 20 -y 10
if wait_screen topo 'terminal too small' 10; then said=$(((SEEN_US - t0) / 1000)); else said="never (10 s)"; fi
small=$LAST
nap 1
t0=$(now_us)
tmux -L "$SOCK" resize-window -t topo -x "$W" -y "$H"
if wait_current topo 10; then cur=$(((SEEN_US - t0) / 1000)); else cur="never (10 s)"; fi
exact engine
log "(e) 20x10: said after $said ms; back at ${W}x${H}: current after $cur ms; exact: $EXACT"
v=ok
within "$cur" 2000 || v="MISSED (current > 2 s)"
[[ $said =~ ^[0-9]+$ ]] || v="FAILED (never said)"
[ "$EXACT" = yes ] || v="FAILED (model differs)"
row "(e) 20x10 terminal, then back to ${W}x${H}" "$said ms to \"terminal too small\"" "$cur ms after the resize back" "$EXACT" "$(mb "$(hwm_kb)") MB" "yes" "$v"

# --- the end of the long-running topo: q, exit status, stderr ---------------
PEAK=$(mb "$(hwm_kb)")
tmux -L "$SOCK" send-keys -t topo q
deadline=$(($(now_us) + 10000000))
until [[ $(pane_status topo) =~ ^1:.+ ]]; do
	(($(now_us) > deadline)) && die "topo did not quit within 10 s of q"
	nap 0.05
done
MAIN_STATUS=$(pane_status topo | cut -d: -f2)
MAIN_ERR=$(cat "$WORK/topo.err")
log "topo quit with status $MAIN_STATUS; stderr: ${MAIN_ERR:-(empty)}"

# --- (f) stdin closed ---------------------------------------------------------
# (f1) fd 0 closed at start, in a terminal: Bubble Tea opens /dev/tty.
t0=$(now_us)
start_topo f1 '<&-'
if wait_current f1 30; then said=$(((SEEN_US - t0) / 1000)); else said="never (30 s)"; fi
F1=$(pane_pid f1)
F1_HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$F1/status" 2>/dev/null || echo 0)
tmux -L "$SOCK" send-keys -t f1 q
deadline=$(($(now_us) + 10000000))
until [[ $(pane_status f1) =~ ^1:.+ ]] || (($(now_us) > deadline)); do nap 0.05; done
st=$(pane_status f1)
f1_err=$(cat "$WORK/f1.err")
v=ok
[[ $said =~ ^[0-9]+$ ]] || v="FAILED (never live)"
[ "$st" = 1:0 ] || v="FAILED (q gave '$st')"
[[ $f1_err == *panic* || $f1_err == *goroutine* ]] && v="FAILED (panic)"
row "(f1) stdin closed at start (\`<&-\`) in a terminal" "live after $said ms from start (keys read from /dev/tty)" \
	"q quits: exit status ${st#1:}" "-" "$(mb "$F1_HWM") MB" "$([[ $f1_err == *panic* ]] && echo NO || echo yes)" "$v"

# (f2) no terminal at all, stdin at EOF: a clear error, at once.
t0=$(now_us)
set +e
setsid -w timeout 20 "$BIN" -H "tcp://$IP:2375" --consul "$IP:8500" </dev/null >"$WORK/f2.out" 2>"$WORK/f2.err"
f2_status=$?
set -e
f2_ms=$(ms_since "$t0")
f2_err=$(head -c 300 "$WORK/f2.err" | tr '\n' ' ')
v=ok
((f2_status == 124)) && v="FAILED (still running after 20 s)"
((f2_status == 0)) && v="FAILED (exit 0 without a terminal)"
[[ $f2_err == *panic* ]] && v="FAILED (panic)"
row "(f2) no terminal, stdin at EOF (\`setsid topo </dev/null\`)" "exit status $f2_status after $f2_ms ms: \"$f2_err\"" "-" "-" "-" \
	"$([[ $f2_err == *panic* ]] && echo NO || echo yes)" "$v"

# (f3) the terminal hangs up under a running topo (its pane killed). SIGHUP
# is ignored in the wrapper so that topo itself meets the closed terminal
# (its reads fail) rather than being ended by the signal.
cat >"$WORK/f3.sh" <<EOF
#!/bin/sh
trap '' HUP
'$BIN' -H tcp://$IP:2375 --consul $IP:8500 2>'$WORK/f3.err'
echo \$? >'$WORK/f3.status'
EOF
chmod +x "$WORK/f3.sh"
tmux -L "$SOCK" new-session -d -s f3 -x "$W" -y "$H" "$WORK/f3.sh"
wait_current f3 30 || die "the (f3) topo never went live: $LAST"
F3=$(pgrep -P "$(pane_pid f3)" -x topo)
t0=$(now_us)
tmux -L "$SOCK" kill-session -t f3
deadline=$(($(now_us) + 10000000))
while [ -d "/proc/$F3" ] && (($(now_us) < deadline)); do nap 0.02; done
if [ -d "/proc/$F3" ]; then
	f3="still running 10 s after the hang-up"
	f3_cpu=$(ps -o %cpu= -p "$F3")
	kill "$F3"
	v="FAILED (does not exit; $f3_cpu % CPU)"
else
	nap 0.2
	f3="exited $(ms_since "$t0") ms after the hang-up, status $(cat "$WORK/f3.status" 2>/dev/null || echo '?')"
	v=ok
fi
f3_err=$(head -c 300 "$WORK/f3.err" 2>/dev/null | tr '\n' ' ')
[[ $f3_err == *panic* ]] && v="FAILED (panic)"
row "(f3) terminal hung up under a running topo (tmux pane killed, SIGHUP ignored)" "$f3: \"$f3_err\"" "-" "-" "-" \
	"$([[ $f3_err == *panic* ]] && echo NO || echo yes)" "$v"

# The long-running topo's end, as a row.
v=ok
[ "$MAIN_STATUS" = 0 ] || v="FAILED (exit status $MAIN_STATUS)"
[[ $MAIN_ERR == *panic* || $MAIN_ERR == *goroutine* ]] && v="FAILED (panic)"
row "end of the run above: q" "-" "-" "-" "peak $PEAK MB" "$([[ $MAIN_ERR == *panic* ]] && echo NO || echo "yes (exit $MAIN_STATUS, stderr ${MAIN_ERR:+not }empty)")" "$v"

# --- RELIABILITY.md ----------------------------------------------------------------
{
	echo "# Reliability"
	echo
	echo "Written by \`make faults\` (scripts/faults.sh); the figures of the latest run."
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- topo: $COMMIT$([[ $COMMIT == *-dirty ]] && echo ' (measured on a tree with uncommitted changes)')"
	echo "- machine: $(nproc) cores, kernel $(uname -r), load average at start: $LOAD_START (shared: other work runs beside it)"
	echo "- engine under test: Docker $(D version --format '{{.Server.Version}}' 2>/dev/null) in a Docker-in-Docker node container ($NODE_IMAGE) on a private bridge, over TCP; Consul $("$CONSUL_BIN" version | head -1 | awk '{print $2}') in a container on that node"
	echo "- topo in tmux ${W}x${H}, screen polled every $(awk -v p="$POLL" 'BEGIN {print p * 1000}') ms"
	echo
	echo "Targets (issue 10): current again <= 2 s after the engine (or registry) answers; during the burst no frame later than 1 s; the final model exact."
	echo
	echo "| scenario | until the screen says what happened | until current again | model = engine & Consul | peak RSS so far | no panic | |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "How:"
	echo "- \"current\": the status bar says \"● live\" and its counts (networks, running/total containers) equal the engine's, both read in the same round."
	echo "- \"model = engine & Consul\": topo, run with TOPO_FAULTS_RECORD=<file>, writes on SIGUSR1 the topology and registry it draws (faultsrecord.go);"
	echo "  every container (name, state, each network and IPv4 address) and network (name, driver) is compared with \`docker inspect\` and the"
	echo "  engine's network list, every service and its instance IDs with Consul's catalog. Up to 5 tries a second apart while the engine settles."
	echo "- Frames in the burst: the recording holds the time of every View call (Bubble Tea calls View after each message; its renderer"
	echo "  flushes the latest at most 1/11 s later). A gap over 1 s means topo's loop was held up; the status-bar clock ticks every second,"
	echo "  so a gap also shows on screen. \"event -> model\" is from the engine's event time (TimeNano) to the model applying it."
	echo "- (a) \"says\" is timed from the \`docker stop\` of the node (dockerd shuts down gracefully, closing the event stream);"
	echo "  \"answers\" is the first successful /_ping, polled every 50 ms."
	echo "- (b) workers send requests with curl straight to the API (one connection each), lifecycles on one network, renames and"
	echo "  pause/unpause on long-lived containers; the event count is a live \`docker events\` stream of type container and network over the window."
	cat <<'EOF'

## What these runs found

Fixed on the branch that added `make faults`; the figures above are after the fixes.
- (b) before 1223a5b, each event's read of its container waited for the previous event's read: in a trial burst of 800 events on a
  loaded machine (load 13) the model was median 6.6 s and at worst 13.6 s behind the engine, though frames kept coming. The reads
  of a burst now run together and the events still leave in the engine's order (docker/watch_internal_test.go).
- (f3) before d3f6711, a topo whose terminal hung up with SIGHUP ignored (nohup, some supervisors) ran on with no terminal
  (still running 10 s later): Bubble Tea v1 ends its input loop on EOF silently. topo now quits (input_test.go).
- Before 8845d5d, a panic that Bubble Tea caught ended topo with exit status 0, like a quit: the "no panic" column could not rest on
  the exit status. It is now an error, status 1 (exit_test.go).
- The look for a registry read the model's container map on its own goroutine while events were applied to it (a data race, fatal
  if it ever met a write; every container start while no registry is found, as in a burst). It now gets a copy (ui/deps_internal_test.go).
- `docker events --since` replays only the engine's last 256 events: a window holding more is undercounted. This script counts
  from a live stream.
EOF
	if ((${#NOTES[@]} > 0)); then
		echo
		echo "Notes:"
		printf -- '- %s\n' "${NOTES[@]}"
	fi
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo
cat "$OUT"
((FAILS == 0)) || die "$FAILS scenarios missed a target or failed (see the table)"
