package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/topo-dev/topo/model"
)

// twoRegistriesTopo: the talk's split. The shop's app instances belong in
// the apps registry, its database and load balancer in infra (by label or
// SERVICE_* environment); each registry runs in a container of its own.
// shop-app-3 names apps but was registered in infra: misplaced.
func twoRegistriesTopo() model.Topology {
	b := newTopo().net("shop_front").net("shop_back")
	apps := func(c *model.Container) { c.Labels[model.LabelRegistry] = "apps" }
	b.ctr("shop-lb-1", []string{"shop_front"}, withCompose("shop", "lb", 1), func(c *model.Container) {
		c.ServiceEnv = map[string]string{model.LabelServiceRegistry: "infra"}
	})
	b.ctr("shop-app-1", []string{"shop_front", "shop_back"}, withCompose("shop", "app", 1), apps, withHealth(model.HealthHealthy))
	b.ctr("shop-app-2", []string{"shop_front", "shop_back"}, withCompose("shop", "app", 2), apps)
	b.ctr("shop-app-3", []string{"shop_front", "shop_back"}, withCompose("shop", "app", 3), apps)
	b.ctr("shop-mongo-1", []string{"shop_back"}, withCompose("shop", "mongo", 1), func(c *model.Container) {
		c.Labels[model.LabelServiceRegistry] = "infra"
	})
	b.ctr("shop-consul-1", []string{"shop_back"}, withCompose("shop", "consul", 1))
	b.ctr("shop-infra-consul-1", []string{"shop_back"}, withCompose("shop", "infra-consul", 1))
	return b.build()
}

// instanceOf is an instance of service tied to a container by meta.
func instanceOf(topo model.Topology, service, name, network string, port int, st model.CheckStatus) model.Instance {
	c := topo.Containers[ctrID(name)]
	return model.Instance{ID: name, Service: service, Address: c.Endpoints[netID(network)].IPv4, Port: port, Node: "consul",
		Meta:   map[string]string{model.MetaContainerID: c.ID},
		Checks: []model.Check{serf(), httpCheck(name, st, "HTTP GET /health: "+string(st))}}
}

// twoRegistries are the snapshots of apps and infra over twoRegistriesTopo.
func twoRegistries() (apps, infra model.Registry) {
	topo := twoRegistriesTopo()
	apps = model.Registry{Name: "apps", Addr: "172.21.0.7:8500", Source: "auto: container shop-consul-1 (172.21.0.7:8500 on network shop_back)",
		Datacenter: "dc1", Leader: "127.0.0.1:8300", LastIndex: 88, FetchedAt: testNow.Add(-2 * time.Second),
		Services: []model.Service{{Name: "app", Instances: []model.Instance{
			instanceOf(topo, "app", "shop-app-1", "shop_front", 8080, model.CheckPassing),
			instanceOf(topo, "app", "shop-app-2", "shop_front", 8080, model.CheckPassing),
		}}}}
	infra = model.Registry{Name: "infra", Addr: "172.21.0.8:8500", Source: "auto: container shop-infra-consul-1 (172.21.0.8:8500 on network shop_back)",
		Datacenter: "infra", Leader: "127.0.0.1:8300", LastIndex: 31, FetchedAt: testNow.Add(-3 * time.Second),
		Services: []model.Service{
			{Name: "app", Instances: []model.Instance{instanceOf(topo, "app", "shop-app-3", "shop_front", 8080, model.CheckPassing)}},
			{Name: "lb", Instances: []model.Instance{instanceOf(topo, "lb", "shop-lb-1", "shop_front", 80, model.CheckPassing)}},
			{Name: "mongo", Instances: []model.Instance{instanceOf(topo, "mongo", "shop-mongo-1", "shop_back", 27017, model.CheckPassing)}},
		}}
	return apps, infra
}

// connectTwo gives the model the two registries' watches and snapshots,
// as the connector and the watches would.
func connectTwo(hs *harness, apps, infra model.Registry) {
	hs.t.Helper()
	conn := func(r model.Registry, container string) RegistryConn {
		return RegistryConn{Updates: make(chan model.Registry), Name: r.Name, Addr: r.Addr, Source: r.Source,
			Auto: true, Container: ctrID(container), Stop: func() {}}
	}
	// The commands wait on the watches' channels: not run here.
	hs.m.Update(RegistryConnectedMsg{Conns: []RegistryConn{conn(apps, "shop-consul-1"), conn(infra, "shop-infra-consul-1")}})
	for i, r := range []model.Registry{apps, infra} {
		hs.m.Update(RegistryMsg{Registry: r, watch: hs.m.regWatches[i].id})
	}
}

