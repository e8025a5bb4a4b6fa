package engineproxy_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/topo-dev/topo/demo/engineproxy"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
)

// engineSocket is the unix socket of the engine the tests use.
func engineSocket(t *testing.T) string {
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		return "/var/run/docker.sock"
	}
	p, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		testenv.Missing(t, "DOCKER_HOST=%s: the engine proxy needs the engine's unix socket", host)
	}
	return p
}

// Through the proxy the registrator's calls work on the real engine (ping
// with version negotiation, info, list, inspect, events as they happen),
// and a write is refused with 403 and never reaches the engine.
func TestEngineThroughProxyReadsAndRefusesWrites(t *testing.T) {
	env := dockertest.New(t)
	upstream := engineSocket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := engineproxy.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- engineproxy.Serve(sctx, l, engineproxy.NewHandler(engineproxy.UnixDialer(upstream), slog.New(slog.DiscardHandler)))
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	cli, err := client.NewClientWithOpts(client.WithHost("unix://"+sock), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	if _, err := cli.Ping(ctx); err != nil {
		t.Fatalf("ping through the proxy: %v", err)
	}
	if _, err := cli.Info(ctx); err != nil {
		t.Fatalf("info through the proxy: %v", err)
	}
	mine := filters.NewArgs(filters.Arg("label", dockertest.LabelKey+"="+env.Prefix))
	evs, errs := cli.Events(ctx, events.ListOptions{Filters: mine})

	img := dockertest.TestServerImage(t)
	id := env.Run(t, dockertest.ContainerSpec{Suffix: "bystander", Image: img, Start: true})
	for started := false; !started; {
		select {
		case e := <-evs:
			started = e.Action == events.ActionStart && e.Actor.ID == id
		case err := <-errs:
			t.Fatalf("events through the proxy: %v", err)
		case <-ctx.Done():
			t.Fatal("no start event came through the proxy")
		}
	}
	list, err := cli.ContainerList(ctx, container.ListOptions{Filters: mine})
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("list through the proxy: %d containers, %v; want the test's one", len(list), err)
	}
	if in, err := cli.ContainerInspect(ctx, id); err != nil || !in.State.Running {
		t.Fatalf("inspect through the proxy: %v", err)
	}

	// Writes, and reads the registrator does not need.
	name := env.Name("created-through-proxy")
	_, err = cli.ContainerCreate(ctx, &container.Config{Image: img, Labels: env.Labels()}, nil, nil, nil, name)
	if !cerrdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("create through the proxy: %v, want 403 refused", err)
	}
	if _, err := env.Client.ContainerInspect(ctx, name); !client.IsErrNotFound(err) {
		t.Errorf("the refused create made a container anyway (inspect: %v)", err)
	}
	if err := cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); !cerrdefs.IsPermissionDenied(err) {
		t.Errorf("remove through the proxy: %v, want 403", err)
	}
	if err := cli.ContainerKill(ctx, id, "KILL"); !cerrdefs.IsPermissionDenied(err) {
		t.Errorf("kill through the proxy: %v, want 403", err)
	}
	if _, err := cli.ImageList(ctx, image.ListOptions{}); !cerrdefs.IsPermissionDenied(err) {
		t.Errorf("image list through the proxy: %v, want 403", err)
	}
	if _, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true}); !cerrdefs.IsPermissionDenied(err) {
		t.Errorf("logs through the proxy: %v, want 403", err)
	}
	if in, err := env.Client.ContainerInspect(ctx, id); err != nil || !in.State.Running {
		t.Errorf("the container the refused calls aimed at is not running as before: %v", err)
	}
}
