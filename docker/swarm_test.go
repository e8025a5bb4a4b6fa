package docker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/swarmtest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
)

// countingProxy is an HTTP proxy in front of an engine's TCP API that
// counts the requests through it, so a test can measure what topo costs
// the manager; it can also be cut and restored to play a lost manager.
type countingProxy struct {
	addr     string
	upstream *url.URL
	requests atomic.Int64
	mu       sync.Mutex
	server   *http.Server
	// seen receives the path of every request, without blocking.
	seen chan string
}

func newCountingProxy(t *testing.T, upstream string) *countingProxy {
	t.Helper()
	u, err := url.Parse(strings.Replace(upstream, "tcp://", "http://", 1))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{addr: ln.Addr().String(), upstream: u, seen: make(chan string, 1024)}
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *countingProxy) serve(ln net.Listener) {
	rp := httputil.NewSingleHostReverseProxy(p.upstream)
	// The event stream must reach the client as it comes.
	rp.FlushInterval = -1
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		select {
		case p.seen <- r.Method + " " + r.URL.Path:
		default:
		}
		rp.ServeHTTP(w, r)
	})}
	p.mu.Lock()
	p.server = srv
	p.mu.Unlock()
	go srv.Serve(ln)
}

func (p *countingProxy) host() string { return "tcp://" + p.addr }

// cut closes the listener and every connection, the event stream included.
func (p *countingProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.server != nil {
		p.server.Close()
		p.server = nil
	}
}

func (p *countingProxy) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// drainSeen empties the request log.
func (p *countingProxy) drainSeen() {
	for {
		select {
		case <-p.seen:
		default:
			return
		}
	}
}

// clusterWatcher runs Swarm.Watch for a test and keeps every snapshot
// with the time it arrived.
type clusterWatcher struct {
	mu      sync.Mutex
	last    model.Cluster
	count   int
	at      time.Time
	changed chan struct{}
	err     chan error
}

func startClusterWatch(t *testing.T, sw *docker.Swarm) *clusterWatcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan model.Cluster)
	w := &clusterWatcher{changed: make(chan struct{}), err: make(chan error, 1)}
	go func() { w.err <- sw.Watch(ctx, out) }()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range out {
			w.mu.Lock()
			w.last, w.at = c, time.Now()
			w.count++
			close(w.changed)
			w.changed = make(chan struct{})
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(testenv.Patience(5 * time.Second)):
			t.Errorf("Swarm.Watch did not return after its context ended")
		}
	})
	return w
}

// waitFor waits until cond holds for the latest snapshot and returns it
// with the time it arrived.
func (w *clusterWatcher) waitFor(t *testing.T, within time.Duration, what string, cond func(model.Cluster) (bool, string)) (model.Cluster, time.Time) {
	t.Helper()
	within = testenv.Patience(within)
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		w.mu.Lock()
		c, at, changed, n := w.last, w.at, w.changed, w.count
		w.mu.Unlock()
		why := "no snapshot yet"
		if n > 0 {
			var ok bool
			if ok, why = cond(c); ok {
				return c, at
			}
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("%s: not within %v: %s", what, within, why)
		}
	}
}

// observer polls the manager directly (not through the counting proxy)
// every 100 ms and keeps what it saw, so a test can tell when the engine
// itself reached a state and how long topo took to show it after that.
type observer struct {
	mu    sync.Mutex
	seen  []observation
	pause atomic.Bool
	// polled is closed and replaced after every poll.
	polled chan struct{}
}

type observation struct {
	at time.Time
	c  model.Cluster
}

