package docker_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/go-connections/nat"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
)

// probeAgentBinary builds the probe agent alone as a static Linux binary:
// it answers `probe-agent ...` exactly as topo does, so these tests do not
// depend on main.go's wiring, and SelfImage wraps it like topo's own.
func probeAgentBinary(t testing.TB) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "topo")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "github.com/topo-dev/topo/probeagent/agentmain")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the probe agent: %v\n%s", err, b)
	}
	return out
}

// probeTarget is a test container: the test server, with exposed ports
// (which the scratch image does not declare) and its networks attached
// before start, since this engine refuses several at create.
type probeTarget struct {
	suffix  string
	nets    []string // names; the first is the create-time one
	mode    string   // a NetworkMode instead of nets ("none", "host")
	ports   []int    // exposed and listened on
	listen  string   // LISTEN, when not the ports
	service string   // a compose service label, to name a group of targets
	stopped bool
}

// runProbeTargets creates and starts the containers in parallel: one by
// one, a start on this engine costs a second or so each.
func runProbeTargets(t testing.TB, env *dockertest.Env, image string, specs ...probeTarget) {
	t.Helper()
	errs := make(chan error, len(specs))
	for _, spec := range specs {
		go func() { errs <- runProbeTarget(env, image, spec) }()
	}
	for range specs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func runProbeTarget(env *dockertest.Env, image string, spec probeTarget) error {
	ctx := context.Background()
	labels := env.Labels()
	if spec.service != "" {
		labels[model.LabelComposeProject] = env.Prefix
		labels[model.LabelComposeService] = spec.service
		labels[model.LabelComposeNumber] = "1"
	}
	exposed := nat.PortSet{}
	var listen []string
	for _, p := range spec.ports {
		exposed[nat.Port(fmt.Sprintf("%d/tcp", p))] = struct{}{}
		listen = append(listen, fmt.Sprint(p))
	}
	if spec.listen == "" {
		spec.listen = strings.Join(listen, ",")
	}
	host := &container.HostConfig{NetworkMode: container.NetworkMode(spec.mode)}
	if spec.mode == "" && len(spec.nets) > 0 {
		host.NetworkMode = container.NetworkMode(spec.nets[0])
	}
	name := env.Name(spec.suffix)
	created, err := env.Client.ContainerCreate(ctx, &container.Config{
		Image: image, Env: []string{"LISTEN=" + spec.listen}, Labels: labels, ExposedPorts: exposed,
	}, host, nil, nil, name)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	for _, n := range spec.nets[min(1, len(spec.nets)):] {
		if err := env.Client.NetworkConnect(ctx, n, created.ID, nil); err != nil {
			return fmt.Errorf("connect %s to %s: %w", name, n, err)
		}
	}
	if err := env.Client.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	if spec.stopped {
		timeout := 5
		if err := env.Client.ContainerStop(ctx, created.ID, container.StopOptions{Timeout: &timeout}); err != nil {
			return fmt.Errorf("stop %s: %w", name, err)
		}
	}
	return nil
}

// leftoverProbes lists the probe containers this test created.
func leftoverProbes(t testing.TB, env *dockertest.Env) []string {
	t.Helper()
	list, err := env.Client.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", model.LabelProbe+"=1"),
		filters.Arg("label", dockertest.LabelKey+"="+env.Prefix),
	)})
	if err != nil {
		t.Fatalf("list probe containers: %v", err)
	}
	var names []string
	for _, c := range list {
		names = append(names, strings.Join(c.Names, ",")+" ("+c.State+")")
	}
	return names
}

func checkNoProbeLeft(t testing.TB, env *dockertest.Env, after string) {
	t.Helper()
	if left := leftoverProbes(t, env); len(left) > 0 {
		t.Errorf("after %s, probe containers are left behind: %v", after, left)
	}
}

// waitProbeRunning waits until one of the test's probe containers runs.
func waitProbeRunning(t testing.TB, env *dockertest.Env) {
	t.Helper()
	dockertest.Eventually(t, 30*time.Second, func() (bool, string) {
		for _, c := range leftoverProbes(t, env) {
			if strings.Contains(c, "(running)") {
				return true, ""
			}
		}
		return false, "the probe container is not running yet"
	})
}

