// Package dockertest gives tests a real Docker engine to work on safely: a
// unique name prefix and label for everything a test creates, removal of
// exactly those objects afterwards, and locally built FROM scratch images so
// that no test ever needs a registry.
package dockertest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/testenv"
)

// LabelKey marks every object a test creates; its value is the test's prefix.
const LabelKey = "topo.test"

// Env is one test's share of the engine.
type Env struct {
	Client *client.Client
	// Prefix starts the name of every object this test creates.
	Prefix string
}

// New connects to the engine (skipping the test when TOPO_SKIP_DOCKER is
// set) and registers the removal of everything labelled with the test's
// prefix.
func New(t testing.TB) *Env {
	t.Helper()
	if os.Getenv("TOPO_SKIP_DOCKER") != "" {
		testenv.Missing(t, "TOPO_SKIP_DOCKER is set: this test needs the Docker engine")
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		t.Fatalf("docker engine not answering (start dockerd; .ci/run does): %v", err)
	}
	env := &Env{Client: cli, Prefix: "topotest-" + randomHex(4)}
	t.Cleanup(func() {
		env.RemoveAll(t)
		cli.Close()
	})
	return env
}

// Labels returns the label set that marks an object as this test's.
func (e *Env) Labels() map[string]string {
	return map[string]string{LabelKey: e.Prefix}
}

// Name returns a name unique to this test.
func (e *Env) Name(suffix string) string { return e.Prefix + "-" + suffix }

// RemoveAll removes the containers, networks and volumes carrying this
// test's label, and nothing else.
func (e *Env) RemoveAll(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := filters.NewArgs(filters.Arg("label", LabelKey+"="+e.Prefix))
	containers, err := e.Client.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		t.Errorf("cleanup: list containers: %v", err)
	}
	for _, c := range containers {
		if err := e.Client.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !client.IsErrNotFound(err) {
			t.Errorf("cleanup: remove container %s: %v", c.Names, err)
		}
	}
	networks, err := e.Client.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		t.Errorf("cleanup: list networks: %v", err)
	}
	for _, n := range networks {
		if err := e.Client.NetworkRemove(ctx, n.ID); err != nil && !client.IsErrNotFound(err) {
			t.Errorf("cleanup: remove network %s: %v", n.Name, err)
		}
	}
	volumes, err := e.Client.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		t.Errorf("cleanup: list volumes: %v", err)
	}
	for _, v := range volumes.Volumes {
		if err := e.Client.VolumeRemove(ctx, v.Name, true); err != nil && !client.IsErrNotFound(err) {
			t.Errorf("cleanup: remove volume %s: %v", v.Name, err)
		}
	}
}

// CreateNetwork creates a bridge network named Name(suffix) carrying the
// test's label and returns its ID.
func (e *Env) CreateNetwork(t testing.TB, suffix string, options map[string]string) string {
	t.Helper()
	resp, err := e.Client.NetworkCreate(context.Background(), e.Name(suffix), network.CreateOptions{
		Driver: "bridge", Labels: e.Labels(), Options: options,
	})
	if err != nil {
		t.Fatalf("create network %s: %v", e.Name(suffix), err)
	}
	return resp.ID
}

// ContainerSpec describes a test container: its networks are attached
// before it starts, because this engine refuses several networks at create.
type ContainerSpec struct {
	Suffix   string
	Image    string
	Env      []string
	Labels   map[string]string
	Networks []string // names or IDs; the first is the create-time network
	Start    bool
}

// Run creates (and with Start, starts) a container and returns its ID.
func (e *Env) Run(t testing.TB, spec ContainerSpec) string {
	t.Helper()
	ctx := context.Background()
	labels := e.Labels()
	for k, v := range spec.Labels {
		labels[k] = v
	}
	hostConfig := &container.HostConfig{}
	if len(spec.Networks) > 0 {
		hostConfig.NetworkMode = container.NetworkMode(spec.Networks[0])
	}
	resp, err := e.Client.ContainerCreate(ctx, &container.Config{
		Image: spec.Image, Env: spec.Env, Labels: labels, StopSignal: "SIGTERM",
	}, hostConfig, nil, nil, e.Name(spec.Suffix))
	if err != nil {
		t.Fatalf("create container %s: %v", e.Name(spec.Suffix), err)
	}
	for _, n := range spec.Networks[min(1, len(spec.Networks)):] {
		if err := e.Client.NetworkConnect(ctx, n, resp.ID, nil); err != nil {
			t.Fatalf("connect %s to %s: %v", e.Name(spec.Suffix), n, err)
		}
	}
	if spec.Start {
		if err := e.Client.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
			t.Fatalf("start %s: %v", e.Name(spec.Suffix), err)
		}
	}
	return resp.ID
}

var testServerImage struct {
	once sync.Once
	tag  string
	err  error
}

// TestServerImage builds (once per process, and once per content on the
// engine) a FROM scratch image of internal/testserver and returns its tag.
func TestServerImage(t testing.TB) string {
	t.Helper()
	testServerImage.once.Do(func() {
		testServerImage.tag, testServerImage.err = buildGoImage("topo-test/testserver", "github.com/topo-dev/topo/internal/testserver", nil)
	})
	if testServerImage.err != nil {
		t.Fatalf("build test server image: %v", testServerImage.err)
	}
	return testServerImage.tag
}

// buildGoImage compiles a Go package statically for the engine's platform
// and wraps it in a FROM scratch image tagged repo:<hash of the binary>, so a
// rebuild with unchanged inputs costs only the go build cache hit.
func buildGoImage(repo, pkg string, env []string) (string, error) {
	dir, err := os.MkdirTemp("", "topo-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	binary := filepath.Join(dir, "app")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", binary, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	cmd.Env = append(cmd.Env, env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	data, err := os.ReadFile(binary)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	tag := repo + ":" + hex.EncodeToString(sum[:])[:12]
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return "", err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return tag, docker.BuildScratchImage(ctx, cli, tag, map[string][]byte{"app": data}, `ENTRYPOINT ["/app"]`,
		map[string]string{"topo.test-image": "1"})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Eventually polls cond until it returns true or the deadline passes, then
// fails the test with the last reason cond gave.
func Eventually(t testing.TB, within time.Duration, cond func() (bool, string)) {
	t.Helper()
	within = testenv.Patience(within)
	deadline := time.Now().Add(within)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
