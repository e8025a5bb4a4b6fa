package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/swarmtest"
)

// TestSwarmDemoServesThroughTheLBAndDownRemovesTheStack deploys the demo
// as services on a real three-node swarm (Docker-in-Docker), waits until
// the load balancer, published with mode=host on the manager, has sent a
// request to every app replica, then removes the stack and finds none of
// its services, networks or configs left.
func TestSwarmDemoServesThroughTheLBAndDownRemovesTheStack(t *testing.T) {
	images, env, cl := startDemoSwarm(t)
	ctx := context.Background()
	mgr := cl.Manager()

	tunnel := docker.NewTunnel(mgr.Client, selfBinary(t), env.Labels())
	t.Cleanup(func() { tunnel.Close() })
	d, err := New(mgr.Client, Options{
		Project: env.Prefix, SelfBinary: selfBinary(t), Images: images,
		ExtraLabels: env.Labels(), OverlayMTU: 1350, Tunnel: tunnel,
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
		if want := 1 + 1 + 2*len(cl.Nodes) + 3 + 1; len(strings.Fields(string(out))) != want {
			t.Errorf("docker stack ps %s lists %d tasks, want %d:\n%s", d.Project(), len(strings.Fields(string(out))), want, out)
		}
	}
	checkSwarmEngineView(t, d, cl.Nodes[len(cl.Nodes)-1])

	// Another --lb-port: up rolls the lb over to it and leaves the rest.
	moved, err := New(mgr.Client, Options{Project: env.Prefix, SelfBinary: selfBinary(t), Images: images,
		ExtraLabels: env.Labels(), OverlayMTU: 1350, LBPort: DefaultLBPort + 1})
	if err != nil {
		t.Fatal(err)
	}
	var update stepLog
	if _, err := moved.UpSwarm(ctx, UpOptions{}, update.add); err != nil {
		t.Fatalf("up --swarm --lb-port %d: %v\n%s", DefaultLBPort+1, err, &update)
	}
	for _, s := range update.finals() {
		if strings.HasPrefix(s.Key, "service ") && (s.Key == "service "+ServiceLB) != (s.Detail == "updated: its settings changed") {
			t.Errorf("up with another --lb-port: step %q: %s", s.Title, s.Detail)
		}
	}
	if u := moved.URL(ctx); u != fmt.Sprintf("http://%s:%d", mgr.IP, DefaultLBPort+1) {
		t.Errorf("URL after the move: %s", u)
	}
	waitServedBySwarm(t, moved, 30*time.Second, appReplicas(d, 3)...)
	if svcs, err = d.stackServices(ctx); err != nil {
		t.Fatal(err)
	}

	// On a kernel with IPVS the lb would go through the routing mesh:
	// a virtual IP, an ingress-published port, on any node. (This kernel
	// has none, so the spec is checked rather than served.)
	self, err := d.ensureSelfImage(ctx, newReporter(nil))
	if err != nil {
		t.Fatal(err)
	}
	mesh, err := d.serviceSpec(ctx, newReporter(nil), ServiceLB, self, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	if ep := mesh.EndpointSpec; ep.Mode != swarm.ResolutionModeVIP || len(ep.Ports) != 1 ||
		ep.Ports[0].PublishMode != swarm.PortConfigPublishModeIngress || mesh.TaskTemplate.Placement != nil {
		t.Errorf("lb spec with IPVS: endpoint %+v, placement %+v; want a VIP, an ingress port, anywhere", ep, mesh.TaskTemplate.Placement)
	}
	if mesh.Labels[labelSpec] == svcs[d.ServiceName(ServiceLB)].Spec.Labels[labelSpec] {
		t.Error("the mesh and host-mode specs of the lb hash alike: up would not roll one over to the other")
	}

	// The manager's kernel decided how the lb is published, and the step
	// says so; this machine's kernel has no IPVS (TESTENV.md), so host.
	var publishing string
	for _, s := range steps.finals() {
		if s.Key == "ipvs" {
			publishing = s.Detail
		}
	}
	lbPorts := svcs[d.ServiceName(ServiceLB)].Spec.EndpointSpec.Ports
	switch {
	case len(lbPorts) != 1:
		t.Errorf("lb publishes %+v, want one port", lbPorts)
	case strings.HasPrefix(publishing, "mode=host") != (lbPorts[0].PublishMode == swarm.PortConfigPublishModeHost):
		t.Errorf("the step says %q, the lb is published with mode %s", publishing, lbPorts[0].PublishMode)
	}

	// Scaling, status and teardown find the stack by themselves, as the
	// TUI's keys and the plain commands use them.
	if mode, err := d.DeployedMode(ctx); err != nil || mode != ModeSwarm {
		t.Fatalf("DeployedMode = %q, %v; want swarm", mode, err)
	}
	if n, err := d.ScaleBy(ctx, ServiceApp, -1, nil); err != nil || n != 2 {
		t.Fatalf("ScaleBy app -1 on the stack = %d, %v; want 2", n, err)
	}
	if _, err := d.Up(ctx, UpOptions{}, nil); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "--swarm") {
		t.Errorf("a single-engine up over the stack: %v, want a refusal naming --swarm", err)
	}
	st := waitSwarmStatus(t, d, 45*time.Second, func(st Status) bool {
		app := serviceStatus(st, ServiceApp)
		reg := registryService(st, ServiceApp)
		return app.Desired == 2 && app.Running == 2 && len(app.Containers) == 2 && st.LB.Answers && reg.Passing == 2
	})
	if st.Mode != ModeSwarm || !strings.Contains(st.Registry.Address, "through the engine") {
		t.Errorf("status: mode %q, registry at %q; want swarm, consul read through the engine", st.Mode, st.Registry.Address)
	}
	// From another node of the swarm, of every port the demo's services
	// use, only the load balancer's answers on the manager.
	worker := cl.Nodes[1]
	// The load balancer was moved to DefaultLBPort+1 above, so the app's
	// own port (the old default) is checked as well.
	lbPort := DefaultLBPort + 1
	for _, port := range []int{consulHTTP, 8600, 8300, 8301, 8302, 27017, appPort, lbPort} {
		answers, said := dialFromNode(t, cl, worker, mgr.IP, port)
		if want := port == lbPort; answers != want {
			t.Errorf("port %d of the manager from %s: answers %v, want %v (only the load balancer's may): %s", port, worker.Name, answers, want, said)
		}
	}
	if reg := serviceStatus(st, ServiceRegistrator); reg.Running != len(cl.Nodes) || reg.Desired != len(cl.Nodes) {
		t.Errorf("status: registrator %d/%d, want one per node (%d)", reg.Running, reg.Desired, len(cl.Nodes))
	}
	for _, c := range serviceStatus(st, ServiceApp).Containers {
		if c.Node == "" || c.State != "running" {
			t.Errorf("status: app task %+v: want its node and running", c)
		}
	}

	var down stepLog
	start = time.Now()
	if err := d.Down(ctx, true, down.add); err != nil {
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

// TestSwarmDemoNamesTheNodesLackingAnImage deploys the demo with a build of
// topo the workers do not have (swarm nodes share no images): the wait
// fails within seconds, naming the image and each worker, instead of
// timing out.
func TestSwarmDemoNamesTheNodesLackingAnImage(t *testing.T) {
	images, env, cl := startDemoSwarm(t)
	ctx := context.Background()
	// Another build: the same program with other bytes, so another tag,
	// which only the manager gets (up builds it there).
	b, err := os.ReadFile(selfBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "topo")
	if err := os.WriteFile(other, append(b, []byte("another build")...), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := New(cl.Manager().Client, Options{Project: env.Prefix, SelfBinary: other, Images: images, ExtraLabels: env.Labels(), OverlayMTU: 1350})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = d.UpSwarm(ctx, UpOptions{Replicas: 2, Wait: true, WaitTimeout: time.Minute}, nil)
	t.Logf("up --swarm with an image missing on the workers failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if err == nil || !strings.Contains(err.Error(), "images missing on nodes") || !strings.Contains(err.Error(), "docker save") {
		t.Fatalf("up --swarm: %v; want the nodes lacking an image named", err)
	}
	for _, w := range cl.Nodes[1:] {
		if !strings.Contains(err.Error(), w.Name) {
			t.Errorf("the error does not name worker %s: %v", w.Name, err)
		}
	}
	if strings.Contains(err.Error(), cl.Manager().Name) {
		t.Errorf("the error names the manager, which has every image: %v", err)
	}

	// Done as the error says: copied to the workers, the next up finishes
	// the deploy, though the failures stay in the tasks' history.
	copyImage(t, cl.Manager().Client, d.selfImage, cl.Nodes[1:]...)
	var again stepLog
	start = time.Now()
	if res, err := d.UpSwarm(ctx, UpOptions{Wait: true, WaitTimeout: time.Minute}, again.add); err != nil || !res.Ready {
		out, _ := exec.Command("docker", "exec", cl.Manager().ContainerID, "docker", "service", "ps", "--no-trunc",
			"--format", "{{.Name}} {{.Node}} {{.DesiredState}} {{.CurrentState}} {{.Error}}", d.ServiceName(ServiceRegistrator)).CombinedOutput()
		t.Fatalf("up --swarm after the image was copied: %v\n%s\nregistrator tasks:\n%s", err, &again, out)
	}
	t.Logf("up --swarm after the image was copied: ready after %v", time.Since(start).Round(time.Millisecond))
	if err := d.Down(ctx, true, nil); err != nil {
		t.Errorf("down: %v", err)
	}
}

// copyImage copies ref from one engine into nodes, as `docker save |
// docker load` does.
func copyImage(t *testing.T, from *client.Client, ref string, nodes ...*swarmtest.Node) {
	t.Helper()
	ctx := context.Background()
	for _, n := range nodes {
		rc, err := from.ImageSave(ctx, []string{ref})
		if err != nil {
			t.Fatalf("docker save %s: %v", ref, err)
		}
		resp, err := n.Client.ImageLoad(ctx, rc, client.ImageLoadWithQuiet(true))
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		rc.Close()
		if err != nil {
			t.Fatalf("load %s into %s: %v", ref, n.Name, err)
		}
	}
}

// startDemoSwarm starts a three-node swarm whose nodes hold the demo's
// images and topo's own, as a presenter would load them before a talk.
func startDemoSwarm(t *testing.T) (Images, *dockertest.Env, *swarmtest.Cluster) {
	t.Helper()
	images := testImages(t)
	env := dockertest.New(t)
	self, err := docker.SelfImage(context.Background(), env.Client, selfBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	cl := swarmtest.Start(t, swarmtest.Options{Images: []string{self, images.Consul, images.Mongo, images.Nginx}})
	t.Logf("swarm timings: %v", cl.Timings)
	cl.Own(t)
	return images, env, cl
}

// waitSwarmStatus reads the stack's status until ok says it is what the
// test waits for.
func waitSwarmStatus(t testing.TB, d *Deployer, within time.Duration, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, err := d.Status(context.Background())
		if err == nil && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("within %v the status did not become what the test waits for: %+v (err %v)", within, st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func serviceStatus(st Status, name string) ServiceStatus {
	for _, s := range st.Services {
		if s.Name == name {
			return s
		}
	}
	return ServiceStatus{}
}

func registryService(st Status, name string) RegistryService {
	for _, s := range st.Registry.Services {
		if s.Name == name {
			return s
		}
	}
	return RegistryService{}
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

// dialFromNode says whether a TCP connection from inside node (its own
// network namespace, as another machine of the swarm) to ip:port succeeds,
// and what bash said when it did not. bash's /dev/tcp needs no tool the
// node image lacks.
func dialFromNode(t *testing.T, cl *swarmtest.Cluster, node *swarmtest.Node, ip string, port int) (bool, string) {
	t.Helper()
	ctx := context.Background()
	cmd := []string{"timeout", "3", "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%d", ip, port)}
	created, err := cl.Env.Client.ContainerExecCreate(ctx, node.ContainerID, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		t.Fatalf("exec on %s: %v", node.Name, err)
	}
	attached, err := cl.Env.Client.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatalf("exec on %s: %v", node.Name, err)
	}
	var out bytes.Buffer
	_, _ = stdcopy.StdCopy(&out, &out, attached.Reader)
	attached.Close()
	in, err := cl.Env.Client.ContainerExecInspect(ctx, created.ID)
	if err != nil {
		t.Fatalf("exec on %s: %v", node.Name, err)
	}
	return in.ExitCode == 0, fmt.Sprintf("exit %d: %s", in.ExitCode, strings.TrimSpace(out.String()))
}

// checkSwarmEngineView checks on one node of the swarm that only the engine
// proxy's task holds the node's engine socket, and that through the proxy's
// socket (in the volume it shares with the registrator, on that node) the
// node's containers are listed and a create is refused: the node's own
// docker CLI tries both.
func checkSwarmEngineView(t *testing.T, d *Deployer, node *swarmtest.Node) {
	t.Helper()
	ctx := context.Background()
	var proxy container.InspectResponse
	dockertest.Eventually(t, 30*time.Second, func() (bool, string) {
		list, err := node.Client.ContainerList(ctx, container.ListOptions{Filters: d.stackFilter()})
		if err != nil {
			return false, err.Error()
		}
		found := map[string]bool{}
		for _, c := range list {
			in, err := node.Client.ContainerInspect(ctx, c.ID)
			if err != nil {
				return false, err.Error()
			}
			svc := c.Labels[LabelService]
			found[svc] = true
			for _, m := range in.Mounts {
				if m.Type == "bind" && strings.HasSuffix(m.Destination, "docker.sock") && svc != ServiceEngineProxy {
					t.Errorf("%s mounts the engine's socket on %s: only the engine proxy may", in.Name, node.Name)
				}
			}
			// A task may be listed before it runs (or after an earlier
			// attempt exited); only a running proxy has made its socket.
			if svc == ServiceEngineProxy && in.State != nil && in.State.Running {
				proxy = in
			}
		}
		return found[ServiceEngineProxy] && found[ServiceRegistrator] && proxy.ContainerJSONBase != nil,
			fmt.Sprintf("on %s: services %v, want the proxy (running) and the registrator", node.Name, found)
	})
	if h := proxy.HostConfig; !h.ReadonlyRootfs || strings.Join(h.CapDrop, ",") != "ALL" || h.PidsLimit == nil {
		t.Errorf("the proxy's task on %s: %+v: want read-only root, every capability dropped, a pids limit", node.Name, h)
	}
	t.Logf("the proxy's task on %s: network mode %s, networks %d", node.Name, proxy.HostConfig.NetworkMode, len(proxy.NetworkSettings.Networks))
	sock := "unix:///var/lib/docker/volumes/" + d.EngineVolumeName() + "/_data/docker.sock"
	// Running is not yet listening: the socket appears once the proxy
	// has started serving.
	dockertest.Eventually(t, 30*time.Second, func() (bool, string) {
		out, err := exec.Command("docker", "exec", node.ContainerID, "docker", "-H", sock, "ps", "-q").CombinedOutput()
		return err == nil && len(strings.Fields(string(out))) > 0, fmt.Sprintf("docker ps through the proxy on %s: %v: %s", node.Name, err, out)
	})
	out, err := exec.Command("docker", "exec", node.ContainerID, "docker", "-H", sock, "create", "--name", "through-the-view", proxy.Config.Image).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "refused") {
		t.Errorf("docker create through the proxy on %s: %v: %s; want a refusal", node.Name, err, out)
	}
	if _, err := node.Client.ContainerInspect(ctx, "through-the-view"); !client.IsErrNotFound(err) {
		t.Errorf("the refused create made a container on %s anyway (inspect: %v)", node.Name, err)
	}
}
