package model

import (
	"slices"
	"sort"
	"strings"
)

// Layout places the topology on a grid: one row (lane) per network and one
// column per container, shared by every lane, so a container attached to
// several networks sits in the same column in each of them.
type Layout struct {
	Lanes []Network
	// Columns holds container IDs in column order.
	Columns []string
	// attached[lane][col] says whether that column's container is in that lane.
	attached [][]bool
	// span[col] is the first and last lane of a column's container.
	span   [][2]int
	colOf  map[string]int
	laneOf map[string]int
	// laneByName places endpoints keyed by network name: the engine gives
	// a created, never started container no network ID yet.
	laneByName map[string]int
}

// LayoutOptions choose what the grid shows.
type LayoutOptions struct {
	WithBuiltIn bool
	// Filter keeps only containers that Match it.
	Filter string
	// Project keeps only the containers of one compose project or stack
	// (see ProjectOf), and the lanes they are on: the presenter's focus.
	Project string
}

// Layout computes the grid. Lanes are ordered so that containers on
// several networks find their lanes side by side (see orderLanes); columns
// are ordered by the first and then the last lane a container is on, then
// by the set of lanes, so each lane's nodes stay together, a container that
// bridges two lanes stands between their groups, and containers on the
// same lanes sit together; within that, compose containers group by
// project, service and number.
func (t Topology) Layout(opts LayoutOptions) Layout {
	l := Layout{Lanes: t.OrderedNetworks(opts.WithBuiltIn)}
	if opts.Filter != "" {
		l.Lanes = filterLanes(t, l.Lanes, opts.Filter)
	}
	if opts.Project != "" {
		l.Lanes = projectLanes(t, l.Lanes, opts.Project)
	}
	l.indexLanes()
	cols := make([]placed, 0, len(t.Containers))
	buf := make([]int, 0, 2*len(t.Containers))
	running := t.RunningSwarmTasks()
	for _, c := range t.Containers {
		if !c.Matches(opts.Filter) || c.SupersededTask(running) || (opts.Project != "" && ProjectOf(c) != opts.Project) {
			continue
		}
		// One array holds every container's lanes: a slice each would
		// be most of the layout's allocations.
		start := len(buf)
		for netID, e := range c.Endpoints {
			if lane, ok := l.endpointLane(netID, e); ok && !slices.Contains(buf[start:], lane) {
				buf = append(buf, lane)
			}
		}
		if len(buf) == start {
			continue
		}
		cols = append(cols, placed{c, buf[start:len(buf):len(buf)]})
	}
	if perm := orderLanes(l.Lanes, cols); perm != nil {
		lanes := make([]Network, len(perm))
		at := make([]int, len(perm))
		for i, old := range perm {
			lanes[i] = l.Lanes[old]
			at[old] = i
		}
		l.Lanes = lanes
		l.indexLanes()
		for _, p := range cols {
			for k, old := range p.lanes {
				p.lanes[k] = at[old]
			}
		}
	}
	for _, p := range cols {
		slices.Sort(p.lanes)
	}
	sort.Slice(cols, func(i, j int) bool {
		a, b := cols[i], cols[j]
		if a.first() != b.first() {
			return a.first() < b.first()
		}
		if a.last() != b.last() {
			return a.last() < b.last()
		}
		if c := slices.Compare(a.lanes, b.lanes); c != 0 {
			return c < 0
		}
		return lessContainer(a.c, b.c)
	})
	l.attached = make([][]bool, len(l.Lanes))
	for i := range l.attached {
		l.attached[i] = make([]bool, len(cols))
	}
	l.Columns = make([]string, len(cols))
	l.span = make([][2]int, len(cols))
	l.colOf = make(map[string]int, len(cols))
	for col, p := range cols {
		l.Columns[col] = p.c.ID
		l.colOf[p.c.ID] = col
		l.span[col] = [2]int{p.first(), p.last()}
		for _, lane := range p.lanes {
			l.attached[lane][col] = true
		}
	}
	return l
}

