package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/topo-dev/topo/model"
)

// StorageView draws storage as lanes of its own kind: one lane per volume
// (and, when asked, per host path bind-mounted), each container that
// mounts it in its column with the mode and the path it mounts it at. It
// is drawn unlike the network lanes on purpose (a double rule in the
// storage hue, the driver where a network lane has its subnet), so the two
// views are never taken for each other.
type StorageView struct {
	styles        Styles
	width, height int
	topo          model.Topology
	layout        model.StorageLayout
	opts          model.StorageOptions
	// usage is the last disk usage read on request, and usageAt when;
	// sizing says a read is under way, usageErr why the last one failed.
	usage    map[string]model.VolumeUsage
	usageAt  time.Time
	sizing   bool
	usageErr error
	// The selection is a container in a lane, kept by ID and lane name so
	// it survives a re-layout.
	selID, selLane string
	lane, col      int
	colOffset      int
	lineOffset     int
	cache          string
}

// NewStorageView returns an empty storage view.
func NewStorageView(styles Styles) *StorageView {
	return &StorageView{styles: styles, topo: model.NewTopology()}
}

// SetSize gives the view its size.
func (s *StorageView) SetSize(w, h int) {
	if w != s.width || h != s.height {
		s.width, s.height = w, h
		s.cache = ""
		s.scrollToSelection()
	}
}

// SetTopology replaces what the view shows, keeping the selection.
func (s *StorageView) SetTopology(t model.Topology) {
	s.topo = t
	s.relayout()
}

// SetFilter keeps only the containers matching the query, as on the lanes.
func (s *StorageView) SetFilter(q string) {
	s.opts.Filter = q
	s.relayout()
}

// SetBinds shows or hides the lanes of bind-mounted host paths.
func (s *StorageView) SetBinds(on bool) {
	s.opts.Binds = on
	s.relayout()
}

// Binds says whether bind mounts have lanes.
func (s *StorageView) Binds() bool { return s.opts.Binds }

// Sizing marks a disk usage read as under way.
func (s *StorageView) Sizing() {
	s.sizing, s.usageErr = true, nil
	s.cache = ""
}

// SetUsage delivers the sizes read at at, or why they could not be.
func (s *StorageView) SetUsage(usage map[string]model.VolumeUsage, at time.Time, err error) {
	s.sizing, s.usageErr = false, err
	if err == nil {
		s.usage, s.usageAt = usage, at
	}
	s.relayout()
}

// SizeState says what the title should say of the sizes.
func (s *StorageView) SizeState() string {
	switch {
	case s.sizing:
		return "reading sizes…"
	case s.usageErr != nil:
		return "sizes: " + s.usageErr.Error()
	case s.usage != nil:
		return "sizes of " + s.usageAt.Local().Format("15:04:05")
	}
	return ""
}

func (s *StorageView) relayout() {
	topo := s.topo
	if s.usage != nil {
		topo = topo.WithVolumeUsage(s.usage)
	}
	s.layout = topo.StorageLayout(s.opts)
	s.cache = ""
	if lane, col, ok := s.position(s.selID, s.selLane); ok {
		s.lane, s.col = lane, col
	} else if lane, col, ok := s.first(); ok {
		s.lane, s.col = lane, col
		s.remember()
	} else {
		s.selID, s.selLane = "", ""
	}
	s.scrollToSelection()
}

func (s *StorageView) remember() {
	if s.attached(s.lane, s.col) {
		s.selID = s.layout.Columns[s.col]
		s.selLane = s.layout.Lanes[s.lane].Name
	}
}

func (s *StorageView) attached(lane, col int) bool {
	_, ok := s.layout.Cell(lane, col)
	return ok
}

// position finds a container in the named lane, else in its first lane.
func (s *StorageView) position(id, lane string) (int, int, bool) {
	col := s.layout.Column(id)
	if col < 0 {
		return 0, 0, false
	}
	first := -1
	for ln, l := range s.layout.Lanes {
		if !s.attached(ln, col) {
			continue
		}
		if l.Name == lane {
			return ln, col, true
		}
		if first < 0 {
			first = ln
		}
	}
	return first, col, first >= 0
}

func (s *StorageView) first() (int, int, bool) {
	for ln := range s.layout.Lanes {
		if c, ok := s.nearest(ln, 0); ok {
			return ln, c, true
		}
	}
	return 0, 0, false
}

