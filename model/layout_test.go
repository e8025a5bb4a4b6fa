package model_test

import (
	"reflect"
	"testing"

	"github.com/topo-dev/topo/model"
)

// gridTopo is the grid most layout tests walk (built-ins hidden):
//
//	col:   0   1   2   3   4   5   6
//	       x1  z   x4  x2  x3  x5  x6
//	a(0):  *   *   *   *
//	b(1):          *   |   *
//	c(2):              *   *   *
//	d(3):                      *   *
//
// z is also on bridge, y only on bridge. a, b and c each share a container
// with the other two, so whatever their order one rail passes over a lane:
// x2's over b.
func gridTopo() model.Topology {
	return fixTopo(fixNets("d", "c", "b", "a", "bridge", "host", "none"),
		fixCtr("x1", "x1", "a"),
		fixCtr("x2", "x2", "a", "c"),
		fixCtr("x3", "x3", "b", "c"),
		fixCtr("x4", "x4", "a", "b"),
		fixCtr("x5", "x5", "c", "d"),
		fixCtr("x6", "x6", "d"),
		fixCtr("y", "y", "bridge"),
		fixCtr("z", "z", "a", "bridge"),
	)
}

func TestLayoutColumns(t *testing.T) {
	tests := []struct {
		name  string
		opts  model.LayoutOptions
		lanes []string
		cols  []string
	}{
		{"by first lane, then last lane, then name", model.LayoutOptions{},
			[]string{"a", "b", "c", "d"}, []string{"x1", "z", "x4", "x2", "x3", "x5", "x6"}},
		{"with built-ins a container reaching bridge stands after a's groups", model.LayoutOptions{WithBuiltIn: true},
			[]string{"a", "b", "c", "d", "bridge", "host", "none"}, []string{"x1", "x4", "x2", "z", "x3", "x5", "x6", "y"}},
		{"filter by name keeps the lanes of the matches", model.LayoutOptions{Filter: "X2"},
			[]string{"a", "c"}, []string{"x2"}},
		{"filter matching nothing keeps no lane", model.LayoutOptions{Filter: "nothing"},
			[]string{}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := gridTopo().Layout(tt.opts)
			if got := laneNames(l.Lanes); !reflect.DeepEqual(got, tt.lanes) {
				t.Errorf("lanes = %v, want %v", got, tt.lanes)
			}
			if !reflect.DeepEqual(l.Columns, tt.cols) {
				t.Errorf("columns = %v, want %v", l.Columns, tt.cols)
			}
		})
	}
}

func TestLayoutFilterByImageAndLabel(t *testing.T) {
	topo := gridTopo()
	x3 := topo.Containers["x3"]
	x3.Image = "redis:7"
	topo.Containers["x3"] = x3
	x5 := topo.Containers["x5"]
	x5.Labels = map[string]string{"tier": "db"}
	topo.Containers["x5"] = x5
	for filter, want := range map[string][]string{
		"redis":   {"x3"},
		"tier=db": {"x5"},
		// Without x3 nothing ties b to c: the lanes read b, a, c, d,
		// every rail joins neighbours, and x4 (b, a) comes first.
		"img/x": {"x4", "x1", "x2", "x5", "x6"},
	} {
		if got := topo.Layout(model.LayoutOptions{Filter: filter}).Columns; !reflect.DeepEqual(got, want) {
			t.Errorf("filter %q: columns %v, want %v", filter, got, want)
		}
	}
}

