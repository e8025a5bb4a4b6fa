package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/topo-dev/topo/model"
)

// fakeFlows is a fake of FlowSampler: each Sample attributes the next of
// its socket tables (the last one again once they run out) with the real
// model, so flags and listeners are the model's, and counts the calls.
type fakeFlows struct {
	mu       sync.Mutex
	tables   [][]model.SocketTable
	samples  int
	closes   int
	canceled int // samples asked for with a context already ended
}

func (f *fakeFlows) Sample(ctx context.Context, topo model.Topology, prev map[string]bool) (model.FlowSample, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ctx.Err() != nil {
		f.canceled++
	}
	tabs := f.tables[min(f.samples, len(f.tables)-1)]
	f.samples++
	return topo.Flows(tabs, prev), nil
}

func (f *fakeFlows) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closes++
	return nil
}

func (f *fakeFlows) counts() (samples, closes, canceled int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.samples, f.closes, f.canceled
}

// flowsTopo is the demo's shape plus one container that should not be
// talking: lb on front (its port 80 published), two app instances on
// front and back (labelled as bridging them, as the demo's are), mongo on
// back, and rogue alone on other.
func flowsTopo() model.Topology {
	return newTopo().net("front").net("back").net("other").
		ctr("lb", []string{"front"}, func(c *model.Container) {
			c.Ports = []model.Port{{Private: 80, Public: 9090, Protocol: "tcp", HostIP: "127.0.0.1"}}
		}).
		ctr("app-1", []string{"front", "back"}, bridge).
		ctr("app-2", []string{"front", "back"}, bridge).
		ctr("mongo", []string{"back"}).
		ctr("rogue", []string{"other"}).
		build()
}

func bridge(c *model.Container) { c.Labels[model.LabelBridge] = "1" }

// Addresses of flowsTopo (see topoBuilder.ctr).
const (
	lbIP, app1Front, app2Front  = "172.20.0.2", "172.20.0.3", "172.20.0.4"
	app1Back, app2Back, mongoIP = "172.21.0.2", "172.21.0.3", "172.21.0.4"
	rogueIP, frontGateway       = "172.22.0.2", "172.20.0.1"
)

// flowTables is one reading of flowsTopo's namespaces: a consumer outside
// holding conns connections to lb, lb one to each app (a new one each
// sample: port base+i), each app two to mongo, and, when rogue, rogue one
// to mongo across networks nothing joins.
func flowTables(conns, base int, rogue bool) []model.SocketTable {
	c := func(local, remote string) model.SocketConn { return model.SocketConn{Local: local, Remote: remote} }
	lb := model.SocketTable{Containers: []string{ctrID("lb")}, Listen: []string{"0.0.0.0:80"}}
	for i := range conns {
		lb.Conns = append(lb.Conns, c(lbIP+":80", fmt.Sprintf("%s:%d", frontGateway, 50000+i)))
	}
	mongo := model.SocketTable{Containers: []string{ctrID("mongo")}, Listen: []string{"0.0.0.0:27017"}}
	var apps []model.SocketTable
	for n, ip := range [][2]string{{app1Front, app1Back}, {app2Front, app2Back}} {
		app := model.SocketTable{Containers: []string{ctrID(fmt.Sprintf("app-%d", n+1))}, Listen: []string{"0.0.0.0:8080", "0.0.0.0:9000"}}
		port := base + n
		lb.Conns = append(lb.Conns, c(fmt.Sprintf("%s:%d", lbIP, port), ip[0]+":8080"))
		app.Conns = append(app.Conns, c(ip[0]+":8080", fmt.Sprintf("%s:%d", lbIP, port)))
		for k := range 2 {
			app.Conns = append(app.Conns, c(fmt.Sprintf("%s:%d", ip[1], 41000+k), mongoIP+":27017"))
			mongo.Conns = append(mongo.Conns, c(mongoIP+":27017", fmt.Sprintf("%s:%d", ip[1], 41000+k)))
		}
		apps = append(apps, app)
	}
	tabs := append([]model.SocketTable{lb, mongo}, apps...)
	if rogue {
		mongo.Conns = append(mongo.Conns, c(mongoIP+":27017", rogueIP+":43000"))
		tabs[1] = mongo
		tabs = append(tabs, model.SocketTable{Containers: []string{ctrID("rogue")}, Conns: []model.SocketConn{c(rogueIP+":43000", mongoIP+":27017")}})
	}
	return tabs
}

func newFlowsHarness(t *testing.T, w, h int, fake *fakeFlows) *harness {
	t.Helper()
	topo := flowsTopo()
	return newHarnessWith(t, w, h, &topo, func(cfg *Config) { cfg.Flows = fake })
}

