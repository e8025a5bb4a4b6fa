package ui

import (
	"sort"

	"github.com/topo-dev/topo/model"
)

// Geometry of the lanes grid, in terminal cells.
const (
	// columnWidth is the width a column gets when there is room: an IPv4
	// address of up to 14 characters with its rail and a registry badge.
	columnWidth = 20
	// minColumnWidth still fits 172.18.0.10 with its rail and a badge, so
	// five columns share 80 cells; maxColumnWidth is where wider columns
	// only spread the nodes apart (names up to 24 characters fit).
	minColumnWidth = 16
	maxColumnWidth = 28
	// Below narrowLanes cells the columns may shrink to
	// narrowColumnWidth, so 60 cells show five columns instead of
	// three: names are cut shorter and an address keeps its last
	// octets (the details give it whole).
	narrowLanes       = 80
	narrowColumnWidth = 12
	// railOffset is where a node's state symbol sits and where the
	// vertical connector of a multi-network container runs.
	railOffset = 1
	nodeLines  = 2
)

// Overlay lets another feature (the isolation view, the registry) mark
// nodes and lanes without the lanes knowing what it is.
type Overlay interface {
	// Dim reports whether a node or a lane should be drawn muted.
	DimContainer(c model.Container) bool
	DimNetwork(n model.Network) bool
}

// Badger adds a short mark after a node's address (e.g. registry health).
type Badger func(c model.Container) string

// Lanes draws networks as lanes and containers as nodes, and owns the
// selection and scrolling of that grid.
type Lanes struct {
	styles        Styles
	width, height int
	topo          model.Topology
	layout        model.Layout
	opts          model.LayoutOptions
	// The selection is kept as (container, network) so it survives a
	// re-layout; lane and col are derived from it.
	selID, selNet string
	lane, col     int
	colOffset     int
	lineOffset    int
	// cols are the columns drawn: runs of layout columns, one for a
	// container, several for a collapsed replica group (see lanes_group.go);
	// colOf maps a layout column to its drawn column; colW is their width.
	cols  []viewCol
	colOf []int
	colW  int
	// opened holds the groups the presenter opened (true) or closed
	// (false) with z; the others collapse by themselves when the columns
	// do not fit. expand keeps every group open (the snapshot's bands).
	opened map[string]bool
	expand bool
	// every is the layout without the focus, while focused (see
	// unfocused); nil until asked for.
	every *model.Layout
	// shown are the containers laid out, for Shows; nil until asked for.
	shown   map[string]bool
	overlay Overlay
	badge   Badger
	// mark is a node's mark on its name line (the isolation overlay's
	// ↔/✕), so it never takes the room of the address.
	mark Badger
	// cache holds the last rendering; topology, selection and size
	// changes clear it, so the 1 s status tick costs no grid rendering.
	cache string
}

// NewLanes returns an empty lanes pane.
func NewLanes(styles Styles) *Lanes {
	return &Lanes{styles: styles, topo: model.NewTopology(), opened: map[string]bool{}, colW: columnWidth}
}

// SetSize gives the pane its size.
func (l *Lanes) SetSize(w, h int) {
	if w != l.width || h != l.height {
		l.width, l.height = w, h
		l.cache = ""
		l.regroup()
		l.scrollToSelection()
	}
}

// SetTopology replaces what the lanes show and keeps the selection on the
// same container when it is still there.
func (l *Lanes) SetTopology(t model.Topology) {
	l.topo = t
	l.relayout()
}

// SetFilter keeps only containers matching the query.
func (l *Lanes) SetFilter(q string) {
	l.opts.Filter = q
	l.relayout()
}

// ToggleBuiltIn shows or hides the engine's own networks.
func (l *Lanes) ToggleBuiltIn() {
	l.opts.WithBuiltIn = !l.opts.WithBuiltIn
	l.relayout()
}

// ShowsBuiltIn reports whether bridge, host and none are shown.
func (l *Lanes) ShowsBuiltIn() bool { return l.opts.WithBuiltIn }

// SetOverlay sets (or with nil clears) the overlay.
func (l *Lanes) SetOverlay(o Overlay) {
	l.overlay = o
	l.cache = ""
}

// SetBadger sets the function that adds badges to nodes.
func (l *Lanes) SetBadger(b Badger) {
	l.badge = b
	l.cache = ""
}

// SetMarker sets the function that marks a node on its name line.
func (l *Lanes) SetMarker(b Badger) {
	l.mark = b
	l.cache = ""
}

// Invalidate forces the next View to render again, for changes the lanes
// cannot see (an overlay's or badger's data).
func (l *Lanes) Invalidate() { l.cache = "" }

func (l *Lanes) relayout() {
	l.layout = l.topo.Layout(l.opts)
	l.every, l.shown = nil, nil
	l.cache = ""
	l.regroup()
	if lane, col, ok := l.layout.Position(l.selID, l.selNet); ok {
		l.lane, l.col = lane, col
	} else if lane, col, ok := l.layout.First(); ok {
		// The selected container is gone: stay near where it was, also
		// when it was the last column.
		if near := min(l.col, len(l.layout.Columns)-1); l.lane < len(l.layout.Lanes) {
			if l.layout.Attached(l.lane, near) && near < l.col {
				lane, col = l.lane, near
			} else if ln, c := l.layout.Move(l.lane, near, model.Left); l.layout.Attached(ln, c) {
				lane, col = ln, c
			} else if ln, c := l.layout.Move(l.lane, near, model.Right); l.layout.Attached(ln, c) {
				lane, col = ln, c
			}
		}
		l.lane, l.col = lane, col
		l.remember()
	} else {
		l.selID, l.selNet = "", ""
	}
	l.scrollToSelection()
}

