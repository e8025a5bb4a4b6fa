package registry

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/topo-dev/topo/internal/consultest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
)

// settle is how soon a change in Consul must reach a snapshot.
// settle bounds how long a test waits for a registry change to reach the
// snapshot: a generous deadline for a condition, not a latency target (make
// bench and the registry benchmarks measure that).
const settle = 20 * time.Second

// follower reads a watch's snapshots in a test.
type follower struct {
	t    *testing.T
	ch   <-chan model.Registry
	last model.Registry
	done <-chan struct{}
}

// watchAgent starts a watch of the agent, cancelled at cleanup.
func watchAgent(t *testing.T, a *consultest.Agent, opts Options) (*follower, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// Named, as --consul would: tests of ACLs send the token.
	ch, err := Watch(ctx, Target{Addr: a.Addr, Source: "test " + a.Addr, Named: true}, opts)
	if err != nil {
		cancel()
		t.Fatalf("Watch: %v", err)
	}
	t.Cleanup(cancel)
	return &follower{t: t, ch: ch}, cancel
}

// waitFor reads snapshots until cond holds, failing after within. It
// returns the snapshot and when it arrived.
func (f *follower) waitFor(within time.Duration, what string, cond func(model.Registry) bool) (model.Registry, time.Time) {
	f.t.Helper()
	if cond(f.last) && !f.last.FetchedAt.IsZero() {
		return f.last, time.Now()
	}
	within = testenv.Patience(within)
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		select {
		case r, ok := <-f.ch:
			if !ok {
				f.t.Fatalf("waiting for %s: watch channel closed", what)
			}
			f.last = r
			if cond(r) {
				return r, time.Now()
			}
		case <-deadline.C:
			f.t.Fatalf("%s: not seen within %v; last snapshot:\n%s", what, within, describe(f.last))
		}
	}
}

func describe(r model.Registry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dc=%s leader=%s index=%d error=%q\n", r.Datacenter, r.Leader, r.LastIndex, r.Error)
	for _, s := range r.Services {
		fmt.Fprintf(&b, "  %s %v %+v\n", s.Name, s.Tags, s.Counts())
		for _, in := range s.Instances {
			fmt.Fprintf(&b, "    %s %s node=%s %v\n", in.ID, in.HostPort(), in.Node, in.Checks)
		}
	}
	return b.String()
}

func instance(r model.Registry, service, id string) (model.Instance, bool) {
	s, ok := r.Service(service)
	if !ok {
		return model.Instance{}, false
	}
	for _, in := range s.Instances {
		if in.ID == id {
			return in, true
		}
	}
	return model.Instance{}, false
}

func register(t *testing.T, c *api.Client, name, id, addr string, port int, status string) {
	t.Helper()
	err := c.Agent().ServiceRegister(&api.AgentServiceRegistration{
		ID: id, Name: name, Address: addr, Port: port, Tags: []string{"v1"},
		Meta:  map[string]string{model.MetaContainerID: "c-" + id},
		Check: &api.AgentServiceCheck{CheckID: "ttl:" + id, Name: "ttl", TTL: "10m", Status: status},
	})
	if err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
}

// watcherGoroutines counts the goroutines running a blocking-query loop of
// this package: one for the catalog plus one per watched service.
func watcherGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "github.com/topo-dev/topo/registry.(*blocking[...]).run(")
}

// ourGoroutines counts every goroutine with a frame of this package other
// than the test's own.
func ourGoroutines() (int, string) {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/topo-dev/topo/registry.") && !strings.Contains(g, "github.com/topo-dev/topo/registry.Test") &&
			!strings.Contains(g, "github.com/topo-dev/topo/registry.Benchmark") && !strings.Contains(g, "github.com/topo-dev/topo/registry.ourGoroutines") {
			n++
			found = append(found, g)
		}
	}
	return n, strings.Join(found, "\n\n")
}

