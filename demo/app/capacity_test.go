package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
)

// fakeSource answers each load with the next reply the test sends, so a
// test decides when a refresh happens and what it finds.
type fakeSource struct{ replies chan sourceReply }

type sourceReply struct {
	talks []Talk
	err   error
}

func newFakeSource(queued ...sourceReply) *fakeSource {
	f := &fakeSource{replies: make(chan sourceReply, len(queued)+4)}
	for _, r := range queued {
		f.replies <- r
	}
	return f
}

func (f *fakeSource) all(ctx context.Context) ([]Talk, error) {
	select {
	case r := <-f.replies:
		return r.talks, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// blockingSleep stands in for the service time: each request in a slot
// reports itself on entered and stays there until the test releases it.
type blockingSleep struct {
	entered chan time.Duration
	release chan struct{}
}

func newBlockingSleep() *blockingSleep {
	return &blockingSleep{entered: make(chan time.Duration, 16), release: make(chan struct{})}
}

func (b *blockingSleep) sleep(ctx context.Context, d time.Duration) {
	b.entered <- d
	select {
	case <-b.release:
	case <-ctx.Done():
	}
}

func fetch(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Errorf("GET %s: %v", u, err)
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Errorf("GET %s: body is not JSON: %v\n%s", u, err, raw)
	}
	return resp.StatusCode, body
}

// startFakeServer serves the app's routes over a catalogue read from src.
func startFakeServer(t *testing.T, cfg Config, src talkSource) (*server, string) {
	t.Helper()
	s := newServer(cfg, testLogger(t), src)
	hs := httptest.NewServer(s.routes())
	t.Cleanup(hs.Close)
	return s, hs.URL
}

// With both slots held and the one queue place taken, a further search is
// refused at once: its 503 arrives while every request ahead of it is
// still held, which proves the bound causally, with no clock involved.
func TestLimiterServesConcurrencyQueuesQueueAndRefusesTheRest(t *testing.T) {
	b := newBlockingSleep()
	cfg := Config{Instance: "capped", Concurrency: 2, Queue: 1, ServiceTime: 100 * time.Millisecond, sleep: b.sleep}
	s, base := startFakeServer(t, cfg, newFakeSource(sourceReply{talks: Catalogue()}))
	if err := s.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}

	codes := make(chan int, 3)
	search := func() {
		code, _ := fetch(t, base+"/search?q=go")
		codes <- code
	}
	go search()
	go search()
	for range 2 {
		if d := <-b.entered; d != 100*time.Millisecond {
			t.Errorf("a search held its slot for %v, want the service time 100ms", d)
		}
	}
	go search()
	dockertest.Eventually(t, testenv.Patience(10*time.Second), func() (bool, string) {
		return len(s.limiter.queue) == 1, "the third search never queued"
	})
	select {
	case d := <-b.entered:
		t.Fatalf("a third search entered service (%v) with both slots held", d)
	default:
	}

	code, body := fetch(t, base+"/search?q=go")
	if code != http.StatusServiceUnavailable || body["instance"] != "capped" {
		t.Fatalf("a search beyond slots and queue answered %d %v, want 503 from capped", code, body)
	}
	if code, _ := fetch(t, base+"/health"); code != http.StatusOK {
		t.Errorf("/health at capacity answered %d, want 200: a busy instance must stay in the load balancer", code)
	}

	// One slot freed: the queued search takes it.
	b.release <- struct{}{}
	if got := <-codes; got != http.StatusOK {
		t.Errorf("a search served in a slot answered %d, want 200", got)
	}
	<-b.entered
	close(b.release)
	for range 2 {
		if got := <-codes; got != http.StatusOK {
			t.Errorf("a search answered %d, want 200", got)
		}
	}
	if n := s.rejected.Load(); n != 1 {
		t.Errorf("rejected = %d, want 1", n)
	}
	if len(s.limiter.slots) != 0 || len(s.limiter.queue) != 0 {
		t.Errorf("after every search ended %d slots and %d queue places are still taken", len(s.limiter.slots), len(s.limiter.queue))
	}
}

// A search that gives up while queued (the load balancer's timeout) must
// give its queue place back, or the queue would shrink with every one.
func TestLimiterQueuedRequestThatGivesUpLeavesTheQueue(t *testing.T) {
	l := newLimiter(1, 1)
	release, ok := l.acquire(context.Background())
	if !ok {
		t.Fatal("the first acquire was refused")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan bool, 1)
	go func() {
		_, ok := l.acquire(ctx)
		done <- ok
	}()
	dockertest.Eventually(t, testenv.Patience(10*time.Second), func() (bool, string) {
		return len(l.queue) == 1, "the second acquire never queued"
	})
	if _, ok := l.acquire(context.Background()); ok {
		t.Fatal("a third acquire got through a full slot and a full queue")
	}
	cancel()
	if <-done {
		t.Error("a queued acquire whose context ended reported success")
	}
	if len(l.queue) != 0 {
		t.Errorf("%d queue places still taken after the waiter gave up", len(l.queue))
	}
	release()
	if r, ok := l.acquire(context.Background()); !ok {
		t.Error("the slot was not given back")
	} else {
		r()
	}
}

