package main

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"topo/demo/deploy"
	"topo/internal/dockertest"
	"topo/internal/testenv"
	"topo/internal/tmuxtest"
)

// TestEndToEndDemoKeys is the demo on stage, in a real terminal on the real
// engine with the stand-in images: D deploys, g sends traffic, + adds an
// instance, x y kills it, T y tears everything down; the screen and the
// engine are checked at each step.
func TestEndToEndDemoKeys(t *testing.T) {
	for _, k := range []string{deploy.EnvImageConsul, deploy.EnvImageMongo, deploy.EnvImageNginx} {
		if os.Getenv(k) == "" {
			testenv.Missing(t, "%s is not set: run `eval \"$(scripts/test-images.sh)\"` first (make test does)", k)
		}
	}
	env := dockertest.New(t)
	bin := tmuxtest.BuildTopo(t)
	port := freeTCPPort(t)
	d, err := deploy.New(env.Client, deploy.Options{Project: env.Prefix, LBPort: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := d.Down(ctx, true, nil); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
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
	term.Send("Escape")

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
