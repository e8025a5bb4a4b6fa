package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// Keys that no other test pressed through the root model: c, m, - (demo
// and swarm), R and d in the swarm view. Each asserts the request that
// reaches the fake and what the screen says.

// feed runs cmd and delivers back every message of an operation the keys
// start (inspections, actions, demo steps, cluster actions), and those
// their own commands produce; ticks and watches are left out.
func (hs *harness) feed(cmd tea.Cmd) {
	hs.t.Helper()
	for _, msg := range runCmd(hs.t, cmd) {
		switch msg.(type) {
		case InspectedMsg, ActionDoneMsg, ClusterActionDoneMsg, DemoStepMsg, DemoDoneMsg:
			_, next := hs.m.Update(msg)
			hs.feed(next)
		}
	}
}

// pressFeeding presses one key and feeds what it starts.
func (hs *harness) pressFeeding(k string) {
	hs.t.Helper()
	hs.feed(hs.sendOnly(keyRunes(k)))
}

func footerOf(v string) string {
	lines := strings.Split(v, "\n")
	return lines[len(lines)-1]
}

func TestCHidesAndShowsTheRegistryPanel(t *testing.T) {
	topo := registryTopo()
	hs := newHarnessWith(t, 140, 40, &topo, func(c *Config) { c.Registry = &fakeConnector{results: []error{nil}} })
	hs.send(RegistryMsg{Registry: registryFixture()})
	if v := hs.view(); !strings.Contains(v, "Registry") || !strings.Contains(v, "api-1  172.21.0.2:9000") {
		t.Fatalf("the registry panel is not shown at first:\n%s", v)
	}
	for range 6 {
		if hs.m.focus == paneRegistry {
			break
		}
		hs.press("tab")
	}
	if hs.m.focus != paneRegistry {
		t.Fatalf("tab never focuses the registry panel (at %v)", hs.m.focus)
	}
	hs.press("c")
	v := hs.view()
	if strings.Contains(v, "Registry") || strings.Contains(v, "api-1  172.21.0.2:9000") {
		t.Errorf("c did not hide the registry panel:\n%s", v)
	}
	if hs.m.focus != paneLanes {
		t.Errorf("c hid the focused registry panel but left the focus on it (%v)", hs.m.focus)
	}
	// The badges stay: c hides the panel, not what the registry says.
	if !strings.Contains(v, "R✓") {
		t.Errorf("the registry badges went with the panel:\n%s", v)
	}
	hs.press("c")
	if v := hs.view(); !strings.Contains(v, "Registry") || !strings.Contains(v, "api-1  172.21.0.2:9000") {
		t.Errorf("a second c did not bring the panel back:\n%s", v)
	}
}

func TestMOpensTheReachabilityMatrixAndEscClosesIt(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	sel := hs.selected()
	hs.press("m")
	v := hs.view()
	if !hs.m.on(screenMatrix) || !strings.Contains(v, "Reachability matrix · esc back") {
		t.Fatalf("m does not show the matrix:\n%s", v)
	}
	if !strings.Contains(v, "▶"+sel) {
		t.Errorf("the matrix does not mark the selected %s:\n%s", sel, v)
	}
	for _, c := range topo.Containers {
		if !strings.Contains(v, c.DisplayName()) {
			t.Errorf("the matrix has no row for %s:\n%s", c.DisplayName(), v)
		}
	}
	hs.press("esc")
	if v := hs.view(); hs.m.on(screenMatrix) || strings.Contains(v, "Reachability matrix") || !strings.Contains(v, "━") {
		t.Errorf("esc did not go back to the lanes:\n%s", v)
	}
	hs.press("m", "m")
	if hs.m.on(screenMatrix) {
		t.Error("a second m did not close the matrix")
	}
}

// Before the first snapshot there is nothing to draw a matrix of: m is off.
func TestMBeforeTheFirstSnapshotDoesNothing(t *testing.T) {
	hs := newHarness(t, 120, 40, nil)
	hs.press("m")
	if hs.m.on(screenMatrix) {
		t.Error("m opened a matrix before the engine answered")
	}
}

func TestMinusScalesTheDemoDown(t *testing.T) {
	topo := newTopo().net("topo-demo_front").net("topo-demo_back").
		ctr("topo-demo-app-1", []string{"topo-demo_front", "topo-demo_back"}, withCompose("topo-demo", "app", 1)).
		ctr("topo-demo-app-2", []string{"topo-demo_front", "topo-demo_back"}, withCompose("topo-demo", "app", 2)).
		ctr("topo-demo-mongo-1", []string{"topo-demo_back"}, withCompose("topo-demo", "mongo", 1)).
		build()
	f := &fakeDeployer{count: 1}
	hs := newHarnessWith(t, 120, 40, &topo, func(c *Config) { c.Demo = f })
	// The database is selected: - never lands on it, it scales the app.
	hs.m.lanes.Select(ctrID("topo-demo-mongo-1"))
	hs.pressFeeding("-")
	if got := strings.Join(f.calls, "|"); got != "scale app -1" {
		t.Fatalf("- sent %q to the deployer, want one scale of app by -1", got)
	}
	if v := hs.view(); !strings.Contains(v, "app: 1 instances") {
		t.Errorf("the screen does not say the app's new count:\n%s", v)
	}
}

