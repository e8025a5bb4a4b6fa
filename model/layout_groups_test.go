package model_test

import (
	"reflect"
	"testing"

	"github.com/topo-dev/topo/model"
)

// groupTopo: the demo's app tier (three replicas on front and back), one
// app replica on front only, a database, another project's web replicas,
// a swarm stack's task and a plain container.
func groupTopo() model.Topology {
	stack := fixCtr("s1", "demo_web.1.abc", "front")
	stack.Labels = map[string]string{model.LabelStackNamespace: "stk", "com.docker.swarm.service.name": "stk_web"}
	return fixTopo(fixNets("front", "back", "other"),
		fixCompose("a1", "demo", "app", 1, "front", "back"),
		fixCompose("a2", "demo", "app", 2, "front", "back"),
		fixCompose("a3", "demo", "app", 3, "front", "back"),
		fixCompose("a4", "demo", "app", 4, "front"),
		fixCompose("db", "demo", "db", 1, "back"),
		fixCompose("w1", "shop", "web", 1, "other"),
		fixCompose("w2", "shop", "web", 2, "other"),
		stack,
		fixCtr("p", "plain", "other"),
	)
}

func TestLayoutGroupsRunsOfReplicasOnTheSameLanes(t *testing.T) {
	topo := groupTopo()
	l := topo.Layout(model.LayoutOptions{})
	var got [][]string
	for _, r := range l.Groups(topo) {
		got = append(got, l.Columns[r[0]:r[1]+1])
	}
	// a4 is an app replica too, but on front only: it is not drawn as one
	// of the three.
	want := [][]string{{"db"}, {"a1", "a2", "a3"}, {"s1"}, {"a4"}, {"p"}, {"w1", "w2"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groups = %v, want %v (columns %v)", got, want, l.Columns)
	}
}

func TestLayoutProjectFocus(t *testing.T) {
	topo := groupTopo()
	tests := []struct {
		project string
		lanes   []string
		cols    []string
	}{
		{"", []string{"back", "front", "other"}, []string{"db", "a1", "a2", "a3", "s1", "a4", "p", "w1", "w2"}},
		{"demo", []string{"back", "front"}, []string{"db", "a1", "a2", "a3", "a4"}},
		{"shop", []string{"other"}, []string{"w1", "w2"}},
		{"stk", []string{"front"}, []string{"s1"}},
		{"gone", []string{}, []string{}},
	}
	for _, tt := range tests {
		l := topo.Layout(model.LayoutOptions{Project: tt.project})
		if got := laneNames(l.Lanes); !reflect.DeepEqual(got, tt.lanes) || !reflect.DeepEqual(l.Columns, tt.cols) {
			t.Errorf("focus %q: lanes %v columns %v, want %v %v", tt.project, got, l.Columns, tt.lanes, tt.cols)
		}
	}
	if got, want := topo.Projects(), []string{"demo", "shop", "stk"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Projects() = %v, want %v", got, want)
	}
}

func TestReplicaKey(t *testing.T) {
	topo := groupTopo()
	for id, want := range map[string]string{"a1": "demo/app", "w2": "shop/web", "s1": "swarm/stk_web", "p": ""} {
		if got := model.ReplicaKey(topo.Containers[id]); got != want {
			t.Errorf("ReplicaKey(%s) = %q, want %q", id, got, want)
		}
	}
}
