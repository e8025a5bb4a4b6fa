package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/swarmtest"
	"github.com/topo-dev/topo/model"
)

// runSwarmCmd runs `topo swarm ARGS` in-process and returns its output.
func runSwarmCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newSwarmCmd(&globalOptions{})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// swarmStatus runs `topo swarm status --json`.
func swarmStatus(t *testing.T) model.ClusterExport {
	t.Helper()
	out, err := runSwarmCmd(t, "status", "--json")
	if err != nil {
		t.Fatalf("topo swarm status --json: %v\n%s", err, out)
	}
	var c model.ClusterExport
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("topo swarm status --json: %v\n%s", err, out)
	}
	return c
}

func exportedService(c model.ClusterExport, name string) (model.ExportSwarmService, bool) {
	for _, s := range c.Services {
		if s.Name == name {
			return s, true
		}
	}
	return model.ExportSwarmService{}, false
}

// TestSwarmCommandsOnOneNode drives `topo swarm` against a one-node swarm
// (status in JSON and text, scale with --wait, a rolling restart, drain and
// activate of the only node, and the errors a person gets for a bad
// argument). The swarm is a Docker-in-Docker node of the test's own, never
// the shared engine: a swarm made, used and left on the shared engine
// stripped the network endpoints of another project's containers there
// (issue 10), and make test's bystander check now catches that.
func TestSwarmCommandsOnOneNode(t *testing.T) {
	img := dockertest.TestServerImage(t)
	cl := swarmtest.Start(t, swarmtest.Options{ManagerOnly: true, Images: []string{img}})
	env, id := cl.Env, cl.ID
	mgr := cl.Manager().Client
	// topo swarm reads DOCKER_HOST, as a user pointing it at a manager.
	t.Setenv("DOCKER_HOST", cl.Manager().Host)
	ctx := context.Background()

	net, err := mgr.NetworkCreate(ctx, env.Name("front"), network.CreateOptions{Driver: "overlay", Attachable: true, Labels: env.Labels()})
	if err != nil {
		t.Fatal(err)
	}
	name := env.Name("web")
	one := uint64(1)
	if _, err := mgr.ServiceCreate(ctx, swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: name, Labels: env.Labels()},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: img, Labels: env.Labels()},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: net.ID}},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
		// Replace both tasks at once and watch each for 200 ms rather
		// than the default 5 s, to keep the restart short.
		UpdateConfig: &swarm.UpdateConfig{Parallelism: 2, Monitor: 200 * time.Millisecond},
	}, swarm.ServiceCreateOptions{QueryRegistry: false}); err != nil {
		t.Fatalf("service create: %v", err)
	}

	start := time.Now()
	if out, err := runSwarmCmd(t, "scale", name+"=2", "--wait", "--timeout", "60s"); err != nil || !strings.Contains(out, "scaled "+name+" to 2") {
		t.Fatalf("scale %s=2 --wait: %v\n%s", name, err, out)
	}
	t.Logf("scale to 2 --wait: %v", time.Since(start).Round(time.Millisecond))
	c := swarmStatus(t)
	if c.ID != id || len(c.Nodes) != 1 || c.Nodes[0].Role != model.RoleManager || !c.Nodes[0].Leader {
		t.Fatalf("status: cluster %s with nodes %+v, want the test's one-node swarm %s", c.ID, c.Nodes, id)
	}
	web, ok := exportedService(c, name)
	if !ok || web.Running != 2 || web.Desired != 2 || web.Converging || web.EndpointMode != model.EndpointDNSRR {
		t.Fatalf("status: service %+v, want 2/2 dnsrr settled", web)
	}
	running := 0
	for _, tk := range c.Tasks {
		if tk.ServiceID == web.ID && tk.State == model.TaskRunning {
			running++
			if tk.Hostname != c.Nodes[0].Hostname {
				t.Errorf("task %s on %q, want the node %s", tk.Name, tk.Hostname, c.Nodes[0].Hostname)
			}
			if n, ok := tk.Network(net.ID); !ok || n.IP() == "" {
				t.Errorf("task %s has no address on the overlay: %+v", tk.Name, tk.Networks)
			}
		}
	}
	if running != 2 {
		t.Errorf("status lists %d running tasks of %s, want 2", running, name)
	}

	out, err := runSwarmCmd(t, "status")
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	for _, want := range []string{c.Nodes[0].Hostname + " *", "manager (leader)", name, "2/2", "dnsrr", name + ".1", env.Name("front") + " "} {
		if !strings.Contains(out, want) {
			t.Errorf("status text lacks %q:\n%s", want, out)
		}
	}

	start = time.Now()
	if out, err := runSwarmCmd(t, "restart", name, "--wait", "--timeout", "60s"); err != nil {
		t.Fatalf("restart --wait: %v\n%s", err, out)
	}
	t.Logf("restart --wait: %v", time.Since(start).Round(time.Millisecond))
	after := swarmStatus(t)
	for _, before := range c.Tasks {
		for _, now := range after.Tasks {
			if now.ID == before.ID && before.DesiredState == model.TaskRunning && now.DesiredState == model.TaskRunning {
				t.Errorf("task %s survived the restart", now.Name)
			}
		}
	}

	node := c.Nodes[0].Hostname
	if out, err := runSwarmCmd(t, "drain", node, "--wait", "--timeout", "60s"); err != nil || !strings.Contains(out, "draining "+node) {
		t.Fatalf("drain --wait: %v\n%s", err, out)
	}
	drained := swarmStatus(t)
	if web, _ := exportedService(drained, name); web.Running != 0 || drained.Nodes[0].Availability != model.AvailabilityDrain {
		t.Errorf("after drain of the only node: %d running, node %s; want 0 and drain", web.Running, drained.Nodes[0].Availability)
	}
	if out, err := runSwarmCmd(t, "activate", node, "--wait", "--timeout", "60s"); err != nil || !strings.Contains(out, "activated "+node) {
		t.Fatalf("activate --wait: %v\n%s", err, out)
	}
	if web, _ := exportedService(swarmStatus(t), name); web.Running != 2 {
		t.Errorf("after activate: %d running, want 2", web.Running)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scale", name}, "is not SERVICE=N"},
		{[]string{"scale", name + "=-1"}, "cannot run -1 replicas"},
		{[]string{"scale", name + "=201"}, "more than topo swarm scale allows (200)"},
		{[]string{"scale", "no-such-service=1"}, "no such service"},
		{[]string{"drain", "no-such-node"}, "no such node"},
	} {
		if _, err := runSwarmCmd(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("topo swarm %s: %v, want an error saying %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
