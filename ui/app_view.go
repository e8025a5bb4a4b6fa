package ui

import (
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/topo-dev/topo/internal/inert"
)

// Screen geometry: status bar, lanes title, lanes, log title, log, footer.
func (m *Model) logHeight() int {
	if m.height >= 40 {
		return 8
	}
	return 4
}

// visiblePanels are the side panels shown now, in order.
func (m *Model) visiblePanels() []sidePanel {
	var out []sidePanel
	if m.wide() {
		out = append(out, sidePanel{paneDetails, "details", m.details, false})
	}
	if m.demoPanelShown() {
		out = append(out, sidePanel{paneDemo, "demo", m.demo, false})
	}
	if m.traffic.Running() {
		out = append(out, sidePanel{paneTraffic, "traffic", m.traffic, false})
	}
	if m.flows.On() {
		out = append(out, sidePanel{paneFlows, m.flows.Title(), m.flows, false})
	}
	if m.on(screenProbe) {
		out = append(out, sidePanel{paneProbe, "probe", m.probe, true})
	}
	if m.on(screenLogs) && m.wide() {
		// Log lines want the width: under the lanes, not beside them.
		out = append(out, sidePanel{paneLogs, m.logs.Title(), m.logs, true})
	}
	// On a narrow terminal the registry gives way to the flows, as the
	// demo's outcome does to the traffic: under the lanes both would be
	// too short to read, and the nodes keep their registry marks.
	if m.registryShown() {
		out = append(out, sidePanel{paneRegistry, "registry", m.registry, false})
	}
	return out
}

func (m *Model) registryShown() bool { return m.showRegistry && (m.wide() || !m.flows.On()) }

// lanesRect is where the lanes grid is drawn.
func (m *Model) lanesRect() (x, y, w, h int) {
	r := m.arrange(m.visiblePanels()).lanes
	return r.x, r.y, r.w, r.h
}

// demoOutcomeFor is how long a finished demo operation's panel stays up
// beside the traffic pane before giving it the room.
const demoOutcomeFor = 10 * time.Second

// demoPanelShown says whether the demo panel is laid out: while an
// operation runs, after it failed, and for a while after it succeeded; a
// finished one gives way to the traffic pane, since on a small screen both
// would be too short to read.
func (m *Model) demoPanelShown() bool {
	switch {
	case m.demo.Running(), m.demo.Failed():
		return true
	case !m.demo.Active():
		return false
	}
	return !m.traffic.Running() || m.cfg.Now().Sub(m.demoDoneAt) < demoOutcomeFor
}

func (m *Model) resize() {
	m.demoShown = m.demoPanelShown()
	m.autoFocus()
	panels := m.visiblePanels()
	// The lanes' height depends on what they need at their width: give
	// them the width first.
	l := m.arrange(panels)
	m.lanes.SetSize(l.lanes.w, m.lanes.height)
	l = m.arrange(panels)
	m.lanes.SetSize(l.lanes.w, l.lanes.h-m.legendLines())
	m.matrix.SetSize(l.lanes.w, l.lanes.h)
	m.cluster.SetSize(l.lanes.w, l.lanes.h)
	m.storage.SetSize(l.lanes.w, l.lanes.h)
	for i, p := range panels {
		if l.panels[i].h > 0 {
			p.body.SetSize(l.panels[i].w, l.panels[i].h-1)
		}
	}
	if !m.wide() {
		// Narrow: details zoom over the whole main area on enter.
		m.details.SetSize(m.width, m.mainHeight()-1)
		m.logs.SetSize(m.width, m.mainHeight()-1)
	} else {
		m.drop(screenDetails)
	}
	m.log.SetSize(m.width, m.logHeight())
	m.help.Width = m.width
	m.filter.Width = max(10, m.width-2-lipgloss.Width(filterHint)-len(m.filter.Prompt))
}

// legendLines is the room the isolation legend takes above the lanes.
func (m *Model) legendLines() int {
	if m.on(screenOverlay) {
		return len(m.legend())
	}
	return 0
}