// A container on several networks sits in one column, on each of its
// lanes, with a connector through the lanes between.
func TestLayoutSameColumnInEveryLane(t *testing.T) {
	l := gridTopo().Layout(model.LayoutOptions{})
	type cell struct{ attached, passes bool }
	// Rows are lanes a..d, columns as in gridTopo.
	want := [][]cell{
		{{true, false}, {true, false}, {true, false}, {true, false}, {}, {}, {}},
		{{}, {}, {true, false}, {false, true}, {true, false}, {}, {}},
		{{}, {}, {}, {true, false}, {true, false}, {true, false}, {}},
		{{}, {}, {}, {}, {}, {true, false}, {true, false}},
	}
	for lane := range want {
		for col := range want[lane] {
			got := cell{l.Attached(lane, col), l.Passes(lane, col)}
			if got != want[lane][col] {
				t.Errorf("lane %s col %s: attached=%v passes=%v, want %+v", l.Lanes[lane].Name, l.Columns[col], got.attached, got.passes, want[lane][col])
			}
		}
	}
	spans := map[string][2]int{"x1": {0, 0}, "z": {0, 0}, "x4": {0, 1}, "x2": {0, 2}, "x3": {1, 2}, "x5": {2, 3}, "x6": {3, 3}}
	for col, id := range l.Columns {
		first, last := l.Span(col)
		if [2]int{first, last} != spans[id] {
			t.Errorf("Span(%s) = %d..%d, want %v", id, first, last, spans[id])
		}
	}
	for lane, want := range []int{4, 2, 3, 2} {
		if got := l.LaneCount(lane); got != want {
			t.Errorf("LaneCount(%s) = %d, want %d", l.Lanes[lane].Name, got, want)
		}
	}
	// With bridge shown, z's connector runs through b, c and d.
	lb := gridTopo().Layout(model.LayoutOptions{WithBuiltIn: true})
	_, zcol, _ := lb.Position("z", "")
	for lane := range lb.Lanes {
		passes := lane >= 1 && lane <= 3
		if lb.Passes(lane, zcol) != passes {
			t.Errorf("z passes lane %s = %v, want %v", lb.Lanes[lane].Name, lb.Passes(lane, zcol), passes)
		}
	}
}

func TestLayoutOutOfRange(t *testing.T) {
	l := gridTopo().Layout(model.LayoutOptions{})
	for _, p := range [][2]int{{-1, 0}, {0, -1}, {4, 0}, {0, 7}, {99, 99}} {
		if l.Attached(p[0], p[1]) || l.Passes(p[0], p[1]) {
			t.Errorf("Attached/Passes(%d, %d) true outside the grid", p[0], p[1])
		}
	}
}

func TestLayoutComposeOrder(t *testing.T) {
	topo := fixTopo(fixNets("a"),
		fixCtr("c1", "zzz", "a"),
		fixCtr("c2", "aaa", "a"),
		fixCompose("c3", "shop", "web", 2, "a"),
		fixCompose("c4", "shop", "web", 10, "a"),
		fixCompose("c5", "shop", "web", 1, "a"),
		fixCompose("c6", "shop", "api", 1, "a"),
		fixCompose("c7", "other", "zz", 1, "a"),
		fixCtr("c8", "aaa", "a"), // same name: the ID decides
	)
	want := []string{"c2", "c8", "c1", "c7", "c6", "c5", "c3", "c4"}
	for range 5 { // map order must not leak into the layout
		if got := topo.Layout(model.LayoutOptions{}).Columns; !reflect.DeepEqual(got, want) {
			t.Fatalf("columns = %v, want %v", got, want)
		}
	}
}

func TestLayoutSkipsUnknownNetworks(t *testing.T) {
	topo := fixTopo(fixNets("a"),
		fixCtr("on-a-and-gone", "p", "a", "gone"),
		fixCtr("only-gone", "q", "gone"),
		model.Container{ID: "no-endpoints", Name: "r"},
	)
	l := topo.Layout(model.LayoutOptions{})
	if !reflect.DeepEqual(l.Columns, []string{"on-a-and-gone"}) {
		t.Errorf("columns = %v", l.Columns)
	}
	if first, last := l.Span(0); first != 0 || last != 0 {
		t.Errorf("span = %d..%d, want 0..0", first, last)
	}
}

