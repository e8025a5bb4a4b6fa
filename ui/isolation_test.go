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
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
)

// The isolation tests build their own topologies, so they do not move
// when the shared fixtures do. Golden files are testdata/isolation_*.golden;
// regenerate with `go test ./ui -run Isolation -update`.

var isoNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// isoGolden compares out with testdata/isolation_<name>.golden.
func isoGolden(t *testing.T, name, out string) {
	t.Helper()
	golden.RequireEqual(isoNamedTB{t, "isolation_" + name}, out)
}

// isoNamedTB renames a test for the golden file's path.
type isoNamedTB struct {
	testing.TB
	name string
}

func (n isoNamedTB) Name() string { return n.name }

func isoStyles() Styles {
	// Golden files are plain text; main_test.go pins the same profile.
	lipgloss.SetColorProfile(termenv.Ascii)
	return NewStyles(DefaultTheme())
}

// isoBuilder builds a topology: network N has ID "net-N" and subnet
// 10.<index>.0.0/16; containers get the next address in each network.
type isoBuilder struct {
	t     model.Topology
	index map[string]int
	hosts map[string]int
}

func isoTopology(nets ...string) *isoBuilder {
	b := &isoBuilder{t: model.NewTopology(), index: map[string]int{}, hosts: map[string]int{}}
	for i, n := range nets {
		driver := "bridge"
		switch n {
		case "host":
			driver = "host"
		case "none":
			driver = "null"
		}
		b.index[n] = i
		b.t.Networks["net-"+n] = model.Network{ID: "net-" + n, Name: n, Driver: driver, Scope: "local",
			Subnets: []string{fmt.Sprintf("10.%d.0.0/16", i)}}
	}
	return b
}

func isoID(name string) string {
	sum := sha256.Sum256([]byte("iso/" + name))
	return hex.EncodeToString(sum[:])
}

func (b *isoBuilder) add(name string, nets []string, mods ...func(*model.Container)) *isoBuilder {
	c := model.Container{ID: isoID(name), Name: name, Image: "example/" + name, State: model.StateRunning,
		Labels: map[string]string{}, Endpoints: map[string]model.Endpoint{}}
	for _, n := range nets {
		b.hosts[n]++
		e := model.Endpoint{NetworkID: "net-" + n, NetworkName: n, IPv4: fmt.Sprintf("10.%d.0.%d", b.index[n], 1+b.hosts[n])}
		if n == "host" || n == "none" {
			e.IPv4 = ""
			c.NetworkMode = n
		}
		c.Endpoints[e.NetworkID] = e
	}
	for _, m := range mods {
		m(&c)
	}
	b.t.Containers[c.ID] = c
	return b
}

func isoCompose(project, service string, n int) func(*model.Container) {
	return func(c *model.Container) {
		c.Labels[model.LabelComposeProject] = project
		c.Labels[model.LabelComposeService] = service
		c.Labels[model.LabelComposeNumber] = fmt.Sprint(n)
	}
}

func isoPorts(ports ...uint16) func(*model.Container) {
	return func(c *model.Container) {
		for _, p := range ports {
			c.Ports = append(c.Ports, model.Port{Private: p, Protocol: "tcp"})
		}
	}
}

func isoState(st model.State) func(*model.Container) {
	return func(c *model.Container) { c.State = st }
}

// isoDemo is the talk's three tiers: the load balancer on front only, the
// app on both, the database and the registry on back only, and a stray
// container on the default bridge.
func isoDemo() model.Topology {
	return isoTopology("demo_front", "demo_back", "bridge").
		add("demo-lb-1", []string{"demo_front"}, isoCompose("demo", "lb", 1), isoPorts(80)).
		add("demo-app-1", []string{"demo_front", "demo_back"}, isoCompose("demo", "app", 1), isoPorts(8080)).
		add("demo-app-2", []string{"demo_front", "demo_back"}, isoCompose("demo", "app", 2), isoPorts(8080)).
		add("demo-mongo-1", []string{"demo_back"}, isoCompose("demo", "mongo", 1), isoPorts(27017)).
		add("demo-consul-1", []string{"demo_back"}, isoCompose("demo", "consul", 1), isoPorts(8500)).
		add("stray", []string{"bridge"}).
		t
}

// isoFits checks a view fills exactly h lines of at most w cells.
func isoFits(t *testing.T, v string, w, h int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, lw, w, l)
		}
	}
}

