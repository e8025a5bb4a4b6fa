package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"topo/model"
)

// The smallest terminal topo draws in; below it says so instead.
const (
	MinWidth  = 60
	MinHeight = 16
	// wideWidth is where the side panels fit beside the lanes.
	wideWidth = 150
	sideWidth = 52
)

type pane int

const (
	paneLanes pane = iota
	paneDetails
	paneRegistry
	paneProbe
	paneDemo
	paneTraffic
	paneLog
)

// mode is what the footer is doing: showing help, reading a filter, or
// asking for a confirmation.
type mode int

const (
	modeNormal mode = iota
	modeFilter
	modeConfirm
	modeHelp
)

// pendingAction is what waits for y/n: the question, and what y does.
type pendingAction struct {
	prompt string
	run    func() tea.Cmd
}

type flash struct {
	text string
	bad  bool
	at   time.Time
}

// filterHint follows the filter input in the footer.
const filterHint = "  enter keep · esc clear"

// flashFor is how long an action's result stays in the footer.
const flashFor = 8 * time.Second

// Model is topo's root model: it owns the topology and delegates drawing
// to the panes.
type Model struct {
	cfg    Config
	styles Styles
	keys   KeyMap
	help   help.Model

	topo    model.Topology
	synced  bool
	stale   error
	retryAt time.Time
	closed  bool
	// lastEvent is when the engine last said anything.
	lastEvent time.Time

	lanes    *Lanes
	details  *Details
	log      *EventLog
	registry *RegistryPanel
	// showRegistry is the registry panel's toggle.
	showRegistry bool
	// regConn is the registry watch; regSearching says a look for one is
	// under way, so events do not start a second.
	regConn      RegistryConn
	regSearching bool

	// The isolation view: an overlay on the lanes, a matrix that replaces
	// them, and the results of a live probe in a side panel.
	overlay    *IsolationOverlay
	overlayOn  bool
	matrix     *ReachMatrix
	matrixOn   bool
	probe      *ProbeView
	probePanel bool

	// cluster is the swarm view, shown instead of the lanes when on.
	cluster   *ClusterView
	clusterOn bool

	// The demo: its deploy/scale/teardown progress and the traffic pane.
	demo    *DemoPanel
	traffic *TrafficPane

	width, height int
	focus         pane
	// detailsOpen zooms the details over the lanes on narrow terminals.
	detailsOpen bool
	mode        mode
	filter      textinput.Model
	pending     pendingAction
	busy        map[string]model.Action
	spinner     spinner.Model
	flash       flash
	// inspected is the container whose details were last requested, so
	// one selection costs one inspection.
	inspected string
}

// New builds the root model.
func New(cfg Config) *Model {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	styles := NewStyles(DefaultTheme())
	if cfg.Styles != nil {
		styles = *cfg.Styles
	}
	filter := textinput.New()
	filter.Prompt = "/"
	filter.Placeholder = "name, image or label=value"
	sp := spinner.New(spinner.WithSpinner(spinner.MiniDot))
	m := &Model{
		cfg: cfg, styles: styles, keys: DefaultKeyMap(), help: help.New(),
		topo:  model.NewTopology(),
		lanes: NewLanes(styles), details: NewDetails(styles, cfg.Now), log: NewEventLog(styles),
		registry: NewRegistryPanel(styles, cfg.Now), showRegistry: true,
		overlay: NewIsolationOverlay(styles), matrix: NewReachMatrix(styles), probe: NewProbeView(styles, cfg.Now),
		cluster: NewClusterView(styles),
		demo:    NewDemoPanel(styles, ctxOr(cfg.Context), cfg.Now), traffic: NewTrafficPane(styles, ctxOr(cfg.Context)),
		filter: filter, spinner: sp, busy: map[string]model.Action{},
	}
	if cfg.Registry == nil {
		m.registry.SetAbsent("no registry")
		m.showRegistry = false
	}
	m.lanes.SetBadger(m.badges)
	if cfg.SwarmNote != "" {
		m.log.Add(cfg.Now(), cfg.SwarmNote, false)
	}
	m.help.Styles.ShortKey = styles.Key
	m.help.Styles.FullKey = styles.Key
	m.updateKeys()
	return m
}

