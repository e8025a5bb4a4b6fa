package ui

import (
	"context"
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// logsFocused says the logs pane is open and takes the keys.
func (m *Model) logsFocused() bool { return m.on(screenLogs) && m.focus == paneLogs }

func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	// Keys typed faster than topo reads them (a busy engine, a script, a
	// paste) arrive as one message of several runes: "/web" must still be
	// the filter key followed by "web", so they are taken one at a time
	// until a text input wants the rest.
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && m.mode != modeFilter {
		var cmds []tea.Cmd
		for i, r := range msg.Runes {
			if m.mode == modeFilter {
				rest := msg
				rest.Runes = msg.Runes[i:]
				cmds = append(cmds, m.handleKey(rest))
				break
			}
			one := msg
			one.Runes = []rune{r}
			cmds = append(cmds, m.handleKey(one))
		}
		return tea.Batch(cmds...)
	}
	switch m.mode {
	case modeFilter:
		return m.handleFilterKey(msg)
	case modeConfirm:
		return m.handleConfirmKey(msg)
	case modeHelp:
		if key.Matches(msg, m.keys.Quit) && msg.String() == "ctrl+c" {
			return tea.Quit
		}
		m.mode = modeNormal
		m.updateKeys()
		return nil
	}
	if m.logsFocused() {
		if cmd, ok := m.logs.Key(msg); ok {
			return cmd
		}
	}
	if m.cfg.ReadOnly && m.actsOnEngine(msg) {
		m.setFlash(m.readOnlyText(), true)
		return nil
	}
	if cmd, ok := m.replayKey(msg); ok {
		return cmd
	}
	// Each stage takes the keys it knows, in this order: what applies on
	// every screen, the screens and panels, the demo, then what the
	// focused pane does with the rest.
	for _, stage := range []func(tea.KeyMsg) (tea.Cmd, bool){m.appKey, m.screenKey, m.demoKey} {
		if cmd, ok := stage(msg); ok {
			return cmd
		}
	}
	return m.paneKey(msg)
}

// appKey takes the keys that mean the same on every screen.
func (m *Model) appKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit, true
	case key.Matches(msg, k.SaveScreen):
		return m.saveScreen(), true
	case key.Matches(msg, k.Help):
		m.mode = modeHelp
		return nil, true
	case key.Matches(msg, k.NextPane):
		m.cycleFocus()
		m.updateKeys()
		return nil, true
	case key.Matches(msg, k.Back):
		return m.backKey(), true
	case key.Matches(msg, k.Filter):
		m.mode = modeFilter
		m.focus = paneLanes
		m.updateKeys()
		return m.filter.Focus(), true
	}
	return nil, false
}

// backKey: Esc closes the screen opened last; with none open it takes
// back the focus, the filter, then the demo's outcome.
func (m *Model) backKey() tea.Cmd {
	switch {
	case m.back():
	case m.focus != paneLanes:
		m.focus = paneLanes
	case m.filter.Value() != "":
		m.filter.SetValue("")
		m.setFilter("")
		return m.selectionChanged()
	case m.demo.Active() && !m.demo.Running():
		// Last: the demo's outcome (its URL) stays until asked away.
		m.demo.Clear()
		m.resize()
	}
	return nil
}

