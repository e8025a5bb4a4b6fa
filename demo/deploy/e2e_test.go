package deploy

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/topo-dev/topo/demo/traffic"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
)

// TestDemoLifecycle is the demo on stage, on the real engine with the
// stand-in images: up, spread over both instances, a second up that
// changes nothing, scale to 4, a kill under traffic, scale to 1, down
// leaving everything that is not the project's.
func TestDemoLifecycle(t *testing.T) {
	d, env := newTestDeployer(t)
	ctx := context.Background()

	// Bystanders: a network and container of the test's own, and a
	// container of another compose project whose name starts the same.
	env.CreateNetwork(t, "bystander", nil)
	bystander := env.Run(t, dockertest.ContainerSpec{
		Suffix: "bystander", Image: dockertest.TestServerImage(t), Networks: []string{env.Name("bystander")}, Start: true,
	})
	otherProject := env.Run(t, dockertest.ContainerSpec{
		Suffix: "other", Image: dockertest.TestServerImage(t), Networks: []string{env.Name("bystander")},
		Labels: map[string]string{LabelProject: d.Project() + "-other", LabelService: ServiceApp, LabelNumber: "1"},
	})

	var steps stepLog
	start := time.Now()
	res, err := d.Up(ctx, UpOptions{Wait: true}, steps.add)
	if err != nil {
		t.Fatalf("up: %v\nsteps:\n%s", err, &steps)
	}
	t.Logf("up --wait in %v", time.Since(start).Round(time.Millisecond))
	if !res.Ready || res.URL != d.LBURL() {
		t.Fatalf("up returned %+v", res)
	}
	if last := steps.steps[len(steps.steps)-1]; last.Title != "ready: "+d.LBURL() {
		t.Errorf("last step %q, want the ready URL", last.Title)
	}

	st, err := d.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st.Services {
		want := 1
		if s.Name == ServiceApp {
			want = DefaultReplicas
		}
		if s.Running != want || s.Desired != want {
			t.Errorf("service %s: %d/%d running, want %d/%d", s.Name, s.Running, s.Desired, want, want)
		}
	}
	if len(st.Services) != len(Services) || !st.LB.Answers || st.Registry.Error != "" {
		t.Errorf("status: %+v", st)
	}
	waitServedByAll(t, d, 10*time.Second, appNames(d, 1, 2)...)
	if foreign, err := d.foreignObjects(ctx); err != nil || len(foreign) > 0 {
		t.Errorf("after up, objects of the project without %s=%s: %v (%v)", LabelOwner, OwnerTopo, foreign, err)
	}
	checkEngineView(t, d, env)

	// docker compose sees the project: the printed file's services and
	// the containers' labels agree.
	if bin, err := exec.LookPath("docker-compose"); err == nil {
		y, err := d.Compose(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-p", d.Project(), "-f", "-", "ps", "-q")
		cmd.Stdin = strings.NewReader(y)
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("docker-compose ps: %v: %s", err, stderr.String())
		}
		if n := len(strings.Fields(out.String())); n != 7 {
			t.Errorf("docker-compose -p %s ps lists %d containers, want 7:\n%s", d.Project(), n, out.String())
		}
	}

	// A second up creates nothing and restarts nothing.
	before := containerIDs(t, d)
	var again stepLog
	if _, err := d.Up(ctx, UpOptions{}, again.add); err != nil {
		t.Fatalf("second up: %v\n%s", err, &again)
	}
	if after := containerIDs(t, d); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("second up changed the containers: %v → %v", before, after)
	}
	for _, s := range again.finals() {
		if strings.Contains(s.Detail, "created") || strings.Contains(s.Detail, "started") {
			t.Errorf("second up: step %q: %s", s.Title, s.Detail)
		}
	}

	// Scale to 4: new numbers 3 and 4, registered and serving.
	if err := d.Scale(ctx, ServiceApp, 4, nil); err != nil {
		t.Fatalf("scale app=4: %v", err)
	}
	dockertest.Eventually(t, 10*time.Second, func() (bool, string) {
		reg := registered(t, d)
		for _, n := range appNames(d, 1, 2, 3, 4) {
			if reg[n] != "passing" {
				return false, "registry: " + mapString(reg)
			}
		}
		return len(reg) == 4, "registry: " + mapString(reg)
	})
	waitServedByAll(t, d, 10*time.Second, appNames(d, 1, 2, 3, 4)...)

	// Kill one under traffic: the registry drops it and the load balancer
	// goes back to serving every request. How fast is make bench's figure;
	// here the cause and the order: deregistered, then a clean run of
	// requests with no error at all.
	tctx, stopTraffic := context.WithCancel(ctx)
	snaps := make(chan traffic.Snapshot, 1)
	done := make(chan error, 1)
	go func() {
		done <- traffic.Run(tctx, traffic.Config{URL: d.LBURL(), Rate: 10, Timeout: 5 * time.Second, Interval: 100 * time.Millisecond}, snaps)
	}()
	var last traffic.Snapshot
	waitSnap := func(what string, cond func(traffic.Snapshot) bool) {
		t.Helper()
		// Generous: on a starved machine requests time out for want of
		// CPU, which says nothing about the failover this checks.
		deadline := time.After(3 * time.Minute)
		for {
			select {
			case s, ok := <-snaps:
				if !ok {
					t.Fatalf("traffic ended before %s", what)
				}
				last = s
				if cond(s) {
					return
				}
			case <-deadline:
				t.Fatalf("not within 3 minutes: %s (last: %d requests, %d errors: %s)", what, last.TotalRequests, last.TotalErrors, last.LastError)
			}
		}
	}
	waitSnap("10 requests sent", func(s traffic.Snapshot) bool { return s.TotalRequests >= 10 })
	victim := d.ContainerName(ServiceApp, 2)
	if err := env.Client.ContainerKill(ctx, victim, "KILL"); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	dockertest.Eventually(t, 30*time.Second, func() (bool, string) {
		reg := registered(t, d)
		_, still := reg[victim]
		return !still, victim + " still registered: " + mapString(reg)
	})
	t.Logf("registry dropped %s %v after the kill", victim, time.Since(killedAt).Round(time.Millisecond))
	// A clean run: 50 requests in a row answered, counted from the last
	// error seen, so the killed instance no longer takes any.
	errs, from := int64(-1), int64(0)
	waitSnap("50 requests in a row served after the kill", func(s traffic.Snapshot) bool {
		if s.TotalErrors != errs {
			errs, from = s.TotalErrors, s.TotalRequests
		}
		return s.TotalRequests-from >= 50
	})
	stopTraffic()
	for range snaps {
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("traffic: %d requests, %d errors (last %v after the kill), p95 %v", last.TotalRequests, last.TotalErrors, last.LastErrorAt.Sub(killedAt).Round(time.Millisecond), last.P95)

	// Scale to 1: the highest numbers go, the killed one with them.
	if err := d.Scale(ctx, ServiceApp, 1, nil); err != nil {
		t.Fatalf("scale app=1: %v", err)
	}
	if ids := containerNames(t, d, ServiceApp); strings.Join(ids, ",") != d.ContainerName(ServiceApp, 1) {
		t.Errorf("after scale app=1 the app containers are %v, want only %s", ids, d.ContainerName(ServiceApp, 1))
	}
	dockertest.Eventually(t, 5*time.Second, func() (bool, string) {
		reg := registered(t, d)
		return len(reg) == 1 && reg[d.ContainerName(ServiceApp, 1)] == "passing", "registry: " + mapString(reg)
	})

	// Someone else's container joins the project by its label: down
	// refuses, naming it, and removes nothing; once it is gone, down works.
	intruder := env.Run(t, dockertest.ContainerSpec{
		Suffix: "intruder", Image: dockertest.TestServerImage(t), Networks: []string{env.Name("bystander")},
		Labels: map[string]string{LabelProject: d.Project(), LabelService: "sidecar", LabelNumber: "1"},
	})
	c0, n0, v0 := projectObjects(t, d)
	if err := d.Down(ctx, true, nil); !errors.Is(err, ErrForeign) || !strings.Contains(err.Error(), "container "+env.Name("intruder")) {
		t.Errorf("down of a project holding another's container = %v, want a refusal naming %s", err, env.Name("intruder"))
	}
	if c, n, v := projectObjects(t, d); c != c0 || n != n0 || v != v0 {
		t.Errorf("the refused down changed the project: %d/%d/%d containers/networks/volumes, was %d/%d/%d", c, n, v, c0, n0, v0)
	}
	if err := env.Client.ContainerRemove(ctx, intruder, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}

	// Down removes exactly the project.
	start = time.Now()
	if err := d.Down(ctx, true, nil); err != nil {
		t.Fatalf("down: %v", err)
	}
	t.Logf("down in %v", time.Since(start).Round(time.Millisecond))
	if c, n, v := projectObjects(t, d); c+n+v != 0 {
		t.Errorf("after down: %d containers, %d networks, %d volumes of the project remain", c, n, v)
	}
	for _, id := range []string{bystander, otherProject} {
		if _, err := env.Client.ContainerInspect(ctx, id); err != nil {
			t.Errorf("down removed a container outside the project: %v", err)
		}
	}
	if _, err := env.Client.NetworkInspect(ctx, env.Name("bystander"), network.InspectOptions{}); err != nil {
		t.Errorf("down removed a network outside the project: %v", err)
	}
}

