package ui

import (
	"time"

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