// placed is a container and the lanes it is on.
type placed struct {
	c     Container
	lanes []int
}

// first and last are the top and bottom lanes of a placed container
// whose lanes are sorted.
func (p placed) first() int { return p.lanes[0] }
func (p placed) last() int  { return p.lanes[len(p.lanes)-1] }

// indexLanes maps network IDs and names to lanes.
func (l *Layout) indexLanes() {
	l.laneOf = make(map[string]int, len(l.Lanes))
	l.laneByName = make(map[string]int, len(l.Lanes))
	for i, n := range l.Lanes {
		l.laneOf[n.ID] = i
		if _, dup := l.laneByName[n.Name]; !dup {
			l.laneByName[n.Name] = i
		}
	}
}

// endpointLane finds the lane of an endpoint keyed by network ID, or by
// network name when the engine has not given it an ID yet.
func (l Layout) endpointLane(key string, e Endpoint) (int, bool) {
	if lane, ok := l.laneOf[key]; ok {
		return lane, true
	}
	if e.NetworkID != key || e.NetworkName != key {
		return 0, false
	}
	lane, ok := l.laneByName[key]
	return lane, ok
}

// filterLanes keeps, under a filter, the lanes that hold a matching
// container or whose own name matches: a filter is a question about
// containers, and lanes with no answer only push the answers off screen.
func filterLanes(t Topology, lanes []Network, filter string) []Network {
	hit := map[string]bool{}
	for _, c := range t.Containers {
		if c.Matches(filter) {
			for id := range c.Endpoints {
				hit[id] = true
			}
		}
	}
	q := strings.ToLower(strings.TrimSpace(filter))
	kept := lanes[:0:0]
	for _, n := range lanes {
		// By name too: a created container's endpoints are keyed by
		// network name (see endpointLane).
		if hit[n.ID] || hit[n.Name] || strings.Contains(strings.ToLower(n.Name), q) {
			kept = append(kept, n)
		}
	}
	return kept
}

// projectLanes keeps the lanes that hold a container of the project: the
// other lanes are other people's work, which a focus hides.
func projectLanes(t Topology, lanes []Network, project string) []Network {
	hit := map[string]bool{}
	for _, c := range t.Containers {
		if ProjectOf(c) == project {
			for id, e := range c.Endpoints {
				hit[id] = true
				hit[e.NetworkName] = true
			}
		}
	}
	kept := lanes[:0:0]
	for _, n := range lanes {
		if hit[n.ID] || hit[n.Name] {
			kept = append(kept, n)
		}
	}
	return kept
}

// ProjectOf is the compose project or swarm stack a container belongs
// to, "" for neither.
func ProjectOf(c Container) string {
	if p := c.Project(); p != "" {
		return p
	}
	return c.Labels[LabelStackNamespace]
}

