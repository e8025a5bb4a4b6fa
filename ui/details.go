package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/internal/inert"
	"github.com/topo-dev/topo/model"
)

// Details shows everything about the selected container. It renders what
// the lanes know at once and fills in the rest (health log, start time,
// aliases) when the inspection the root requested arrives.
type Details struct {
	styles   Styles
	viewport viewport.Model
	// container is the selection; detailed is its inspection, when it
	// is the same container.
	container model.Container
	detailed  *model.Container
	err       error
	now       func() time.Time
	width     int
	// flows gives the selection's flows while they are on (flows.go).
	flows func(id string) []string
	// uninspected is said for a container with no inspection when none
	// can be asked for (a replay); empty when one is on its way.
	uninspected string
	// shownStart is the start of the running container whose uptime was
	// drawn last (zero when none shows) and shownUptime that text: the
	// clock draws the pane again only when the text would change.
	shownStart  time.Time
	shownUptime string
}

// NewDetails returns an empty details pane.
func NewDetails(styles Styles, now func() time.Time) *Details {
	return &Details{styles: styles, viewport: viewport.New(0, 0), now: now}
}

// SetSize gives the pane its size.
func (d *Details) SetSize(w, h int) {
	d.width = w
	d.viewport.Width, d.viewport.Height = w, h
	d.refresh()
}

// Show sets the container to describe; an inspection of another container
// is dropped.
func (d *Details) Show(c model.Container) {
	if c.ID != d.container.ID {
		d.detailed, d.err = nil, nil
		d.viewport.GotoTop()
	}
	d.container = c
	if c.Detailed {
		d.detailed = &c
	}
	d.refresh()
}

// Tick draws the pane again for the clock when the uptime it shows has
// changed; it says whether it did.
func (d *Details) Tick() bool {
	if d.shownStart.IsZero() || " for "+humanDuration(d.now().Sub(d.shownStart)) == d.shownUptime {
		return false
	}
	d.refresh()
	return true
}

// NextChange says how long until the uptime shown changes, and false
// when no uptime shows.
func (d *Details) NextChange(now time.Time) (time.Duration, bool) {
	if d.shownStart.IsZero() {
		return 0, false
	}
	return humanStep(now.Sub(d.shownStart)), true
}

// SetUninspected says what to show for a container with no inspection
// when none can be asked for.
func (d *Details) SetUninspected(reason string) { d.uninspected = reason }

// SetInspection delivers an inspection result.
func (d *Details) SetInspection(c model.Container, err error) {
	if c.ID != "" && c.ID != d.container.ID {
		return
	}
	d.err = err
	if err == nil {
		d.detailed = &c
	}
	d.refresh()
}

// SetFlows sets where the selection's flows come from.
func (d *Details) SetFlows(f func(id string) []string) {
	d.flows = f
	d.refresh()
}

// Refresh draws the pane again after a change it cannot see (a sample
// of the flows).
func (d *Details) Refresh() { d.refresh() }

// Update scrolls the pane.
func (d *Details) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	d.viewport, cmd = d.viewport.Update(msg)
	return cmd
}

// View renders the pane.
func (d *Details) View() string { return d.viewport.View() }

func (d *Details) refresh() {
	d.viewport.SetContent(d.render())
}

func (d *Details) render() string {
	c := d.container
	if c.ID == "" {
		d.shownStart, d.shownUptime = time.Time{}, ""
		return d.styles.Muted.Render("select a container to see its details")
	}
	if d.detailed != nil {
		// The inspection has more; the live state from events wins.
		full := *d.detailed
		full.State, full.Health, full.Endpoints, full.Name = c.State, c.Health, mergeEndpoints(c.Endpoints, full.Endpoints), c.Name
		c = full
	}
	s := d.styles
	var b strings.Builder
	row := func(label, value string) {
		fmt.Fprintf(&b, "%s %s\n", s.Muted.Render(fmt.Sprintf("%-8s", label)), value)
	}
	b.WriteString(s.Bold.Render(c.Name) + "  " + s.Muted.Render(c.ShortID()) + "\n")
	row("image", c.Image)
	if c.Command != "" {
		row("command", c.Command)
	}
	up := uptime(c, d.now())
	d.shownStart, d.shownUptime = time.Time{}, up
	if c.Running() {
		d.shownStart = c.StartedAt
	}
	state := s.State(c.State).Render(StateSymbol(c.State)+" "+string(c.State)) + up
	row("state", state)
	if c.Health != model.HealthNone {
		health := s.HealthBadge(c.Health) + " " + string(c.Health)
		if c.HealthLog != "" {
			health += s.Muted.Render(" — " + inert.FirstLine(c.HealthLog))
		}
		row("health", health)
	}
	if len(c.Ports) > 0 {
		var ports []string
		for _, p := range c.Ports {
			ports = append(ports, p.String())
		}
		row("ports", strings.Join(ports, ", "))
	}
	if c.NetworkMode != "" && c.NetworkMode != "default" && len(c.Endpoints) == 0 {
		row("network", c.NetworkMode)
	}
	d.writeNetworks(&b, c)
	if d.flows != nil {
		for _, l := range d.flows(c.ID) {
			b.WriteString(l + "\n")
		}
	}
	d.writeMounts(&b, c)
	d.writeLabels(&b, c)
	if d.err != nil {
		b.WriteString(s.Error.Render(d.err.Error()) + "\n")
	} else if d.detailed == nil && d.uninspected != "" {
		b.WriteString(s.Muted.Render(d.uninspected) + "\n")
	} else if d.detailed == nil {
		b.WriteString(s.Muted.Render("reading details…") + "\n")
	}
	// Wrap long values instead of letting them run off the pane.
	return wrap(strings.TrimRight(b.String(), "\n"), d.width)
}

