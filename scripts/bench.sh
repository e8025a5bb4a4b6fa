#!/usr/bin/env bash
# topo's performance benchmark (issue 2), run by `make bench`.
#
# On the real engine, with BENCH_CONTAINERS (300) running containers of a
# FROM scratch test image spread over 5 networks (some on two), it measures
# the built binary (bin/topo) in a real terminal (tmux, 200x50):
#   (a) process start -> first full frame showing the lanes
#   (b) container started -> its node on screen (median, p90)
#   (c) container removed -> its node gone (median, p90)
#   (d) CPU of topo idle for BENCH_IDLE_SECONDS (60), and dockerd's over the
#       same window (and over a window before topo runs, for comparison);
#       topo's wake-ups per second over it (context switches of all its
#       threads, /proc/PID/task/*/status)
#   (e) topo's peak RSS (VmHWM)
#   (f) the API requests topo makes while idle, counted by a relay on the
#       engine's socket (python3; skipped without it)
# then runs the Go render benchmarks and the 10,000-event burst
# (BenchmarkEventBurst), prints a summary and writes it to BENCHMARKS.md.
#
# --containers N (or BENCH_CONTAINERS=N) sets the size; at any size but
# 300 the summary goes to BENCHMARKS-N.md (make bench-1000 writes
# BENCHMARKS-1000.md), and BENCHMARKS.md quotes it. Mind the shared engine:
# 1,000 containers take minutes to create and remove.
#
# Everything it creates carries the label topo.bench=<run id> and is
# removed at the end, also on failure or Ctrl-C; nothing else is touched.
# The test image is kept (tagged by the hash of its binary) for the next run.
set -euo pipefail
export LC_ALL=C.UTF-8 # the screen is matched with UTF-8 patterns
cd "$(dirname "$0")/.."
ROOT=$PWD

N=${BENCH_CONTAINERS:-300}
while (($#)); do
	case $1 in
	--containers) N=${2:?--containers needs a number}; shift 2 ;;
	--containers=*) N=${1#*=}; shift ;;
	*) echo "bench: unknown argument $1 (use --containers N)" >&2; exit 2 ;;
	esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "bench: --containers $N is not a number" >&2; exit 2; }
NETS=5
PROBES=${BENCH_PROBES:-10}
IDLE=${BENCH_IDLE_SECONDS:-60}
REQ_SECONDS=${BENCH_REQUEST_SECONDS:-20}
FIRST_FRAME_RUNS=${BENCH_FIRST_FRAME_RUNS:-5}
PARALLEL=${BENCH_PARALLEL:-8}
W=200
H=50
POLL_MS=5 # between screen captures
POLL=0.00$POLL_MS
GO_BENCH=${BENCH_GO:-1} # 0 skips the Go benchmarks (a quick trial of the script)
BIN=$ROOT/bin/topo
if ((N == 300)); then
	OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
else
	OUT=${BENCH_OUT:-$ROOT/BENCHMARKS-$N.md}
fi

RUN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
LABEL=topo.bench=$RUN
PREFIX=topobench-$RUN
SOCK=topobench-$RUN # a tmux server of our own
WORK=$(mktemp -d /tmp/topobench.XXXXXX)

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}