// Projects lists the compose projects and stacks of the topology's
// containers, sorted: what a focus can cycle through.
func (t Topology) Projects() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range t.Containers {
		if p := ProjectOf(c); p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// ReplicaKey names the replica group of a container: its compose project
// and service, or its swarm service; "" when it belongs to neither.
func ReplicaKey(c Container) string {
	if svc := c.Service(); svc != "" {
		return c.Project() + "/" + svc
	}
	if svc := c.Labels[labelSwarmService]; svc != "" {
		return "swarm/" + svc
	}
	return ""
}

// Groups splits the columns into runs of replicas: neighbouring columns
// whose containers share a ReplicaKey and sit on exactly the same lanes,
// so one node can stand for all of them. Each run is its first and last
// column; a container of no group is a run of one.
func (l Layout) Groups(t Topology) [][2]int {
	var runs [][2]int
	prevKey := ""
	for col, id := range l.Columns {
		key := ReplicaKey(t.Containers[id])
		if n := len(runs); n > 0 && key != "" && key == prevKey && l.sameLanes(col-1, col) {
			runs[n-1][1] = col
		} else {
			runs = append(runs, [2]int{col, col})
		}
		prevKey = key
	}
	return runs
}

// sameLanes reports whether two columns' containers are on the same lanes.
func (l Layout) sameLanes(a, b int) bool {
	if l.span[a] != l.span[b] {
		return false
	}
	for ln := range l.attached {
		if l.attached[ln][a] != l.attached[ln][b] {
			return false
		}
	}
	return true
}

// lessContainer orders containers by compose project, service and number,
// then by name, so replicas of one service sit side by side in order.
func lessContainer(a, b Container) bool {
	if a.Project() != b.Project() {
		return a.Project() < b.Project()
	}
	if a.Service() != b.Service() {
		return a.Service() < b.Service()
	}
	if a.Number() != b.Number() {
		return a.Number() < b.Number()
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.ID < b.ID
}

// Attached reports whether the container in col has a node in lane.
func (l Layout) Attached(lane, col int) bool {
	return lane >= 0 && lane < len(l.attached) && col >= 0 && col < len(l.Columns) && l.attached[lane][col]
}

// Passes reports whether the column's container spans lane without being
// on it: a vertical connector passes through that lane.
func (l Layout) Passes(lane, col int) bool {
	if col < 0 || col >= len(l.span) {
		return false
	}
	s := l.span[col]
	return lane > s[0] && lane < s[1] && !l.Attached(lane, col)
}

// Span returns the first and last lane of the column's container.
func (l Layout) Span(col int) (first, last int) { return l.span[col][0], l.span[col][1] }

// LaneCount returns how many containers a lane holds.
func (l Layout) LaneCount(lane int) int {
	n := 0
	for _, on := range l.attached[lane] {
		if on {
			n++
		}
	}
	return n
}

// Position finds a container's node in a lane (by network ID); when the
// network is empty or not one of the container's lanes, its first lane.
func (l Layout) Position(containerID, networkID string) (lane, col int, ok bool) {
	col, ok = l.colOf[containerID]
	if !ok {
		return 0, 0, false
	}
	if lane, onLane := l.laneOf[networkID]; onLane && l.attached[lane][col] {
		return lane, col, true
	}
	return l.span[col][0], col, true
}

// Direction is a move of the selection.
type Direction int

// The four moves.
const (
	Left Direction = iota
	Right
	Up
	Down
)

// Move returns the node reached from (lane, col) in a direction: the next
// node in the same lane for Left/Right, and for Up/Down the node nearest to
// the same column in the closest lane that has any. It returns the start
// when there is nowhere to go.
func (l Layout) Move(lane, col int, d Direction) (int, int) {
	switch d {
	case Left, Right:
		step := 1
		if d == Left {
			step = -1
		}
		for c := col + step; c >= 0 && c < len(l.Columns); c += step {
			if l.Attached(lane, c) {
				return lane, c
			}
		}
	case Up, Down:
		step := 1
		if d == Up {
			step = -1
		}
		for ln := lane + step; ln >= 0 && ln < len(l.Lanes); ln += step {
			if c, ok := l.nearest(ln, col); ok {
				return ln, c
			}
		}
	}
	return lane, col
}

// nearest finds the node in lane closest to col, preferring the left one on
// a tie so that moving down then up returns to where it started.
func (l Layout) nearest(lane, col int) (int, bool) {
	for dist := 0; dist < len(l.Columns); dist++ {
		if l.Attached(lane, col-dist) {
			return col - dist, true
		}
		if l.Attached(lane, col+dist) {
			return col + dist, true
		}
	}
	return 0, false
}

// First returns the first node of the grid, if any.
func (l Layout) First() (lane, col int, ok bool) {
	for ln := range l.Lanes {
		if c, found := l.nearest(ln, 0); found {
			return ln, c, true
		}
	}
	return 0, 0, false
}
