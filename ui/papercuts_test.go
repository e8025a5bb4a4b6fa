package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/topo-dev/topo/model"
)

// What a new user tripped over on stage (issue 13, item 9): one test each,
// named after what broke.

// headerLine finds the rule of the named lane in a view.
func headerLine(t *testing.T, view, lane string) []rune {
	t.Helper()
	for _, line := range strings.Split(ansi.Strip(view), "\n") {
		if strings.Contains(line, "━ "+lane+" ") {
			return []rune(line)
		}
	}
	t.Fatalf("no lane %q in:\n%s", lane, view)
	return nil
}

func TestRailPassingOverAForeignLaneLooksUnlikeJoiningIt(t *testing.T) {
	// p is on a and c: its rail passes over b, where it is not (b1 and
	// c1 tie b to both, so no lane order avoids the crossing).
	topo := newTopo().net("a").net("b").net("c").
		ctr("a1", []string{"a"}).ctr("a2", []string{"a"}).ctr("a3", []string{"a"}).
		ctr("p", []string{"a", "c"}).ctr("b1", []string{"a", "b"}).ctr("c1", []string{"b", "c"}).build()
	l := NewLanes(NewStyles(DefaultTheme()))
	l.SetSize(200, 20)
	l.SetTopology(topo)
	_, pcol, ok := l.layout.Position(ctrID("p"), "")
	if !ok {
		t.Fatal("p is not laid out")
	}
	x := l.viewCol(pcol)*l.colW + railOffset
	v := l.View()
	b, c := headerLine(t, v, "b"), headerLine(t, v, "c")
	if string(b[x-1:x+2]) != " │ " {
		t.Errorf("over lane b (not p's) the rail reads %q, want the rule broken around it %q:\n%s", string(b[x-1:x+2]), " │ ", v)
	}
	if string(c[x]) != "╂" {
		t.Errorf("on lane c (p's) the rail reads %q, want the junction ╂:\n%s", string(c[x]), v)
	}
}

func TestLaneTitleSaysHowManyMoreNotCrypticMarkers(t *testing.T) {
	topo := sixtyTopo()
	hs := newHarness(t, 80, 24, &topo)
	v := hs.view()
	if !strings.Contains(v, "55 more →") || strings.Contains(v, "▸ ━") || strings.Contains(v, "55▸") {
		t.Errorf("the lane's title does not say how many nodes are further right in words:\n%s", v)
	}
	hs.press("right", "right", "right", "right", "right", "right")
	if v := hs.view(); !strings.Contains(v, "← 2 more") {
		t.Errorf("after scrolling right the title does not say how many are to the left:\n%s", v)
	}
}

func TestRegistryGoneAfterTeardownSaysSoAndItsAgeTicks(t *testing.T) {
	topo := stageTopo(2)
	hs := newHarnessWith(t, 120, 40, &topo, func(c *Config) { c.Registry = &fakeConnector{results: []error{nil}} })
	consul := topo.Containers[ctrID("topo-demo-consul-1")]
	r := stageRegistry(topo)
	// sendOnly: the commands wait on the watch's channel.
	hs.sendOnly(RegistryConnectedMsg{Conns: []RegistryConn{{Updates: make(chan model.Registry), Addr: r.Addr, Source: r.Source,
		Auto: true, Container: consul.ID, Stop: func() {}}}})
	r.Error, r.ErrorSince = "consul at 172.21.0.2:8500 unreachable: connection refused", hs.now
	hs.sendOnly(RegistryMsg{Registry: r, watch: hs.m.regWatches[0].id})
	first := ansi.Strip(hs.view())
	hs.now = hs.now.Add(7 * time.Second)
	hs.sendOnly(TickMsg{})
	if v := ansi.Strip(hs.view()); v == first || !strings.Contains(v, "failing for 7s") {
		t.Errorf("the failing registry's age does not count with the clock:\n%s", v)
	}
	hs.event(model.Event{Type: model.EventContainer, Action: "destroy", ActorID: consul.ID, Attributes: map[string]string{"name": consul.Name}})
	if v := ansi.Strip(hs.view()); !strings.Contains(v, "gone") || strings.Contains(v, "failing for") {
		t.Errorf("after T the registry panel does not say its registry is gone:\n%s", v)
	}
}

func TestEmptyNoRegistryPanelTakesOnlyItsLines(t *testing.T) {
	topo := basicTopo()
	hs := newHarnessWith(t, 80, 24, &topo, func(c *Config) {
		c.Registry = &fakeConnector{results: []error{errors.New("no registry: start one, or name it with --consul ADDR or CONSUL_HTTP_ADDR")}}
	})
	hs.send(RegistryConnectedMsg{Err: errors.New("no registry: start one, or name it with --consul ADDR or CONSUL_HTTP_ADDR")})
	panels := hs.m.visiblePanels()
	l := hs.m.arrange(panels)
	for i, p := range panels {
		if p.pane == paneRegistry && l.panels[i].h > 5 {
			t.Errorf("the empty registry panel takes %d of 24 rows:\n%s", l.panels[i].h, hs.view())
		}
	}
	if v := hs.view(); !strings.Contains(v, "no registry: start one") {
		t.Errorf("the panel does not say why there is no registry:\n%s", v)
	}
}

