package ui

import (
	"fmt"
	"github.com/topo-dev/topo/model"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// The terminal sizes the sweep draws every screen at: from the smallest
// topo draws in to a large monitor's.
var (
	sweepWidths  = []int{60, 80, 100, 120, 150, 200, 250}
	sweepHeights = []int{16, 24, 35, 50, 70}
)

// stageScreens are the demo on stage, with bystanders, as a presenter
// shows it.
var stageScreens = []struct {
	name     string
	replicas int
	setup    func(hs *harness)
}{
	{name: "demo_3", replicas: 3},
	{name: "demo_20", replicas: 20},
	{name: "demo_registry_focused", replicas: 3, setup: func(hs *harness) {
		for range 4 {
			if hs.m.focus == paneRegistry {
				return
			}
			hs.press("tab")
		}
	}},
	{name: "demo_replicas_opened", replicas: 5, setup: func(hs *harness) { hs.press("right", "right", "z") }},
	{name: "demo_focus_all", replicas: 5, setup: func(hs *harness) { hs.press("o", "o", "o") }},
	{name: "demo_help", replicas: 3, setup: func(hs *harness) { hs.press("?") }},
}

// TestNoLineOutsideItsBox (issue 13): at every size from 60×16 to 250×70,
// in every screen (lanes, details, help, registry, matrix, isolation and
// probe, cluster, demo and traffic, and the demo on stage), the screen is
// exactly the terminal and no pane draws a line wider than its box or more
// lines than it has.
func TestNoLineOutsideItsBox(t *testing.T) {
	for _, w := range sweepWidths {
		for _, h := range sweepHeights {
			for _, sc := range hostileScreens {
				t.Run(fmt.Sprintf("%s_%dx%d", sc.name, w, h), func(t *testing.T) {
					hs := newHostileHarness(t, w, h, sc.configure)
					if sc.setup != nil {
						sc.setup(t, hs)
					}
					hs.view()
					checkBoxes(t, hs.m)
				})
			}
			for _, sc := range stageScreens {
				t.Run(fmt.Sprintf("%s_%dx%d", sc.name, w, h), func(t *testing.T) {
					hs := stageHarness(t, w, h, sc.replicas)
					if sc.setup != nil {
						sc.setup(hs)
					}
					hs.view()
					checkBoxes(t, hs.m)
				})
			}
		}
	}
}

// checkBoxes checks each pane's own drawing against the box the layout
// gives it: the whole screen is cut to the terminal, so a pane drawing
// past its box would otherwise spill into its neighbour unnoticed.
func checkBoxes(t *testing.T, m *Model) {
	t.Helper()
	m.View()
	panels := m.visiblePanels()
	l := m.arrange(panels)
	for i, p := range panels {
		if r := l.panels[i]; r.h > 0 && m.mode != modeHelp && m.lanesScreen() != screenDetails {
			inBox(t, p.title, p.body.View(), r.w, r.h-1)
		}
	}
	if m.mode == modeNormal && m.lanesScreen() == 0 {
		inBox(t, "lanes", m.lanes.View(), l.lanes.w, l.lanes.h)
	}
	if m.lanesScreen() == screenDetails {
		inBox(t, "details", m.details.View(), m.width, m.mainHeight()-1)
	}
}

func inBox(t *testing.T, name, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > max(h, 1) {
		t.Errorf("%s draws %d lines in a box of %d", name, len(lines), h)
	}
	for i, line := range lines {
		if lw := ansi.StringWidth(line); lw > w {
			t.Errorf("%s line %d is %d cells wide, its box %d: %q", name, i+1, lw, w, line)
		}
	}
}

// TestRegistryListDoesNotScrollPastContentThatFits (issue 13): right
// after D the panel was laid out short while the registry connected, its
// list scrolled to the selected row, and when the panel got its room the
// offset stayed: "2 services · 3 instances" over a list showing only the
// last service, with 20 empty rows below it.
func TestRegistryListDoesNotScrollPastContentThatFits(t *testing.T) {
	p := newRegistryPanel(sideWidth, 4)
	p.SetRegistry(registryFixture())
	p.Move(100) // the last row, as a selection in the lanes would
	p.SetSize(sideWidth, 40)
	v := ansi.Strip(p.View())
	for _, want := range []string{"api  2 instances", "consul  1 instance", "web  3 instances"} {
		if !strings.Contains(v, want) {
			t.Errorf("a panel with room for its whole list does not show %q:\n%s", want, v)
		}
	}
	// Kept in view, the selection does not hide the rows above it that
	// fit with it.
	p.SetSize(sideWidth, 14)
	v = ansi.Strip(p.View())
	if !strings.Contains(v, "›") {
		t.Errorf("the selected row is not in view:\n%s", v)
	}
	if lines := strings.Split(v, "\n"); len(lines) != 14 || strings.TrimSpace(lines[len(lines)-1]) == "" {
		t.Errorf("the list leaves empty rows under its end while rows above are hidden:\n%s", v)
	}
}

// TestDemoRegistryShowsAppAfterDeploy: at every size where the panel has
// room for the service's line, the demo's app service is on screen right
// after the registry answers.
func TestDemoRegistryShowsAppAfterDeploy(t *testing.T) {
	for _, w := range sweepWidths {
		for _, h := range sweepHeights {
			topo := stageTopo(3)
			hs := newHarnessWith(t, w, h, &topo, func(c *Config) {
				c.Demo = &fakeDeployer{url: "http://127.0.0.1:8080"}
				c.Registry = &fakeConnector{results: []error{nil}}
			})
			hs.send(RegistryMsg{Registry: model.Registry{Addr: "172.21.0.2:8500", Source: "auto"}})
			hs.press("right", "right") // an app instance
			hs.send(RegistryMsg{Registry: stageRegistry(topo)})
			panels := hs.m.visiblePanels()
			l := hs.m.arrange(panels)
			for i, p := range panels {
				if p.pane != paneRegistry || l.panels[i].h < 1+registryHeaderLines+3 {
					continue
				}
				if v := ansi.Strip(hs.view()); !strings.Contains(v, "app  3 instances") {
					t.Errorf("%d×%d: the registry panel (%d rows) does not show the app service:\n%s", w, h, l.panels[i].h, v)
				}
			}
		}
	}
}