// sample runs the sampling command cmd (which must ask for one sample),
// delivers its answer as if it took 20 ms at the test clock's now, and
// moves the clock on a second; it returns the command Update answered.
func (hs *harness) sample(cmd tea.Cmd) tea.Cmd {
	hs.t.Helper()
	for _, msg := range runCmd(hs.t, cmd) {
		if fm, ok := msg.(FlowsMsg); ok {
			fm.Start, fm.At = hs.now, hs.now.Add(20*time.Millisecond)
			hs.now = hs.now.Add(time.Second)
			_, next := hs.m.Update(fm)
			return next
		}
	}
	hs.t.Fatalf("the command asked for no sample")
	return nil
}

// nextSample is the tick of the running sampler arriving.
func (hs *harness) nextSample() tea.Cmd {
	_, cmd := hs.m.Update(FlowsTickMsg{Seq: hs.m.flows.seq})
	return cmd
}

// flowsOn presses f and takes n samples.
func (hs *harness) flowsOn(n int) {
	hs.t.Helper()
	cmd := hs.sendOnly(keyRunes("f"))
	for i := range n {
		if i > 0 {
			cmd = hs.nextSample()
		}
		if next := hs.sample(cmd); next == nil {
			hs.t.Fatalf("sample %d asked for no next one", i+1)
		}
	}
}

func TestFlowsKeyStartsSamplingOneRequestEach(t *testing.T) {
	fake := &fakeFlows{tables: [][]model.SocketTable{flowTables(3, 40000, false)}}
	hs := newFlowsHarness(t, 200, 50, fake)
	if n, _, _ := fake.counts(); n != 0 {
		t.Fatalf("%d samples before f: flows off must make no request", n)
	}
	hs.flowsOn(3)
	if n, _, _ := fake.counts(); n != 3 {
		t.Errorf("3 samples taken, the sampler was asked %d times", n)
	}
	v := hs.view()
	for _, want := range []string{"Flows", "outside 172.20.0.1", "lb:80", "app-1:8080", "mongo:27017", "⇄"} {
		if !strings.Contains(v, want) {
			t.Errorf("the screen with flows on lacks %q:\n%s", want, v)
		}
	}
}

func TestFlowsOffStopsSamplingAndRemovesTheAgent(t *testing.T) {
	fake := &fakeFlows{tables: [][]model.SocketTable{flowTables(3, 40000, false)}}
	hs := newFlowsHarness(t, 200, 50, fake)
	hs.flowsOn(2)
	// A sample asked for, still on its way when f turns flows off.
	inFlight := hs.nextSample()
	staleSeq := hs.m.flows.seq
	closeCmd := hs.sendOnly(keyRunes("f"))
	for _, msg := range runCmd(t, closeCmd) {
		hs.send(msg)
	}
	if _, closes, _ := fake.counts(); closes != 1 {
		t.Errorf("f off closed the sampler %d times, want once (the agent removed)", closes)
	}
	// The request in flight runs with its context cancelled, and its
	// answer asks for nothing more.
	for _, msg := range runCmd(t, inFlight) {
		if _, next := hs.m.Update(msg); next != nil {
			t.Errorf("the answer to a sample asked before f off asked for more: %T", msg)
		}
	}
	if _, next := hs.m.Update(FlowsTickMsg{Seq: staleSeq}); next != nil {
		t.Error("a tick of the stopped sampler asked for a sample")
	}
	samples, _, canceled := fake.counts()
	if samples != 3 || canceled != 1 {
		t.Errorf("after f off: %d samples (want the 2 taken and the 1 in flight), %d with an ended context (want 1)", samples, canceled)
	}
	if strings.Contains(hs.view(), "Flows") {
		t.Errorf("the flows panel stays after f off:\n%s", hs.view())
	}
	hs.m.Close()
	if _, closes, _ := fake.counts(); closes != 2 {
		t.Errorf("quitting closed the sampler %d times in all, want 2 (f off, then exit)", closes)
	}
}

func TestFlowsQuitRemovesTheAgent(t *testing.T) {
	fake := &fakeFlows{tables: [][]model.SocketTable{flowTables(1, 40000, false)}}
	hs := newFlowsHarness(t, 80, 24, fake)
	hs.m.Close()
	if _, closes, _ := fake.counts(); closes != 0 {
		t.Errorf("quitting without ever turning flows on closed the sampler %d times: no agent to remove", closes)
	}
	hs.flowsOn(1)
	hs.m.Close()
	if _, closes, _ := fake.counts(); closes != 1 {
		t.Errorf("quitting with flows on closed the sampler %d times, want 1", closes)
	}
}