# --- clean-up: only what carries our label, our tmux server, our files ----
cleaned=
RELAY= ONETICK=
cleanup() {
	[ -n "$cleaned" ] && return
	cleaned=1
	set +e
	[ -n "$RELAY" ] && kill "$RELAY" 2>/dev/null
	[ -n "$ONETICK" ] && kill "$ONETICK" 2>/dev/null
	tmux -L "$SOCK" kill-server 2>/dev/null
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"
	local ids
	ids=$(docker ps -aq --filter "label=$LABEL")
	if [ -n "$ids" ]; then
		# One container per request, two at a time: with many removals in
		# flight on the same networks, dockerd 20.10 has been seen to leak
		# a network's endpoint count ("has active endpoints" on an empty
		# network, until dockerd restarts).
		log "removing $(wc -w <<<"$ids") containers labelled $LABEL"
		xargs -r -n 1 -P 2 docker rm -f <<<"$ids" >/dev/null
	fi
	local try
	for try in 1 2 3 4 5; do
		ids=$(docker network ls -q --filter "label=$LABEL")
		[ -z "$ids" ] && break
		xargs -r -n 1 docker network rm <<<"$ids" >/dev/null 2>&1
		[ "$try" = 5 ] || nap 1
	done
	ids=$(docker network ls --filter "label=$LABEL" --format '{{.Name}}')
	if [ -n "$ids" ]; then
		log "WARNING: the engine refuses to remove these empty networks of this run (\"has active endpoints\": its endpoint count leaked):"
		log "  $(tr '\n' ' ' <<<"$ids")"
		log "  they hold no container; after a dockerd restart: docker network ls -q --filter label=topo.bench | xargs docker network rm"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# --- time and waiting, without a fork per nap --------------------------
exec {NAPFD}<> <(:)
nap() { read -r -t "$1" -u "$NAPFD" || true; }
now_us() { echo "${EPOCHREALTIME/./}"; }

screen() { tmux -L "$SOCK" capture-pane -p -t "$1" 2>/dev/null || true; }

# wait_screen SESSION REGEX TIMEOUT_S [absent]: polls the screen every POLL
# seconds until REGEX matches (or, with "absent", no longer matches) and
# sets SEEN_US to when it saw it.
SEEN_US=0
wait_screen() {
	local session=$1 re=$2 timeout=$3 absent=${4:-} deadline s
	deadline=$(($(now_us) + timeout * 1000000))
	while :; do
		s=$(screen "$session")
		SEEN_US=$(now_us)
		if [ -z "$absent" ] && [[ $s =~ $re ]]; then return 0; fi
		if [ -n "$absent" ] && ! [[ $s =~ $re ]]; then return 0; fi
		if ((SEEN_US > deadline)); then
			log "screen of $session after ${timeout}s:"
			printf '%s\n' "$s" >&2
			die "waited ${timeout}s for ${absent:+the absence of }/$re/"
		fi
		nap "$POLL"
	done
}

# cpu_ticks PID: utime+stime in clock ticks; cpu_ns PID: the sum of every
# thread's schedstat run time (nanoseconds, finer than ticks).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'; }
# wakeups PID: context switches of all its threads so far (voluntary: it
# slept and was woken; involuntary: preempted), the wake-ups an idle
# program should not have.
wakeups() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ {s += $2} END {printf "%.0f", s}'; }
pct() { awk -v d="$1" -v s="$2" 'BEGIN {printf "%.2f", d / s * 100}'; }

# stats: reads numbers (one a line), prints "median p90 min max" (nearest rank).
stats() {
	sort -n | awk '{v[NR] = $1} END {
		if (NR == 0) { print "- - - -"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		p = int(NR * 0.9); if (p < NR * 0.9) p++
		printf "%.0f %.0f %.0f %.0f\n", m, v[p], v[1], v[NR] }'
}

dockerd_pid() {
	local pid
	pid=$(ss -xlpn 2>/dev/null | awk '/\/var\/run\/docker.sock / {print}' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
	[ -n "$pid" ] || pid=$(pgrep -o -x dockerd || true)
	echo "$pid"
}

# --- prerequisites -------------------------------------------------------
command -v tmux >/dev/null || die "tmux is not installed (scripts/ensure-engine.sh installs it)"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (scripts/ensure-engine.sh starts it)"
[ -x "$BIN" ] || make build >&2
DOCKERD=$(dockerd_pid)
[ -n "$DOCKERD" ] || die "cannot find the dockerd process serving /var/run/docker.sock"
CLK_TCK=$(getconf CLK_TCK)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
OTHERS=$(docker ps -q | wc -l)

log "run $RUN: $N containers over $NETS networks, $PROBES probes, idle ${IDLE}s; work dir $WORK"

# --- the test image: a static Go HTTP server in a FROM scratch image ------
mkdir -p "$WORK/image"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$WORK/image/app" ./internal/testserver
IMAGE=topo-bench/testserver:$(sha256sum "$WORK/image/app" | cut -c1-12)
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
	printf 'FROM scratch\nCOPY app /app\nENTRYPOINT ["/app"]\n' >"$WORK/image/Dockerfile"
	DOCKER_BUILDKIT=0 docker build -t "$IMAGE" --label topo.bench-image=1 "$WORK/image" >"$WORK/build.log" 2>&1 ||
		{ cat "$WORK/build.log" >&2; die "docker build of the test image"; }
fi
log "image $IMAGE"
# panetime: the times at which tmux received what topo drew (pipe-pane).
go build -o "$WORK/panetime" ./internal/panetime || die "building internal/panetime"
PANETIME=$WORK/panetime

# --- set-up: networks, then containers in parallel -------------------------
SETUP_START=$(now_us)
for k in $(seq 0 $((NETS - 1))) probe; do
	docker network create --label "$LABEL" "$PREFIX-net$k" >/dev/null
done

# create_one I FIRST SECOND: one container, named for compose as wFIRST.I
# (short and unique on screen); on a second network when SECOND is not "-".
# The engine refuses two networks at create: create, connect, then start.
create_one() {
	local i=$1 a=$2 b=$3 name=$PREFIX-c$1
	local -a opts=(--name "$name" --network "$PREFIX-net$a" --log-driver none
		--label "$LABEL" --label "com.docker.compose.project=$PREFIX"
		--label "com.docker.compose.service=w$a" --label "com.docker.compose.container-number=$i")
	if [ "$b" = - ]; then
		docker run -d "${opts[@]}" "$IMAGE" >/dev/null
	else
		docker create "${opts[@]}" "$IMAGE" >/dev/null &&
			docker network connect "$PREFIX-net$b" "$name" &&
			docker start "$name" >/dev/null
	fi
}
export -f create_one
export PREFIX LABEL IMAGE

for i in $(seq 1 "$N"); do
	a=$((i % NETS))
	b=-
	if ((i % 6 == 0)); then b=$(((a + 1 + (i / 6) % (NETS - 1)) % NETS)); fi
	echo "$i $a $b"
done | xargs -P "$PARALLEL" -L 1 bash -c 'create_one "$@"' _ 2>"$WORK/setup.err" ||
	{ tail -5 "$WORK/setup.err" >&2; die "creating the containers"; }
SETUP_US=$(($(now_us) - SETUP_START))
RUNNING=$(docker ps -q --filter "label=$LABEL" --filter status=running | wc -l)
TWO_NETS=$((N / 6))
((RUNNING == N)) || die "only $RUNNING of $N containers are running"
log "set-up: $N running containers ($TWO_NETS on two networks) in $((SETUP_US / 1000)) ms"

# --- dockerd at rest without topo, for comparison -------------------------
nap 3
t0=$(now_us) d0=$(cpu_ticks "$DOCKERD") dn0=$(cpu_ns "$DOCKERD")
nap "$IDLE"
t1=$(now_us) d1=$(cpu_ticks "$DOCKERD") dn1=$(cpu_ns "$DOCKERD")
DOCKERD_BASE=$(pct "$(((d1 - d0) * 1000000 / CLK_TCK))" "$((t1 - t0))")
DOCKERD_BASE_NS=$(pct "$(((dn1 - dn0) / 1000))" "$((t1 - t0))")
log "dockerd without topo: $DOCKERD_BASE % ($DOCKERD_BASE_NS % by schedstat)"

# --- (a) process start -> first full frame ---------------------------------
# The tmux server is started first, so its own start-up is not counted.
tmux -L "$SOCK" new-session -d -s keep -x 80 -y 24 "cat"
: >"$WORK/first_frame"
: >"$WORK/first_frame_capture"
mkfifo "$WORK/gate"
for r in $(seq 1 "$FIRST_FRAME_RUNS"); do
	# The pane's shell waits at the gate until the pane's output is piped
	# to panetime, then notes the time just before it execs topo: the
	# process start, which tmux's own session start does not delay.
	tmux -L "$SOCK" new-session -d -s "ff$r" -x "$W" -y "$H" "exec bash -c 'read <$WORK/gate; echo \${EPOCHREALTIME/./} >$WORK/exec_us; exec $BIN'"
	tmux -L "$SOCK" pipe-pane -O -t "ff$r" "exec $PANETIME log $WORK/ff$r.log"
	nap 0.1 # panetime is reading before topo starts
	echo go >"$WORK/gate"
	# The status bar (top line) says live and a lane below it shows a
	# container of the set-up: the lanes themselves, not only the bar.
	wait_screen "ff$r" '● live.*[●○‖↻✖⌫] w[0-9]\.[0-9]+ ' 30
	exec_us=$(cat "$WORK/exec_us")
	drawn=$("$PANETIME" find "$WORK/ff$r.log" "$exec_us" '● live' '[●○‖↻✖⌫] w[0-9]\.[0-9]+ ') || die "panetime found no first frame in $WORK/ff$r.log"
	echo $(((drawn - exec_us) / 1000)) >>"$WORK/first_frame"
	echo $(((SEEN_US - exec_us) / 1000)) >>"$WORK/first_frame_capture"
	tmux -L "$SOCK" kill-session -t "ff$r"
	nap 1
done
read -r FF_MED _ FF_MIN FF_MAX < <(stats <"$WORK/first_frame")
read -r FFC_MED _ FFC_MIN FFC_MAX < <(stats <"$WORK/first_frame_capture")
log "first frame: median $FF_MED ms (min $FF_MIN, max $FF_MAX) over $FIRST_FRAME_RUNS runs from topo's exec to tmux's receiving it; seen by a capture at $FFC_MED ms"
# For reading (a): the engine-bound part alone, connect and sync without a
# terminal (topo snapshot --json makes the same requests as the first frame,
# but for the event subscription).
: >"$WORK/snapshot"
for _ in $(seq 1 "$FIRST_FRAME_RUNS"); do
	t0=$(now_us)
	"$BIN" snapshot --json >/dev/null
	echo $((($(now_us) - t0) / 1000)) >>"$WORK/snapshot"
done
read -r SNAP_MED _ SNAP_MIN SNAP_MAX < <(stats <"$WORK/snapshot")
log "topo snapshot --json: median $SNAP_MED ms (min $SNAP_MIN, max $SNAP_MAX)"

# --- the session that stays: filter to the probes' names -------------------
tmux -L "$SOCK" new-session -d -s topo -x "$W" -y "$H" "exec '$BIN'"
wait_screen topo '● live' 30
tmux -L "$SOCK" pipe-pane -O -t topo "exec $PANETIME log $WORK/topo.log"
TOPO=$(tmux -L "$SOCK" display-message -p -t topo '#{pane_pid}')
[ "$(cat /proc/"$TOPO"/comm)" = topo ] || die "pane process $TOPO is not topo"

# --- (d) idle CPU ----------------------------------------------------------
# Sampled every second, so that seconds in which other sessions sharing the
# engine caused events (which topo must follow) can be told from quiet ones.
# For reading the wake-ups: a Go program that only wakes once a second
# (as topo's status clock does) measured over the same window; the Go
# runtime's own threads switch several times per wake-up.
mkdir -p "$WORK/onetick"
printf 'package main\n\nimport "time"\n\nfunc main() {\n\tfor range time.Tick(time.Second) {\n\t}\n}\n' >"$WORK/onetick/main.go"
printf 'module onetick\n\ngo 1.24\n' >"$WORK/onetick/go.mod"
(cd "$WORK/onetick" && go build -o onetick .) || die "building the one-tick reference program"
"$WORK/onetick/onetick" &
ONETICK=$!
nap 3 # let the start-up inspection and first ticks pass
w0=$(date +%s.%N) t0=$(now_us) k0=$(wakeups "$ONETICK")
p0=$(cpu_ticks "$TOPO") d0=$(cpu_ticks "$DOCKERD")
: >"$WORK/idle"
for _ in $(seq 1 "$IDLE"); do
	echo "$(now_us) $(cpu_ns "$TOPO") $(cpu_ns "$DOCKERD") $(wakeups "$TOPO")" >>"$WORK/idle"
	nap 1
done
echo "$(now_us) $(cpu_ns "$TOPO") $(cpu_ns "$DOCKERD") $(wakeups "$TOPO")" >>"$WORK/idle"
w1=$(date +%s.%N) t1=$(now_us) k1=$(wakeups "$ONETICK")
kill "$ONETICK" 2>/dev/null || true
wait "$ONETICK" 2>/dev/null || true
ONETICK=
ONETICK_WAKE=$(awk -v k="$((k1 - k0))" -v t="$((t1 - t0))" 'BEGIN {printf "%.1f", k / (t / 1e6)}')
p1=$(cpu_ticks "$TOPO") d1=$(cpu_ticks "$DOCKERD")
IDLE_TOPO=$(pct "$(((p1 - p0) * 1000000 / CLK_TCK))" "$((t1 - t0))")
IDLE_DOCKERD=$(pct "$(((d1 - d0) * 1000000 / CLK_TCK))" "$((t1 - t0))")
# Only the events topo subscribes to (not exec_*, attach, top...).
docker events --since "$w0" --until "$w1" --format '{{.TimeNano}} {{.Type}} {{.Action}}' |
	awk '$2 == "network" || ($2 == "container" && $3 ~ /^(create|start|restart|die|kill|stop|destroy|rename|pause|unpause|health_status|update)/) {print $1}' >"$WORK/idle_events"
IDLE_EVENTS=$(wc -l <"$WORK/idle_events")
# quiet: the seconds with no engine event at all (or in the second before,
# since following an event may spill over).
read -r IDLE_TOPO_NS IDLE_DOCKERD_NS QUIET_TOPO QUIET_DOCKERD QUIET_S IDLE_WAKE QUIET_WAKE < <(awk '
	FILENAME == ARGV[1] {ev[++n] = $1 / 1000; next}
	{t[FNR] = $1; p[FNR] = $2; d[FNR] = $3; w[FNR] = $4; m = FNR}
	END {
		for (i = 1; i < m; i++) {
			dt = t[i + 1] - t[i]; tp += p[i + 1] - p[i]; td += d[i + 1] - d[i]; tw += w[i + 1] - w[i]; tt += dt
			busy = 0
			for (j = 1; j <= n; j++) if (ev[j] >= t[i] - 1e6 && ev[j] < t[i + 1]) busy = 1
			if (!busy) {qp += p[i + 1] - p[i]; qd += d[i + 1] - d[i]; qw += w[i + 1] - w[i]; qt += dt}
		}
		# "-" for a figure that cannot be computed: the verdict fails it.
		if (tt <= 0) { print "- - - - 0 - -"; exit }
		if (qt <= 0) { printf "%.2f %.2f - - 0 %.1f -\n", tp / 1000 / tt * 100, td / 1000 / tt * 100, tw / (tt / 1e6); exit }
		printf "%.2f %.2f %.3f %.2f %.0f %.1f %.1f\n", tp / 1000 / tt * 100, td / 1000 / tt * 100,
			qp / 1000 / qt * 100, qd / 1000 / qt * 100, qt / 1e6, tw / (tt / 1e6), qw / (qt / 1e6)
	}' "$WORK/idle_events" "$WORK/idle")
# When no second is quiet: a least-squares line through the seconds, topo's
# CPU against the events in that second; its value at zero events estimates
# the idle cost, its slope the cost of one event.
read -r FIT_IDLE FIT_PER_EVENT < <(awk '
	FILENAME == ARGV[1] {ev[++n] = $1 / 1000; next}
	{t[FNR] = $1; p[FNR] = $2; m = FNR}
	END {
		for (i = 1; i < m; i++) {
			x = 0; for (j = 1; j <= n; j++) if (ev[j] >= t[i] && ev[j] < t[i + 1]) x++
			y = (p[i + 1] - p[i]) / (t[i + 1] - t[i]) # ns per µs = ms of CPU per second
			k++; sx += x; sy += y; sxx += x * x; sxy += x * y
		}
		den = k * sxx - sx * sx
		# No line through points that all have the same event count (every
		# second quiet, say): "-", which the summary explains or fails.
		if (k == 0 || den == 0) { printf "- -\n"; exit }
		b = (k * sxy - sx * sy) / den; a = (sy - b * sx) / k
		printf "%.2f %.2f\n", a / 10, b
	}' "$WORK/idle_events" "$WORK/idle")
log "idle ${IDLE}s: topo wakes $IDLE_WAKE times a second ($QUIET_WAKE in the quiet seconds); a Go program waking once a second: $ONETICK_WAKE"
log "idle ${IDLE}s: topo $IDLE_TOPO % ($IDLE_TOPO_NS % by schedstat), dockerd $IDLE_DOCKERD % ($IDLE_DOCKERD_NS %); $IDLE_EVENTS engine events meanwhile; in the $QUIET_S quiet seconds: topo $QUIET_TOPO %, dockerd $QUIET_DOCKERD %; fit: $FIT_IDLE % at no event + $FIT_PER_EVENT ms per event"
# Once more, the next window: by then the last event is over a minute old,
# the ages on screen count whole minutes and topo's clock sleeps until the
# next one (the first window still has the second-by-second "synced 12s
# ago" of topo's start).
w0=$(date +%s.%N) t0=$(now_us) c0=$(cpu_ns "$TOPO") k0=$(wakeups "$TOPO")
nap "$IDLE"
w1=$(date +%s.%N) t1=$(now_us) c1=$(cpu_ns "$TOPO") k1=$(wakeups "$TOPO")
LATE_EVENTS=$(docker events --since "$w0" --until "$w1" --format '{{.Type}} {{.Action}}' |
	awk '$1 == "network" || ($1 == "container" && $2 ~ /^(create|start|restart|die|kill|stop|destroy|rename|pause|unpause|health_status|update)/)' | wc -l)
LATE_TOPO=$(pct "$(((c1 - c0) / 1000))" "$((t1 - t0))")
LATE_WAKE=$(awk -v k="$((k1 - k0))" -v t="$((t1 - t0))" 'BEGIN {printf "%.2f", k / (t / 1e6)}')
log "idle, the next ${IDLE}s (last event over a minute old): topo $LATE_TOPO % by schedstat, $LATE_WAKE wake-ups a second; $LATE_EVENTS engine events meanwhile"

# --- (b) started -> on screen, (c) removed -> gone --------------------------
tmux -L "$SOCK" send-keys -t topo /
tmux -L "$SOCK" send-keys -t topo -l zprobe
tmux -L "$SOCK" send-keys -t topo Enter
wait_screen topo 'filter “zprobe”' 10

EVENTS_FROM=$(date +%s.%N)
: >"$WORK/start_ev" && : >"$WORK/start_call" && : >"$WORK/gone_ev" && : >"$WORK/gone_call"
: >"$WORK/start_capture" && : >"$WORK/gone_capture"
declare -A SEEN_START SEEN_GONE CALL_START CALL_GONE
for k in $(seq 1 "$PROBES"); do
	name=$PREFIX-zprobe-$k
	node="[●○‖↻✖⌫] zprobe\\.$k "
	docker create --name "$name" --network "$PREFIX-netprobe" --log-driver none --label "$LABEL" \
		--label "com.docker.compose.project=$PREFIX" --label com.docker.compose.service=zprobe \
		--label "com.docker.compose.container-number=$k" "$IMAGE" >/dev/null
	wait_screen topo "○ zprobe\\.$k " 10 # created, not started: not timed
	CALL_START[$k]=$(now_us)
	docker start "$name" >/dev/null
	wait_screen topo "● zprobe\\.$k " 10
	SEEN_START[$k]=$SEEN_US
	CALL_GONE[$k]=$(now_us)
	docker rm -f "$name" >/dev/null
	wait_screen topo "$node" 10 absent
	SEEN_GONE[$k]=$SEEN_US
done
EVENTS_TO=$(date +%s.%N)
# The engine's own times of the start and destroy events.
docker events --since "$EVENTS_FROM" --until "$EVENTS_TO" --filter "label=$LABEL" --filter type=container \
	--filter event=start --filter event=destroy --format '{{.TimeNano}} {{.Action}} {{index .Actor.Attributes "name"}}' >"$WORK/events"
for k in $(seq 1 "$PROBES"); do
	name=$PREFIX-zprobe-$k
	# On screen: when tmux received the frame showing the node running
	# (the first read after the start call that holds it); gone: the
	# last frame before the capture that saw it gone (an upper bound).
	drawn=$("$PANETIME" find "$WORK/topo.log" "${CALL_START[$k]}" "● zprobe\\.$k ") || die "panetime found no frame with zprobe.$k running"
	ev=$(awk -v n="$name" '$2 == "start" && $3 == n {print $1; exit}' "$WORK/events")
	[ -n "$ev" ] && echo $(((drawn - ev / 1000) / 1000)) >>"$WORK/start_ev"
	[ -n "$ev" ] && echo $(((SEEN_START[$k] - ev / 1000) / 1000)) >>"$WORK/start_capture"
	echo $(((drawn - CALL_START[$k]) / 1000)) >>"$WORK/start_call"
	drawn=$("$PANETIME" last "$WORK/topo.log" "${CALL_GONE[$k]}" "${SEEN_GONE[$k]}") || die "panetime found no frame between the removal of zprobe.$k and the capture without it"
	ev=$(awk -v n="$name" '$2 == "destroy" && $3 == n {print $1; exit}' "$WORK/events")
	[ -n "$ev" ] && echo $(((drawn - ev / 1000) / 1000)) >>"$WORK/gone_ev"
	[ -n "$ev" ] && echo $(((SEEN_GONE[$k] - ev / 1000) / 1000)) >>"$WORK/gone_capture"
	echo $(((drawn - CALL_GONE[$k]) / 1000)) >>"$WORK/gone_call"
done
read -r ST_MED ST_P90 ST_MIN ST_MAX < <(stats <"$WORK/start_ev")
read -r STC_MED STC_P90 _ _ < <(stats <"$WORK/start_call")
read -r GO_MED GO_P90 GO_MIN GO_MAX < <(stats <"$WORK/gone_ev")
read -r GOC_MED GOC_P90 _ _ < <(stats <"$WORK/gone_call")
read -r STS_MED STS_P90 _ _ < <(stats <"$WORK/start_capture")
read -r GOS_MED GOS_P90 _ _ < <(stats <"$WORK/gone_capture")
log "start -> on screen: median $ST_MED ms, p90 $ST_P90 ms from the engine's event to tmux's receiving the frame ($STC_MED / $STC_P90 ms from the docker start call; seen by a capture at $STS_MED / $STS_P90 ms)"
log "remove -> gone: median $GO_MED ms, p90 $GO_P90 ms from the engine's event to tmux's receiving the frame ($GOC_MED / $GOC_P90 ms from the docker rm call; seen by a capture at $GOS_MED / $GOS_P90 ms)"

# --- (e) peak RSS ----------------------------------------------------------
HWM_KB=$(awk '/^VmHWM/ {print $2}' "/proc/$TOPO/status")
RSS_KB=$(awk '/^VmRSS/ {print $2}' "/proc/$TOPO/status")
RSS_MB=$(awk -v k="$HWM_KB" 'BEGIN {printf "%.1f", k / 1024}')
log "peak RSS $RSS_MB MB (now $((RSS_KB / 1024)) MB)"

tmux -L "$SOCK" send-keys -t topo q

# --- (f) API requests while idle --------------------------------------------
# A second topo talks to the engine through a relay on a socket of ours
# that notes every request line it passes on (the event stream is one
# request, made at start). Counted over REQ_SECONDS once the first frame is
# up; 0 is the target: topo follows the event stream and never polls.
IDLE_REQ=- REQ_TOTAL=- REQ_ALL=- REQ_EVENTS=-
if command -v python3 >/dev/null; then
	python3 - "$WORK/relay.sock" /var/run/docker.sock "$WORK/requests" <<'PY' &
import re, socket, sys, threading, time
listen, upstream, logf = sys.argv[1:4]
srv = socket.socket(socket.AF_UNIX)
srv.bind(listen)
srv.listen(64)
log = open(logf, "a", buffering=1)
request = re.compile(rb"^(GET|HEAD|POST|PUT|DELETE|PATCH) (\S+) HTTP/1")
def pipe(src, dst, count):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if count:
                m = request.match(data)
                if m:
                    log.write("%d %s %s\n" % (time.time_ns(), m.group(1).decode(), m.group(2).decode()))
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
while True:
    client, _ = srv.accept()
    up = socket.socket(socket.AF_UNIX)
    up.connect(upstream)
    threading.Thread(target=pipe, args=(client, up, True), daemon=True).start()
    threading.Thread(target=pipe, args=(up, client, False), daemon=True).start()
PY
	RELAY=$!
	for _ in $(seq 1 100); do [ -S "$WORK/relay.sock" ] && break; nap 0.05; done
	: >>"$WORK/requests"
	tmux -L "$SOCK" new-session -d -s req -x "$W" -y "$H" "DOCKER_HOST=unix://$WORK/relay.sock exec '$BIN'"
	wait_screen req '● live' 30
	nap 3 # the start-up reads (inspections, the registry search) pass
	r0=$(wc -l <"$WORK/requests") q0=$(date +%s.%N)
	nap "$REQ_SECONDS"
	r1=$(wc -l <"$WORK/requests") q1=$(date +%s.%N)
	REQ_TOTAL=$r1
	tmux -L "$SOCK" kill-session -t req
	kill "$RELAY" 2>/dev/null || true
	wait "$RELAY" 2>/dev/null || true
	RELAY=
	# Other sessions on the shared engine cause events, and topo reads a
	# container after its event: a request within 2 s after an event of
	# the kinds topo follows is its answer to that event, not polling.
	docker events --since "$(awk -v t="$q0" 'BEGIN {printf "%.3f", t - 2}')" --until "$q1" --format '{{.TimeNano}} {{.Type}} {{.Action}}' |
		awk '$2 == "network" || ($2 == "container" && $3 ~ /^(create|start|restart|die|kill|stop|destroy|rename|pause|unpause|health_status|update)/) {print $1}' >"$WORK/req_events"
	sed -n "$((r0 + 1)),${r1}p" "$WORK/requests" >"$WORK/req_window"
	read -r REQ_ALL IDLE_REQ REQ_EVENTS < <(awk '
		FILENAME == ARGV[1] {ev[++n] = $1; next}
		{all++; prompted = 0
		 for (j = 1; j <= n; j++) if (ev[j] <= $1 && $1 - ev[j] < 2e9) prompted = 1
		 if (!prompted) {idle++; print > "/dev/stderr"}}
		END {print all + 0, idle + 0, n + 0}' "$WORK/req_events" "$WORK/req_window" 2>"$WORK/req_unprompted")
	log "requests in ${REQ_SECONDS}s after start-up: $REQ_ALL, following $REQ_EVENTS engine events of other sessions; $IDLE_REQ with no event in the 2 s before ($REQ_TOTAL in all, start-up included)"
	if ((IDLE_REQ > 0)); then head -5 "$WORK/req_unprompted" >&2; fi
else
	log "python3 not found: requests while idle not counted"
fi

cleanup_start=$(now_us)
cleanup
log "removed everything in $((($(now_us) - cleanup_start) / 1000)) ms"

# --- Go render benchmarks ---------------------------------------------------
GOBENCH=
if [ "$GO_BENCH" != 0 ]; then
log "go test -bench (5 runs each)"
go test ./ui -run '^$' -bench '^Benchmark(LanesView|View|RenderSnapshot|EventToFrame)$' -benchtime 1s -count 5 >"$ROOT/.bench-go.txt.tmp" 2>&1 ||
	{ cat "$ROOT/.bench-go.txt.tmp" >&2; rm -f "$ROOT/.bench-go.txt.tmp"; die "go test -bench"; }
GOBENCH=$(awk '/^Benchmark/ {name = $1; sub(/-[0-9]+$/, "", name); v[name] = v[name] " " $3; a[name] = $7; b[name] = $5}
	END {for (n in v) {split(v[n], xs, " "); k = 0; for (i in xs) ys[++k] = xs[i] + 0
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (ys[j] < ys[i]) {t = ys[i]; ys[i] = ys[j]; ys[j] = t}
		printf "%s %.3f %.3f %s %s\n", n, ys[int((k + 1) / 2)] / 1e6, ys[1] / 1e6, a[n], b[n]; delete ys}}' "$ROOT/.bench-go.txt.tmp" | sort)
rm -f "$ROOT/.bench-go.txt.tmp"
fi
# The replay of a 10,000-event recording at full speed (issue 15): one run,
# 256 colours; metrics are read by their unit names.
REPLAY=
if [ "$GO_BENCH" != 0 ]; then
	log "go test -bench BenchmarkReplay10k (one run)"
	REPLAY=$(go test ./ui -run '^$' -bench '^BenchmarkReplay10k$/^ansi256$' -benchtime 1x 2>&1 |
		awk '/^BenchmarkReplay10k/ {for (i = 2; i < NF; i++) m[$(i + 1)] = $i
			printf "%.0f frames/s drawn, longest frame %.1f ms, heap %.1f MiB after, %.0f bytes per recorded event\n", m["frames/s"], m["longest-ms"], m["heap-MiB"], m["bytes/event"]}') ||
		die "go test -bench BenchmarkReplay10k"
fi
gobench() { awk -v n="$1" -v f="$2" '$1 == n {print $f}' <<<"$GOBENCH"; }

# The 10,000-event burst through the real program loop and renderer: one
# burst per run, 3 runs, the median of each metric.
BURST=
if [ "$GO_BENCH" != 0 ]; then
	log "go test -bench BenchmarkEventBurst (3 bursts of 10,000 events)"
	go test ./ui -run '^$' -bench '^BenchmarkEventBurst(Scale)?$' -benchtime 1x -count 3 >"$ROOT/.bench-burst.txt.tmp" 2>&1 ||
		{ cat "$ROOT/.bench-burst.txt.tmp" >&2; rm -f "$ROOT/.bench-burst.txt.tmp"; die "go test -bench BenchmarkEventBurst"; }
	# The scale runs: "containers unit median", one line per size and metric.
	SCALE=$(awk '/^BenchmarkEventBurstScale\/containers=/ {n = $1; sub(/^.*containers=/, "", n); sub(/-[0-9]+$/, "", n)
			for (i = 3; i < NF; i += 2) v[n " " $(i + 1)] = v[n " " $(i + 1)] " " $i}
		END {for (u in v) {k = split(v[u], xs, " "); for (i = 1; i <= k; i++) ys[i] = xs[i] + 0
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (ys[j] < ys[i]) {t = ys[i]; ys[i] = ys[j]; ys[j] = t}
			printf "%s %s\n", u, ys[int((k + 1) / 2)]; delete ys}}' "$ROOT/.bench-burst.txt.tmp")
	BURST=$(awk '/^BenchmarkEventBurst-/ {for (i = 3; i < NF; i += 2) v[$(i + 1)] = v[$(i + 1)] " " $i}
		END {for (u in v) {k = split(v[u], xs, " "); for (i = 1; i <= k; i++) ys[i] = xs[i] + 0
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (ys[j] < ys[i]) {t = ys[i]; ys[i] = ys[j]; ys[j] = t}
			printf "%s %s\n", u, ys[int((k + 1) / 2)]; delete ys}}' "$ROOT/.bench-burst.txt.tmp")
	rm -f "$ROOT/.bench-burst.txt.tmp"
fi
burst() { awk -v u="$1" '$1 == u {print $2}' <<<"$BURST"; }
B_FIRST=$(burst first-frame-ms) B_P50=$(burst event-screen-p50-ms) B_P90=$(burst event-screen-p90-ms)
B_MAX=$(burst event-screen-max-ms) B_GAP=$(burst max-frame-gap-ms) B_ALL=$(burst burst-ms)
B_FRAMES=$(burst frames) B_RSS=$(burst rss-MiB)
VIEW_MED=$(gobench BenchmarkView/ansi256/grid 2)
LANES_MED=$(gobench BenchmarkLanesView/ansi256 2)
EVENT_MED=$(gobench BenchmarkEventToFrame/ansi256 2)

# --- summary -----------------------------------------------------------------
# verdict VALUE TARGET: ok or MISSED; a value that is not a number (empty,
# "-", "nan") is a broken measurement, never "ok": it fails the verdict and
# the run (the script exits 1 after writing the file).
isnum() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
verdict() {
	if ! isnum "$1"; then
		echo "FAILED: no number (\"$1\")"
		return
	fi
	awk -v v="$1" -v t="$2" 'BEGIN {print (v + 0 <= t + 0) ? "ok" : "MISSED"}'
}
{
	if ((N == 300)); then
		echo "# Benchmarks"
		echo
		echo "Written by \`make bench\` (scripts/bench.sh); the numbers of the latest run."
	else
		echo "# Benchmarks at $N containers"
		echo
		echo "Written by \`scripts/bench.sh --containers $N\`; the numbers of the latest run."
	fi
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), kernel $(uname -r), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM"
	echo "- engine: Docker $(docker version --format '{{.Server.Version}}') (API $(docker version --format '{{.Server.APIVersion}}')), $OTHERS other running containers of other sessions"
	echo "- load average at start: $LOAD_START (the machine is shared: treat small differences as noise)"
	echo "- topo: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown), terminal tmux ${W}x${H}, screen polled every $POLL_MS ms"
	echo "- set-up: $N running containers of $IMAGE over $NETS networks ($TWO_NETS on two), created $PARALLEL at a time in $(awk -v u="$SETUP_US" 'BEGIN {printf "%.1f", u / 1e6}') s"
	echo
	echo "| what | measured | target | |"
	echo "|---|---|---|---|"
	echo "| (a) start -> first full frame | median $FF_MED ms (min $FF_MIN, max $FF_MAX; $FIRST_FRAME_RUNS runs; from the exec of topo to tmux's receiving the frame (pipe-pane); seen by a screen capture at $FFC_MED ms) | <= 100 ms | $(verdict "$FF_MED" 100) |"
	echo "| (a) for reading it: \`topo snapshot --json\` (connect + sync, no terminal) | median $SNAP_MED ms (min $SNAP_MIN, max $SNAP_MAX) | | |"
	echo "| (b) container started -> node on screen | median $ST_MED ms, p90 $ST_P90 ms, range $ST_MIN–$ST_MAX (from the engine's start event to tmux's receiving the frame; $STC_MED / $STC_P90 ms from the \`docker start\` call; seen by a screen capture at $STS_MED / $STS_P90 ms; $PROBES containers) | <= 20 ms median | $(verdict "$ST_MED" 20) |"
	echo "| (c) container removed -> node gone | median $GO_MED ms, p90 $GO_P90 ms, range $GO_MIN–$GO_MAX (from the destroy event to tmux's receiving the last frame before a capture saw it gone, an upper bound; $GOC_MED / $GOC_P90 ms from the \`docker rm -f\` call; seen by the capture at $GOS_MED / $GOS_P90 ms) | <= 20 ms median | $(verdict "$GO_MED" 20) |"
	echo "| (d) topo CPU, idle ${IDLE} s | $IDLE_TOPO % of one core ($IDLE_TOPO_NS % by schedstat), following $IDLE_EVENTS engine events of other sessions | <= 0.1 % | $(verdict "$IDLE_TOPO" 0.1) |"
	if ((QUIET_S > 0)); then
		echo "| (d) topo CPU, the quiet seconds of that window | $QUIET_TOPO % over $QUIET_S s without any engine event | <= 0.1 % | $(verdict "$QUIET_TOPO" 0.1) |"
		echo "| (d) topo wake-ups, the quiet seconds | $QUIET_WAKE context switches a second, all threads (a Go program that only wakes once a second: $ONETICK_WAKE) | <= 2 (goal) | $(verdict "$QUIET_WAKE" 2) |"
		QUIET_DOCKERD_TEXT="; $QUIET_DOCKERD % in the quiet seconds"
	else
		echo "| (d) topo CPU, the quiet seconds of that window | none: other sessions caused engine events in every second | <= 0.1 % | not measurable |"
		QUIET_DOCKERD_TEXT=
	fi
	if ((IDLE_EVENTS == 0)); then
		# Every second was quiet: the quiet row above is the measurement,
		# and a line through points that all sit at zero events has no slope.
		echo "| (d) topo CPU estimated at no event (line fitted through the 1 s samples) | not needed: no engine event in the window | | |"
	else
		echo "| (d) topo CPU estimated at no event (line fitted through the 1 s samples: CPU against events) | $FIT_IDLE % + $FIT_PER_EVENT ms of CPU per event | <= 0.1 % | $(verdict "$FIT_IDLE" 0.1) (estimate) |"
	fi
	echo "| (d) topo CPU, the next ${IDLE} s (after 60 s windows the last event is over a minute old: the clock sleeps till the minute) | $LATE_TOPO % by schedstat, $LATE_WAKE wake-ups a second, following $LATE_EVENTS engine events | <= 0.1 % | $(verdict "$LATE_TOPO" 0.1) |"
	echo "| (d) topo wake-ups, whole window | $IDLE_WAKE context switches a second, following $IDLE_EVENTS engine events (a Go program that only wakes once a second: $ONETICK_WAKE) | (reported) | |"
	echo "| (d) dockerd CPU, same window | $IDLE_DOCKERD % ($IDLE_DOCKERD_NS % by schedstat$QUIET_DOCKERD_TEXT); before topo ran: $DOCKERD_BASE % ($DOCKERD_BASE_NS %) | (no polling) | |"
	echo "| (e) topo peak RSS (VmHWM) | $RSS_MB MB | <= 40 MB | $(verdict "$RSS_MB" 40) |"
	if [ "$IDLE_REQ" = - ]; then
		echo "| (f) API requests while idle | not counted (no python3 for the relay) | 0 | |"
	else
		echo "| (f) API requests while idle (none prompted by an engine event in the 2 s before) | $IDLE_REQ in $REQ_SECONDS s ($REQ_ALL in all in that window, answering $REQ_EVENTS engine events of other sessions; $REQ_TOTAL with start-up) | 0 | $(verdict "$IDLE_REQ" 0) |"
	fi
	if [ -n "$BURST" ]; then
		echo "| burst of 10,000 events (BenchmarkEventBurst, 300 containers, real program loop and renderer): first frame | $B_FIRST ms | <= 180 ms | $(verdict "$B_FIRST" 180) |"
		echo "| burst: event -> screen | median $B_P50 ms, p90 $B_P90 ms, max $B_MAX ms; all 10,000 on screen in $B_ALL ms, $B_FRAMES frames | <= 20 ms median | $(verdict "$B_P50" 20) |"
		echo "| burst: longest time without a frame while events waited | $B_GAP ms | <= 250 ms | $(verdict "$B_GAP" 250) |"
		echo "| burst: peak RSS of the benchmark process (an upper bound on topo's) | $B_RSS MiB | <= 32 MiB | $(verdict "$B_RSS" 32) |"
	fi
	if [ -n "${SCALE:-}" ]; then
		echo
		echo "How the burst's costs grow with the engine's size (BenchmarkEventBurstScale, median of 3; RSS is the process's peak so far, so it only grows):"
		echo
		echo "| containers | first frame ms | event -> screen median ms | longest without a frame ms | 10,000 events on screen ms | RSS MiB |"
		echo "|---|---|---|---|---|---|"
		for n in 100 300 1000; do
			sc() { awk -v n="$n" -v u="$1" '$1 == n && $2 == u {print $3}' <<<"$SCALE"; }
			echo "| $n | $(sc first-frame-ms) | $(sc event-screen-p50-ms) | $(sc max-frame-gap-ms) | $(sc burst-ms) | $(sc rss-MiB) |"
		done
		echo
		echo "The first frame lays out every container (linear); a frame in the burst draws the visible page only (bounded), and"
		echo "a batch of events lays the lanes out once (linear in containers, once per batch rather than per event)."
	fi
	if [ -n "$GOBENCH" ]; then
		echo "| render: whole View at 200x50, lanes re-rendered, 256 colours | median $VIEW_MED ms | <= 5 ms | $(verdict "$VIEW_MED" 5) |"
		echo "| render: lanes grid only | median $LANES_MED ms | | |"
		echo "| one event applied + View | median $EVENT_MED ms | | |"
		echo "| replay of 10,000 recorded events at full speed (Update + View each, 256 colours) | ${REPLAY:-not run} | | |"
		echo
		echo "Go benchmarks (\`go test ./ui -bench 'LanesView|View|RenderSnapshot|EventToFrame' -count 5\`, median and fastest of the 5 runs, 300 containers over 5 networks, 200x50):"
		echo
		echo "| benchmark | median ms/op | min ms/op | allocs/op | B/op |"
		echo "|---|---|---|---|---|"
		while read -r n med mn allocs bytes; do
			echo "| $n | $med | $mn | $allocs | $bytes |"
		done <<<"$GOBENCH"
	fi
	echo
	echo "How: the times \"on screen\" are when tmux received topo's output (\`tmux pipe-pane -O\` into internal/panetime, which notes the time of every read"
	echo "and the text it prints); a screen capture (\`capture-pane\` every $POLL_MS ms) confirms each and its time is given beside: one capture of a"
	echo "200x50 pane takes 15-40 ms, which the capture times include. (a) from the moment the pane's shell execs topo (bash's \$EPOCHREALTIME just"
	echo "before \`exec\`) to the read that completes \"● live\" in the status bar and a container of the set-up on a lane (its node, e.g."
	echo "\"● w1.6\"), so the lanes themselves are drawn;"
	echo "(b) and (c) run with the filter \`/zprobe\` active (typed into topo as a user would): the lanes draw only the probe"
	echo "containers, the 300 others are hidden but still followed (their events are applied, and counted in the status bar);"
	echo "(b) a container is created first (its node shows as created), then \`docker start\`; timed to the first read that shows it running,"
	echo "from the engine's start event (\`docker events\` TimeNano); (c) \`docker rm -f\`, then to the last read before the first capture"
	echo "without the node (an upper bound: the frame that removed it is one of the reads since the removal);"
	echo "(d) utime+stime from /proc/PID/stat over the window (10 ms ticks), and the sum of /proc/PID/task/*/schedstat;"
	echo "(e) VmHWM from /proc/PID/status at the end; wake-ups: voluntary + involuntary context switches of all topo's threads;"
	echo "(f) request lines passed by a relay on a socket of the run's own, over ${REQ_SECONDS} s after the first frame (+3 s)."
	echo
	echo "What holds each number (issue 18): the first frame waits on the engine's list calls (the snapshot line above), then is drawn at"
	echo "once (the renderer in third_party/bubbletea draws on demand: the frame rate, 60, is only a ceiling); a start or destroy waits"
	echo "on the engine's event and one frame at most; idle, topo sleeps but for the status clock (the age of the last event): every"
	echo "second while that age is under a minute (one view, one changed line), then once a minute. Before issue 18 Bubble Tea's ticker woke"
	echo "topo 11 times a second for its whole life and every frame waited for the next tick (see the earlier runs below)."
	echo "The burst before issue 18 (BenchmarkEventBurst run once on main b306aaf: Bubble Tea v1.3.10's renderer at 11 fps, one"
	echo "message and one view per event; same machine, load 24-41): all 10,000 events on screen after 171 s, event -> screen"
	echo "median 3.9 s (p90 7.2 s, max 10.2 s), 426 ms the longest without a frame, first frame 92 ms, 35.7 MiB. What held it:"
	echo "Bubble Tea draws the view after every message, so each event paid a whole view (1.2 ms quiet); the watch's waiting"
	echo "updates now come in one message (at most 1,024) and one view."
	echo "For comparison, lazydocker on a machine like this with 10 containers:"
	echo "first screen ~210 ms, new container on screen ~580 ms, idle 5 % CPU plus ~29 % in dockerd, 32 MB RSS."
	echo
	# make bench-capacity's section is its own: carried over as it is.
	if [ -f "$OUT" ] && grep -q '^<!-- capacity:begin -->$' "$OUT"; then
		sed -n '/^<!-- capacity:begin -->$/,/^<!-- capacity:end -->$/p' "$OUT"
		echo
	fi
	if ((N == 300)) && [ -f "$ROOT/BENCHMARKS-1000.md" ]; then
		echo "## At 1,000 containers"
		echo
		echo "The latest \`make bench-1000\` (BENCHMARKS-1000.md):"
		echo
		sed -n 's/^<!-- summary: \(.*\) -->$/- \1/p' "$ROOT/BENCHMARKS-1000.md"
		echo
	fi
	echo "## Earlier runs"
	echo
	echo "Latest first; each line is the summary of a run this file once held."
	echo
	# Carry the history forward, the run this file held first.
	if [ -f "$OUT" ]; then
		sed -n 's/^<!-- summary: \(.*\) -->$/- \1/p' "$OUT"
		sed -n '/^## Earlier runs/,$p' "$OUT" | grep '^- ' || true
	fi
	echo
	echo "<!-- summary: $(date -u '+%Y-%m-%d %H:%M'), load $LOAD_START: first frame $FF_MED ms (snapshot $SNAP_MED ms); start->screen $ST_MED ms (p90 $ST_P90); remove->gone $GO_MED ms (p90 $GO_P90); idle CPU $IDLE_TOPO % with $IDLE_EVENTS events (quiet ${QUIET_S}s: $QUIET_TOPO %; fit $FIT_IDLE % + $FIT_PER_EVENT ms/event); dockerd $IDLE_DOCKERD % (before topo $DOCKERD_BASE %); RSS $RSS_MB MB; View ${VIEW_MED:-?} ms; wake-ups $IDLE_WAKE/s (quiet $QUIET_WAKE/s); next minute $LATE_TOPO %, $LATE_WAKE wake-ups/s; idle requests $IDLE_REQ; burst p50 ${B_P50:-?} ms, max gap ${B_GAP:-?} ms, first frame ${B_FIRST:-?} ms; $N containers; set-up $((SETUP_US / 1000000)) s -->"
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo
cat "$OUT"
# Figures shown without a target must be numbers too.
broken=$(grep -c 'FAILED: no number' "$OUT" || true)
for v in SNAP_MED IDLE_TOPO_NS IDLE_DOCKERD IDLE_DOCKERD_NS DOCKERD_BASE DOCKERD_BASE_NS; do
	isnum "${!v}" || { log "broken figure: $v is \"${!v}\""; broken=$((broken + 1)); }
done
((broken == 0)) || die "$broken figures are missing or not numbers (see above): the run proves nothing for them"
