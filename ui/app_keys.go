package ui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// updateKeys enables exactly the bindings that apply now.
func (m *Model) updateKeys() {
	c, ok := m.selected()
	// Help lists the keys of the normal mode: an engine event arriving
	// while it is open must not empty the list.
	normal := m.mode == modeNormal || m.mode == modeHelp
	canAct := normal && ok && m.busy[c.ID] == ""
	m.keys.Kill.SetEnabled(canAct && c.Running())
	m.keys.StopStart.SetEnabled(canAct)
	m.keys.Restart.SetEnabled(canAct)
	if ok && !c.Running() {
		m.keys.StopStart.SetHelp("s", "start")
	} else {
		m.keys.StopStart.SetHelp("s", "stop")
	}
	m.keys.Details.SetEnabled(normal && ok)
	m.keys.Focus.SetEnabled(normal && m.lanesScreen() != screenCluster && len(m.topo.Projects()) > 0)
	m.keys.Group.SetEnabled(normal && ok && model.ReplicaKey(c) != "" && m.lanesScreen() != screenCluster)
	if m.lanes.Grouped() {
		m.keys.Group.SetHelp("z", "open replicas")
	} else {
		m.keys.Group.SetHelp("z", "group replicas")
	}
	m.keys.Isolation.SetEnabled(normal && (ok || m.on(screenOverlay)))
	m.keys.Matrix.SetEnabled(normal && m.synced)
	m.keys.Probe.SetEnabled(normal && ok && c.Running() && m.cfg.Prober != nil && !m.probe.Running())
	m.keys.ClusterView.SetEnabled(normal && (m.cfg.Cluster != nil || (m.replay != nil && m.replay.sawCluster)))
	demoReady := normal && m.cfg.Demo != nil && !m.demo.Running() && m.lanesScreen() != screenCluster
	m.keys.Deploy.SetEnabled(demoReady)
	m.keys.Teardown.SetEnabled(demoReady)
	m.keys.ScaleUp.SetEnabled(demoReady)
	m.keys.ScaleDown.SetEnabled(demoReady)
	m.keys.Traffic.SetEnabled(normal && m.cfg.Traffic != nil)
	m.keys.Flows.SetEnabled(normal && m.cfg.Flows != nil)
	if m.flows.On() {
		m.keys.Flows.SetHelp("f", "flows off")
	} else {
		m.keys.Flows.SetHelp("f", "flows on")
	}
	m.updateStorageKeys(normal, ok)
	m.updateClusterKeys(normal)
	m.keys.Back.SetEnabled(normal)
	m.keys.SaveScreen.SetEnabled(normal && m.cfg.Screens != nil)
	for _, b := range []*key.Binding{&m.keys.Pause, &m.keys.StepBack, &m.keys.StepForward, &m.keys.Slower, &m.keys.Faster} {
		b.SetEnabled(normal && m.replay != nil)
	}
	if m.cfg.ReadOnly {
		// Help lists no key that could only be refused.
		for _, b := range []*key.Binding{&m.keys.Kill, &m.keys.StopStart, &m.keys.Restart, &m.keys.Deploy,
			&m.keys.ScaleUp, &m.keys.ScaleDown, &m.keys.Teardown, &m.keys.Traffic, &m.keys.Probe,
			&m.keys.RestartService, &m.keys.Drain} {
			b.SetEnabled(false)
		}
	}
	m.keys.Confirm.SetEnabled(m.mode == modeConfirm)
	m.keys.Deny.SetEnabled(m.mode == modeConfirm)
	if m.lanes.ShowsBuiltIn() {
		m.keys.BuiltIn.SetHelp("b", "hide built-in nets")
	} else {
		m.keys.BuiltIn.SetHelp("b", "show built-in nets")
	}
	// The logs pane, focused, takes the letters it uses: help lists its
	// meaning of them, not the lanes'.
	focused := m.logsFocused()
	m.keys.Log.setEnabled(normal && focused)
	if normal && focused {
		for _, b := range []*key.Binding{&m.keys.Filter, &m.keys.ClusterView, &m.keys.Probe, &m.keys.BuiltIn, &m.keys.Drain, &m.keys.Sizes} {
			b.SetEnabled(false)
		}
	}
}