// screenKey opens and closes the screens and panels, and changes what
// the lanes show.
func (m *Model) screenKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := m.keys
	switch {
	case key.Matches(msg, k.ClusterView):
		m.toggle(screenCluster)
		return nil, true
	case key.Matches(msg, k.Storage):
		m.cycleStorage()
		return m.selectionChanged(), true
	case key.Matches(msg, k.Sizes):
		m.storage.Sizing()
		m.updateKeys()
		return readVolumeUsage(ctxOr(m.cfg.Context), m.cfg.Volumes, m.cfg.Now), true
	case key.Matches(msg, k.Logs):
		return m.openLogs(), true
	case m.lanesScreen() == screenCluster && m.focus == paneLanes:
		// The cluster view takes the rest of its keys itself.
		return m.clusterKey(msg), true
	case key.Matches(msg, k.Isolation):
		m.toggle(screenOverlay)
		return nil, true
	case key.Matches(msg, k.Matrix):
		m.toggle(screenMatrix)
		return nil, true
	case key.Matches(msg, k.Probe):
		c, _ := m.selected()
		// The probe's verdicts are drawn on the overlay: it opens
		// under the probe panel, and stays when Esc closes the panel.
		m.open(screenOverlay)
		m.open(screenProbe)
		project := c.Project()
		m.probe.SetFirst(func(id string) bool { return project != "" && m.topo.Containers[id].Project() == project })
		return m.probe.Start(m.cfg.Prober, c, 0), true
	case key.Matches(msg, k.Flows):
		return m.toggleFlows(), true
	case key.Matches(msg, k.Registry):
		m.showRegistry = !m.showRegistry
		if !m.showRegistry && m.focus == paneRegistry {
			m.focus = paneLanes
		}
		m.resize()
		return nil, true
	case key.Matches(msg, k.BuiltIn):
		m.lanes.ToggleBuiltIn()
		m.updateKeys()
		return m.selectionChanged(), true
	case key.Matches(msg, k.Focus):
		m.cycleProject()
		return m.selectionChanged(), true
	case key.Matches(msg, k.Group):
		m.lanes.ToggleGroup()
		return m.selectionChanged(), true
	}
	return nil, false
}

// demoKey drives the reference demo and its traffic.
func (m *Model) demoKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Deploy):
		if m.cfg.Swarm == nil {
			return m.showDemo(m.demo.Deploy(m.cfg.Demo)), true
		}
		// On a manager the demo can run either way, and the audience sees
		// a different story in each: the presenter says which.
		m.choose("Deploy the demo as:",
			pendingChoice{key: "s", label: "swarm services", run: func() tea.Cmd { return m.showDemo(m.demo.DeploySwarm(m.cfg.Demo)) }},
			pendingChoice{key: "e", label: "containers on this engine", run: func() tea.Cmd { return m.showDemo(m.demo.Deploy(m.cfg.Demo)) }},
		)
		return nil, true
	case key.Matches(msg, k.ScaleUp):
		return m.showDemo(m.demo.Scale(m.cfg.Demo, m.demoService(), 1)), true
	case key.Matches(msg, k.ScaleDown):
		return m.showDemo(m.demo.Scale(m.cfg.Demo, m.demoService(), -1)), true
	case key.Matches(msg, k.Teardown):
		m.ask(fmt.Sprintf("Tear down the demo %q (its data volume is kept)?", m.cfg.Demo.Project()), func() tea.Cmd {
			return m.showDemo(m.demo.Teardown(m.cfg.Demo))
		})
		return nil, true
	case key.Matches(msg, k.Traffic):
		cmd := m.traffic.Toggle(m.cfg.Traffic)
		m.resize()
		return cmd, true
	}
	return nil, false
}

// paneKey gives the focused pane the keys no stage took: scrolling, or on
// the lanes moving the selection and acting on the selected container.
func (m *Model) paneKey(msg tea.KeyMsg) tea.Cmd {
	if m.lanesScreen() == screenMatrix && m.focus == paneLanes {
		return m.matrix.Update(msg)
	}
	if m.focus != paneLanes {
		// Arrows scroll the focused pane.
		switch m.focus {
		case paneDetails:
			return m.details.Update(msg)
		case paneLog:
			return m.log.Update(msg)
		case paneRegistry:
			return m.registryKey(msg)
		case paneProbe:
			return m.probe.Update(msg)
		}
	}
	if d, ok := m.direction(msg); ok {
		if m.storageShown() {
			m.storage.Move(d)
			// The lanes follow, so Esc lands on the same container.
			if c, ok := m.storage.Selected(); ok {
				m.lanes.Select(c.ID)
			}
		} else {
			m.lanes.Move(d)
		}
		return m.selectionChanged()
	}
	k := m.keys
	switch {
	case key.Matches(msg, k.Details):
		if !m.wide() {
			m.open(screenDetails)
		}
		m.focus = paneDetails
	case key.Matches(msg, k.Kill):
		return m.confirm(model.ActionKill)
	case key.Matches(msg, k.StopStart):
		if c, ok := m.selected(); ok && !c.Running() {
			return m.confirm(model.ActionStart)
		}
		return m.confirm(model.ActionStop)
	case key.Matches(msg, k.Restart):
		return m.confirm(model.ActionRestart)
	default:
		return nil
	}
	return m.selectionChanged()
}