// checkProbeHoldsNoRight checks the running probe container as the engine
// made it (no capability, read-only root, no-new-privileges, nobody,
// memory and pids limits) and its process as the kernel runs it: no
// effective capability, no_new_privs set, uid 65534. The process is read
// in /proc of the engine's host, which is this machine.
func checkProbeHoldsNoRight(t *testing.T, env *dockertest.Env) {
	t.Helper()
	list, err := env.Client.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", model.LabelProbe+"=1"),
		filters.Arg("label", dockertest.LabelKey+"="+env.Prefix),
	)})
	if err != nil || len(list) != 1 {
		t.Fatalf("the running probe container: %d found, %v", len(list), err)
	}
	in, err := env.Client.ContainerInspect(context.Background(), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	h := in.HostConfig
	if strings.Join(h.CapDrop, ",") != "ALL" || len(h.CapAdd) != 0 || !h.ReadonlyRootfs || !slices.Contains(h.SecurityOpt, "no-new-privileges") ||
		in.Config.User != "65534:65534" || h.Memory == 0 || h.PidsLimit == nil || *h.PidsLimit == 0 {
		t.Errorf("probe container: user %q, cap drop %v, cap add %v, read-only %v, security %v, memory %d, pids %v; want no right at all and limits",
			in.Config.User, h.CapDrop, h.CapAdd, h.ReadonlyRootfs, h.SecurityOpt, h.Memory, h.PidsLimit)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", in.State.Pid))
	if err != nil {
		testenv.Missing(t, "cannot read the probe's process on this machine (%v): this check needs the engine local", err)
	}
	for _, want := range []string{"CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "NoNewPrivs:\t1", "Uid:\t65534\t65534"} {
		if !strings.Contains(string(status), want) {
			t.Errorf("the probe's process lacks %q:\n%s", want, status)
		}
	}
}

// probeEnv is the two-tier topology of the probe tests.
type probeEnv struct {
	env    *dockertest.Env
	engine *docker.Engine
	prober *docker.Prober
	binary string
}

func newProbeEnv(t testing.TB) *probeEnv {
	t.Helper()
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	binary := probeAgentBinary(t)
	env.CreateNetwork(t, "front", nil)
	env.CreateNetwork(t, "back", nil)
	env.CreateNetwork(t, "noicc", map[string]string{"com.docker.network.bridge.enable_icc": "false"})
	front, back, noicc := env.Name("front"), env.Name("back"), env.Name("noicc")
	specs := []probeTarget{
		{suffix: "fronty", nets: []string{front}, ports: []int{8080}},
		{suffix: "backy", nets: []string{back}, ports: []int{8080}},
		{suffix: "both", nets: []string{front, back}, ports: []int{8080}},
		{suffix: "icc-a", nets: []string{noicc}, ports: []int{8080}},
		{suffix: "icc-b", nets: []string{noicc}, ports: []int{8080}},
		{suffix: "victim", nets: []string{noicc}, ports: []int{8080}},
		{suffix: "stopped", nets: []string{front}, ports: []int{8080}, stopped: true},
		{suffix: "closed", nets: []string{front}, ports: []int{9999}, listen: "8080"},
		{suffix: "loner", mode: "none", ports: []int{8080}},
		// A host-network container whose server listens on no port at
		// all (LISTEN names none), so nothing is opened on the host.
		{suffix: "hosty", mode: "host", listen: "none"},
	}
	// Four containers of one compose service with five exposed ports
	// each: two on front (10 addresses reachable from fronty), two on
	// back (10 isolated ones, each costing the full dial timeout).
	for i, net := range []string{front, front, back, back} {
		specs = append(specs, probeTarget{suffix: fmt.Sprintf("many-%d", i), nets: []string{net},
			ports: []int{8080, 8081, 8082, 8083, 8084}, service: env.Prefix + "-many"})
	}
	runProbeTargets(t, env, image, specs...)
	engine, err := docker.Connect("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	return &probeEnv{env: env, engine: engine, binary: binary,
		prober: docker.NewProber(engine, docker.ProberOptions{Binary: binary, Labels: env.Labels()})}
}

func (pe *probeEnv) probe(t *testing.T, from, to string, port int) model.ProbeReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := pe.prober.ProbeTo(ctx, pe.env.Name(from), to, port)
	if err != nil {
		t.Fatalf("probe from %s to %q: %v", from, to, err)
	}
	return rep
}

// lines renders a report as "name network verdict (outcome)" lines.
func lines(rep model.ProbeReport) []string {
	var out []string
	for _, l := range rep.Lines {
		out = append(out, fmt.Sprintf("%s %s %s (%s)", l.Target.Name, l.Target.Network, l.Verdict, l.Result.Outcome))
	}
	return out
}

