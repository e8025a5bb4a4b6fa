package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/topo-dev/topo/model"
)

// The engine's version and swarm role come after the first frame (the
// calls behind them are the engine's slowest at start): the frame before
// them already draws the lanes; the description then puts the version in
// the status bar and, on a manager, opens the cluster view's key, or on a
// worker says why there is none.
func TestEngineDescribedAfterTheFirstFrame(t *testing.T) {
	topo := basicTopo()
	for _, manager := range []bool{true, false} {
		hs := newHarnessWith(t, 200, 50, &topo, func(c *Config) { c.EngineInfo.Version = "" })
		before := hs.view()
		if strings.Contains(before, "Docker 27.3.1") || !strings.Contains(before, "● live") {
			t.Fatalf("before the description: want the lanes live and no version:\n%s", before)
		}
		if hs.m.keys.ClusterView.Enabled() {
			t.Fatal("the cluster view's key is on before the engine said it is a manager")
		}
		msg := EngineDescribedMsg{Version: "27.3.1"}
		if manager {
			watch := make(chan model.Cluster)
			close(watch) // the harness runs the watch's re-arm at once
			msg.Swarm, msg.Cluster = &fakeSwarm{}, watch
		} else {
			msg.SwarmNote = model.ErrSwarmWorker.Error()
		}
		hs.send(msg)
		after := hs.view()
		if !strings.Contains(strings.SplitN(after, "\n", 2)[0], "Docker 27.3.1") {
			t.Errorf("manager %v: the status bar does not show the version:\n%s", manager, strings.SplitN(after, "\n", 2)[0])
		}
		if got := hs.m.keys.ClusterView.Enabled(); got != manager {
			t.Errorf("manager %v: cluster view key enabled %v", manager, got)
		}
		if !manager && !strings.Contains(hs.m.log.View(), "worker") {
			t.Errorf("a worker's note is not in the event log:\n%s", hs.m.log.View())
		}
	}
}

// The description is asked for once the first snapshot is in, not
// beside it (the engine answers it more slowly), and once only.
func TestDescriptionIsAskedForAfterTheFirstSnapshot(t *testing.T) {
	topo := basicTopo()
	asked := 0
	hs := newHarnessWith(t, 200, 50, nil, func(c *Config) {
		c.Describe = func() (EngineDescribedMsg, bool) { asked++; return EngineDescribedMsg{Version: "27.3.1"}, true }
	})
	if asked != 0 {
		t.Fatalf("asked for the description %d times before any snapshot", asked)
	}
	hs.snapshot(topo)
	if asked != 1 {
		t.Fatalf("after the first snapshot: asked %d times, want once", asked)
	}
	hs.snapshot(topo)
	if asked != 1 {
		t.Errorf("asked again after a second snapshot: %d times", asked)
	}
}

// w pressed at the first frame, before the engine said it is a manager,
// opens the cluster view once it says so; keys are not held past
// describeWait when no description comes; ctrl+c is never held.
func TestKeysTypedBeforeTheDescriptionAreTakenAfterIt(t *testing.T) {
	topo := basicTopo()
	// The description does not come by itself: the test sends it.
	notYet := func(c *Config) { c.Describe = func() (EngineDescribedMsg, bool) { return EngineDescribedMsg{}, false } }
	hs := newHarnessWith(t, 200, 50, &topo, notYet)
	hs.press("w")
	if hs.m.on(screenCluster) || len(hs.m.early) != 1 {
		t.Fatalf("w before the description: cluster shown %v, %d keys held; want it held", hs.m.on(screenCluster), len(hs.m.early))
	}
	watch := make(chan model.Cluster)
	close(watch)
	hs.send(EngineDescribedMsg{Version: "27.3.1", Swarm: &fakeSwarm{}, Cluster: watch})
	if !hs.m.on(screenCluster) {
		t.Error("w typed before the description did not open the cluster view after it")
	}

	hs = newHarnessWith(t, 200, 50, &topo, notYet)
	hs.press("v")
	if hs.m.on(screenStorage) {
		t.Fatal("v taken before the description or its wait ended")
	}
	hs.send(describeWaitMsg{})
	if !hs.m.on(screenStorage) {
		t.Error("v not taken when the wait for the description ended")
	}
	hs.press("esc")
	if hs.m.on(screenStorage) || len(hs.m.early) > 0 {
		t.Error("a key after the wait ended is still held")
	}

	hs = newHarnessWith(t, 200, 50, &topo, notYet)
	if _, cmd := hs.m.Update(tea.KeyMsg{Type: tea.KeyCtrlC}); cmd == nil {
		t.Error("ctrl+c held while the description is on its way: want it to quit at once")
	}
}

// The description is text from the engine: it reaches the status bar and
// the log inert, like every message's text.
func TestEngineDescriptionIsDrawnInert(t *testing.T) {
	topo := basicTopo()
	hs := newHarnessWith(t, 200, 50, &topo, nil)
	hs.send(EngineDescribedMsg{Version: "27\x1b]0;owned\x07", SwarmNote: "worker\x1b[2J"})
	if v := hs.view(); strings.Contains(v, "\x1b]0;") || strings.Contains(v, "\x1b[2J") || strings.Contains(v, "\x07") {
		t.Errorf("the engine's description reached the screen raw:\n%q", v)
	}
}
