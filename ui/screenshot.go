package ui

import (
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// saveScreen keeps the screen as a picture (e): drawn again in 256
// colours whatever the terminal takes (the theme's 16 come out as
// themselves), so a slide gets the colours even from a monochrome or
// NO_COLOR terminal, then written by the ScreenSaver in a command.
//
// The profile is lipgloss's, global: this is safe only because Bubble Tea
// calls Update and View on one goroutine, and every cached rendering is
// dropped before and after.
func (m *Model) saveScreen() tea.Cmd {
	saver, width := m.cfg.Screens, m.width
	if saver == nil {
		return nil
	}
	prev := lipgloss.ColorProfile()
	lipgloss.SetColorProfile(termenv.ANSI256)
	m.invalidate()
	screen := m.View()
	lipgloss.SetColorProfile(prev)
	m.invalidate()
	return func() tea.Msg {
		path, err := saver.SaveScreen(screen, width)
		return ScreenSavedMsg{Path: path, Err: err}
	}
}

// invalidate drops every cached rendering, so the next View draws all.
func (m *Model) invalidate() {
	m.body, m.bodyDirty = "", true
	m.lanes.Invalidate()
	m.matrix.invalidate()
	m.cluster.cache = ""
}
