package deploy

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"

	"topo/docker"
	"topo/internal/dockertest"
	"topo/internal/swarmtest"
)

// TestSwarmDemoServesThroughTheLBAndDownRemovesTheStack deploys the demo
// as services on a real three-node swarm (Docker-in-Docker), waits until
// the load balancer, published with mode=host on the manager, has sent a
// request to every app replica, then removes the stack and finds none of
// its services, networks or configs left.
func TestSwarmDemoServesThroughTheLBAndDownRemovesTheStack(t *testing.T) {
	images := testImages(t)
	env := dockertest.New(t)
	ctx := context.Background()
	self, err := docker.SelfImage(ctx, env.Client, selfBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	cl := swarmtest.Start(t, swarmtest.Options{Images: []string{self, images.Consul, images.Mongo, images.Nginx}})
	t.Logf("swarm timings: %v", cl.Timings)
	cl.Own(t)
	mgr := cl.Manager()

	d, err := New(mgr.Client, Options{
		Project: env.Prefix, SelfBinary: selfBinary(t), Images: images,
		ExtraLabels: env.Labels(), OverlayMTU: 1350,
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("http://%s:%d", mgr.IP, DefaultLBPort); d.SwarmURL() != want {
		t.Fatalf("SwarmURL %s, want %s", d.SwarmURL(), want)
	}

	var steps stepLog
	start := time.Now()
	res, err := d.UpSwarm(ctx, UpOptions{Replicas: 2, Wait: true, WaitTimeout: 45 * time.Second}, steps.add)
	if err != nil {
		t.Fatalf("up --swarm: %v\nsteps:\n%s", err, &steps)
	}
	if !res.Ready || res.URL != d.SwarmURL() {
		t.Errorf("up --swarm returned %+v", res)
	}
	ready := time.Since(start)
	served := waitServedBySwarm(t, d, 30*time.Second, appReplicas(d, 2)...)
	t.Logf("up --swarm --wait: lb answering after %v, every replica served after %v (%v)",
		ready.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), served)

	// The stack as `docker stack ps` sees it: the registrator on every
	// node, the app's replicas, everything labelled with the stack.
	tasks, err := mgr.Client.TaskList(ctx, swarm.TaskListOptions{Filters: d.stackFilter()})
	if err != nil {
		t.Fatal(err)
	}
	running := map[string]int{}
	for _, tk := range tasks {
		if tk.Status.State == swarm.TaskStateRunning {
			running[tk.ServiceID]++
		}
	}
	svcs, err := d.stackServices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != len(Services) {
		t.Errorf("%d services in the stack, want %d", len(svcs), len(Services))
	}
	if n := running[svcs[d.ServiceName(ServiceRegistrator)].ID]; n != len(cl.Nodes) {
		t.Errorf("%d registrator tasks running, want one per node (%d)", n, len(cl.Nodes))
	}

	// A second up creates nothing; with another replica count it scales
	// the app and touches nothing else.
	var again stepLog
	start = time.Now()
	if _, err := d.UpSwarm(ctx, UpOptions{Replicas: 3}, again.add); err != nil {
		t.Fatalf("second up --swarm: %v\n%s", err, &again)
	}
	for _, s := range again.finals() {
		if s.Detail == "created" || (s.Key == "service "+ServiceApp) != (s.Detail == "scaled 2 → 3") {
			t.Errorf("second up --swarm --replicas 3: step %q: %s", s.Title, s.Detail)
		}
	}
	served = waitServedBySwarm(t, d, 30*time.Second, appReplicas(d, 3)...)
	t.Logf("up --swarm --replicas 3: the third replica served after %v (%v)", time.Since(start).Round(time.Millisecond), served)

	// `docker stack ps` (the node's own CLI) sees the stack: one task per
	// replica, and the registrator on every node.
	if bin, err := exec.LookPath("docker"); err == nil {
		out, err := exec.Command(bin, "exec", mgr.ContainerID, "docker", "stack", "ps", d.Project(),
			"--filter", "desired-state=running", "--format", "{{.Name}}").CombinedOutput()
		if err != nil {
			t.Fatalf("docker stack ps %s: %v: %s", d.Project(), err, out)
		}
		if n := len(strings.Fields(string(out))); n != 1+1+len(cl.Nodes)+3+1 {
			t.Errorf("docker stack ps %s lists %d tasks, want %d:\n%s", d.Project(), n, 1+1+len(cl.Nodes)+3+1, out)
		}
	}

	var down stepLog
	start = time.Now()
	if err := d.DownSwarm(ctx, true, down.add); err != nil {
		t.Fatalf("down --swarm: %v\nsteps:\n%s", err, &down)
	}
	t.Logf("down --swarm in %v", time.Since(start).Round(time.Millisecond))
	svcs, err = d.stackServices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nets, err := mgr.Client.NetworkList(ctx, network.ListOptions{Filters: d.stackFilter()})
	if err != nil {
		t.Fatal(err)
	}
	cfgs, err := mgr.Client.ConfigList(ctx, swarm.ConfigListOptions{Filters: d.stackFilter()})
	if err != nil {
		t.Fatal(err)
	}
	vols, err := mgr.Client.VolumeList(ctx, volume.ListOptions{Filters: d.stackFilter()})
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs)+len(nets)+len(cfgs)+len(vols.Volumes) != 0 {
		t.Errorf("after down --swarm --volumes: %d services, %d networks (%+v), %d configs, %d volumes of the stack left\nsteps:\n%s",
			len(svcs), len(nets), nets, len(cfgs), len(vols.Volumes), &down)
	}
}

// appReplicas names the app's first n replicas as they answer in
// X-Served-By.
func appReplicas(d *Deployer, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s.%d", d.ServiceName(ServiceApp), i+1)
	}
	return out
}

// waitServedBySwarm sends requests to the load balancer at the stack's URL
// until each of names has served one.
func waitServedBySwarm(t testing.TB, d *Deployer, within time.Duration, names ...string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	deadline := time.Now().Add(within)
	var status int
	var err error
	for {
		var who string
		status, who, err = get(context.Background(), d.SwarmURL())
		if err == nil && status == http.StatusOK {
			seen[who]++
		}
		all := true
		for _, n := range names {
			all = all && seen[n] > 0
		}
		if all {
			return seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("within %v the load balancer at %s did not serve from each of %v (served: %v; last: %d %v)", within, d.SwarmURL(), names, seen, status, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