func wantLines(t *testing.T, rep model.ProbeReport, want ...string) {
	t.Helper()
	got := lines(rep)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("probe from %s:\n  %s\nwant:\n  %s\n(%s)", rep.Subject, strings.Join(got, "\n  "), strings.Join(want, "\n  "), rep.Summary())
	}
}

func TestProbeOnTheEngine(t *testing.T) {
	pe := newProbeEnv(t)
	n := pe.env.Name
	front, back := n("front"), n("back")

	t.Run("front-only cannot reach back-only", func(t *testing.T) {
		rep := pe.probe(t, "fronty", n("backy"), 0)
		wantLines(t, rep, n("backy")+" "+back+" isolated as expected (timeout)")
		if rep.Mismatches() != 0 {
			t.Errorf("mismatches: %s", rep.Summary())
		}
	})
	t.Run("front-only reaches only the front address of a two-network container", func(t *testing.T) {
		rep := pe.probe(t, "fronty", n("both"), 0)
		wantLines(t, rep,
			n("both")+" "+back+" isolated as expected (timeout)",
			n("both")+" "+front+" reachable as expected (connected)")
	})
	t.Run("a container on both reaches both", func(t *testing.T) {
		for _, target := range []string{"fronty", "backy"} {
			rep := pe.probe(t, "both", n(target), 0)
			net := front
			if target == "backy" {
				net = back
			}
			wantLines(t, rep, n(target)+" "+net+" reachable as expected (connected)")
			if l := rep.Lines[0]; l.Target.PortSource != model.PortExposed || l.Target.Port != 8080 {
				t.Errorf("target port %d from %s, want the exposed 8080", l.Target.Port, l.Target.PortSource)
			}
		}
	})
	t.Run("inter-container communication disabled is a mismatch", func(t *testing.T) {
		rep := pe.probe(t, "icc-a", n("icc-b"), 0)
		wantLines(t, rep, n("icc-b")+" "+n("noicc")+" MISMATCH: blocked (timeout)")
		if rep.Mismatches() != 1 || !strings.Contains(rep.Lines[0].Why, "inter-container communication disabled") {
			t.Errorf("ICC off: %d mismatches, why %q", rep.Mismatches(), rep.Lines[0].Why)
		}
	})
	t.Run("nothing listening on an exposed port is a mismatch", func(t *testing.T) {
		rep := pe.probe(t, "fronty", n("closed"), 0)
		wantLines(t, rep, n("closed")+" "+front+" MISMATCH: not listening (refused)")
	})
	t.Run("a given port replaces the exposed ones", func(t *testing.T) {
		rep := pe.probe(t, "fronty", n("closed"), 8080)
		wantLines(t, rep, n("closed")+" "+front+" reachable as expected (connected)")
	})
	t.Run("a stopped target is not probed", func(t *testing.T) {
		rep := pe.probe(t, "fronty", n("stopped"), 0)
		if len(rep.Lines) != 1 || rep.Lines[0].Verdict != model.VerdictSkipped || !strings.Contains(rep.Lines[0].Why, "exited") {
			t.Errorf("stopped target: %+v", rep.Lines)
		}
	})
	t.Run("network none is isolated from everything", func(t *testing.T) {
		// "unreachable", not "timeout": the dial failed at once for want
		// of a route rather than waiting out its timeout.
		rep := pe.probe(t, "loner", n("fronty"), 0)
		wantLines(t, rep, n("fronty")+" "+front+" isolated as expected (unreachable)")
	})
	t.Run("probing from a stopped container says so at once", func(t *testing.T) {
		// ErrNotRunning comes from the state read before any probe
		// container is made, so nothing was dialled.
		_, err := pe.prober.ProbeTo(context.Background(), n("stopped"), "", 0)
		if !errors.Is(err, model.ErrNotRunning) || !strings.Contains(err.Error(), "start it") {
			t.Errorf("probe from a stopped container: %v, want ErrNotRunning saying to start it", err)
		}
		checkNoProbeLeft(t, pe.env, "a refused probe")
	})
	t.Run("from the host network, through the host", func(t *testing.T) {
		rep := pe.probe(t, "hosty", n("fronty"), 0)
		wantLines(t, rep, n("fronty")+" "+front+" reachable as expected (connected)")
		if rep.Mode != model.NetModeHost {
			t.Errorf("mode %q, want host", rep.Mode)
		}
	})
	// One probe against 20 addresses, half of them isolated: all judged
	// right. Its time (the 2 s budget) is BenchmarkProbeTwentyTargets'
	// to measure: a shared CI machine makes a timed assertion flaky.
	t.Run("20 addresses", func(t *testing.T) {
		var worst time.Duration
		for range 3 {
			start := time.Now()
			rep := pe.probe(t, "fronty", pe.env.Prefix+"-many", 0)
			d := time.Since(start)
			worst = max(worst, d)
			if rep.Probed() != 20 || rep.Mismatches() != 0 {
				t.Fatalf("want 20 addresses as expected: %s\n%s", rep.Summary(), strings.Join(lines(rep), "\n"))
			}
		}
		t.Logf("probe of 20 addresses (10 isolated): worst of 3 runs %v", worst.Round(time.Millisecond))
	})
	// Behind a disabled ICC the target's silence lasts the whole dial
	// timeout, whatever it does; stopped meanwhile, it must be reported as
	// stopped, not as a network mismatch.
	t.Run("a target stopped during the probe is reported as stopped", func(t *testing.T) {
		slow := docker.NewProber(pe.engine, docker.ProberOptions{Binary: pe.binary, Labels: pe.env.Labels(), DialTimeout: 5 * time.Second})
		done := make(chan model.ProbeReport, 1)
		go func() {
			rep, err := slow.ProbeTo(context.Background(), n("icc-a"), n("victim"), 0)
			if err != nil {
				t.Errorf("probe: %v", err)
			}
			done <- rep
		}()
		waitProbeRunning(t, pe.env)
		timeout := 2
		if err := pe.env.Client.ContainerStop(context.Background(), n("victim"), container.StopOptions{Timeout: &timeout}); err != nil {
			t.Fatalf("stop the target: %v", err)
		}
		select {
		case rep := <-done:
			if len(rep.Lines) != 1 || rep.Lines[0].Verdict != model.VerdictGone || rep.Mismatches() != 0 {
				t.Errorf("target stopped mid-probe: %v (%s)", lines(rep), rep.Summary())
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("the probe did not return after its target stopped")
		}
	})
	checkNoProbeLeft(t, pe.env, "successful probes")
	t.Run("no container left after a timeout or a cancellation", func(t *testing.T) {
		testProbeTimeoutAndCancel(t, pe)
	})
}

func testProbeTimeoutAndCancel(t *testing.T, pe *probeEnv) {
	// A long dial timeout against an isolated address keeps the agent
	// running, so the context ends while the probe container is up.
	// The dial timeout is far beyond any test's life: a probe that waited
	// for it instead of its context would never return, and the hang guard
	// below fails it.
	slow := docker.NewProber(pe.engine, docker.ProberOptions{Binary: pe.binary, Labels: pe.env.Labels(), DialTimeout: time.Hour})
	from, to := pe.env.Name("fronty"), pe.env.Name("backy")

	t.Run("timeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := slow.ProbeTo(ctx, from, to, 0)
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "removed") {
				t.Errorf("probe past its deadline: %v, want DeadlineExceeded saying the container was removed", err)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("the probe did not return after its deadline: it waited for the dial")
		}
		checkNoProbeLeft(t, pe.env, "a timeout")
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := slow.ProbeTo(ctx, from, to, 0)
			done <- err
		}()
		waitProbeRunning(t, pe.env)
		checkProbeHoldsNoRight(t, pe.env)
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cancelled") {
				t.Errorf("cancelled probe: %v", err)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("the probe did not return after its cancellation: it waited for the dial")
		}
		checkNoProbeLeft(t, pe.env, "a cancellation")
	})
}

// BenchmarkProbeTwentyTargets: one probe against 20 addresses, half of
// them isolated, probe container start and removal included.
func BenchmarkProbeTwentyTargets(b *testing.B) {
	pe := newProbeEnv(b)
	service := pe.env.Prefix + "-many"
	from := pe.env.Name("fronty")
	ctx := context.Background()
	if _, err := pe.prober.ProbeTo(ctx, from, service, 0); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rep, err := pe.prober.ProbeTo(ctx, from, service, 0)
		if err != nil || rep.Probed() != 20 {
			b.Fatalf("probe: %v, %d addresses", err, rep.Probed())
		}
	}
}