var twoRegistryScreens = []struct {
	name  string
	setup func(hs *harness, apps, infra model.Registry)
}{
	{"two_registries_misplaced", func(hs *harness, apps, infra model.Registry) {
		connectTwo(hs, apps, infra)
		// app.3, the misplaced one: the panel shows its row.
		hs.m.lanes.Select(ctrID("shop-app-3"))
		hs.run(hs.m.selectionChanged())
	}},
	{"two_registries_one_failing", func(hs *harness, apps, infra model.Registry) {
		connectTwo(hs, apps, infra)
		hs.now = hs.now.Add(20 * time.Second)
		infra.Error = "consul at 172.21.0.8:8500 unreachable while reading the catalog: dial tcp 172.21.0.8:8500: connect: connection refused; start it or point --consul/CONSUL_HTTP_ADDR at it (retrying)"
		infra.ErrorSince = hs.now.Add(-12 * time.Second)
		hs.m.Update(RegistryMsg{Registry: infra, watch: hs.m.regWatches[1].id})
		apps.FetchedAt = hs.now.Add(-time.Second)
		hs.m.Update(RegistryMsg{Registry: apps, watch: hs.m.regWatches[0].id})
	}},
	{"two_registries_one_gone", func(hs *harness, apps, infra model.Registry) {
		connectTwo(hs, apps, infra)
		hs.now = hs.now.Add(5 * time.Second)
		consul := hs.m.topo.Containers[ctrID("shop-infra-consul-1")]
		consul.State, consul.ExitCode = model.StateExited, 137
		hs.event(model.Event{Type: model.EventContainer, Action: "die", ActorID: consul.ID, Container: &consul,
			Attributes: map[string]string{"name": consul.Name, "exitCode": "137"}})
	}},
}

// TestTwoRegistriesGolden: each registry a section with its own state
// line, badges naming the registry (A for apps, I for infra), the
// misplaced container flagged on its badge, in its row and in the log.
func TestTwoRegistriesGolden(t *testing.T) {
	for _, sc := range twoRegistryScreens {
		for _, size := range goldenSizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size.w, size.h), func(t *testing.T) {
				topo := twoRegistriesTopo()
				hs := newHarnessWith(t, size.w, size.h, &topo, func(c *Config) { c.Registry = &fakeConnector{results: []error{nil}} })
				apps, infra := twoRegistries()
				sc.setup(hs, apps, infra)
				v := hs.view()
				for i, line := range strings.Split(v, "\n") {
					if lw := ansi.StringWidth(line); lw > size.w {
						t.Errorf("line %d is %d cells wide: %q", i+1, lw, line)
					}
				}
				golden.RequireEqual(t, v)
			})
		}
	}
}