// isoLanes renders the lanes with the overlay on the subject, under its
// legend, as the root model will.
func isoLanes(styles Styles, topo model.Topology, subject string, w, h int) (*Lanes, *IsolationOverlay) {
	ov := NewIsolationOverlay(styles)
	ov.SetTopology(topo)
	ov.Select(isoID(subject))
	l := NewLanes(styles)
	l.SetSize(w, h)
	l.SetTopology(topo)
	l.Select(isoID(subject))
	l.SetOverlay(ov)
	l.SetBadger(ov.Badge)
	return l, ov
}

func TestIsolationOverlayGolden(t *testing.T) {
	styles := isoStyles()
	for _, size := range []struct{ w, h int }{{80, 14}, {160, 14}} {
		l, ov := isoLanes(styles, isoDemo(), "demo-lb-1", size.w, size.h)
		out := ov.Legend(size.w) + "\n" + l.View()
		isoFits(t, out, size.w, size.h+1)
		isoGolden(t, fmt.Sprintf("overlay_lb_%d", size.w), out)
	}
}

func TestIsolationOverlayDimsWhatTheSubjectCannotReach(t *testing.T) {
	topo := isoDemo()
	ov := NewIsolationOverlay(isoStyles())
	ov.SetTopology(topo)
	for _, c := range topo.Containers {
		if ov.DimContainer(c) {
			t.Errorf("with no subject, %s is dimmed", c.Name)
		}
	}
	ov.Select(isoID("demo-lb-1"))
	dimmed := map[string]bool{}
	for _, c := range topo.Containers {
		dimmed[c.Name] = ov.DimContainer(c)
	}
	for name, want := range map[string]bool{
		"demo-lb-1": false, "demo-app-1": false, "demo-app-2": false,
		"demo-mongo-1": true, "demo-consul-1": true, "stray": true,
	} {
		if dimmed[name] != want {
			t.Errorf("lb selected: %s dimmed = %v, want %v", name, dimmed[name], want)
		}
	}
	for _, n := range topo.Networks {
		if got, want := ov.DimNetwork(n), n.Name != "demo_front"; got != want {
			t.Errorf("lb selected: lane %s dimmed = %v, want %v", n.Name, got, want)
		}
	}

	// A probe that found mongo reachable marks it and lifts its dimming;
	// another subject drops the marks.
	mongo := topo.Containers[isoID("demo-mongo-1")]
	ov.SetReport(model.ProbeReport{SubjectID: isoID("demo-lb-1"), Lines: []model.ProbeLine{
		{Target: model.ProbeTarget{ContainerID: mongo.ID}, Verdict: model.VerdictLeak},
	}})
	if ov.DimContainer(mongo) || ov.Badge(mongo) != markMismatch {
		t.Errorf("a container a probe found reachable against the expectation: dim %v, badge %q", ov.DimContainer(mongo), ov.Badge(mongo))
	}
	ov.Select(isoID("demo-app-1"))
	if ov.Badge(mongo) != markReach {
		t.Errorf("after selecting app, mongo's badge is %q, want %q", ov.Badge(mongo), markReach)
	}
}

// TestIsolationLegendModes: the legend says plainly what a host-network,
// none-network, stopped or namespace-sharing container reaches.
func TestIsolationLegendModes(t *testing.T) {
	styles := isoStyles()
	topo := isoTopology("front", "back", "host", "none").
		add("web", []string{"front"}).
		add("db", []string{"back"}).
		add("agent", []string{"host"}).
		add("sealed", []string{"none"}).
		add("old", []string{"front"}, isoState(model.StateExited)).
		add("sidecar", nil, func(c *model.Container) { c.NetworkMode = "container:" + isoID("web") }).
		t
	ov := NewIsolationOverlay(styles)
	ov.SetTopology(topo)
	var out []string
	for _, subject := range []string{"web", "agent", "sealed", "old", "sidecar"} {
		ov.Select(isoID(subject))
		for _, w := range []int{80, 200} {
			line := ov.Legend(w)
			if lw := ansi.StringWidth(line); lw > w {
				t.Errorf("legend of %s is %d cells wide at %d", subject, lw, w)
			}
			out = append(out, fmt.Sprintf("%s @%d: %s", subject, w, line))
		}
	}
	ov.Select("nobody")
	out = append(out, "nobody: "+ov.Legend(80))
	isoGolden(t, "legend_modes", strings.Join(out, "\n"))
}

func TestIsolationMatrixGolden(t *testing.T) {
	styles := isoStyles()
	m := NewReachMatrix(styles)
	m.SetSize(80, 10)
	m.SetTopology(isoDemo())
	if !m.Select(isoID("demo-app-2")) {
		t.Fatal("Select(app.2) found no row")
	}
	v := m.View()
	isoFits(t, v, 80, 10)
	isoGolden(t, "matrix_demo_80", v)
}

