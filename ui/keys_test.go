package ui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// TestRunesReadTogetherAreSeparateKeys is the regression for "/" and the
// filter text arriving in one read (a busy terminal, a paste): the filter
// key was not recognised and the text was lost.
func TestRunesReadTogetherAreSeparateKeys(t *testing.T) {
	m := New(Config{})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	topo := model.NewTopology()
	topo.Networks["n"] = model.Network{ID: "n", Name: "net"}
	m.Update(EngineUpdateMsg{model.Update{Snapshot: &topo}})

	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/web")})
	if m.mode != modeFilter {
		t.Fatalf("mode = %v, want the filter", m.mode)
	}
	if got := m.filter.Value(); got != "web" {
		t.Errorf("filter = %q, want %q", got, "web")
	}
}
