package docker_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/model"
)

func TestDoRunsActions(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	ctx := context.Background()
	front := env.Name("front")
	env.CreateNetwork(t, "front", nil)
	id := env.Run(t, dockertest.ContainerSpec{Suffix: "node", Image: image, Networks: []string{front}, Start: true})
	e := connectTest(t, "")

	state := func() (running bool, exit int, started string) {
		t.Helper()
		c, err := env.Client.ContainerInspect(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.State.Running, c.State.ExitCode, c.State.StartedAt
	}
	_, _, firstStart := state()
	waitServing(t, env, id)
	steps := []struct {
		action  model.Action
		running bool
		exit    int
	}{
		{model.ActionStop, false, 0}, // the test server exits on SIGTERM
		{model.ActionStart, true, 0},
		{model.ActionRestart, true, 0},
		{model.ActionKill, false, 137},
	}
	for _, s := range steps {
		start := time.Now()
		if err := e.Do(ctx, s.action, id); err != nil {
			t.Fatalf("Do(%s): %v", s.action, err)
		}
		running, exit, started := state()
		if running != s.running || exit != s.exit {
			t.Errorf("after %s: running %v exit %d, want %v %d", s.action, running, exit, s.running, s.exit)
		}
		if s.action == model.ActionRestart && started == firstStart {
			t.Errorf("restart kept StartedAt %s", started)
		}
		t.Logf("Do(%s) took %v", s.action, time.Since(start).Round(time.Millisecond))
	}
	if err := e.Do(ctx, model.ActionKill, id); err == nil || !strings.Contains(err.Error(), "the container is not running") {
		t.Errorf("kill of a stopped container: %v", err)
	}
	if err := e.Do(ctx, model.Action("explode"), id); err == nil || !strings.Contains(err.Error(), `unknown action "explode"`) {
		t.Errorf("unknown action: %v", err)
	}

	// A container removed meanwhile: every action, and Details, says so.
	if err := env.Client.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []model.Action{model.ActionKill, model.ActionStop, model.ActionStart, model.ActionRestart} {
		err := e.Do(ctx, a, id)
		want := string(a) + " " + id[:12] + ": the container no longer exists"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Do(%s) on a removed container = %v, want %q...", a, err, want)
		}
	}
	if _, err := e.Details(ctx, id); err == nil || !strings.Contains(err.Error(), "inspect "+id[:12]+": the container no longer exists") {
		t.Errorf("Details of a removed container = %v", err)
	}
}

// The health check program: the scratch image has no shell, so the check
// is a second static binary that asks the test server for /health.
const healthSource = `package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://127.0.0.1:8080/health")
	if err != nil {
		fmt.Println("down:", err)
		os.Exit(1)
	}
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d %s", resp.StatusCode, body)
}
`

var healthImage struct {
	once sync.Once
	tag  string
	err  error
}

// healthServerImage builds, once, a FROM scratch image holding the test
// server as /app and its health check as /health, tagged by their hash.
func healthServerImage(t *testing.T) string {
	t.Helper()
	healthImage.once.Do(func() { healthImage.tag, healthImage.err = buildHealthServerImage() })
	if healthImage.err != nil {
		t.Fatalf("build health server image: %v", healthImage.err)
	}
	return healthImage.tag
}

func buildHealthServerImage() (string, error) {
	dir, err := os.MkdirTemp("", "topo-health-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(healthSource), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module healthcheck\n\ngo 1.26\n"), 0o644); err != nil {
		return "", err
	}
	build := func(workdir, out, pkg string) ([]byte, error) {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
		cmd.Dir = workdir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
		}
		return os.ReadFile(out)
	}
	health, err := build(src, filepath.Join(dir, "health"), ".")
	if err != nil {
		return "", err
	}
	wd, _ := os.Getwd()
	app, err := build(wd, filepath.Join(dir, "app"), "github.com/topo-dev/topo/internal/testserver")
	if err != nil {
		return "", err
	}
	sum := sha256.New()
	sum.Write(app)
	sum.Write(health)
	tag := "topo-test/healthserver:" + hex.EncodeToString(sum.Sum(nil))[:12]
	e, err := docker.Connect("")
	if err != nil {
		return "", err
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return tag, docker.BuildScratchImage(ctx, docker.SDK(e), tag, map[string][]byte{"app": app, "health": health},
		`ENTRYPOINT ["/app"]`, map[string]string{"topo.test-image": "1"})
}

