package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/topo-dev/topo/model"
)

// View renders the visible part of the storage grid.
func (s *StorageView) View() string {
	if s.cache != "" {
		return s.cache
	}
	if len(s.layout.Lanes) == 0 {
		msg := "no volumes"
		switch {
		case s.topo.VolumesError != "":
			msg = s.topo.VolumesError
		case s.opts.Filter != "":
			msg = "no storage of containers matching “" + s.opts.Filter + "”: esc clears the filter"
		case !s.opts.Binds:
			msg = "no volumes: press v to show bind mounts"
		}
		s.cache = lipgloss.NewStyle().Width(s.width).Height(s.height).Render(s.styles.Muted.Render(msg))
		return s.cache
	}
	first := s.colOffset
	last := min(len(s.layout.Columns), first+s.visibleColumns())
	spans := make([][2]int, len(s.layout.Columns))
	for col := first; col < last; col++ {
		lo, hi := s.span(col)
		spans[col] = [2]int{lo, hi}
	}
	var lines []string
	for ln := range s.layout.Lanes {
		lines = append(lines, s.renderLane(ln, first, last, spans)...)
	}
	h := s.gridHeight()
	end := min(len(lines), s.lineOffset+h)
	visible := lines[min(s.lineOffset, end):end]
	for len(visible) < h {
		visible = append(visible, "")
	}
	if len(s.layout.Columns) > s.visibleColumns() {
		hint := fmt.Sprintf("columns %d–%d of %d  ←/→ scroll", first+1, last, len(s.layout.Columns))
		visible = append(visible, s.styles.Muted.Render(fit(hint, s.width)))
	}
	s.cache = strings.Join(visible, "\n")
	return s.cache
}

func (s *StorageView) renderLane(ln, first, last int, spans [][2]int) []string {
	var crossings []int
	for col := first; col < last; col++ {
		if lo, hi := spans[col][0], spans[col][1]; lo < ln && ln <= hi {
			crossings = append(crossings, (col-first)*columnWidth+railOffset)
		}
	}
	left, right := 0, 0
	for col := range s.layout.Columns {
		switch {
		case !s.attached(ln, col):
		case col < first:
			left++
		case col >= last:
			right++
		}
	}
	header := s.renderHeader(s.layout.Lanes[ln], crossings, [2]int{left, right})
	if len(s.layout.Lanes[ln].Members) == 0 {
		return []string{header}
	}
	var top, bottom strings.Builder
	for col := first; col < last; col++ {
		a, b := s.renderCell(ln, col, spans[col])
		top.WriteString(a)
		bottom.WriteString(b)
	}
	return []string{header, top.String(), bottom.String()}
}

// laneLabel is how a lane names its storage: a volume by name (an
// anonymous one as such, by its short name), a bind mount by host path.
func laneLabel(l model.StorageLane) string {
	switch {
	case l.Kind == model.StorageBind:
		return "bind " + l.Name
	case l.Anonymous():
		return "anonymous " + shortID(l.Name)
	}
	return l.Name
}