func TestWatchReflectsChanges(t *testing.T) {
	a := consultest.Start(t)
	c := a.Client()
	f, _ := watchAgent(t, a, Options{})

	r, _ := f.waitFor(settle, "the initial snapshot", func(r model.Registry) bool {
		_, ok := r.Service("consul")
		return ok && r.Live() && r.Leader != ""
	})
	if r.Datacenter != "dc1" || r.Source != "test "+a.Addr || r.Addr != a.Addr || r.LastIndex == 0 {
		t.Errorf("header: dc=%q source=%q addr=%q index=%d", r.Datacenter, r.Source, r.Addr, r.LastIndex)
	}
	if n := watcherGoroutines(); n != 2 {
		t.Errorf("watchers for catalog + consul = %d goroutines, want 2", n)
	}

	// A service appearing.
	register(t, c, "web", "web-1", "10.1.0.1", 8080, api.HealthPassing)
	start := time.Now()
	r, at := f.waitFor(settle, "web-1 registered", func(r model.Registry) bool {
		_, ok := instance(r, "web", "web-1")
		return ok
	})
	t.Logf("service appeared after %v", at.Sub(start))
	in, _ := instance(r, "web", "web-1")
	if in.HostPort() != "10.1.0.1:8080" || in.Node != a.Node || in.Meta[model.MetaContainerID] != "c-web-1" ||
		len(in.Tags) != 1 || in.Tags[0] != "v1" || in.Health() != model.CheckPassing {
		t.Errorf("web-1 = %+v", in)
	}
	if s, _ := r.Service("web"); len(s.Tags) != 1 || s.Counts() != (model.HealthCounts{Passing: 1}) {
		t.Errorf("web = tags %v counts %+v", s.Tags, s.Counts())
	}

	// A second instance.
	register(t, c, "web", "web-2", "10.1.0.2", 8080, api.HealthPassing)
	start = time.Now()
	_, at = f.waitFor(settle, "web-2 registered", func(r model.Registry) bool {
		s, _ := r.Service("web")
		return len(s.Instances) == 2
	})
	t.Logf("instance registered after %v", at.Sub(start))

	// A check turning critical, with a multi-line output.
	if err := c.Agent().UpdateTTL("ttl:web-1", "connection refused\nstack trace", api.HealthCritical); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	r, at = f.waitFor(settle, "web-1 critical", func(r model.Registry) bool {
		in, _ := instance(r, "web", "web-1")
		return in.Health() == model.CheckCritical
	})
	t.Logf("check turned critical after %v", at.Sub(start))
	in, _ = instance(r, "web", "web-1")
	var ttl model.Check
	for _, ch := range in.Checks {
		if ch.ID == "ttl:web-1" {
			ttl = ch
		}
	}
	if ttl.Output != "connection refused" || ttl.Node {
		t.Errorf("check = %+v, want first line of output", ttl)
	}
	if s, _ := r.Service("web"); s.Counts() != (model.HealthCounts{Passing: 1, Critical: 1}) {
		t.Errorf("counts = %+v", s.Counts())
	}
	// Node checks come with the instance, first.
	if len(in.Checks) < 2 || !in.Checks[0].Node || in.Checks[0].ID != "serfHealth" {
		t.Errorf("checks = %+v, want serfHealth first", in.Checks)
	}

	// And back to passing, then warning.
	if err := c.Agent().UpdateTTL("ttl:web-1", "slow", api.HealthWarning); err != nil {
		t.Fatal(err)
	}
	f.waitFor(settle, "web-1 warning", func(r model.Registry) bool {
		in, _ := instance(r, "web", "web-1")
		return in.Health() == model.CheckWarning
	})

	// Maintenance mode is shown as such, not as critical.
	if err := c.Agent().EnableServiceMaintenance("web-2", "deploying"); err != nil {
		t.Fatal(err)
	}
	f.waitFor(settle, "web-2 in maintenance", func(r model.Registry) bool {
		in, _ := instance(r, "web", "web-2")
		return in.Health() == model.CheckMaintenance
	})

	// Deregistration of one instance, then of the last one: the service
	// disappears and its watcher ends.
	if err := c.Agent().ServiceDeregister("web-1"); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	_, at = f.waitFor(settle, "web-1 deregistered", func(r model.Registry) bool {
		_, ok := instance(r, "web", "web-1")
		return !ok
	})
	t.Logf("instance deregistered after %v", at.Sub(start))
	if err := c.Agent().ServiceDeregister("web-2"); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	_, at = f.waitFor(settle, "web gone", func(r model.Registry) bool {
		_, ok := r.Service("web")
		return !ok
	})
	t.Logf("service disappeared after %v", at.Sub(start))
	waitGoroutines(t, settle, "the web watcher to end", func() bool { return watcherGoroutines() == 2 })
}

