package ui

import (
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/internal/inert"
	"github.com/topo-dev/topo/model"
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
	paneFlows
	paneLog
	paneLogs
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
// With choices it waits for one of their keys instead (esc cancels).
type pendingAction struct {
	prompt  string
	run     func() tea.Cmd
	choices []pendingChoice
}

// pendingChoice is one answer of a question with more than yes and no.
type pendingChoice struct {
	key, label string
	run        func() tea.Cmd
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
	// lastEvent is when the engine last said anything, and lastWhat what:
	// "synced" (the whole topology read) or "last event".
	lastEvent time.Time
	lastWhat  string

	lanes    *Lanes
	details  *Details
	log      *EventLog
	registry *RegistryPanel
	// showRegistry is the registry panel's toggle: a panel beside any
	// screen, not a screen of its own.
	showRegistry bool
	// regWatches are the registry watches, one per registry, in the
	// panel's order; regNextID numbers them (see RegistryMsg.watch).
	regWatches []regWatch
	regNextID  int
	// regSearching says a look for registries is under way, so events do
	// not start a second; regAgain that a container started meanwhile,
	// so one more look follows it.
	regSearching bool
	regAgain     bool
	// regRetries counts the looks again for a registry that did not answer.
	regRetries int
	// describing says the engine's swarm role is on its way
	// (Config.Describe, asked for once: describeAsked): keys typed
	// meanwhile wait in early, since w and D depend on it, and are taken
	// in order when it comes, or after describeWait.
	describing    bool
	describeAsked bool
	early         []tea.KeyMsg
	// misplaced is what the log last said of each misplaced container,
	// so each change is logged once.
	misplaced map[string]string

	// The isolation view: an overlay on the lanes, a matrix that replaces
	// them, and the results of a live probe in a side panel.
	overlay *IsolationOverlay
	matrix  *ReachMatrix
	probe   *ProbeView

	// cluster is the swarm view, shown instead of the lanes when open.
	cluster *ClusterView
	// storage is the storage lanes (volumes), shown instead of the lanes
	// when open; logs is a container's logs.
	storage *StorageView
	logs    *LogsPane
	// screens is which screens are open over the lanes (see screen.go).
	screens []screen

	// The demo: its deploy/scale/teardown progress and the traffic pane.
	demo    *DemoPanel
	traffic *TrafficPane
	// flows is who talks to whom, sampled while on (f).
	flows *FlowsPane

	width, height int
	focus         pane
	mode          mode
	filter        textinput.Model
	pending       pendingAction
	busy          map[string]model.Action
	spinner       spinner.Model
	flash         flash
	// inspected is the container whose details were last requested, so
	// one selection costs one inspection.
	inspected string
	// body caches the screen below the status bar; bodyDirty says a
	// message since may have changed it.
	body      string
	bodyDirty bool
	// focusChosen says the presenter chose the lanes' focus with o, so
	// topo no longer focuses on the demo by itself.
	focusChosen bool
	// lanesBox is the lanes' grid fitted to its box, kept while unchanged.
	lanesBox boxCache
	// demoDoneAt is when the last demo operation ended; demoShown is
	// whether the demo panel was laid out at the last resize.
	demoDoneAt time.Time
	demoShown  bool
	// replay plays a recording (topo replay); nil when live.
	replay *player
	// wall is the real clock: a message in the footer stays its time
	// whatever the replay's clock does (paused, stepped back).
	wall func() time.Time
	// clock is the armed tick that draws the times on screen again.
	clock screenClock
}

// New builds the root model.
func New(cfg Config) *Model {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var replay *player
	wall := cfg.Now
	if cfg.Replay != nil {
		// Every pane reads the recording's clock, paced by the real one.
		replay = newPlayer(*cfg.Replay, cfg.Now)
		cfg.Now = replay.now
	}
	// The engine's version and address and the swarm note come from
	// outside too, but in the Config rather than in a message.
	cfg.EngineInfo = inert.Value(cfg.EngineInfo)
	cfg.SwarmNote = inert.Text(cfg.SwarmNote)
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
		storage: NewStorageView(styles), logs: NewLogsPane(styles, ctxOr(cfg.Context)),
		demo: NewDemoPanel(styles, ctxOr(cfg.Context), cfg.Now), traffic: NewTrafficPane(styles, ctxOr(cfg.Context)),
		flows:  NewFlowsPane(styles, ctxOr(cfg.Context)),
		filter: filter, spinner: sp, busy: map[string]model.Action{},
		replay: replay, wall: wall, clock: newScreenClock(),
	}
	if replay != nil && cfg.Engine == nil {
		m.details.SetUninspected("the recording holds no inspection of it")
	}
	if cfg.Registry == nil {
		m.registry.SetAbsent("no registry")
		m.showRegistry = false
	}
	m.lanes.SetBadger(m.badges)
	m.lanes.SetMarker(m.marks)
	m.details.SetFlows(m.flows.DetailLines)
	m.flows.SetFilter(m.flowShown)
	if cfg.SwarmNote != "" {
		m.log.Add(cfg.Now(), cfg.SwarmNote, false)
	}
	m.describing = cfg.Describe != nil
	m.help.Styles.ShortKey = styles.Key
	m.help.Styles.FullKey = styles.Key
	m.updateKeys()
	return m
}

