package docker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/swarmtest"
	"github.com/topo-dev/topo/model"
)

// swarmFlowLines renders the flows between the test's tasks as
// "client>server:port xN", names without the test's prefix.
func swarmFlowLines(s model.FlowSample, prefix string) []string {
	var out []string
	for _, f := range s.Flows {
		if !strings.HasPrefix(f.Client.Name, prefix) && !strings.HasPrefix(f.Server.Name, prefix) {
			continue
		}
		line := fmt.Sprintf("%s>%s:%d x%d", strings.TrimPrefix(f.Client.Name, prefix), strings.TrimPrefix(f.Server.Name, prefix), f.Port, f.Conns)
		if f.Flag != "" {
			line += " !"
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

// placed is a service of the test server on net, its one task on node.
func placed(cl *swarmtest.Cluster, name, image, net string, node *swarmtest.Node, env ...string) swarm.ServiceSpec {
	spec := cl.ServiceSpec(cl.Env.Name(name), image, 1, net)
	spec.TaskTemplate.ContainerSpec.Env = env
	spec.TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.hostname==" + node.Name}}
	return spec
}

// swarmWatch is a SwarmFlows watched by a test.
type swarmWatch struct {
	t       *testing.T
	flows   *docker.SwarmFlows
	samples chan model.FlowSample
	done    chan error
	stop    context.CancelFunc
	prefix  string
	last    model.FlowSample
}

func watchSwarmFlows(t *testing.T, cl *swarmtest.Cluster, binary string) *swarmWatch {
	e := connectTest(t, cl.Manager().Host)
	w := &swarmWatch{t: t, flows: docker.NewSwarmFlows(docker.SDK(e), binary, cl.Env.Labels()),
		samples: make(chan model.FlowSample, 1), done: make(chan error, 1), prefix: cl.Env.Prefix + "-"}
	t.Cleanup(func() { w.flows.Close() })
	ctx, stop := context.WithCancel(context.Background())
	w.stop = stop
	t.Cleanup(stop)
	go func() { w.done <- w.flows.Watch(ctx, docker.NewSwarm(e).Read, w.samples) }()
	return w
}

// wait waits for a sample of exactly the flows want and returns when it
// came.
func (w *swarmWatch) wait(within time.Duration, want ...string) time.Time {
	w.t.Helper()
	sort.Strings(want)
	dockertest.Eventually(w.t, within, func() (bool, string) {
		select {
		case w.last = <-w.samples:
		case err := <-w.done:
			w.t.Fatalf("Watch ended: %v", err)
		}
		got := swarmFlowLines(w.last, w.prefix)
		return strings.Join(got, "\n") == strings.Join(want, "\n"), fmt.Sprintf("flows:\n%s\nwant:\n%s\nnodes: %+v",
			strings.Join(got, "\n"), strings.Join(want, "\n"), w.last.Nodes)
	})
	return time.Now()
}

// end stops the watch and closes the SwarmFlows.
func (w *swarmWatch) end() {
	w.t.Helper()
	w.stop()
	if err := <-w.done; err != nil {
		w.t.Errorf("Watch: %v", err)
	}
	if err := w.flows.Close(); err != nil {
		w.t.Fatalf("Close: %v", err)
	}
}

// flowServices counts topo's flow services on the manager.
func flowServices(t *testing.T, cl *swarmtest.Cluster) int {
	t.Helper()
	left, err := cl.Manager().Client.ServiceList(context.Background(), swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", docker.LabelFlows+"=1"))})
	if err != nil {
		t.Fatalf("list the flow services: %v", err)
	}
	return len(left)
}

// On a manager and a worker: a server task on the worker and clients on
// both nodes holding known numbers of connections show as exactly those
// flows, named by task and node, through topo's global agent service,
// read from the manager alone; a client added later shows; the agents
// run as nobody without capability; a second topo shares the service,
// the first Close leaves it to the second, the last removes it and every
// agent task.
func TestSwarmFlowsShowTheTasksOfEveryNode(t *testing.T) {
	outer := dockertest.New(t)
	binary := probeAgentBinary(t)
	self, err := docker.SelfImage(context.Background(), outer.Client, binary)
	if err != nil {
		t.Fatal(err)
	}
	image := dockertest.TestServerImage(t)
	cl := swarmtest.Start(t, swarmtest.Options{Workers: 1, Images: []string{self, image}})
	mgr, worker := cl.Manager(), cl.Nodes[1]
	net := cl.CreateOverlay(t, cl.Env.Name("net"))
	srv := cl.Env.Name("srv")
	cl.CreateService(t, placed(cl, "srv", image, net, worker))
	cl.CreateService(t, placed(cl, "near", image, net, worker, "CONNECT="+srv+":8080", "CONNECTIONS=2", "LISTEN=8081"))
	cl.CreateService(t, placed(cl, "far", image, net, mgr, "CONNECT="+srv+":8080", "CONNECTIONS=3", "LISTEN=8081"))

	seen := watchCluster(t, cl)
	began := time.Now()
	w := watchSwarmFlows(t, cl, binary)
	// The names carry the nodes' hostnames.
	at := func(task string, node *swarmtest.Node) string {
		return task + "@" + node.Name
	}
	want := []string{at("far.1", mgr) + ">" + at("srv.1", worker) + ":8080 x3", at("near.1", worker) + ">" + at("srv.1", worker) + ":8080 x2"}
	first := w.wait(2*time.Minute, want...)
	t.Logf("first sample with every flow %v after Watch began (service created, agents started on both nodes)", first.Sub(began).Round(time.Millisecond))
	if w.last.Nodes == nil || len(w.last.Nodes.Reporting) != 2 || len(w.last.Nodes.Silent) != 0 {
		t.Errorf("nodes = %+v, want both reporting", w.last.Nodes)
	}

	// A client started now shows, the manager relaying the worker's
	// agent's log.
	added := time.Now()
	cl.CreateService(t, placed(cl, "late", image, net, worker, "CONNECT="+srv+":8080", "CONNECTIONS=1", "LISTEN=8081"))
	want = append(want, at("late.1", worker)+">"+at("srv.1", worker)+":8080 x1")
	shown := w.wait(time.Minute, want...)
	t.Logf("a new task's connection shown %v after its service was created (task scheduled, started, then sampled)", shown.Sub(added).Round(time.Millisecond))
	for _, n := range cl.Nodes {
		checkAgent(t, n)
	}
	logRelay(t, cl)

	second := watchSwarmFlows(t, cl, binary)
	second.wait(time.Minute, want...)
	if n := flowServices(t, cl); n != 1 {
		t.Errorf("with two topos: %d flow services, want one shared", n)
	}
	if a, b := docker.SwarmFlowsHold(w.flows), docker.SwarmFlowsHold(second.flows); a == "" || b == "" || a == b {
		t.Errorf("holds %q and %q, want one each", a, b)
	}
	w.end()
	if n := flowServices(t, cl); n != 1 {
		t.Errorf("after the first Close: %d flow services, want the shared one kept", n)
	}
	second.wait(time.Minute, want...)
	second.end()
	if n := flowServices(t, cl); n != 0 {
		t.Errorf("after the last Close: %d flow services, want none", n)
	}
	for _, n := range cl.Nodes {
		dockertest.Eventually(t, 30*time.Second, func() (bool, string) {
			list, err := n.Client.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", docker.LabelFlows+"=1"))})
			return err == nil && len(list) == 0, fmt.Sprintf("%s: %d agent containers left (%v)", n.Name, len(list), err)
		})
	}
	// A service made after the agents' removal: once the cluster's
	// watch shows it, it has read every event before it.
	cl.CreateService(t, placed(cl, "after", image, net, mgr))
	seen.checkNoAgent(cl.Env.Name("after"))
}

// clusterSeen is what the cluster's watch sent while flows ran.
type clusterSeen struct {
	t  *testing.T
	mu sync.Mutex
	// agent names what of topo's flow service the watch showed: a
	// service, a task, or an event.
	agent []string
	names map[string]bool
}

// watchCluster follows the cluster as the view does: topo's own flow
// service must not show in it, nor in its events.
func watchCluster(t *testing.T, cl *swarmtest.Cluster) *clusterSeen {
	e := connectTest(t, cl.Manager().Host)
	seen := &clusterSeen{t: t, names: map[string]bool{}}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	out := make(chan model.Cluster, 16)
	go docker.NewSwarm(e).Watch(ctx, out)
	go func() {
		for c := range out {
			seen.mu.Lock()
			for _, s := range c.Services {
				seen.names[s.Name] = true
				if strings.HasPrefix(s.Name, "topo-flows-") {
					seen.agent = append(seen.agent, "service "+s.Name)
				}
			}
			for _, ev := range c.Events {
				if strings.HasPrefix(ev.Attributes["name"], "topo-flows-") {
					seen.agent = append(seen.agent, "event "+ev.Describe())
				}
			}
			for _, tk := range c.Tasks {
				if _, ok := c.Service(tk.ServiceID); !ok {
					seen.agent = append(seen.agent, "task "+tk.ID+" of no service shown")
				}
			}
			seen.mu.Unlock()
		}
	}()
	return seen
}

func (s *clusterSeen) checkNoAgent(marker string) {
	s.t.Helper()
	dockertest.Eventually(s.t, 30*time.Second, func() (bool, string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.names[marker], "the cluster's watch has not shown " + marker
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.agent) > 0 {
		s.t.Errorf("the cluster's watch showed topo's own flow service: %s", strings.Join(s.agent, "; "))
	}
}

// logRelay logs how long the agents' lines take from each node's log to
// a reader of the manager's service logs (the nodes share this machine's
// clock): the latency the swarm adds to a sample.
func logRelay(t *testing.T, cl *swarmtest.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := cl.Manager().Client.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", docker.LabelFlows+"=1"))})
	if err != nil || len(list) != 1 {
		t.Fatalf("%d flow services (%v), want one", len(list), err)
	}
	logs, err := cl.Manager().Client.ServiceLogs(ctx, list[0].ID, container.LogsOptions{ShowStdout: true, Follow: true, Timestamps: true, Details: true, Tail: "0"})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	pr, pw := io.Pipe()
	go func() { _, err := stdcopy.StdCopy(pw, pw, logs); pw.CloseWithError(err) }()
	delays := map[string][]time.Duration{}
	scanner := bufio.NewScanner(pr)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 0; n < 20 && scanner.Scan(); n++ {
		now := time.Now()
		// "TIMESTAMP com.docker.swarm.node.id=...,... {json}"
		f := strings.SplitN(scanner.Text(), " ", 3)
		if len(f) < 3 {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, f[0])
		node := strings.TrimPrefix(strings.Split(f[1], ",")[0], "com.docker.swarm.node.id=")
		if err == nil {
			delays[node] = append(delays[node], now.Sub(ts))
		}
	}
	for node, d := range delays {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		t.Logf("node %s: agent line to manager's reader: %s", node, summarize(d))
	}
}

// checkAgent checks the agent task on n holds only the rights it uses and
// logs what it cost over a few seconds of sampling.
func checkAgent(t *testing.T, n *swarmtest.Node) {
	t.Helper()
	ctx := context.Background()
	list, err := n.Client.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", docker.LabelFlows+"=1"))})
	if err != nil || len(list) != 1 {
		t.Fatalf("%s: %d agent containers (%v), want one", n.Name, len(list), err)
	}
	in, err := n.Client.ContainerInspect(ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if in.Config.User != "65534:65534" || !in.HostConfig.ReadonlyRootfs || len(in.HostConfig.CapDrop) != 1 || in.HostConfig.CapDrop[0] != "ALL" ||
		in.HostConfig.PidMode != "" || len(in.Mounts) != 1 || in.Mounts[0].RW || in.Mounts[0].Source != "/proc" {
		t.Errorf("%s: agent user %q, read-only %v, cap drop %v, pid %q, mounts %+v: want nobody, read-only, ALL dropped, its own PID namespace, /proc read-only",
			n.Name, in.Config.User, in.HostConfig.ReadonlyRootfs, in.HostConfig.CapDrop, in.HostConfig.PidMode, in.Mounts)
	}
	cpu := func() (uint64, time.Time) {
		s, err := n.Client.ContainerStatsOneShot(ctx, list[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Body.Close()
		var v container.StatsResponse
		if err := jsonDecode(s.Body, &v); err != nil {
			t.Fatal(err)
		}
		return v.CPUStats.CPUUsage.TotalUsage, v.Read
	}
	u1, t1 := cpu()
	time.Sleep(5 * time.Second) // a measurement window, not a wait for a condition
	u2, t2 := cpu()
	if t2.After(t1) {
		t.Logf("%s: agent CPU %.2f %% of a core over %v", n.Name, 100*float64(u2-u1)/float64(t2.Sub(t1).Nanoseconds()), t2.Sub(t1).Round(time.Millisecond))
	}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
