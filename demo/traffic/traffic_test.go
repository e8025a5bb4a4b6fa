package traffic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// backend imitates the load balancer: each request is served by the next
// of names (an empty name answers 502 with no X-Served-By, as nginx does
// when no instance is left).
func backend(t *testing.T, names ...string) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/search" || r.URL.Query().Get("q") == "" {
			t.Errorf("unexpected request %s", r.URL)
		}
		name := names[int(n.Add(1)-1)%len(names)]
		if name == "" {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.Header().Set("X-Served-By", name)
		fmt.Fprintf(w, `{"instance":%q}`, name)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func collect(t *testing.T, ctx context.Context, cfg Config) []Snapshot {
	t.Helper()
	out := make(chan Snapshot, 1)
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, cfg, out) }()
	var snaps []Snapshot
	for s := range out {
		snaps = append(snaps, s)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return snaps
}

func TestRunSpreadsAndCountsPerInstance(t *testing.T) {
	srv, served := backend(t, "app-1", "app-2", "app-1", "app-2", "")
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	snaps := collect(t, ctx, Config{URL: srv.URL, Rate: 100, Interval: 200 * time.Millisecond, Window: time.Second})
	if len(snaps) < 5 {
		t.Fatalf("%d snapshots in 1.5 s at one per 200 ms", len(snaps))
	}
	last := snaps[len(snaps)-1]
	if last.TotalRequests < 80 || last.TotalRequests > int64(served.Load()) {
		t.Errorf("total %d requests, server saw %d, want about 150", last.TotalRequests, served.Load())
	}
	if len(last.Instances) != 2 || last.Instances[0].Name != "app-1" || last.Instances[1].Name != "app-2" {
		t.Fatalf("instances %+v, want app-1 and app-2 sorted", last.Instances)
	}
	for _, in := range last.Instances {
		if in.PerSecond < 20 || in.PerSecond > 60 {
			t.Errorf("%s at %.1f req/s, want about 40 (2 of every 5 at 100 req/s)", in.Name, in.PerSecond)
		}
	}
	if last.ErrorRate < 0.1 || last.ErrorRate > 0.3 {
		t.Errorf("error rate %.2f, want about 0.2 (1 of every 5 is a 502)", last.ErrorRate)
	}
	if last.LastError != "502 Bad Gateway" || last.LastErrorAt.IsZero() {
		t.Errorf("last error %q at %v", last.LastError, last.LastErrorAt)
	}
	if last.P50 <= 0 || last.P95 < last.P50 || last.Max < last.P95 {
		t.Errorf("latencies p50 %v p95 %v max %v", last.P50, last.P95, last.Max)
	}
	if !strings.Contains(last.Summary(), "app-1") || !strings.Contains(last.Summary(), "errors") {
		t.Errorf("summary %q", last.Summary())
	}
}

// TestRunBoundsRequestsInFlight: a load balancer that stops answering
// costs at most MaxInFlight requests, and the ticks beyond are counted as
// skipped rather than piling up goroutines.
func TestRunBoundsRequestsInFlight(t *testing.T) {
	var inFlight, peak atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	snaps := collect(t, ctx, Config{URL: srv.URL, Rate: 100, MaxInFlight: 3, Timeout: 10 * time.Second, Interval: 100 * time.Millisecond})
	if p := peak.Load(); p > 3 {
		t.Errorf("%d requests in flight at once, want at most 3", p)
	}
	last := snaps[len(snaps)-1]
	if last.Skipped < 30 {
		t.Errorf("skipped %d ticks, want most of the ~70", last.Skipped)
	}
	// Cancelled requests are the caller's doing, not failures.
	if last.TotalErrors != 0 {
		t.Errorf("%d errors counted for requests the caller cancelled", last.TotalErrors)
	}
}