// nearest finds the member of lane closest to col, the left one on a tie
// (as the network lanes do, so down then up returns where it started).
func (s *StorageView) nearest(lane, col int) (int, bool) {
	for d := 0; d < len(s.layout.Columns); d++ {
		if s.attached(lane, col-d) {
			return col - d, true
		}
		if s.attached(lane, col+d) {
			return col + d, true
		}
	}
	return 0, false
}

// Move moves the selection: along a lane to the next member, or to the
// nearest member of the next lane that has one.
func (s *StorageView) Move(d model.Direction) {
	if len(s.layout.Columns) == 0 {
		return
	}
	switch d {
	case model.Left, model.Right:
		step := 1
		if d == model.Left {
			step = -1
		}
		for c := s.col + step; c >= 0 && c < len(s.layout.Columns); c += step {
			if s.attached(s.lane, c) {
				s.col = c
				break
			}
		}
	case model.Up, model.Down:
		step := 1
		if d == model.Up {
			step = -1
		}
		for ln := s.lane + step; ln >= 0 && ln < len(s.layout.Lanes); ln += step {
			if c, ok := s.nearest(ln, s.col); ok {
				s.lane, s.col = ln, c
				break
			}
		}
	}
	s.remember()
	s.cache = ""
	s.scrollToSelection()
}

// Selected returns the selected container.
func (s *StorageView) Selected() (model.Container, bool) {
	c, ok := s.topo.Containers[s.selID]
	return c, ok && s.attached(s.lane, s.col)
}

// Select selects a container in its first lane, if it mounts anything
// shown.
func (s *StorageView) Select(id string) bool {
	lane, col, ok := s.position(id, "")
	if !ok {
		return false
	}
	s.lane, s.col = lane, col
	s.remember()
	s.cache = ""
	s.scrollToSelection()
	return true
}

// HitTest selects the container drawn at (x, y), relative to the view,
// and reports whether there was one.
func (s *StorageView) HitTest(x, y int) bool {
	line := y + s.lineOffset
	for ln := range s.layout.Lanes {
		h := s.laneHeight(ln)
		if line >= h {
			line -= h
			continue
		}
		col := s.colOffset + x/columnWidth
		if line == 0 || x/columnWidth >= s.visibleColumns() || !s.attached(ln, col) {
			return false
		}
		s.lane, s.col = ln, col
		s.remember()
		s.cache = ""
		return true
	}
	return false
}

// Counts are the volume lanes and how many of them no container uses.
func (s *StorageView) Counts() (volumes, unused int) {
	for _, l := range s.layout.Lanes {
		if l.Kind == model.StorageVolume {
			volumes++
			if l.Unused() {
				unused++
			}
		}
	}
	return volumes, unused
}

func (s *StorageView) visibleColumns() int { return max(1, s.width/columnWidth) }

func (s *StorageView) laneHeight(ln int) int {
	if len(s.layout.Lanes[ln].Members) == 0 {
		return 1
	}
	return 1 + nodeLines
}

func (s *StorageView) gridHeight() int {
	if len(s.layout.Columns) > s.visibleColumns() {
		return max(1, s.height-1)
	}
	return s.height
}

func (s *StorageView) scrollToSelection() {
	vis := s.visibleColumns()
	if s.col < s.colOffset {
		s.colOffset = s.col
	} else if s.col >= s.colOffset+vis {
		s.colOffset = s.col - vis + 1
	}
	s.colOffset = max(0, min(s.colOffset, len(s.layout.Columns)-vis))
	start, total := 0, 0
	for ln := range s.layout.Lanes {
		if ln < s.lane {
			start += s.laneHeight(ln)
		}
		total += s.laneHeight(ln)
	}
	end := start
	if s.lane < len(s.layout.Lanes) {
		end += s.laneHeight(s.lane)
	}
	h := s.gridHeight()
	if start < s.lineOffset {
		s.lineOffset = start
	} else if end > s.lineOffset+h {
		s.lineOffset = end - h
	}
	s.lineOffset = max(0, min(s.lineOffset, total-h))
}

// span is the first and last lane a column's container mounts.
func (s *StorageView) span(col int) (int, int) {
	lo, hi := -1, -1
	for ln := range s.layout.Lanes {
		if s.attached(ln, col) {
			if lo < 0 {
				lo = ln
			}
			hi = ln
		}
	}
	return lo, hi
}

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