func TestFlowsFlaggedFlowLogsOneLine(t *testing.T) {
	fake := &fakeFlows{tables: [][]model.SocketTable{flowTables(2, 40000, true), flowTables(2, 40010, true), flowTables(2, 40020, true)}}
	hs := newFlowsHarness(t, 200, 50, fake)
	hs.flowsOn(3)
	n := 0
	for _, e := range hs.m.log.entries {
		if strings.Contains(e.text, "flow ! rogue → mongo:27017") {
			n++
			if !e.bad {
				t.Errorf("the flagged flow's line is not marked bad: %q", e.text)
			}
		}
	}
	if n != 1 {
		t.Errorf("the flagged flow rogue → mongo seen in 3 samples has %d event-log lines, want 1", n)
	}
	v := hs.view()
	if !strings.Contains(v, "! rogue") || !strings.Contains(v, "⇄1!") {
		t.Errorf("the flagged flow has no ! mark in the panel or on the lanes:\n%s", v)
	}
}

func TestFlowsFailedSampleTurnsFlowsOff(t *testing.T) {
	fake := &fakeFlows{tables: [][]model.SocketTable{flowTables(1, 40000, false)}}
	hs := newFlowsHarness(t, 80, 24, fake)
	hs.sendOnly(keyRunes("f"))
	_, cmd := hs.m.Update(FlowsMsg{Seq: hs.m.flows.seq, Err: fmt.Errorf("read the flows: build the flow agent image: no space left on device")})
	if hs.m.flows.On() {
		t.Error("flows still on after a failed sample")
	}
	for _, msg := range runCmd(t, cmd) {
		hs.send(msg)
	}
	if _, closes, _ := fake.counts(); closes != 1 {
		t.Errorf("a failed sample closed the sampler %d times, want 1 (nothing left on the engine)", closes)
	}
	last := hs.m.log.entries[len(hs.m.log.entries)-1]
	if !strings.Contains(last.text, "no space left on device") || !strings.Contains(last.text, "f tries again") {
		t.Errorf("the event log's last line does not say why flows stopped and what to do: %q", last.text)
	}
}

// TestFlowsGolden: the flows panel (below the lanes at 80×24, beside them
// at 200×50) and the details of app-1 with its flows.
func TestFlowsGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(hs *harness)
	}{
		{"panel", func(hs *harness) {}},
		{"details", func(hs *harness) {
			hs.press("right") // app-1
			hs.press("enter")
		}},
		{"details_flagged", func(hs *harness) {
			for hs.selected() != "mongo" {
				hs.press("right")
			}
			hs.press("enter")
		}},
	} {
		for _, size := range goldenSizes {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, size.w, size.h), func(t *testing.T) {
				fake := &fakeFlows{tables: [][]model.SocketTable{flowTables(3, 40000, true), flowTables(3, 40010, true), flowTables(4, 40020, true)}}
				hs := newFlowsHarness(t, size.w, size.h, fake)
				hs.flowsOn(3)
				tc.setup(hs)
				golden.RequireEqual(t, hs.view())
			})
		}
	}
}

func TestFlowsStartingGolden(t *testing.T) {
	for _, size := range goldenSizes {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			fake := &fakeFlows{tables: [][]model.SocketTable{flowTables(1, 40000, false)}}
			hs := newFlowsHarness(t, size.w, size.h, fake)
			hs.sendOnly(keyRunes("f"))
			golden.RequireEqual(t, hs.view())
		})
	}
}

func TestFlowsFollowTheLanesFilter(t *testing.T) {
	fake := &fakeFlows{tables: [][]model.SocketTable{flowTables(2, 40000, true)}}
	hs := newFlowsHarness(t, 200, 50, fake)
	hs.flowsOn(1)
	hs.sendOnly(keyRunes("/"))
	hs.typeText("rogue")
	hs.press("enter")
	v := hs.view()
	if !strings.Contains(v, "Flows · 1 path · ! 1 flagged") || !strings.Contains(v, "rogue              → mongo:27017") && !strings.Contains(v, "rogue → mongo:27017") {
		t.Errorf("filtered to rogue, the panel does not show its one flow alone:\n%s", v)
	}
	if strings.Contains(v, "lb:80") {
		t.Errorf("filtered to rogue, the panel still shows lb's flows:\n%s", v)
	}
}