// actsOnEngine says whether msg is a key that would act on an engine,
// enabled or not: in a read-only interface those are refused at this one
// place, whatever screen is showing.
func (m *Model) actsOnEngine(msg tea.KeyMsg) bool {
	for _, b := range DefaultKeyMap().engineKeys() {
		if key.Matches(msg, b) {
			return true
		}
	}
	return false
}

func (m *Model) readOnlyText() string {
	if m.replay != nil {
		return "replay: read-only"
	}
	return "read-only"
}

// setFilter narrows the lanes and the storage lanes (and so the flows)
// to the containers matching q.
func (m *Model) setFilter(q string) {
	m.lanes.SetFilter(q)
	m.storage.SetFilter(q)
}

// flowShown says whether the flows pane shows a flow with an end in the
// container: the one the lanes show, when a filter or a focus narrows
// them (the flows of other projects on a shared engine are other work).
func (m *Model) flowShown(id string) bool {
	if m.filter.Value() == "" && m.lanes.Focus() == "" {
		return true
	}
	return m.lanes.Shows(id)
}

// showDemo lays the demo panel out for an operation just started.
func (m *Model) showDemo(cmd tea.Cmd) tea.Cmd {
	m.resize()
	m.updateKeys()
	return cmd
}

// demoService is what + and - scale: the selected container's compose
// service when it is the demo's and can scale, else the app, so that a
// presenter's + never lands on the load balancer or the database.
func (m *Model) demoService() string {
	if c, ok := m.selected(); ok && c.Project() == m.cfg.Demo.Project() && m.cfg.Demo.Scalable(c.Service()) {
		return c.Service()
	}
	return ""
}

func ctxOr(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// direction maps the arrow and hjkl keys to a move.
func (m *Model) direction(msg tea.KeyMsg) (model.Direction, bool) {
	switch {
	case key.Matches(msg, m.keys.Up):
		return model.Up, true
	case key.Matches(msg, m.keys.Down):
		return model.Down, true
	case key.Matches(msg, m.keys.Left):
		return model.Left, true
	case key.Matches(msg, m.keys.Right):
		return model.Right, true
	}
	return 0, false
}

func (m *Model) cycleFocus() {
	order := []pane{paneLanes}
	switch {
	case m.lanesScreen() == screenLogs:
		// Zoomed, the logs hide the lanes and the panels.
		order = []pane{paneLogs}
	case m.lanesScreen() == screenDetails:
		// Zoomed, the details hide the lanes: tab must not move the focus
		// to a pane nobody sees.
		order = []pane{paneDetails}
	case m.on(screenLogs):
		order = append(order, paneLogs)
	}
	if m.detailsVisible() && order[0] == paneLanes {
		order = append(order, paneDetails)
	}
	if m.on(screenProbe) && order[0] == paneLanes {
		order = append(order, paneProbe)
	}
	if m.laidOut(paneRegistry) && order[0] == paneLanes {
		order = append(order, paneRegistry)
	}
	order = append(order, paneLog)
	for i, p := range order {
		if p == m.focus {
			m.focus = order[(i+1)%len(order)]
			return
		}
	}
	m.focus = order[0]
}
