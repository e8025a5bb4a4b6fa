package ui

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/topo-dev/topo/model"
)

// stageTopo is the demo as `D` deploys it, with replicas app instances,
// on an engine where other work runs too: a compose project of three
// services on its own network and a plain container on two networks of
// its own (the bystanders of issue 13).
func stageTopo(replicas int) model.Topology {
	b := newTopo().builtIn().net("topo-demo_back").net("topo-demo_front").
		net("shop_default").net("scratch-a").net("scratch-b")
	demo := func(svc string, n int) func(*model.Container) { return withCompose("topo-demo", svc, n) }
	b.ctr("topo-demo-consul-1", []string{"topo-demo_front", "topo-demo_back"}, demo("consul", 1))
	b.ctr("topo-demo-mongo-1", []string{"topo-demo_back"}, demo("mongo", 1))
	b.ctr("topo-demo-engine-proxy-1", []string{"none"}, demo("engine-proxy", 1))
	b.ctr("topo-demo-registrator-1", []string{"topo-demo_back"}, demo("registrator", 1))
	for i := 1; i <= replicas; i++ {
		b.ctr(fmt.Sprintf("topo-demo-app-%d", i), []string{"topo-demo_front", "topo-demo_back"}, demo("app", i), withHealth(model.HealthHealthy))
	}
	b.ctr("topo-demo-lb-1", []string{"topo-demo_front"}, demo("lb", 1))
	for _, svc := range []string{"web", "api", "db"} {
		b.ctr("shop-"+svc+"-1", []string{"shop_default"}, withCompose("shop", svc, 1))
	}
	b.ctr("scratchpad", []string{"scratch-a", "scratch-b"})
	b.ctr("legacy", []string{"bridge"})
	return b.build()
}

// stageRegistry is the demo's Consul with every app instance passing.
func stageRegistry(topo model.Topology) model.Registry {
	r := model.Registry{Addr: "172.21.0.2:8500", Source: "auto: container topo-demo-consul-1", Datacenter: "dc1",
		Leader: "127.0.0.1:8300", LastIndex: 42, FetchedAt: testNow}
	app := model.Service{Name: "app"}
	var apps []model.Container
	for _, c := range topo.Containers {
		apps = append(apps, c)
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i].Number() < apps[j].Number() })
	for _, c := range apps {
		if c.Service() == "app" && c.Project() == "topo-demo" {
			app.Instances = append(app.Instances, model.Instance{ID: c.Name + ":8080", Service: "app",
				Address: c.Endpoints[netID("topo-demo_front")].IPv4, Port: 8080, Node: "consul",
				Meta:   map[string]string{model.MetaContainerID: c.ID},
				Checks: []model.Check{httpCheck(c.Name, model.CheckPassing, "200 OK")}})
		}
	}
	r.Services = []model.Service{app, {Name: "consul", Instances: []model.Instance{
		{ID: "consul", Service: "consul", NodeAddress: "127.0.0.1", Port: 8300, Node: "consul", Checks: []model.Check{serf()}}}}}
	return r
}

// stageHarness is topo on stage: the demo deployer configured, the demo
// running with replicas app instances beside the bystanders, and its
// Consul found and answering.
func stageHarness(t *testing.T, w, h, replicas int) *harness {
	topo := stageTopo(replicas)
	hs := newHarnessWith(t, w, h, &topo, func(c *Config) {
		c.Demo = &fakeDeployer{url: "http://127.0.0.1:8080"}
		c.Registry = &fakeConnector{results: []error{nil}}
	})
	hs.send(RegistryMsg{Registry: stageRegistry(topo)})
	return hs
}

// TestStageGolden: the demo on stage at a projector's 80×24 and at
// 120×35. Regenerate with `go test ./ui -run TestStageGolden -update`.
func TestStageGolden(t *testing.T) {
	for _, sc := range stageScreens {
		for _, size := range []struct{ w, h int }{{80, 24}, {120, 35}} {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size.w, size.h), func(t *testing.T) {
				hs := stageHarness(t, size.w, size.h, sc.replicas)
				if sc.setup != nil {
					sc.setup(hs)
				}
				golden.RequireEqual(t, hs.view())
			})
		}
	}
}

// TestDemoFitsAt80x24 (issue 13, item 1): after D, with other work on the
// engine, both demo lanes and every demo container on a lane are on
// screen at once, each app instance's registry state with them, at 3, 5
// and 20 replicas, without a key pressed.
func TestDemoFitsAt80x24(t *testing.T) {
	for _, n := range []int{3, 5, 20} {
		hs := stageHarness(t, 80, 24, n)
		v := ansi.Strip(hs.view())
		for _, want := range []string{"topo-demo_back", "topo-demo_front", "mongo.1", "registrator", "consul.1", "lb.1",
			fmt.Sprintf("app ×%d", n), fmt.Sprintf("R✓%d", n), "focus · 4 hidden"} {
			if !strings.Contains(v, want) {
				t.Errorf("%d replicas: %q is not on screen:\n%s", n, want, v)
			}
		}
		if strings.Contains(v, "←/→ scroll") || strings.Contains(v, "more →") {
			t.Errorf("%d replicas: the demo needs a scroll key:\n%s", n, v)
		}
	}
}

