package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// logCountingProxy is a loopback HTTP proxy in front of the engine that
// counts the log requests still open, so a test sees topo end its own.
type logCountingProxy struct {
	addr string
	open atomic.Int64
}

func newLogCountingProxy(t *testing.T) *logCountingProxy {
	t.Helper()
	network, upstream := "unix", "/var/run/docker.sock"
	switch host := os.Getenv("DOCKER_HOST"); {
	case host == "":
	case strings.HasPrefix(host, "unix://"):
		upstream = strings.TrimPrefix(host, "unix://")
	case strings.HasPrefix(host, "tcp://"):
		network, upstream = "tcp", strings.TrimPrefix(host, "tcp://")
	default:
		testenv.Missing(t, "cannot proxy DOCKER_HOST=%s: point DOCKER_HOST at a unix socket or tcp address", host)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &logCountingProxy{addr: ln.Addr().String()}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: "docker"})
	rp.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, upstream)
	}}
	// Events and log lines must reach topo as they come.
	rp.FlushInterval = -1
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/logs") {
			p.open.Add(1)
			defer p.open.Add(-1)
		}
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

// TestEndToEndStorageLanesAndLogs runs the real binary against the real
// engine (through a proxy counting log requests): v shows a volume two
// containers share, with their modes and paths, and an unused one, live
// as a third container mounts it; l on a container printing known lines
// follows them, and / finds them, stderr marked; esc closes the logs and
// the request to the engine ends.
func TestEndToEndStorageLanesAndLogs(t *testing.T) {
	env := dockertest.New(t)
	image := dockertest.LogTalkerImage(t)
	bin := tmuxtest.BuildTopo(t)
	proxy := newLogCountingProxy(t)
	ctx := context.Background()
	netName := env.Name("e2e")
	env.CreateNetwork(t, "e2e", nil)
	shared, spare := env.Name("shared"), env.Name("spare")
	for _, name := range []string{shared, spare} {
		if _, err := env.Client.VolumeCreate(ctx, volume.CreateOptions{Name: name, Labels: env.Labels()}); err != nil {
			t.Fatalf("create volume %s: %v", name, err)
		}
	}
	run := func(suffix, vol, dest string, readOnly bool) {
		t.Helper()
		resp, err := env.Client.ContainerCreate(ctx, &container.Config{Image: image, Labels: env.Labels(), Env: []string{"LINES=6"}},
			&container.HostConfig{NetworkMode: container.NetworkMode(netName), Mounts: []mount.Mount{
				{Type: mount.TypeVolume, Source: vol, Target: dest, ReadOnly: readOnly},
			}}, nil, nil, env.Name(suffix))
		if err != nil {
			t.Fatalf("create %s: %v", suffix, err)
		}
		if err := env.Client.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
			t.Fatalf("start %s: %v", suffix, err)
		}
	}
	run("writer", shared, "/data", false)
	run("reader", shared, "/backup", true)

	term := tmuxtest.Start(t, 120, 40, nil, bin, "--host", "tcp://"+proxy.addr)
	term.WaitForText(10*time.Second, "● live")
	// The engine is shared: the filter keeps this test's containers and
	// volumes only.
	term.Send("/")
	term.Send("-l", env.Prefix)
	term.Send("Enter")
	term.WaitForText(5*time.Second, "filter “"+env.Prefix+"”")

	term.Send("v")
	screen := term.WaitFor(10*time.Second, "the shared volume with both containers and the spare one unused", func(s string) bool {
		return strings.Contains(s, "═══ "+shared+" local · 2 containers") && strings.Contains(s, spare+" local · unused")
	})
	for _, want := range []string{"rw /data", "ro /backup", "Storage · 2 volumes, 1 unused"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the storage lanes lack %q:\n%s", want, screen)
		}
	}
	run("late", spare, "/spare", false)
	term.WaitFor(10*time.Second, "the spare volume mounted by the late container", func(s string) bool {
		return strings.Contains(s, "═══ "+spare+" local · 1 container") && strings.Contains(s, "rw /spare")
	})

	term.Send("l")
	term.WaitFor(10*time.Second, "the logs followed", func(s string) bool {
		return strings.Contains(s, "Logs of "+env.Prefix) && strings.Contains(s, "tick ")
	})
	// The talker ticks ten times a second: by now its numbered lines may
	// have scrolled off the top, and a search brings them back.
	term.Send("/")
	term.Send("-l", "out 5")
	term.Send("Enter")
	screen = term.WaitFor(10*time.Second, "the numbered lines around the match", func(s string) bool {
		return strings.Contains(s, "“out 5”: 1 of 1") && strings.Contains(s, "tick 1")
	})
	for _, want := range []string{" err err 2", " err err 6", "     out 1", "     out 3", "▶    out 5"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the logs lack %q (stderr marked, stdout not):\n%s", want, screen)
		}
	}
	if n := proxy.open.Load(); n != 1 {
		t.Errorf("%d log requests open while the logs pane follows, want 1", n)
	}
	term.Send("Escape")
	term.WaitFor(5*time.Second, "the logs pane closed", func(s string) bool { return !strings.Contains(s, "Logs of ") })
	dockertest.Eventually(t, 30*time.Second, func() (bool, string) {
		n := proxy.open.Load()
		return n == 0, fmt.Sprintf("%d log requests still open after the pane closed", n)
	})

	term.Send("q")
	term.WaitForText(5*time.Second, "[exited 0]")
}
