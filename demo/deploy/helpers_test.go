package deploy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
)

// testImages returns the stand-in images from the environment (make test
// sets them from scripts/test-images.sh), skipping the test without them.
func testImages(t testing.TB) Images {
	t.Helper()
	im := Images{Consul: os.Getenv(EnvImageConsul), Mongo: os.Getenv(EnvImageMongo), Nginx: os.Getenv(EnvImageNginx)}
	if im.Consul == "" || im.Mongo == "" || im.Nginx == "" {
		testenv.Missing(t, "the demo's images are not named: run `eval \"$(scripts/test-images.sh)\"` first (make test does), which sets %s, %s and %s",
			EnvImageConsul, EnvImageMongo, EnvImageNginx)
	}
	return im
}

var selfBin struct {
	once sync.Once
	path string
	err  error
}

// selfBinary is a static build of topo (the module's main package), which
// the app and registrator containers run; TOPO_SELF_BINARY names a
// prebuilt one instead.
func selfBinary(t testing.TB) string {
	t.Helper()
	selfBin.once.Do(func() {
		if p := os.Getenv("TOPO_SELF_BINARY"); p != "" {
			selfBin.path = p
		} else {
			dir, err := os.MkdirTemp("", "topo-self-")
			if err != nil {
				selfBin.err = err
				return
			}
			selfBin.path = filepath.Join(dir, "topo")
			_, file, _, _ := runtime.Caller(0)
			cmd := exec.Command("go", "build", "-trimpath", "-o", selfBin.path, ".")
			cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
			if out, err := cmd.CombinedOutput(); err != nil {
				selfBin.err = fmt.Errorf("go build topo: %v\n%s", err, out)
				return
			}
		}
		// The image is only useful if the binary has the demo's commands.
		for _, args := range [][]string{{"demo", "app", "--help"}, {"registrator", "--help"}, {"engine-proxy", "--help"}, {"demo", "healthcheck", "--help"}} {
			if out, err := exec.Command(selfBin.path, args...).CombinedOutput(); err != nil {
				selfBin.err = fmt.Errorf("%s has no `%s` command (%v: %s): main.go must add newDemoCmd and newRegistratorCmd to the root command",
					selfBin.path, strings.Join(args[:len(args)-1], " "), err, firstLine(string(out)))
				return
			}
		}
	})
	if selfBin.err != nil {
		t.Fatal(selfBin.err)
	}
	return selfBin.path
}

// freePort returns a port nothing listens on at the moment.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newTestDeployer deploys into a project named after the test's dockertest
// prefix, on a free port, and removes everything at cleanup: by the
// project label (Down) and, should Down fail, by the test's own label.
func newTestDeployer(t testing.TB) (*Deployer, *dockertest.Env) {
	t.Helper()
	images := testImages(t)
	env := dockertest.New(t)
	d, err := New(env.Client, Options{
		Project: env.Prefix, LBPort: freePort(t), SelfBinary: selfBinary(t),
		Images: images, ExtraLabels: env.Labels(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := d.Down(ctx, true, nil); err != nil {
			t.Errorf("cleanup: down: %v", err)
		}
	})
	return d, env
}

// stepLog collects an operation's steps for assertions and failure output.
type stepLog struct {
	mu    sync.Mutex
	steps []Step
}

func (l *stepLog) add(s Step) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.steps = append(l.steps, s)
}

func (l *stepLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, s := range l.steps {
		fmt.Fprintf(&b, "  %-8s %-40s %s %v\n", s.State, s.Title, s.Detail, s.Err)
	}
	return b.String()
}

// finals returns the last report of each step by key.
func (l *stepLog) finals() map[string]Step {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]Step{}
	for _, s := range l.steps {
		out[s.Key] = s
	}
	return out
}

// get sends one request through the load balancer.
func get(ctx context.Context, url string) (status int, servedBy string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/search?q=go", nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Served-By"), nil
}

// waitServedByAll sends requests through the load balancer until each of
// names has served at least one (nginx spreads at random, so no order is
// assumed), failing after within.
func waitServedByAll(t testing.TB, d *Deployer, within time.Duration, names ...string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	deadline := time.Now().Add(within)
	for {
		status, who, err := get(context.Background(), d.LBURL())
		if err == nil && status == http.StatusOK {
			seen[who]++
		}
		missing := []string{}
		for _, n := range names {
			if seen[n] == 0 {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			return seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("within %v the load balancer never sent a request to %v (served: %v; last: %d %v)", within, missing, seen, status, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// registered lists the app instances consul holds, by container name. It
// finds consul once per deployer: asking the engine on every poll would
// measure the engine, not the registry.
func registered(t testing.TB, d *Deployer) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	consulAddrs.Lock()
	addr := consulAddrs.m[d]
	consulAddrs.Unlock()
	if addr.addr == "" {
		var err error
		if addr, err = d.consulEndpoint(ctx); err != nil {
			t.Fatalf("find consul: %v", err)
		}
		consulAddrs.Lock()
		consulAddrs.m[d] = addr
		consulAddrs.Unlock()
	}
	list, err := d.registryHealth(ctx, addr, ServiceApp)
	if err != nil {
		t.Fatalf("ask consul at %s: %v", addr, err)
	}
	out := map[string]string{}
	for _, in := range list {
		out[in.Container] = in.Status
	}
	return out
}

var consulAddrs = struct {
	sync.Mutex
	m map[*Deployer]registryAt
}{m: map[*Deployer]registryAt{}}

// projectObjects counts what carries the project's label.
func projectObjects(t testing.TB, d *Deployer) (containers, networks, volumes int) {
	t.Helper()
	ctx := context.Background()
	cs, err := d.api.ContainerList(ctx, container.ListOptions{All: true, Filters: d.projectFilter()})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := d.api.NetworkList(ctx, network.ListOptions{Filters: d.projectFilter()})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := d.api.VolumeList(ctx, volume.ListOptions{Filters: d.projectFilter()})
	if err != nil {
		t.Fatal(err)
	}
	return len(cs), len(ns), len(vs.Volumes)
}

func appNames(d *Deployer, numbers ...int) []string {
	out := make([]string, len(numbers))
	for i, n := range numbers {
		out[i] = d.ContainerName(ServiceApp, n)
	}
	return out
}
