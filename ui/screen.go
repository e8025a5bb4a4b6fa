package ui

import "github.com/topo-dev/topo/model"

// Which screen shows is one value: a stack of the screens opened over the
// lanes, most recent last, so that Esc always closes the one opened last.
// It replaced six booleans whose meaning depended on which was read last
// (issue 12): Esc walked a fixed ladder, and a probe still being cancelled
// swallowed every Esc, leaving the matrix up with no way back but waiting.

// screen is one view opened over the lanes.
type screen int

const (
	// screenOverlay colours the lanes by what the selection can reach.
	screenOverlay screen = iota + 1
	// screenMatrix replaces the lanes with who-reaches-whom.
	screenMatrix
	// screenProbe is a live probe's results in a side panel.
	screenProbe
	// screenCluster replaces the lanes with the swarm view.
	screenCluster
	// screenDetails zooms the details over the lanes on narrow terminals.
	screenDetails
	// screenStorage replaces the lanes with the storage lanes (volumes).
	screenStorage
	// screenLogs is a container's logs: a panel under the lanes on wide
	// terminals, zoomed over them on narrow ones.
	screenLogs
)

func (s screen) String() string {
	switch s {
	case screenOverlay:
		return "overlay"
	case screenMatrix:
		return "matrix"
	case screenProbe:
		return "probe"
	case screenCluster:
		return "cluster"
	case screenDetails:
		return "details"
	case screenStorage:
		return "storage"
	case screenLogs:
		return "logs"
	}
	return "lanes"
}

// on says whether s is open, shown on top or under another.
func (m *Model) on(s screen) bool {
	for _, o := range m.screens {
		if o == s {
			return true
		}
	}
	return false
}

// lanesScreen is what the lanes' area shows: the most recently opened of
// the screens drawn there, 0 for the plain lanes.
func (m *Model) lanesScreen() screen {
	for i := len(m.screens) - 1; i >= 0; i-- {
		switch s := m.screens[i]; s {
		case screenOverlay, screenMatrix, screenCluster, screenDetails, screenStorage:
			return s
		case screenLogs:
			if !m.wide() {
				return s
			}
		}
	}
	return 0
}

// open puts s on top, or brings an open s up to date with the topology
// and the selection.
func (m *Model) open(s screen) {
	// The selection of the screen below: the new one opens on it.
	c, selected := m.selected()
	if !m.on(s) {
		m.screens = append(m.screens, s)
	}
	switch s {
	case screenOverlay:
		m.overlay.SetTopology(m.topo)
		if selected {
			m.overlay.Select(c.ID)
		}
		m.lanes.SetOverlay(m.overlay)
	case screenMatrix:
		m.matrix.SetTopology(m.topo)
		if selected {
			m.matrix.Select(c.ID)
		}
	case screenStorage:
		m.storage.SetTopology(m.topo)
		m.storage.SetFilter(m.filter.Value())
		if selected {
			m.storage.Select(c.ID)
		}
	}
	if m.focus == paneLogs && !m.logsVisible() {
		// A screen zoomed over the logs takes the keys with it.
		m.focus = paneLanes
	}
	m.resize()
	m.updateKeys()
}

// close takes s away wherever it is in the stack; closing the probe
// cancels a probe still running.
func (m *Model) close(s screen) {
	if !m.drop(s) {
		return
	}
	switch s {
	case screenOverlay:
		m.lanes.SetOverlay(nil)
	case screenProbe:
		m.probe.Cancel()
		if m.focus == paneProbe {
			m.focus = paneLanes
		}
	case screenDetails:
		m.focus = paneLanes
	case screenStorage:
		// The lanes keep the container last selected in storage.
		if c, ok := m.storage.Selected(); ok {
			m.lanes.Select(c.ID)
		}
		m.storage.SetBinds(false)
	case screenLogs:
		m.logs.Close()
		if m.focus == paneLogs {
			m.focus = paneLanes
		}
	}
	if m.lanesScreen() == screenLogs {
		// The zoomed logs are back on top: the keys go to them again.
		m.focus = paneLogs
	}
	m.resize()
	m.updateKeys()
}

// drop removes s from the stack without its closing work, and says
// whether it was there.
func (m *Model) drop(s screen) bool {
	for i, o := range m.screens {
		if o == s {
			m.screens = append(m.screens[:i:i], m.screens[i+1:]...)
			return true
		}
	}
	return false
}

// toggle opens s, or closes it when open.
func (m *Model) toggle(s screen) {
	if m.on(s) {
		m.close(s)
	} else {
		m.open(s)
	}
}

// back closes the screen opened last, and says whether there was one.
func (m *Model) back() bool {
	if len(m.screens) == 0 {
		return false
	}
	m.close(m.screens[len(m.screens)-1])
	return true
}

// storageShown says the storage lanes are what the lanes' area shows (the
// logs or the details may be zoomed over them).
func (m *Model) storageShown() bool {
	for i := len(m.screens) - 1; i >= 0; i-- {
		switch m.screens[i] {
		case screenStorage:
			return true
		case screenOverlay, screenMatrix, screenCluster:
			return false
		}
	}
	return false
}

// selected is the container the keys act on: the storage lanes' selection
// while they are shown, else the lanes'.
func (m *Model) selected() (model.Container, bool) {
	if m.storageShown() {
		return m.storage.Selected()
	}
	return m.lanes.Selected()
}

// logsVisible says the logs pane is on screen: under the lanes on a wide
// terminal, zoomed on a narrow one unless a screen opened since covers it.
func (m *Model) logsVisible() bool {
	return m.on(screenLogs) && (m.wide() || m.lanesScreen() == screenLogs)
}
