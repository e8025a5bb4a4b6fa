package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/topo-dev/topo/model"
)

// RegistryMsg carries one snapshot of a registry watch (registry.Watch):
// the panel replaces its copy of that registry (by Name) with it.
type RegistryMsg struct {
	Registry model.Registry
	// watch is the RegistryConn it came from (regWatch.id), so that a
	// snapshot of a watch replaced since is dropped rather than drawn;
	// zero for one that came from no watch.
	watch int
}

// RegistryClosedMsg says the registry watch ended (topo is quitting).
type RegistryClosedMsg struct{}

// waitForRegistry waits for the next snapshot of watch id. Like
// waitForUpdate, it is re-armed after every RegistryMsg, so each watch's
// snapshots reach Update one at a time; the watch keeps only the newest
// for a slow reader.
func waitForRegistry(ch <-chan model.Registry, id int) tea.Cmd {
	if ch == nil {
		return nil
	}
	return receive(ch, func(r model.Registry) tea.Msg { return RegistryMsg{Registry: r, watch: id} },
		func() tea.Msg { return RegistryClosedMsg{} })
}

// registryHeaderLines is the fixed header above the scrolling list: where,
// how current, and through what. Its height never changes, so the list
// below does not jump when an error comes and goes.
const registryHeaderLines = 3

// RegistryPanel shows the service registry beside the lanes: each service
// with its health counts, each instance with its checks and the container
// it belongs to, and the mismatches a viewer should notice (stale
// registrations, unregistered containers). It also gives the lanes their
// registry badges. When topo follows several registries, each is a
// section of its own, with its own state, and a container registered in
// another registry than the one it names is flagged (see registries.go).
type RegistryPanel struct {
	styles   Styles
	now      func() time.Time
	viewport viewport.Model
	width    int
	height   int

	// sections are the registries in the order they were found; one
	// draws as the panel always has.
	sections []registrySection
	topo     model.Topology
	links    model.RegistryLinks
	// elsewhere are the swarm tasks on other nodes (none off a swarm).
	elsewhere model.Elsewhere
	// absent says why there is no registry at all (nothing found or
	// named); the panel then shows only that and how to name one.
	absent string

	// items are the selectable rows in screen order; sel indexes them and
	// selKey keeps the selection on the same row across snapshots.
	items  []registryItem
	sel    int
	selKey string
}

type registryItem struct {
	key         string
	containerID string
	first, last int // lines of the body the item spans
}

// NewRegistryPanel returns a panel waiting for its first snapshot.
func NewRegistryPanel(styles Styles, now func() time.Time) *RegistryPanel {
	return &RegistryPanel{styles: styles, now: now, viewport: viewport.New(0, 0), topo: model.NewTopology()}
}

// SetSize gives the panel its size.
func (p *RegistryPanel) SetSize(w, h int) {
	p.width, p.height = w, h
	p.refresh()
}

// SetRegistry replaces the snapshot of the registry of its Name, or adds a
// section for a name not seen yet. A snapshot with only Addr and Source
// set means "connecting".
func (p *RegistryPanel) SetRegistry(r model.Registry) {
	p.absent = ""
	for i := range p.sections {
		if p.sections[i].reg.Name == r.Name {
			p.sections[i].reg = r
			p.relink()
			return
		}
	}
	p.sections = append(p.sections, registrySection{reg: r})
	p.relink()
}

// SetAbsent says there is no registry, and why (registry.ErrNoRegistry's
// text says how to name one).
func (p *RegistryPanel) SetAbsent(reason string) {
	p.sections, p.absent = nil, reason
	p.relink()
}

// SetTopology gives the containers instances are matched to.
func (p *RegistryPanel) SetTopology(t model.Topology) {
	p.topo = t
	p.relink()
}

// Links is the current matching of instances to containers, in every
// registry.
func (p *RegistryPanel) Links() model.RegistryLinks { return p.links }