// Regression: the engine gives a created, never started container no
// network ID (API 1.41), so the adapter keys its endpoint by network name;
// the layout dropped it from every lane.
func TestLayoutPlacesCreatedContainerByNetworkName(t *testing.T) {
	created := model.Container{ID: "c1", Name: "new", State: model.StateCreated, Endpoints: map[string]model.Endpoint{
		"a": {NetworkID: "a", NetworkName: "a"},
		"b": {NetworkID: "b", NetworkName: "b"},
	}}
	topo := fixTopo(fixNets("a", "b", "c"), created, fixCtr("c2", "old", "c"))
	l := topo.Layout(model.LayoutOptions{})
	if !reflect.DeepEqual(l.Columns, []string{"c1", "c2"}) {
		t.Fatalf("columns = %v, want [c1 c2]", l.Columns)
	}
	if !l.Attached(0, 0) || !l.Attached(1, 0) || l.Attached(2, 0) {
		t.Errorf("created container not in lanes a and b")
	}
	if lane, col, ok := l.Position("c1", netID("b")); !ok || lane != 1 || col != 0 {
		t.Errorf("Position(c1, b) = %d, %d, %v; want 1, 0, true", lane, col, ok)
	}
}

func TestLayoutPosition(t *testing.T) {
	topo := gridTopo()
	l := topo.Layout(model.LayoutOptions{})
	tests := []struct {
		name, id, network string
		lane, col         int
		ok                bool
	}{
		{"in the lane asked", "x2", netID("c"), 2, 3, true},
		{"a lane it is not on gives its first", "x2", netID("b"), 0, 3, true},
		{"no lane gives its first", "x5", "", 2, 5, true},
		{"a hidden lane gives its first", "z", netID("bridge"), 0, 1, true},
		{"filtered out or gone", "y", netID("bridge"), 0, 0, false},
		{"unknown", "nope", "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lane, col, ok := l.Position(tt.id, tt.network)
			if lane != tt.lane || col != tt.col || ok != tt.ok {
				t.Errorf("Position = %d, %d, %v; want %d, %d, %v", lane, col, ok, tt.lane, tt.col, tt.ok)
			}
		})
	}

	// After a re-layout the selection follows its container to its new
	// column: a new container sorting first shifts x2 right.
	topo.Containers["x0"] = fixCtr("x0", "x0", "a")
	l = topo.Layout(model.LayoutOptions{})
	if lane, col, ok := l.Position("x2", netID("c")); !ok || lane != 2 || col != 4 {
		t.Errorf("after re-layout Position(x2, c) = %d, %d, %v; want 2, 4, true", lane, col, ok)
	}
	// ...and when it leaves a lane, to its first remaining one.
	x2 := topo.Containers["x2"]
	x2.Endpoints = map[string]model.Endpoint{netID("c"): x2.Endpoints[netID("c")]}
	topo.Containers["x2"] = x2
	l = topo.Layout(model.LayoutOptions{})
	if lane, col, ok := l.Position("x2", netID("a")); !ok || lane != 2 || l.Columns[col] != "x2" {
		t.Errorf("after disconnect Position(x2, a) = %d, %s, %v; want lane 2", lane, l.Columns[col], ok)
	}
}

