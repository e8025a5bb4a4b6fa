package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/model"
)

func flowTallyFixture() model.FlowTally {
	var tally model.FlowTally
	topo := model.NewTopology()
	topo.Networks["n"] = model.Network{ID: "n", Name: "front", Driver: "bridge"}
	topo.Networks["m"] = model.Network{ID: "m", Name: "back", Driver: "bridge"}
	topo.Containers["c"] = model.Container{ID: "c", Name: "client\x1b[31m", State: model.StateRunning,
		Endpoints: map[string]model.Endpoint{"n": {NetworkID: "n", NetworkName: "front", IPv4: "10.0.0.2"}}}
	topo.Containers["s"] = model.Container{ID: "s", Name: "server", State: model.StateRunning,
		Endpoints: map[string]model.Endpoint{"m": {NetworkID: "m", NetworkName: "back", IPv4: "10.0.1.2"}}}
	tally.Add(topo.Flows([]model.SocketTable{
		{Containers: []string{"c"}, Conns: []model.SocketConn{{Local: "10.0.0.2:4000", Remote: "10.0.1.2:80"}}},
		{Containers: []string{"s"}, Listen: []string{"0.0.0.0:80", "0.0.0.0:81"}, Conns: []model.SocketConn{{Local: "10.0.1.2:80", Remote: "10.0.0.2:4000"}}},
	}, nil), 0)
	return tally
}

func TestPrintFlowsSanitisesAndMarks(t *testing.T) {
	var out bytes.Buffer
	if err := printFlows(&out, flowTallyFixture()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Contains(got, "\x1b") {
		t.Errorf("an escape sequence from a container name reached the output:\n%q", got)
	}
	for _, want := range []string{`client\x1b[31m`, "server  80", "! isolation says", "0.0.0.0:81  unused", "1 flow(s), 1 flagged, 1 sample(s)"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if err := flowsVerdict(flowTallyFixture(), false); err != nil {
		t.Errorf("without --strict a flagged flow is no error: %v", err)
	}
	if err := flowsVerdict(flowTallyFixture(), true); err == nil || !strings.Contains(err.Error(), "1 flow(s) held against") {
		t.Errorf("with --strict: %v, want the count of flagged flows", err)
	}
	if err := flowsVerdict(model.FlowTally{}, true); err != nil {
		t.Errorf("with --strict and nothing flagged: %v", err)
	}
}

// TestFlowsCmdOnTheEngine runs `topo flows --for 2s --json --strict` as a
// CI job would, with a client holding connections to a server and one
// connection the networks forbid (its client left the server's network):
// both flows are in the JSON, the forbidden one flagged, the command
// returns the error main maps to exit 1, and no agent is left.
func TestFlowsCmdOnTheEngine(t *testing.T) {
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	binary := filepath.Join(t.TempDir(), "topo")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", binary, "github.com/topo-dev/topo/probeagent/agentmain")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the agents: %v\n%s", err, out)
	}
	netA := env.CreateNetwork(t, "a", nil)
	netB := env.CreateNetwork(t, "b", nil)
	srv := env.Name("srv")
	env.Run(t, dockertest.ContainerSpec{Suffix: "srv", Image: image, Networks: []string{netB}, Start: true})
	env.Run(t, dockertest.ContainerSpec{Suffix: "client", Image: image, Networks: []string{netB}, Start: true,
		Env: []string{"CONNECT=" + srv + ":8080", "CONNECTIONS=4", "LISTEN=8081"}})
	env.Run(t, dockertest.ContainerSpec{Suffix: "leaver", Image: image, Networks: []string{netA, netB}, Start: true,
		Env: []string{"CONNECT=" + srv + ":8080", "CONNECTIONS=1", "LISTEN=8081"}})

	type flowsOut struct {
		Samples int          `json:"samples"`
		Flows   []model.Flow `json:"flows"`
	}
	run := func() (flowsOut, string, error) {
		cmd := newFlowsCmd(&globalOptions{})
		var out, errOut bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true // as under the root command
		cmd.SetArgs([]string{"--for", "2s", "--json", "--strict", "--self-binary", binary})
		cmd.SetContext(context.Background())
		err := cmd.Execute()
		var got flowsOut
		if jerr := json.Unmarshal(out.Bytes(), &got); jerr != nil && err == nil {
			t.Fatalf("--json output does not parse: %v\n%s", jerr, out.String())
		}
		return got, out.String(), err
	}
	find := func(o flowsOut, client string) (model.Flow, bool) {
		for _, f := range o.Flows {
			if f.Client.Name == env.Name(client) && f.Server.Name == srv && f.Port == 8080 {
				return f, true
			}
		}
		return model.Flow{}, false
	}
	// The clients connect once they run; wait for both flows, whole. One
	// try starts an agent and samples for 2 s: on a machine at load 30
	// that took over 30 s, so the patience is longer than the default.
	dockertest.Eventually(t, 3*time.Minute, func() (bool, string) {
		o, raw, _ := run()
		c, ok1 := find(o, "client")
		l, ok2 := find(o, "leaver")
		return ok1 && ok2 && c.Conns == 4 && l.Conns == 1, raw
	})
	if err := env.Client.NetworkDisconnect(context.Background(), netB, env.Name("leaver"), false); err != nil {
		t.Fatalf("disconnect the leaver: %v", err)
	}
	o, raw, err := run()
	if o.Samples < 2 {
		t.Errorf("--for 2s took %d samples, want one a second", o.Samples)
	}
	c, _ := find(o, "client")
	l, _ := find(o, "leaver")
	if c.Conns != 4 || c.Flag != "" {
		t.Errorf("client's flow %+v, want 4 connections, not flagged\n%s", c, raw)
	}
	if l.Conns != 1 || !strings.Contains(l.Flag, "cannot reach") {
		t.Errorf("leaver's flow %+v, want 1 connection flagged by the isolation model\n%s", l, raw)
	}
	if err == nil || !strings.Contains(err.Error(), "held against the isolation model") {
		t.Errorf("--strict with a flagged flow: %v, want the error that exits 1", err)
	}
	// The command's agent runs the image of this test's binary, which
	// no other topo on the engine uses.
	data, rerr := os.ReadFile(binary)
	if rerr != nil {
		t.Fatal(rerr)
	}
	sum := sha256.Sum256(data)
	tag := docker.SelfImageRepo + ":" + hex.EncodeToString(sum[:])[:12]
	left, lerr := env.Client.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", docker.LabelFlows+"=1"), filters.Arg("ancestor", tag))})
	if lerr != nil || len(left) != 0 {
		t.Errorf("after the command: %d flow agents of %s left (%v)", len(left), tag, lerr)
	}
}
