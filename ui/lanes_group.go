package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/topo-dev/topo/model"
)

// A replica group is the containers of one compose service (or the tasks
// of one swarm service) on the same lanes, drawn as one node when the
// columns do not fit: `app ×5` over one state mark per replica and the
// registry's summary. The selection still steps through its replicas
// (←/→), so each one can be killed, inspected or probed; z opens or closes
// the selected one's group for good.

// viewCol is one drawn column: the layout columns first..last, one
// container or a collapsed group.
type viewCol struct{ first, last int }

func (v viewCol) group() bool { return v.last > v.first }

// regroup computes the drawn columns from the layout and the width:
// groups collapse, largest first, until the columns fit the width at
// minColumnWidth, unless the presenter opened or closed them with z; then
// the columns share the width.
func (l *Lanes) regroup() {
	runs := l.layout.Groups(l.topo)
	closed := make([]bool, len(runs))
	count := len(l.layout.Columns)
	var auto []int
	for i, r := range runs {
		if r[1] == r[0] || l.expand {
			continue
		}
		open, set := l.opened[model.ReplicaKey(l.topo.Containers[l.layout.Columns[r[0]]])]
		switch {
		case set && !open:
			closed[i] = true
			count -= r[1] - r[0]
		case !set:
			auto = append(auto, i)
		}
	}
	least := minColumnWidth
	if l.width < narrowLanes {
		least = narrowColumnWidth
	}
	fitting := max(1, l.width/least)
	sort.SliceStable(auto, func(a, b int) bool {
		ra, rb := runs[auto[a]], runs[auto[b]]
		return ra[1]-ra[0] > rb[1]-rb[0]
	})
	for _, i := range auto {
		if count <= fitting {
			break
		}
		closed[i] = true
		count -= runs[i][1] - runs[i][0]
	}
	l.cols = l.cols[:0]
	l.colOf = make([]int, len(l.layout.Columns))
	for i, r := range runs {
		if closed[i] {
			l.cols = append(l.cols, viewCol{r[0], r[1]})
		} else {
			for c := r[0]; c <= r[1]; c++ {
				l.cols = append(l.cols, viewCol{c, c})
			}
		}
	}
	for vc, c := range l.cols {
		for col := c.first; col <= c.last; col++ {
			l.colOf[col] = vc
		}
	}
	shown := max(1, min(len(l.cols), fitting))
	l.colW = max(1, min(maxColumnWidth, l.width/shown))
	if l.width >= least {
		l.colW = max(l.colW, least)
	}
}

// viewCol is the drawn column of a layout column.
func (l *Lanes) viewCol(col int) int {
	if col < 0 || col >= len(l.colOf) {
		return 0
	}
	return l.colOf[col]
}

// ToggleGroup opens the selected replica's group when it is collapsed, or
// closes it when open; false when the selection belongs to no group.
func (l *Lanes) ToggleGroup() bool {
	c, ok := l.Selected()
	key := model.ReplicaKey(c)
	if !ok || key == "" {
		return false
	}
	l.opened[key] = l.cols[l.viewCol(l.col)].group() // a collapsed group opens
	l.regroup()
	l.cache = ""
	l.scrollToSelection()
	return true
}

// Grouped reports whether the selection is in a collapsed group.
func (l *Lanes) Grouped() bool {
	_, ok := l.Selected()
	return ok && l.cols[l.viewCol(l.col)].group()
}

// SetFocus keeps only one compose project or stack ("" for all).
func (l *Lanes) SetFocus(project string) {
	if project == l.opts.Project {
		return
	}
	l.opts.Project = project
	l.relayout()
}

// Shows reports whether the lanes lay the container out: the filter and
// the focus keep it.
func (l *Lanes) Shows(id string) bool {
	if l.shown == nil {
		l.shown = make(map[string]bool, len(l.layout.Columns))
		for _, c := range l.layout.Columns {
			l.shown[c] = true
		}
	}
	return l.shown[id]
}

// Focus is the project the lanes keep, "" for all.
func (l *Lanes) Focus() string { return l.opts.Project }

// Hidden counts the containers and lanes the focus leaves out.
func (l *Lanes) Hidden() (containers, lanes int) {
	if l.opts.Project == "" {
		return 0, 0
	}
	every := l.unfocused()
	return len(every.Columns) - len(l.layout.Columns), len(every.Lanes) - len(l.layout.Lanes)
}

// unfocused is the layout without the focus, computed once per topology:
// the status bar asks for it on every frame.
func (l *Lanes) unfocused() model.Layout {
	if l.opts.Project == "" {
		return l.layout
	}
	if l.every == nil {
		all := l.opts
		all.Project = ""
		every := l.topo.Layout(all)
		l.every = &every
	}
	return *l.every
}

// FitsUnfocused reports whether every lane and column would fit a pane of
// w×h without the focus: when not, topo focuses on the demo by itself.
func (l *Lanes) FitsUnfocused(w, h int) bool {
	probe := *l
	probe.layout = l.unfocused()
	probe.opts.Project = ""
	probe.width, probe.height = w, h
	probe.colOf, probe.cols = nil, nil
	probe.regroup()
	probe.colOffset = 0
	return !probe.overflows() && probe.totalLines() <= h
}

// healthBadge is a container's Docker health by its name: only while it
// runs, since a killed container keeps its last health, and ✗ on a
// container that is not running reads as "failing" rather than "stopped".
func (l *Lanes) healthBadge(c model.Container) string {
	if !c.Running() {
		return ""
	}
	return l.styles.HealthBadge(c.Health)
}