// waitGoroutines polls a goroutine condition until a deadline: goroutines
// end asynchronously and there is no event to wait on.
func waitGoroutines(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			_, stacks := ourGoroutines()
			t.Fatalf("waiting for %s: not within %v; goroutines:\n%s", what, within, stacks)
		}
		<-tick.C
	}
}

func TestWatchEndsWithContext(t *testing.T) {
	a := consultest.Start(t)
	c := a.Client()
	for i := range 3 {
		register(t, c, fmt.Sprintf("svc%d", i), fmt.Sprintf("svc%d-1", i), "10.0.0.1", 80, api.HealthPassing)
	}
	before, _ := ourGoroutines()
	f, cancel := watchAgent(t, a, Options{})
	f.waitFor(settle, "all services", func(r model.Registry) bool { return len(r.Services) == 4 && r.InstanceCount() == 4 })
	if n := watcherGoroutines(); n != 5 {
		t.Errorf("watcher goroutines = %d, want 5 (catalog + 4 services)", n)
	}
	cancel()
	closed := time.NewTimer(settle)
	defer closed.Stop()
	for open := true; open; {
		select {
		case _, open = <-f.ch:
		case <-closed.C:
			t.Fatalf("the channel was not closed within %v of the context's end", settle)
		}
	}
	// The channel closes after every watcher returned: nothing of ours may
	// be left, not even the goroutine that closes idle connections.
	waitGoroutines(t, settle, "the watch's goroutines to end", func() bool {
		n, _ := ourGoroutines()
		return n <= before
	})
}

func TestWatchRecoversAfterRestart(t *testing.T) {
	a := consultest.Start(t)
	c := a.Client()
	register(t, c, "web", "web-1", "10.1.0.1", 8080, api.HealthPassing)
	f, _ := watchAgent(t, a, Options{})
	f.waitFor(settle, "web", func(r model.Registry) bool { _, ok := r.Service("web"); return ok && r.Live() })

	a.Stop()
	stopped := time.Now()
	r, at := f.waitFor(settle, "the error", func(r model.Registry) bool { return r.Error != "" })
	t.Logf("error shown %v after the kill: %s", at.Sub(stopped), r.Error)
	if _, ok := r.Service("web"); !ok {
		t.Error("the last good data should be kept while Consul is down")
	}
	if !strings.Contains(r.Error, "unreachable") || !strings.Contains(r.Error, a.Addr) {
		t.Errorf("error %q should say consul at %s is unreachable", r.Error, a.Addr)
	}
	if r.ErrorSince.IsZero() || r.FetchedAt.After(r.ErrorSince) {
		t.Errorf("error since %v, fetched at %v", r.ErrorSince, r.FetchedAt)
	}

	// Down long enough for the backoff to reach its cap; meanwhile the
	// unchanged error must not produce a stream of snapshots.
	extra := 0
	for window := time.After(2 * time.Second); window != nil; {
		select {
		case r := <-f.ch:
			f.last = r
			extra++
		case <-window:
			window = nil
		}
	}
	if extra > 3 {
		t.Errorf("%d snapshots in 2s while Consul was down: the error should be sent once (and when it changes)", extra)
	}
	a.Restart() // returns once the agent answers with a leader
	answering := time.Now()
	// The agent restores web-1 from its data directory with its TTL check
	// critical: seeing that proves the data is the new agent's.
	r, at = f.waitFor(settle, "live again", func(r model.Registry) bool {
		in, _ := instance(r, "web", "web-1")
		return r.Live() && in.Health() == model.CheckCritical
	})
	// How soon is a benchmark's figure (registry recovery in make bench);
	// here only that it recovers.
	t.Logf("current again %v after Consul answered", at.Sub(answering))
	if r.ErrorSince != (time.Time{}) {
		t.Errorf("error since = %v after recovery", r.ErrorSince)
	}

	// Indexes restarted low: the watch must follow them, not wait for
	// the old index to be reached.
	register(t, c, "api", "api-1", "10.1.0.3", 9000, api.HealthPassing)
	f.waitFor(settle, "api after the restart", func(r model.Registry) bool { _, ok := instance(r, "api", "api-1"); return ok })
}

