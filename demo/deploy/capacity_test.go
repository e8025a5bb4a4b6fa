package deploy

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/topo-dev/topo/demo/traffic"
	"github.com/topo-dev/topo/internal/testenv"
)

// load sends traffic through d's load balancer until stopped, and waits
// for conditions on its snapshots.
type load struct {
	t     testing.TB
	snaps chan traffic.Snapshot
	stop  context.CancelFunc
	done  chan error
	last  traffic.Snapshot
	// ended makes end safe to call twice: a benchmark ends each load
	// itself, and the cleanup registered at the start ends it again.
	ended sync.Once
}

func startLoad(t testing.TB, d *Deployer, rate float64, window time.Duration) *load {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	l := &load{t: t, snaps: make(chan traffic.Snapshot, 1), stop: stop, done: make(chan error, 1)}
	go func() {
		l.done <- traffic.Run(ctx, traffic.Config{URL: d.LBURL(), Rate: rate, Window: window, Timeout: 5 * time.Second, Interval: 100 * time.Millisecond}, l.snaps)
	}()
	t.Cleanup(l.end)
	return l
}

// waitFor reads snapshots until cond holds, failing after a patient minute.
func (l *load) waitFor(what string, cond func(traffic.Snapshot) bool) traffic.Snapshot {
	l.t.Helper()
	deadline := time.After(testenv.Patience(time.Minute))
	for {
		select {
		case s, ok := <-l.snaps:
			if !ok {
				l.t.Fatalf("traffic ended before %s", what)
			}
			if l.last = s; cond(s) {
				return s
			}
		case <-deadline:
			s := l.last
			l.t.Fatalf("never: %s (last: %d requests, %d errors: %s; offered %.1f/s served %.1f/s)", what, s.TotalRequests, s.TotalErrors, s.LastError, s.Offered, s.Served)
		}
	}
}

func (l *load) end() {
	l.ended.Do(func() {
		l.stop()
		for range l.snaps {
		}
		if err := <-l.done; err != nil {
			l.t.Error(err)
		}
	})
}

// The talk's point: capacity comes from multiplying containers. At twice
// one instance's capacity the load balancer answers some searches 503;
// `+` three times and the same load is served with no error at all.
// Counts are asserted, not times: errors > 0 before, then a clean run of
// 100 searches in a row after.
func TestPlusUnderOverloadBringsErrorsToZero(t *testing.T) {
	d, _ := newTestDeployer(t)
	// 1 search at a time, 100 ms each: 10 searches a second per instance.
	d.opts.AppConcurrency, d.opts.AppServiceTime = 1, 100*time.Millisecond
	ctx := context.Background()
	if _, err := d.Up(ctx, UpOptions{Replicas: 1, Wait: true}, nil); err != nil {
		t.Fatalf("up: %v", err)
	}

	l := startLoad(t, d, 20, 2*time.Second)
	// 20 errors, not one: a sustained overload, not a burst at the start.
	before := l.waitFor("20 errors at twice one instance's capacity", func(s traffic.Snapshot) bool { return s.TotalErrors >= 20 })
	if !strings.Contains(before.LastError, "503") {
		t.Errorf("overload failed with %q, want the app's 503", before.LastError)
	}
	t.Logf("1 instance: offered %.1f/s, served %.1f/s, %d of %d failed", before.Offered, before.Served, before.TotalErrors, before.TotalRequests)

	if _, err := d.ScaleBy(ctx, ServiceApp, 3, nil); err != nil {
		t.Fatalf("+3: %v", err)
	}
	waitServedByAll(t, d, testenv.Patience(time.Minute), appNames(d, 1, 2, 3, 4)...)
	// Counted from the last error seen, so requests sent before the new
	// instances took their share do not count.
	errs, from := int64(-1), int64(0)
	after := l.waitFor("100 searches in a row served with 4 instances", func(s traffic.Snapshot) bool {
		if s.TotalErrors != errs {
			errs, from = s.TotalErrors, s.TotalRequests
		}
		return s.TotalRequests-from >= 100
	})
	t.Logf("4 instances: offered %.1f/s, served %.1f/s, p50 %v p95 %v, %d requests since the last error", after.Offered, after.Served, after.P50, after.P95, after.TotalRequests-from)
}