// TestRunStopsWithContext: Run returns promptly once ctx ends, with the
// channel closed, even with requests outstanding.
func TestRunStopsWithContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan Snapshot)
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, Config{URL: srv.URL, Rate: 50}, out) }()
	time.Sleep(200 * time.Millisecond) // let requests get in flight
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return within 2 s of its context ending")
	}
	if _, open := <-out; open {
		t.Error("the snapshot channel is still open")
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no load balancer URL"},
		{Config{URL: "127.0.0.1:8080"}, "not an http:// address"},
		{Config{URL: "http://127.0.0.1:8080", Rate: -1}, "out of range"},
		{Config{URL: "http://127.0.0.1:8080", Rate: 1e6}, "out of range"},
	} {
		out := make(chan Snapshot, 1)
		err := Run(context.Background(), tc.cfg, out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%+v) = %v, want an error saying %q", tc.cfg, err, tc.want)
		}
		if _, open := <-out; open {
			t.Error("the channel is left open after a refused config")
		}
	}
}

// TestSnapshotWindow checks the sliding window and the percentiles on
// results with known times.
func TestSnapshotWindow(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	a := &aggregator{cfg: Config{Window: 2 * time.Second, Interval: time.Second}, started: t0}
	// 10 old results from a dead instance, then 20 in the window.
	for i := range 10 {
		a.add(Result{At: t0.Add(time.Duration(i) * 50 * time.Millisecond), Latency: time.Second, Instance: "old", Status: 200})
	}
	for i := range 20 {
		r := Result{At: t0.Add(3*time.Second + time.Duration(i)*50*time.Millisecond), Latency: time.Duration(i+1) * time.Millisecond, Instance: "new", Status: 200}
		if i == 19 {
			r = Result{At: r.At, Latency: 5 * time.Millisecond, Err: errors.New("connection refused")}
		}
		a.add(r)
	}
	s := a.snapshot(t0.Add(4500 * time.Millisecond))
	if s.Requests != 20 || len(s.Instances) != 1 || s.Instances[0].Name != "new" {
		t.Fatalf("window holds %d requests from %+v, want the 20 recent ones from new only", s.Requests, s.Instances)
	}
	if s.Instances[0].PerSecond != 9.5 || s.PerSecond != 10 {
		t.Errorf("rates %v and %v, want 19 served / 2 s = 9.5 and 20 sent / 2 s = 10", s.Instances[0].PerSecond, s.PerSecond)
	}
	if s.Errors != 1 || s.ErrorRate != 0.05 || s.TotalRequests != 30 || s.TotalErrors != 1 {
		t.Errorf("errors %d rate %v totals %d/%d", s.Errors, s.ErrorRate, s.TotalRequests, s.TotalErrors)
	}
	// Latencies of the 19 successes: 1..19 ms.
	if s.P50 != 10*time.Millisecond || s.P95 != 19*time.Millisecond || s.Max != 19*time.Millisecond {
		t.Errorf("p50 %v p95 %v max %v, want 10ms 19ms 19ms", s.P50, s.P95, s.Max)
	}
}

// TestSlowReaderGetsFreshSnapshots: a reader that falls behind is handed
// the newest snapshot, not a backlog, and the generator keeps its rate.
func TestSlowReaderGetsFreshSnapshots(t *testing.T) {
	srv, _ := backend(t, "app-1")
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	out := make(chan Snapshot)
	go func() { _ = Run(ctx, Config{URL: srv.URL, Rate: 100, Interval: 10 * time.Millisecond}, out) }()
	time.Sleep(time.Second)
	s, ok := <-out
	if !ok {
		t.Fatal("no snapshot")
	}
	// The generator emits every 10 ms: a snapshot 500 ms old would be one
	// that queued behind the reader rather than the newest.
	if age := time.Since(s.At); age > 500*time.Millisecond {
		t.Errorf("the snapshot read after a 1 s pause is %v old, want the newest", age)
	}
	if s.TotalRequests < 40 {
		t.Errorf("%d requests in 1 s at 100 req/s: the slow reader held the generator back", s.TotalRequests)
	}
	for range out {
	}
}