// Init starts the engine watch and the clock.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(waitForUpdate(m.cfg.Updates), WaitForCluster(m.cfg.Cluster), tick())
}

// Topology returns what the UI currently shows.
func (m *Model) Topology() model.Topology { return m.topo }

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.resize()
		return m, nil
	case EngineUpdateMsg:
		return m, tea.Batch(m.applyUpdate(msg.Update), waitForUpdate(m.cfg.Updates))
	case EngineClosedMsg:
		m.closed = true
		return m, nil
	case RegistryConnectedMsg:
		return m, m.registryConnected(msg)
	case RegistryMsg:
		m.registry.SetRegistry(msg.Registry)
		m.lanes.Invalidate()
		return m, waitForRegistry(m.regConn.Updates)
	case RegistryClosedMsg:
		return m, nil
	case ProbeDoneMsg:
		cmd := m.probe.Update(msg)
		if report, ok := m.probe.Report(); ok && msg.Err == nil {
			m.overlay.SetReport(report)
			m.lanes.Invalidate()
		}
		return m, cmd
	case ProbeTickMsg:
		return m, m.probe.Update(msg)
	case ClusterUpdateMsg:
		m.cluster.SetCluster(msg.Cluster)
		for _, ev := range msg.Cluster.Events {
			m.log.Add(m.cfg.Now(), ev.Describe(), false)
		}
		m.updateKeys()
		return m, WaitForCluster(m.cfg.Cluster)
	case DemoStepMsg, DemoTickMsg:
		return m, m.demo.Update(msg)
	case DemoDoneMsg:
		cmd := m.demo.Update(msg)
		switch {
		case msg.Err != nil:
			m.log.Add(m.cfg.Now(), "demo: "+msg.Err.Error(), true)
		case msg.URL != "":
			// The log keeps the address once the panel makes room.
			m.log.Add(m.cfg.Now(), "demo ready: "+msg.URL, false)
		}
		m.resize()
		m.updateKeys()
		return m, cmd
	case TrafficMsg, TrafficStoppedMsg:
		cmd := m.traffic.Update(msg)
		m.resize()
		return m, cmd
	case ClusterActionDoneMsg:
		if msg.Err != nil {
			m.cluster.Forget(msg.Action)
			m.setFlash(msg.Err.Error(), true)
		} else {
			m.setFlash(msg.Action.Done(), false)
		}
		return m, nil
	case InspectedMsg:
		m.details.SetInspection(msg.Container, msg.Err)
		return m, nil
	case ActionDoneMsg:
		delete(m.busy, msg.ID)
		m.updateKeys()
		if msg.Err != nil {
			m.setFlash(msg.Err.Error(), true)
		} else {
			m.setFlash(msg.Action.PastTense()+" "+msg.Name, false)
		}
		return m, nil
	case TickMsg:
		if m.flash.text != "" && m.cfg.Now().Sub(m.flash.at) > flashFor {
			m.flash = flash{}
		}
		return m, tick()
	case spinner.TickMsg:
		if len(m.busy) == 0 {
			return m, nil
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return m, cmd
	case tea.MouseMsg:
		return m, m.handleMouse(msg)
	case tea.KeyMsg:
		return m, m.handleKey(msg)
	}
	return m, nil
}

