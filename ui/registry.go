package ui

import (
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