func TestDetailsAndHealthEvents(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	image := healthServerImage(t)
	ctx := context.Background()
	front, back := env.Name("front"), env.Name("back")
	env.CreateNetwork(t, "front", nil)
	env.CreateNetwork(t, "back", nil)
	e := connectTest(t, "")
	w := startWatch(t, e, env.Prefix)
	w.waitFor(t, 5*time.Second, "first snapshot", func(w *watcher) (bool, string) { return w.snapshots == 1, "no snapshot" })

	// run starts a container checked every 100 ms, attached to back
	// with an alias; LISTEN elsewhere than 8080 makes it fail its check.
	run := func(suffix, listen string) string {
		resp, err := env.Client.ContainerCreate(ctx, &container.Config{
			Image: image, Labels: env.Labels(), Env: []string{"LISTEN=" + listen}, StopSignal: "SIGTERM",
			Healthcheck: &container.HealthConfig{Test: []string{"CMD", "/health"}, Interval: 100 * time.Millisecond, Timeout: 2 * time.Second, Retries: 1},
		}, &container.HostConfig{NetworkMode: container.NetworkMode(front)}, nil, nil, env.Name(suffix))
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Client.NetworkConnect(ctx, back, resp.ID, &network.EndpointSettings{Aliases: []string{suffix + "-alias"}}); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
			t.Fatal(err)
		}
		return resp.ID
	}
	before := time.Now()
	okID := run("ok", "8080")
	sickID := run("sick", "9999")

	health := func(id string, want model.Health) {
		t.Helper()
		w.waitFor(t, 5*time.Second, "health "+string(want), func(w *watcher) (bool, string) {
			c := w.topo.Containers[id]
			return c.Health == want, fmt.Sprintf("health %q", c.Health)
		})
		w.mu.Lock()
		defer w.mu.Unlock()
		ev, at, ok := w.eventApplied(func(ev model.Event) bool {
			return ev.ActorID == id && ev.Action == "health_status: "+string(want)
		})
		if !ok {
			t.Fatalf("%s became %s without a health_status event", id[:12], want)
		}
		t.Logf("health_status: %s → model %v", want, at.Sub(ev.Time).Round(100*time.Microsecond))
	}
	health(okID, model.HealthHealthy)
	health(sickID, model.HealthUnhealthy)

	tests := []struct {
		id, alias string
		health    model.Health
		log       string
	}{
		{okID, "ok-alias", model.HealthHealthy, "200 ok "},
		{sickID, "sick-alias", model.HealthUnhealthy, "down: "},
	}
	for _, tt := range tests {
		c, err := e.Details(ctx, tt.id)
		if err != nil {
			t.Fatalf("Details: %v", err)
		}
		if !c.Detailed || c.Health != tt.health || !strings.Contains(c.HealthLog, tt.log) {
			t.Errorf("%s: detailed %v health %q log %q, want %q with %q", c.Name, c.Detailed, c.Health, c.HealthLog, tt.health, tt.log)
		}
		if c.StartedAt.Before(before.Add(-time.Second)) || c.StartedAt.After(time.Now()) || !c.Created.Before(c.StartedAt) {
			t.Errorf("%s: created %v started %v, test began %v", c.Name, c.Created, c.StartedAt, before)
		}
		if c.Image != image || c.Command != "/app" || c.State != model.StateRunning || c.Labels[dockertest.LabelKey] != env.Prefix {
			t.Errorf("%s: image %q command %q state %q labels %v", c.Name, c.Image, c.Command, c.State, c.Labels)
		}
		var aliases []string
		for _, ep := range c.Endpoints {
			if ep.NetworkName == back {
				aliases = ep.Aliases
			}
			if ep.IPv4 == "" || ep.NetworkID == ep.NetworkName {
				t.Errorf("%s: endpoint %+v lacks an address or network ID", c.Name, ep)
			}
		}
		if !slices.Contains(aliases, tt.alias) {
			t.Errorf("%s: aliases on %s = %v, want %s", c.Name, back, aliases, tt.alias)
		}
		if len(c.Endpoints) != 2 {
			t.Errorf("%s: endpoints %v", c.Name, c.Endpoints)
		}
	}
}
