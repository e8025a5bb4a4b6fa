package ui

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/topo-dev/topo/model"
)

// fakeSwarmFlows is a fake of SwarmFlowSampler: every sample is its
// sample, and it counts the calls.
type fakeSwarmFlows struct {
	mu      sync.Mutex
	sample  model.FlowSample
	samples int
	closes  int
}

func (f *fakeSwarmFlows) Sample(_ context.Context, _ model.Cluster, _ map[string]bool) (model.FlowSample, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.samples++
	return f.sample, nil
}

func (f *fakeSwarmFlows) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closes++
	return nil
}

func (f *fakeSwarmFlows) counts() (samples, closes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.samples, f.closes
}

// On a swarm manager f asks whose flows: s shows every node's (the title
// says how many nodes report, and a node without flows is named with
// why, made inert), e this engine's only (the title says so); each
// sampler is closed when its flows are turned off, and nothing is asked
// of the one not chosen.
func TestFlowsOnAManagerAskWhoseAndSaySo(t *testing.T) {
	engine := &fakeFlows{tables: [][]model.SocketTable{flowTables(1, 40000, false)}}
	nodes := &fakeSwarmFlows{sample: model.FlowSample{
		Flows: []model.Flow{{Client: model.FlowEnd{ID: "c1", Name: "web.1@mgr"}, Server: model.FlowEnd{ID: "c2", Name: "db.1@w1"}, Port: 5432, Conns: 2}},
		Nodes: &model.FlowNodes{Reporting: []string{"mgr", "w1"}, Silent: []string{"w2\x1b[31m: it lacks the image topo-self:abc"}},
	}}
	topo := flowsTopo()
	hs := newHarnessWith(t, 200, 50, &topo, func(cfg *Config) {
		cfg.Flows, cfg.SwarmFlows, cfg.Swarm = engine, nodes, &fakeSwarm{}
	})
	if cmd := hs.sendOnly(keyRunes("f")); cmd != nil {
		runCmd(t, cmd)
	}
	if v := hs.view(); !strings.Contains(v, "Show the flows of:") || !strings.Contains(v, "every node of the swarm") {
		t.Fatalf("f on a manager asks nothing:\n%s", v)
	}
	hs.sample(hs.sendOnly(keyRunes("s")))
	v := hs.view()
	for _, want := range []string{"every node (2 of 3 reporting)", "web.1@mgr", "db.1@w1", `no flows from node w2\x1b[31m: it lacks the image`} {
		if !strings.Contains(v, want) {
			t.Errorf("every node's flows: the screen lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "this engine") {
		t.Errorf("every node's flows titled as this engine's:\n%s", v)
	}
	if n, _, _ := engine.counts(); n != 0 {
		t.Errorf("this engine's sampler asked %d times for every node's flows", n)
	}
	for _, msg := range runCmd(t, hs.sendOnly(keyRunes("f"))) {
		hs.send(msg)
	}
	if _, closes := nodes.counts(); closes != 1 {
		t.Errorf("f off closed every node's sampler %d times, want once", closes)
	}

	hs.sendOnly(keyRunes("f"))
	hs.sample(hs.sendOnly(keyRunes("e")))
	if v := hs.view(); !strings.Contains(v, "· this engine") || strings.Contains(v, "every node (") {
		t.Errorf("this engine's flows not titled so:\n%s", v)
	}
	samples, _ := nodes.counts()
	hs.m.Close()
	if n, closes, _ := engine.counts(); n != 1 || closes != 1 {
		t.Errorf("this engine's sampler: %d samples, %d closes; want 1 and 1 (on quit)", n, closes)
	}
	if now, closes := nodes.counts(); now != samples || closes != 2 {
		t.Errorf("every node's sampler after e: %d more samples, %d closes; want none more and the 2 of f off and quit", now-samples, closes)
	}
}
