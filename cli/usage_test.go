package cli

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/topo-dev/topo/demo/deploy"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// noEngine is an engine address that cannot answer: a test using it shows
// that an error came before any contact with the engine.
const noEngine = "--host=unix:///nonexistent/docker.sock"

// runTopo runs `topo ARGS` in-process, as main does; main exits non-zero
// exactly when it returns an error.
func runTopo(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd("dev")
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestTypedInputIsRefusedClearly: every refusal of what a person typed is
// an error (so a non-zero exit) that says what is wrong and how to go on,
// and comes before any contact with the engine.
func TestTypedInputIsRefusedClearly(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		// Unknown commands, at every level, with the nearest ones or the
		// list, and the help to read.
		{name: "unknown top-level command", args: []string{"frobnicate"},
			want: []string{`unknown command "frobnicate" for "topo"`, "the commands are demo, flows, kill, probe, record", "see topo --help"}},
		{name: "top-level typo", args: []string{"snapsot"}, want: []string{`did you mean "snapshot"?`, "see topo --help"}},
		{name: "unknown demo command", args: []string{"demo", "frob"},
			want: []string{`unknown command "frob" for "topo demo"`, "compose, down, images, scale, status, traffic, up", "see topo demo --help"}},
		{name: "demo typo", args: []string{"demo", "stauts"}, want: []string{`did you mean "status"?`, "see topo demo --help"}},
		{name: "unknown swarm command", args: []string{"swarm", "frob"},
			want: []string{`unknown command "frob" for "topo swarm"`, "activate, drain, restart, scale, status", "see topo swarm --help"}},
		{name: "swarm typo", args: []string{"swarm", "scal"}, want: []string{`did you mean "scale"?`, "see topo swarm --help"}},

		// A missing argument: the usage line and an example.
		{name: "probe without a container", args: []string{"probe"},
			want: []string{"Usage:\n  topo probe CONTAINER [TARGET[:PORT]]", "Example:\n  topo probe demo-lb-1", "see topo probe --help"}},
		{name: "kill without a container", args: []string{"kill"},
			want: []string{"accepts 1 arg(s), received 0", "Usage:\n  topo kill CONTAINER", "Example:\n  topo kill web.1", "see topo kill --help"}},
		{name: "stop without a container", args: []string{"stop"}, want: []string{"Usage:\n  topo stop CONTAINER", "topo stop web.1"}},
		{name: "start without a container", args: []string{"start"}, want: []string{"Usage:\n  topo start CONTAINER", "topo start web.1"}},
		{name: "restart without a container", args: []string{"restart"}, want: []string{"Usage:\n  topo restart CONTAINER", "topo restart web.1"}},
		{name: "demo scale without SERVICE=N", args: []string{"demo", "scale"},
			want: []string{"Usage:\n  topo demo scale SERVICE=N", "Example:\n  topo demo scale app=4", "see topo demo scale --help"}},
		{name: "swarm scale without SERVICE=N", args: []string{"swarm", "scale"},
			want: []string{"Usage:\n  topo swarm scale SERVICE=N...", "topo swarm scale web=3"}},
		{name: "swarm drain without a node", args: []string{"swarm", "drain"}, want: []string{"Usage:\n  topo swarm drain NODE", "topo swarm drain worker-2"}},
		{name: "an argument too many", args: []string{"demo", "up", "now"}, want: []string{`unknown command "now" for "topo demo up"`, "Usage:\n  topo demo up"}},

		// Bounds, each named in the message.
		{name: "up with too many replicas", args: []string{"demo", "up", "--replicas", "51"}, want: []string{"more than this demo allows (50)"}},
		{name: "up with negative replicas", args: []string{"demo", "up", "--replicas", "-1"}, want: []string{"cannot scale app to -1", "use 0 to 50"}},
		{name: "compose with too many replicas", args: []string{"demo", "compose", "--replicas", "500"}, want: []string{"more than this demo allows (50)"}},
		{name: "demo scale beyond the bound", args: []string{"demo", "scale", "app=51"}, want: []string{"more than this demo allows (50)"}},
		{name: "demo scale negative", args: []string{"demo", "scale", "app=-1"}, want: []string{"use 0 to 50"}},
		{name: "swarm scale beyond the bound", args: []string{"swarm", "scale", "web=201"}, want: []string{"more than topo swarm scale allows (200)"}},
		{name: "swarm scale negative", args: []string{"swarm", "scale", "web=-1"}, want: []string{"cannot run -1 replicas: use 0 to 200"}},
		{name: "swarm scale not a number", args: []string{"swarm", "scale", "web=3x"}, want: []string{`"3x" is not a whole number`}},
		{name: "swarm scale one bad of two", args: []string{"swarm", "scale", "web=2", "api=1000"}, want: []string{`"api=1000"`, "(200)"}},
		{name: "lb-port 0", args: []string{"demo", "status", "--lb-port", "0"}, want: []string{"--lb-port 0 is not a TCP port: use 1 to 65535"}},
		{name: "lb-port too high", args: []string{"demo", "up", "--lb-port", "65536"}, want: []string{"--lb-port 65536 is not a TCP port"}},
		{name: "lb-port negative", args: []string{"demo", "traffic", "--lb-port=-1"}, want: []string{"--lb-port -1 is not a TCP port"}},
		{name: "lb-port 0 from the environment", env: map[string]string{envDemoLBPort: "0"}, args: []string{"demo", "status"},
			want: []string{"TOPO_DEMO_LB_PORT=0 is not a TCP port: use 1 to 65535, or unset it for 8080"}},
		{name: "lb-port too high from the environment", env: map[string]string{envDemoLBPort: "70000"}, args: []string{"demo", "down"},
			want: []string{"TOPO_DEMO_LB_PORT=70000 is not a TCP port"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			out, err := runTopo(t, append(tc.args, noEngine)...)
			if err == nil {
				t.Fatalf("topo %v succeeded (exit 0), output:\n%s", tc.args, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("topo %v:\n%v\nwant it to say %q", tc.args, err, w)
				}
			}
			if strings.Contains(err.Error(), "docker.sock") {
				t.Errorf("topo %v contacted the engine before checking what was typed: %v", tc.args, err)
			}
		})
	}
}

