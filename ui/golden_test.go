package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/topo-dev/topo/model"
)

// goldenScreens are the whole-screen goldens: a fixed topology and what a
// person did before looking. Regenerate with `go test ./ui -update`.
var goldenScreens = []struct {
	name  string
	topo  func() model.Topology // nil: nothing received from the engine yet
	setup func(hs *harness)
}{
	{name: "three_networks_and_empty", topo: basicTopo},
	{name: "builtin_networks_shown", topo: basicTopo, setup: func(hs *harness) { hs.press("b") }},
	{name: "selection_moved_to_bridge_lane", topo: basicTopo, setup: func(hs *harness) { hs.press("j", "right") }},
	{name: "states_and_health", topo: statesTopo},
	{name: "compose_services", topo: composeTopo},
	{name: "long_and_unicode_names", topo: unicodeTopo},
	{name: "sixty_in_one_lane", topo: sixtyTopo},
	{name: "sixty_scrolled_to_the_end", topo: sixtyTopo, setup: func(hs *harness) {
		for range 59 {
			hs.press("right")
		}
	}},
	{name: "connecting"},
	{name: "stale_engine_lost", topo: basicTopo, setup: func(hs *harness) {
		hs.now = hs.now.Add(3 * time.Second)
		hs.send(EngineUpdateMsg{Update: model.Update{
			Lost:  errors.New("cannot reach the Docker engine at unix:///var/run/docker.sock: connection refused"),
			Retry: hs.now.Add(4 * time.Second),
		}})
	}},
	{name: "help", topo: basicTopo, setup: func(hs *harness) { hs.press("?") }},
	{name: "confirm_kill", topo: basicTopo, setup: func(hs *harness) { hs.press("x") }},
	{name: "filter_typing", topo: basicTopo, setup: func(hs *harness) {
		hs.sendOnly(keyRunes("/"))
		hs.typeText("wor")
	}},
	{name: "filter_kept", topo: basicTopo, setup: func(hs *harness) {
		hs.sendOnly(keyRunes("/"))
		hs.typeText("a")
		hs.press("enter")
	}},
	{name: "details", topo: basicTopo, setup: func(hs *harness) {
		hs.press("right") // api: three networks
		hs.press("enter")
	}},
	{name: "killed_with_events", topo: basicTopo, setup: func(hs *harness) {
		hs.press("x", "y")
		worker := hs.m.topo.Containers[ctrID("worker")]
		hs.now = hs.now.Add(time.Second)
		hs.event(model.Event{Type: model.EventContainer, Action: "kill", ActorID: worker.ID, Attributes: map[string]string{"name": "worker", "signal": "9"}})
		worker.State, worker.ExitCode = model.StateExited, 137
		hs.event(model.Event{Type: model.EventContainer, Action: "die", ActorID: worker.ID, Container: &worker, Attributes: map[string]string{"name": "worker", "exitCode": "137"}})
		hs.now = hs.now.Add(12 * time.Second)
	}},
	{name: "focus_on_event_log", topo: basicTopo, setup: func(hs *harness) {
		hs.press("tab")
		if !hs.m.wide() {
			return
		}
		hs.press("tab")
	}},
}

var goldenSizes = []struct{ w, h int }{{80, 24}, {200, 50}}

func TestViewGolden(t *testing.T) {
	for _, sc := range goldenScreens {
		for _, size := range goldenSizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size.w, size.h), func(t *testing.T) {
				var topo *model.Topology
				if sc.topo != nil {
					tp := sc.topo()
					topo = &tp
				}
				hs := newHarness(t, size.w, size.h, topo)
				if sc.setup != nil {
					sc.setup(hs)
				}
				golden.RequireEqual(t, hs.view())
			})
		}
	}
}

// TestViewGoldenTooSmall: below the minimum the screen says what it needs.
func TestViewGoldenTooSmall(t *testing.T) {
	for _, size := range []struct{ w, h int }{{59, 24}, {80, 15}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			topo := basicTopo()
			hs := newHarness(t, size.w, size.h, &topo)
			v := hs.m.View()
			if !strings.Contains(v, fmt.Sprintf("terminal too small: need at least %d×%d", MinWidth, MinHeight)) {
				t.Errorf("View at %d×%d does not say the terminal is too small:\n%s", size.w, size.h, v)
			}
			golden.RequireEqual(t, v)
		})
	}
}

// TestTooSmallMessageFitsNarrowTerminal: Bubble Tea cuts every line at the
// terminal's width, so on a very narrow terminal a one-line message loses
// the size it asks for; it must wrap to fit.
func TestTooSmallMessageFitsNarrowTerminal(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 30, 10, &topo)
	v := hs.m.View()
	for i, line := range strings.Split(v, "\n") {
		if lw := ansi.StringWidth(line); lw > 30 {
			t.Errorf("line %d is %d cells wide on a 30-cell terminal, so the terminal cuts it: %q", i+1, lw, line)
		}
	}
	if joined := strings.Join(strings.Fields(v), " "); !strings.Contains(joined, fmt.Sprintf("%d×%d", MinWidth, MinHeight)) {
		t.Errorf("the message does not name the size needed: %q", v)
	}
}

var goldenSnapshots = []struct {
	name        string
	topo        func() model.Topology
	withBuiltIn bool
}{
	{"three_networks_and_empty", basicTopo, true},
	{"three_networks_user_only", basicTopo, false},
	{"states_and_health", statesTopo, false},
	{"compose_services", composeTopo, false},
	{"long_and_unicode_names", unicodeTopo, false},
	{"sixty_in_one_lane", sixtyTopo, false},
	{"no_networks", func() model.Topology { return model.NewTopology() }, true},
}

func TestRenderSnapshotGolden(t *testing.T) {
	for _, sc := range goldenSnapshots {
		for _, w := range []int{80, 200} {
			t.Run(fmt.Sprintf("%s_%d", sc.name, w), func(t *testing.T) {
				out := RenderSnapshot(sc.topo(), NewStyles(DefaultTheme()), w, sc.withBuiltIn)
				for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
					if lw := ansi.StringWidth(line); lw > w {
						t.Errorf("line %d is %d cells wide, wider than --width %d: %q", i+1, lw, w, line)
					}
				}
				golden.RequireEqual(t, out)
			})
		}
	}
}
