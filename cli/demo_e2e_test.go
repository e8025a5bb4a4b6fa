package cli

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/topo-dev/topo/demo/deploy"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// TestEndToEndDemoKeys is the demo on stage, in a real terminal on the real
// engine with the stand-in images: D deploys, g sends traffic, + adds an
// instance, x y kills it, T y tears everything down; the screen and the
// engine are checked at each step.
func TestEndToEndDemoKeys(t *testing.T) {
	requireDemoImages(t)
	env, d, port := demoProject(t)
	bin := tmuxtest.BuildTopo(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port)

	term := tmuxtest.Start(t, 160, 50, []string{
		envDemoProject + "=" + env.Prefix, envDemoLBPort + "=" + strconv.Itoa(port),
		deploy.EnvImageConsul + "=" + os.Getenv(deploy.EnvImageConsul),
		deploy.EnvImageMongo + "=" + os.Getenv(deploy.EnvImageMongo),
		deploy.EnvImageNginx + "=" + os.Getenv(deploy.EnvImageNginx),
	}, bin)
	term.WaitForText(10*time.Second, "bridge")
	term.Send("?")
	term.WaitForText(5*time.Second, "D deploy the demo")
	// Awaited: an Escape and a key typed together reach topo as one
	// alt-key (alt+D here), and the D was lost (CI, a loaded machine).
	term.Send("Escape")
	term.WaitFor(5*time.Second, "the help closed", func(s string) bool { return !strings.Contains(s, "D deploy the demo") })

	term.Send("D")
	term.WaitForText(90*time.Second, "ready: "+url)
	appCount := func() int {
		st, err := d.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st.Services {
			if s.Name == deploy.ServiceApp {
				return s.Running
			}
		}
		return 0
	}
	if n := appCount(); n != deploy.DefaultReplicas {
		t.Fatalf("after D: %d app instances running, want %d", n, deploy.DefaultReplicas)
	}
	checkLBBoundToLoopback(t, env, d, port)
	checkDemoStatusText(t, env, port, url)

	term.Send("g")
	term.WaitForText(10*time.Second, "traffic → "+url)

	term.Send("+")
	term.WaitForText(30*time.Second, "app: 3 instances")
	if n := appCount(); n != 3 {
		t.Fatalf("after +: %d app instances running, want 3", n)
	}

	// Select the new instance through the filter, then kill it.
	term.Send("/")
	term.Send("-l", d.ContainerName(deploy.ServiceApp, 3))
	term.Send("Enter")
	term.WaitFor(5*time.Second, "app.3 selected", func(s string) bool { return strings.Contains(s, "▶● app.3") })
	term.Send("x")
	term.WaitForText(5*time.Second, "Kill app.3")
	term.Send("y")
	term.WaitForText(10*time.Second, "killed app.3")
	if n := appCount(); n != 2 {
		t.Fatalf("after x y: %d app instances running, want 2", n)
	}

	// Isolation on the stage's example: from the load balancer, the
	// database is isolated, and the probe proves it.
	term.Send("Escape")
	term.WaitFor(5*time.Second, "the filter cleared", func(s string) bool { return !strings.Contains(s, "filter “") })
	term.Send("/")
	term.Send("-l", d.ContainerName(deploy.ServiceLB, 1))
	term.Send("Enter")
	term.WaitFor(5*time.Second, "lb.1 selected", func(s string) bool { return strings.Contains(s, "▶● lb.1") })
	term.Send("i")
	term.WaitFor(5*time.Second, "mongo.1 named isolated in the legend", func(s string) bool {
		_, isolated, ok := strings.Cut(s, "isolated (")
		return ok && strings.Contains(strings.SplitN(isolated, "\n", 2)[0], "mongo.1")
	})
	term.Send("p")
	term.WaitFor(30*time.Second, "the probe proving mongo.1 isolated", func(s string) bool {
		for _, line := range strings.Split(s, "\n") {
			// A row: ✓ mark, target, address, expectation, result.
			if strings.Contains(line, "✓") && strings.Contains(line, "mongo.1") && strings.Contains(line, "isolated") {
				return true
			}
		}
		return false
	})
	// Esc closes one thing at a time; each is awaited, since escapes typed
	// together reach a terminal program as one alt-escape sequence.
	term.Send("Escape")
	term.WaitFor(5*time.Second, "the probe panel closed", func(s string) bool { return !strings.Contains(s, "addresses probed") })
	term.Send("Escape")
	term.WaitFor(5*time.Second, "the overlay gone", func(s string) bool { return !strings.Contains(s, "isolation of") })
	term.Send("Escape")
	term.WaitFor(5*time.Second, "the filter gone", func(s string) bool { return !strings.Contains(s, "filter “") })

	term.Send("T")
	term.Send("y")
	term.WaitForText(60*time.Second, "the demo is gone")
	st, err := d.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// T keeps the data volume, as `topo demo down` does without --volumes.
	left := len(st.Networks)
	for _, svc := range st.Services {
		left += len(svc.Containers)
	}
	if st.Deployed || left != 0 {
		t.Fatalf("after T y the project still has %+v", st)
	}
	if out, err := runTopo(t, "demo", "status", "--project", env.Prefix, "--lb-port", strconv.Itoa(port)); err != nil ||
		strings.TrimSpace(out) != "project "+env.Prefix+" is not deployed: run `topo demo up`" {
		t.Errorf("topo demo status after T y: %v\n%s", err, out)
	}
	term.Send("q")
	term.WaitForText(10*time.Second, "[exited 0]")
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// checkLBBoundToLoopback reads from the engine, not from topo's settings,
// where the demo publishes ports: the load balancer on 127.0.0.1 only (the
// default), and no other container of the project on any host port.
func checkLBBoundToLoopback(t *testing.T, env *dockertest.Env, d *deploy.Deployer, port int) {
	t.Helper()
	ctx := context.Background()
	list, err := env.Client.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", deploy.LabelProject+"="+d.Project()))})
	if err != nil {
		t.Fatal(err)
	}
	lbName := d.ContainerName(deploy.ServiceLB, 1)
	var sawLB bool
	for _, c := range list {
		in, err := env.Client.ContainerInspect(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(in.Name, "/")
		var bound []string
		for p, bindings := range in.NetworkSettings.Ports {
			for _, b := range bindings {
				bound = append(bound, b.HostIP+":"+b.HostPort+"->"+string(p))
			}
		}
		if name != lbName {
			if len(bound) > 0 {
				t.Errorf("%s publishes %v: only the load balancer may be reachable from the host", name, bound)
			}
			continue
		}
		sawLB = true
		want := "127.0.0.1:" + strconv.Itoa(port) + "->80/tcp"
		if strings.Join(bound, ",") != want {
			t.Errorf("the load balancer is published on %v, want only %s (the default bind)", bound, want)
		}
	}
	if !sawLB {
		t.Errorf("no container %s among the project's %d", lbName, len(list))
	}
}

// checkDemoStatusText runs `topo demo status` on the deployed demo and
// checks its text against the engine: one row per service with the
// running count and the names of its containers, the registry's passing
// instances, the load balancer answering, the networks and the volume.
func checkDemoStatusText(t *testing.T, env *dockertest.Env, port int, url string) {
	t.Helper()
	ctx := context.Background()
	out, err := runTopo(t, "demo", "status", "--project", env.Prefix, "--lb-port", strconv.Itoa(port))
	if err != nil {
		t.Fatalf("topo demo status: %v\n%s", err, out)
	}
	lines := strings.Split(out, "\n")
	if lines[0] != "project "+env.Prefix {
		t.Errorf("status starts %q, want the project", lines[0])
	}
	project := filters.NewArgs(filters.Arg("label", deploy.LabelProject+"="+env.Prefix))
	list, err := env.Client.ContainerList(ctx, container.ListOptions{All: true, Filters: project})
	if err != nil {
		t.Fatal(err)
	}
	row := func(service string) string {
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 1 && f[0] == service {
				return l
			}
		}
		return ""
	}
	for _, svc := range deploy.Services {
		var running int
		var names []string
		for _, c := range list {
			if c.Labels[deploy.LabelService] != svc {
				continue
			}
			names = append(names, strings.TrimPrefix(c.Names[0], "/"))
			if c.State == "running" {
				running++
			}
		}
		r := row(svc)
		if f := strings.Fields(r); len(f) < 2 || f[1] != strconv.Itoa(running)+"/"+strconv.Itoa(running) {
			t.Errorf("status row of %s is %q; the engine runs %d of it", svc, r, running)
		}
		for _, n := range names {
			if !strings.Contains(r, n+" (Up ") {
				t.Errorf("status row of %s does not list %s as up: %q", svc, n, r)
			}
		}
	}
	if !strings.Contains(out, "registry  consul at ") {
		t.Errorf("status does not name the registry:\n%s", out)
	}
	if r := row(deploy.ServiceApp); r == "" {
		t.Errorf("no app row")
	}
	wantApp := "  " + deploy.ServiceApp + strings.Repeat(" ", 12-len(deploy.ServiceApp)) + " " + strconv.Itoa(deploy.DefaultReplicas) + " passing, 0 warning, 0 critical"
	if !strings.Contains(out, wantApp+"\n") {
		t.Errorf("status does not say %q:\n%s", wantApp, out)
	}
	if !strings.Contains(out, "lb        "+url+" answers (served by "+env.Prefix+"-app-") {
		t.Errorf("status does not say the load balancer answers at %s:\n%s", url, out)
	}
	nets, err := env.Client.NetworkList(ctx, network.ListOptions{Filters: project})
	if err != nil {
		t.Fatal(err)
	}
	vols, err := env.Client.VolumeList(ctx, volume.ListOptions{Filters: project})
	if err != nil {
		t.Fatal(err)
	}
	if len(nets) == 0 || len(vols.Volumes) == 0 {
		t.Fatalf("the engine lists %d networks and %d volumes of the project", len(nets), len(vols.Volumes))
	}
	for _, n := range nets {
		if !strings.Contains(out, "networks  ") || !strings.Contains(row("networks"), n.Name) {
			t.Errorf("status does not list the network %s:\n%s", n.Name, out)
		}
	}
	for _, v := range vols.Volumes {
		if !strings.Contains(row("volumes"), v.Name) {
			t.Errorf("status does not list the volume %s:\n%s", v.Name, out)
		}
	}
}
