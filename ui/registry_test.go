package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/topo-dev/topo/model"
)

// registryTopo: a compose project whose web replicas show every case: one
// registered (meta), one stopped but still registered (stale, by ID), one
// running and unregistered; api replicas registered by address.
func registryTopo() model.Topology {
	b := newTopo().net("shop_default").net("shop_backend")
	b.ctr("shop-web-1", []string{"shop_default"}, withCompose("shop", "web", 1), withHealth(model.HealthHealthy))
	b.ctr("shop-web-2", []string{"shop_default"}, withCompose("shop", "web", 2), withExit(137))
	b.ctr("shop-web-3", []string{"shop_default"}, withCompose("shop", "web", 3))
	b.ctr("shop-api-1", []string{"shop_default", "shop_backend"}, withCompose("shop", "api", 1))
	b.ctr("shop-api-2", []string{"shop_default", "shop_backend"}, withCompose("shop", "api", 2))
	b.ctr("shop-db-1", []string{"shop_backend"}, withCompose("shop", "db", 1))
	return b.build()
}

func serf() model.Check {
	return model.Check{ID: "serfHealth", Name: "Serf Health Status", Status: model.CheckPassing, Output: "Agent alive and reachable", Node: true}
}

func httpCheck(id string, st model.CheckStatus, out string) model.Check {
	return model.Check{ID: "http:" + id, Name: "http", Status: st, Output: out}
}

// registryFixture is a live registry over registryTopo.
func registryFixture() model.Registry {
	topo := registryTopo()
	ip := func(name, network string) string { return topo.Containers[ctrID(name)].Endpoints[netID(network)].IPv4 }
	return model.Registry{
		Addr: "127.0.0.1:8500", Source: "auto: container consul-1 (published 127.0.0.1:8500)",
		Datacenter: "dc1", Leader: "172.30.0.2:8300", LastIndex: 1234,
		FetchedAt: testNow.Add(-2 * time.Second),
		Services: []model.Service{
			{Name: "api", Tags: []string{"canary", "v2"}, Instances: []model.Instance{
				{ID: "api-1", Service: "api", Address: ip("shop-api-1", "shop_backend"), Port: 9000, Node: "consul-1", Tags: []string{"v2", "canary"},
					Checks: []model.Check{serf(), httpCheck("api-1", model.CheckWarning, "HTTP GET http://172.21.0.2:9000/health: 429 Too Many Requests")}},
				{ID: "api-2", Service: "api", Address: ip("shop-api-2", "shop_backend"), Port: 9000, Node: "consul-1",
					Checks: []model.Check{serf(), {ID: "_service_maintenance:api-2", Name: "Service Maintenance Mode", Status: model.CheckMaintenance, Output: "deploying"}}},
			}},
			{Name: "consul", Instances: []model.Instance{
				{ID: "consul", Service: "consul", NodeAddress: "172.30.0.2", Port: 8300, Node: "consul-1", Checks: []model.Check{serf()}},
			}},
			{Name: "web", Tags: []string{"v1"}, Instances: []model.Instance{
				{ID: "gone-web", Service: "web", Address: "172.20.0.99", Port: 8080, Node: "consul-1",
					Meta:   map[string]string{model.MetaContainerID: strings.Repeat("0f", 32)},
					Checks: []model.Check{serf(), httpCheck("gone", model.CheckCritical, "dial tcp 172.20.0.99:8080: connect: no route to host")}},
				{ID: "shop-web-1:8080", Service: "web", Address: ip("shop-web-1", "shop_default"), Port: 8080, Node: "consul-1", Tags: []string{"v1"},
					Meta:   map[string]string{model.MetaContainerID: ctrID("shop-web-1")},
					Checks: []model.Check{serf(), httpCheck("web-1", model.CheckPassing, "HTTP GET http://172.20.0.2:8080/health: 200 OK Output: ok")}},
				{ID: "shop-web-2:8080", Service: "web", Address: "172.20.0.3", Port: 8080, Node: "consul-1", Tags: []string{"v1"},
					Checks: []model.Check{serf(), httpCheck("web-2", model.CheckCritical, "connection refused")}},
			}},
		},
	}
}

func newRegistryPanel(w, h int) *RegistryPanel {
	p := NewRegistryPanel(NewStyles(DefaultTheme()), func() time.Time { return testNow })
	p.SetSize(w, h)
	p.SetTopology(registryTopo())
	return p
}

