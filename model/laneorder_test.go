package model_test

import (
	"reflect"
	"testing"

	"github.com/topo-dev/topo/model"
)

// crossings counts the lanes rails pass over without joining them: what
// the lane order tries to keep small.
func crossings(l model.Layout) int {
	n := 0
	for col := range l.Columns {
		for lane := range l.Lanes {
			if l.Passes(lane, col) {
				n++
			}
		}
	}
	return n
}

func TestLaneOrderCrossesFewForeignLanes(t *testing.T) {
	tests := []struct {
		name      string
		nets      []string
		ctrs      []model.Container
		lanes     []string
		crossings int
	}{
		{"a container on two lanes apart gets them side by side",
			[]string{"a", "b", "c"},
			[]model.Container{fixCtr("p", "p", "a", "c"), fixCtr("q", "q", "b")},
			[]string{"a", "c", "b"}, 0},
		{"the lane first by name stays on top of its chain",
			[]string{"a", "b", "c", "d"},
			[]model.Container{fixCtr("p", "p", "b", "d"), fixCtr("q", "q", "a", "c")},
			[]string{"a", "c", "b", "d"}, 0},
		{"a chain a–c–b–d is laid out as the chain",
			[]string{"a", "b", "c", "d"},
			[]model.Container{fixCtr("p", "p", "a", "c"), fixCtr("q", "q", "c", "b"), fixCtr("r", "r", "b", "d")},
			[]string{"a", "c", "b", "d"}, 0},
		{"lanes sharing more sit together",
			[]string{"a", "b", "c"},
			[]model.Container{fixCtr("p", "p", "a", "b"), fixCtr("q", "q", "a", "c"), fixCtr("r", "r", "a", "c")},
			[]string{"b", "a", "c"}, 0},
		{"a triangle keeps one crossing, not more",
			[]string{"a", "b", "c"},
			[]model.Container{fixCtr("p", "p", "a", "b"), fixCtr("q", "q", "b", "c"), fixCtr("r", "r", "a", "c")},
			[]string{"a", "b", "c"}, 1},
		{"ties and lanes sharing nothing keep the order by name",
			[]string{"d", "c", "b", "a"},
			[]model.Container{fixCtr("p", "p", "a"), fixCtr("q", "q", "b"), fixCtr("r", "r", "c"), fixCtr("s", "s", "d")},
			[]string{"a", "b", "c", "d"}, 0},
		{"the built-in lanes stay at the bottom",
			[]string{"a", "b", "c", "bridge", "host", "none"},
			[]model.Container{fixCtr("p", "p", "a", "c"), fixCtr("q", "q", "b", "bridge")},
			[]string{"a", "c", "b", "bridge", "host", "none"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := fixTopo(fixNets(tt.nets...), tt.ctrs...)
			l := topo.Layout(model.LayoutOptions{WithBuiltIn: true})
			if got := laneNames(l.Lanes); !reflect.DeepEqual(got, tt.lanes) {
				t.Errorf("lanes = %v, want %v", got, tt.lanes)
			}
			if got := crossings(l); got != tt.crossings {
				t.Errorf("crossings = %d, want %d", got, tt.crossings)
			}
			// The same topology again lays out the same: no jumps.
			if again := laneNames(topo.Layout(model.LayoutOptions{WithBuiltIn: true}).Lanes); !reflect.DeepEqual(again, laneNames(l.Lanes)) {
				t.Errorf("a second layout reads %v, the first %v", again, laneNames(l.Lanes))
			}
		})
	}
}

// TestColumnsOnTheSameLanesSitTogether: among containers whose rails run
// from the same first to the same last lane, those on the same lanes
// between stand side by side, whatever their names.
func TestColumnsOnTheSameLanesSitTogether(t *testing.T) {
	topo := fixTopo(fixNets("a", "b", "c"),
		fixCtr("p", "p", "a", "b", "c"),
		fixCtr("q", "q", "a", "c"),
		fixCtr("r", "r", "a", "b", "c"),
		fixCtr("s", "s", "a", "c"),
		// Enough on a–b and b–c to keep the lanes a, b, c.
		fixCtr("v1", "v1", "a", "b"),
		fixCtr("v2", "v2", "a", "b"),
		fixCtr("u1", "u1", "b", "c"),
		fixCtr("u2", "u2", "b", "c"),
		fixCtr("u3", "u3", "b", "c"),
	)
	l := topo.Layout(model.LayoutOptions{})
	if got, want := laneNames(l.Lanes), []string{"a", "b", "c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("lanes = %v, want %v", got, want)
	}
	if got, want := l.Columns, []string{"v1", "v2", "p", "r", "q", "s", "u1", "u2", "u3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("columns = %v, want %v", got, want)
	}
}
