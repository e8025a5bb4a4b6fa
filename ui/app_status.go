package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// The status bar at the top and the footer at the bottom: what topo is
// connected to and how current it is, and the keys that apply now.

func (m *Model) statusBar() string {
	s := m.styles
	now := m.cfg.Now()
	engine := m.cfg.EngineInfo.Host
	if v := m.cfg.EngineInfo.Version; v != "" {
		if !strings.HasPrefix(v, "Podman ") {
			// A Podman engine's version says so itself (docker.Info).
			v = "Docker " + v
		}
		engine += " · " + v
	}
	running, total := m.topo.Counts()
	counts := plural(len(m.topo.Networks), "network") + fmt.Sprintf(" · %d/%d running", running, total)
	if m.width < 120 {
		// Narrow: the connection state matters more than the words.
		engine = strings.TrimPrefix(strings.TrimPrefix(m.cfg.EngineInfo.Host, "unix://"), "tcp://")
		if v := m.cfg.EngineInfo.Version; v != "" {
			engine += " " + v
		}
		counts = plural(len(m.topo.Networks), "net") + fmt.Sprintf(" · %d/%d up", running, total)
	}
	var conn string
	sep := s.Muted.Render(" │ ")
	switch {
	case m.closed:
		conn = s.Muted.Render("■ stopped")
	case m.stale != nil:
		wait := max(0, m.retryAt.Sub(now).Round(time.Second))
		conn = s.Error.Render(fmt.Sprintf("◌ STALE · retry in %s", wait))
	case !m.synced:
		conn = s.Warning.Render("◌ connecting")
	default:
		age := "just now"
		if d := now.Sub(m.lastEvent); d >= time.Second {
			age = humanDuration(d) + " ago"
		}
		live := "● live"
		if m.replay != nil {
			// Not a live engine: what it recorded, at the replay's clock.
			live = "● recorded"
		}
		conn = s.Healthy.Render(live) + s.Muted.Render(" · "+m.lastWhat+" "+age)
	}
	// Fields in order of importance: the connection state first, so a
	// narrow terminal drops the engine address rather than the word
	// STALE, and whole fields go rather than half an address.
	fields := []string{s.StatusBar.Render("topo"), conn, counts}
	if m.lanes.Focus() != "" {
		// What the focus hides (the lanes' title names the project), in
		// place of the counts on a narrow terminal: the audience should
		// know the screen is not all.
		hidden, lanes := m.lanes.Hidden()
		if m.width >= 120 {
			fields = append(fields, s.Warning.Render("focus")+" · "+plural(hidden, "container")+", "+plural(lanes, "network")+" hidden (o)")
		} else {
			fields[2] = s.Warning.Render("focus") + fmt.Sprintf(" · %d hidden (o)", hidden)
		}
	}
	fields = append(fields, m.registryStatus(m.width >= 120), engine)
	for n := len(fields); n > 1; n-- {
		bar := strings.Join(fields[:n], sep)
		if lipgloss.Width(bar) <= m.width {
			return bar
		}
	}
	return ansiFit(fields[0]+sep+fields[1], m.width)
}

// maxStatusNames is how long the registries' names may be together for
// the status bar to give them; beyond, it gives their letters.
const maxStatusNames = 40

// registryStatus says which registry is in use, how it was found, and
// whether it answers; with several, each one's state (and name, long).
func (m *Model) registryStatus(long bool) string {
	s := m.styles
	if len(m.regWatches) == 0 {
		if m.regSearching {
			return s.Muted.Render("registry …")
		}
		return s.Muted.Render("no registry")
	}
	withheld := ""
	// Few short names are given as they are; else each one's letter.
	named := long && len(m.regWatches) > 1 && len(strings.Join(m.registry.Names(), " ")) <= maxStatusNames
	marks := make([]string, len(m.regWatches))
	for i, w := range m.regWatches {
		if w.TokenWithheld {
			withheld = s.Warning.Render(" (token not sent)")
		}
		r, _ := m.registry.Registry(w.Name)
		marks[i] = s.Warning.Render("◌")
		switch {
		case m.registry.Gone(w.Name) != "":
			marks[i] = s.Muted.Render("○")
		case r.Error != "":
			marks[i] = s.Error.Render("✗")
		case r.Live():
			marks[i] = s.Healthy.Render("●")
		}
		switch {
		case named:
			marks[i] += " " + w.Name
		case long && len(m.regWatches) > 1:
			marks[i] += " " + m.registry.tag(w.Name)
		}
	}
	switch {
	case len(m.regWatches) > 1:
		return "registries " + strings.Join(marks, " ") + withheld
	case !long:
		return "registry " + marks[0] + withheld
	}
	return "registry " + marks[0] + " " + m.regWatches[0].Source + withheld
}

func (m *Model) footer() string {
	s := m.styles
	switch m.mode {
	case modeHelp:
		return ansiFit(s.Key.Render("any key")+" closes this help", m.width)
	case modeFilter:
		return ansiFit(m.filter.View()+s.Muted.Render(filterHint), m.width)
	case modeConfirm:
		// The answers are what must stay on screen: a narrow terminal cuts
		// the question, never the keys that answer it.
		answers := s.Key.Render("y") + " yes  " + s.Key.Render("n") + " no"
		if len(m.pending.choices) > 0 {
			answers = ""
			for _, c := range m.pending.choices {
				answers += s.Key.Render(c.key) + " " + c.label + "  "
			}
			answers += s.Key.Render("esc") + " cancel"
		}
		room := max(m.width-lipgloss.Width(answers)-1, 0)
		prompt := m.pending.prompt
		if lipgloss.Width(prompt) > room {
			prompt = ansi.Truncate(prompt, room, "…")
		}
		return ansiFit(s.Warning.Bold(true).Render(prompt)+" "+answers, m.width)
	}
	if len(m.busy) > 0 {
		var parts []string
		for id, a := range m.busy {
			name := shortID(id)
			if c, ok := m.topo.Containers[id]; ok {
				name = c.DisplayName()
			}
			parts = append(parts, fmt.Sprintf("%s %s…", a, name))
		}
		return ansiFit(m.spinner.View()+" "+strings.Join(parts, ", "), m.width)
	}
	if m.flash.text != "" {
		style := s.Healthy
		if m.flash.bad {
			style = s.Error
		}
		// The message leads, the key hints follow: a kept message no
		// longer hides the keys until the next one.
		return ansiFit(style.Render(m.flash.text)+s.Muted.Render("  │  ")+m.help.ShortHelpView(m.keys.ShortHelp()), m.width)
	}
	if m.stale != nil {
		return ansiFit(s.Error.Render("engine lost: "+m.stale.Error()), m.width)
	}
	return ansiFit(m.help.ShortHelpView(m.keys.ShortHelp()), m.width)
}