// TestIsolationMatrixScrolls: 300 containers at 80×24 scroll in both
// directions, and the selected row is brought into view.
func TestIsolationMatrixScrolls(t *testing.T) {
	m := NewReachMatrix(isoStyles())
	m.SetSize(80, 22)
	m.SetTopology(isoBig(300))
	if !m.Select(isoID("ctr-151")) {
		t.Fatal("Select found no row for ctr-151")
	}
	v := m.View()
	isoFits(t, v, 80, 22)
	if !strings.Contains(v, "▶ctr-151") || !strings.Contains(v, "▼ctr-151") {
		t.Errorf("the selected row is not in view:\n%s", v)
	}
	for _, k := range []string{"down", "down", "right", "right", "right"} {
		m.Update(isoKey(k))
	}
	v = m.View()
	isoFits(t, v, 80, 22)
	isoGolden(t, "matrix_300_scrolled_80", v)
	m.Update(isoKey("end"))
	if v := m.View(); !strings.Contains(v, "rows 258–277 of 277") {
		t.Errorf("end does not show the last rows:\n%s", v)
	}
	m.Update(isoKey("home"))
	if v := m.View(); !strings.Contains(v, "rows 1–20 of 277 · cols 1–5") {
		t.Errorf("home does not go back to the corner:\n%s", v)
	}
}

func TestIsolationMatrixKeepsSelectionAcrossTopologyChanges(t *testing.T) {
	m := NewReachMatrix(isoStyles())
	m.SetSize(80, 10)
	topo := isoDemo()
	m.SetTopology(topo)
	m.Select(isoID("demo-mongo-1"))
	delete(topo.Containers, isoID("stray"))
	m.SetTopology(topo)
	if v := m.View(); !strings.Contains(v, "▶mongo") {
		t.Errorf("after a topology change the selection left mongo:\n%s", v)
	}
	if m.Select("not-a-container") {
		t.Errorf("Select of an unknown ID reported a row")
	}
}

// isoBig is the benchmark's topology: n containers over 5 networks, every
// fifth on two, a tenth compose replicas.
func isoBig(n int) model.Topology {
	nets := []string{"bridge", "host", "none"}
	for i := range 5 {
		nets = append(nets, fmt.Sprintf("net%d", i))
	}
	b := isoTopology(nets...)
	for i := range n {
		lanes := []string{fmt.Sprintf("net%d", i%5)}
		if i%5 == 0 {
			lanes = append(lanes, fmt.Sprintf("net%d", (i/5+1)%5))
		}
		var mods []func(*model.Container)
		if i%10 == 0 {
			mods = append(mods, isoCompose("shop", fmt.Sprintf("svc%d", i%7), i/10+1))
		}
		b.add(fmt.Sprintf("ctr-%03d", i), lanes, mods...)
	}
	return b.t
}