// TestDemoFitsAt60x16 (issue 13): at the smallest size the columns
// narrow (12 cells) so the five demo columns show at once, lb and consul
// included, where 20-cell columns showed three and scrolled; an address
// keeps its last octets.
func TestDemoFitsAt60x16(t *testing.T) {
	for _, n := range []int{3, 20} {
		hs := stageHarness(t, 60, 16, n)
		v := ansi.Strip(hs.view())
		for _, want := range []string{"topo-demo_back", "topo-demo_front", "mongo.1", "registr…", "consul.1", "lb.1",
			fmt.Sprintf("×%d", n), fmt.Sprintf("R✓%d", n), "…23.0.3"} {
			if !strings.Contains(v, want) {
				t.Errorf("%d replicas: %q is not on screen:\n%s", n, want, v)
			}
		}
		if strings.Contains(v, "←/→ scroll") || strings.Contains(v, "more →") {
			t.Errorf("%d replicas: the demo needs a scroll key:\n%s", n, v)
		}
	}
}

// TestFocusCyclesThroughProjects: o goes from the demo (the automatic
// focus) to each project in turn, then to all; the presenter's choice
// stands.
func TestFocusCyclesThroughProjects(t *testing.T) {
	hs := stageHarness(t, 80, 24, 3)
	var seen []string
	for range 3 {
		seen = append(seen, hs.m.lanes.Focus())
		hs.press("o")
	}
	if want := []string{"topo-demo", "", "shop"}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("o cycles the focus through %q, want %q", seen, want)
	}
	if f := hs.m.lanes.Focus(); f != "topo-demo" {
		t.Errorf("after all and every project, focus %q, want the demo again", f)
	}
	hs.press("o") // all, chosen this time
	hs.snapshot(stageTopo(4))
	if f := hs.m.lanes.Focus(); f != "" {
		t.Errorf("a chosen focus (all) was replaced by the automatic one: %q", f)
	}
}

// TestNoAutomaticFocusWhenEverythingFits: on a large terminal the demo is
// shown with the rest.
func TestNoAutomaticFocusWhenEverythingFits(t *testing.T) {
	hs := stageHarness(t, 250, 70, 3)
	if f := hs.m.lanes.Focus(); f != "" {
		t.Errorf("focused on %q although everything fits 250×70:\n%s", f, hs.view())
	}
}

// TestReplicaGroupReachesEachReplica: ←/→ steps through a collapsed
// group's replicas, x asks about the one selected, z opens the group.
func TestReplicaGroupReachesEachReplica(t *testing.T) {
	hs := stageHarness(t, 80, 24, 5)
	hs.press("right", "right")
	var names []string
	for range 5 {
		names = append(names, hs.selected())
		hs.press("right")
	}
	if want := "[app.1 app.2 app.3 app.4 app.5]"; fmt.Sprint(names) != want {
		t.Fatalf("→ through the group selects %v, want %s", names, want)
	}
	hs.press("left", "left")
	if v := ansi.Strip(hs.view()); !strings.Contains(v, "▶● app.4 ×5") {
		t.Errorf("the group does not name the selected replica:\n%s", v)
	}
	hs.press("x")
	if v := ansi.Strip(hs.view()); !strings.Contains(footerOf(v), "Kill app.4") {
		t.Errorf("x on the group does not ask about the selected replica: %q", footerOf(v))
	}
	hs.press("n", "z")
	v := ansi.Strip(hs.view())
	if strings.Contains(v, "×5") || !strings.Contains(v, "▶● app.4") {
		t.Errorf("z did not open the group, or lost the selection:\n%s", v)
	}
	hs.press("z")
	if v := ansi.Strip(hs.view()); !strings.Contains(v, "app.4 ×5") {
		t.Errorf("z again did not close the group:\n%s", v)
	}
}

// TestLaneWithEveryNodeOffScreenTakesNoRows (issue 13, item 4): a lane
// whose nodes are all on another horizontal page was an empty band.
func TestLaneWithEveryNodeOffScreenTakesNoRows(t *testing.T) {
	b := newTopo().net("left").net("right")
	for i := 1; i <= 6; i++ {
		b.ctr(fmt.Sprintf("l%d", i), []string{"left"})
	}
	b.ctr("r1", []string{"right"})
	topo := b.build()
	hs := newHarness(t, 80, 24, &topo)
	v := ansi.Strip(hs.view())
	if strings.Contains(v, "━ right ") || !strings.Contains(v, "1 lane off to the side") {
		t.Errorf("the lane with no node on this page takes rows, or is not counted:\n%s", v)
	}
	hs.press("j") // down to the nearest node of the next lane: r1
	if v := ansi.Strip(hs.view()); !strings.Contains(v, "━ right ") {
		t.Errorf("scrolled to its node, the lane does not come back:\n%s", v)
	}
}
