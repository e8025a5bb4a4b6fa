package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// The help screen: every binding that applies, and the legends.

// fullHelp lays the help columns out in as many rows as the width needs:
// bubbles' help drops the columns that do not fit, and a key missing from
// help is a key nobody finds.
func (m *Model) fullHelp(w int) string {
	var rows []string
	var row [][]key.Binding
	h := m.help
	h.Width = 0
	for _, col := range m.keys.FullHelp() {
		if lipgloss.Width(h.FullHelpView(append(row, col))) > w && len(row) > 0 {
			rows = append(rows, h.FullHelpView(row))
			row = nil
		}
		row = append(row, col)
	}
	if len(row) > 0 {
		rows = append(rows, h.FullHelpView(row))
	}
	return strings.Join(rows, "\n\n")
}

// helpView is every binding and what the symbols mean. It takes the
// event log's room too, and when it is still too tall its blank lines go
// first, so that at 80×24 every legend shows; the footer says how to close
// it.
func (m *Model) helpView(w, h int) string {
	muted := m.styles.Muted
	lines := []string{m.styles.PaneTitle.Render("Keys"), ""}
	lines = append(lines, strings.Split(m.fullHelp(w), "\n")...)
	lines = append(lines, "")
	for _, legend := range []string{
		"Nodes: ● running  ‖ paused  ↻ restarting  ○ exited/created  ✖ dead  ⌫ removing",
		"Health: ♥ healthy  ✗ unhealthy  … starting (shown while running)",
		"Rails: │ one container on several networks  ╂ joins a lane  ━ │ ━ passes over it",
		"Replicas: app ×3 ●●○ one node for a service's replicas; ←/→ steps through them",
		"Registry: R✓ pass  R! warn  R✗ critical  R‖ maint.  R⚠ stale  R? unregistered",
	} {
		for _, l := range strings.Split(wrap(legend, w), "\n") {
			lines = append(lines, muted.Render(l))
		}
	}
	if m.flows.On() {
		for _, l := range strings.Split(wrap(flowsLegend, w), "\n") {
			lines = append(lines, muted.Render(l))
		}
	}
	if several := m.severalRegistriesHelp(); several != "" {
		lines = append(lines, strings.Split(strings.TrimPrefix(several, "\n"), "\n")...)
	}
	for i := 0; len(lines) > h && i < len(lines); {
		if strings.TrimSpace(ansi.Strip(lines[i])) == "" {
			lines = append(lines[:i], lines[i+1:]...)
			continue
		}
		i++
	}
	return lipgloss.NewStyle().Width(w).Height(h).MaxHeight(h).Render(strings.Join(lines, "\n"))
}

// flowsLegend explains the flows' marks; help shows it while they are on.
const flowsLegend = "Flows: ⇄N talks with N peers  ! a flow the isolation model forbids  outside: no container of this engine"
