package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/topo-dev/topo/model"
)

// Drawing the lanes: each network's header rule with its title and the
// rails that cross it, then each node's two lines (name with its marks,
// address).

// View renders the visible part of the grid.
func (l *Lanes) View() string {
	if l.cache != "" {
		return l.cache
	}
	if len(l.layout.Lanes) == 0 {
		msg := "no networks"
		switch {
		case l.opts.Filter != "":
			msg = "nothing matches “" + l.opts.Filter + "”: esc clears the filter"
		case !l.opts.WithBuiltIn:
			msg = "no user networks: press b to show bridge, host and none"
		}
		l.cache = lipgloss.NewStyle().Width(l.width).Height(l.height).Render(l.styles.Muted.Render(msg))
		return l.cache
	}
	var lines []string
	for ln := range l.layout.Lanes {
		if l.laneHeight(ln) > 0 {
			lines = append(lines, l.renderLane(ln)...)
		}
	}
	h := l.gridHeight()
	end := min(len(lines), l.lineOffset+h)
	visible := lines[min(l.lineOffset, end):end]
	for len(visible) < h {
		visible = append(visible, "")
	}
	if l.overflows() {
		first := l.colOffset + 1
		last := min(len(l.cols), l.colOffset+l.visibleColumns())
		hint := fmt.Sprintf("columns %d–%d of %d  ←/→ scroll", first, last, len(l.cols))
		if n := l.offScreenLanes(); n > 0 {
			hint += " · " + plural(n, "lane") + " off to the side"
		}
		visible = append(visible, l.styles.Muted.Render(fit(hint, l.width)))
	}
	l.cache = strings.Join(visible, "\n")
	return l.cache
}

// renderLane draws one lane: its header, then its two node lines.
func (l *Lanes) renderLane(ln int) []string {
	vis := l.visibleColumns()
	first := l.colOffset
	last := min(len(l.cols), first+vis)
	net := l.layout.Lanes[ln]
	dimLane := l.overlay != nil && l.overlay.DimNetwork(net)

	count := l.layout.LaneCount(ln)
	var crossings []crossing
	for vc := first; vc < last; vc++ {
		if lo, hi := l.layout.Span(l.cols[vc].first); lo < ln && ln <= hi {
			crossings = append(crossings, crossing{(vc-first)*l.colW + railOffset, l.layout.Attached(ln, l.cols[vc].first)})
		}
	}
	left, right := l.hiddenNodes(ln, first, last)
	header := l.renderHeader(net, count, crossings, dimLane, [2]int{left, right})
	if count == 0 {
		return []string{header}
	}
	var top, bottom strings.Builder
	for vc := first; vc < last; vc++ {
		var a, b string
		if c := l.cols[vc]; c.first != c.last {
			a, b = l.renderGroup(ln, vc)
		} else {
			a, b = l.renderCell(ln, c.first)
		}
		top.WriteString(a)
		bottom.WriteString(b)
	}
	return []string{header, top.String(), bottom.String()}
}

// hiddenNodes counts a lane's nodes scrolled off to the left and right.
func (l *Lanes) hiddenNodes(ln, first, last int) (left, right int) {
	for col := range l.layout.Columns {
		if !l.layout.Attached(ln, col) {
			continue
		}
		if vc := l.viewCol(col); vc < first {
			left++
		} else if vc >= last {
			right++
		}
	}
	return left, right
}

// crossing is where a rail meets a lane's rule: joining the lane (the
// container is on it) or passing over it (on lanes above and below).
type crossing struct {
	pos  int
	join bool
}

// renderHeader draws a lane's rule, its title, and a crossing mark where a
// bridging container's rail passes through.
func (l *Lanes) renderHeader(n model.Network, count int, crossings []crossing, dim bool, hidden [2]int) string {
	title := " " + n.Name + " "
	meta := l.laneMeta(n, title, count, hidden) + " "

	// The title sits at the left of every lane, where the eye looks for
	// it; a rail it covers shows again on the node lines either side.
	const lead = 3
	text := strings.TrimRight(fit(title+meta, max(0, l.width-lead-2)), " ") + " "
	titleWidth := min(ansi.StringWidth(title), ansi.StringWidth(text))
	gapStart := 0

	rule, railStyle, titleStyle, metaStyle := l.styles.LaneRule, l.styles.Rail, l.styles.LaneTitle, l.styles.Muted
	if dim {
		rule, railStyle, titleStyle, metaStyle = l.styles.Dimmed, l.styles.Dimmed, l.styles.Dimmed, l.styles.Dimmed
	}
	var b strings.Builder
	pos := 0
	// A rail joining the lane crosses its rule as ╂; one passing over a
	// lane it is not on breaks the rule around it (━ │ ━), like a wire
	// drawn over another without a junction, so it is never read as an
	// attachment.
	at := func(p int) (crossing, bool) {
		for _, c := range crossings {
			if c.pos == p || (!c.join && (c.pos == p-1 || c.pos == p+1)) {
				return c, true
			}
		}
		return crossing{}, false
	}
	ruleRun := func(to int) {
		for pos < to {
			if c, ok := at(pos); ok {
				switch {
				case c.pos != pos:
					b.WriteString(" ")
				case c.join:
					b.WriteString(railStyle.Render("╂"))
				default:
					b.WriteString(railStyle.Render("│"))
				}
				pos++
				continue
			}
			next := to
			for p := pos + 1; p < to; p++ {
				if _, ok := at(p); ok {
					next = p
					break
				}
			}
			b.WriteString(rule.Render(strings.Repeat("━", next-pos)))
			pos = next
		}
	}
	ruleRun(gapStart + lead)
	b.WriteString(titleStyle.Render(ansi.Truncate(text, titleWidth, "")))
	b.WriteString(metaStyle.Render(ansi.TruncateLeft(text, titleWidth, "")))
	pos += ansi.StringWidth(text)
	ruleRun(l.width)
	return b.String()
}