// renderHeader draws a lane's rule and title: the storage's name, then its
// driver, how many containers mount it (or "unused") and its size when
// read. The rule is a double line for volumes and a dotted one for bind
// mounts, both unlike the network lanes' heavy line.
func (s *StorageView) renderHeader(l model.StorageLane, crossings []int, hidden [2]int) string {
	var meta []string
	if l.Volume != nil {
		meta = append(meta, l.Volume.Driver)
	}
	unused := ""
	switch n := len(l.Members); {
	case n == 0:
		unused = " unused"
	case n == 1:
		meta = append(meta, "1 container")
	default:
		meta = append(meta, fmt.Sprintf("%d containers", n))
	}
	if l.Volume != nil && l.Volume.Usage != nil && l.Volume.Usage.Size >= 0 {
		meta = append(meta, humanBytes(l.Volume.Usage.Size))
	}
	// Members scrolled off either side, as the network lanes count them.
	if hidden[0] > 0 {
		meta = append(meta, fmt.Sprintf("◂%d", hidden[0]))
	}
	if hidden[1] > 0 {
		meta = append(meta, fmt.Sprintf("%d▸", hidden[1]))
	}
	rule := "═"
	if l.Kind == model.StorageBind {
		rule = "┄"
	}
	title := " " + laneLabel(l) + " "
	text := title + strings.Join(meta, " · ")
	if l.Volume == nil && len(meta) > 0 {
		// No driver to stand after the name: the count is set apart.
		text = title + "· " + strings.Join(meta, " · ")
	}
	if unused != "" {
		if len(meta) > 0 {
			text += " ·"
		}
		text += unused
	}
	const lead = 3
	text = strings.TrimRight(fit(text+" ", max(0, s.width-lead-2)), " ") + " "
	titleW := min(ansi.StringWidth(title), ansi.StringWidth(text))
	metaText := ansi.TruncateLeft(text, titleW, "")
	var b strings.Builder
	pos := 0
	ruleRun := func(to int) {
		for ; pos < to; pos++ {
			if slicesContains(crossings, pos) {
				b.WriteString(s.styles.StorageRule.Render("╫"))
			} else {
				b.WriteString(s.styles.StorageRule.Render(rule))
			}
		}
	}
	ruleRun(lead)
	b.WriteString(s.styles.StorageTitle.Render(ansi.Truncate(text, titleW, "")))
	if unused != "" && strings.HasSuffix(metaText, unused+" ") {
		b.WriteString(s.styles.Muted.Render(strings.TrimSuffix(metaText, unused+" ")))
		b.WriteString(s.styles.Warning.Render(unused) + " ")
	} else {
		b.WriteString(s.styles.Muted.Render(metaText))
	}
	pos += ansi.StringWidth(text)
	ruleRun(s.width)
	return b.String()
}

// renderCell draws one column of a lane: the container (marker, state,
// name; then rail, mode and mount path), a rail passing by, or blank.
func (s *StorageView) renderCell(ln, col int, span [2]int) (string, string) {
	blank := strings.Repeat(" ", columnWidth)
	member, ok := s.layout.Cell(ln, col)
	rail := s.styles.StorageRule
	if !ok {
		if span[0] < ln && ln < span[1] {
			line := " " + rail.Render("│") + strings.Repeat(" ", columnWidth-railOffset-1)
			return line, line
		}
		return blank, blank
	}
	c, known := s.topo.Containers[member.ContainerID]
	if !known {
		c = model.Container{ID: member.ContainerID, Name: member.Name}
	}
	marker := " "
	nameStyle := s.styles.Service(c)
	if ln == s.lane && col == s.col {
		marker = "▶"
		nameStyle = nameStyle.Inherit(s.styles.Selected)
	}
	name := strings.TrimRight(fit(c.DisplayName(), columnWidth-4), " ")
	top := marker + s.styles.State(c.State).Render(StateSymbol(c.State)) + " " + nameStyle.Render(name)
	down := " "
	if ln < span[1] {
		down = rail.Render("│")
	}
	modeStyle := s.styles.Base
	if !member.ReadWrite {
		modeStyle = s.styles.Accent
	}
	path := fit(member.Destination, columnWidth-6)
	bottom := " " + down + " " + modeStyle.Render(member.Mode()) + " " + s.styles.Muted.Render(path)
	return padTo(top, columnWidth), padTo(bottom, columnWidth)
}

// humanBytes writes a size as docker does: 1000-based units, three
// significant digits.
func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, suffix := float64(n), ""
	for _, s := range []string{"kB", "MB", "GB", "TB", "PB"} {
		f /= unit
		suffix = s
		if f < unit {
			break
		}
	}
	if f < 10 {
		return fmt.Sprintf("%.2f %s", f, suffix)
	}
	if f < 100 {
		return fmt.Sprintf("%.1f %s", f, suffix)
	}
	return fmt.Sprintf("%.0f %s", f, suffix)
}
