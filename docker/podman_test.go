package docker_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
)

// podmanService is Debian's podman serving its Docker-compatible API on a
// socket of the test's, with storage and network configuration of its own
// so nothing of the machine's podman is touched.
type podmanService struct {
	dir, sock string
	global    []string
}

// cli runs the podman CLI on the test's storage (for load) or, with
// remote, through the service's API (for what a user would do).
func (p *podmanService) cli(t *testing.T, remote bool, args ...string) string {
	t.Helper()
	full := append([]string{}, p.global...)
	if remote {
		full = []string{"--remote", "--url", "unix://" + p.sock}
	}
	cmd := exec.Command("podman", append(full, args...)...)
	cmd.Env = p.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// env is the test's environment less DOCKER_CONFIG: podman reads its
// registry credentials there and fails on the test's empty one.
func (p *podmanService) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_CONFIG=") {
			env = append(env, kv)
		}
	}
	return append(env, "CONTAINERS_CONF="+filepath.Join(p.dir, "containers.conf"))
}

func startPodman(t *testing.T) *podmanService {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		testenv.Missing(t, "podman is needed for the Podman engine test: apt-get install -y podman (scripts/ensure-engine.sh installs it)")
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, "the Podman engine test runs podman rootful: run it as root")
	}
	// Not t.TempDir: its removal would race podman's last unmounts; the
	// cleanup below removes the directory after the service has ended.
	dir, err := os.MkdirTemp("", "topo-podman-")
	if err != nil {
		t.Fatal(err)
	}
	p := &podmanService{dir: dir, sock: filepath.Join(dir, "api.sock")}
	p.global = []string{"--root", filepath.Join(dir, "storage"), "--runroot", filepath.Join(dir, "run"),
		"--network-config-dir", filepath.Join(dir, "networks"), "--tmpdir", filepath.Join(dir, "tmp")}
	// Podman raises a container's open-file and process limits to values
	// this machine's hard limits refuse (no CAP_SYS_RESOURCE: "error
	// setting rlimit type 7"); containers get the service's own instead.
	var nofile, nproc unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile); err != nil {
		t.Fatal(err)
	}
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &nproc); err != nil {
		t.Fatal(err)
	}
	// Podman lowers its own process limit to the kernel's pid_max (seen
	// 32768 here) and a container may not ask for more.
	if data, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
		var pidMax uint64
		if _, err := fmt.Sscan(string(data), &pidMax); err == nil && pidMax < nproc.Max {
			nproc.Max = pidMax
		}
	}
	conf := fmt.Sprintf("[containers]\ndefault_ulimits = [\"nofile=%d:%d\", \"nproc=%d:%d\"]\n", nofile.Max, nofile.Max, nproc.Max, nproc.Max)
	if err := os.WriteFile(filepath.Join(dir, "containers.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	svc := exec.Command("podman", append(append([]string{}, p.global...), "system", "service", "--time=0", "unix://"+p.sock)...)
	svc.Env = p.env()
	logf, err := os.Create(filepath.Join(dir, "service.log"))
	if err != nil {
		t.Fatal(err)
	}
	svc.Stdout, svc.Stderr = logf, logf
	if err := svc.Start(); err != nil {
		t.Fatalf("start podman system service: %v", err)
	}
	t.Cleanup(func() {
		// Containers first (their mounts live under dir), then the
		// service, then the directory.
		rm := exec.Command("podman", append(append([]string{}, p.global...), "rm", "-a", "-f", "-t", "0")...)
		rm.Env = p.env()
		_ = rm.Run()
		_ = svc.Process.Kill()
		_ = svc.Wait()
		logf.Close()
		reset := exec.Command("podman", append(append([]string{}, p.global...), "system", "reset", "-f")...)
		reset.Env = p.env()
		_ = reset.Run()
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("remove %s: %v", dir, err)
		}
	})
	dockertest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, err := os.Stat(p.sock)
		return err == nil, "the podman service's socket " + p.sock + " (see " + logf.Name() + ")"
	})
	return p
}

// TestPodmanShowsLanesAndFollowsEvents points topo's engine adapter at
// Podman's Docker-compatible API: a network and a container made through
// Podman's API are drawn on their lane with their address, and the
// container's start and removal are followed as events.
func TestPodmanShowsLanesAndFollowsEvents(t *testing.T) {
	cleanEngineEnv(t)
	p := startPodman(t)
	img := dockertest.TestServerImage(t)
	tar := filepath.Join(p.dir, "image.tar")
	if out, err := exec.Command("docker", "save", "-o", tar, img).CombinedOutput(); err != nil {
		t.Fatalf("docker save %s: %v\n%s", img, err, out)
	}
	p.cli(t, false, "load", "-q", "-i", tar)

	host := "unix://" + p.sock
	e, _ := probeAndSync(t, host)
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience(30*time.Second))
	defer cancel()
	info, err := e.Ping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.Version, "Podman ") {
		t.Errorf("engine version %q does not say Podman", info.Version)
	}

	lane := "topotest-podman-lane"
	netID := p.cli(t, true, "network", "create", lane)
	updates := make(chan model.Update, 256)
	wctx, wcancel := context.WithCancel(context.Background())
	defer wcancel()
	go e.Watch(wctx, updates)
	waitUpdate(t, updates, "the first snapshot from Podman", func(u model.Update) bool { return u.Snapshot != nil })

	name := "topotest-podman-app"
	id := p.cli(t, true, "run", "-d", "--name", name, "--network", lane, img)
	var laneID string
	// The start goes out as the event says, and the read that carries
	// the address follows it as a refresh.
	waitUpdate(t, updates, "the state of "+name+" with its address on "+lane, func(u model.Update) bool {
		c := u.Refresh
		if u.Event != nil {
			c = u.Event.Container
		}
		if c == nil || c.ID != id {
			return false
		}
		for key, ep := range c.Endpoints {
			if ep.NetworkName == lane && ep.IP() != "" {
				laneID = key
				return true
			}
		}
		return false
	})

	topo, err := e.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := topo.Networks[laneID]
	if !ok || n.Name != lane {
		t.Fatalf("the endpoint's key %q is not the ID of lane %s (podman said %s): lanes are keyed by ID", laneID, lane, netID)
	}
	ep := topo.Containers[id].Endpoints[laneID]
	if ep.IP() == "" {
		t.Fatalf("container %s has no address on lane %s after a resync: %+v", name, lane, topo.Containers[id].Endpoints)
	}

	p.cli(t, true, "rm", "-f", "-t", "0", name)
	waitUpdate(t, updates, "the removal of "+name+" as a destroy", func(u model.Update) bool {
		return u.Event != nil && u.Event.ActorID == id && u.Event.BaseAction() == "destroy"
	})
}
