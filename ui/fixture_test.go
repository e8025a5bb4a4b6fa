package ui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
)

// The fixed clock of every test: golden files must not drift with the day.
var testNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// Fixtures: a network named N has the ID "id-N"; a container's ID is the
// SHA-256 of its name, so IDs are stable and look like the engine's.

func netID(name string) string { return "id-" + name }

func ctrID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// topoBuilder builds a topology in code, giving each network a subnet and
// each container an address in every network it joins.
type topoBuilder struct {
	t     model.Topology
	nets  []string
	hosts map[string]int
}

func newTopo() *topoBuilder {
	return &topoBuilder{t: model.NewTopology(), hosts: map[string]int{}}
}

// builtIn adds the engine's own networks.
func (b *topoBuilder) builtIn() *topoBuilder {
	b.t.Networks[netID("bridge")] = model.Network{ID: netID("bridge"), Name: "bridge", Driver: "bridge", Scope: "local", Subnets: []string{"172.17.0.0/16"}}
	b.t.Networks[netID("host")] = model.Network{ID: netID("host"), Name: "host", Driver: "host", Scope: "local"}
	b.t.Networks[netID("none")] = model.Network{ID: netID("none"), Name: "none", Driver: "null", Scope: "local"}
	b.nets = append(b.nets, "bridge", "host", "none")
	return b
}

func (b *topoBuilder) net(name string) *topoBuilder {
	i := len(b.nets)
	b.nets = append(b.nets, name)
	b.t.Networks[netID(name)] = model.Network{ID: netID(name), Name: name, Driver: "bridge", Scope: "local",
		Subnets: []string{fmt.Sprintf("172.%d.0.0/16", 20+i)}}
	return b
}

// ctr adds a running container on the named networks and returns the
// builder; use mod to change it before it is stored.
func (b *topoBuilder) ctr(name string, nets []string, mods ...func(*model.Container)) *topoBuilder {
	c := model.Container{ID: ctrID(name), Name: name, Image: "example/" + strings.ToLower(firstWord(name)) + ":1.0",
		State: model.StateRunning, Created: testNow.Add(-2 * time.Hour), StartedAt: testNow.Add(-90 * time.Minute),
		Endpoints: map[string]model.Endpoint{}, Labels: map[string]string{}}
	for _, n := range nets {
		idx := -1
		for i, known := range b.nets {
			if known == n {
				idx = i
			}
		}
		if idx < 0 {
			panic("fixture: unknown network " + n)
		}
		b.hosts[n]++
		ip := fmt.Sprintf("172.%d.0.%d", 20+idx, 1+b.hosts[n])
		if n == "bridge" {
			ip = fmt.Sprintf("172.17.0.%d", 1+b.hosts[n])
		}
		if n == "host" || n == "none" {
			ip = ""
		}
		c.Endpoints[netID(n)] = model.Endpoint{NetworkID: netID(n), NetworkName: n, IPv4: ip}
	}
	for _, mod := range mods {
		mod(&c)
	}
	b.t.Containers[c.ID] = c
	return b
}

func firstWord(s string) string {
	if i := strings.IndexAny(s, "-_."); i > 0 {
		return s[:i]
	}
	return s
}

func (b *topoBuilder) build() model.Topology { return b.t }

// Container modifiers.

func withState(st model.State) func(*model.Container) {
	return func(c *model.Container) { c.State = st }
}

func withExit(code int) func(*model.Container) {
	return func(c *model.Container) { c.State, c.ExitCode = model.StateExited, code }
}

func withHealth(h model.Health) func(*model.Container) {
	return func(c *model.Container) { c.Health = h }
}

func withCompose(project, service string, n int) func(*model.Container) {
	return func(c *model.Container) {
		c.Labels[model.LabelComposeProject] = project
		c.Labels[model.LabelComposeService] = service
		c.Labels[model.LabelComposeNumber] = fmt.Sprint(n)
		c.Image = project + "-" + service + ":latest"
	}
}

// Fixed topologies of the golden tests.

// basicTopo: a container on three networks (api), one on two neighbouring
// lanes (gateway), one on two lanes with a third between them (proxy, so its
// rail passes through data), an empty network, and the built-in networks
// with one container on bridge.
func basicTopo() model.Topology {
	return newTopo().builtIn().net("frontend").net("backend").net("data").net("spare").
		ctr("web", []string{"frontend"}).
		ctr("api", []string{"frontend", "backend", "data"}).
		ctr("gateway", []string{"frontend", "data"}).
		ctr("proxy", []string{"backend", "frontend"}).
		ctr("worker", []string{"backend"}).
		ctr("db", []string{"data"}).
		ctr("legacy", []string{"bridge"}).
		build()
}

