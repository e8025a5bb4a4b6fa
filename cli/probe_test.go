package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/model"
)

func TestParseProbeTarget(t *testing.T) {
	for _, tc := range []struct {
		in   string
		name string
		port int
		bad  bool
	}{
		{in: "web", name: "web"},
		{in: "web.1:8080", name: "web.1", port: 8080},
		{in: ":27017", port: 27017},
		{in: "web:", bad: true},
		{in: "web:http", bad: true},
		{in: "web:70000", bad: true},
	} {
		name, port, err := parseProbeTarget(tc.in)
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "1 to 65535") {
				t.Errorf("parseProbeTarget(%q) = %q, %d, %v; want an error naming the valid ports", tc.in, name, port, err)
			}
			continue
		}
		if err != nil || name != tc.name || port != tc.port {
			t.Errorf("parseProbeTarget(%q) = %q, %d, %v; want %q, %d", tc.in, name, port, err, tc.name, tc.port)
		}
	}
}

// probeReportFixture: one line of every kind a table shows.
func probeReportFixture() model.ProbeReport {
	return model.ProbeReport{SubjectID: "abc", Subject: "lb.1", Mode: model.NetModeNetworks, Lines: []model.ProbeLine{
		{Target: model.ProbeTarget{Name: "app.1", Network: "front", Address: "172.20.0.3:8080", Port: 8080, Expect: model.Reachable, Via: []string{"front"}},
			Result: model.ProbeResult{Address: "172.20.0.3:8080", Outcome: model.OutcomeConnected, Millis: 0.31}, Verdict: model.VerdictReachable},
		{Target: model.ProbeTarget{Name: "mongo.1", Network: "back", Address: "172.21.0.2:27017", Port: 27017, Expect: model.Isolated},
			Result: model.ProbeResult{Address: "172.21.0.2:27017", Outcome: model.OutcomeTimeout, Millis: 400.2}, Verdict: model.VerdictIsolated},
		{Target: model.ProbeTarget{Name: "cache.1", Network: "noicc", Address: "172.22.0.2:6379", Port: 6379, Expect: model.Reachable, Via: []string{"noicc"}},
			Result:  model.ProbeResult{Address: "172.22.0.2:6379", Outcome: model.OutcomeTimeout, Millis: 400.9},
			Verdict: model.VerdictBlocked, Why: "no answer: inter-container communication disabled on noicc, a firewall dropping it, or the target is not up"},
		{Target: model.ProbeTarget{Name: "worker.1", Expect: model.Reachable, Via: []string{"front"}},
			Verdict: model.VerdictSkipped, Why: "exited: no address to try"},
	}}
}

func TestWriteProbeReportTable(t *testing.T) {
	var out bytes.Buffer
	err := writeProbeReport(&out, probeReportFixture(), false)
	var mismatch *ProbeMismatchError
	if !errors.As(err, &mismatch) || mismatch.Mismatches != 1 {
		t.Fatalf("writeProbeReport with one mismatch returned %v, want a *ProbeMismatchError of 1", err)
	}
	want := `TARGET    ADDRESS           EXPECTATION                 RESULT            VERDICT
app.1     172.20.0.3:8080   reachable via front         connected 0.3 ms  ✓ reachable as expected
mongo.1   172.21.0.2:27017  isolated (back not shared)  timeout 400 ms    ✓ isolated as expected
cache.1   172.22.0.2:6379   reachable via noicc         timeout 401 ms    ✗ MISMATCH: blocked
worker.1  -                 reachable via front         -                 not probed: exited: no address to try

✗ cache.1 172.22.0.2:6379: no answer: inter-container communication disabled on noicc, a firewall dropping it, or the target is not up
3 addresses probed from lb.1: 2 as expected, 1 MISMATCH, 1 not probed
`
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
	if mismatch.Error() != "3 addresses probed from lb.1: 2 as expected, 1 MISMATCH, 1 not probed" {
		t.Errorf("the error is %q, want the summary", mismatch.Error())
	}
}