func TestHelpFitsAt80x24WithEveryLegendAndHowToClose(t *testing.T) {
	hs := stageHarness(t, 80, 24, 3)
	hs.press("?")
	v := ansi.Strip(hs.view())
	for _, want := range []string{"Nodes:", "Health:", "Rails:", "Replicas:", "Registry:", "R? unregistered", "any key closes this help",
		"D deploy the demo", "T tear the demo down", "focus on a project", "group replicas", "quit"} {
		if !strings.Contains(v, want) {
			t.Errorf("help at 80×24 cuts %q:\n%s", want, v)
		}
	}
}

func TestKilledContainerIsNotMarkedUnhealthy(t *testing.T) {
	topo := newTopo().net("n").
		ctr("gone", []string{"n"}, withHealth(model.HealthUnhealthy), withExit(137)).
		ctr("sick", []string{"n"}, withHealth(model.HealthUnhealthy)).build()
	hs := newHarness(t, 80, 24, &topo)
	v := ansi.Strip(hs.view())
	if strings.Contains(v, "gone ✗") || !strings.Contains(v, "○ gone") {
		t.Errorf("a killed container keeps its last health mark ✗, read as failing:\n%s", v)
	}
	if !strings.Contains(v, "sick ✗") {
		t.Errorf("a running unhealthy container lost its mark:\n%s", v)
	}
}

func TestNamesNotCutAt16WhenThereIsRoom(t *testing.T) {
	name := "payments-gateway-primary" // 24 characters
	topo := newTopo().net("n").ctr(name, []string{"n"}).ctr("db", []string{"n"}).ctr("cache", []string{"n"}).build()
	hs := newHarness(t, 120, 30, &topo)
	if v := ansi.Strip(hs.view()); !strings.Contains(v, name) {
		t.Errorf("at 120 columns with three nodes the name is cut:\n%s", v)
	}
}

func TestKeptActionMessageDoesNotHideTheKeyHints(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 30, &topo)
	hs.press("x", "y")
	footer := footerOf(ansi.Strip(hs.view()))
	if !strings.Contains(footer, "killed worker") || !strings.Contains(footer, "? help") {
		t.Errorf("footer %q: want the action's result and the key hints", footer)
	}
}

// TestLanesBelowTheFoldAreCounted: after b at 80×24 the built-in lanes sat
// below the panel with no hint that there was anything more.
func TestLanesBelowTheFoldAreCounted(t *testing.T) {
	topo := stageTopo(3)
	hs := newHarnessWith(t, 80, 18, &topo, func(c *Config) { c.Demo = &fakeDeployer{} })
	hs.press("o", "b") // all, with the built-in lanes
	v := ansi.Strip(hs.view())
	title := strings.Split(v, "\n")[1]
	if !strings.Contains(title, "below") {
		t.Errorf("the lanes' title does not count the lanes below the fold: %q\n%s", title, v)
	}
}

// TestTrafficShowsEveryInstanceBesideTheRegistry: at 80×24 the traffic
// pane and the registry split the rows evenly, and the third instance's
// row was cut although the registry list had rows to spare.
func TestTrafficShowsEveryInstanceBesideTheRegistry(t *testing.T) {
	topo := stageTopo(4)
	hs := newHarnessWith(t, 80, 24, &topo, func(c *Config) {
		c.Demo = &fakeDeployer{}
		c.Registry = &fakeConnector{results: []error{nil}}
		c.Traffic = &fakeTraffic{snaps: []TrafficSnapshot{{At: testNow, Rate: 20, PerSecond: 20,
			Instances: []TrafficInstance{{"app-2", 7}, {"app-3", 6}, {"app-4", 7}}, TotalRequests: 200}}}
	})
	hs.send(RegistryMsg{Registry: stageRegistry(topo)})
	for _, msg := range runCmd(t, hs.sendOnly(keyRunes("g"))) {
		if _, ok := msg.(TrafficMsg); ok {
			hs.sendOnly(msg)
		}
	}
	t.Cleanup(hs.m.Close)
	v := ansi.Strip(hs.view())
	for _, want := range []string{"app-2 ", "app-3 ", "app-4 ", "errors 0.0%", "Registry", "app ×4"} {
		if !strings.Contains(v, want) {
			t.Errorf("at 80×24 with traffic on, %q is not on screen:\n%s", want, v)
		}
	}
}

