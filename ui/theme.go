// Package ui is topo's terminal interface: a small Bubble Tea root model
// that delegates to one component per pane (lanes, details, event log,
// status bar, help). It renders model values and turns keys into requests;
// all I/O runs in tea.Cmds through the small interfaces in deps.go.
//
// Strings from outside (names, labels, health and check output, task
// errors, event attributes, errors) are made inert once, where they enter:
// Model.Update passes every message through inert.Value before any pane
// sees it, so panes draw only text a terminal shows and never obeys, and a
// new pane needs nothing of its own; inert.Screen over each frame is the
// safety net. See internal/inert.
package ui

import (
	"hash/fnv"

	"github.com/charmbracelet/lipgloss"

	"github.com/topo-dev/topo/model"
)

// Theme names colours by meaning. It uses the 16 ANSI colours only, because
// a projector and a 16-colour terminal must show the same thing, and the
// terminal's own palette is tuned for its background.
type Theme struct {
	Healthy lipgloss.Color
	Warning lipgloss.Color
	Failing lipgloss.Color
	Muted   lipgloss.Color
	Accent  lipgloss.Color
	Network lipgloss.Color
	// Storage is the hue of volume lanes, so they never pass for
	// networks even in a glance at a projector.
	Storage  lipgloss.Color
	Text     lipgloss.Color
	Selected lipgloss.Color
	// Services colour the nodes of one compose service alike.
	Services []lipgloss.Color
}

// DefaultTheme is the theme topo ships.
func DefaultTheme() Theme {
	return Theme{
		Healthy:  lipgloss.Color("10"),
		Warning:  lipgloss.Color("11"),
		Failing:  lipgloss.Color("9"),
		Muted:    lipgloss.Color("8"),
		Accent:   lipgloss.Color("14"),
		Network:  lipgloss.Color("12"),
		Storage:  lipgloss.Color("13"),
		Text:     lipgloss.Color("15"),
		Selected: lipgloss.Color("11"),
		Services: []lipgloss.Color{"14", "13", "11", "10", "12", "6", "5", "3"},
	}
}

// Styles are every style the panes use, built once from a Theme in
// dependency order (lipgloss styles are values, so derived ones copy).
type Styles struct {
	Base      lipgloss.Style
	Muted     lipgloss.Style
	Bold      lipgloss.Style
	Healthy   lipgloss.Style
	Warning   lipgloss.Style
	Failing   lipgloss.Style
	Accent    lipgloss.Style
	LaneTitle lipgloss.Style
	LaneRule  lipgloss.Style
	Rail      lipgloss.Style
	// The storage view's lane title, rule and rail.
	StorageTitle lipgloss.Style
	StorageRule  lipgloss.Style
	Selected     lipgloss.Style
	Dimmed       lipgloss.Style
	PaneTitle    lipgloss.Style
	Focused      lipgloss.Style
	StatusBar    lipgloss.Style
	Key          lipgloss.Style
	Error        lipgloss.Style
	services     []lipgloss.Style
	theme        Theme
}

// NewStyles builds the styles of a theme.
func NewStyles(t Theme) Styles {
	base := lipgloss.NewStyle()
	s := Styles{theme: t, Base: base}
	s.Muted = base.Foreground(t.Muted)
	s.Bold = base.Bold(true)
	s.Healthy = base.Foreground(t.Healthy)
	s.Warning = base.Foreground(t.Warning)
	s.Failing = base.Foreground(t.Failing)
	s.Accent = base.Foreground(t.Accent)
	s.LaneTitle = base.Foreground(t.Network).Bold(true)
	s.LaneRule = base.Foreground(t.Network)
	s.Rail = base.Foreground(t.Network)
	s.StorageTitle = base.Foreground(t.Storage).Bold(true)
	s.StorageRule = base.Foreground(t.Storage)
	s.Selected = base.Reverse(true).Bold(true)
	s.Dimmed = base.Foreground(t.Muted).Faint(true)
	s.PaneTitle = base.Bold(true).Foreground(t.Accent)
	s.Focused = s.PaneTitle.Underline(true)
	s.StatusBar = base.Bold(true)
	s.Key = base.Foreground(t.Accent).Bold(true)
	s.Error = s.Failing.Bold(true)
	for _, c := range t.Services {
		s.services = append(s.services, base.Foreground(c))
	}
	return s
}

// Service returns the colour shared by the nodes of one compose service,
// picked by a hash so it stays the same across restarts of topo.
func (s Styles) Service(c model.Container) lipgloss.Style {
	if c.Service() == "" || len(s.services) == 0 {
		return s.Base
	}
	h := fnv.New32a()
	h.Write([]byte(c.Project() + "/" + c.Service()))
	return s.services[h.Sum32()%uint32(len(s.services))]
}

// StateSymbol is a container state readable without colour.
func StateSymbol(st model.State) string {
	switch st {
	case model.StateRunning:
		return "●"
	case model.StatePaused:
		return "‖"
	case model.StateRestarting:
		return "↻"
	case model.StateDead:
		return "✖"
	case model.StateRemoving:
		return "⌫"
	}
	return "○"
}

// State styles a state by meaning.
func (s Styles) State(st model.State) lipgloss.Style {
	switch st {
	case model.StateRunning:
		return s.Healthy
	case model.StatePaused, model.StateRestarting, model.StateRemoving:
		return s.Warning
	case model.StateDead:
		return s.Failing
	}
	return s.Muted
}

// HealthBadge is the Docker health of a container, as symbol and style.
func (s Styles) HealthBadge(h model.Health) string {
	switch h {
	case model.HealthHealthy:
		return s.Healthy.Render("♥")
	case model.HealthUnhealthy:
		return s.Failing.Render("✗")
	case model.HealthStarting:
		return s.Warning.Render("…")
	}
	return ""
}