// updateStorageKeys enables l, v and u, and names what v does next.
func (m *Model) updateStorageKeys(normal, selected bool) {
	// The swarm view has a selection of its own, of tasks across nodes.
	lanes := m.lanesScreen() != screenCluster
	m.keys.Logs.SetEnabled(normal && lanes && selected && m.cfg.Logs != nil)
	m.keys.Storage.SetEnabled(normal && lanes && m.synced)
	switch {
	case !m.on(screenStorage):
		m.keys.Storage.SetHelp("v", "storage lanes")
	case !m.storage.Binds():
		m.keys.Storage.SetHelp("v", "+ bind mounts")
	default:
		m.keys.Storage.SetHelp("v", "close storage")
	}
	m.keys.Sizes.SetEnabled(normal && m.storageShown() && m.cfg.Volumes != nil && !m.storage.sizing)
}

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

// updateClusterKeys enables the swarm keys where the cluster view's
// selection allows them, and says in help why x cannot kill a task of
// another node.
func (m *Model) updateClusterKeys(normal bool) {
	m.keys.Kill.SetHelp("x", "kill")
	if m.lanesScreen() != screenCluster {
		// + and - belong to the demo in the lanes.
		m.keys.RestartService.SetEnabled(false)
		m.keys.Drain.SetEnabled(false)
		return
	}
	_, scaleUp := m.cluster.ScaleBy(1)
	_, scaleDown := m.cluster.ScaleBy(-1)
	_, restart := m.cluster.RestartAction()
	drain, canDrain := m.cluster.AvailabilityAction()
	m.keys.ScaleUp.SetEnabled(normal && scaleUp)
	m.keys.ScaleDown.SetEnabled(normal && scaleDown)
	m.keys.RestartService.SetEnabled(normal && restart)
	m.keys.Drain.SetEnabled(normal && canDrain)
	if drain.Kind == ClusterActivate {
		m.keys.Drain.SetHelp("d", "activate node")
	} else {
		m.keys.Drain.SetHelp("d", "drain node")
	}
	_, _, canKill, why := m.cluster.KillTarget()
	m.keys.Kill.SetEnabled(normal && canKill)
	m.keys.StopStart.SetEnabled(false)
	m.keys.Restart.SetEnabled(false)
	if !canKill && why != "" {
		m.keys.Kill.SetHelp("x", "kill: "+why)
	}
}

// toggleFlows turns the flows on or off (f): off, the agent is removed.
func (m *Model) toggleFlows() tea.Cmd {
	var cmd tea.Cmd
	if m.flows.On() {
		cmd = m.flows.Stop(m.cfg.Flows)
		m.lanes.Invalidate()
		m.details.Refresh()
	} else {
		cmd = m.flows.Start(m.cfg.Flows, m.topo)
		if m.focus == paneRegistry && !m.registryShown() {
			m.focus = paneLanes
		}
	}
	m.resize()
	m.updateKeys()
	return cmd
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

// clusterKey handles keys while the cluster view is shown.
func (m *Model) clusterKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	run := func(a ClusterAction) tea.Cmd {
		if m.cfg.Swarm == nil {
			return nil
		}
		m.cluster.Pending(a)
		return RunClusterAction(m.cfg.Swarm, a)
	}
	act := func(a ClusterAction, ok bool) tea.Cmd {
		if !ok {
			return nil
		}
		if a.Confirm() {
			m.ask(a.Prompt(), func() tea.Cmd { return run(a) })
			return nil
		}
		return run(a)
	}
	if d, ok := m.direction(msg); ok {
		m.cluster.Move(d)
		m.updateKeys()
		return nil
	}
	switch {
	case key.Matches(msg, k.ScaleUp):
		return act(m.cluster.ScaleBy(1))
	case key.Matches(msg, k.ScaleDown):
		return act(m.cluster.ScaleBy(-1))
	case key.Matches(msg, k.RestartService):
		return act(m.cluster.RestartAction())
	case key.Matches(msg, k.Drain):
		return act(m.cluster.AvailabilityAction())
	case key.Matches(msg, k.Kill):
		id, name, ok, why := m.cluster.KillTarget()
		if !ok {
			m.setFlash(why, true)
			return nil
		}
		m.ask(fmt.Sprintf("Kill %s (%s)?", name, shortID(id)), func() tea.Cmd {
			return m.startAction(model.ActionKill, id, name)
		})
		return nil
	}
	return m.cluster.Update(msg)
}

// registryKey moves the registry panel's selection, and the lanes' with
// it: picking an instance picks its container.
func (m *Model) registryKey(msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Up):
		m.registry.Move(-1)
	case key.Matches(msg, m.keys.Down):
		m.registry.Move(1)
	default:
		return m.registry.Update(msg)
	}
	if id, ok := m.registry.Selected(); ok && m.lanes.Select(id) {
		return m.selectionChanged()
	}
	return nil
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