// TestTabWhileDetailsZoomedKeepsTheFocusOnScreen: at 120 columns enter
// zooms the details over the lanes; tab then focused the hidden lanes and
// no pane on screen showed the focus mark.
func TestTabWhileDetailsZoomedKeepsTheFocusOnScreen(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 30, &topo)
	hs.press("enter")
	for range 3 {
		hs.press("tab")
		if v := ansi.Strip(hs.view()); !strings.Contains(v, "▸ ") {
			t.Fatalf("after tab no pane on screen has the focus mark (focus %v):\n%s", hs.m.focus, v)
		}
	}
}

// Regression (issue 13): after T the traffic generator kept sending to the
// load balancer that was gone, 100 % errors, until g was pressed again.
func TestTeardownStopsTheTraffic(t *testing.T) {
	topo := stageTopo(2)
	hs := newHarnessWith(t, 120, 40, &topo, func(c *Config) {
		c.Demo = &fakeDeployer{}
		c.Traffic = &fakeTraffic{snaps: []TrafficSnapshot{{At: testNow, Rate: 20, PerSecond: 20,
			Instances: []TrafficInstance{{"app-1", 10}, {"app-2", 10}}, TotalRequests: 200}}}
	})
	t.Cleanup(hs.m.Close)
	var wait tea.Cmd
	for _, msg := range runCmd(t, hs.sendOnly(keyRunes("g"))) {
		if _, ok := msg.(TrafficMsg); ok {
			wait = hs.sendOnly(msg) // the wait for the next snapshot
		}
	}
	if !hs.m.traffic.Running() || wait == nil {
		t.Fatal("g did not start the traffic")
	}
	hs.sendOnly(keyRunes("T"))
	cmd := hs.sendOnly(keyRunes("y"))
	done := false
	for i := 0; i < 20 && !done; i++ {
		var next []tea.Cmd
		for _, msg := range runCmd(t, cmd) {
			switch msg := msg.(type) {
			case DemoStepMsg:
				next = append(next, hs.sendOnly(msg))
			case DemoDoneMsg:
				hs.sendOnly(msg)
				done = true
			}
		}
		cmd = tea.Batch(next...)
	}
	if !done {
		t.Fatal("the teardown never ended")
	}
	// The generator ends: its wait yields the stopped message (it would
	// wait for a snapshot to the end of the test otherwise).
	for _, msg := range runCmd(t, wait) {
		if _, ok := msg.(TrafficStoppedMsg); !ok {
			t.Fatalf("after the teardown the traffic sent %#v, want it stopped", msg)
		}
		hs.sendOnly(msg)
	}
	if hs.m.traffic.Running() {
		t.Errorf("the traffic still runs after the demo is gone:\n%s", ansi.Strip(hs.view()))
	}
	if v := ansi.Strip(hs.view()); !strings.Contains(v, "traffic stopped: the demo is gone") {
		t.Errorf("the log does not say why the traffic stopped:\n%s", v)
	}
}

// Regression (issue 13): in a 16-cell column the isolation overlay's mark
// after the address cut a 192.168 address (192.168.0.1…); the mark goes
// on the name line, the address stays whole.
func TestOverlayMarkDoesNotCutTheAddress(t *testing.T) {
	b := newTopo().net("lan")
	for i := range 5 {
		b.ctr(fmt.Sprintf("n%d", i), []string{"lan"}, func(c *model.Container) {
			for id, e := range c.Endpoints {
				e.IPv4 = fmt.Sprintf("192.168.0.1%d", i)
				c.Endpoints[id] = e
			}
		})
	}
	l := NewLanes(NewStyles(DefaultTheme()))
	l.SetSize(80, 20)
	l.SetTopology(b.build())
	l.SetMarker(func(model.Container) string { return markReach })
	if l.colW != minColumnWidth {
		t.Fatalf("columns are %d cells, want the narrowest, %d", l.colW, minColumnWidth)
	}
	v := ansi.Strip(l.View())
	for i := range 5 {
		if ip := fmt.Sprintf("192.168.0.1%d", i); !strings.Contains(v, ip) {
			t.Errorf("%s is cut:\n%s", ip, v)
		}
	}
	if !strings.Contains(v, "● n0 "+markReach) {
		t.Errorf("the mark is not on the name line:\n%s", v)
	}
}

// TestFitAddrKeepsTheEnd: a narrow column keeps what tells a lane's nodes
// apart, the address's last parts, and cuts whole leading ones.
func TestFitAddrKeepsTheEnd(t *testing.T) {
	for _, tt := range []struct {
		in   string
		w    int
		want string
	}{
		{"172.23.0.3", 10, "172.23.0.3"},
		{"172.23.0.3", 9, "…23.0.3  "},
		{"172.23.0.3", 6, "…0.3  "},
		{"192.168.100.200", 13, "…168.100.200 "},
		{"fd00::1:2", 6, "…1:2  "},
		{"exited(137)", 9, "exited(1…"},
		{"no address", 6, "no ad…"},
	} {
		if got := fitAddr(tt.in, tt.w); got != tt.want {
			t.Errorf("fitAddr(%q, %d) = %q, want %q", tt.in, tt.w, got, tt.want)
		}
	}
}