// TestUpFinishesHalfDoneDeploy interrupts a deploy after its first
// containers started, then runs up again: it must finish the job without
// creating anything twice.
func TestUpFinishesHalfDoneDeploy(t *testing.T) {
	d, _ := newTestDeployer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var steps stepLog
	_, err := d.Up(ctx, UpOptions{}, func(s Step) {
		steps.add(s)
		if s.Key == "container mongo-1" && s.State == StepDone {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted up returned %v, want context.Canceled\n%s", err, &steps)
	}
	half := containerIDs(t, d)
	if len(half) == 0 || len(half) >= 6 {
		t.Fatalf("the interrupted deploy left %d containers, want some but not all", len(half))
	}

	// Another program holds the load balancer's port: the deploy gets as
	// far as the load balancer and says what to do.
	busy, err := net.Listen("tcp", net.JoinHostPort(d.Options().LBBind, strconv.Itoa(d.Options().LBPort)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Up(context.Background(), UpOptions{}, nil)
	busy.Close()
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "--lb-port") {
		t.Fatalf("up with the port taken = %v, want an error naming the port and --lb-port", err)
	}

	if _, err := d.Up(context.Background(), UpOptions{Wait: true}, nil); err != nil {
		t.Fatalf("up after the failures: %v", err)
	}
	all := containerIDs(t, d)
	for _, id := range half {
		if !contains(all, id) {
			t.Errorf("the second up recreated container %.12s instead of finishing the deploy", id)
		}
	}
	for _, svc := range Services {
		want := 1
		if svc == ServiceApp {
			want = DefaultReplicas
		}
		if got := containerNames(t, d, svc); len(got) != want {
			t.Errorf("service %s has containers %v, want %d", svc, got, want)
		}
	}
	waitServedByAll(t, d, 10*time.Second, appNames(d, 1, 2)...)
}

// TestBadInput: a wrong request says what is wrong and touches nothing.
func TestBadInput(t *testing.T) {
	d, env := newTestDeployer(t)
	ctx := context.Background()

	for _, tc := range []struct {
		service string
		n       int
		want    string
	}{
		{"web", 2, "unknown service"},
		{"mongo", 2, "runs exactly one instance"},
		{"app", -1, "cannot scale"},
		{"app", 51, "more than this demo allows"},
	} {
		if err := d.Scale(ctx, tc.service, tc.n, nil); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Scale(%s, %d) = %v, want a bad-input error saying %q", tc.service, tc.n, err, tc.want)
		}
	}
	if err := d.Scale(ctx, ServiceApp, 3, nil); err == nil || !strings.Contains(err.Error(), "not deployed") {
		t.Errorf("Scale of a project never deployed = %v, want 'not deployed'", err)
	}
	if _, err := d.Up(ctx, UpOptions{Replicas: 51}, nil); !errors.Is(err, ErrBadInput) {
		t.Errorf("Up with 51 replicas = %v, want a bad-input error", err)
	}

	// A missing image that cannot be pulled (nothing listens on port 1)
	// fails before anything is created, naming the way out.
	missing := "127.0.0.1:1/topo-test/missing:none"
	opts := d.Options()
	opts.Images.Mongo = missing
	bad, err := New(env.Client, opts)
	if err != nil {
		t.Fatal(err)
	}
	var steps stepLog
	_, err = bad.Up(ctx, UpOptions{}, steps.add)
	if err == nil {
		t.Fatal("up with a missing image succeeded")
	}
	for _, want := range []string{missing, "pulling it failed", "topo demo images --pull", EnvImageMongo} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	if c, n, v := projectObjects(t, d); c+n+v != 0 {
		t.Errorf("a failed image check left %d containers, %d networks, %d volumes", c, n, v)
	}
	if f := steps.finals()["image mongo"]; f.State != StepFailed {
		t.Errorf("the mongo image step ended %v, want failed\n%s", f.State, &steps)
	}
}

func containerIDs(t testing.TB, d *Deployer) []string {
	t.Helper()
	list, err := d.api.ContainerList(context.Background(), container.ListOptions{All: true, Filters: d.projectFilter()})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	sort.Strings(ids)
	return ids
}

func containerNames(t testing.TB, d *Deployer, service string) []string {
	t.Helper()
	by, err := d.containers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range by[service] {
		names = append(names, c.Name)
	}
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func mapString(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, " ") + "}"
}

// checkEngineView checks, on a deployed project, that the engine proxy is
// the only container holding the engine's socket, that the registrator
// (which registered the app through it, as the caller saw) reaches the
// engine only through the proxy's socket, and that through that socket a
// create is refused while listing works. The socket is dialled where the
// engine keeps the volume on its host, which is this machine.
func checkEngineView(t *testing.T, d *Deployer, env *dockertest.Env) {
	t.Helper()
	ctx := context.Background()
	list, err := env.Client.ContainerList(ctx, container.ListOptions{Filters: d.projectFilter()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		in, err := env.Client.ContainerInspect(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		svc := c.Labels[LabelService]
		for _, m := range in.Mounts {
			if m.Type == "bind" && strings.HasSuffix(m.Destination, "docker.sock") && svc != ServiceEngineProxy {
				t.Errorf("%s mounts the engine's socket (%s): only the engine proxy may", in.Name, m.Source)
			}
		}
		if svc == ServiceRegistrator && !slices.Contains(in.Config.Env, "DOCKER_HOST=unix:///run/topo-engine/docker.sock") {
			t.Errorf("the registrator's environment %v does not point it at the proxy", in.Config.Env)
		}
	}
	vol, err := env.Client.VolumeInspect(ctx, d.EngineVolumeName())
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(vol.Mountpoint, "docker.sock")
	if _, err := os.Stat(sock); err != nil {
		testenv.Missing(t, "the engine proxy's socket is not on this machine (%v): this check needs the engine local and the test run as root", err)
	}
	view, err := client.NewClientWithOpts(client.WithHost("unix://"+sock), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer view.Close()
	seen, err := view.ContainerList(ctx, container.ListOptions{Filters: d.projectFilter()})
	if err != nil || len(seen) != len(list) {
		t.Errorf("list through the deployed proxy: %d containers, %v; want %d", len(seen), err, len(list))
	}
	name := env.Name("through-the-view")
	_, err = view.ContainerCreate(ctx, &container.Config{Image: dockertest.TestServerImage(t), Labels: env.Labels()}, nil, nil, nil, name)
	if !cerrdefs.IsPermissionDenied(err) {
		t.Errorf("create through the deployed proxy: %v, want 403", err)
	}
	if _, err := env.Client.ContainerInspect(ctx, name); !client.IsErrNotFound(err) {
		t.Errorf("the refused create made a container anyway (inspect: %v)", err)
	}
}