func TestWriteProbeReportJSON(t *testing.T) {
	rep := probeReportFixture()
	rep.Lines = rep.Lines[:2]
	var out bytes.Buffer
	if err := writeProbeReport(&out, rep, true); err != nil {
		t.Fatalf("a report without mismatches returned %v", err)
	}
	var got struct {
		Subject    string            `json:"subject"`
		Mismatches int               `json:"mismatches"`
		Lines      []model.ProbeLine `json:"lines"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, out.String())
	}
	if got.Subject != "lb.1" || got.Mismatches != 0 || len(got.Lines) != 2 || got.Lines[1].Verdict != model.VerdictIsolated {
		t.Errorf("decoded %+v", got)
	}
}

func TestProbeCmdRejectsBadArgumentsBeforeTouchingTheEngine(t *testing.T) {
	for _, args := range [][]string{
		{"web", "db:http"},
		{"web", "--timeout", "0s"},
		{"web", "db", "extra"},
		{},
	} {
		// An engine address nothing answers: reaching connect would fail
		// with a different error.
		cmd := newProbeCmd(&globalOptions{host: "unix:///nonexistent/docker.sock"})
		cmd.SetArgs(args)
		cmd.SetOut(new(bytes.Buffer))
		cmd.SetErr(new(bytes.Buffer))
		err := cmd.Execute()
		if err == nil || strings.Contains(err.Error(), "nonexistent") {
			t.Errorf("topo probe %q: %v, want an argument error", args, err)
		}
	}
}

func TestProbeAgentCmd(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	cmd := newProbeAgentCmd()
	if !cmd.Hidden {
		t.Errorf("probe-agent is listed in help; it is internal")
	}
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--timeout", "300ms", ln.Addr().String()})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"outcome":"connected"`) {
		t.Errorf("output %s", out.String())
	}
	cmd = newProbeAgentCmd()
	cmd.SetOut(new(bytes.Buffer))
	cmd.SetErr(new(bytes.Buffer))
	cmd.SetArgs([]string{"nonsense"})
	if err := cmd.Execute(); err == nil {
		t.Errorf("probe-agent accepted %q", "nonsense")
	}
}

// TestProbeCmdOnTheEngine runs the command as a CI job would: a bridge
// with inter-container communication disabled is a mismatch, so the command
// prints the table and returns the error main maps to exit status 1; a
// stopped container is refused with a reason.
func TestProbeCmdOnTheEngine(t *testing.T) {
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	binary := filepath.Join(t.TempDir(), "topo")
	build := exec.Command("go", "build", "-o", binary, "github.com/topo-dev/topo")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build topo: %v\n%s", err, out)
	}
	if out, _ := exec.Command(binary, "probe-agent", "127.0.0.1:1").CombinedOutput(); !strings.Contains(string(out), "results") {
		// Until main.go adds the command, run the agent alone.
		agent := exec.Command("go", "build", "-o", binary, "github.com/topo-dev/topo/probeagent/agentmain")
		agent.Env = build.Env
		if out, err := agent.CombinedOutput(); err != nil {
			t.Fatalf("build the probe agent: %v\n%s", err, out)
		}
	}
	env.CreateNetwork(t, "noicc", map[string]string{"com.docker.network.bridge.enable_icc": "false"})
	for _, name := range []string{"a", "b"} {
		env.Run(t, dockertest.ContainerSpec{Suffix: name, Image: image, Networks: []string{env.Name("noicc")}, Start: true})
	}
	env.Run(t, dockertest.ContainerSpec{Suffix: "idle", Image: image, Networks: []string{env.Name("noicc")}})

	run := func(args ...string) (string, error) {
		cmd := newProbeCmd(&globalOptions{})
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(append(args, "--self-binary", binary))
		cmd.SetContext(context.Background())
		err := cmd.Execute()
		return out.String(), err
	}
	out, err := run(env.Name("a"), env.Name("b")+":8080")
	var mismatch *ProbeMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("ICC disabled: %v, want a *ProbeMismatchError; output:\n%s", err, out)
	}
	for _, want := range []string{env.Name("b"), "reachable via " + env.Name("noicc"), "✗ MISMATCH: blocked", "inter-container communication disabled", "1 MISMATCH"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not show %q:\n%s", want, out)
		}
	}
	_, err = run(env.Name("idle"))
	if !errors.Is(err, model.ErrNotRunning) || !strings.Contains(err.Error(), "start it first") {
		t.Errorf("probe from a container never started: %v", err)
	}
}