// mergeEndpoints keeps the live set of networks and takes aliases from the
// inspection where it has the same network.
func mergeEndpoints(live, inspected map[string]model.Endpoint) map[string]model.Endpoint {
	out := make(map[string]model.Endpoint, len(live))
	for id, ep := range live {
		if in, ok := inspected[id]; ok && len(ep.Aliases) == 0 {
			ep.Aliases = in.Aliases
		}
		out[id] = ep
	}
	return out
}

func uptime(c model.Container, now time.Time) string {
	if !c.Running() || c.StartedAt.IsZero() {
		if c.State == model.StateExited {
			return fmt.Sprintf(" (exit code %d)", c.ExitCode)
		}
		return ""
	}
	return " for " + humanDuration(now.Sub(c.StartedAt))
}

// humanDuration renders a duration the way `docker ps` does, coarsely:
// seconds under a minute, then whole minutes, so that a clock showing it
// changes once a minute rather than every second (see humanStep).
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return "less than a second"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// humanStep says how long after d humanDuration shows another value: the
// wait of a clock that draws it.
func humanStep(d time.Duration) time.Duration {
	switch {
	case d < 0:
		return time.Second
	case d < time.Minute:
		return time.Second - d%time.Second
	case d < 48*time.Hour:
		return time.Minute - d%time.Minute
	}
	return time.Hour - d%time.Hour
}

// meaningfulAliases drops the aliases the engine adds by itself (the short
// ID and the container's own name), leaving the ones someone chose.
func meaningfulAliases(aliases []string, c model.Container) []string {
	var out []string
	for _, a := range aliases {
		if a != c.ShortID() && a != c.Name {
			out = append(out, a)
		}
	}
	return out
}

// writeNetworks lists the container's addresses per network, by name,
// with the aliases that say more than its name.
func (d *Details) writeNetworks(b *strings.Builder, c model.Container) {
	if len(c.Endpoints) == 0 {
		return
	}
	s := d.styles
	b.WriteString(s.PaneTitle.Render("networks") + "\n")
	var eps []model.Endpoint
	for _, ep := range c.Endpoints {
		eps = append(eps, ep)
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].NetworkName < eps[j].NetworkName })
	for _, ep := range eps {
		line := "  " + s.LaneTitle.Render(ep.NetworkName) + " " + ep.IP()
		if aliases := meaningfulAliases(ep.Aliases, c); len(aliases) > 0 {
			line += s.Muted.Render(" aka " + strings.Join(aliases, ", "))
		}
		b.WriteString(line + "\n")
	}
}

// writeMounts lists what the container mounts, and where.
func (d *Details) writeMounts(b *strings.Builder, c model.Container) {
	if len(c.Mounts) == 0 {
		return
	}
	s := d.styles
	b.WriteString(s.PaneTitle.Render("mounts") + "\n")
	for _, m := range c.Mounts {
		src := m.Name
		if src == "" {
			src = m.Source
		}
		fmt.Fprintf(b, "  %s %s → %s %s\n", m.Type, src, m.Destination, s.Muted.Render(m.Mode()))
	}
}

// writeLabels lists the labels, by key.
func (d *Details) writeLabels(b *strings.Builder, c model.Container) {
	if len(c.Labels) == 0 {
		return
	}
	s := d.styles
	b.WriteString(s.PaneTitle.Render("labels") + "\n")
	keys := make([]string, 0, len(c.Labels))
	for k := range c.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString("  " + s.Muted.Render(k+"=") + c.Labels[k] + "\n")
	}
}
