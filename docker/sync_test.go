package docker_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/model"
)

// ipsOf reads a container's addresses per network name from the engine.
func ipsOf(t *testing.T, env *dockertest.Env, id string) map[string]string {
	t.Helper()
	c, err := env.Client.ContainerInspect(context.Background(), id)
	if err != nil {
		t.Fatalf("inspect %s: %v", id, err)
	}
	out := map[string]string{}
	for name, es := range c.NetworkSettings.Networks {
		out[name] = es.IPAddress
	}
	return out
}

// endpointIPs is the same view of a model container.
func endpointIPs(c model.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Endpoints {
		out[e.NetworkName] = e.IPv4
	}
	return out
}

func TestSyncShowsNetworksContainersIPsAndStates(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	ctx := context.Background()
	front, back := env.Name("front"), env.Name("back")
	frontID := env.CreateNetwork(t, "front", nil)
	backID := env.CreateNetwork(t, "back", nil)

	web := env.Run(t, dockertest.ContainerSpec{Suffix: "web", Image: image, Networks: []string{front}, Start: true})
	api := env.Run(t, dockertest.ContainerSpec{Suffix: "api", Image: image, Networks: []string{front, back}, Start: true,
		Labels: map[string]string{model.LabelComposeProject: "shop", model.LabelComposeService: "api", model.LabelComposeNumber: "2"}})
	fresh := env.Run(t, dockertest.ContainerSpec{Suffix: "fresh", Image: image, Networks: []string{back, front}})
	done := env.Run(t, dockertest.ContainerSpec{Suffix: "done", Image: image, Networks: []string{back}, Start: true})
	waitServing(t, env, done)
	timeout := 5
	if err := env.Client.ContainerStop(ctx, done, container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	// A published port: the engine lists it once per address family.
	resp, err := env.Client.ContainerCreate(ctx, &container.Config{Image: image, Labels: env.Labels(),
		ExposedPorts: nat.PortSet{"8080/tcp": {}, "9090/udp": {}}},
		&container.HostConfig{NetworkMode: container.NetworkMode(front),
			PortBindings: nat.PortMap{"8080/tcp": {{HostIP: "", HostPort: ""}}}}, nil, nil, env.Name("pub"))
	if err != nil {
		t.Fatal(err)
	}
	pub := resp.ID
	if err := env.Client.ContainerStart(ctx, pub, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}

	e := connectTest(t, "")
	start := time.Now()
	topo, err := e.Sync(ctx)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	t.Logf("Sync took %v for %d networks and %d containers", time.Since(start), len(topo.Networks), len(topo.Containers))

	for id, name := range map[string]string{frontID: front, backID: back} {
		n, ok := topo.Networks[id]
		if !ok {
			t.Fatalf("network %s missing from Sync", name)
		}
		if n.Name != name || n.Driver != "bridge" || n.Scope != "local" || len(n.Subnets) == 0 || n.Labels[dockertest.LabelKey] != env.Prefix {
			t.Errorf("network %s = %+v", name, n)
		}
	}
	for _, builtIn := range []string{"bridge", "host", "none"} {
		if _, ok := topo.FindNetwork(builtIn); !ok {
			t.Errorf("built-in network %s missing", builtIn)
		}
	}

	want := []struct {
		id, name, display string
		state             model.State
		nets              []string
	}{
		{web, env.Name("web"), env.Name("web"), model.StateRunning, []string{front}},
		{api, env.Name("api"), "api.2", model.StateRunning, []string{back, front}},
		{fresh, env.Name("fresh"), env.Name("fresh"), model.StateCreated, []string{back, front}},
		{done, env.Name("done"), env.Name("done"), model.StateExited, []string{back}},
		{pub, env.Name("pub"), env.Name("pub"), model.StateRunning, []string{front}},
	}
	for _, w := range want {
		c, ok := topo.Containers[w.id]
		if !ok {
			t.Errorf("container %s missing from Sync", w.name)
			continue
		}
		if c.Name != w.name || c.DisplayName() != w.display || c.State != w.state || c.Image != image || c.Command != "/app" {
			t.Errorf("%s: name %q display %q state %q image %q command %q", w.name, c.Name, c.DisplayName(), c.State, c.Image, c.Command)
		}
		if c.Labels[dockertest.LabelKey] != env.Prefix {
			t.Errorf("%s: labels %v", w.name, c.Labels)
		}
		var nets []string
		for _, ep := range c.Endpoints {
			nets = append(nets, ep.NetworkName)
		}
		if !sameSet(nets, w.nets) {
			t.Errorf("%s: networks %v, want %v", w.name, nets, w.nets)
		}
		engineIPs := ipsOf(t, env, w.id)
		if got := endpointIPs(c); !reflect.DeepEqual(got, engineIPs) {
			t.Errorf("%s: IPs %v, engine says %v", w.name, got, engineIPs)
		}
		for net, ip := range endpointIPs(c) {
			if (ip != "") != (w.state == model.StateRunning) {
				t.Errorf("%s: IP on %s is %q in state %s", w.name, net, ip, w.state)
			}
		}
	}
	if c := topo.Containers[done]; c.ExitCode != 0 {
		t.Errorf("stopped test server exit code %d, want 0 (it exits on SIGTERM)", c.ExitCode)
	}
	// 8080/tcp is published on every address: once, or (Docker 20.10's
	// port allocator racing other work on the engine) on two host ports,
	// one per address family, both real; 9090/udp exposed, unpublished.
	got := topo.Containers[pub].Ports
	published, unpublished := 0, 0
	for _, p := range got {
		switch {
		case p.Private == 8080 && p.Public != 0 && p.HostIP == "0.0.0.0" && p.Protocol == "tcp":
			published++
		case p == (model.Port{Private: 9090, Protocol: "udp"}):
			unpublished++
		default:
			t.Errorf("unexpected port %+v", p)
		}
	}
	if published < 1 || published > 2 || unpublished != 1 {
		t.Errorf("published ports = %+v, want 8080/tcp on 0.0.0.0 (once, or once per address family) and 9090/udp unpublished", got)
	}

	// The lanes: only the test's containers, each in the same column of
	// every lane it is on, the created one included.
	l := topo.Layout(model.LayoutOptions{Filter: dockertest.LabelKey + "=" + env.Prefix})
	if len(l.Columns) != len(want) {
		t.Fatalf("layout has %d columns, want %d: %v", len(l.Columns), len(want), l.Columns)
	}
	for _, w := range want {
		for _, net := range w.nets {
			n, _ := topo.FindNetwork(net)
			lane, col, ok := l.Position(w.id, n.ID)
			if !ok || l.Lanes[lane].Name != net || !l.Attached(lane, col) {
				t.Errorf("%s not on lane %s (lane %d col %d ok %v)", w.name, net, lane, col, ok)
			}
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestProbeDescribesTheEngine(t *testing.T) {
	t.Parallel()
	dockertest.New(t) // skips without an engine
	e := connectTest(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := e.Ping(ctx)
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if info.Version == "" || info.APIVersion == "" || info.OS == "" || info.Name == "" || info.Host == "" || info.Source == "" {
		t.Errorf("Probe = %+v", info)
	}
	// Negotiation settles on the older of the client's and the engine's API.
	if v := docker.SDK(e).ClientVersion(); v > info.APIVersion || !strings.HasPrefix(v, "1.") {
		t.Errorf("client API %s, engine API %s", v, info.APIVersion)
	}
	t.Logf("engine %s (API %s, client at %s) at %s (%s)", info.Version, info.APIVersion, docker.SDK(e).ClientVersion(), info.Host, info.Source)
}

// Regression: the list call gives an exited container's code only in its
// status text ("Exited (137) 2 seconds ago"), and Sync read none: until an
// event about it arrived, a killed container was shown as exited(0).
func TestSyncShowsTheExitCodeOfAKilledContainer(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	ctx := context.Background()
	env.CreateNetwork(t, "front", nil)
	id := env.Run(t, dockertest.ContainerSpec{Suffix: "killed", Image: image, Networks: []string{env.Name("front")}, Start: true})
	if err := env.Client.ContainerKill(ctx, id, "KILL"); err != nil {
		t.Fatal(err)
	}
	dockertest.Eventually(t, 5*time.Second, func() (bool, string) {
		c, err := env.Client.ContainerInspect(ctx, id)
		return err == nil && !c.State.Running, "still running"
	})
	topo, err := connectTest(t, "").Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := topo.Containers[id]; c.State != model.StateExited || c.ExitCode != 137 {
		t.Errorf("killed container: state %s exit code %d, want exited 137", c.State, c.ExitCode)
	}
}
