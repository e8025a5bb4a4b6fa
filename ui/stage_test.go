package ui

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

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
	hs.send(RegistryMsg{stageRegistry(topo)})
	return hs
}

func TestStageDump(t *testing.T) {
	for _, n := range []int{3, 5, 20} {
		hs := stageHarness(t, 80, 24, n)
		t.Logf("replicas %d\n%s", n, hs.view())
	}
	_ = strings.Contains
	_ = ansi.Strip
}

func TestStageDebugRegistry(t *testing.T) {
	hs := stageHarness(t, 80, 24, 3)
	p := hs.m.registry
	t.Logf("h=%d vh=%d off=%d total=%d sel=%d items=%+v", p.height, p.viewport.Height, p.viewport.YOffset, p.viewport.TotalLineCount(), p.sel, p.items)
	t.Logf("%q", p.viewport.View())
}