// laneMeta is what a lane's title says after its name: how many nodes it
// holds and how many are scrolled off either side, and its driver and
// subnet when the rule has room for them (the counts matter more).
func (l *Lanes) laneMeta(n model.Network, title string, count int, hidden [2]int) string {
	driver := n.Driver
	if n.Scope != "" {
		driver += "/" + n.Scope
	}
	if len(n.Subnets) > 0 {
		driver += " " + strings.Join(n.Subnets, ",")
	}
	if n.Internal {
		driver += " internal"
	}
	var meta string
	switch count {
	case 0:
		meta = "empty"
	case 1:
		meta = "1 container"
	default:
		meta = fmt.Sprintf("%d containers", count)
	}
	if hidden[0] > 0 {
		meta += fmt.Sprintf(" · ← %d more", hidden[0])
	}
	if hidden[1] > 0 {
		meta += fmt.Sprintf(" · %d more →", hidden[1])
	}
	if ansi.StringWidth(title+driver+" · "+meta+" ") <= l.width-5 {
		meta = driver + " · " + meta
	}
	return meta
}

// renderCell draws one column of a lane as two lines of columnWidth cells:
// the node (marker, state symbol, name; then rail, address, badges), or the
// rail of a container passing through, or blank.
func (l *Lanes) renderCell(ln, col int) (string, string) {
	columnWidth := l.colW
	blank := strings.Repeat(" ", columnWidth)
	id := l.layout.Columns[col]
	c := l.topo.Containers[id]
	_, hi := l.layout.Span(col)
	dim := l.overlay != nil && l.overlay.DimContainer(c)
	rail := l.styles.Rail
	if dim {
		rail = l.styles.Dimmed
	}
	if l.layout.Passes(ln, col) {
		line := " " + rail.Render("│") + strings.Repeat(" ", columnWidth-railOffset-1)
		return line, line
	}
	if !l.layout.Attached(ln, col) {
		return blank, blank
	}
	selected := ln == l.lane && col == l.col
	marker := " "
	if selected {
		marker = "▶"
	}
	// Docker's health and the overlay's mark sit by the name, so the
	// address line keeps its room for the address and the registry.
	health := l.healthBadge(c)
	if m := l.nodeMark(c); m != "" {
		health = strings.TrimSpace(health + " " + m)
	}
	nameWidth := columnWidth - 4
	if health != "" {
		nameWidth -= 1 + ansi.StringWidth(health)
	}
	name := strings.TrimRight(fit(c.DisplayName(), nameWidth), " ")
	stateStyle, nameStyle := l.styles.State(c.State), l.styles.Service(c)
	if dim {
		stateStyle, nameStyle = l.styles.Dimmed, l.styles.Dimmed
	}
	if selected {
		nameStyle = nameStyle.Inherit(l.styles.Selected)
	}
	top := marker + stateStyle.Render(StateSymbol(c.State)) + " " + nameStyle.Render(name)
	if health != "" {
		top += " " + health
	}
	top = padTo(top, columnWidth)

	down := " "
	if ln < hi {
		down = rail.Render("│")
	}
	addr := ""
	if ep, ok := c.Endpoints[l.layout.Lanes[ln].ID]; ok && ep.IP() != "" && c.Running() {
		addr = ep.IP()
	} else if !c.Running() {
		addr = string(c.State)
		if c.State == model.StateExited {
			addr = fmt.Sprintf("exited(%d)", c.ExitCode)
		}
	} else {
		addr = "no address"
	}
	badges := ""
	if l.badge != nil {
		badges = l.badge(c)
	}
	addrWidth := columnWidth - 3 - ansi.StringWidth(badges)
	if badges != "" {
		addrWidth--
	}
	addrStyle := l.styles.Base
	if !c.Running() || dim {
		addrStyle = l.styles.Muted
	}
	bottom := " " + down + " " + addrStyle.Render(fitAddr(addr, addrWidth))
	if badges != "" {
		bottom += " " + badges
	}
	return top, padTo(bottom, columnWidth)
}

// nodeMark is a node's name-line mark, if any.
func (l *Lanes) nodeMark(c model.Container) string {
	if l.mark == nil {
		return ""
	}
	return l.mark(c)
}
