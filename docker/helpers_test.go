package docker_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
)

// connectTest connects an Engine to host ("" for the environment's engine)
// and closes it when the test ends.
func connectTest(t *testing.T, host string) *docker.Engine {
	t.Helper()
	e, err := docker.Connect(host)
	if err != nil {
		t.Fatalf("Connect(%q): %v", host, err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// watcher runs Watch for a test and keeps the topology it builds by
// applying every model.Update, as the UI does.
type watcher struct {
	mu        sync.Mutex
	topo      model.Topology
	updates   []model.Update // every update, in order
	times     []time.Time    // when each was applied
	snapshots int
	lost      []model.Update
	applied   time.Time // when the latest update was applied
	changed   chan struct{}
	// latency holds, for events about objects named with prefix, the
	// time from the engine stamping the event to the model holding it.
	prefix  string
	ours    map[string]bool // IDs of the test's objects seen so far
	latency []time.Duration
}

// startWatch runs e.Watch until the test ends. Events about objects whose
// name starts with prefix are timed.
func startWatch(t *testing.T, e *docker.Engine, prefix string) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan model.Update)
	done := make(chan struct{})
	w := &watcher{topo: model.NewTopology(), changed: make(chan struct{}), prefix: prefix, ours: map[string]bool{}}
	go e.Watch(ctx, out)
	go func() {
		defer close(done)
		for u := range out {
			w.apply(u)
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(testenv.Patience(5 * time.Second)):
			t.Errorf("Watch did not return after its context ended")
		}
	})
	return w
}

func (w *watcher) apply(u model.Update) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case u.Snapshot != nil:
		w.topo = *u.Snapshot
		w.snapshots++
	case u.Event != nil:
		ev := *u.Event
		if w.isOurs(ev) {
			defer func() { w.latency = append(w.latency, time.Since(ev.Time)) }()
		}
		w.topo.Apply(ev)
	case u.Refresh != nil:
		w.topo.Refresh(*u.Refresh)
	default:
		w.lost = append(w.lost, u)
	}
	w.applied = time.Now()
	w.updates = append(w.updates, u)
	w.times = append(w.times, w.applied)
	close(w.changed)
	w.changed = make(chan struct{})
}

func (w *watcher) isOurs(ev model.Event) bool {
	if w.prefix == "" {
		return false
	}
	for _, id := range []string{ev.ActorID, ev.Attributes["container"]} {
		if w.ours[id] {
			return true
		}
	}
	names := []string{ev.Attributes["name"]}
	if ev.Container != nil {
		names = append(names, ev.Container.Name)
	}
	for _, n := range names {
		if strings.HasPrefix(strings.TrimPrefix(n, "/"), w.prefix) {
			w.ours[ev.ActorID] = true
			return true
		}
	}
	return false
}

// waitFor waits until cond holds for the watched topology, failing the test
// after within. It returns when the update that satisfied cond was applied.
func (w *watcher) waitFor(t *testing.T, within time.Duration, what string, cond func(w *watcher) (bool, string)) time.Time {
	t.Helper()
	within = testenv.Patience(within)
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		w.mu.Lock()
		ok, why := cond(w)
		changed, applied := w.changed, w.applied
		w.mu.Unlock()
		if ok {
			return applied
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("%s: not within %v: %s", what, within, why)
		}
	}
}

// container finds a container of the watched topology by name.
func (w *watcher) container(name string) (model.Container, bool) {
	for _, c := range w.topo.Containers {
		if c.Name == name {
			return c, true
		}
	}
	return model.Container{}, false
}

// eventsAfter returns the events delivered after the n-th snapshot.
func (w *watcher) eventsAfter(snapshot int) []model.Event {
	var out []model.Event
	seen := 0
	for _, u := range w.updates {
		if u.Snapshot != nil {
			seen++
		}
		if u.Event != nil && seen >= snapshot {
			out = append(out, *u.Event)
		}
	}
	return out
}

// eventApplied finds the first event matching match and when it was
// applied.
func (w *watcher) eventApplied(match func(model.Event) bool) (model.Event, time.Time, bool) {
	for i, u := range w.updates {
		if u.Event != nil && match(*u.Event) {
			return *u.Event, w.times[i], true
		}
	}
	return model.Event{}, time.Time{}, false
}

// latencies returns the timed events' latencies, sorted.
func (w *watcher) latencies() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := slices.Clone(w.latency)
	slices.Sort(out)
	return out
}

func summarize(d []time.Duration) string {
	if len(d) == 0 {
		return "no samples"
	}
	r := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	return fmt.Sprintf("n=%d median %v p90 %v max %v", len(d), r(d[len(d)/2]), r(d[len(d)*9/10]), r(d[len(d)-1]))
}

// engineSocket is where the test's proxy forwards: the engine the
// environment names, if it is a local socket or TCP address.
func engineSocket(t *testing.T) (network, addr string) {
	t.Helper()
	host := os.Getenv("DOCKER_HOST")
	switch {
	case host == "":
		return "unix", "/var/run/docker.sock"
	case strings.HasPrefix(host, "unix://"):
		return "unix", strings.TrimPrefix(host, "unix://")
	case strings.HasPrefix(host, "tcp://"):
		return "tcp", strings.TrimPrefix(host, "tcp://")
	}
	testenv.Missing(t, "cannot proxy DOCKER_HOST=%s: point DOCKER_HOST at a unix socket or tcp address", host)
	return "", ""
}

// cutProxy is a loopback TCP proxy in front of the engine that a test can
// cut, closing every connection and refusing new ones, to play an engine
// restart without touching the engine.
type cutProxy struct {
	addr           string
	network, upstr string
	mu             sync.Mutex
	ln             net.Listener
	conns          map[net.Conn]struct{}
}

func newCutProxy(t *testing.T) *cutProxy {
	t.Helper()
	network, upstream := engineSocket(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{addr: ln.Addr().String(), network: network, upstr: upstream, ln: ln, conns: map[net.Conn]struct{}{}}
	go p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial(p.network, p.upstr)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.ln != ln { // cut meanwhile
			p.mu.Unlock()
			c.Close()
			up.Close()
			return
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		go pipe(c, up)
		go pipe(up, c)
	}
}

// cut closes the listener and every open connection.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// restore listens again on the same address.
func (p *cutProxy) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy listen again on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go p.serve(ln)
}

// waitServing waits until the test server in container id answers HTTP on
// its first network's address. Stopping it earlier races its signal
// handler: as PID 1 it then exits with status 2 instead of 0.
func waitServing(t *testing.T, env *dockertest.Env, id string) {
	t.Helper()
	c, err := env.Client.ContainerInspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var ip string
	for _, es := range c.NetworkSettings.Networks {
		if es.IPAddress != "" {
			ip = es.IPAddress
			break
		}
	}
	if ip == "" {
		t.Fatalf("container %s has no address", c.Name)
	}
	client := http.Client{Timeout: 200 * time.Millisecond}
	dockertest.Eventually(t, 5*time.Second, func() (bool, string) {
		resp, err := client.Get("http://" + ip + ":8080/")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}
