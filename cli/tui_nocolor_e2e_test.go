package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// sgrRE finds the Select Graphic Rendition sequences of a captured screen.
var sgrRE = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// colourSGR returns the first SGR sequence that sets a colour (foreground
// or background: 30–49, 90–107, or the 38/48 extended forms), if any;
// bold, underline and reverse are not colour.
func colourSGR(screen string) string {
	for _, m := range sgrRE.FindAllStringSubmatch(screen, -1) {
		params := strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' })
		for i := 0; i < len(params); i++ {
			p := params[i]
			switch {
			case p == "38" || p == "48":
				return m[0]
			case len(p) == 2 && (p[0] == '3' || p[0] == '4') && p[1] != '9':
				return m[0]
			case len(p) == 2 && p[0] == '9', len(p) == 3 && p[:2] == "10":
				return m[0]
			}
		}
	}
	return ""
}

// TestNoColorDrawsNoColourAndEveryStateBySymbol runs topo in a terminal
// with NO_COLOR=1 over containers in four states: the screen, captured with
// its escape sequences, sets no colour, and each container's state is
// still told by its symbol. The same screen without NO_COLOR has colour,
// which shows the check can fail.
func TestNoColorDrawsNoColourAndEveryStateBySymbol(t *testing.T) {
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	bin := tmuxtest.BuildTopo(t)
	ctx := context.Background()
	netID := env.CreateNetwork(t, "nocolor", nil)
	// Compose labels give short names (service.1) that a lane never cuts.
	compose := func(service string) map[string]string {
		return map[string]string{"com.docker.compose.project": env.Prefix, "com.docker.compose.service": service, "com.docker.compose.container-number": "1"}
	}
	env.Run(t, dockertest.ContainerSpec{Suffix: "up", Image: image, Networks: []string{netID}, Start: true, Labels: compose("up")})
	paused := env.Run(t, dockertest.ContainerSpec{Suffix: "held", Image: image, Networks: []string{netID}, Start: true, Labels: compose("held")})
	if err := env.Client.ContainerPause(ctx, paused); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.ContainerUnpause(context.Background(), paused) })
	killed := env.Run(t, dockertest.ContainerSpec{Suffix: "down", Image: image, Networks: []string{netID}, Start: true, Labels: compose("down")})
	if err := env.Client.ContainerKill(ctx, killed, "KILL"); err != nil {
		t.Fatal(err)
	}
	dockertest.Eventually(t, 10*time.Second, func() (bool, string) {
		c, err := env.Client.ContainerInspect(ctx, killed)
		return err == nil && c.State.Status == "exited", "the killed container is not exited yet"
	})

	want := map[string]string{"●": "up.1", "‖": "held.1", "○": "down.1"}
	for _, noColor := range []bool{true, false} {
		var extra []string
		if noColor {
			extra = []string{"NO_COLOR=1"}
		}
		term := tmuxtest.Start(t, 140, 30, extra, bin)
		term.WaitForText(10*time.Second, "● live")
		term.Send("/")
		term.Send("-l", env.Prefix)
		term.Send("Enter")
		screen := term.WaitFor(10*time.Second, "the three containers with their states", func(s string) bool {
			for sym, name := range want {
				if !strings.Contains(s, sym+" "+name) {
					return false
				}
			}
			return strings.Contains(s, "exited(137)")
		})
		escaped := term.CaptureEscapes()
		if noColor {
			if sgr := colourSGR(escaped); sgr != "" {
				t.Errorf("with NO_COLOR=1 the screen sets a colour (%q):\n%q", sgr, escaped)
			}
			// The selection and the focused pane must show without colour too.
			if !strings.Contains(screen, "▶") || !strings.Contains(screen, "▸ Lanes") {
				t.Errorf("without colour the selection or the focused pane is not marked:\n%s", screen)
			}
		} else if colourSGR(escaped) == "" {
			t.Errorf("without NO_COLOR the screen has no colour at all, so the check above proves nothing:\n%q", escaped)
		}
		term.Send("q")
		term.WaitForText(5*time.Second, "[exited 0]")
	}
}