// swarmHarness shows the cluster view of spreadCluster with a fake swarm.
func swarmHarness(t *testing.T) (*harness, *fakeSwarm) {
	t.Helper()
	sw := &fakeSwarm{}
	watch := make(chan model.Cluster)
	// Closed: the harness runs the watch's re-arm at once, and it must
	// answer rather than wait.
	close(watch)
	hs := newHarnessWith(t, 120, 40, nil, func(c *Config) { c.Swarm, c.Cluster = sw, watch })
	hs.send(ClusterUpdateMsg{Cluster: spreadCluster()})
	hs.press("w")
	if !hs.m.on(screenCluster) {
		t.Fatal("w did not open the cluster view")
	}
	return hs, sw
}

func TestSwarmViewMinusScalesTheServiceDown(t *testing.T) {
	hs, sw := swarmHarness(t)
	selectKind(t, hs.m.cluster, SelectService, "svc-app")
	hs.m.updateKeys()
	hs.pressFeeding("-")
	if got := strings.Join(sw.calls, "|"); got != "scale svc-app 5" {
		t.Fatalf("- sent %q to the swarm, want app scaled to 5 (no question: + undoes it)", got)
	}
	if v := hs.view(); !strings.Contains(footerOf(v), "scaled app to 5") {
		t.Errorf("the footer does not say the scale: %q", footerOf(v))
	}
}

func TestSwarmViewRAsksThenRestartsRolling(t *testing.T) {
	hs, sw := swarmHarness(t)
	selectKind(t, hs.m.cluster, SelectService, "svc-app")
	hs.m.updateKeys()
	hs.press("R")
	if f := footerOf(hs.view()); !strings.Contains(f, "Restart app: replace its 6 tasks, rolling? y yes  n no") {
		t.Fatalf("R does not ask first: %q", f)
	}
	hs.press("n")
	if len(sw.calls) != 0 || !strings.Contains(footerOf(hs.view()), "cancelled: nothing was done") {
		t.Fatalf("R then n: calls %v, footer %q", sw.calls, footerOf(hs.view()))
	}
	hs.press("R")
	hs.pressFeeding("y")
	if got := strings.Join(sw.calls, "|"); got != "restart svc-app" {
		t.Fatalf("R y sent %q, want one restart of svc-app", got)
	}
	// The fake refuses: the swarm's reason is on screen, not a success.
	if f := footerOf(hs.view()); !strings.Contains(f, "restart web: update out of sequence") || strings.Contains(f, "restarting app") {
		t.Errorf("the footer after a refused restart: %q", f)
	}
}

func TestSwarmViewDDrainsThenActivatesTheNode(t *testing.T) {
	hs, sw := swarmHarness(t)
	selectKind(t, hs.m.cluster, SelectNode, "node-worker-1")
	hs.m.updateKeys()
	hs.press("d")
	if f := footerOf(hs.view()); !strings.Contains(f, "Drain worker-1: move its 4 tasks to other nodes? y yes  n no") {
		t.Fatalf("d does not ask first: %q", f)
	}
	hs.press("n")
	if len(sw.calls) != 0 {
		t.Fatalf("d then n sent %v", sw.calls)
	}
	hs.press("d")
	hs.pressFeeding("y")
	if got := strings.Join(sw.calls, "|"); got != "node node-worker-1 drain" {
		t.Fatalf("d y sent %q, want worker-1 drained", got)
	}
	if f := footerOf(hs.view()); !strings.Contains(f, "draining worker-1") {
		t.Errorf("the footer does not say the drain: %q", f)
	}

	// The next snapshot shows worker-1 drained: d now activates it.
	drained := spreadCluster()
	for i := range drained.Nodes {
		if drained.Nodes[i].ID == "node-worker-1" {
			drained.Nodes[i].Availability = model.AvailabilityDrain
		}
	}
	hs.sendOnly(ClusterUpdateMsg{Cluster: drained})
	hs.press("d")
	if f := footerOf(hs.view()); !strings.Contains(f, "Activate worker-1: let tasks be placed on it again? y yes  n no") {
		t.Fatalf("d on a drained node: %q", f)
	}
	hs.pressFeeding("y")
	if got := sw.calls[len(sw.calls)-1]; got != "node node-worker-1 active" {
		t.Fatalf("d y on a drained node sent %q", got)
	}
	if f := footerOf(hs.view()); !strings.Contains(f, "activated worker-1") {
		t.Errorf("the footer does not say the node is active: %q", f)
	}
}
