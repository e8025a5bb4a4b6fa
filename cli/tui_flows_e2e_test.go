package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// TestEndToEndFlowsOnScreen runs the real binary in a real terminal
// against the real engine: a client holding a known number of connections
// to a server shows as that flow after f, the flow goes when the client
// stops, and quitting leaves no flow agent behind.
func TestEndToEndFlowsOnScreen(t *testing.T) {
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	bin := tmuxtest.BuildTopo(t)
	netName := env.Name("flows")
	env.CreateNetwork(t, "flows", nil)
	compose := func(service string) map[string]string {
		return map[string]string{
			"com.docker.compose.project": env.Prefix, "com.docker.compose.service": service,
			"com.docker.compose.container-number": "1",
		}
	}
	env.Run(t, dockertest.ContainerSpec{Suffix: "srv", Image: image, Networks: []string{netName}, Start: true, Labels: compose("flowsrv")})
	client := env.Run(t, dockertest.ContainerSpec{
		Suffix: "cli", Image: image, Networks: []string{netName}, Start: true, Labels: compose("flowcli"),
		Env: []string{"LISTEN=127.0.0.1:8081", "CONNECT=" + env.Name("srv") + ":8080", "CONNECTIONS=3"},
	})
	agentsBefore := flowAgents(t, env)

	term := tmuxtest.Start(t, 200, 50, nil, bin)
	term.WaitForText(testenv.Patience(10*time.Second), "● live")
	// The engine is shared: other containers' flows may fill the panel,
	// and the filter narrows the flows with the lanes.
	term.Send("/")
	term.Send("-l", env.Prefix)
	term.Send("Enter")
	term.WaitForText(testenv.Patience(5*time.Second), "flowcli.1")
	term.Send("f")
	// The first sample builds the agent's image from topo's own binary.
	screen := term.WaitFor(testenv.Patience(90*time.Second), "flowcli.1 → flowsrv.1:8080 with 3 connections", func(s string) bool {
		return flowConns(s, "flowcli.1", "flowsrv.1:8080") == "3"
	})
	if !strings.Contains(screen, "Flows · 1 path") {
		t.Errorf("the flows panel's title does not count the one path:\n%s", screen)
	}
	if !strings.Contains(screen, "⇄1") {
		t.Errorf("no ⇄1 peer mark on the lanes:\n%s", screen)
	}
	ours := newAgents(t, env, agentsBefore)
	if len(ours) == 0 {
		t.Errorf("flows on, but no flow agent container on the engine")
	}

	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.Client.ContainerStop(stopCtx, client, container.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	term.WaitFor(testenv.Patience(10*time.Second), "the flow gone after the client stopped", func(s string) bool {
		return !strings.Contains(s, "→ flowsrv.1:8080") && strings.Contains(s, "Flows · 0 paths")
	})

	term.Send("q")
	term.WaitForText(testenv.Patience(10*time.Second), "[exited 0]")
	for _, id := range ours {
		if _, err := env.Client.ContainerInspect(context.Background(), id); err == nil {
			t.Errorf("flow agent %s still on the engine after topo quit", id[:12])
		}
	}
}

// flowConns finds the panel's line of client → server and returns its
// connection count, or "" when there is none. A client's name is written
// once per group: a line starting "→" belongs to the client above it.
func flowConns(screen, client, server string) string {
	current := ""
	for _, line := range strings.Split(screen, "\n") {
		// The panel stands right of the lanes, after a │.
		if i := strings.LastIndex(line, "│"); i >= 0 {
			line = line[i+len("│"):]
		}
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "!"))
		arrow := -1
		for i, f := range fields {
			if f == "→" {
				arrow = i
				break
			}
		}
		if arrow < 0 || arrow+2 >= len(fields) {
			continue
		}
		if arrow > 0 {
			current = strings.Join(fields[:arrow], " ")
		}
		if current == client && fields[arrow+1] == server {
			return fields[arrow+2]
		}
	}
	return ""
}

// flowAgents lists the flow agent containers on the engine now.
func flowAgents(t *testing.T, env *dockertest.Env) map[string]bool {
	t.Helper()
	list, err := env.Client.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", docker.LabelFlows+"=1"))})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, c := range list {
		out[c.ID] = true
	}
	return out
}

// newAgents are the flow agents that were not there before: this test's
// topo's (another topo on the shared engine runs its own binary's image).
func newAgents(t *testing.T, env *dockertest.Env, before map[string]bool) []string {
	var out []string
	for id := range flowAgents(t, env) {
		if !before[id] {
			out = append(out, id)
		}
	}
	return out
}