// confirm asks y/n before a container action on the selection.
func (m *Model) confirm(action model.Action) tea.Cmd {
	c, ok := m.selected()
	if !ok {
		return nil
	}
	verb := strings.ToUpper(string(action[:1])) + string(action[1:])
	id, name := c.ID, c.DisplayName()
	m.ask(fmt.Sprintf("%s %s (%s)?", verb, name, c.ShortID()), func() tea.Cmd {
		return m.startAction(action, id, name)
	})
	return nil
}

// startAction runs a container action, showing progress until it ends.
func (m *Model) startAction(action model.Action, id, name string) tea.Cmd {
	if m.cfg.Engine == nil {
		return nil
	}
	m.busy[id] = action
	m.updateKeys()
	return tea.Batch(runAction(m.cfg.Engine, action, id, name), m.spinner.Tick)
}

// ask puts a y/n question in the footer; y runs run.
func (m *Model) ask(prompt string, run func() tea.Cmd) {
	m.pending = pendingAction{prompt: prompt, run: run}
	m.mode = modeConfirm
	m.updateKeys()
}

// choose puts a question with several answers in the footer; the key of
// one runs it, esc cancels.
func (m *Model) choose(prompt string, choices ...pendingChoice) {
	m.pending = pendingAction{prompt: prompt, choices: choices}
	m.mode = modeConfirm
	m.updateKeys()
}

func (m *Model) handleConfirmKey(msg tea.KeyMsg) tea.Cmd {
	if len(m.pending.choices) > 0 {
		for _, c := range m.pending.choices {
			if msg.String() == c.key {
				m.mode = modeNormal
				m.setFlash("", false)
				m.updateKeys()
				return c.run()
			}
		}
		if msg.String() == "esc" || msg.String() == "ctrl+c" {
			m.mode = modeNormal
			m.setFlash("cancelled: nothing was done", false)
			m.updateKeys()
		}
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.Confirm):
		p := m.pending
		m.mode = modeNormal
		m.setFlash("", false)
		m.updateKeys()
		return p.run()
	case key.Matches(msg, m.keys.Deny), msg.String() == "ctrl+c":
		m.mode = modeNormal
		m.setFlash("cancelled: nothing was done", false)
		m.updateKeys()
	}
	return nil
}

func (m *Model) handleFilterKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "enter":
		m.mode = modeNormal
		m.filter.Blur()
		m.updateKeys()
		return nil
	case "esc", "ctrl+c":
		m.mode = modeNormal
		m.filter.Blur()
		m.filter.SetValue("")
		m.setFilter("")
		return m.selectionChanged()
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.setFilter(m.filter.Value())
	return tea.Batch(cmd, m.selectionChanged())
}

func (m *Model) handleMouse(msg tea.MouseMsg) tea.Cmd {
	if msg.Action != tea.MouseActionPress || msg.Button != tea.MouseButtonLeft || m.mode != modeNormal {
		return nil
	}
	x, y, w, h := m.lanesRect()
	if m.lanesScreen() == screenDetails || m.mode == modeHelp {
		return nil
	}
	if msg.X < x || msg.X >= x+w || msg.Y < y || msg.Y >= y+h {
		return nil
	}
	if m.storageShown() && m.lanesScreen() == screenStorage {
		if m.storage.HitTest(msg.X-x, msg.Y-y) {
			m.focus = paneLanes
			if c, ok := m.storage.Selected(); ok {
				m.lanes.Select(c.ID)
			}
			return m.selectionChanged()
		}
		return nil
	}
	if m.lanes.HitTest(msg.X-x, msg.Y-y) {
		m.focus = paneLanes
		return m.selectionChanged()
	}
	return nil
}

// cycleStorage is v: the storage lanes open on volumes, a second press adds
// the bind mounts (grouped per host path), a third closes them.
func (m *Model) cycleStorage() {
	switch {
	case !m.on(screenStorage):
		m.open(screenStorage)
	case !m.storage.Binds():
		m.storage.SetBinds(true)
	default:
		m.close(screenStorage)
	}
	m.updateKeys()
}

// openLogs is l: the selected container's logs, in a pane that takes the
// keys until tab or esc.
func (m *Model) openLogs() tea.Cmd {
	c, ok := m.selected()
	if !ok || m.cfg.Logs == nil {
		return nil
	}
	cmd := m.logs.Open(m.cfg.Logs, c)
	m.drop(screenLogs)
	m.open(screenLogs)
	m.focus = paneLogs
	m.updateKeys()
	return cmd
}
