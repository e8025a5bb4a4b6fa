package ui

// Drawing the registry panel: each registry's header and its services,
// instances and unregistered containers, as lines the panel scrolls.

import (
	"fmt"
	"strings"
	"time"

	"github.com/topo-dev/topo/model"
)

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