func TestTwoRegistriesBadgesAndMisplaced(t *testing.T) {
	topo := twoRegistriesTopo()
	hs := newHarnessWith(t, 200, 50, &topo, func(c *Config) { c.Registry = &fakeConnector{results: []error{nil}} })
	apps, infra := twoRegistries()
	connectTwo(hs, apps, infra)
	for name, want := range map[string]string{
		"shop-app-1": "A✓", "shop-app-3": "I✓≠", "shop-mongo-1": "I✓", "shop-lb-1": "I✓", "shop-consul-1": "",
	} {
		if got := ansi.Strip(hs.m.registry.Badge(topo.Containers[ctrID(name)])); got != want {
			t.Errorf("badge of %s = %q, want %q", name, got, want)
		}
	}
	logged := func() int {
		return strings.Count(ansi.Strip(hs.view()), "app.3 is registered in infra but belongs in apps")
	}
	if n := logged(); n != 1 {
		t.Fatalf("the misplaced container is logged %d times, want once", n)
	}
	// A new snapshot of either registry, or an engine event, does not
	// log it again.
	hs.m.Update(RegistryMsg{Registry: infra, watch: hs.m.regWatches[1].id})
	hs.event(model.Event{Type: model.EventContainer, Action: "exec_start: sh", ActorID: ctrID("shop-app-1"), Attributes: map[string]string{"name": "shop-app-1"}})
	if n := logged(); n != 1 {
		t.Errorf("logged %d times after more snapshots, want once", n)
	}
	// Registered where it belongs, and deregistered from infra: resolved.
	apps.Services[0].Instances = append(apps.Services[0].Instances, instanceOf(topo, "app", "shop-app-3", "shop_front", 8080, model.CheckPassing))
	infra.Services = infra.Services[1:]
	hs.m.Update(RegistryMsg{Registry: apps, watch: hs.m.regWatches[0].id})
	hs.m.Update(RegistryMsg{Registry: infra, watch: hs.m.regWatches[1].id})
	if got := ansi.Strip(hs.m.registry.Badge(topo.Containers[ctrID("shop-app-3")])); got != "A✓" {
		t.Errorf("badge of shop-app-3 once moved = %q, want A✓", got)
	}
	if !strings.Contains(ansi.Strip(hs.view()), "app.3 is no longer misplaced") {
		t.Error("the log does not say the container is no longer misplaced")
	}
}

// A snapshot of a watch that was replaced (its registry found again at
// another address) is dropped: it would draw the old agent's data over
// the new one's.
func TestSnapshotOfAReplacedWatchIsDropped(t *testing.T) {
	topo := twoRegistriesTopo()
	hs := newHarnessWith(t, 200, 50, &topo, func(c *Config) { c.Registry = &fakeConnector{results: []error{nil}} })
	apps, infra := twoRegistries()
	connectTwo(hs, apps, infra)
	old := hs.m.regWatches[1].id
	hs.m.Update(RegistryConnectedMsg{Conns: []RegistryConn{{Updates: make(chan model.Registry), Name: "infra", Addr: "172.21.0.9:8500",
		Source: "auto: container shop-infra-consul-1 (172.21.0.9:8500 on network shop_back)", Auto: true, Stop: func() {}}}})
	if len(hs.m.regWatches) != 2 || hs.m.regWatches[1].id == old || hs.m.regWatches[1].Addr != "172.21.0.9:8500" {
		t.Fatalf("watches after infra moved: %+v", hs.m.regWatches)
	}
	late := infra
	late.LastIndex = 999
	if _, cmd := hs.m.Update(RegistryMsg{Registry: late, watch: old}); cmd != nil {
		t.Error("a replaced watch is waited on again")
	}
	if r, _ := hs.m.registry.Registry("infra"); r.LastIndex == 999 {
		t.Error("the replaced watch's snapshot was drawn")
	}
	// The same agent found again keeps its watch.
	kept := hs.m.regWatches[0].id
	newStopped := false
	hs.m.Update(RegistryConnectedMsg{Conns: []RegistryConn{{Updates: make(chan model.Registry), Name: "apps", Addr: apps.Addr, Auto: true,
		Stop: func() { newStopped = true }}}})
	if hs.m.regWatches[0].id != kept || !newStopped {
		t.Errorf("apps found again at the same address: watch %d (was %d), new one stopped %v", hs.m.regWatches[0].id, kept, newStopped)
	}
}

// With only named registries (--consul), a container starting never
// starts a new look; with found ones, a Consul starting does, even while
// every registry is live (the demo's second registry arrives that way).
func TestRegistryStartingIsLookedFor(t *testing.T) {
	topo := twoRegistriesTopo()
	f := &fakeConnector{results: []error{nil}}
	hs := newHarnessWith(t, 200, 50, &topo, func(c *Config) { c.Registry = f })
	apps, _ := twoRegistries()
	hs.m.Update(RegistryConnectedMsg{Conns: []RegistryConn{{Updates: make(chan model.Registry), Name: "apps", Addr: apps.Addr, Auto: true,
		Container: ctrID("shop-consul-1"), Stop: func() {}}}})
	hs.m.regSearching = false
	start := func(name string) tea.Cmd {
		c := hs.m.topo.Containers[ctrID(name)]
		ev := model.Event{Type: model.EventContainer, Action: "start", ActorID: c.ID, Container: &c, Time: hs.now,
			Attributes: map[string]string{"name": name}}
		_, cmd := hs.m.Update(EngineUpdateMsg{Update: model.Update{Event: &ev}})
		return cmd
	}
	start("shop-app-2")
	if hs.m.regSearching {
		t.Error("an app container starting started a look while the registry is live")
	}
	start("shop-infra-consul-1")
	if !hs.m.regSearching {
		t.Error("a Consul starting did not start a look")
	}
	// A start during the look asks for one more after it.
	hs.m.regSearching = true
	start("shop-infra-consul-1")
	if !hs.m.regAgain {
		t.Error("a Consul starting during a look is not looked for after it")
	}
}