// Registry is the snapshot of the registry of that name; false when the
// panel has no such section.
func (p *RegistryPanel) Registry(name string) (model.Registry, bool) {
	for _, sec := range p.sections {
		if sec.reg.Name == name {
			return sec.reg, true
		}
	}
	return model.Registry{}, false
}

// SetElsewhere gives the swarm tasks on other nodes, which instances
// registered there are matched to.
func (p *RegistryPanel) SetElsewhere(e model.Elsewhere) {
	p.elsewhere = e
	p.relink()
}

func (p *RegistryPanel) relink() {
	regs := make(model.Registries, len(p.sections))
	for i, sec := range p.sections {
		regs[i] = sec.reg
	}
	p.links = regs.LinkElsewhere(p.topo, p.elsewhere)
	p.refresh()
}

// Move moves the selection by delta rows (instances and unregistered
// containers).
func (p *RegistryPanel) Move(delta int) {
	if len(p.items) == 0 {
		return
	}
	p.sel = min(max(p.sel+delta, 0), len(p.items)-1)
	p.selKey = p.items[p.sel].key
	p.refresh()
}

// Selected returns the container of the selected row, for the lanes to
// select; false when the row has none (an instance of no container).
func (p *RegistryPanel) Selected() (containerID string, ok bool) {
	if p.sel >= len(p.items) {
		return "", false
	}
	id := p.items[p.sel].containerID
	return id, id != ""
}

// SelectContainer selects the first row of a container, so that selecting
// a node in the lanes shows its registration. It reports whether the
// container has a row.
func (p *RegistryPanel) SelectContainer(id string) bool {
	for i, it := range p.items {
		if it.containerID == id {
			if i != p.sel {
				p.sel, p.selKey = i, it.key
				p.refresh()
			}
			return true
		}
	}
	return false
}

// Lines is the height of the panel's content at width w: its header and
// every row, or the reason there is no registry.
func (p *RegistryPanel) Lines(w int) int {
	saved := p.width
	p.width = w
	lines, _ := p.render()
	p.width = saved
	if p.absent != "" {
		return len(lines)
	}
	return registryHeaderLines + len(lines)
}

// Update scrolls the list (page keys, mouse wheel).
func (p *RegistryPanel) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	p.viewport, cmd = p.viewport.Update(msg)
	return cmd
}

// View renders the panel. The header is rendered on every call, because
// its ages move with the clock; the list is rendered only when it changes.
func (p *RegistryPanel) View() string {
	switch {
	case p.absent != "":
		return p.viewport.View()
	case p.multi():
		return p.summary() + "\n" + p.viewport.View()
	}
	sec := registrySection{}
	if len(p.sections) > 0 {
		sec = p.sections[0]
	}
	if p.viewport.Height == 0 {
		// No room for the list: the header alone, as much as fits.
		lines := strings.Split(p.sectionHeader(sec), "\n")
		return strings.Join(lines[:min(len(lines), max(1, p.height))], "\n")
	}
	return p.sectionHeader(sec) + "\n" + p.viewport.View()
}

// Badge is the lanes' Badger: a container's registry state in two cells,
// readable without colour. R plus the health symbol for a registered
// container; R⚠ when its registration is stale (it is stopped); R? when it
// belongs to a registered service but is not registered. With several
// registries, R becomes the letter of each registry concerned (see
// multiBadge).
func (p *RegistryPanel) Badge(c model.Container) string {
	if p.multi() {
		return p.multiBadge(c)
	}
	b := p.badgeIn(p.links.ByRegistry[p.single().Name], "R", c)
	if _, ok := p.links.MisplacedIn(c.ID); ok {
		// It names a registry topo does not follow.
		b += p.styles.Error.Render("≠")
	}
	return b
}

