package registrator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/hashicorp/consul/api"

	"github.com/topo-dev/topo/internal/consultest"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/syncbuf"
	"github.com/topo-dev/topo/internal/testenv"
)

// harness is one test's engine share, Consul agent and test image.
type harness struct {
	env    *dockertest.Env
	agent  *consultest.Agent
	consul *api.Client
	image  string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	if _, err := consultest.Binary(); err != nil {
		testenv.Missing(t, "%v", err) // before touching the engine
	}
	env := dockertest.New(t)
	agent := consultest.Start(t)
	return &harness{env: env, agent: agent, consul: agent.Client(), image: dockertest.TestServerImage(t)}
}

// config limits the registrator to this test's containers, so that other
// tests sharing the engine cannot disturb it, and turns the periodic resync
// off, so that what a test sees is the work of the events.
func (h *harness) config() Config {
	return Config{Label: dockertest.LabelKey + "=" + h.env.Prefix, ResyncInterval: -1}
}

// start runs a registrator until the returned stop is called (or the test
// ends) and fails the test if Run returns an error.
func (h *harness) start(t *testing.T, cfg Config, engine Engine) (stop func()) {
	t.Helper()
	if engine == nil {
		engine = h.env.Client
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, engine, h.consul.Agent(), testLogger(t)) }()
	var stopped atomic.Bool
	stop = func() {
		if stopped.Swap(true) {
			return
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(testenv.Patience(10 * time.Second)):
			t.Errorf("Run did not return within 10s of cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// service returns the agent's entry with this ID.
func (h *harness) service(t *testing.T, id string) (*api.AgentService, bool) {
	t.Helper()
	svcs, err := h.consul.Agent().Services()
	if err != nil {
		t.Fatalf("list agent services: %v", err)
	}
	s, ok := svcs[id]
	return s, ok
}

func (h *harness) waitRegistered(t *testing.T, id string, within time.Duration) *api.AgentService {
	t.Helper()
	var got *api.AgentService
	dockertest.Eventually(t, within, func() (bool, string) {
		s, ok := h.service(t, id)
		got = s
		return ok, id + " not registered"
	})
	return got
}

func (h *harness) waitGone(t *testing.T, id string, within time.Duration) {
	t.Helper()
	dockertest.Eventually(t, within, func() (bool, string) {
		_, ok := h.service(t, id)
		return !ok, id + " still registered"
	})
}

// watchGone polls for the entry's removal in the background and returns a
// function that waits for it and says when it was first seen gone.
func (h *harness) watchGone(t *testing.T, id string) func() time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	seen := make(chan time.Time, 1)
	go func() {
		defer close(seen)
		for ctx.Err() == nil {
			if _, _, err := h.consul.Agent().Service(id, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
				var se api.StatusError
				if errors.As(err, &se) && se.Code == 404 {
					seen <- time.Now()
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return func() time.Time {
		t.Helper()
		defer cancel()
		at, ok := <-seen
		if !ok {
			t.Fatalf("%s still registered after 10s", id)
		}
		return at
	}
}

// ip is the container's address on the named network.
func (h *harness) ip(t *testing.T, id, network string) string {
	t.Helper()
	c, err := h.env.Client.ContainerInspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	ep, ok := c.NetworkSettings.Networks[network]
	if !ok || ep.IPAddress == "" {
		t.Fatalf("container %s has no IP on %s: %+v", id, network, c.NetworkSettings.Networks)
	}
	return ep.IPAddress
}

// eventTime is when the engine recorded action for the container, at or
// after since: the moment the registrator could first know of it.
func (h *harness) eventTime(t *testing.T, id string, action events.Action, since time.Time) time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, errs := h.env.Client.Events(ctx, events.ListOptions{
		Since:   since.Add(-time.Second).Format(time.RFC3339Nano),
		Until:   time.Now().Add(time.Second).Format(time.RFC3339Nano),
		Filters: filters.NewArgs(filters.Arg("container", id), filters.Arg("event", string(action))),
	})
	for {
		select {
		case m := <-msgs:
			return time.Unix(0, m.TimeNano)
		case err := <-errs:
			t.Fatalf("no %s event for %.12s: %v", action, id, err)
		}
	}
}

// startContainer starts a created container and returns when the start
// call returned.
func (h *harness) startContainer(t *testing.T, id string) time.Time {
	t.Helper()
	if err := h.env.Client.ContainerStart(context.Background(), id, container.StartOptions{}); err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	return time.Now()
}

func TestRegistersContainerWithServiceNameAndIgnoresOthers(t *testing.T) {
	h := newHarness(t)
	front := h.env.Name("front")
	h.env.CreateNetwork(t, "front", nil)
	h.start(t, h.config(), nil)

	ignored := h.env.Run(t, dockertest.ContainerSpec{Suffix: "plain", Image: h.image, Networks: []string{front}, Start: true})
	id := h.env.Run(t, dockertest.ContainerSpec{
		Suffix: "web", Image: h.image, Networks: []string{front},
		Env: []string{"SERVICE_NAME=web", "SERVICE_PORT=8080", "SERVICE_TAGS=blue, v1,"},
	})
	issued := time.Now()
	returned := h.startContainer(t, id)
	svc := h.waitRegistered(t, h.env.Name("web")+":8080", 10*time.Second)
	seen := time.Now()
	t.Logf("MEASURE start -> registered: %v after the start event (%v after the start call was issued, %v after it returned)",
		seen.Sub(h.eventTime(t, id, events.ActionStart, issued)).Round(time.Millisecond),
		seen.Sub(issued).Round(time.Millisecond), seen.Sub(returned).Round(time.Millisecond))

	if want := h.ip(t, id, front); svc.Address != want || svc.Port != 8080 || svc.Service != "web" {
		t.Errorf("registered %s at %s:%d, want web at %s:8080", svc.Service, svc.Address, svc.Port, want)
	}
	if !slices.Equal(svc.Tags, []string{"blue", "v1"}) {
		t.Errorf("tags = %q, want [blue v1]", svc.Tags)
	}
	info, err := h.env.Client.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := map[string]string{
		"registrator": "topo", "container_id": id,
		"container_name": h.env.Name("web"), "registrator_host": info.Name,
	}
	for k, v := range wantMeta {
		if svc.Meta[k] != v {
			t.Errorf("meta %s = %q, want %q", k, svc.Meta[k], v)
		}
	}

	// Events are handled in order, so once a container started after the
	// plain one is registered, the plain one has been seen and ignored.
	marker := h.env.Run(t, dockertest.ContainerSpec{
		Suffix: "marker", Image: h.image, Networks: []string{front},
		Labels: map[string]string{"SERVICE_NAME": "marker"}, // a label works as well as the environment
	})
	h.startContainer(t, marker)
	h.waitRegistered(t, h.env.Name("marker")+":0", 10*time.Second)
	svcs, err := h.consul.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	for sid, s := range svcs {
		if s.Meta["container_id"] == ignored {
			t.Errorf("container without SERVICE_NAME registered as %s", sid)
		}
	}
}

func TestNetworkFlagPicksThatNetworksIP(t *testing.T) {
	h := newHarness(t)
	a, b := h.env.Name("a"), h.env.Name("b")
	h.env.CreateNetwork(t, "a", nil)
	h.env.CreateNetwork(t, "b", nil)
	cfg := h.config()
	cfg.Network = b
	h.start(t, cfg, nil)

	// Created on a, connected to b before start: the engine refuses two
	// networks at create.
	id := h.env.Run(t, dockertest.ContainerSpec{
		Suffix: "two", Image: h.image, Networks: []string{a, b}, Start: true,
		Env: []string{"SERVICE_NAME=two", "SERVICE_PORT=8080"},
	})
	svc := h.waitRegistered(t, h.env.Name("two")+":8080", 10*time.Second)
	if want := h.ip(t, id, b); svc.Address != want {
		t.Errorf("registered at %s, want %s (its IP on %s; on %s it is %s)", svc.Address, want, b, a, h.ip(t, id, a))
	}
}

// A container started before it joins the named network is registered
// when it joins: that is what a network connect event is for.
func TestRegistersWhenContainerJoinsTheNamedNetwork(t *testing.T) {
	h := newHarness(t)
	a, b := h.env.Name("a"), h.env.Name("b")
	h.env.CreateNetwork(t, "a", nil)
	h.env.CreateNetwork(t, "b", nil)
	cfg := h.config()
	cfg.Network = b
	h.start(t, cfg, nil)

	id := h.env.Run(t, dockertest.ContainerSpec{
		Suffix: "late", Image: h.image, Networks: []string{a}, Start: true,
		Env: []string{"SERVICE_NAME=late", "SERVICE_PORT=8080"},
	})
	if err := h.env.Client.NetworkConnect(context.Background(), b, id, nil); err != nil {
		t.Fatal(err)
	}
	svc := h.waitRegistered(t, h.env.Name("late")+":8080", 10*time.Second)
	if want := h.ip(t, id, b); svc.Address != want {
		t.Errorf("registered at %s, want %s", svc.Address, want)
	}
}

func TestDeregistersOnKillAndStop(t *testing.T) {
	h := newHarness(t)
	front := h.env.Name("front")
	h.env.CreateNetwork(t, "front", nil)
	h.start(t, h.config(), nil)

	for _, how := range []string{"kill", "stop"} {
		t.Run(how, func(t *testing.T) {
			id := h.env.Run(t, dockertest.ContainerSpec{
				Suffix: how, Image: h.image, Networks: []string{front}, Start: true,
				Env: []string{"SERVICE_NAME=web", "SERVICE_PORT=8080"},
			})
			sid := h.env.Name(how) + ":8080"
			h.waitRegistered(t, sid, 10*time.Second)
			// Polled concurrently with the call, which returns only after the
			// container is dead: the entry may be gone before that.
			goneAt := h.watchGone(t, sid)
			issued := time.Now()
			var err error
			if how == "kill" {
				err = h.env.Client.ContainerKill(context.Background(), id, "SIGKILL")
			} else {
				err = h.env.Client.ContainerStop(context.Background(), id, container.StopOptions{})
			}
			if err != nil {
				t.Fatal(err)
			}
			returned := time.Now()
			gone := goneAt()
			t.Logf("MEASURE %s -> deregistered: %v after the kill event (%v after issuing the %s call, which took %v)",
				how, gone.Sub(h.eventTime(t, id, events.ActionKill, issued)).Round(time.Millisecond),
				gone.Sub(issued).Round(time.Millisecond), how, returned.Sub(issued).Round(time.Millisecond))

			// And back on start.
			h.startContainer(t, id)
			h.waitRegistered(t, sid, 10*time.Second)
		})
	}
}

// A paused container stays registered: Consul's check, not the registrator,
// tells the audience it stopped answering.
func TestPausedContainerStaysRegistered(t *testing.T) {
	h := newHarness(t)
	front := h.env.Name("front")
	h.env.CreateNetwork(t, "front", nil)
	h.start(t, h.config(), nil)

	id := h.env.Run(t, dockertest.ContainerSpec{
		Suffix: "paused", Image: h.image, Networks: []string{front}, Start: true,
		Env: []string{"SERVICE_NAME=web", "SERVICE_PORT=8080"},
	})
	sid := h.env.Name("paused") + ":8080"
	h.waitRegistered(t, sid, 10*time.Second)
	if err := h.env.Client.ContainerPause(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.env.Client.ContainerUnpause(context.Background(), id) })
	// Once a container started after the pause is registered, the pause
	// has been handled (events are handled in order).
	h.env.Run(t, dockertest.ContainerSpec{
		Suffix: "marker", Image: h.image, Networks: []string{front}, Start: true,
		Env: []string{"SERVICE_NAME=marker"},
	})
	h.waitRegistered(t, h.env.Name("marker")+":0", 10*time.Second)
	if _, ok := h.service(t, sid); !ok {
		t.Fatal("paused container was deregistered")
	}
}

func TestRestartCleansEntriesOfContainersRemovedMeanwhile(t *testing.T) {
	h := newHarness(t)
	front := h.env.Name("front")
	h.env.CreateNetwork(t, "front", nil)
	stop := h.start(t, h.config(), nil)

	gone := h.env.Run(t, dockertest.ContainerSpec{
		Suffix: "gone", Image: h.image, Networks: []string{front}, Start: true,
		Env: []string{"SERVICE_NAME=web", "SERVICE_PORT=8080"},
	})
	h.env.Run(t, dockertest.ContainerSpec{
		Suffix: "stays", Image: h.image, Networks: []string{front}, Start: true,
		Env: []string{"SERVICE_NAME=web", "SERVICE_PORT=8080"},
	})
	h.waitRegistered(t, h.env.Name("gone")+":8080", 10*time.Second)
	h.waitRegistered(t, h.env.Name("stays")+":8080", 10*time.Second)
	stop()

	// Behind the registrator's back: one container removed, one started,
	// and entries it does not own, which it must leave alone.
	if err := h.env.Client.ContainerRemove(context.Background(), gone, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	h.env.Run(t, dockertest.ContainerSpec{
		Suffix: "new", Image: h.image, Networks: []string{front}, Start: true,
		Env: []string{"SERVICE_NAME=web", "SERVICE_PORT=8080"},
	})
	for _, reg := range []*api.AgentServiceRegistration{
		{ID: "foreign", Name: "web", Address: "10.9.9.9", Port: 80},
		{ID: "other-host:8080", Name: "web", Address: "10.9.9.8", Port: 8080, Meta: map[string]string{
			"registrator": "topo", "registrator_host": "some-other-engine", "container_id": "0123456789ab",
		}},
	} {
		if err := h.consul.Agent().ServiceRegister(reg); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := h.service(t, h.env.Name("gone")+":8080"); !ok {
		t.Fatal("entry vanished while the registrator was stopped: the test proves nothing")
	}

	began := time.Now()
	h.start(t, h.config(), nil)
	h.waitGone(t, h.env.Name("gone")+":8080", 10*time.Second)
	t.Logf("MEASURE restart -> stale entry removed: %v", time.Since(began).Round(time.Millisecond))
	h.waitRegistered(t, h.env.Name("new")+":8080", 10*time.Second)
	for _, id := range []string{h.env.Name("stays") + ":8080", "foreign", "other-host:8080"} {
		if _, ok := h.service(t, id); !ok {
			t.Errorf("resync removed %s, which it should have kept", id)
		}
	}
}

func TestHTTPCheckGoesPassing(t *testing.T) {
	h := newHarness(t)
	front := h.env.Name("front")
	h.env.CreateNetwork(t, "front", nil)
	h.start(t, h.config(), nil)

	h.env.Run(t, dockertest.ContainerSpec{
		Suffix: "checked", Image: h.image, Networks: []string{front}, Start: true,
		Env: []string{"SERVICE_NAME=web", "SERVICE_PORT=8080", "SERVICE_CHECK_HTTP=/health", "SERVICE_CHECK_INTERVAL=1s"},
	})
	sid := h.env.Name("checked") + ":8080"
	svc := h.waitRegistered(t, sid, 10*time.Second)
	began := time.Now()
	var last string
	dockertest.Eventually(t, 15*time.Second, func() (bool, string) {
		checks, err := h.consul.Agent().ChecksWithFilter(fmt.Sprintf("ServiceID == %q", sid))
		if err != nil {
			return false, err.Error()
		}
		for _, c := range checks {
			last = c.Status + ": " + c.Output
			if c.Status == api.HealthPassing {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d checks, last %q", len(checks), last)
	})
	t.Logf("MEASURE registered -> check passing: %v (check http://%s:%d/health)", time.Since(began).Round(time.Millisecond), svc.Address, svc.Port)
}

// flakyEngine hears nothing on its first event stream and breaks it when
// told, as a daemon restart or a dropped socket would.
type flakyEngine struct {
	Engine
	streams atomic.Int32
	brk     chan struct{}
}

func (f *flakyEngine) Events(ctx context.Context, opts events.ListOptions) (<-chan events.Message, <-chan error) {
	if f.streams.Add(1) > 1 {
		return f.Engine.Events(ctx, opts)
	}
	errs := make(chan error, 1)
	go func() {
		select {
		case <-f.brk:
			errs <- errors.New("stream broken by the test")
		case <-ctx.Done():
			errs <- ctx.Err()
		}
	}()
	return make(chan events.Message), errs
}

// What happened while the event stream was down is found by the resync
// after reconnecting, not by replaying events.
func TestReconnectResyncsWhatTheStreamMissed(t *testing.T) {
	h := newHarness(t)
	front := h.env.Name("front")
	h.env.CreateNetwork(t, "front", nil)
	before := h.env.Run(t, dockertest.ContainerSpec{
		Suffix: "before", Image: h.image, Networks: []string{front}, Start: true,
		Env: []string{"SERVICE_NAME=web", "SERVICE_PORT=8080"},
	})
	engine := &flakyEngine{Engine: h.env.Client, brk: make(chan struct{})}
	h.start(t, h.config(), engine)
	h.waitRegistered(t, h.env.Name("before")+":8080", 10*time.Second) // the first resync is done

	h.env.Run(t, dockertest.ContainerSpec{
		Suffix: "missed", Image: h.image, Networks: []string{front}, Start: true,
		Env: []string{"SERVICE_NAME=web", "SERVICE_PORT=8080"},
	})
	if err := h.env.Client.ContainerKill(context.Background(), before, "SIGKILL"); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.service(t, h.env.Name("missed")+":8080"); ok {
		t.Fatal("registered while the stream was deaf: the test proves nothing")
	}
	close(engine.brk)
	h.waitRegistered(t, h.env.Name("missed")+":8080", 10*time.Second)
	h.waitGone(t, h.env.Name("before")+":8080", 10*time.Second)
	if n := engine.streams.Load(); n < 2 {
		t.Errorf("%d event streams opened, want a reconnect", n)
	}
}

// Entries lost by Consul (an agent restarted with an empty state, an
// operator's deregister) come back with the periodic resync, without any
// container event; a restart in between must not stop the registrator.
func TestPeriodicResyncRestoresLostEntries(t *testing.T) {
	h := newHarness(t)
	front := h.env.Name("front")
	h.env.CreateNetwork(t, "front", nil)
	cfg := h.config()
	cfg.ResyncInterval = 500 * time.Millisecond
	h.start(t, cfg, nil)

	h.env.Run(t, dockertest.ContainerSpec{
		Suffix: "survivor", Image: h.image, Networks: []string{front}, Start: true,
		Env: []string{"SERVICE_NAME=web", "SERVICE_PORT=8080"},
	})
	sid := h.env.Name("survivor") + ":8080"
	h.waitRegistered(t, sid, 10*time.Second)

	// The restarted agent is empty, but the registrator may already have
	// put the entry back after reconnecting; the deregister then makes
	// sure there is a loss for the periodic resync to repair.
	h.agent.Restart()
	h.consul = h.agent.Client()
	var se api.StatusError
	if err := h.consul.Agent().ServiceDeregister(sid); err != nil && !(errors.As(err, &se) && se.Code == 404) {
		t.Fatal(err)
	}
	lost := time.Now()
	h.waitRegistered(t, sid, 10*time.Second)
	t.Logf("MEASURE entry lost -> registered again: %v (resync every %v)", time.Since(lost).Round(time.Millisecond), cfg.ResyncInterval)
}

// countingEngine counts inspects per container.
type countingEngine struct {
	Engine
	mu       sync.Mutex
	inspects map[string]int
}

func (c *countingEngine) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	c.mu.Lock()
	c.inspects[id]++
	c.mu.Unlock()
	return c.Engine.ContainerInspect(ctx, id)
}

func (c *countingEngine) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inspects[id]
}

// Regression: every network event of every container on the engine was
// followed by an inspect, and an inspect of a container being started
// waits for the start to finish (the engine holds the container's lock),
// so on a busy engine a kill queued behind them was handled seconds late.
// A container is now inspected once, at its start, unless it is a service.
func TestNetworkEventsOfNonServicesCauseNoInspect(t *testing.T) {
	h := newHarness(t)
	a, b := h.env.Name("a"), h.env.Name("b")
	h.env.CreateNetwork(t, "a", nil)
	h.env.CreateNetwork(t, "b", nil)
	engine := &countingEngine{Engine: h.env.Client, inspects: map[string]int{}}
	h.start(t, h.config(), engine)

	plain := h.env.Run(t, dockertest.ContainerSpec{Suffix: "plain", Image: h.image, Networks: []string{a, b}, Start: true})
	h.env.Run(t, dockertest.ContainerSpec{Suffix: "m1", Image: h.image, Networks: []string{a}, Start: true, Env: []string{"SERVICE_NAME=m"}})
	h.waitRegistered(t, h.env.Name("m1")+":0", 10*time.Second)
	if err := h.env.Client.NetworkDisconnect(context.Background(), b, plain, false); err != nil {
		t.Fatal(err)
	}
	if err := h.env.Client.NetworkConnect(context.Background(), b, plain, nil); err != nil {
		t.Fatal(err)
	}
	// Events are handled in order: once m2 is registered, the plain
	// container's network events have been handled.
	h.env.Run(t, dockertest.ContainerSpec{Suffix: "m2", Image: h.image, Networks: []string{a}, Start: true, Env: []string{"SERVICE_NAME=m"}})
	h.waitRegistered(t, h.env.Name("m2")+":0", 10*time.Second)
	if n := engine.count(plain); n != 1 {
		t.Errorf("the plain container was inspected %d times, want once (at its start)", n)
	}
}

// Without a token, an ACL-protected agent refuses everything: the
// registrator must say so in words a person can act on, and keep retrying
// rather than exit.
func TestMissingTokenIsReportedAsPermissionDenied(t *testing.T) {
	if _, err := consultest.Binary(); err != nil {
		testenv.Missing(t, "%v", err)
	}
	env := dockertest.New(t)
	agent := consultest.Start(t, consultest.WithACL("a-management-token"))
	cc := api.DefaultConfig()
	cc.Address, cc.Token = agent.Addr, ""
	anonymous, err := api.NewClient(cc)
	if err != nil {
		t.Fatal(err)
	}
	env.CreateNetwork(t, "front", nil)
	env.Run(t, dockertest.ContainerSpec{
		Suffix: "web", Image: dockertest.TestServerImage(t), Networks: []string{env.Name("front")}, Start: true,
		Env: []string{"SERVICE_NAME=web", "SERVICE_PORT=8080"},
	})
	var logs syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Label: dockertest.LabelKey + "=" + env.Prefix}, env.Client, anonymous.Agent(), slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	dockertest.Eventually(t, 10*time.Second, func() (bool, string) {
		return strings.Contains(logs.String(), "permission denied: set CONSUL_HTTP_TOKEN"), "log so far:\n" + logs.String()
	})
	select {
	case err := <-done:
		t.Fatalf("Run gave up (%v): it must keep retrying", err)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