var registryScreens = []struct {
	name  string
	setup func(p *RegistryPanel)
}{
	{"no_registry", func(p *RegistryPanel) {
		p.SetAbsent("no registry: start one, or name it with --consul ADDR or CONSUL_HTTP_ADDR")
	}},
	{"connecting", func(p *RegistryPanel) {
		p.SetRegistry(model.Registry{Addr: "127.0.0.1:8500", Source: "--consul 127.0.0.1:8500"})
	}},
	{"live", func(p *RegistryPanel) { p.SetRegistry(registryFixture()) }},
	{"live_empty", func(p *RegistryPanel) {
		p.SetRegistry(model.Registry{Addr: "127.0.0.1:8500", Source: "CONSUL_HTTP_ADDR 127.0.0.1:8500", Datacenter: "dc1",
			Leader: "127.0.0.1:8300", LastIndex: 12, FetchedAt: testNow.Add(-time.Minute)})
	}},
	{"error_keeps_data", func(p *RegistryPanel) {
		r := registryFixture()
		r.Error = "consul at 127.0.0.1:8500 unreachable while reading the catalog: dial tcp 127.0.0.1:8500: connect: connection refused; start it or point --consul/CONSUL_HTTP_ADDR at it (retrying)"
		r.ErrorSince = testNow.Add(-12 * time.Second)
		r.FetchedAt = testNow.Add(-15 * time.Second)
		p.SetRegistry(r)
	}},
	{"permission_denied", func(p *RegistryPanel) {
		p.SetRegistry(model.Registry{Addr: "127.0.0.1:8500", Source: "--consul 127.0.0.1:8500", Leader: "127.0.0.1:8300",
			FetchedAt:  testNow.Add(-3 * time.Second),
			Error:      "reading the catalog from consul at 127.0.0.1:8500: permission denied: set CONSUL_HTTP_TOKEN to a token that can read the catalog (ACLs deny by default and no token is set)",
			ErrorSince: testNow.Add(-3 * time.Second)})
	}},
	{"selection_moved_down", func(p *RegistryPanel) {
		p.SetRegistry(registryFixture())
		p.Move(4)
	}},
	{"selection_at_the_end", func(p *RegistryPanel) {
		p.SetRegistry(registryFixture())
		p.Move(100)
	}},
}

// The sizes the panel gets: beside the lanes on a wide terminal, below
// them on a narrow one, and a cramped one.
var registrySizes = []struct{ w, h int }{{sideWidth, 30}, {80, 10}, {30, 8}}

func TestRegistryGolden(t *testing.T) {
	for _, sc := range registryScreens {
		for _, size := range registrySizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size.w, size.h), func(t *testing.T) {
				p := newRegistryPanel(size.w, size.h)
				sc.setup(p)
				v := p.View()
				lines := strings.Split(v, "\n")
				if len(lines) > size.h {
					t.Errorf("%d lines in a panel %d high", len(lines), size.h)
				}
				for i, line := range lines {
					if lw := ansi.StringWidth(line); lw > size.w {
						t.Errorf("line %d is %d cells wide in a panel %d wide: %q", i+1, lw, size.w, line)
					}
				}
				golden.RequireEqual(t, v)
			})
		}
	}
}

func TestRegistryPanelLinksAndSelection(t *testing.T) {
	p := newRegistryPanel(sideWidth, 30)
	p.SetRegistry(registryFixture())

	// Rows: api-1, api-2, consul, gone-web, shop-web-1, shop-web-2, then
	// the unregistered shop-web-3.
	if id, ok := p.Selected(); !ok || id != ctrID("shop-api-1") {
		t.Errorf("first row selects %q, %v; want shop-api-1", id, ok)
	}
	p.Move(2)
	if id, ok := p.Selected(); ok {
		t.Errorf("the consul instance has no container, got %q", id)
	}
	if !p.SelectContainer(ctrID("shop-web-3")) {
		t.Fatal("shop-web-3 (unregistered) should have a row")
	}
	if id, _ := p.Selected(); id != ctrID("shop-web-3") {
		t.Errorf("selected %q after SelectContainer(shop-web-3)", id)
	}
	if p.SelectContainer(ctrID("shop-db-1")) {
		t.Error("shop-db-1 has nothing to do with the registry")
	}

	// The selection follows its row when a snapshot reorders the rows.
	p.SelectContainer(ctrID("shop-web-1"))
	r := registryFixture()
	r.Services = r.Services[1:] // api deregistered
	p.SetRegistry(r)
	if id, _ := p.Selected(); id != ctrID("shop-web-1") {
		t.Errorf("selection moved to %q when rows above it left", id)
	}

	badges := map[string]string{
		"shop-web-1": "R✓", "shop-web-2": "R⚠", "shop-web-3": "R?", "shop-api-1": "", "shop-db-1": "",
	}
	topo := registryTopo()
	for name, want := range badges {
		if got := ansi.Strip(p.Badge(topo.Containers[ctrID(name)])); got != want {
			t.Errorf("badge of %s = %q, want %q", name, got, want)
		}
	}
	p.SetRegistry(registryFixture())
	if got := ansi.Strip(p.Badge(topo.Containers[ctrID("shop-api-1")])); got != "R!" {
		t.Errorf("badge of shop-api-1 = %q, want R! (warning)", got)
	}
	if got := ansi.Strip(p.Badge(topo.Containers[ctrID("shop-api-2")])); got != "R‖" {
		t.Errorf("badge of shop-api-2 = %q, want R‖ (maintenance)", got)
	}
}