func startObserver(t *testing.T, host string) *observer {
	t.Helper()
	sw := docker.NewSwarm(connectTest(t, host))
	ctx, cancel := context.WithCancel(context.Background())
	o := &observer{polled: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
			if o.pause.Load() {
				continue
			}
			if c, err := sw.Read(ctx); err == nil {
				o.mu.Lock()
				o.seen = append(o.seen, observation{time.Now(), c})
				close(o.polled)
				o.polled = make(chan struct{})
				o.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return o
}

// first returns when the engine first satisfied cond after from, as
// polled (so up to 100 ms late), or the zero time.
func (o *observer) first(from time.Time, cond func(model.Cluster) (bool, string)) time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, ob := range o.seen {
		if ob.at.After(from) {
			if ok, _ := cond(ob.c); ok {
				return ob.at
			}
		}
	}
	return time.Time{}
}

// behind reports how long after the engine topo showed a state. It waits
// for a poll after seen, since topo may have been quicker than the poll.
func (o *observer) behind(from, seen time.Time, cond func(model.Cluster) (bool, string)) string {
	deadline := time.NewTimer(time.Second)
	defer deadline.Stop()
	for waiting := true; waiting; {
		o.mu.Lock()
		caughtUp := len(o.seen) > 0 && o.seen[len(o.seen)-1].at.After(seen)
		polled := o.polled
		o.mu.Unlock()
		if caughtUp {
			break
		}
		select {
		case <-polled:
		case <-deadline.C:
			waiting = false
		}
	}
	engine := o.first(from, cond)
	if !engine.IsZero() && engine.After(seen) {
		return fmt.Sprintf("engine there after ≈%v, topo before the next 100 ms poll", seen.Sub(from).Round(time.Millisecond))
	}
	if engine.IsZero() {
		o.mu.Lock()
		defer o.mu.Unlock()
		why := "nothing polled"
		if len(o.seen) > 0 {
			_, why = cond(o.seen[len(o.seen)-1].c)
		}
		return fmt.Sprintf("engine time unknown (%d polls; last: %s)", len(o.seen), why)
	}
	return fmt.Sprintf("engine there after %v, topo %v later", engine.Sub(from).Round(time.Millisecond), seen.Sub(engine).Round(time.Millisecond))
}

// serviceState describes a service's tasks per node, for failure messages
// and checks: "worker-1: web.2 running, ...".
func serviceState(c model.Cluster, serviceID string) (running, desired int, perNode map[string]int, desc string) {
	running, desired = c.Replicas(serviceID)
	perNode = map[string]int{}
	var parts []string
	for _, tk := range c.VisibleTasks() {
		if tk.ServiceID != serviceID {
			continue
		}
		n, _ := c.Node(tk.NodeID)
		if tk.DesiredState == model.TaskRunning && tk.State == model.TaskRunning {
			perNode[n.Hostname]++
		}
		parts = append(parts, fmt.Sprintf("%s@%s %s/%s", c.TaskName(tk), n.Hostname, tk.DesiredState, tk.State))
	}
	sort.Strings(parts)
	return running, desired, perNode, fmt.Sprintf("%d/%d running; %s", running, desired, strings.Join(parts, ", "))
}

// settled says the service runs exactly n tasks and nothing is moving.
func settled(serviceID string, n int) func(model.Cluster) (bool, string) {
	return func(c model.Cluster) (bool, string) {
		running, desired, _, desc := serviceState(c, serviceID)
		return running == n && desired == n && !c.Converging(), desc
	}
}

// TestSwarmMultiNode drives a real three-node swarm (engines in node
// containers) through topo's swarm adapter: the cluster read and watched,
// a six-replica service spread over the nodes, scale, restart, drain, a
// lost node, a worker refused, a lost manager, and the API requests an
// idle watch costs.
func TestSwarmMultiNode(t *testing.T) {
	img := dockertest.TestServerImage(t)
	cl := swarmtest.Start(t, swarmtest.Options{Images: []string{img}})
	t.Logf("swarm up in %v (engines %v, formed %v, images %v)", cl.Timings["swarm up"].Round(time.Millisecond),
		cl.Timings["engines up"].Round(time.Millisecond), cl.Timings["swarm formed"].Round(time.Millisecond), cl.Timings["images loaded"].Round(time.Millisecond))
	mgr, w1, w2 := cl.Nodes[0], cl.Nodes[1], cl.Nodes[2]
	front := cl.CreateOverlay(t, cl.Env.Name("front"))

	proxy := newCountingProxy(t, mgr.Host)
	engine := connectTest(t, proxy.host())
	sw := docker.NewSwarm(engine)
	ctx := context.Background()

	start := time.Now()
	first, err := sw.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	t.Logf("first read of the cluster: %v", time.Since(start).Round(time.Millisecond))
	if first.ID != cl.ID || len(first.Nodes) != 3 {
		t.Fatalf("Read: cluster %s with %d nodes, want %s with 3", first.ID, len(first.Nodes), cl.ID)
	}
	if n, _ := first.Node(first.LocalNodeID); n.Hostname != mgr.Name || !n.Leader || n.Role != model.RoleManager {
		t.Errorf("local node %+v, want the leading manager %s", n, mgr.Name)
	}
	if !hasOverlay(first, front) {
		t.Errorf("Read: overlay %s missing from %+v", front, first.Networks)
	}

	obs := startObserver(t, mgr.Host)
	w := startClusterWatch(t, sw)
	w.waitFor(t, 5*time.Second, "first snapshot", func(c model.Cluster) (bool, string) { return len(c.Nodes) == 3, "nodes" })

	spec := cl.ServiceSpec(cl.Env.Name("web"), img, 6, front)
	// Replace every task at once on restart: the test waits for it.
	spec.UpdateConfig = &swarm.UpdateConfig{Parallelism: 0, Monitor: 200 * time.Millisecond}
	created := time.Now()
	webID := cl.CreateService(t, spec)

	t.Run("six replicas spread over the three nodes, under each node in the overlay lane", func(t *testing.T) {
		c, at := w.waitFor(t, 30*time.Second, "6/6 running", settled(webID, 6))
		t.Logf("service created → 6/6 seen: %v", at.Sub(created).Round(time.Millisecond))
		_, _, perNode, desc := serviceState(c, webID)
		for _, n := range cl.Nodes {
			if perNode[n.Name] == 0 {
				t.Errorf("no task on %s: %s", n.Name, desc)
			}
		}
		var lane *model.ClusterLane
		for _, l := range c.Lanes() {
			if l.Network.ID == front {
				lane = &l
			}
		}
		if lane == nil {
			t.Fatalf("no lane for the overlay %s", front)
		}
		if lane.Count() != 6 {
			t.Errorf("overlay lane holds %d tasks, want 6", lane.Count())
		}
		for _, g := range lane.Groups {
			n, _ := c.Node(g.NodeID)
			if len(g.Tasks) == 0 {
				t.Errorf("node %s has no task in the overlay lane", n.Hostname)
			}
			for _, tk := range g.Tasks {
				if tn, ok := tk.Network(front); !ok || tn.IP() == "" {
					t.Errorf("task %s on %s has no overlay address: %+v", c.TaskName(tk), n.Hostname, tk.Networks)
				}
			}
		}
		svc, _ := c.Service(webID)
		if svc.EndpointMode != model.EndpointDNSRR || len(svc.VirtualIPs) != 0 {
			t.Errorf("service endpoint %q with VIPs %v, want dnsrr and none", svc.EndpointMode, svc.VirtualIPs)
		}
	})

	t.Run("a task on the manager reaches a task on each worker over the overlay (topo's probe)", func(t *testing.T) {
		c, _ := w.waitFor(t, 30*time.Second, "6/6 running", settled(webID, 6))
		var from model.Task
		var addrs []string
		onNode := map[string]string{} // address → node
		for _, tk := range c.VisibleTasks() {
			if tk.ServiceID != webID || tk.State != model.TaskRunning {
				continue
			}
			tn, ok := tk.Network(front)
			if !ok || tn.IP() == "" {
				continue
			}
			node, _ := c.Node(tk.NodeID)
			switch node.Hostname {
			case mgr.Name:
				if from.ID == "" && tk.ContainerID != "" {
					from = tk
				}
			default:
				a := net.JoinHostPort(tn.IP(), "8080")
				addrs = append(addrs, a)
				onNode[a] = node.Hostname
			}
		}
		if from.ID == "" || len(addrs) == 0 {
			t.Fatalf("want a running task on the manager and tasks on workers: from %+v, targets %v", from, addrs)
		}
		prober := docker.NewProber(engine, docker.ProberOptions{Binary: probeAgentBinary(t), Labels: cl.Env.Labels()})
		start := time.Now()
		results, err := prober.RunAgent(ctx, from.ContainerID, addrs)
		if err != nil {
			t.Fatalf("probe from %s: %v", c.TaskName(from), err)
		}
		t.Logf("probe from %s on %s to %d tasks on the workers: %v", c.TaskName(from), mgr.Name, len(addrs), time.Since(start).Round(time.Millisecond))
		nodes := map[string]bool{}
		for _, r := range results {
			if r.Outcome != model.OutcomeConnected {
				t.Errorf("%s (on node %s) from the manager's task: %s %s, want connected over the overlay", r.Address, onNode[r.Address], r.Outcome, r.Error)
			}
			nodes[onNode[r.Address]] = true
		}
		if len(results) != len(addrs) || !nodes[w1.Name] || !nodes[w2.Name] {
			t.Errorf("%d results for %d addresses, reaching nodes %v: want every worker", len(results), len(addrs), nodes)
		}
	})

	t.Run("idle watch makes no API requests", func(t *testing.T) {
		w.waitFor(t, 10*time.Second, "nothing converging", func(c model.Cluster) (bool, string) { return !c.Converging(), "converging" })
		// The reconcile timer armed by the last converging snapshot may
		// still fire once; after that, silence.
		quiet := time.NewTimer(2 * time.Second)
		proxy.drainSeen()
		for waiting := true; waiting; {
			select {
			case <-proxy.seen:
				quiet.Reset(2 * time.Second)
			case <-quiet.C:
				waiting = false
			}
		}
		obs.pause.Store(true)
		defer obs.pause.Store(false)
		before := proxy.requests.Load()
		const window = 3 * time.Second
		deadline := time.NewTimer(window)
		defer deadline.Stop()
		select {
		case req := <-proxy.seen:
			t.Errorf("idle watch made a request: %s", req)
		case <-deadline.C:
		}
		n := proxy.requests.Load() - before
		t.Logf("idle API requests: %d in %v (%.2f/s)", n, window, float64(n)/window.Seconds())
	})

	t.Run("scale 6 to 3 and back up to 5", func(t *testing.T) {
		start := time.Now()
		if err := sw.Scale(ctx, cl.Env.Name("web"), 3); err != nil {
			t.Fatalf("Scale: %v", err)
		}
		c, at := w.waitFor(t, 20*time.Second, "3/3 after scale down", settled(webID, 3))
		t.Logf("scale 6→3 → settled 3/3 seen after %v: %s", at.Sub(start).Round(time.Millisecond), obs.behind(start, at, settled(webID, 3)))
		if n := len(c.VisibleTasks()); n != 3 {
			t.Errorf("%d visible tasks after scale down, want 3", n)
		}

		worst, added, whole := scaleAndTimeNewTasks(t, sw, w, c, webID, 5, 20*time.Second)
		t.Logf("scale 3→5: new tasks out of topo's swarm watch (its update channel, not yet the screen) at most %v after the swarm says they run (%d new); whole scale %v",
			worst.Round(time.Millisecond), added, whole.Round(time.Millisecond))
	})

	t.Run("scale refuses what cannot be done, saying why", func(t *testing.T) {
		err := sw.Scale(ctx, "no-such-service", 2)
		if err == nil || !strings.Contains(err.Error(), "no such service") || !strings.Contains(err.Error(), "docker service ls") {
			t.Errorf("Scale(unknown) = %v", err)
		}
		global := cl.ServiceSpec(cl.Env.Name("agent"), img, 0, front)
		global.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
		id := cl.CreateService(t, global)
		err = sw.Scale(ctx, id, 2)
		if err == nil || !strings.Contains(err.Error(), "global service") || !strings.Contains(err.Error(), "drain or activate") {
			t.Errorf("Scale(global) = %v", err)
		}
		if err := mgr.Client.ServiceRemove(ctx, id); err != nil {
			t.Fatal(err)
		}
		err = sw.SetAvailability(ctx, "no-such-node", model.AvailabilityDrain)
		if err == nil || !strings.Contains(err.Error(), "no such node") || !strings.Contains(err.Error(), "docker node ls") {
			t.Errorf("SetAvailability(unknown) = %v", err)
		}
	})

	t.Run("a worker engine gives the worker error", func(t *testing.T) {
		we := connectTest(t, w1.Host)
		_, err := docker.NewSwarm(we).Read(ctx)
		if !errors.Is(err, docker.ErrSwarmWorker) {
			t.Fatalf("Read on a worker: %v, want ErrSwarmWorker", err)
		}
		want := "this engine is a swarm worker: point topo at a manager (docker node ls on a manager)"
		if err.Error() != want {
			t.Errorf("worker error %q, want %q", err, want)
		}
		out := make(chan model.Cluster)
		if err := docker.NewSwarm(we).Watch(ctx, out); !errors.Is(err, docker.ErrSwarmWorker) {
			t.Errorf("Watch on a worker: %v, want ErrSwarmWorker", err)
		}
		if _, ok := <-out; ok {
			t.Error("Watch on a worker left its channel open")
		}
	})

	t.Run("a task's container killed on the manager: the watch sees the task fail", func(t *testing.T) {
		// One task pinned to the manager and never restarted: after the
		// kill nothing else happens, no service or node event and no new
		// container, so only the container's own die event on this engine
		// can tell the watch, and the manager learns of it only after.
		once := cl.ServiceSpec(cl.Env.Name("once"), img, 1, front)
		once.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone}
		once.TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.role==manager"}}
		onceID := cl.CreateService(t, once)
		c, _ := w.waitFor(t, 30*time.Second, "the pinned task running", settled(onceID, 1))
		var victim model.Task
		for _, tk := range c.VisibleTasks() {
			if tk.ServiceID == onceID && tk.State == model.TaskRunning {
				victim = tk
			}
		}
		killed := time.Now()
		if err := mgr.Client.ContainerKill(ctx, victim.ContainerID, "KILL"); err != nil {
			t.Fatal(err)
		}
		_, at := w.waitFor(t, 15*time.Second, "the killed task shown failed", func(c model.Cluster) (bool, string) {
			for _, tk := range c.Tasks {
				if tk.ID == victim.ID {
					return tk.State != model.TaskRunning, "task " + string(tk.State)
				}
			}
			return false, "task not listed"
		})
		t.Logf("task container killed → shown %s after %v", "failed", at.Sub(killed).Round(time.Millisecond))
		if err := mgr.Client.ServiceRemove(ctx, onceID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("restart replaces every task", func(t *testing.T) {
		c, _ := w.waitFor(t, 5*time.Second, "settled", settled(webID, 5))
		old := map[string]bool{}
		for _, tk := range c.VisibleTasks() {
			old[tk.ID] = true
		}
		start := time.Now()
		if err := sw.Restart(ctx, webID); err != nil {
			t.Fatalf("Restart: %v", err)
		}
		replaced := func(c model.Cluster) (bool, string) {
			ok, desc := settled(webID, 5)(c)
			for _, tk := range c.VisibleTasks() {
				if old[tk.ID] && tk.DesiredState == model.TaskRunning {
					return false, "old task " + c.TaskName(tk) + " still meant to run; " + desc
				}
			}
			return ok, desc
		}
		_, at := w.waitFor(t, 30*time.Second, "all tasks replaced", replaced)
		t.Logf("restart → all 5 replaced and running seen after %v: %s", at.Sub(start).Round(time.Millisecond), obs.behind(start, at, replaced))
	})

	t.Run("drain a node: its tasks move and the model shows it", func(t *testing.T) {
		start := time.Now()
		if err := sw.SetAvailability(ctx, w1.Name, model.AvailabilityDrain); err != nil {
			t.Fatalf("drain: %v", err)
		}
		drained := func(c model.Cluster) (bool, string) {
			n, _ := c.FindNode(w1.Name)
			if n.Availability != model.AvailabilityDrain {
				return false, "node availability " + string(n.Availability)
			}
			ok, desc := settled(webID, 5)(c)
			_, _, perNode, _ := serviceState(c, webID)
			return ok && perNode[w1.Name] == 0, desc
		}
		_, at := w.waitFor(t, 30*time.Second, "drained and back to 5/5", drained)
		t.Logf("drain → tasks moved and seen after %v: %s", at.Sub(start).Round(time.Millisecond), obs.behind(start, at, drained))
		if err := sw.SetAvailability(ctx, w1.Name, model.AvailabilityActive); err != nil {
			t.Fatalf("activate: %v", err)
		}
		w.waitFor(t, 10*time.Second, "active again", func(c model.Cluster) (bool, string) {
			n, _ := c.FindNode(w1.Name)
			return n.Availability == model.AvailabilityActive, "availability " + string(n.Availability)
		})
	})

	t.Run("manager unreachable: stale, then reconnect and resync", func(t *testing.T) {
		proxy.cut()
		c, _ := w.waitFor(t, 10*time.Second, "stale snapshot", func(c model.Cluster) (bool, string) { return c.Stale != nil, "not stale" })
		if len(c.Nodes) != 3 {
			t.Errorf("stale snapshot lost the last state: %d nodes", len(c.Nodes))
		}
		proxy.restore(t)
		w.waitFor(t, 15*time.Second, "fresh snapshot after reconnect", func(c model.Cluster) (bool, string) {
			return c.Stale == nil && len(c.Nodes) == 3, fmt.Sprintf("stale: %v", c.Stale)
		})
	})

	t.Run("a lost node goes Down and its tasks are rescheduled", func(t *testing.T) {
		w.waitFor(t, 30*time.Second, "settled before the loss", settled(webID, 5))
		c, _ := w.waitFor(t, 5*time.Second, "settled", settled(webID, 5))
		_, _, perNode, desc := serviceState(c, webID)
		if perNode[w2.Name] == 0 {
			t.Logf("no task on %s before its loss (%s): the reschedule is not exercised", w2.Name, desc)
		}
		start := time.Now()
		cl.Kill(t, w2)
		isDown := func(c model.Cluster) (bool, string) {
			n, _ := c.FindNode(w2.Name)
			return n.State == model.NodeDown, "state " + string(n.State)
		}
		_, down := w.waitFor(t, 20*time.Second, "node Down", isDown)
		t.Logf("node killed → Down seen after %v: %s", down.Sub(start).Round(time.Millisecond), obs.behind(start, down, isDown))
		rescheduled := func(c model.Cluster) (bool, string) {
			ok, desc := settled(webID, 5)(c)
			_, _, perNode, _ := serviceState(c, webID)
			return ok && perNode[w2.Name] == 0, desc
		}
		_, at := w.waitFor(t, 30*time.Second, "rescheduled", rescheduled)
		t.Logf("node killed → tasks running elsewhere seen after %v: %s", at.Sub(start).Round(time.Millisecond), obs.behind(start, at, rescheduled))
	})
}

func hasOverlay(c model.Cluster, id string) bool {
	for _, n := range c.Networks {
		if n.ID == id {
			return n.Driver == "overlay" && n.Scope == "swarm"
		}
	}
	return false
}

// scaleAndTimeNewTasks scales a service from what c shows to n replicas
// and waits until the watch has them settled. It returns the latency that
// matters, the worst time from a new task running on its node (the swarm's
// own timestamp) to the watch holding it, with the number of new tasks and
// the whole scale's time.
func scaleAndTimeNewTasks(t *testing.T, sw *docker.Swarm, w *clusterWatcher, c model.Cluster, serviceID string, n uint64, within time.Duration) (worst time.Duration, added int, whole time.Duration) {
	t.Helper()
	before := map[string]bool{}
	for _, tk := range c.Tasks {
		before[tk.ID] = true
	}
	start := time.Now()
	if err := sw.Scale(context.Background(), serviceID, n); err != nil {
		t.Fatalf("Scale: %v", err)
	}
	seen := map[string]bool{}
	w.waitFor(t, within, fmt.Sprintf("%d/%d after the scale", n, n), func(c model.Cluster) (bool, string) {
		w.mu.Lock()
		at := w.at
		w.mu.Unlock()
		for _, tk := range c.Tasks {
			if !before[tk.ID] && tk.State == model.TaskRunning && !seen[tk.ID] {
				seen[tk.ID] = true
				worst = max(worst, at.Sub(tk.Since))
			}
		}
		return settled(serviceID, int(n))(c)
	})
	return worst, len(seen), time.Since(start)
}