// TestFlowsSampleDrawsOnlyWhenItChanges: a sample a second that changes
// nothing on screen must not cost a drawing of the whole screen.
func TestFlowsSampleDrawsOnlyWhenItChanges(t *testing.T) {
	same := flowTables(2, 40000, false)
	fake := &fakeFlows{tables: [][]model.SocketTable{same, same, same, same, same, same, same, flowTables(3, 40000, false)}}
	hs := newFlowsHarness(t, 200, 50, fake)
	hs.flowsOn(6) // the rate window full: nothing moves any more
	hs.view()
	hs.sample(hs.nextSample())
	if hs.m.bodyDirty {
		t.Error("a sample equal to the last one asks for the screen to be drawn again")
	}
	hs.sample(hs.nextSample())
	if !hs.m.bodyDirty {
		t.Error("a sample with one more connection does not ask for the screen to be drawn again")
	}
	if !strings.Contains(hs.view(), "outside 172.20.0.1 → lb:80           3") {
		t.Errorf("the new count is not on screen:\n%s", hs.view())
	}
}

// TestFlowAgentNetworkEventStaysOutOfTheLog: turning flows on starts
// topo's agent, and the engine's "connect agent → none" must not read as
// something the audience did (its container events already stay out).
func TestFlowAgentNetworkEventStaysOutOfTheLog(t *testing.T) {
	topo := flowsTopo()
	agent := model.Container{ID: ctrID("topo-flows-1"), Name: "topo-flows-1", State: model.StateRunning,
		Labels: map[string]string{model.LabelProbe: "1"}, Endpoints: map[string]model.Endpoint{}}
	topo.Containers[agent.ID] = agent
	hs := newHarness(t, 80, 24, &topo)
	before := len(hs.m.log.entries)
	hs.event(model.Event{Type: "network", Action: "connect", ActorID: netID("front"),
		Attributes: map[string]string{"container": agent.ID, "name": "front", "type": "bridge"}})
	hs.event(model.Event{Type: "network", Action: "connect", ActorID: netID("front"),
		Attributes: map[string]string{"container": ctrID("rogue"), "name": "front", "type": "bridge"}})
	if got := len(hs.m.log.entries) - before; got != 1 {
		t.Errorf("%d log lines for the agent's and rogue's connect, want 1 (rogue's only)", got)
	}
}

func TestDedupeKeepsEachOnceInOrder(t *testing.T) {
	// IPv4 and IPv6 listeners of one port need not be neighbours once
	// sorted by address: 0.0.0.0:8080, 0.0.0.0:9000, [::]:8080.
	got := strings.Join(dedupe([]string{"a:8080", "a:9000", "a:8080", "b:80"}), " ")
	if got != "a:8080 a:9000 b:80" {
		t.Errorf("dedupe = %q", got)
	}
}

// TestFlowsShortPaneKeepsTheBusiestPaths: on a pane too short for every
// path, the flagged and the busiest stay, in path order, and the count of
// the others says where to see them.
func TestFlowsShortPaneKeepsTheBusiestPaths(t *testing.T) {
	fake := &fakeFlows{tables: [][]model.SocketTable{flowTables(3, 40000, true)}}
	hs := newFlowsHarness(t, 200, 50, fake)
	hs.flowsOn(2)
	p := hs.m.flows
	p.SetSize(60, 4)
	v := ansi.Strip(p.View())
	lines := strings.Split(v, "\n")
	if len(lines) != 4 || !strings.Contains(lines[3], "… 3 more") {
		t.Fatalf("a 4-line pane of 6 paths does not end with the count of the 3 left out:\n%s", v)
	}
	for i, want := range []string{"outside 172.20.0.1 → lb:80", "! rogue", "app-1"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %q, want %q there (flagged and busiest, in path order)", i+1, lines[i], want)
		}
	}
}

// TestFlowsFollowTheLanesFocus: focused on one project (o, or by itself
// on a small screen), the pane shows that project's flows, not the other
// work on a shared engine.
func TestFlowsFollowTheLanesFocus(t *testing.T) {
	topo := flowsTopo()
	rogue := topo.Containers[ctrID("rogue")]
	withCompose("intruder", "rogue", 1)(&rogue)
	topo.Containers[rogue.ID] = rogue
	fake := &fakeFlows{tables: [][]model.SocketTable{flowTables(2, 40000, true)}}
	hs := newHarnessWith(t, 200, 50, &topo, func(cfg *Config) { cfg.Flows = fake })
	hs.flowsOn(1)
	hs.m.lanes.SetFocus("intruder")
	hs.m.resize()
	hs.m.bodyDirty = true
	v := hs.view()
	if !strings.Contains(v, "Flows · 1 path · ! 1 flagged") || strings.Contains(v, "lb:80") {
		t.Errorf("focused on the intruder's project, the pane does not show its one flow alone:\n%s", v)
	}
}