// statesTopo: every container state and every health value in one lane.
func statesTopo() model.Topology {
	return newTopo().net("states").
		ctr("healthy", []string{"states"}, withHealth(model.HealthHealthy)).
		ctr("sick", []string{"states"}, withHealth(model.HealthUnhealthy)).
		ctr("warming", []string{"states"}, withHealth(model.HealthStarting)).
		ctr("frozen", []string{"states"}, withState(model.StatePaused)).
		ctr("flapping", []string{"states"}, withState(model.StateRestarting)).
		ctr("finished", []string{"states"}, withExit(0)).
		ctr("killed", []string{"states"}, withExit(137)).
		ctr("zombie", []string{"states"}, withState(model.StateDead)).
		ctr("fresh", []string{"states"}, withState(model.StateCreated)).
		ctr("leaving", []string{"states"}, withState(model.StateRemoving)).
		build()
}

// composeTopo: one compose project, services with replicas on two networks.
func composeTopo() model.Topology {
	b := newTopo().net("shop_default").net("shop_backend")
	for i := 1; i <= 3; i++ {
		b.ctr(fmt.Sprintf("shop-web-%d", i), []string{"shop_default"}, withCompose("shop", "web", i))
	}
	for i := 1; i <= 2; i++ {
		b.ctr(fmt.Sprintf("shop-api-%d", i), []string{"shop_default", "shop_backend"}, withCompose("shop", "api", i), withHealth(model.HealthHealthy))
	}
	b.ctr("shop-db-1", []string{"shop_backend"}, withCompose("shop", "db", 1))
	return b.build()
}

// unicodeTopo: names that are long, CJK, emoji and accented, in lanes whose
// names are long or CJK too.
func unicodeTopo() model.Topology {
	long := "a-network-with-an-extremely-long-name-that-will-not-fit-in-any-header-at-all"
	return newTopo().net(long).net("网络").
		ctr("a-really-long-container-name-that-goes-on-and-on", []string{long}).
		ctr("数据库服务器", []string{long, "网络"}).
		ctr("🚀rocket-launcher", []string{"网络"}).
		ctr("café-naïve", []string{"网络"}).
		ctr("日本語の名前がとても長いコンテナ", []string{long}).
		build()
}

// sixtyTopo: 60 containers in one lane, more than any width shows.
func sixtyTopo() model.Topology {
	b := newTopo().net("crowd")
	for i := 1; i <= 60; i++ {
		b.ctr(fmt.Sprintf("node-%02d", i), []string{"crowd"})
	}
	return b.build()
}

// benchTopology is the performance setup: 300 containers over 5
// user networks, every fifth also on another one, plus the built-in ones;
// a tenth are compose replicas and a few are stopped or have health.
func benchTopology() model.Topology {
	b := newTopo().builtIn()
	for i := range 5 {
		b.net(fmt.Sprintf("net%d", i))
	}
	for i := range 300 {
		nets := []string{fmt.Sprintf("net%d", i%5)}
		if i%5 == 0 {
			nets = append(nets, fmt.Sprintf("net%d", (i/5+1)%5))
		}
		var mods []func(*model.Container)
		if i%10 == 0 {
			mods = append(mods, withCompose("shop", fmt.Sprintf("svc%d", i%7), i/10+1))
		}
		if i%13 == 0 {
			mods = append(mods, withExit(0))
		}
		if i%17 == 0 {
			mods = append(mods, withHealth(model.HealthHealthy))
		}
		b.ctr(fmt.Sprintf("container-%03d", i), nets, mods...)
	}
	return b.build()
}

// fakeEngine is a fake of ui.Engine: it records every action and answers
// inspections from a table.
type fakeEngine struct {
	mu      sync.Mutex
	actions []string // "kill <id>"
	doErr   error
	details map[string]model.Container
}

func (f *fakeEngine) Details(_ context.Context, id string) (model.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.details[id]
	if !ok {
		return model.Container{}, errors.New("no such container: " + id)
	}
	return c, nil
}

func (f *fakeEngine) Do(_ context.Context, action model.Action, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, string(action)+" "+id)
	return f.doErr
}

func (f *fakeEngine) Actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.actions...)
}

// detailedFrom is what an inspection adds to a container of the topology.
func detailedFrom(c model.Container) model.Container {
	c.Detailed = true
	c.Command = "/app --listen :8080"
	c.Ports = []model.Port{{Private: 8080, Public: 18080, Protocol: "tcp"}, {Private: 9090, Protocol: "tcp"}}
	c.Mounts = []model.Mount{{Type: "volume", Name: "data-" + firstWord(c.Name), Destination: "/data", ReadWrite: true}}
	if c.Health != model.HealthNone {
		c.HealthLog = "GET /healthz: 200 OK\nsecond line is not shown"
	}
	for id, ep := range c.Endpoints {
		ep.Aliases = []string{firstWord(c.Name) + ".internal", c.ShortID()}
		c.Endpoints[id] = ep
	}
	c.Labels["org.opencontainers.image.source"] = "https://example.com/" + firstWord(c.Name)
	return c
}

// harness drives a Model the way Bubble Tea does: it sends a message,
// runs the commands that answer at once (inspections, actions) and feeds
// their messages back. Commands that wait (ticks, cursor blinks, the engine
// watch) are never run by it.
type harness struct {
	t      testing.TB
	m      *Model
	engine *fakeEngine
	now    time.Time
}

func newHarness(t testing.TB, w, h int, topo *model.Topology) *harness {
	t.Helper()
	return newHarnessWith(t, w, h, topo, nil)
}

