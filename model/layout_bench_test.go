package model_test

import (
	"fmt"
	"testing"

	"github.com/topo-dev/topo/model"
)

// benchTopo is the performance setup: 300 containers over 5 user
// networks, every fifth also on the next network, plus the built-in ones;
// a tenth are compose replicas and a few are stopped.
func benchTopo() model.Topology {
	nets := fixNets("bridge", "host", "none")
	for i := range 5 {
		nets = append(nets, fixNet(fmt.Sprintf("net%d", i)))
	}
	topo := fixTopo(nets)
	for i := range 300 {
		lanes := []string{fmt.Sprintf("net%d", i%5)}
		if i%5 == 0 {
			lanes = append(lanes, fmt.Sprintf("net%d", (i/5)%5))
		}
		id := fmt.Sprintf("%064x", i)
		var c model.Container
		if i%10 == 0 {
			c = fixCompose(id, "shop", fmt.Sprintf("svc%d", i%7), i/10+1, lanes...)
		} else {
			c = fixCtr(id, fmt.Sprintf("container-%03d", i), lanes...)
		}
		if i%13 == 0 {
			c.State = model.StateExited
		}
		topo.Containers[id] = c
	}
	return topo
}

func BenchmarkLayout(b *testing.B) {
	topo := benchTopo()
	for _, bc := range []struct {
		name string
		opts model.LayoutOptions
	}{
		{"300x5", model.LayoutOptions{}},
		{"300x5+builtin", model.LayoutOptions{WithBuiltIn: true}},
		{"300x5+filter", model.LayoutOptions{Filter: "container-1"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var l model.Layout
			for b.Loop() {
				l = topo.Layout(bc.opts)
			}
			if len(l.Columns) == 0 {
				b.Fatal("empty layout")
			}
		})
	}
}

// BenchmarkApplyAndLayout is the work between an engine event and a new
// frame's grid: apply one enriched event, then lay out again.
func BenchmarkApplyAndLayout(b *testing.B) {
	topo := benchTopo()
	c := topo.Containers[fmt.Sprintf("%064x", 42)]
	ev := model.Event{Type: model.EventContainer, Action: "start", ActorID: c.ID, Container: &c}
	b.ReportAllocs()
	for b.Loop() {
		topo.Apply(ev)
		_ = topo.Layout(model.LayoutOptions{})
	}
}

// Regression: Number parsed the missing label of every non-compose
// container, and strconv's error allocated on each of the thousands of
// comparisons a Layout sort makes (98% of Layout's allocations).
func TestNumberWithoutLabelDoesNotAllocate(t *testing.T) {
	c := fixCtr("c1", "plain", "a")
	if n := testing.AllocsPerRun(100, func() { _ = c.Number() }); n != 0 {
		t.Errorf("Number() without the compose label allocates %v times", n)
	}
}