// legend is the isolation overlay's legend in at most two lines of the
// lanes' width: what the subject reaches, then what is isolated from it,
// so the isolated part (the database, on stage) is not cut off by a long
// list of what is reached.
func (m *Model) legend() []string {
	w := m.width
	if m.wide() && len(m.visiblePanels()) > 0 {
		w = m.width - sideWidth - 1
	}
	full := m.overlay.Legend(4 * w)
	if ansi.StringWidth(full) <= w {
		return []string{full}
	}
	sep := m.styles.Muted.Render(" · ")
	parts := strings.Split(full, sep)
	cut := len(parts)
	for i := 1; i < len(parts); i++ {
		if strings.HasPrefix(ansi.Strip(parts[i]), "isolated") {
			cut = i
		}
	}
	if cut == len(parts) {
		return []string{ansi.Truncate(full, w, "…")}
	}
	return []string{ansi.Truncate(strings.Join(parts[:cut], sep), w, "…"), ansi.Truncate(strings.Join(parts[cut:], sep), w, "…")}
}

// mainHeight is the lines between the status bar and the event log.
func (m *Model) mainHeight() int { return m.height - 1 - 1 - 1 - m.logHeight() - m.barLines() }

// barLines is the room the replay bar takes at the foot of the screen.
func (m *Model) barLines() int {
	if m.replay != nil {
		return 1
	}
	return 0
}

// View draws the screen.
func (m *Model) View() string {
	if m.width == 0 {
		return "starting topo…"
	}
	if m.width < MinWidth || m.height < MinHeight {
		msg := fmt.Sprintf("terminal too small: need at least %d×%d (now %d×%d)", MinWidth, MinHeight, m.width, m.height)
		return lipgloss.NewStyle().Width(max(1, m.width)).Render(msg)
	}
	// The clock's tick changes only the status bar: the rest of the
	// screen is drawn again only after a message that may change it, which
	// is most of what topo costs while nothing happens.
	// inert.Screen is the safety net behind Update's inert.Value: a
	// string that reached a pane some other way is shown, not obeyed.
	if m.bodyDirty || m.body == "" {
		m.body = inert.Screen(m.renderBody())
		m.bodyDirty = false
	}
	view := inert.Screen(m.statusBar()) + "\n" + m.body
	if m.replay != nil {
		// Drawn every frame, like the status bar: its clock runs.
		view += "\n" + inert.Screen(m.replayBar())
	}
	return view
}

// renderBody draws everything below the status bar.
func (m *Model) renderBody() string {
	mainH := m.mainHeight()
	panels := m.visiblePanels()
	l := m.arrange(panels)
	var main string
	switch {
	case m.mode == modeHelp:
	case m.lanesScreen() == screenDetails:
		main = m.title("details", paneDetails, m.width) + "  " + m.styles.Muted.Render("esc back") + "\n" + m.details.View()
	case m.lanesScreen() == screenLogs:
		main = m.title(m.logs.Title(), paneLogs, m.width) + "\n" + m.logs.View()
	default:
		var lanes string
		switch m.lanesScreen() {
		case screenCluster:
			lanes = m.cluster.View()
		case screenMatrix:
			lanes = m.matrix.View()
		case screenStorage:
			lanes = m.storage.View()
		case screenOverlay:
			lanes = strings.Join(m.legend(), "\n") + "\n" + m.lanes.View()
		default:
			lanes = m.lanes.View()
		}
		if !m.synced {
			lanes = lipgloss.NewStyle().Height(l.lanes.h).Render(m.connectingView())
		}
		lanesBlock := m.title(m.lanesTitle(), paneLanes, l.lanes.w) + "\n" + m.lanesBox.render(lanes, l.lanes.w, l.lanes.h)
		left := lanesBlock
		if under := m.renderPanels(panels, l, true); under != "" {
			left += "\n" + under
		}
		main = left
		if l.beside {
			main = lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(l.lanes.w).Render(left), m.renderPanels(panels, l, false))
		}
	}
	if m.mode == modeHelp {
		// Help is modal: it takes the event log's room as well.
		return m.helpView(m.width, m.height-2-m.barLines()) + "\n" + m.footer()
	}
	main = lipgloss.NewStyle().Height(mainH).MaxHeight(mainH).Render(main)
	logView := m.title("events", paneLog, m.width) + "\n" + m.log.View()
	return strings.Join([]string{main, logView, m.footer()}, "\n")
}