// Init starts the engine watch and the clock.
func (m *Model) Init() tea.Cmd {
	if m.replay != nil {
		m.armClock()
		return tea.Batch(m.startReplay(), m.waitForClock())
	}
	m.armClock()
	return tea.Batch(waitForUpdate(m.cfg.Updates), WaitForCluster(m.cfg.Cluster), m.waitForDescription(), m.waitForClock())
}

// Topology returns what the UI currently shows.
func (m *Model) Topology() model.Topology { return m.topo }

// Update handles one message, then arms the clock sooner when the message
// put on screen a time that changes before the armed tick.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := m.update(msg)
	m.rearmClock()
	return m, cmd
}

func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	// Every string from outside (engine, registry, swarm, probe, demo,
	// traffic, errors) enters the UI in a message: made inert here, once,
	// so no pane ever holds one a terminal would obey, whichever field it
	// draws (see internal/inert).
	msg = inert.Value(msg)
	switch msg.(type) {
	case TickMsg, clockMsg, FlowsTickMsg, FlowsMsg:
		// The clock changes the status bar only; a sample of the flows
		// says itself whether it changed what is drawn (flowsUpdate):
		// most seconds it does not, and the screen is not drawn again.
	default:
		m.bodyDirty = true
	}
	if m.replay != nil {
		if cmd, done := m.replayed(msg); done {
			return m, cmd
		}
	}
	switch msg := msg.(type) {
	case replayTickMsg:
		return m, m.replayTick(msg)
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.resize()
		return m, m.inspectSelection()
	case TickMsg:
		m.clockTick()
		return m, nil
	case clockMsg:
		m.clockTick()
		return m, m.waitForClock()
	case tea.MouseMsg:
		return m, m.handleMouse(msg)
	case tea.KeyMsg:
		if m.holdKey(msg) {
			return m, nil
		}
		return m, m.handleKey(msg)
	case describeWaitMsg:
		return m, m.takeEarlyKeys()
	}
	for _, take := range []func(tea.Msg) (tea.Cmd, bool){m.feedMsg, m.resultMsg} {
		if cmd, ok := take(msg); ok {
			return m, cmd
		}
	}
	return m, nil
}

// selectionChanged keeps the details pane on the selection and asks for
// an inspection when the selection is a new container.
func (m *Model) selectionChanged() tea.Cmd {
	// A move may scroll lanes on or off screen, a group open or close:
	// what the lanes need, and so the panels' room, may have changed.
	m.resize()
	m.updateKeys()
	c, ok := m.selected()
	if !ok {
		m.details.Show(model.Container{})
		return nil
	}
	m.details.Show(c)
	if m.on(screenMatrix) {
		m.matrix.Select(c.ID)
	}
	if m.on(screenOverlay) {
		m.overlay.Select(c.ID)
		m.lanes.Invalidate()
	}
	if m.focus != paneRegistry {
		m.registry.SelectContainer(c.ID)
	}
	return m.inspectSelection()
}

// inspectSelection asks for the selection's inspection when the details
// show and it was not asked for yet: after a move, or after a resize that
// brought the details pane in beside the lanes.
func (m *Model) inspectSelection() tea.Cmd {
	c, ok := m.selected()
	if !ok || !m.detailsVisible() || m.cfg.Engine == nil || c.ID == m.inspected {
		return nil
	}
	m.inspected = c.ID
	return inspect(m.cfg.Engine, c.ID)
}

func (m *Model) detailsVisible() bool { return m.wide() || m.on(screenDetails) }

func (m *Model) wide() bool { return m.width >= wideWidth }

func (m *Model) setFlash(text string, bad bool) {
	m.flash = flash{text: text, bad: bad, at: m.wall()}
}

// badges are the marks after a node's address: registry health and
// flows.
func (m *Model) badges(c model.Container) string {
	b := m.registry.Badge(c)
	if f := m.flows.Badge(c); f != "" {
		if b != "" {
			b += " "
		}
		b += f
	}
	return b
}

// marks are the marks on a node's name line: the isolation overlay's
// reach and the probe's verdicts while the overlay is on. On the name
// line they never cut an address (192.168.100.200 fills a narrow column).
func (m *Model) marks(c model.Container) string {
	if m.on(screenOverlay) {
		return m.overlay.Badge(c)
	}
	return ""
}

// Close ends what may still run when the program stops: a probe's
// container is removed before topo exits.
func (m *Model) Close() {
	m.probe.Close(5 * time.Second)
	m.demo.Cancel()
	m.traffic.Stop()
	m.logs.Close()
	// The agents go with topo, unless another topo reads through them.
	m.flows.Stop(nil)
	if m.flows.Used() && m.cfg.Flows != nil {
		_ = m.cfg.Flows.Close()
	}
	if m.flows.UsedSwarm() && m.cfg.SwarmFlows != nil {
		_ = m.cfg.SwarmFlows.Close()
	}
}
