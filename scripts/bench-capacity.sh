#!/usr/bin/env bash
# The demo's capacity benchmark (issue 13, item 7), run by
# `make bench-capacity`: deploys the demo with the test images (as the
# demo/deploy tests do, everything labelled and removed at the end) and
# measures served against offered load at N = 1, 2, 4 app instances, with
# an offered load of 3 instances' capacity (BenchmarkCapacity). Writes the
# table, with the machine's load average beside each row, into the
# capacity section of BENCHMARKS.md (between its capacity markers; the
# rest of the file is make bench's and is left as it is).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
cd "$ROOT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

eval "$(./scripts/test-images.sh 2>/dev/null)"
export PATH=$ROOT/bin:$PATH
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if ! BENCH_CAPACITY_OUT=$work/table.md go test ./demo/deploy -run '^$' -bench '^BenchmarkCapacity$' -benchtime 1x -count=1 -timeout 20m >"$work/log" 2>&1; then
	cat "$work/log"
	echo "bench-capacity: the benchmark failed (output above)" >&2
	exit 1
fi
{
	echo "<!-- capacity:begin -->"
	echo "## Demo capacity: served against offered load"
	echo
	echo "Written by \`make bench-capacity\` (scripts/bench-capacity.sh, BenchmarkCapacity in demo/deploy) on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD); load average before the run: $load_before on $(nproc) cores."
	echo
	echo "Each app instance serves 2 searches at once, 100 ms each (APP_CONCURRENCY=2, APP_SERVICE_TIME=100ms: 20/s); a search"
	echo "beyond that waits in a queue of 2, then gets 503 at once. Offered: 60 searches/s (3 instances' capacity) through the"
	echo "load balancer, measured over a 10 s window after 4 s of warm-up at each N. Served = 2xx answers; p50/p95 of those."
	echo
	cat "$work/table.md"
	echo "<!-- capacity:end -->"
} >"$work/section.md"

# Replace the section if the file has one, else put it before the history.
if grep -q '^<!-- capacity:begin -->$' "$OUT"; then
	awk -v sec="$work/section.md" '
		/^<!-- capacity:begin -->$/ { while ((getline l < sec) > 0) print l; skip = 1; next }
		/^<!-- capacity:end -->$/ { skip = 0; next }
		!skip { print }' "$OUT" >"$work/out.md"
else
	awk -v sec="$work/section.md" '
		/^## Earlier runs/ && !done { while ((getline l < sec) > 0) print l; print ""; done = 1 }
		{ print }
		END { if (!done) { print ""; while ((getline l < sec) > 0) print l } }' "$OUT" >"$work/out.md"
fi
cp "$work/out.md" "$OUT"
cat "$work/section.md"