func (l *Lanes) remember() {
	if l.col < len(l.layout.Columns) && l.lane < len(l.layout.Lanes) {
		l.selID = l.layout.Columns[l.col]
		l.selNet = l.layout.Lanes[l.lane].ID
	}
}

// Move moves the selection.
func (l *Lanes) Move(d model.Direction) {
	if len(l.layout.Columns) == 0 {
		return
	}
	l.lane, l.col = l.layout.Move(l.lane, l.col, d)
	l.remember()
	l.cache = ""
	l.scrollToSelection()
}

// Selected returns the selected container.
func (l *Lanes) Selected() (model.Container, bool) {
	c, ok := l.topo.Containers[l.selID]
	return c, ok && l.layout.Attached(l.lane, l.col)
}

// Select selects a container (in its first lane) if it is on screen.
func (l *Lanes) Select(id string) bool {
	lane, col, ok := l.layout.Position(id, "")
	if !ok {
		return false
	}
	l.lane, l.col = lane, col
	l.remember()
	l.cache = ""
	l.scrollToSelection()
	return true
}

// visibleColumns is how many node columns fit the width.
func (l *Lanes) visibleColumns() int {
	return max(1, l.width/max(1, l.colW))
}

// laneHeight is a lane's lines: a header and, unless empty, its nodes; a
// lane whose nodes are all scrolled off to the side takes none, so the
// lanes on screen are the ones with something to see.
func (l *Lanes) laneHeight(lane int) int {
	if l.layout.LaneCount(lane) == 0 {
		return 1
	}
	if !l.laneOnScreen(lane) {
		return 0
	}
	return 1 + nodeLines
}

// laneOnScreen reports whether a lane has a node in the drawn columns.
func (l *Lanes) laneOnScreen(lane int) bool {
	last := min(len(l.cols), l.colOffset+l.visibleColumns())
	for vc := l.colOffset; vc < last; vc++ {
		if l.layout.Attached(lane, l.cols[vc].first) {
			return true
		}
	}
	return false
}

// offScreenLanes counts the lanes left out because their nodes are all
// scrolled off to the side.
func (l *Lanes) offScreenLanes() int {
	n := 0
	for ln := range l.layout.Lanes {
		if l.laneHeight(ln) == 0 {
			n++
		}
	}
	return n
}

// overflows reports whether the columns do not all fit the width.
func (l *Lanes) overflows() bool { return len(l.cols) > l.visibleColumns() }

// gridHeight is the lines available to lanes, leaving one for the
// horizontal scroll hint when the columns overflow.
func (l *Lanes) gridHeight() int {
	if l.overflows() {
		return max(1, l.height-1)
	}
	return l.height
}

// totalLines is the height of every lane on screen, scrolled or not.
func (l *Lanes) totalLines() int {
	total := 0
	for ln := range l.layout.Lanes {
		total += l.laneHeight(ln)
	}
	return total
}

// Need is the height the lanes would take to show every lane on screen
// without scrolling, their hint line included: what the layout gives
// them before the panels.
func (l *Lanes) Need() int {
	if len(l.layout.Lanes) == 0 {
		return 1
	}
	n := l.totalLines()
	if l.overflows() {
		n++
	}
	return n
}

// linesAbove and linesBelow count the lanes scrolled off the top and
// bottom, for the title.
func (l *Lanes) lanesAboveBelow() (above, below int) {
	line, h := 0, l.gridHeight()
	for ln := range l.layout.Lanes {
		lh := l.laneHeight(ln)
		if lh == 0 {
			continue
		}
		if line+lh <= l.lineOffset {
			above++
		} else if line >= l.lineOffset+h {
			below++
		}
		line += lh
	}
	return above, below
}

func (l *Lanes) scrollToSelection() {
	vis := l.visibleColumns()
	col := l.viewCol(l.col)
	if col < l.colOffset {
		l.colOffset = col
	} else if col >= l.colOffset+vis {
		l.colOffset = col - vis + 1
	}
	l.colOffset = max(0, min(l.colOffset, len(l.cols)-vis))
	start := 0
	for ln := 0; ln < l.lane && ln < len(l.layout.Lanes); ln++ {
		start += l.laneHeight(ln)
	}
	end := start
	if l.lane < len(l.layout.Lanes) {
		end += l.laneHeight(l.lane)
	}
	h := l.gridHeight()
	if start < l.lineOffset {
		l.lineOffset = start
	} else if end > l.lineOffset+h {
		l.lineOffset = end - h
	}
	l.lineOffset = max(0, min(l.lineOffset, l.totalLines()-h))
}

// HitTest selects the node drawn at (x, y), relative to the pane, and
// reports whether there was one.
func (l *Lanes) HitTest(x, y int) bool {
	line := y + l.lineOffset
	for ln := range l.layout.Lanes {
		h := l.laneHeight(ln)
		if line < h {
			if line == 0 {
				return false // a lane header, not a node
			}
			vc := l.colOffset + x/l.colW
			if x/l.colW >= l.visibleColumns() || vc >= len(l.cols) || !l.layout.Attached(ln, l.cols[vc].first) {
				return false
			}
			col := l.cols[vc].first
			if l.viewCol(l.col) == vc {
				col = l.col // a click on a group keeps the replica selected in it
			}
			l.lane, l.col = ln, col
			l.remember()
			l.cache = ""
			return true
		}
		line -= h
	}
	return false
}

// Projects lists the compose projects on screen, to name them once.
func (l *Lanes) Projects() []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range l.layout.Columns {
		if p := l.topo.Containers[id].Project(); p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func slicesContains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