func TestLayoutMove(t *testing.T) {
	l := gridTopo().Layout(model.LayoutOptions{})
	type pos struct{ lane, col int }
	tests := []struct {
		name string
		from pos
		d    model.Direction
		want pos
	}{
		{"right to the next node", pos{0, 0}, model.Right, pos{0, 1}},
		{"right skips columns not in the lane", pos{1, 2}, model.Right, pos{1, 4}},
		{"right at the lane's end stays", pos{0, 3}, model.Right, pos{0, 3}},
		{"right at the grid's edge stays", pos{3, 6}, model.Right, pos{3, 6}},
		{"left skips columns not in the lane", pos{1, 4}, model.Left, pos{1, 2}},
		{"left at the edge stays", pos{0, 0}, model.Left, pos{0, 0}},
		{"left at the lane's start stays", pos{2, 3}, model.Left, pos{2, 3}},
		{"down to the same column", pos{0, 2}, model.Down, pos{1, 2}},
		{"down to the nearest column", pos{0, 0}, model.Down, pos{1, 2}},
		{"down on a tie prefers the left", pos{0, 3}, model.Down, pos{1, 2}},
		{"down from b along its rail", pos{1, 4}, model.Down, pos{2, 4}},
		{"down at the bottom stays", pos{3, 5}, model.Down, pos{3, 5}},
		{"up to the same column", pos{3, 5}, model.Up, pos{2, 5}},
		{"up to the nearest column", pos{3, 6}, model.Up, pos{2, 5}},
		{"up at the top stays", pos{0, 1}, model.Up, pos{0, 1}},
		{"an unknown direction stays", pos{1, 2}, model.Direction(9), pos{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lane, col := l.Move(tt.from.lane, tt.from.col, tt.d)
			if (pos{lane, col}) != tt.want {
				t.Errorf("Move(%v, %d) = %v, want %v", tt.from, tt.d, pos{lane, col}, tt.want)
			}
		})
	}
	// Down then up returns to the start.
	for col := range l.Columns {
		if !l.Attached(0, col) {
			continue
		}
		lane, c := l.Move(0, col, model.Down)
		if back, bc := l.Move(lane, c, model.Up); back != 0 || !l.Attached(0, bc) {
			t.Errorf("down then up from col %d ended at %d, %d", col, back, bc)
		}
	}
}

func TestLayoutMoveAcrossEmptyLanes(t *testing.T) {
	topo := fixTopo(fixNets("a", "b", "c", "d"),
		fixCtr("p", "p", "a"),
		fixCtr("q", "q", "d"),
	)
	l := topo.Layout(model.LayoutOptions{})
	if l.LaneCount(1) != 0 || l.LaneCount(2) != 0 {
		t.Fatalf("lanes b and c should be empty")
	}
	if lane, col := l.Move(0, 0, model.Down); lane != 3 || col != 1 {
		t.Errorf("down from a = %d, %d; want 3, 1 (skipping empty lanes)", lane, col)
	}
	if lane, col := l.Move(3, 1, model.Up); lane != 0 || col != 0 {
		t.Errorf("up from d = %d, %d; want 0, 0", lane, col)
	}
}

func TestLayoutFirst(t *testing.T) {
	if lane, col, ok := gridTopo().Layout(model.LayoutOptions{}).First(); !ok || lane != 0 || col != 0 {
		t.Errorf("First = %d, %d, %v", lane, col, ok)
	}
	// The first lane is empty: the first node is in the next one.
	topo := fixTopo(fixNets("a", "b"), fixCtr("p", "p", "b"))
	if lane, col, ok := topo.Layout(model.LayoutOptions{}).First(); !ok || lane != 1 || col != 0 {
		t.Errorf("First with an empty first lane = %d, %d, %v", lane, col, ok)
	}
	for name, topo := range map[string]model.Topology{
		"no networks":      model.NewTopology(),
		"empty networks":   fixTopo(fixNets("a", "b")),
		"all filtered out": gridTopo(),
	} {
		l := topo.Layout(model.LayoutOptions{Filter: map[bool]string{true: "nothing"}[name == "all filtered out"]})
		if _, _, ok := l.First(); ok {
			t.Errorf("%s: First found a node", name)
		}
		if lane, col := l.Move(0, 0, model.Down); lane != 0 || col != 0 {
			t.Errorf("%s: Move on an empty grid = %d, %d", name, lane, col)
		}
	}
}

