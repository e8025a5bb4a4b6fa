package cli

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// TestEndToEndLanesLiveAndKill runs the real binary in a real terminal
// against the real engine: the lanes appear, a container started afterwards
// appears on screen, and x then y kills it with the result on screen.
func TestEndToEndLanesLiveAndKill(t *testing.T) {
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	bin := tmuxtest.BuildTopo(t)
	netName := env.Name("e2e")
	env.CreateNetwork(t, "e2e", nil)

	term := tmuxtest.Start(t, 120, 40, nil, bin)
	// The engine is shared: other lanes may fill the screen, so the test
	// waits for the live state, then filters down to what it creates.
	term.WaitForText(10*time.Second, "● live")
	term.WaitForText(5*time.Second, "━━━ ")

	id := env.Run(t, dockertest.ContainerSpec{
		Suffix: "web", Image: image, Networks: []string{netName}, Start: true,
		Labels: map[string]string{
			"com.docker.compose.project": env.Prefix, "com.docker.compose.service": "e2eweb",
			"com.docker.compose.container-number": "1",
		},
	})

	term.Send("/")
	term.Send("-l", "e2eweb")
	term.Send("Enter")
	term.WaitForText(5*time.Second, "filter “e2eweb”")
	screen := term.WaitFor(5*time.Second, "the container selected in its lane", func(s string) bool { return strings.Contains(s, "▶● e2eweb.1") })
	if !strings.Contains(screen, netName) {
		t.Errorf("the lane %s is not on screen:\n%s", netName, screen)
	}
	term.Send("x")
	term.WaitForText(5*time.Second, "Kill e2eweb.1")
	term.Send("y")
	term.WaitForText(10*time.Second, "killed e2eweb.1")
	term.WaitForText(5*time.Second, "exited(137)")

	inspect, err := env.Client.ContainerInspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if inspect.State.Running {
		t.Fatalf("container still running after x, y: %+v", inspect.State)
	}

	term.Send("q")
	term.WaitForText(5*time.Second, "[exited 0]")
}

// TestUnreachableEngineSaysWhatToDo checks the one-line error and exit
// status when no engine answers.
func TestUnreachableEngineSaysWhatToDo(t *testing.T) {
	bin := tmuxtest.BuildTopo(t)
	out, err := exec.Command(bin, "--host", "unix:///nonexistent/docker.sock").CombinedOutput()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != 1 {
		t.Fatalf("want exit status 1, got %v; output:\n%s", err, out)
	}
	text := strings.TrimSpace(string(out))
	if strings.Count(text, "\n") != 0 {
		t.Errorf("want one line, got:\n%s", text)
	}
	for _, want := range []string{"unix:///nonexistent/docker.sock", "--host", "DOCKER_HOST", "Start it"} {
		if !strings.Contains(text, want) {
			t.Errorf("error %q does not mention %q", text, want)
		}
	}
}