// TestGroupsWithoutACommandShowHelp: `topo demo` alone still shows its
// help and succeeds; only an unknown command is an error.
func TestGroupsWithoutACommandShowHelp(t *testing.T) {
	for _, args := range [][]string{{"demo"}, {"swarm"}, {"demo", "--help"}} {
		out, err := runTopo(t, append(args, noEngine)...)
		if err != nil || !strings.Contains(out, "Available Commands:") {
			t.Errorf("topo %v = %v, output:\n%s\nwant the help", args, err, out)
		}
	}
}

// TestUnknownCommandExitsNonZero runs the built binary: a mistyped command
// is an error on stderr and exit status 1, not help and 0.
func TestUnknownCommandExitsNonZero(t *testing.T) {
	bin := tmuxtest.BuildTopo(t)
	for _, args := range [][]string{{"demo", "frob"}, {"swarm", "frob"}, {"frobnicate"}, {"demo", "scale"}} {
		cmd := exec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		exit, ok := err.(*exec.ExitError)
		if !ok || exit.ExitCode() != 1 {
			t.Errorf("topo %v: %v, want exit status 1", args, err)
		}
		if stdout.Len() != 0 || !strings.HasPrefix(stderr.String(), "topo: ") || !strings.Contains(stderr.String(), "--help") {
			t.Errorf("topo %v: stdout %q, stderr %q; want one error on stderr pointing at --help", args, stdout.String(), stderr.String())
		}
	}
}

// TestNothingToRemoveIsSaid: a teardown that found nothing says so; one
// that removed something passes every step on, its last one included.
func TestNothingToRemoveIsSaid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []deploy.Step
		want  []string
	}{
		{"nothing there", []deploy.Step{{Key: "down", Title: "project p removed", State: deploy.StepDone}},
			[]string{"nothing to remove: project p has no"}},
		{"a removal", []deploy.Step{
			{Key: "network p_front", Title: "network p_front", State: deploy.StepRunning},
			{Key: "network p_front", Title: "network p_front", State: deploy.StepDone, Detail: "removed"},
			{Key: "down", Title: "project p removed", State: deploy.StepDone},
		}, []string{"network p_front", "project p removed"}},
		{"only a kept volume", []deploy.Step{
			{Key: "volume p_mongo-data", Title: "volume p_mongo-data", State: deploy.StepDone, Detail: "kept"},
			{Key: "down", Title: "project p removed", State: deploy.StepDone},
		}, []string{"volume p_mongo-data  kept", "project p removed"}},
	} {
		var out bytes.Buffer
		p := newStepPrinter(&out)
		progress := nothingToRemove(&out, "p", p.print)
		for _, s := range tc.steps {
			progress(s)
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: printed %q, want %q", tc.name, out.String(), w)
			}
		}
		if tc.name == "nothing there" && strings.Contains(out.String(), "removed") {
			t.Errorf("%s: printed %q, claiming a removal", tc.name, out.String())
		}
	}
}

// TestDemoCommandsOnAProjectNeverDeployed, on the real engine: traffic to
// a project that is not deployed is refused at once (it used to send
// requests forever at 100 % errors), and down says there was nothing to
// remove rather than "✓ project removed". Nothing is created.
func TestDemoCommandsOnAProjectNeverDeployed(t *testing.T) {
	env := dockertest.New(t)
	project := env.Name("never")

	// --duration bounds the old behaviour, so a regression fails rather
	// than hangs.
	out, err := runTopo(t, "demo", "traffic", "--project", project, "--duration", "10s")
	if err == nil || !strings.Contains(err.Error(), "project "+project+" is not deployed: run `topo demo up` first") {
		t.Errorf("traffic: %v, output:\n%s\nwant a 'not deployed' error", err, out)
	}
	if strings.Contains(out, "req/s") || strings.Contains(out, "sent ") {
		t.Errorf("traffic sent requests to a project never deployed:\n%s", out)
	}

	out, err = runTopo(t, "demo", "down", "--project", project)
	if err != nil {
		t.Fatalf("down: %v", err)
	}
	if !strings.Contains(out, "nothing to remove: project "+project) || strings.Contains(out, "removed") {
		t.Errorf("down of a project never deployed printed:\n%s\nwant 'nothing to remove' and no removal", out)
	}
}