func (m *Model) title(text string, p pane, w int) string {
	style, marker := m.styles.PaneTitle, "  "
	if m.focus == p {
		// The marker, not only the underline, shows focus: monochrome
		// terminals and NO_COLOR drop the styling.
		style, marker = m.styles.Focused, "▸ "
	}
	return ansiFit(marker+style.Render(strings.ToUpper(text[:1])+text[1:]), w)
}

func (m *Model) lanesTitle() string {
	t := "lanes"
	switch m.lanesScreen() {
	case screenCluster:
		return m.cluster.Title() + " · w lanes"
	case screenMatrix:
		t = "reachability matrix · esc back"
	case screenOverlay:
		t = "lanes · isolation of " + m.overlaySubject()
	case screenStorage:
		return m.storageTitle()
	}
	if f := m.lanes.Focus(); f != "" {
		t += " · focus " + f + " · o: next"
	} else if projects := m.lanes.Projects(); len(projects) > 0 {
		t += " · project " + strings.Join(projects, ", ")
	}
	if above, below := m.lanes.lanesAboveBelow(); m.lanesScreen() != screenMatrix {
		// Lanes scrolled off vertically: the title says so, since a
		// lane just below the fold looks like no lane at all.
		if above > 0 {
			t += fmt.Sprintf(" · ↑%d above", above)
		}
		if below > 0 {
			t += fmt.Sprintf(" · ↓%d below", below)
		}
	}
	if f := m.filter.Value(); f != "" {
		t += " · filter “" + f + "”"
	}
	if !m.lanes.ShowsBuiltIn() {
		t += " · b: built-in nets"
	}
	return t
}

func (m *Model) overlaySubject() string {
	if c, ok := m.overlay.Subject(); ok {
		return c.DisplayName()
	}
	return "nothing"
}

func (m *Model) connectingView() string {
	if m.replay != nil {
		return m.styles.Muted.Render("nothing recorded yet at this moment: ] steps to the first state")
	}
	return m.styles.Muted.Render("connecting to " + m.cfg.EngineInfo.Host + "…")
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ansiFit truncates styled text to w cells.
func ansiFit(s string, w int) string {
	return lipgloss.NewStyle().MaxWidth(w).Render(s)
}

// storageTitle counts the volumes and says what v and u do next.
func (m *Model) storageTitle() string {
	vols, unused := m.storage.Counts()
	t := "storage · " + plural(vols, "volume")
	if unused > 0 {
		t += fmt.Sprintf(", %d unused", unused)
	}
	if m.storage.Binds() {
		t += " · bind mounts · v closes"
	} else {
		t += " · v: bind mounts too"
	}
	if st := m.storage.SizeState(); st != "" {
		t += " · " + st
	} else if m.cfg.Volumes != nil {
		t += " · u: sizes"
	}
	if f := m.filter.Value(); f != "" {
		t += " · filter “" + f + "”"
	}
	return t
}

// boxCache keeps the last text fitted to a box: the lanes' grid is the
// largest block of the screen, and a frame for something else (a batch of
// logs beside it) must not fit it again. The panes return the same cached
// string while unchanged and draw a new one after any change, so the
// string's identity (its data pointer), not its bytes, says whether it
// changed: a grid drawn again costs its fitting again, as before.
type boxCache struct {
	in, out string
	w, h    int
}

func (c *boxCache) render(s string, w, h int) string {
	same := len(s) == len(c.in) && unsafe.StringData(s) == unsafe.StringData(c.in)
	if c.out == "" || !same || w != c.w || h != c.h {
		c.in, c.w, c.h = s, w, h
		c.out = lipgloss.NewStyle().Width(w).Height(h).MaxHeight(h).Render(s)
	}
	return c.out
}