func TestWatchConsulDownAtStart(t *testing.T) {
	a := consultest.Start(t)
	a.Stop()
	f, _ := watchAgent(t, a, Options{})
	r, _ := f.waitFor(settle, "the error", func(r model.Registry) bool { return r.Error != "" })
	if r.Live() || len(r.Services) != 0 || r.ErrorSince.IsZero() {
		t.Errorf("snapshot = %+v", r)
	}
	a.Restart()
	f.waitFor(settle, "live", func(r model.Registry) bool { _, ok := r.Service("consul"); return ok && r.Live() })
}

func TestWatchPermissionDenied(t *testing.T) {
	a := consultest.Start(t, consultest.WithACL("root-token-for-tests"))
	admin := a.Client()
	register(t, admin, "web", "web-1", "10.1.0.1", 8080, api.HealthPassing)

	for _, tc := range []struct{ name, token string }{
		{"no token: ACLs hide everything", ""},
		{"unknown token: 403", "11111111-2222-3333-4444-555555555555"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CONSUL_HTTP_TOKEN", tc.token)
			f, _ := watchAgent(t, a, Options{})
			r, _ := f.waitFor(settle, "permission denied", func(r model.Registry) bool {
				return strings.Contains(r.Error, "permission denied: set CONSUL_HTTP_TOKEN to a token that can read the catalog")
			})
			t.Logf("error: %s", r.Error)
		})
	}
	t.Run("management token", func(t *testing.T) {
		t.Setenv("CONSUL_HTTP_TOKEN", a.Token)
		f, _ := watchAgent(t, a, Options{})
		f.waitFor(settle, "web", func(r model.Registry) bool { _, ok := instance(r, "web", "web-1"); return ok && r.Live() })
	})
}

func TestWatchCoalescesBursts(t *testing.T) {
	a := consultest.Start(t)
	c := a.Client()
	f, _ := watchAgent(t, a, Options{Coalesce: 200 * time.Millisecond})
	f.waitFor(settle, "consul", func(r model.Registry) bool { _, ok := r.Service("consul"); return ok })
	const n = 20
	for i := range n {
		register(t, c, "burst", fmt.Sprintf("b-%02d", i), "10.2.0.1", 1000+i, api.HealthPassing)
	}
	snapshots := 0
	deadline := time.After(3 * time.Second)
	for {
		select {
		case r := <-f.ch:
			snapshots++
			if s, _ := r.Service("burst"); len(s.Instances) == n {
				t.Logf("%d registrations arrived in %d snapshots", n, snapshots)
				if snapshots > n/2 {
					t.Errorf("%d snapshots for a burst of %d registrations: not coalesced", snapshots, n)
				}
				return
			}
		case <-deadline:
			t.Fatalf("burst not complete after 3s (%d snapshots)", snapshots)
		}
	}
}
