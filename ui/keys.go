package ui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
)

// KeyMap is every binding of topo in one place. A binding that does not
// apply in the current context is disabled, so help never lists a dead key.
type KeyMap struct {
	Up, Down, Left, Right key.Binding
	NextPane              key.Binding
	Filter                key.Binding
	Details               key.Binding
	Back                  key.Binding
	Kill                  key.Binding
	StopStart             key.Binding
	Restart               key.Binding
	BuiltIn               key.Binding
	Registry              key.Binding
	Focus                 key.Binding
	Group                 key.Binding
	Isolation             key.Binding
	Matrix                key.Binding
	Probe                 key.Binding
	ClusterView           key.Binding
	ScaleUp, ScaleDown    key.Binding
	RestartService        key.Binding
	Drain                 key.Binding
	Deploy                key.Binding
	Teardown              key.Binding
	Traffic               key.Binding
	Flows                 key.Binding
	// Logs opens the selected container's logs; Storage cycles the
	// storage lanes (volumes, then bind mounts too, then closed); Sizes
	// reads the volumes' disk usage once, in the storage lanes.
	Logs    key.Binding
	Storage key.Binding
	Sizes   key.Binding
	// Log are the logs pane's own keys, while it has the focus.
	Log        LogKeys
	SaveScreen key.Binding
	// The replay's keys (topo replay), disabled live.
	Pause, StepBack, StepForward key.Binding
	Slower, Faster               key.Binding
	Help                         key.Binding
	Quit                         key.Binding
	Confirm, Deny                key.Binding
}

// DefaultKeyMap returns topo's bindings.
func DefaultKeyMap() KeyMap {
	// Right is the arrow only: l is the logs (k9s's convention).
	return KeyMap{
		Up:             key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:           key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Left:           key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "left")),
		Right:          key.NewBinding(key.WithKeys("right"), key.WithHelp("→", "right")),
		NextPane:       key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		Filter:         key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Details:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Back:           key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Kill:           key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "kill")),
		StopStart:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "stop/start")),
		Restart:        key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restart")),
		BuiltIn:        key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "built-in nets")),
		Registry:       key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "registry panel")),
		Focus:          key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "focus on a project")),
		Group:          key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "open/close replicas")),
		Isolation:      key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "isolation overlay")),
		Matrix:         key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "reachability matrix")),
		Probe:          key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "probe reachability")),
		ClusterView:    key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "swarm cluster view")),
		ScaleUp:        key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "scale up")),
		ScaleDown:      key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "scale down")),
		RestartService: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "rolling restart")),
		Drain:          key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "drain/activate node")),
		Deploy:         key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "deploy the demo")),
		Teardown:       key.NewBinding(key.WithKeys("T"), key.WithHelp("T", "tear the demo down")),
		Traffic:        key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "traffic on/off")),
		Flows:          key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "flows on/off")),
		Logs:           key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "logs")),
		Storage:        key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "storage lanes")),
		Sizes:          key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "volume sizes")),
		Log:            DefaultLogKeys(),
		SaveScreen:     key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "save screen as SVG")),
		Pause:          key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "pause/play")),
		StepBack:       key.NewBinding(key.WithKeys("["), key.WithHelp("[", "previous event")),
		StepForward:    key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next event")),
		Slower:         key.NewBinding(key.WithKeys("<"), key.WithHelp("<", "half speed")),
		Faster:         key.NewBinding(key.WithKeys(">"), key.WithHelp(">", "double speed")),
		Help:           key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:           key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Confirm:        key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		Deny:           key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n", "no")),
	}
}

// ShortHelp is the one-line help of the footer.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Help, k.Pause, k.StepBack, k.StepForward, k.Details, k.Filter, k.Kill, k.StopStart, k.Restart, k.NextPane, k.Quit}
}

// engineKeys are the bindings that act on an engine: a read-only
// interface refuses them (see Config.ReadOnly).
func (k KeyMap) engineKeys() []key.Binding {
	return []key.Binding{k.Kill, k.StopStart, k.Restart, k.Deploy, k.ScaleUp, k.ScaleDown, k.Teardown,
		k.Traffic, k.Probe, k.RestartService, k.Drain}
}

// FullHelp is the help screen, in columns; four fit 80 columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Left, k.Right, k.NextPane, k.Help, k.Quit},
		{k.Details, k.Logs, k.Storage, k.Sizes, k.Filter, k.BuiltIn, k.Registry, k.SaveScreen, k.Back},
		{k.Kill, k.StopStart, k.Restart, k.Focus, k.Group},
		{k.Isolation, k.Matrix, k.Probe, k.Flows, k.ClusterView, k.RestartService, k.Drain},
		{k.Deploy, k.ScaleUp, k.ScaleDown, k.Teardown, k.Traffic},
		{k.Log.Search, k.Log.Older, k.Log.Newer, k.Log.Wrap, k.Log.Pause, k.Log.Follow},
		{k.Pause, k.StepBack, k.StepForward, k.Slower, k.Faster},
	}
}

// LogKeys are the logs pane's keys; they apply only while it has the
// focus, where they stand in for the lanes' keys of the same letters.
// Scrolling uses bubbles' viewport keys.
type LogKeys struct {
	Search, Older, Newer, Wrap, Pause, Follow key.Binding
	Scroll                                    viewport.KeyMap
}

// DefaultLogKeys returns the logs pane's bindings.
func DefaultLogKeys() LogKeys {
	return LogKeys{
		Search: key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search logs")),
		Older:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "older match")),
		Newer:  key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "newer match")),
		Wrap:   key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "wrap lines")),
		Pause:  key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause/resume")),
		Follow: key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "follow")),
		Scroll: viewport.DefaultKeyMap(),
	}
}

// setEnabled turns the pane's keys on or off as one.
func (k *LogKeys) setEnabled(on bool) {
	for _, b := range []*key.Binding{&k.Search, &k.Older, &k.Newer, &k.Wrap, &k.Pause, &k.Follow} {
		b.SetEnabled(on)
	}
}
