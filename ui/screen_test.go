package ui

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// screenHarness is the root model at 120×35 with a prober that answers
// only when cancelled and a swarm, so every screen can open. Keys go
// through sendOnly: the probe's ProbeDoneMsg never arrives, as on a real
// engine where removing the probe's container takes seconds.
func screenHarness(t *testing.T, w int) *harness {
	t.Helper()
	topo := basicTopo()
	hs := newHarnessWith(t, w, 35, &topo, func(c *Config) {
		c.Prober = &isoProber{}
		c.Swarm = &fakeSwarm{}
		c.Cluster = make(chan model.Cluster)
	})
	hs.sendOnly(ClusterUpdateMsg{Cluster: model.Cluster{}})
	return hs
}

func (hs *harness) keys(keys ...string) {
	hs.t.Helper()
	for _, k := range keys {
		switch k {
		case "esc":
			hs.sendOnly(keyType(tea.KeyEsc))
		case "tab":
			hs.sendOnly(keyType(tea.KeyTab))
		case "enter":
			hs.sendOnly(keyType(tea.KeyEnter))
		default:
			hs.sendOnly(keyRunes(k))
		}
	}
}

func lanesTitleOf(v string) string {
	lines := strings.Split(v, "\n")
	if len(lines) < 2 {
		return ""
	}
	return strings.TrimSpace(lines[1])
}

// The report of issue 12: at 120×35, m, esc, p, esc, esc left the matrix
// up. A probe being cancelled kept Running() true until its container was
// gone, and Esc's ladder spent every press cancelling it again: the matrix
// opened meanwhile could not be closed until the cancel completed.
func TestEscIsNeverSwallowedByAProbeBeingCancelled(t *testing.T) {
	hs := screenHarness(t, 120)
	hs.keys("p", "esc") // a probe, cancelled; its end is still to come
	hs.keys("m", "esc", "p", "esc", "esc")
	if v := hs.view(); strings.Contains(v, "Reachability matrix") {
		t.Fatalf("m, esc, p, esc, esc left the matrix up:\n%s", v)
	}
	if got := lanesTitleOf(hs.view()); !strings.HasPrefix(got, "▸ Lanes") || strings.Contains(got, "isolation") {
		t.Errorf("the screen is not back on the lanes: %q", got)
	}
}

// The user's keys from a fresh start, with a probe that takes its time.
func TestTheReportedKeysEndOnTheLanes(t *testing.T) {
	hs := screenHarness(t, 120)
	hs.keys("m", "esc", "p", "esc", "esc")
	v := hs.view()
	if got := lanesTitleOf(v); strings.Contains(got, "matrix") || strings.Contains(got, "isolation") {
		t.Errorf("after m, esc, p, esc, esc the lanes show %q", got)
	}
	if strings.Contains(v, "Probe") {
		t.Errorf("the probe panel stayed after esc:\n%s", v)
	}
}

// Every screen opens from every screen, and Esc closes exactly the one
// opened last, whatever a probe is doing.
func TestEveryScreenTransitionAndEscBack(t *testing.T) {
	openers := []struct {
		key   string
		top   screen
		title string // in the lanes' title, "" when the area is not titled by it
	}{
		{"i", screenOverlay, "isolation of"},
		{"m", screenMatrix, "Reachability matrix"},
		{"p", screenProbe, "isolation of"},
		{"w", screenCluster, "w lanes"},
		{"enter", screenDetails, "Details"},
	}
	for _, from := range append([]struct {
		key   string
		top   screen
		title string
	}{{"", 0, "Lanes"}}, openers...) {
		for _, to := range openers {
			t.Run(from.top.String()+"_then_"+to.key, func(t *testing.T) {
				hs := screenHarness(t, 100) // narrow: enter zooms the details
				if from.key != "" {
					hs.keys(from.key)
				}
				before := slices.Clone(hs.m.screens)
				hs.keys(to.key)
				after := hs.m.screens
				switch {
				case slices.Equal(before, after):
					// The key does not apply there (the cluster view takes
					// the lanes' keys, a running probe disables p): Esc
					// must still close what was open.
				case len(after) < len(before):
					// The key toggles its screen: pressed again it closes it.
					if slices.Contains(after, to.top) {
						t.Fatalf("%s on %v left %v", to.key, before, after)
					}
				case after[len(after)-1] != to.top:
					t.Fatalf("%s opened %v on %v, want %v on top", to.key, after, before, to.top)
				}
				opened := len(hs.m.screens)
				for range opened {
					n := len(hs.m.screens)
					hs.keys("esc")
					if len(hs.m.screens) != n-1 {
						t.Fatalf("esc closed more or less than one screen: %v", hs.m.screens)
					}
				}
				if got := lanesTitleOf(hs.view()); !strings.Contains(got, "Lanes") || strings.Contains(got, "isolation") {
					t.Errorf("after %d esc the lanes' title is %q", opened, got)
				}
			})
		}
	}
}

// An event while help is open (a busy engine) must not disable every key
// help lists: TestEndToEndDemoKeys saw help without D on a loaded engine.
func TestHelpKeepsListingKeysWhileEventsArrive(t *testing.T) {
	topo := basicTopo()
	hs := newHarnessWith(t, 160, 50, &topo, func(c *Config) { c.Demo = &fakeDeployer{} })
	hs.press("?")
	hs.event(model.Event{Type: model.EventContainer, Action: "start", ActorID: ctrID("web")})
	if v := hs.view(); !strings.Contains(v, "D") || !strings.Contains(v, "deploy the demo") {
		t.Fatalf("help lost the demo's keys after an event:\n%s", v)
	}
}