// With one registry, a container that names another (one topo does not
// follow) and is registered in this one is flagged too: the only
// registry is not where it says it belongs.
func TestOneRegistryFlagsAContainerNamingAnother(t *testing.T) {
	topo := twoRegistriesTopo()
	p := NewRegistryPanel(NewStyles(DefaultTheme()), func() time.Time { return testNow })
	p.SetSize(sideWidth, 30)
	p.SetTopology(topo)
	_, infra := twoRegistries()
	infra.Name = "consul"
	p.SetRegistry(infra)
	if got := ansi.Strip(p.Badge(topo.Containers[ctrID("shop-mongo-1")])); got != "R✓≠" {
		t.Errorf("badge of mongo (names infra, in consul) = %q, want R✓≠", got)
	}
	if got := ansi.Strip(p.Badge(topo.Containers[ctrID("shop-lb-1")])); got != "R✓≠" {
		t.Errorf("badge of lb (SERVICE_REGISTRY=infra in its environment, in consul) = %q, want R✓≠", got)
	}
	if v := ansi.Strip(p.View()); !strings.Contains(v, "belongs in infra (a registry not followed)") {
		t.Errorf("the row does not say why:\n%s", v)
	}
}

// The demo starts its two Consuls at once: a look that finds one while
// the other does not answer yet is followed by another on a timer; and
// the same agent found again under another name keeps its section.
func TestSecondRegistryIsLookedForUntilItAnswers(t *testing.T) {
	topo := twoRegistriesTopo()
	hs := newHarnessWith(t, 200, 50, &topo, func(c *Config) { c.Registry = &fakeConnector{results: []error{nil}} })
	apps, infra := twoRegistries()
	_, cmd := hs.m.Update(RegistryConnectedMsg{Conns: []RegistryConn{{Updates: make(chan model.Registry), Name: apps.Name, Addr: apps.Addr,
		Auto: true, Container: ctrID("shop-consul-1"), Stop: func() {}}}})
	if !hs.m.unwatchedRegistry() || hs.m.regRetries != 1 || cmd == nil {
		t.Fatalf("infra-consul runs unwatched: retries %d, command %v; want a look on a timer", hs.m.regRetries, cmd != nil)
	}
	connectTwo(hs, apps, infra)
	if hs.m.unwatchedRegistry() {
		t.Error("both watched, yet a registry container counts as unwatched")
	}
	stopped := false
	hs.m.Update(RegistryConnectedMsg{Conns: []RegistryConn{{Updates: make(chan model.Registry), Name: "shop-infra-consul-1", Addr: infra.Addr,
		Auto: true, Container: ctrID("shop-infra-consul-1"), Stop: func() { stopped = true }}}})
	if got := hs.m.registry.Names(); len(got) != 2 || !stopped {
		t.Errorf("the same agent under another name: sections %v, new watch stopped %v", got, stopped)
	}
}

// Registry names come from outside (a --consul value, a container's name
// or compose service): the sections, the summary, the badges' letters and
// the log draw them inert.
func TestHostileRegistryNamesAreInert(t *testing.T) {
	topo := twoRegistriesTopo()
	hs := newHarnessWith(t, 200, 50, &topo, func(c *Config) { c.Registry = &fakeConnector{results: []error{nil}} })
	apps, infra := twoRegistries()
	apps.Name, infra.Name = csiClear+"apps", bidiFlip+"infra"+oscTitle
	connectTwo(hs, apps, infra)
	out := rawView(hs.m)
	assertInert(t, out)
	if !strings.Contains(out, `\x1b[2J`) || !strings.Contains(out, `\u202e`) {
		t.Errorf("the names' escapes are not shown:\n%s", out)
	}
}