func (m *Model) applyUpdate(u model.Update) tea.Cmd {
	now := m.cfg.Now()
	switch {
	case u.Snapshot != nil:
		m.topo = *u.Snapshot
		if m.stale != nil {
			m.log.Add(now, "reconnected: resynced the whole topology", false)
		}
		m.synced, m.stale = true, nil
		m.lastEvent = now
	case u.Event != nil:
		ev := *u.Event
		// Describe before applying, while a destroyed container still
		// has its name.
		line := ev.Describe(m.topo)
		m.topo.Apply(ev)
		m.lastEvent = now
		// topo's own probe containers come and go with every probe; the
		// log is for what the audience changed.
		if ev.Attributes[model.LabelProbe] == "" {
			m.log.Add(ev.Time, line, isBadEvent(ev))
		}
	case u.Lost != nil:
		if m.stale == nil {
			m.log.Add(now, "lost the engine: "+u.Lost.Error(), true)
		}
		m.stale, m.retryAt = u.Lost, u.Retry
		return nil
	}
	m.lanes.SetTopology(m.topo)
	m.registry.SetTopology(m.topo)
	m.overlay.SetTopology(m.topo)
	m.matrix.SetTopology(m.topo)
	return tea.Batch(m.selectionChanged(), m.maybeFindRegistry(u))
}

// maybeFindRegistry looks for the registry after the first snapshot, and
// again when a container starts while none was found (or the one found
// automatically is failing): a demo deployed from topo brings its Consul.
func (m *Model) maybeFindRegistry(u model.Update) tea.Cmd {
	if m.cfg.Registry == nil || m.regSearching {
		return nil
	}
	switch {
	case m.regConn.Updates == nil && (u.Snapshot != nil || isStart(u.Event)):
	case m.regConn.Auto && m.registry.Registry().Error != "" && isStart(u.Event):
	default:
		return nil
	}
	m.regSearching = true
	return connectRegistry(m.cfg.Registry, m.topo)
}

func isStart(ev *model.Event) bool {
	return ev != nil && ev.Type == model.EventContainer && ev.BaseAction() == "start"
}

func (m *Model) registryConnected(msg RegistryConnectedMsg) tea.Cmd {
	m.regSearching = false
	if msg.Err != nil {
		if m.regConn.Updates == nil {
			m.registry.SetAbsent(msg.Err.Error())
		}
		return nil
	}
	if m.regConn.Updates != nil {
		if m.regConn.Addr == msg.Conn.Addr {
			msg.Conn.Stop()
			return nil
		}
		m.regConn.Stop()
	}
	m.regConn = msg.Conn
	m.registry.SetRegistry(model.Registry{Addr: msg.Conn.Addr, Source: msg.Conn.Source})
	m.log.Add(m.cfg.Now(), "registry: "+msg.Conn.Source, false)
	return waitForRegistry(msg.Conn.Updates)
}

func isBadEvent(ev model.Event) bool {
	switch ev.BaseAction() {
	case "kill", "oom":
		return true
	case "die":
		return ev.Attributes["exitCode"] != "0"
	case "health_status":
		return strings.Contains(ev.Action, string(model.HealthUnhealthy))
	}
	return false
}

// selectionChanged keeps the details pane on the selection and asks for
// an inspection when the selection is a new container.
func (m *Model) selectionChanged() tea.Cmd {
	m.updateKeys()
	c, ok := m.lanes.Selected()
	if !ok {
		m.details.Show(model.Container{})
		return nil
	}
	m.details.Show(c)
	m.matrix.Select(c.ID)
	if m.overlayOn {
		m.overlay.Select(c.ID)
		m.lanes.Invalidate()
	}
	if m.focus != paneRegistry {
		m.registry.SelectContainer(c.ID)
	}
	if !m.detailsVisible() || m.cfg.Engine == nil || c.ID == m.inspected {
		return nil
	}
	m.inspected = c.ID
	return inspect(m.cfg.Engine, c.ID)
}

func (m *Model) detailsVisible() bool { return m.wide() || m.detailsOpen }

func (m *Model) wide() bool { return m.width >= wideWidth }

func (m *Model) setFlash(text string, bad bool) {
	m.flash = flash{text: text, bad: bad, at: m.cfg.Now()}
}