func TestWaitForRegistry(t *testing.T) {
	if waitForRegistry(nil, 1) != nil {
		t.Error("no watch, no command")
	}
	ch := make(chan model.Registry, 1)
	ch <- model.Registry{LastIndex: 7}
	if msg, ok := waitForRegistry(ch, 3)().(RegistryMsg); !ok || msg.Registry.LastIndex != 7 || msg.watch != 3 {
		t.Errorf("got %#v", msg)
	}
	close(ch)
	if _, ok := waitForRegistry(ch, 3)().(RegistryClosedMsg); !ok {
		t.Error("a closed watch should say so")
	}
}

// fakeConnector answers each Connect with the next of its results, and
// asks for a look again as the registry adapter does, in milliseconds
// rather than seconds; attempts records the attempts it was asked about.
type fakeConnector struct {
	results  []error
	calls    int
	attempts []int
}

func (f *fakeConnector) LookAgain(attempt int, err error) (time.Duration, bool) {
	f.attempts = append(f.attempts, attempt)
	if !errors.Is(err, model.ErrRegistryNotAnswering) || attempt >= 10 {
		return 0, false
	}
	return time.Millisecond << attempt, true
}

func (f *fakeConnector) Connect(context.Context, model.Topology) ([]RegistryConn, error) {
	i := min(f.calls, len(f.results)-1)
	f.calls++
	if err := f.results[i]; err != nil {
		return nil, err
	}
	return []RegistryConn{{Updates: make(chan model.Registry), Addr: "10.0.0.2:8500", Source: "auto: container consul.1", Auto: true, Stop: func() {}}}, nil
}

// A Consul container found before it answers (still starting) is looked
// for again, with a growing delay and a limit, until it answers; a plain
// "no registry" is not retried on a timer.
func TestRegistryNotAnsweringIsLookedForAgain(t *testing.T) {
	notYet := fmt.Errorf("no registry (%w: 10.0.0.2:8500: connection refused)", model.ErrRegistryNotAnswering)
	f := &fakeConnector{results: []error{notYet, notYet, nil}}
	m := New(Config{Registry: f, Now: func() time.Time { return testNow }})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	topo := model.NewTopology()
	_, cmd := m.Update(EngineUpdateMsg{Update: model.Update{Snapshot: &topo}})
	for step := 0; step < 10 && len(m.regWatches) == 0; step++ {
		var connected *RegistryConnectedMsg
		for _, msg := range runCmd(t, cmd) {
			if c, ok := msg.(RegistryConnectedMsg); ok {
				connected = &c
			}
		}
		if connected == nil {
			t.Fatalf("step %d: no look for the registry", step)
		}
		_, cmd = m.Update(*connected)
		if len(m.regWatches) > 0 {
			break
		}
		msgs := runCmd(t, cmd)
		if len(msgs) != 1 {
			t.Fatalf("after %v: %d messages, want one retry", connected.Err, len(msgs))
		}
		_, cmd = m.Update(msgs[0])
	}
	if f.calls != 3 || len(m.regWatches) != 1 || m.regWatches[0].Addr != "10.0.0.2:8500" {
		t.Fatalf("%d looks, connected to %+v; want 3 looks and the agent", f.calls, m.regWatches)
	}
	if !slices.Equal(f.attempts, []int{0, 1}) {
		t.Errorf("asked the adapter when to look again for attempts %v, want [0 1]: each look again counts", f.attempts)
	}

	g := &fakeConnector{results: []error{errors.New("no registry: start one")}}
	m = New(Config{Registry: g, Now: func() time.Time { return testNow }})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	_, cmd = m.Update(EngineUpdateMsg{Update: model.Update{Snapshot: &topo}})
	for _, msg := range runCmd(t, cmd) {
		if c, ok := msg.(RegistryConnectedMsg); ok {
			if _, retry := m.Update(c); retry != nil {
				t.Error("no registry container at all: looked for again on a timer")
			}
		}
	}
}

// The status bar says when an auto-detected registry is read without the
// token the environment holds, in its short form too.
func TestStatusBarSaysTokenNotSent(t *testing.T) {
	for _, withheld := range []bool{false, true} {
		m := New(Config{Now: func() time.Time { return testNow }})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		m.Update(RegistryConnectedMsg{Conns: []RegistryConn{{Updates: make(chan model.Registry), Addr: "10.0.0.2:8500",
			Source: "auto: container consul.1", Auto: true, TokenWithheld: withheld, Stop: func() {}}}})
		for _, long := range []bool{false, true} {
			got := strings.Contains(ansi.Strip(m.registryStatus(long)), "token not sent")
			if got != withheld {
				t.Errorf("withheld %v, long %v: status %q", withheld, long, ansi.Strip(m.registryStatus(long)))
			}
		}
	}
}