// badgeIn is a container's mark for one registry's links: tag plus the
// health symbol, or tag⚠ (stale), tag? (unregistered), or nothing.
func (p *RegistryPanel) badgeIn(l model.Links, tag string, c model.Container) string {
	s := p.styles
	if keys := l.ByContainer[c.ID]; len(keys) > 0 {
		for _, k := range keys {
			if l.Instances[k].Stale {
				return s.Error.Render(tag + "⚠")
			}
		}
		h, _ := l.ContainerHealth(c.ID)
		return p.statusStyle(h).Render(tag + checkSymbol(h))
	}
	if _, ok := l.UnregisteredService(c.ID); ok {
		return s.Warning.Render(tag + "?")
	}
	return ""
}

// checkSymbol shows a status without colour.
func checkSymbol(st model.CheckStatus) string {
	switch st {
	case model.CheckPassing:
		return "✓"
	case model.CheckWarning:
		return "!"
	case model.CheckCritical:
		return "✗"
	case model.CheckMaintenance:
		return "‖"
	}
	return "?"
}

func (p *RegistryPanel) statusStyle(st model.CheckStatus) lipgloss.Style {
	switch st {
	case model.CheckPassing:
		return p.styles.Healthy
	case model.CheckWarning, model.CheckMaintenance:
		return p.styles.Warning
	}
	return p.styles.Failing
}

// header is a registry's three lines: where, its state, how it was found.
func (p *RegistryPanel) header(r model.Registry) string {
	s, now := p.styles, p.now()
	var where, status string
	switch {
	case r.Datacenter != "" || r.Leader != "":
		where = s.Bold.Render(orDash(r.Datacenter)) + s.Muted.Render(" · leader ") + orDash(r.Leader) +
			s.Muted.Render(fmt.Sprintf(" · index %d", r.LastIndex))
	default:
		where = s.Bold.Render("consul") + s.Muted.Render(" "+r.Addr)
	}
	switch {
	case r.Error != "":
		status = s.Error.Render("✗ failing for "+humanDuration(r.ErrorAge(now))) + s.Muted.Render(dataAge(r, now))
	case r.FetchedAt.IsZero():
		status = s.Warning.Render("◌ connecting to " + r.Addr + "…")
	default:
		status = s.Healthy.Render("● live") + s.Muted.Render(fmt.Sprintf(" · %d services · %d instances", len(r.Services), r.InstanceCount()))
	}
	source := s.Muted.Render("via " + orDash(r.Source))
	return strings.Join([]string{clip(where, p.width), clip(status, p.width), clip(source, p.width)}, "\n")
}

