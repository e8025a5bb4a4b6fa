package cli

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// TestHostileLabelCannotClearTheScreenOrSetTheTitle is issue 11's report
// on the real engine in a real terminal: a container whose compose service
// label holds CSI 2J (clear the screen) and an OSC 0 title sequence
// cleared topo's screen and set the terminal's title. Now the lanes stay,
// the label shows as visible escapes, and the pane title is unchanged;
// `topo snapshot` prints it inert and `--json` keeps it raw.
func TestHostileLabelCannotClearTheScreenOrSetTheTitle(t *testing.T) {
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	bin := tmuxtest.BuildTopo(t)
	netName := env.Name("hostile")
	env.CreateNetwork(t, "hostile", nil)

	// The terminal obeys the title sequence when a program prints it raw:
	// without this the title check below could not fail.
	control := tmuxtest.Start(t, 80, 24, nil, "printf", `\033]0;%s\007`, "set-by-control")
	control.WaitForText(5*time.Second, "[exited 0]")
	if got := control.PaneTitle(); got != "set-by-control" {
		t.Fatalf("tmux does not take a title from OSC 0 (pane title %q): the test cannot check it", got)
	}

	term := tmuxtest.Start(t, 160, 40, nil, bin)
	term.WaitForText(10*time.Second, "● live")
	term.WaitForText(5*time.Second, "━━━ ")
	title := term.PaneTitle()

	const service = "e2eevil\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07"
	env.Run(t, dockertest.ContainerSpec{
		Suffix: "evil", Image: image, Networks: []string{netName}, Start: true,
		Labels: map[string]string{
			"com.docker.compose.project": env.Prefix, "com.docker.compose.service": service,
			"com.docker.compose.container-number": "1",
			"org.example.note":                    "\a\rFAKE\b\b\u202egnp.exe",
		},
	})

	term.Send("/")
	term.Send("-l", "e2eevil")
	term.Send("Enter")
	screen := term.WaitFor(10*time.Second, "the hostile container selected, its label shown escaped in the details and the log", func(s string) bool {
		return strings.Contains(s, `▶● e2eevil\x1b[2J`) && strings.Contains(s, `com.docker.compose.service=e2eevil\x1b[2J`) &&
			strings.Contains(s, `start e2eevil\x1b[2J\x1b]0;pwned\a\x1b]52;c;ZXZpbA==\a.1`)
	})
	for _, want := range []string{"● live", "▸ Lanes", "━━━ " + netName, `\u202egnp.exe`} {
		if !strings.Contains(screen, want) {
			t.Errorf("the screen lost %q:\n%s", want, screen)
		}
	}
	if got := term.PaneTitle(); got != title || strings.Contains(got, "pwned") {
		t.Errorf("the pane title changed from %q to %q", title, got)
	}
	term.Send("q")
	term.WaitForText(5*time.Second, "[exited 0]")
	if got := term.PaneTitle(); got != title {
		t.Errorf("the pane title changed from %q to %q", title, got)
	}

	out, err := exec.Command(bin, "snapshot", "--width", "200").Output()
	if err != nil {
		t.Fatalf("topo snapshot: %v", err)
	}
	if strings.ContainsAny(string(out), "\x1b\a\r\b\u202e") {
		t.Errorf("topo snapshot printed a raw control or bidi character")
	}
	if !strings.Contains(string(out), `e2eevil\x1b[2J`) {
		t.Errorf("topo snapshot does not show the label escaped:\n%s", out)
	}

	out, err = exec.Command(bin, "snapshot", "--json").Output()
	if err != nil {
		t.Fatalf("topo snapshot --json: %v", err)
	}
	var doc struct {
		Containers []struct {
			Name    string `json:"name"`
			Service string `json:"service"`
		} `json:"containers"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("topo snapshot --json: %v", err)
	}
	found := false
	for _, c := range doc.Containers {
		if c.Name == env.Name("evil") {
			found = true
			if c.Service != service {
				t.Errorf("--json service = %q, want the raw %q", c.Service, service)
			}
		}
	}
	if !found {
		t.Errorf("--json does not list %s", env.Name("evil"))
	}
}
