package docker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

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

// On a manager and a worker: a server task on the worker and clients on
// both nodes holding known numbers of connections show as exactly those
// flows, named by task and node, through topo's global agent service,
// read from the manager alone; a client added later shows; the agents
// run as nobody without capability; Close removes the service and every
// agent task.
func TestSwarmFlowsShowTheTasksOfEveryNode(t *testing.T) {
	outer := dockertest.New(t)
	binary := probeAgentBinary(t)
	ctx := context.Background()
	self, err := docker.SelfImage(ctx, outer.Client, binary)
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

	e := connectTest(t, mgr.Host)
	sw := docker.NewSwarm(e)
	flows := docker.NewSwarmFlows(docker.SDK(e), binary, cl.Env.Labels())
	t.Cleanup(func() { flows.Close() })
	watchCtx, stop := context.WithCancel(ctx)
	defer stop()
	samples := make(chan model.FlowSample, 1)
	done := make(chan error, 1)
	began := time.Now()
	go func() { done <- flows.Watch(watchCtx, sw.Read, samples) }()

	prefix := cl.Env.Prefix + "-"
	var last model.FlowSample
	wait := func(within time.Duration, want ...string) time.Time {
		t.Helper()
		sort.Strings(want)
		dockertest.Eventually(t, within, func() (bool, string) {
			select {
			case last = <-samples:
			case err := <-done:
				t.Fatalf("Watch ended: %v", err)
			}
			got := swarmFlowLines(last, prefix)
			return strings.Join(got, "\n") == strings.Join(want, "\n"), fmt.Sprintf("flows:\n%s\nwant:\n%s\nnodes: %+v",
				strings.Join(got, "\n"), strings.Join(want, "\n"), last.Nodes)
		})
		return time.Now()
	}
	mgrName, workerName := strings.TrimPrefix(mgr.Name, prefix), strings.TrimPrefix(worker.Name, prefix)
	// The names carry the nodes' hostnames, which also have the prefix.
	at := func(task, node string) string { return task + "@" + prefix + node }
	first := wait(2*time.Minute, at("far.1", mgrName)+">"+at("srv.1", workerName)+":8080 x3",
		at("near.1", workerName)+">"+at("srv.1", workerName)+":8080 x2")
	t.Logf("first sample with every flow %v after Watch began (service created, agents started on both nodes)", first.Sub(began).Round(time.Millisecond))
	if last.Nodes == nil || len(last.Nodes.Reporting) != 2 || len(last.Nodes.Silent) != 0 {
		t.Errorf("nodes = %+v, want both reporting", last.Nodes)
	}

	// A client started now shows within the sampling, the manager
	// relaying the worker's agent's log.
	added := time.Now()
	cl.CreateService(t, placed(cl, "late", image, net, worker, "CONNECT="+srv+":8080", "CONNECTIONS=1", "LISTEN=8081"))
	shown := wait(time.Minute, at("far.1", mgrName)+">"+at("srv.1", workerName)+":8080 x3",
		at("near.1", workerName)+">"+at("srv.1", workerName)+":8080 x2",
		at("late.1", workerName)+">"+at("srv.1", workerName)+":8080 x1")
	t.Logf("a new task's connection shown %v after its service was created (task scheduled, started, then sampled)", shown.Sub(added).Round(time.Millisecond))

	for _, n := range cl.Nodes {
		checkAgent(t, n)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Watch: %v", err)
	}
	if err := flows.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	left, err := mgr.Client.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", docker.LabelFlows+"=1"))})
	if err != nil || len(left) != 0 {
		t.Errorf("after Close: %d flow services (%v), want none", len(left), err)
	}
	for _, n := range cl.Nodes {
		dockertest.Eventually(t, 30*time.Second, func() (bool, string) {
			list, err := n.Client.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", docker.LabelFlows+"=1"))})
			return err == nil && len(list) == 0, fmt.Sprintf("%s: %d agent containers left (%v)", n.Name, len(list), err)
		})
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