// TestLayoutFilterHidesLanesWithoutMatches checks that a filter keeps only
// lanes holding a match, or named like the filter.
func TestLayoutFilterHidesLanesWithoutMatches(t *testing.T) {
	topo := model.NewTopology()
	for _, n := range []string{"front", "back", "web-net"} {
		topo.Networks[n] = model.Network{ID: n, Name: n}
	}
	topo.Containers["a"] = model.Container{ID: "a", Name: "api", Endpoints: map[string]model.Endpoint{"back": {NetworkID: "back", NetworkName: "back"}}}
	topo.Containers["w"] = model.Container{ID: "w", Name: "web", Endpoints: map[string]model.Endpoint{"front": {NetworkID: "front", NetworkName: "front"}}}
	var names []string
	for _, n := range topo.Layout(model.LayoutOptions{Filter: "web"}).Lanes {
		names = append(names, n.Name)
	}
	if want := []string{"front", "web-net"}; !reflect.DeepEqual(names, want) {
		t.Errorf("lanes under filter = %v, want %v", names, want)
	}
	if got := len(topo.Layout(model.LayoutOptions{}).Lanes); got != 3 {
		t.Errorf("lanes without filter = %d, want 3", got)
	}
}

// Regression: under a filter, a lane was kept only when a match held an
// endpoint keyed by its ID, so a created container (endpoints keyed by
// network name) lost its lane and vanished from the filtered view.
func TestLayoutFilterKeepsTheLaneOfACreatedContainer(t *testing.T) {
	created := model.Container{ID: "c1", Name: "new", State: model.StateCreated, Endpoints: map[string]model.Endpoint{
		"a": {NetworkID: "a", NetworkName: "a"},
	}}
	topo := fixTopo(fixNets("a", "b"), created, fixCtr("c2", "old", "b"))
	l := topo.Layout(model.LayoutOptions{Filter: "new"})
	if got := laneNames(l.Lanes); !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("lanes = %v, want [a]", got)
	}
	if !reflect.DeepEqual(l.Columns, []string{"c1"}) || !l.Attached(0, 0) {
		t.Errorf("columns = %v, attached %v; want the created container in lane a", l.Columns, l.Attached(0, 0))
	}
}

// A stopped container of a swarm task that another container now runs
// (same service and slot, or the same global service) is history: it
// leaves the lanes. A stopped task nothing replaced yet stays, so a kill
// shows until the swarm answers it.
func TestLayoutHidesSupersededSwarmTasks(t *testing.T) {
	task := func(id, service, taskName string, running bool) model.Container {
		c := fixCtr(id, taskName, "front")
		c.Labels = map[string]string{"com.docker.swarm.service.name": service, "com.docker.swarm.task.name": taskName}
		if !running {
			c.State = model.StateExited
		}
		return c
	}
	topo := fixTopo(fixNets("front"),
		task("lb-old", "demo_lb", "demo_lb.1.aaa", false),
		task("lb-new", "demo_lb", "demo_lb.1.bbb", true),
		task("app-killed", "demo_app", "demo_app.2.ccc", false),
		task("app-1", "demo_app", "demo_app.1.ddd", true),
		task("reg-old", "demo_registrator", "demo_registrator.nodeid1.eee", false),
		task("reg-new", "demo_registrator", "demo_registrator.nodeid1.fff", true),
		fixCtr("plain", "plain", "front"),
	)
	l := topo.Layout(model.LayoutOptions{})
	got := map[string]bool{}
	for _, id := range l.Columns {
		got[id] = true
	}
	if running, total := topo.Counts(); running != 4 || total != 5 {
		t.Errorf("Counts = %d/%d, want 4/5: the superseded tasks are not counted, the killed one is", running, total)
	}
	for id, want := range map[string]bool{"lb-old": false, "lb-new": true, "app-killed": true, "app-1": true, "reg-old": false, "reg-new": true, "plain": true} {
		if got[id] != want {
			t.Errorf("%s in the lanes: %v, want %v (columns %v)", id, got[id], want, l.Columns)
		}
	}
}