// BenchmarkCapacity measures served ≈ min(offered, N × per-instance
// capacity): the demo at its default capacity (20 searches/s an instance)
// with N = 1, 2, 4 instances, under an offered load of 3 instances'
// capacity (60/s), each measured over a 10 s window after a 4 s warm-up.
// With BENCH_CAPACITY_OUT set it writes a Markdown table there
// (scripts/bench-capacity.sh, make bench-capacity).
//
// Run with: go test ./demo/deploy -run '^$' -bench Capacity -benchtime 1x
func BenchmarkCapacity(b *testing.B) {
	const perInstance = 20.0 // the app's defaults: 2 at once, 100 ms each
	offered := 3 * perInstance
	window := 10 * time.Second
	ctx := context.Background()
	var table strings.Builder
	fmt.Fprintf(&table, "| instances | capacity /s | offered /s | served /s | min(offered, capacity) | errors | p50 | p95 | load avg (1 min) |\n")
	fmt.Fprintf(&table, "|---|---|---|---|---|---|---|---|---|\n")
	for range b.N {
		d, _ := newTestDeployer(b)
		if _, err := d.Up(ctx, UpOptions{Replicas: 1, Wait: true}, nil); err != nil {
			b.Fatalf("up: %v", err)
		}
		for _, n := range []int{1, 2, 4} {
			if err := d.Scale(ctx, ServiceApp, n, nil); err != nil {
				b.Fatalf("scale to %d: %v", n, err)
			}
			numbers := make([]int, n)
			for i := range numbers {
				numbers[i] = i + 1
			}
			waitServedByAll(b, d, testenv.Patience(time.Minute), appNames(d, numbers...)...)
			l := startLoad(b, d, offered, window)
			start := time.Now()
			s := l.waitFor("the warm-up and a full window", func(s traffic.Snapshot) bool { return s.At.Sub(start) >= window+4*time.Second })
			l.end()
			capacity := float64(n) * perInstance
			b.ReportMetric(s.Served, fmt.Sprintf("served-N%d/s", n))
			b.ReportMetric(100*s.ErrorRate, fmt.Sprintf("errors-N%d-%%", n))
			fmt.Fprintf(&table, "| %d | %.0f | %.1f | %.1f | %.0f | %.1f %% | %v | %v | %s |\n",
				n, capacity, s.Offered, s.Served, min(s.Offered, capacity), 100*s.ErrorRate,
				s.P50.Round(time.Millisecond), s.P95.Round(time.Millisecond), loadAvg())
		}
	}
	b.ReportMetric(0, "ns/op")
	b.Log("\n" + table.String())
	if out := os.Getenv("BENCH_CAPACITY_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(table.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// loadAvg is the machine's 1-minute load average, beside each figure: the
// machine is shared, and a fixed service time should make the figures
// depend little on it.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(raw))[0]
}

// The deployer hands the capacity options to every app instance, and
// leaves the app's own defaults alone when none is given.
func TestAppCapacityReachesTheAppEnvironment(t *testing.T) {
	d, _ := New(nil, Options{Project: "p1", LBPort: 9090, Images: Images{Consul: "c:1", Mongo: "m:1", Nginx: "n:1"},
		AppConcurrency: 4, AppServiceTime: 50 * time.Millisecond})
	env := strings.Join(d.specFor(ServiceApp, 1, "self:1").Env, "\n")
	for _, want := range []string{"APP_CONCURRENCY=4", "APP_SERVICE_TIME=50ms"} {
		if !strings.Contains(env, want) {
			t.Errorf("app env lacks %s:\n%s", want, env)
		}
	}
	plain, _ := New(nil, Options{Project: "p1", LBPort: 9090, Images: Images{Consul: "c:1", Mongo: "m:1", Nginx: "n:1"}})
	if env := strings.Join(plain.specFor(ServiceApp, 1, "self:1").Env, "\n"); strings.Contains(env, "APP_CONCURRENCY") || strings.Contains(env, "APP_SERVICE_TIME") {
		t.Errorf("with no capacity option the app env overrides the app's defaults:\n%s", env)
	}
}