// renderGroup draws a collapsed group as one node: the service and its
// number of replicas (the selected replica's name while selected), then
// a state mark per replica and the registry's summary.
func (l *Lanes) renderGroup(ln, vc int) (string, string) {
	w := l.colW
	g := l.cols[vc]
	blank := strings.Repeat(" ", w)
	_, hi := l.layout.Span(g.first)
	var members []model.Container
	for col := g.first; col <= g.last; col++ {
		members = append(members, l.topo.Containers[l.layout.Columns[col]])
	}
	dim := l.overlay != nil
	for _, c := range members {
		dim = dim && l.overlay.DimContainer(c)
	}
	rail := l.styles.Rail
	if dim {
		rail = l.styles.Dimmed
	}
	if l.layout.Passes(ln, g.first) {
		line := " " + rail.Render("│") + strings.Repeat(" ", w-railOffset-1)
		return line, line
	}
	if !l.layout.Attached(ln, g.first) {
		return blank, blank
	}
	selected := ln == l.lane && l.viewCol(l.col) == vc
	rep, marker := members[0], " "
	name := groupName(rep)
	if selected {
		rep, marker = l.topo.Containers[l.layout.Columns[l.col]], "▶"
		name = rep.DisplayName()
	}
	count := fmt.Sprintf(" ×%d", len(members))
	// The selected replica's own state and health; else the group's:
	// running while any replica runs, unhealthy while any is.
	state, health := rep.State, l.healthBadge(rep)
	if !selected {
		for _, c := range members {
			if c.Running() {
				state = model.StateRunning
			}
			if h := l.healthBadge(c); h != "" && (health == "" || c.Health == model.HealthUnhealthy) {
				health = h
			}
		}
	}
	nameWidth := w - 4
	if health != "" {
		nameWidth -= 1 + ansi.StringWidth(health)
	}
	stateStyle, nameStyle := l.styles.State(state), l.styles.Service(rep)
	if dim {
		stateStyle, nameStyle = l.styles.Dimmed, l.styles.Dimmed
	}
	if selected {
		nameStyle = nameStyle.Inherit(l.styles.Selected)
	}
	// The count outlasts the name in a narrow column: app… ×20.
	name = strings.TrimRight(fit(name, max(1, nameWidth-ansi.StringWidth(count))), " ") + count
	top := marker + stateStyle.Render(StateSymbol(state)) + " " + nameStyle.Render(strings.TrimRight(fit(name, nameWidth), " "))
	if health != "" {
		top += " " + health
	}
	down := " "
	if ln < hi {
		down = rail.Render("│")
	}
	// A group's line holds no address, and its name line is full:
	// the overlay's marks go after the registry's summary.
	badges := l.groupBadges(members) + l.replicaMarks(members)
	room := w - 3 - ansi.StringWidth(badges)
	if badges != "" {
		room--
	}
	bottom := " " + down + " " + l.groupMarks(members, room, selected)
	if badges != "" {
		bottom = padTo(bottom, w-ansi.StringWidth(badges)-1) + " " + badges
	}
	return padTo(top, w), padTo(bottom, w)
}

// groupName is a replica's name without its number: the service.
func groupName(c model.Container) string {
	name := c.DisplayName()
	if i := strings.LastIndex(name, "."); i > 0 {
		return name[:i]
	}
	return name
}

// groupMarks is one state mark per replica (the selected one in the
// selection's style), or the count of each state when they do not fit.
func (l *Lanes) groupMarks(members []model.Container, room int, selected bool) string {
	selID := ""
	if selected {
		selID = l.layout.Columns[l.col]
	}
	if len(members) <= room {
		var b strings.Builder
		for _, c := range members {
			st := l.styles.State(c.State)
			if c.ID == selID {
				st = st.Inherit(l.styles.Selected)
			}
			b.WriteString(st.Render(StateSymbol(c.State)))
		}
		return b.String()
	}
	counts := map[model.State]int{}
	var order []model.State
	for _, c := range members {
		if counts[c.State] == 0 {
			order = append(order, c.State)
		}
		counts[c.State]++
	}
	var b strings.Builder
	for _, st := range order {
		b.WriteString(l.styles.State(st).Render(fmt.Sprintf("%s%d", StateSymbol(st), counts[st])))
	}
	return ansi.Truncate(b.String(), max(0, room), "…")
}

// replicaMarks is each distinct name-line mark of the replicas, once.
func (l *Lanes) replicaMarks(members []model.Container) string {
	var out strings.Builder
	seen := map[string]bool{}
	for _, c := range members {
		if m := l.nodeMark(c); m != "" && !seen[ansi.Strip(m)] {
			seen[ansi.Strip(m)] = true
			out.WriteString(m)
		}
	}
	return out.String()
}

// groupBadges sums the replicas' badges: each registry state once, with
// how many replicas are in it (R✓5, or R✓4R✗1), then the other marks (the
// flows') once each.
func (l *Lanes) groupBadges(members []model.Container) string {
	if l.badge == nil {
		return ""
	}
	counts := map[string]int{}
	styled := map[string]string{}
	var order, others []string
	seen := map[string]bool{}
	for _, c := range members {
		b := l.badge(c)
		reg, rest := "", b
		if strings.HasPrefix(ansi.Strip(b), "R") {
			// A registry badge is two cells: R and its state.
			reg, rest = ansi.Cut(b, 0, 2), ansi.Cut(b, 2, ansi.StringWidth(b))
		}
		if plain := ansi.Strip(reg); plain != "" {
			if counts[plain] == 0 {
				order = append(order, plain)
				styled[plain] = reg
			}
			counts[plain]++
		}
		if plain := ansi.Strip(rest); plain != "" && !seen[plain] {
			seen[plain] = true
			others = append(others, rest)
		}
	}
	var out strings.Builder
	for _, p := range order {
		out.WriteString(styled[p] + fmt.Sprint(counts[p]))
	}
	for _, o := range others {
		out.WriteString(o)
	}
	return out.String()
}