// updateKeys enables exactly the bindings that apply now.
func (m *Model) updateKeys() {
	c, ok := m.lanes.Selected()
	normal := m.mode == modeNormal
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
	m.keys.Isolation.SetEnabled(normal && (ok || m.overlayOn))
	m.keys.Matrix.SetEnabled(normal && m.synced)
	m.keys.Probe.SetEnabled(normal && ok && c.Running() && m.cfg.Prober != nil && !m.probe.Running())
	m.keys.ClusterView.SetEnabled(normal && m.cfg.Cluster != nil)
	demoReady := normal && m.cfg.Demo != nil && !m.demo.Running() && !m.clusterOn
	m.keys.Deploy.SetEnabled(demoReady)
	m.keys.Teardown.SetEnabled(demoReady)
	m.keys.ScaleUp.SetEnabled(demoReady)
	m.keys.ScaleDown.SetEnabled(demoReady)
	m.keys.Traffic.SetEnabled(normal && m.cfg.Traffic != nil)
	m.updateClusterKeys(normal)
	m.keys.Back.SetEnabled(normal)
	m.keys.Confirm.SetEnabled(m.mode == modeConfirm)
	m.keys.Deny.SetEnabled(m.mode == modeConfirm)
	if m.lanes.ShowsBuiltIn() {
		m.keys.BuiltIn.SetHelp("b", "hide built-in nets")
	} else {
		m.keys.BuiltIn.SetHelp("b", "show built-in nets")
	}
}

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
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.mode = modeHelp
		return nil
	case key.Matches(msg, k.NextPane):
		m.cycleFocus()
		return nil
	case key.Matches(msg, k.Back):
		switch {
		case m.probe.Running():
			m.probe.Cancel()
		case m.clusterOn:
			m.clusterOn = false
			m.resize()
			m.updateKeys()
		case m.matrixOn:
			m.matrixOn = false
			m.resize()
		case m.probePanel:
			m.probePanel = false
			if m.focus == paneProbe {
				m.focus = paneLanes
			}
			m.resize()
		case m.overlayOn:
			m.setOverlay(false)
		case m.detailsOpen:
			m.detailsOpen = false
			m.focus = paneLanes
		case m.focus != paneLanes:
			m.focus = paneLanes
		case m.filter.Value() != "":
			m.filter.SetValue("")
			m.lanes.SetFilter("")
			return m.selectionChanged()
		case m.demo.Active() && !m.demo.Running():
			// Last: the demo's outcome (its URL) stays until asked away.
			m.demo.Clear()
			m.resize()
		}
		return nil
	case key.Matches(msg, k.Filter):
		m.mode = modeFilter
		m.focus = paneLanes
		m.updateKeys()
		return m.filter.Focus()
	case key.Matches(msg, k.ClusterView):
		m.clusterOn = !m.clusterOn
		m.resize()
		m.updateKeys()
		return nil
	case m.clusterOn && m.focus == paneLanes:
		return m.clusterKey(msg)
	case key.Matches(msg, k.Deploy):
		return m.showDemo(m.demo.Deploy(m.cfg.Demo))
	case key.Matches(msg, k.ScaleUp):
		return m.showDemo(m.demo.Scale(m.cfg.Demo, m.demoService(), 1))
	case key.Matches(msg, k.ScaleDown):
		return m.showDemo(m.demo.Scale(m.cfg.Demo, m.demoService(), -1))
	case key.Matches(msg, k.Teardown):
		m.ask(fmt.Sprintf("Tear down the demo %q: remove its containers and networks (data volume kept)?", m.cfg.Demo.Project()), func() tea.Cmd {
			return m.showDemo(m.demo.Teardown(m.cfg.Demo))
		})
		return nil
	case key.Matches(msg, k.Traffic):
		cmd := m.traffic.Toggle(m.cfg.Traffic)
		m.resize()
		return cmd
	case key.Matches(msg, k.Isolation):
		m.setOverlay(!m.overlayOn)
		return nil
	case key.Matches(msg, k.Matrix):
		m.matrixOn = !m.matrixOn
		m.resize()
		return nil
	case key.Matches(msg, k.Probe):
		c, _ := m.lanes.Selected()
		m.setOverlay(true)
		m.probePanel = true
		project := c.Project()
		m.probe.SetFirst(func(id string) bool { return project != "" && m.topo.Containers[id].Project() == project })
		m.resize()
		return m.probe.Start(m.cfg.Prober, c, 0)
	case key.Matches(msg, k.Registry):
		m.showRegistry = !m.showRegistry
		if !m.showRegistry && m.focus == paneRegistry {
			m.focus = paneLanes
		}
		m.resize()
		return nil
	case key.Matches(msg, k.BuiltIn):
		m.lanes.ToggleBuiltIn()
		m.updateKeys()
		return m.selectionChanged()
	}
	if m.matrixOn && m.focus == paneLanes {
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
		m.lanes.Move(d)
		return m.selectionChanged()
	}
	switch {
	case key.Matches(msg, k.Details):
		if m.wide() {
			m.focus = paneDetails
		} else {
			m.detailsOpen = true
			m.focus = paneDetails
		}
	case key.Matches(msg, k.Kill):
		return m.confirm(model.ActionKill)
	case key.Matches(msg, k.StopStart):
		if c, ok := m.lanes.Selected(); ok && !c.Running() {
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

// updateClusterKeys enables the swarm keys where the cluster view's
// selection allows them, and says in help why x cannot kill a task of
// another node.
func (m *Model) updateClusterKeys(normal bool) {
	m.keys.Kill.SetHelp("x", "kill")
	if !m.clusterOn {
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
	if c, ok := m.lanes.Selected(); ok && c.Project() == m.cfg.Demo.Project() && m.cfg.Demo.Scalable(c.Service()) {
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

// setOverlay turns the isolation overlay on (for the selection) or off.
func (m *Model) setOverlay(on bool) {
	m.overlayOn = on
	if on {
		if c, ok := m.lanes.Selected(); ok {
			m.overlay.Select(c.ID)
		}
		m.lanes.SetOverlay(m.overlay)
	} else {
		m.lanes.SetOverlay(nil)
	}
	m.resize()
	m.updateKeys()
}

// badges are the marks after a node's address: registry health, and the
// probe's verdicts while the overlay is on.
func (m *Model) badges(c model.Container) string {
	b := m.registry.Badge(c)
	if m.overlayOn {
		b += m.overlay.Badge(c)
	}
	return b
}

// Close ends what may still run when the program stops: a probe's
// container is removed before topo exits.
func (m *Model) Close() {
	m.probe.Close(5 * time.Second)
	m.demo.Cancel()
	m.traffic.Stop()
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
	if m.detailsVisible() {
		order = append(order, paneDetails)
	}
	if m.probePanel {
		order = append(order, paneProbe)
	}
	if m.showRegistry {
		order = append(order, paneRegistry)
	}
	order = append(order, paneLog)
	for i, p := range order {
		if p == m.focus {
			m.focus = order[(i+1)%len(order)]
			return
		}
	}
	m.focus = paneLanes
}

// confirm asks y/n before a container action on the selection.
func (m *Model) confirm(action model.Action) tea.Cmd {
	c, ok := m.lanes.Selected()
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

func (m *Model) handleConfirmKey(msg tea.KeyMsg) tea.Cmd {
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
		m.lanes.SetFilter("")
		return m.selectionChanged()
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.lanes.SetFilter(m.filter.Value())
	return tea.Batch(cmd, m.selectionChanged())
}

func (m *Model) handleMouse(msg tea.MouseMsg) tea.Cmd {
	if msg.Action != tea.MouseActionPress || msg.Button != tea.MouseButtonLeft || m.mode != modeNormal {
		return nil
	}
	x, y, w, h := m.lanesRect()
	if m.detailsOpen || m.mode == modeHelp {
		return nil
	}
	if msg.X < x || msg.X >= x+w || msg.Y < y || msg.Y >= y+h {
		return nil
	}
	if m.lanes.HitTest(msg.X-x, msg.Y-y) {
		m.focus = paneLanes
		return m.selectionChanged()
	}
	return nil
}

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
	// A finished operation's panel gives way to the traffic pane: on a
	// small screen both would be too short to read.
	if m.demo.Running() || m.demo.Failed() || (m.demo.Active() && !m.traffic.Running()) {
		out = append(out, sidePanel{paneDemo, "demo", m.demo, false})
	}
	if m.traffic.Running() {
		out = append(out, sidePanel{paneTraffic, "traffic", m.traffic, false})
	}
	if m.probePanel {
		out = append(out, sidePanel{paneProbe, "probe", m.probe, true})
	}
	if m.showRegistry {
		out = append(out, sidePanel{paneRegistry, "registry", m.registry, false})
	}
	return out
}

// lanesRect is where the lanes grid is drawn.
func (m *Model) lanesRect() (x, y, w, h int) {
	r := m.arrange(m.visiblePanels()).lanes
	return r.x, r.y, r.w, r.h
}

func (m *Model) resize() {
	panels := m.visiblePanels()
	l := m.arrange(panels)
	m.lanes.SetSize(l.lanes.w, l.lanes.h-m.legendLines())
	m.matrix.SetSize(l.lanes.w, l.lanes.h)
	m.cluster.SetSize(l.lanes.w, l.lanes.h)
	for i, p := range panels {
		p.body.SetSize(l.panels[i].w, l.panels[i].h-1)
	}
	if !m.wide() {
		// Narrow: details zoom over the whole main area on enter.
		m.details.SetSize(m.width, m.mainHeight()-1)
	} else {
		m.detailsOpen = false
	}
	m.log.SetSize(m.width, m.logHeight())
	m.help.Width = m.width
	m.filter.Width = max(10, m.width-2-lipgloss.Width(filterHint)-len(m.filter.Prompt))
}

// legendLines is the room the isolation legend takes above the lanes.
func (m *Model) legendLines() int {
	if m.overlayOn {
		return 1
	}
	return 0
}

// mainHeight is the lines between the status bar and the event log.
func (m *Model) mainHeight() int { return m.height - 1 - 1 - 1 - m.logHeight() }

// View draws the screen.
func (m *Model) View() string {
	if m.width == 0 {
		return "starting topo…"
	}
	if m.width < MinWidth || m.height < MinHeight {
		msg := fmt.Sprintf("terminal too small: need at least %d×%d (now %d×%d)", MinWidth, MinHeight, m.width, m.height)
		return lipgloss.NewStyle().Width(max(1, m.width)).Render(msg)
	}
	mainH := m.mainHeight()
	panels := m.visiblePanels()
	l := m.arrange(panels)
	var main string
	switch {
	case m.mode == modeHelp:
		main = m.helpView(m.width, mainH)
	case m.detailsOpen:
		main = m.title("details", paneDetails, m.width) + "  " + m.styles.Muted.Render("esc back") + "\n" + m.details.View()
	default:
		lanes := m.lanes.View()
		if m.overlayOn && !m.matrixOn {
			lanes = m.overlay.Legend(l.lanes.w) + "\n" + lanes
		}
		if m.matrixOn {
			lanes = m.matrix.View()
		}
		if m.clusterOn {
			lanes = m.cluster.View()
		}
		if !m.synced {
			lanes = lipgloss.NewStyle().Height(l.lanes.h).Render(m.connectingView())
		}
		lanesBlock := m.title(m.lanesTitle(), paneLanes, l.lanes.w) + "\n" + lipgloss.NewStyle().Width(l.lanes.w).Height(l.lanes.h).MaxHeight(l.lanes.h).Render(lanes)
		left := lanesBlock
		if under := m.renderPanels(panels, l, true); under != "" {
			left += "\n" + under
		}
		main = left
		if l.beside {
			main = lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(l.lanes.w).Render(left), m.renderPanels(panels, l, false))
		}
	}
	main = lipgloss.NewStyle().Height(mainH).MaxHeight(mainH).Render(main)
	logView := m.title("events", paneLog, m.width) + "\n" + m.log.View()
	return strings.Join([]string{m.statusBar(), main, logView, m.footer()}, "\n")
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
	if m.clusterOn {
		return m.cluster.Title() + " · w lanes"
	}
	if m.matrixOn {
		t = "reachability matrix · esc back"
	} else if m.overlayOn {
		t = "lanes · isolation of " + m.overlaySubject()
	}
	if projects := m.lanes.Projects(); len(projects) > 0 {
		t += " · project " + strings.Join(projects, ", ")
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
	return m.styles.Muted.Render("connecting to " + m.cfg.EngineInfo.Host + "…")
}

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

func (m *Model) helpView(w, h int) string {
	body := m.styles.PaneTitle.Render("Keys") + "\n\n" + m.fullHelp(w) +
		"\n\n" + m.styles.Muted.Render("Nodes: ● running  ‖ paused  ↻ restarting  ○ exited/created  ✖ dead  ⌫ removing") +
		"\n" + m.styles.Muted.Render("Health: ♥ healthy  ✗ unhealthy  … starting   │ a container on several networks") +
		"\n" + m.styles.Muted.Render("Registry: R✓ passing  R! warning  R✗ critical  R‖ maint.  R⚠ stale  R? unregistered") +
		"\n\n" + m.styles.Muted.Render("press any key to close")
	return lipgloss.NewStyle().Width(w).Height(h).MaxHeight(h).Render(body)
}

func (m *Model) statusBar() string {
	s := m.styles
	now := m.cfg.Now()
	engine := m.cfg.EngineInfo.Host
	if v := m.cfg.EngineInfo.Version; v != "" {
		engine += " · Docker " + v
	}
	running, total := m.topo.Counts()
	counts := countOf(len(m.topo.Networks), "network") + fmt.Sprintf(" · %d/%d running", running, total)
	if m.width < 120 {
		// Narrow: the connection state matters more than the words.
		engine = strings.TrimPrefix(strings.TrimPrefix(m.cfg.EngineInfo.Host, "unix://"), "tcp://")
		if v := m.cfg.EngineInfo.Version; v != "" {
			engine += " " + v
		}
		counts = countOf(len(m.topo.Networks), "net") + fmt.Sprintf(" · %d/%d up", running, total)
	}
	var conn string
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
		conn = s.Healthy.Render("● live") + s.Muted.Render(" · last event "+age)
	}
	sep := s.Muted.Render(" │ ")
	// Fields in order of importance: the connection state first, so a
	// narrow terminal drops the engine address rather than the word
	// STALE, and whole fields go rather than half an address.
	fields := []string{s.StatusBar.Render("topo"), conn, counts, m.registryStatus(m.width >= 120), engine}
	for n := len(fields); n > 1; n-- {
		bar := strings.Join(fields[:n], sep)
		if lipgloss.Width(bar) <= m.width {
			return bar
		}
	}
	return ansiFit(fields[0]+sep+fields[1], m.width)
}

// registryStatus says which registry is in use, how it was found, and
// whether it answers.
func (m *Model) registryStatus(long bool) string {
	s := m.styles
	if m.regConn.Updates == nil {
		if m.regSearching {
			return s.Muted.Render("registry …")
		}
		return s.Muted.Render("no registry")
	}
	r := m.registry.Registry()
	mark := s.Warning.Render("◌")
	switch {
	case r.Error != "":
		mark = s.Error.Render("✗")
	case r.Live():
		mark = s.Healthy.Render("●")
	}
	if !long {
		return "registry " + mark
	}
	return "registry " + mark + " " + m.regConn.Source
}

func (m *Model) footer() string {
	s := m.styles
	switch m.mode {
	case modeFilter:
		return ansiFit(m.filter.View()+s.Muted.Render(filterHint), m.width)
	case modeConfirm:
		return ansiFit(s.Warning.Bold(true).Render(m.pending.prompt+" ")+s.Key.Render("y")+" yes  "+s.Key.Render("n")+" no", m.width)
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
		return ansiFit(style.Render(m.flash.text), m.width)
	}
	if m.stale != nil {
		return ansiFit(s.Error.Render("engine lost: "+m.stale.Error()), m.width)
	}
	return ansiFit(m.help.ShortHelpView(m.keys.ShortHelp()), m.width)
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

// countOf writes a count with its noun, singular for one.
func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