func TestCapacityIsConcurrencyOverServiceTime(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want float64
	}{
		{Config{}, 20},
		{Config{Concurrency: 4, ServiceTime: 100 * time.Millisecond}, 40},
		{Config{Concurrency: 1, ServiceTime: 50 * time.Millisecond}, 20},
		{Config{ServiceTime: -1}, 0},
	} {
		if got := tc.cfg.Capacity(); got != tc.want {
			t.Errorf("%+v: capacity %g/s, want %g/s", tc.cfg, got, tc.want)
		}
	}
	if q := (Config{Concurrency: 3}).withDefaults().Queue; q != 3 {
		t.Errorf("default queue = %d, want the concurrency 3", q)
	}
	if q := (Config{Queue: -1}).withDefaults().Queue; q != 0 {
		t.Errorf("queue -1 gave %d places, want none", q)
	}
}

// Health is honest about the copy of the catalogue: 503 until one was
// loaded, 200 afterwards even when a refresh fails (the copy still
// serves), and a successful refresh is what searches then see.
func TestCatalogueRefresh(t *testing.T) {
	src := newFakeSource()
	s, base := startFakeServer(t, Config{Instance: "fresh", ServiceTime: -1}, src)

	src.replies <- sourceReply{err: errors.New("no database")}
	if err := s.refresh(context.Background()); err == nil {
		t.Fatal("a refresh from a failing database reported no error")
	}
	for _, path := range []string{"/health", "/search?q=go"} {
		if code, body := fetch(t, base+path); code != http.StatusServiceUnavailable {
			t.Errorf("%s with no catalogue ever loaded answered %d %v, want 503", path, code, body)
		}
	}

	first := []Talk{{ID: "a", Title: "Consul in Production", Year: 2020}, {ID: "b", Title: "Consul from Scratch", Year: 2024}}
	src.replies <- sourceReply{talks: first}
	if err := s.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, body := fetch(t, base+"/search?q=CONSUL")
	if code != http.StatusOK || body["count"] != 2.0 {
		t.Fatalf("search after the first load answered %d %v, want 200 with 2 talks", code, body)
	}
	if r := body["results"].([]any); r[0].(map[string]any)["id"] != "b" {
		t.Errorf("results %v are not newest first", r)
	}

	src.replies <- sourceReply{err: errors.New("database went away")}
	if err := s.refresh(context.Background()); err == nil {
		t.Fatal("a failing refresh reported no error")
	}
	code, body = fetch(t, base+"/health")
	if code != http.StatusOK || body["refresh_error"] == nil {
		t.Errorf("/health after a failed refresh answered %d %v, want 200 naming the refresh error", code, body)
	}
	if code, body := fetch(t, base+"/search?q=consul"); code != http.StatusOK || body["count"] != 2.0 {
		t.Errorf("search after a failed refresh answered %d %v, want the previous copy's 2 talks", code, body)
	}

	src.replies <- sourceReply{talks: append(first, Talk{ID: "c", Title: "Debugging Consul at 3 a.m.", Year: 2019})}
	if err := s.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, body := fetch(t, base+"/search?q=consul"); code != http.StatusOK || body["count"] != 3.0 {
		t.Errorf("search after a new load answered %d %v, want 3 talks", code, body)
	}
	if _, body := fetch(t, base+"/health"); body["refresh_error"] != nil {
		t.Errorf("/health still reports a refresh error after a refresh worked: %v", body)
	}
}

// The loop rereads the database on every tick. The test sends the ticks:
// a tick is taken only once the loop is back waiting, which is after the
// previous refresh stored its copy.
func TestCatalogueRefreshLoopReloadsOnEveryTick(t *testing.T) {
	src := newFakeSource()
	s := newServer(Config{Instance: "ticking"}, testLogger(t), src)
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.refreshLoop(ctx, ticks)
	}()
	for i, n := range []int{1, 2, 3} {
		ticks <- time.Time{}
		if i == 1 {
			src.replies <- sourceReply{err: errors.New("database went away")}
			continue
		}
		src.replies <- sourceReply{talks: Catalogue()[:n]}
	}
	ticks <- time.Time{} // the third refresh has finished
	if c := s.catalogue.Load(); c == nil || len(c.talks) != 3 {
		t.Errorf("after three ticks the copy is %+v, want the third load's 3 talks", c)
	}
	cancel()
	<-done
}

// The in-memory search means what the database search meant.
func TestCatalogueCopySearchMatchesEveryTalkItShould(t *testing.T) {
	c := newCatalogueCopy(Catalogue(), time.Time{})
	for _, q := range []string{"consul", "CONSUL", "service-discovery", Catalogue()[41].Speaker, "", "no such talk", "3 a.m.", "c++ ("} {
		n, results := c.search(q, defaultLimit)
		if int(n) != matches(q) || len(results) != min(matches(q), defaultLimit) {
			t.Errorf("%q: %d matches, %d results; want %d", q, n, len(results), matches(q))
		}
		for i := 1; i < len(results); i++ {
			if results[i-1].Year < results[i].Year {
				t.Errorf("%q: results not newest first at %d", q, i)
			}
		}
	}
}
