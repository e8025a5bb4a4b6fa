package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/demo/deploy"
	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/swarmtest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// TestEndToEndClusterView points the real binary at the manager of a real
// three-node swarm (Docker-in-Docker on a private bridge): `w` shows the
// nodes and a service's tasks spread over them, and a node whose engine
// dies is shown DOWN on screen.
//
// Then the demo on keys across the nodes: D asks and s deploys the stack
// (its images loaded into every node beforehand, as a presenter would),
// + adds an app replica, g sends traffic through the load balancer, T y
// removes the stack.
func TestEndToEndClusterView(t *testing.T) {
	images := []string{dockertest.TestServerImage(t)}
	for _, k := range []string{deploy.EnvImageConsul, deploy.EnvImageMongo, deploy.EnvImageNginx} {
		if os.Getenv(k) == "" {
			testenv.Missing(t, "%s is not set: run `eval \"$(scripts/test-images.sh)\"` first (make test does)", k)
		}
		images = append(images, os.Getenv(k))
	}
	bin := tmuxtest.BuildTopo(t)
	outer := dockertest.New(t)
	self, err := docker.SelfImage(context.Background(), outer.Client, bin)
	if err != nil {
		t.Fatal(err)
	}
	cl := swarmtest.Start(t, swarmtest.Options{Images: append(images, self)})
	img := images[0]
	front := cl.CreateOverlay(t, cl.Env.Name("front"))
	web := cl.Env.Name("web")
	cl.CreateService(t, cl.ServiceSpec(web, img, 6, front))

	project := cl.Env.Prefix + "-demo"
	term := tmuxtest.Start(t, 200, 50, []string{"DOCKER_HOST=" + cl.Manager().Host,
		envDemoProject + "=" + project,
		deploy.EnvImageConsul + "=" + os.Getenv(deploy.EnvImageConsul),
		deploy.EnvImageMongo + "=" + os.Getenv(deploy.EnvImageMongo),
		deploy.EnvImageNginx + "=" + os.Getenv(deploy.EnvImageNginx),
	}, bin)
	term.WaitForText(10*time.Second, "● live")
	term.Send("w")
	term.WaitFor(60*time.Second, "three nodes and the service's six tasks running", func(s string) bool {
		for _, n := range cl.Nodes {
			if !strings.Contains(s, n.Name) {
				return false
			}
		}
		return strings.Contains(s, "6/6") && strings.Contains(s, web)
	})

	// The demo across the nodes, from the lanes view.
	term.Send("w")
	term.WaitFor(5*time.Second, "the lanes again", func(s string) bool { return !strings.Contains(s, "6/6") })
	term.Send("D")
	term.WaitForText(5*time.Second, "Deploy the demo as: s swarm services  e containers on this engine")
	term.Send("s")
	url := fmt.Sprintf("http://%s:%d", cl.Manager().IP, deploy.DefaultLBPort)
	term.WaitForText(120*time.Second, "ready: "+url)
	term.Send("+")
	term.WaitForText(30*time.Second, "app: 3 instances")
	// The registry panel ties the replicas registered on the workers to
	// their tasks there, rather than calling them stale.
	term.WaitFor(30*time.Second, "the workers' replicas linked to their tasks, none stale", func(s string) bool {
		linked := false
		for _, w := range cl.Nodes[1:] {
			linked = linked || strings.Contains(s, "on "+w.Name)
		}
		return linked && strings.Contains(s, "↳ task app.") && !strings.Contains(s, "STALE")
	})
	term.Send("g")
	term.WaitFor(30*time.Second, "traffic through the stack's load balancer, served by its replicas", func(s string) bool {
		if !strings.Contains(s, "traffic → "+url) {
			return false
		}
		for _, line := range strings.Split(s, "\n") {
			// A replica's row: its name without the project, its bar, its rate.
			if strings.Contains(line, "app.") && strings.Contains(line, "█") && strings.Contains(line, "/s") {
				return true
			}
		}
		return false
	})
	term.Send("g")
	term.Send("w")
	term.WaitFor(30*time.Second, "the stack's services in the cluster view, the app at 3/3", func(s string) bool {
		for _, line := range strings.Split(s, "\n") {
			// The stack's services go by their short names, under the stack.
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "app" && f[1] == "3/3" {
				return true
			}
		}
		return false
	})
	term.Send("w")
	term.Send("T")
	term.WaitForText(5*time.Second, "Tear down the demo")
	term.Send("y")
	term.WaitForText(60*time.Second, "the demo is gone")
	d, err := deploy.New(cl.Manager().Client, deploy.Options{Project: project})
	if err != nil {
		t.Fatal(err)
	}
	if mode, err := d.DeployedMode(context.Background()); err != nil || mode != deploy.ModeNone {
		t.Fatalf("after T y the stack is still there: mode %q, %v", mode, err)
	}
	term.Send("w")
	term.WaitForText(10*time.Second, "6/6")

	lost := cl.Nodes[2]
	cl.Kill(t, lost)
	term.WaitFor(30*time.Second, lost.Name+" shown DOWN", func(s string) bool {
		return strings.Contains(s, "✖ DOWN")
	})
	term.Send("q")
	term.WaitForText(10*time.Second, "[exited 0]")
}
