package docker

import (
	"errors"
	"testing"

	"github.com/topo-dev/topo/flowagent"
)

// The namespaces the agent sends as unchanged are put back from its last
// answer; one it never sent ends the exec, so that the next is whole.
func TestFlowsPutBackUnchangedNamespaces(t *testing.T) {
	f := &Flows{}
	full := flowagent.Namespace{Key: "net:[1]", PIDs: []int{10}, Conns: []flowagent.Conn{{Local: "10.0.0.2:4000", Remote: "10.0.0.3:80", Inode: 5}}}
	first := flowagent.Sample{Namespaces: []flowagent.Namespace{full}}
	if err := f.whole(&first); err != nil {
		t.Fatal(err)
	}
	second := flowagent.Sample{Namespaces: []flowagent.Namespace{{Key: "net:[1]", Same: true}}}
	if err := f.whole(&second); err != nil {
		t.Fatal(err)
	}
	if got := second.Namespaces[0]; got.Same || len(got.Conns) != 1 || got.Conns[0] != full.Conns[0] || len(got.PIDs) != 1 {
		t.Errorf("put back %+v, want %+v", got, full)
	}
	third := flowagent.Sample{Namespaces: []flowagent.Namespace{{Key: "net:[2]", Same: true}}}
	if err := f.whole(&third); !errors.Is(err, errAgentGone) {
		t.Errorf("an unchanged namespace never sent: %v, want errAgentGone", err)
	}
}