// newHarnessWith is newHarness with a Config that configure completes
// (a demo deployer, a swarm).
func newHarnessWith(t testing.TB, w, h int, topo *model.Topology, configure func(*Config)) *harness {
	t.Helper()
	hs := &harness{t: t, now: testNow, engine: &fakeEngine{details: map[string]model.Container{}}}
	if topo != nil {
		for id, c := range topo.Containers {
			hs.engine.details[id] = detailedFrom(cloneContainer(c))
		}
	}
	cfg := Config{
		Engine:     hs.engine,
		EngineInfo: EngineInfo{Host: "unix:///var/run/docker.sock", Source: "default", Version: "20.10.24"},
		Now:        func() time.Time { return hs.now },
	}
	if configure != nil {
		configure(&cfg)
	}
	hs.m = New(cfg)
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	if topo != nil {
		hs.snapshot(*topo)
	}
	return hs
}

func cloneContainer(c model.Container) model.Container {
	eps := make(map[string]model.Endpoint, len(c.Endpoints))
	for k, v := range c.Endpoints {
		eps[k] = v
	}
	labels := make(map[string]string, len(c.Labels))
	for k, v := range c.Labels {
		labels[k] = v
	}
	c.Endpoints, c.Labels = eps, labels
	return c
}

func (hs *harness) snapshot(topo model.Topology) {
	hs.send(EngineUpdateMsg{Update: model.Update{Snapshot: &topo}})
}

func (hs *harness) event(ev model.Event) {
	if ev.Time.IsZero() {
		ev.Time = hs.now
	}
	hs.send(EngineUpdateMsg{Update: model.Update{Event: &ev}})
}

// send delivers msg and then every message its immediate commands produce.
func (hs *harness) send(msg tea.Msg) {
	hs.t.Helper()
	_, cmd := hs.m.Update(msg)
	hs.run(cmd)
}

// sendOnly delivers msg and drops its commands (a cursor blink, say).
func (hs *harness) sendOnly(msg tea.Msg) tea.Cmd {
	_, cmd := hs.m.Update(msg)
	return cmd
}

// run runs cmd and feeds back the inspection and action results it
// yields; spinner ticks are dropped, so a busy spinner does not loop.
func (hs *harness) run(cmd tea.Cmd) {
	hs.t.Helper()
	for _, msg := range runCmd(hs.t, cmd) {
		switch msg.(type) {
		case InspectedMsg, ActionDoneMsg:
			hs.send(msg)
		}
	}
}

// runCmd runs a command, expanding batches, and returns its messages. A
// command that does not answer within the deadline fails the test: ui's
// immediate commands must never block.
func runCmd(t testing.TB, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(testenv.Patience(5 * time.Second)):
		t.Fatalf("a command did not answer in time")
	}
	if batch, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range batch {
			out = append(out, runCmd(t, c)...)
		}
		return out
	}
	if msg == nil {
		return nil
	}
	return []tea.Msg{msg}
}

// Key messages as Bubble Tea delivers them.

func keyRunes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

func keyType(k tea.KeyType) tea.KeyMsg { return tea.KeyMsg{Type: k} }

func (hs *harness) press(keys ...string) {
	hs.t.Helper()
	for _, k := range keys {
		switch k {
		case "up":
			hs.send(keyType(tea.KeyUp))
		case "down":
			hs.send(keyType(tea.KeyDown))
		case "left":
			hs.send(keyType(tea.KeyLeft))
		case "right":
			hs.send(keyType(tea.KeyRight))
		case "enter":
			hs.send(keyType(tea.KeyEnter))
		case "esc":
			hs.send(keyType(tea.KeyEsc))
		case "tab":
			hs.send(keyType(tea.KeyTab))
		default:
			hs.send(keyRunes(k))
		}
	}
}

// typeText types into the filter one rune at a time, dropping the cursor's
// blink commands.
func (hs *harness) typeText(s string) {
	for _, r := range s {
		hs.sendOnly(keyRunes(string(r)))
	}
}

// selected is the display name of the selected container, or "".
func (hs *harness) selected() string {
	c, ok := hs.m.lanes.Selected()
	if !ok {
		return ""
	}
	return c.DisplayName()
}

func (hs *harness) selectedLane() string {
	if _, ok := hs.m.lanes.Selected(); !ok {
		return ""
	}
	return hs.m.lanes.layout.Lanes[hs.m.lanes.lane].Name
}

// view renders the screen and checks that it fills the terminal exactly:
// no line wider than the width, exactly height lines.
func (hs *harness) view() string {
	hs.t.Helper()
	v := hs.m.View()
	checkFits(hs.t, v, hs.m.width, hs.m.height)
	return v
}

func checkFits(t testing.TB, v string, w, h int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Errorf("View has %d lines, want the terminal's height %d", len(lines), h)
	}
	for i, line := range lines {
		if lw := ansi.StringWidth(line); lw > w {
			t.Errorf("line %d is %d cells wide, wider than the terminal's %d: %q", i+1, lw, w, line)
		}
	}
}
