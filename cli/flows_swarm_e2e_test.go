package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/swarm"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/swarmtest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/internal/tmuxtest"
	"github.com/topo-dev/topo/model"
)

// flowsOn runs `topo flows ARGS` of the real binary against host and
// returns its standard output and error.
func flowsOn(t *testing.T, bin, host string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"flows"}, args...)...)
	cmd.Env = append(cmd.Environ(), "DOCKER_HOST="+host)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Run() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		err = <-done
		t.Errorf("topo flows %s did not end within 3 minutes", strings.Join(args, " "))
	}
	return out.String(), errOut.String(), err
}

// leftFlowServices counts topo's flow services on the manager.
func leftFlowServices(t *testing.T, cl *swarmtest.Cluster) int {
	t.Helper()
	list, err := cl.Manager().Client.ServiceList(context.Background(), swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", docker.LabelFlows+"=1"))})
	if err != nil {
		t.Fatalf("list the flow services: %v", err)
	}
	return len(list)
}

// `topo flows --swarm --json` on a manager prints the flows of the tasks
// of every node (a client on the manager, one on the worker, both to a
// server on the worker), says both nodes reported, and leaves no service
// behind; pointed at a worker it refuses, naming the manager; the live
// view offers every node's flows (inTheView); with topo's image gone from
// the worker, it names the worker and what to copy.
func TestFlowsSwarmJSONNamesTasksOnEveryNode(t *testing.T) {
	bin := tmuxtest.BuildTopo(t)
	outer := dockertest.New(t)
	self, err := docker.SelfImage(context.Background(), outer.Client, bin)
	if err != nil {
		t.Fatal(err)
	}
	img := dockertest.TestServerImage(t)
	cl := swarmtest.Start(t, swarmtest.Options{Workers: 1, Images: []string{self, img}})
	mgr, worker := cl.Manager(), cl.Nodes[1]
	net := cl.CreateOverlay(t, cl.Env.Name("net"))
	srv := cl.Env.Name("srv")
	on := func(name string, n *swarmtest.Node, env ...string) {
		spec := cl.ServiceSpec(cl.Env.Name(name), img, 1, net)
		spec.TaskTemplate.ContainerSpec.Env = env
		spec.TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.hostname==" + n.Name}}
		cl.CreateService(t, spec)
	}
	on("srv", worker)
	on("far", mgr, "CONNECT="+srv+":8080", "CONNECTIONS=3", "LISTEN=8081")
	on("near", worker, "CONNECT="+srv+":8080", "CONNECTIONS=1", "LISTEN=8081")
	want := []string{
		fmt.Sprintf("far.1@%s>srv.1@%s:8080 x3", mgr.Name, worker.Name),
		fmt.Sprintf("near.1@%s>srv.1@%s:8080 x1", worker.Name, worker.Name),
	}
	dockertest.Eventually(t, time.Minute, func() (bool, string) {
		return tasksRunning(cl, 3)
	})

	// The clients connect once their task starts: the first sample may
	// come before; a few tries.
	var got []string
	var tally model.FlowTally
	for try := 0; try < 5; try++ {
		out, errOut, err := flowsOn(t, bin, mgr.Host, "--swarm", "--json", "--for", "2s")
		if err != nil {
			t.Fatalf("topo flows --swarm --json: %v\n%s%s", err, out, errOut)
		}
		tally = model.FlowTally{}
		if err := json.Unmarshal([]byte(out), &tally); err != nil {
			t.Fatalf("topo flows --swarm --json printed no tally: %v\n%s", err, out)
		}
		got = tallyLines(tally, cl.Env.Prefix+"-")
		if strings.Join(got, "\n") == strings.Join(want, "\n") {
			break
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("flows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if tally.Nodes == nil || strings.Join(tally.Nodes.Reporting, ",") != mgr.Name+","+worker.Name || len(tally.Nodes.Silent) != 0 {
		t.Errorf("nodes = %+v, want %s and %s reporting", tally.Nodes, mgr.Name, worker.Name)
	}
	if n := leftFlowServices(t, cl); n != 0 {
		t.Errorf("after topo flows: %d flow services left, want none", n)
	}

	_, errOut, err := flowsOn(t, bin, worker.Host, "--swarm")
	if err == nil || !strings.Contains(errOut, "manager") {
		t.Errorf("topo flows --swarm on a worker: %v, %q; want a refusal naming the manager", err, errOut)
	}

	inTheView(t, cl, bin)
	lacking(t, cl, bin, self)
}

// inTheView: in the live view on the manager, f asks whose flows; s
// shows every node's, titled so, with the tasks' flows; q removes the
// service.
func inTheView(t *testing.T, cl *swarmtest.Cluster, bin string) {
	t.Helper()
	term := tmuxtest.Start(t, 200, 50, []string{"DOCKER_HOST=" + cl.Manager().Host}, bin)
	term.WaitForText(30*time.Second, "● live")
	term.Send("f")
	term.WaitForText(10*time.Second, "Show the flows of: e this engine only  s every node of the swarm")
	term.Send("s")
	// The selection is far.1, the manager's own task: its details say
	// whom it talks to on the worker (the panel's columns clip the
	// tests' long names).
	term.WaitFor(testenv.Patience(90*time.Second), "every node's flows, both nodes reporting, far.1 talking to srv.1 on the worker", func(s string) bool {
		return strings.Contains(s, "every node (2 of 2 reporting)") && strings.Contains(s, "→ "+cl.Env.Name("srv")+".1@") &&
			strings.Contains(s, "8080 3 conns")
	})
	if n := leftFlowServices(t, cl); n != 1 {
		t.Errorf("with every node's flows on: %d flow services, want one", n)
	}
	term.Send("q")
	term.WaitForText(30*time.Second, "[exited 0]")
	if n := leftFlowServices(t, cl); n != 0 {
		t.Errorf("after q: %d flow services left, want none", n)
	}
}

// lacking removes topo's image from the worker: `topo flows --swarm`
// then names the worker, the image and how to copy it, still shows the
// manager's flows, and leaves no service behind.
func lacking(t *testing.T, cl *swarmtest.Cluster, bin, self string) {
	t.Helper()
	ctx := context.Background()
	worker := cl.Nodes[1]
	// The last run's agent task on the worker may still be going.
	dockertest.Eventually(t, 30*time.Second, func() (bool, string) {
		list, err := worker.Client.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", docker.LabelFlows+"=1"))})
		return err == nil && len(list) == 0, fmt.Sprintf("%d agent containers (%v)", len(list), err)
	})
	if _, err := worker.Client.ImageRemove(ctx, self, image.RemoveOptions{Force: true}); err != nil {
		t.Fatalf("remove topo's image from the worker: %v", err)
	}
	_, errOut, err := flowsOn(t, bin, cl.Manager().Host, "--swarm")
	for _, want := range []string{"no flows from node " + worker.Name, "lacks the image " + self, "docker save " + self} {
		if !strings.Contains(errOut, want) {
			t.Errorf("topo flows --swarm with the worker lacking the image (%v) does not say %q:\n%s", err, want, errOut)
		}
	}
	if n := leftFlowServices(t, cl); n != 0 {
		t.Errorf("after topo flows: %d flow services left, want none", n)
	}
}

// tallyLines renders the flows between the test's tasks as
// "client>server:port xN".
func tallyLines(t model.FlowTally, prefix string) []string {
	var out []string
	for _, f := range t.Flows {
		if !strings.HasPrefix(f.Client.Name, prefix) && !strings.HasPrefix(f.Server.Name, prefix) {
			continue
		}
		out = append(out, fmt.Sprintf("%s>%s:%d x%d", strings.TrimPrefix(f.Client.Name, prefix), strings.TrimPrefix(f.Server.Name, prefix), f.Port, f.Conns))
	}
	sort.Strings(out)
	return out
}

// tasksRunning says whether n tasks of the test's services run.
func tasksRunning(cl *swarmtest.Cluster, n int) (bool, string) {
	tasks, err := cl.Manager().Client.TaskList(context.Background(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("desired-state", "running"))})
	if err != nil {
		return false, err.Error()
	}
	running := 0
	for _, t := range tasks {
		if t.Status.State == swarm.TaskStateRunning && t.Spec.ContainerSpec != nil && t.Spec.ContainerSpec.Labels[dockertest.LabelKey] == cl.Env.Prefix {
			running++
		}
	}
	return running == n, fmt.Sprintf("%d of %d tasks running", running, n)
}