// dataAge says how old the kept data is, once there is some.
func dataAge(r model.Registry, now time.Time) string {
	if r.FetchedAt.IsZero() {
		return " · no data yet"
	}
	return " · data from " + humanDuration(r.Age(now)) + " ago"
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// refresh renders the list and keeps the selection in view.
func (p *RegistryPanel) refresh() {
	p.viewport.Width, p.viewport.Height = p.width, p.height
	switch {
	case p.absent != "":
	case p.multi():
		p.viewport.Height = max(0, p.height-summaryLines)
	default:
		p.viewport.Height = max(0, p.height-registryHeaderLines)
	}
	lines, items := p.render()
	found := false
	for i, it := range items {
		if it.key == p.selKey {
			p.sel, found = i, true
			break
		}
	}
	switch {
	case !found && p.selKey == "" && len(items) > 0:
		// Nothing chosen yet: the first row, whichever it is now, so a
		// service registered after the panel first drew (the app, after
		// consul) does not start above a remembered default.
		p.sel = 0
	case !found && len(items) > 0:
		// The selected row left (deregistered): stay at the same place.
		p.sel = min(p.sel, len(items)-1)
		p.selKey = items[p.sel].key
		lines, items = p.render()
	}
	p.items = items
	p.viewport.SetContent(strings.Join(lines, "\n"))
	p.viewport.SetYOffset(p.offset(len(lines), items))
}

// offset is where the list starts: where it was, moved just enough to
// show the selected row (the whole row when it fits, else its first
// line), and never past the point where the end of the list fills the
// panel, so a list that fits is shown whole from its top. A panel first
// laid out short and then given room used to keep the offset it had to
// take when short, hiding the rows above the selection (issue 13).
func (p *RegistryPanel) offset(total int, items []registryItem) int {
	h := p.viewport.Height
	off := p.viewport.YOffset
	if h > 0 && p.sel < len(items) {
		it := items[p.sel]
		off = min(off, it.first)
		off = max(off, min(it.first, it.last-h+1))
	}
	return max(0, min(off, total-h))
}

// render builds the list below the header, one styled line per entry,
// each cut to the width.
func (p *RegistryPanel) render() ([]string, []registryItem) {
	s, w := p.styles, p.width
	var lines []string
	add := func(line string) { lines = append(lines, clip(line, w)) }
	if p.absent != "" {
		for _, l := range strings.Split(wrap(p.absent, w), "\n") {
			add(s.Muted.Render(l))
		}
		add("")
		add(s.Muted.Render("topo works without one; c hides this panel."))
		return lines, nil
	}
	var items []registryItem
	for i, sec := range p.sections {
		if p.multi() {
			if i > 0 {
				add("")
			}
			for _, l := range p.sectionHead(sec) {
				add(l)
			}
		}
		p.renderRegistry(sec.reg, &lines, &items)
	}
	return lines, items
}

// renderRegistry appends one registry's list: its error, its mismatches,
// then each service with its rows.
func (p *RegistryPanel) renderRegistry(r model.Registry, lines *[]string, items *[]registryItem) {
	s, w := p.styles, p.width
	add := func(line string) { *lines = append(*lines, clip(line, w)) }
	links := p.links.ByRegistry[r.Name]
	if r.Error != "" {
		for _, l := range strings.Split(wrap(r.Error, w), "\n") {
			add(s.Error.Render(l))
		}
	}
	if n, u := len(links.Stale), len(links.Unregistered); n+u > 0 {
		var parts []string
		if n > 0 {
			parts = append(parts, s.Error.Render(fmt.Sprintf("⚠ %d stale", n)))
		}
		if u > 0 {
			parts = append(parts, s.Warning.Render(fmt.Sprintf("? %d unregistered", u)))
		}
		add(strings.Join(parts, s.Muted.Render(" · ")))
	}
	if r.Live() && len(r.Services) == 0 {
		add(s.Muted.Render("no services registered"))
	}
	unregistered := map[string][]string{}
	for _, u := range links.Unregistered {
		unregistered[u.Service] = append(unregistered[u.Service], u.ContainerID)
	}
	// Keys are unique across registries: two agents may hold an instance
	// of the same node and ID.
	prefix := r.Name + "|"
	for _, svc := range r.Services {
		add("")
		// Scrolling to a service's first row shows the service's line too.
		first := len(*lines)
		line := p.serviceLine(svc)
		if p.multi() {
			// A section's title may be scrolled away: each service says
			// which registry it is in.
			line = s.Key.Render(p.tag(r.Name)) + " " + line
		}
		add(line)
		row := func(key, containerID string, render func(selected bool) []string) {
			key = prefix + key
			it := registryItem{key: key, containerID: containerID, first: first}
			// With nothing chosen, the first row is the selection.
			for _, l := range render(key == p.selKey || (p.selKey == "" && len(*items) == 0)) {
				add(l)
			}
			it.last = len(*lines) - 1
			*items = append(*items, it)
			first = len(*lines)
		}
		for _, in := range svc.Instances {
			link := links.Instances[in.Key()]
			row(in.Key(), link.ContainerID, func(sel bool) []string { return p.instanceLines(r.Name, in, link, sel) })
		}
		for _, id := range unregistered[svc.Name] {
			row("unregistered/"+id, id, func(sel bool) []string { return p.unregisteredLines(id, svc.Name, sel) })
		}
	}
}

func (p *RegistryPanel) serviceLine(svc model.Service) string {
	s := p.styles
	n := svc.Counts()
	noun := "instances"
	if len(svc.Instances) == 1 {
		noun = "instance"
	}
	line := s.Bold.Render(svc.Name) + s.Muted.Render(fmt.Sprintf("  %d %s  ", len(svc.Instances), noun)) +
		s.Healthy.Render(fmt.Sprintf("✓%d", n.Passing)) + " " +
		s.Warning.Render(fmt.Sprintf("!%d", n.Warning)) + " " +
		s.Failing.Render(fmt.Sprintf("✗%d", n.Critical))
	if n.Maintenance > 0 {
		line += " " + s.Warning.Render(fmt.Sprintf("‖%d", n.Maintenance))
	}
	return line
}

// marker starts a row: the selection cursor, readable without colour.
func marker(selected bool) string {
	if selected {
		return "›"
	}
	return " "
}

func (p *RegistryPanel) instanceLines(registry string, in model.Instance, link model.InstanceLink, selected bool) []string {
	s := p.styles
	h := in.Health()
	id := s.Base.Render(in.ID)
	if selected {
		id = s.Selected.Render(in.ID)
	}
	first := marker(selected) + " " + p.statusStyle(h).Render(checkSymbol(h)) + " " + id
	if link.Stale {
		// Right after the ID, so that a narrow panel cuts the node
		// rather than the mark.
		first += " " + s.Error.Render("⚠ STALE")
	}
	misplaced, isMisplaced := p.misplacedHere(registry, link.ContainerID)
	if isMisplaced {
		first += " " + s.Error.Render("≠ MISPLACED")
	}
	first += "  " + in.HostPort() + s.Muted.Render("  "+in.Node)
	lines := []string{first}
	const indent = "     "
	if len(in.Tags) > 0 {
		lines = append(lines, indent+s.Muted.Render("tags "+strings.Join(in.Tags, ", ")))
	}
	switch {
	case link.Stale:
		lines = append(lines, indent+s.Error.Render("⚠ "+link.Why))
	case link.Elsewhere != "":
		lines = append(lines, indent+"↳ task "+link.Elsewhere+s.Muted.Render(" (another node; by "+string(link.By)+")"))
	case link.ContainerID != "":
		if c, ok := p.topo.Containers[link.ContainerID]; ok {
			// Docker's own view next to the registry's, where both exist.
			ctr := "↳ " + c.DisplayName() + " " + s.State(c.State).Render(StateSymbol(c.State)+" "+string(c.State))
			if c.Health != model.HealthNone {
				ctr += " " + s.HealthBadge(c.Health) + " " + string(c.Health)
			}
			lines = append(lines, indent+ctr+s.Muted.Render(" (by "+string(link.By)+")"))
		}
	}
	if isMisplaced {
		lines = append(lines, indent+s.Error.Render("≠ "+misplacedWhy(misplaced, registry)))
	}
	for _, ch := range in.Checks {
		if ch.Node && ch.Status == model.CheckPassing {
			// A node check (serfHealth) is the same for every instance
			// on the node: it is worth a line only when it explains a
			// failure. It still counts in the instance's health.
			continue
		}
		line := indent + p.statusStyle(ch.Status).Render(checkSymbol(ch.Status)+" "+ch.Name+" "+string(ch.Status))
		if ch.Output != "" {
			line += s.Muted.Render("  " + ch.Output)
		}
		lines = append(lines, line)
	}
	return lines
}

func (p *RegistryPanel) unregisteredLines(containerID, service string, selected bool) []string {
	s := p.styles
	c := p.topo.Containers[containerID]
	name := s.Base.Render(c.DisplayName())
	if selected {
		name = s.Selected.Render(c.DisplayName())
	}
	var ips []string
	for _, n := range p.topo.OrderedNetworks(true) {
		if e, ok := c.Endpoints[n.ID]; ok && e.IP() != "" {
			ips = append(ips, e.IP())
		}
	}
	return []string{
		marker(selected) + " " + s.Warning.Render("? UNREGISTERED") + " " + name + "  " + strings.Join(ips, ", "),
		"     " + s.Muted.Render("running, but no instance of "+service),
	}
}
