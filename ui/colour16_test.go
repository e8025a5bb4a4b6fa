package ui

import (
	"fmt"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/topo-dev/topo/model"
)

// TestViewGolden16Colours draws the screens a projector shows most under
// the 16-colour profile (what a conference terminal often is): the goldens
// keep the colours, and each screen's text must be exactly the plain
// profile's, so no state, selection or mark is carried by colour alone.
func TestViewGolden16Colours(t *testing.T) {
	screens := map[string]bool{"states_and_health": true, "compose_services": true, "selection_moved_to_bridge_lane": true,
		"help": true, "details": true, "killed_with_events": true, "confirm_kill": true}
	extra := []struct {
		name  string
		topo  func() model.Topology
		setup func(hs *harness)
	}{
		{name: "isolation_overlay", topo: basicTopo, setup: func(hs *harness) { hs.press("right", "i") }},
		{name: "matrix", topo: basicTopo, setup: func(hs *harness) { hs.press("m") }},
	}
	for _, sc := range goldenScreens {
		if !screens[sc.name] {
			continue
		}
		extra = append(extra, struct {
			name  string
			topo  func() model.Topology
			setup func(hs *harness)
		}{sc.name, sc.topo, sc.setup})
	}
	for _, sc := range extra {
		t.Run(fmt.Sprintf("%s_80x24", sc.name), func(t *testing.T) {
			draw := func(p termenv.Profile) string {
				lipgloss.SetColorProfile(p)
				defer lipgloss.SetColorProfile(termenv.Ascii)
				topo := sc.topo()
				hs := newHarness(t, 80, 24, &topo)
				if sc.setup != nil {
					sc.setup(hs)
				}
				return hs.view()
			}
			coloured, plain := draw(termenv.ANSI), draw(termenv.Ascii)
			if ansi.Strip(coloured) != plain {
				t.Errorf("the 16-colour screen's text differs from the plain one's:\n%s\n---\n%s", ansi.Strip(coloured), plain)
			}
			golden.RequireEqual(t, coloured)
		})
	}
}
