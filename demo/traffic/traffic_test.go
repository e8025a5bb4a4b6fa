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

// runUntil runs the generator until stop holds for the snapshots read so
// far (or a minute passes, which fails the test), then cancels it and
// returns every snapshot, the last taken after Run returned.
func runUntil(t *testing.T, cfg Config, stop func(Snapshot) bool) []Snapshot {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan Snapshot, 1)
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, cfg, out) }()
	var snaps []Snapshot
	deadline := time.After(time.Minute)
	for stopped := false; !stopped; {
		select {
		case s, ok := <-out:
			if !ok {
				t.Fatalf("Run ended by itself: %v", <-errc)
			}
			snaps = append(snaps, s)
			stopped = stop(s)
		case <-deadline:
			t.Fatalf("not within a minute; last snapshot %+v", snaps[len(snaps)-1:])
		}
	}
	cancel()
	for s := range out {
		snaps = append(snaps, s)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return snaps
}

// The rates themselves are checked on known times (TestSnapshotWindow);
// here what the generator counts against what the server saw.
func TestRunSpreadsAndCountsPerInstance(t *testing.T) {
	srv, served := backend(t, "app-1", "app-2", "app-1", "app-2", "")
	snaps := runUntil(t, Config{URL: srv.URL, Rate: 100, Interval: 50 * time.Millisecond, Window: time.Hour},
		func(s Snapshot) bool { return s.TotalRequests >= 100 })
	last := snaps[len(snaps)-2] // the last one read before the cancel
	if last.TotalRequests > served.Load() {
		t.Errorf("total %d requests, more than the %d the server saw", last.TotalRequests, served.Load())
	}
	if len(last.Instances) != 2 || last.Instances[0].Name != "app-1" || last.Instances[1].Name != "app-2" {
		t.Fatalf("instances %+v, want app-1 and app-2 sorted", last.Instances)
	}
	// The server answers in a cycle of five: two each, then a 502. Answers
	// may come back out of order, so allow the requests still in flight.
	inFlight := int(served.Load() - last.TotalRequests)
	a1, a2 := last.Instances[0].Requests, last.Instances[1].Requests
	if d := a1 - a2; d < -2-inFlight || d > 2+inFlight {
		t.Errorf("app-1 served %d and app-2 %d of %d: want an even spread", a1, a2, last.Requests)
	}
	if wantErrs := last.TotalRequests / 5; last.TotalErrors < wantErrs-1-int64(inFlight) || last.TotalErrors > wantErrs+1+int64(inFlight) {
		t.Errorf("%d errors of %d requests, want one in five (a 502)", last.TotalErrors, last.TotalRequests)
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
	// Stop once ticks were skipped: the server holds every request, so
	// only a bounded generator gets there.
	snaps := runUntil(t, Config{URL: srv.URL, Rate: 100, MaxInFlight: 3, Timeout: time.Hour, Interval: 50 * time.Millisecond},
		func(s Snapshot) bool { return s.Skipped >= 10 })
	if p := peak.Load(); p > 3 {
		t.Errorf("%d requests in flight at once, want at most 3", p)
	}
	last := snaps[len(snaps)-1]
	// Cancelled requests are the caller's doing, not failures.
	if last.TotalErrors != 0 {
		t.Errorf("%d errors counted for requests the caller cancelled", last.TotalErrors)
	}
}

// TestRunStopsWithContext: Run returns promptly once ctx ends, with the
// channel closed, even with requests outstanding.
func TestRunStopsWithContext(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan Snapshot)
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, Config{URL: srv.URL, Rate: 50, Timeout: time.Hour}, out) }()
	select {
	case <-arrived: // a request is outstanding, and stays so
	case <-time.After(time.Minute):
		t.Fatal("no request reached the server")
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after its context ended: it waited for the outstanding request")
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
	// 4 ticks skipped for a full in-flight bound: offered but never sent;
	// one of them before the window.
	for _, ms := range []int{500, 3100, 3200, 3300} {
		a.skip(t0.Add(time.Duration(ms) * time.Millisecond))
	}
	s := a.snapshot(t0.Add(4500 * time.Millisecond))
	if s.Offered != 11.5 || s.Served != 9.5 || s.Failed != 0.5 {
		t.Errorf("offered %v served %v failed %v, want (20 sent + 3 skipped) / 2 s = 11.5, 19 / 2 s = 9.5, 1 / 2 s = 0.5", s.Offered, s.Served, s.Failed)
	}
	if s.Skipped != 4 {
		t.Errorf("skipped %d in total, want 4", s.Skipped)
	}
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
// the newest snapshot, not a backlog, and does not hold the generator back.
func TestSlowReaderGetsFreshSnapshots(t *testing.T) {
	srv, served := backend(t, "app-1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan Snapshot)
	done := make(chan struct{})
	go func() {
		_ = Run(ctx, Config{URL: srv.URL, Rate: 100, Interval: 10 * time.Millisecond}, out)
		close(done)
	}()
	first := <-out
	// The reader pauses: the generator must go on sending meanwhile,
	// which it could not if it waited for the reader.
	deadline := time.Now().Add(time.Minute)
	for served.Load() < first.TotalRequests+50 {
		if time.Now().After(deadline) {
			t.Fatalf("the server saw %d requests while the reader paused after %d: the reader held the generator back", served.Load(), first.TotalRequests)
		}
		time.Sleep(10 * time.Millisecond)
	}
	next := <-out
	// A queued snapshot would be the one made right after first, one or
	// two requests on; the newest reflects the fifty sent meanwhile.
	if next.TotalRequests < first.TotalRequests+10 {
		t.Errorf("after the pause the reader got a snapshot of %d requests (first %d, server %d): a stale one", next.TotalRequests, first.TotalRequests, served.Load())
	}
	cancel()
	for range out {
	}
	<-done
}