func isoKey(k string) tea.KeyMsg {
	switch k {
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "home":
		return tea.KeyMsg{Type: tea.KeyHome}
	case "end":
		return tea.KeyMsg{Type: tea.KeyEnd}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// isoProber is a fake Prober: it answers from a function, or blocks until
// its context ends when there is none, and records its calls.
type isoProber struct {
	mu     sync.Mutex
	calls  []string
	answer func(id string, port int) (model.ProbeReport, error)
}

func (f *isoProber) Probe(ctx context.Context, id string, port int) (model.ProbeReport, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fmt.Sprintf("%s:%d", id, port))
	f.mu.Unlock()
	if f.answer == nil {
		<-ctx.Done()
		return model.ProbeReport{}, fmt.Errorf("probe cancelled; its container was removed: %w", ctx.Err())
	}
	return f.answer(id, port)
}

// isoDemoReport is a probe from lb on the demo with one surprise: mongo
// answers although no network is shared.
func isoDemoReport(t *testing.T) model.ProbeReport {
	t.Helper()
	topo := isoDemo()
	plan, err := topo.PlanProbe(isoID("demo-lb-1"), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var results []model.ProbeResult
	for _, tg := range plan.Targets {
		r := model.ProbeResult{Address: tg.Address, Outcome: model.OutcomeTimeout, Millis: 400.3}
		if tg.Expect == model.Reachable {
			r.Outcome, r.Millis = model.OutcomeConnected, 0.42
		}
		if tg.Name == "mongo.1" {
			r.Outcome, r.Millis = model.OutcomeConnected, 0.57
		}
		results = append(results, r)
	}
	rep := plan.Report(results, nil)
	rep.Elapsed = 870 * time.Millisecond
	return rep
}

func TestIsolationProbeViewGolden(t *testing.T) {
	styles := isoStyles()
	topo := isoDemo()
	lb := topo.Containers[isoID("demo-lb-1")]
	now := isoNow
	clock := func() time.Time { return now }

	for _, size := range []struct{ w, h int }{{80, 16}, {140, 16}} {
		name := func(s string) string { return fmt.Sprintf("probe_%s_%d", s, size.w) }
		now = isoNow

		// Running: the probe blocks; the tick moved the spinner once.
		blocked := &isoProber{}
		pv := NewProbeView(styles, clock)
		pv.SetSize(size.w, size.h)
		cmd := pv.Start(blocked, lb, 0)
		now = isoNow.Add(1300 * time.Millisecond)
		pv.Update(ProbeTickMsg{Seq: 1, Time: now})
		isoFits(t, pv.View(), size.w, size.h)
		isoGolden(t, name("running"), pv.View())
		pv.Cancel()
		msgs := runCmd(t, cmd)
		var done *ProbeDoneMsg
		for _, m := range msgs {
			if d, ok := m.(ProbeDoneMsg); ok {
				done = &d
			}
		}
		if done == nil {
			t.Fatalf("a cancelled probe produced no ProbeDoneMsg: %v", msgs)
		}
		pv.Update(*done)
		isoFits(t, pv.View(), size.w, size.h)
		isoGolden(t, name("cancelled"), pv.View())

		// Results, mismatches first.
		rep := isoDemoReport(t)
		answered := &isoProber{answer: func(string, int) (model.ProbeReport, error) { return rep, nil }}
		pv.Start(answered, lb, 0)
		pv.Update(ProbeDoneMsg{Seq: 2, ContainerID: lb.ID, Report: rep})
		isoFits(t, pv.View(), size.w, size.h)
		isoGolden(t, name("results"), pv.View())

		// A failure says what and why.
		pv.Start(answered, lb, 0)
		pv.Update(ProbeDoneMsg{Seq: 3, ContainerID: lb.ID,
			Err: fmt.Errorf("probe from lb.1: %w (exited): it has no network namespace to probe from; start it first", model.ErrNotRunning)})
		isoFits(t, pv.View(), size.w, size.h)
		isoGolden(t, name("error"), pv.View())
	}
	pv := NewProbeView(styles, clock)
	pv.SetSize(80, 4)
	isoGolden(t, "probe_idle_80", pv.View())
}

func TestIsolationProbeViewUpdate(t *testing.T) {
	topo := isoDemo()
	lb := topo.Containers[isoID("demo-lb-1")]
	rep := isoDemoReport(t)
	fake := &isoProber{answer: func(string, int) (model.ProbeReport, error) { return rep, nil }}
	pv := NewProbeView(isoStyles(), func() time.Time { return isoNow })
	pv.SetSize(80, 8)

	cmd := pv.Start(fake, lb, 8080)
	if !pv.Running() {
		t.Fatal("Start did not mark the view running")
	}
	if pv.Update(ProbeTickMsg{Seq: 1}) == nil {
		t.Errorf("a tick while running did not re-arm the next one")
	}
	if pv.Update(ProbeTickMsg{Seq: 0}) != nil {
		t.Errorf("a tick of an earlier probe re-armed")
	}
	var done ProbeDoneMsg
	for _, m := range runCmd(t, cmd) {
		if d, ok := m.(ProbeDoneMsg); ok {
			done = d
		}
	}
	if got := fake.calls; len(got) != 1 || got[0] != isoID("demo-lb-1")+":8080" {
		t.Errorf("the prober was called with %v, want lb's ID and port 8080", got)
	}
	// A result of an earlier probe is dropped.
	pv.Update(ProbeDoneMsg{Seq: 0, Err: errors.New("stale")})
	if !pv.Running() {
		t.Errorf("a stale ProbeDoneMsg ended the current probe")
	}
	pv.Update(done)
	if pv.Running() {
		t.Errorf("still running after its ProbeDoneMsg")
	}
	if pv.Update(ProbeTickMsg{Seq: 1}) != nil {
		t.Errorf("a tick after the probe ended re-armed")
	}
	got, ok := pv.Report()
	if !ok || got.Mismatches() != 1 || !got.Lines[0].Verdict.Mismatch() {
		t.Errorf("report: ok %v, %d mismatches, first line %q; want the mismatch first", ok, got.Mismatches(), got.Lines[0].Verdict)
	}
	// Close after quitting: cancels the probe and waits for the prober to
	// return (that is, to remove its container).
	blocked := &isoProber{}
	closing := NewProbeView(isoStyles(), nil)
	cmd = closing.Start(blocked, lb, 0)
	returned := make(chan []tea.Msg, 1)
	go func() { returned <- runCmd(t, tea.Batch(cmd)) }()
	closing.Close(5 * time.Second)
	select {
	case <-returned:
	case <-time.After(testenv.Patience(5 * time.Second)):
		t.Errorf("Close returned but the probe command did not")
	}
	closing.Close(time.Second) // twice is harmless

	// Without a prober, the view says why instead of starting.
	idle := NewProbeView(isoStyles(), nil)
	idle.SetSize(80, 4)
	if cmd := idle.Start(nil, lb, 0); cmd != nil || idle.Running() || !strings.Contains(idle.View(), "not available") {
		t.Errorf("Start without a prober: cmd %v, running %v, view:\n%s", cmd != nil, idle.Running(), idle.View())
	}
	// Scrolling stops at the last line.
	for range 50 {
		pv.Update(isoKey("down"))
	}
	v := pv.View()
	isoFits(t, v, 80, 8)
	if !strings.Contains(v, "stray") {
		t.Errorf("scrolled to the end, the last result is not shown:\n%s", v)
	}
}

// BenchmarkIsolationOverlay300 is a redraw of the lanes with the overlay
// after the selection moved: recompute the expectations, the legend, and
// render the lanes, for 300 containers.
func BenchmarkIsolationOverlay300(b *testing.B) {
	b.ReportAllocs()
	styles := isoStyles()
	topo := isoBig(300)
	l, ov := isoLanesBench(styles, topo)
	ids := []string{isoID("ctr-000"), isoID("ctr-151")}
	i := 0
	for b.Loop() {
		ov.Select(ids[i%2])
		l.Select(ids[i%2])
		l.Invalidate()
		_ = ov.Legend(200) + l.View()
		i++
	}
}

func isoLanesBench(styles Styles, topo model.Topology) (*Lanes, *IsolationOverlay) {
	ov := NewIsolationOverlay(styles)
	ov.SetTopology(topo)
	l := NewLanes(styles)
	l.SetSize(200, 40)
	l.SetTopology(topo)
	l.SetOverlay(ov)
	l.SetBadger(ov.Badge)
	return l, ov
}

// BenchmarkIsolationMatrix300 draws a 200×50 matrix of 300 containers:
// after the selection moved (select), and after a topology change, which
// rebuilds the matrix first (rebuild).
func BenchmarkIsolationMatrix300(b *testing.B) {
	topo := isoBig(300)
	ids := []string{isoID("ctr-000"), isoID("ctr-151")}
	for _, rebuild := range []bool{false, true} {
		name := "select"
		if rebuild {
			name = "rebuild"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			m := NewReachMatrix(isoStyles())
			m.SetSize(200, 50)
			m.SetTopology(topo)
			i := 0
			for b.Loop() {
				if rebuild {
					m.SetTopology(topo)
				}
				m.Select(ids[i%2])
				_ = m.View()
				i++
			}
		})
	}
}

// Regression (issue 13): a row read "refused 0.4 ms" under "reachable" with
// a ✓, and nothing said why a refusal proves the path.
func TestProbeRowSaysWhyARefusalIsReachable(t *testing.T) {
	lb := isoDemo().Containers[isoID("demo-lb-1")]
	rep := model.ProbeReport{SubjectID: lb.ID, Subject: "lb.1", Lines: []model.ProbeLine{{
		Target:  model.ProbeTarget{ContainerID: isoID("demo-app-1"), Name: "app.1", Address: "172.20.0.3", Port: 80, PortSource: model.PortFallback, Expect: model.Reachable},
		Result:  model.ProbeResult{Address: "172.20.0.3:80", Outcome: model.OutcomeRefused, Millis: 0.4},
		Verdict: model.VerdictReachable,
	}}}
	pv := NewProbeView(isoStyles(), func() time.Time { return isoNow })
	pv.SetSize(100, 8)
	answered := &isoProber{answer: func(string, int) (model.ProbeReport, error) { return rep, nil }}
	pv.Start(answered, lb, 0)
	pv.Update(ProbeDoneMsg{Seq: 1, ContainerID: lb.ID, Report: rep})
	if v := pv.View(); !strings.Contains(v, "refused 0.4 ms (path open)") {
		t.Errorf("the refused row does not say why it counts as reachable:\n%s", v)
	}
}
