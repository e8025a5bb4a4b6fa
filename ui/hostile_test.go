package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/topo-dev/topo/model"
)

// Hostile input: strings that would take over a terminal if drawn raw.
// Issue 11: a container whose compose service label held CSI 2J and an OSC
// title sequence cleared topo's screen and set the terminal's title.
const (
	csiClear  = "\x1b[2J\x1b[H"
	oscTitle  = "\x1b]0;pwned\x07"
	oscCopy   = "\x1b]52;c;ZXZpbA==\x07"
	bidiFlip  = "\u202e"
	rowForger = "\a\rFAKE\b\b"
	// hostileAll packs every trick in one string, for fields shown in
	// full (labels, check output, errors).
	hostileAll = "x" + csiClear + oscTitle + oscCopy + rowForger + bidiFlip + "gnp.exe"
)

// hostileTopo: every name a presenter's screen draws, each carrying one
// trick, beside wide and emoji names that must stay aligned with them.
// The container sorted first (project "a") holds them all in its labels,
// image, command and health, so the details pane shows each.
func hostileTopo() model.Topology {
	return newTopo().net("edge").net("core"+bidiFlip).
		ctr("evil-1", []string{"edge", "core" + bidiFlip}, withCompose("a", "web"+csiClear+oscTitle, 1), withHealth(model.HealthUnhealthy), func(c *model.Container) {
			c.Image = "evil/" + oscCopy + ":1"
			c.Labels["org.example.note"] = hostileAll
			c.Labels["key"+oscTitle] = "v"
		}).
		ctr("api"+oscTitle, []string{"edge"}).
		ctr("clip"+oscCopy, []string{"core" + bidiFlip}).
		ctr("db"+rowForger, []string{"core" + bidiFlip}).
		ctr("cache"+bidiFlip+"gnp.exe", []string{"edge"}).
		ctr("数据库🚀", []string{"edge"}).
		build()
}

// hostileDetails is what an inspection of a hostile container answers.
func hostileDetails(c model.Container) model.Container {
	c = detailedFrom(cloneContainer(c))
	c.HealthLog = "curl: " + hostileAll + "\nsecond line is not shown"
	c.Command = "sh -c 'printf " + csiClear + "'"
	return c
}

func hostileRegistry() model.Registry {
	topo := hostileTopo()
	evil := topo.Containers[ctrID("evil-1")]
	return model.Registry{
		Addr: "127.0.0.1:8500", Source: "auto: container consul" + oscTitle,
		Datacenter: "dc1" + csiClear, Leader: "172.30.0.2:8300", LastIndex: 7,
		FetchedAt: testNow.Add(-time.Second),
		Services: []model.Service{
			{Name: "web" + oscCopy, Tags: []string{"v1" + csiClear, bidiFlip + "canary"}, Instances: []model.Instance{
				{ID: "evil-1:8080", Service: "web" + oscCopy, Address: evil.Endpoints[netID("edge")].IPv4, Port: 8080, Node: "consul" + rowForger,
					Tags:   []string{"v1" + csiClear, bidiFlip + "canary"},
					Meta:   map[string]string{model.MetaContainerID: evil.ID, "note": hostileAll},
					Checks: []model.Check{serf(), httpCheck("evil-1", model.CheckCritical, "HTTP GET /health: 500 "+hostileAll)}},
			}},
		},
	}
}

func hostileCluster() model.Cluster {
	c := newCluster().
		node("manager-1", model.RoleManager, leader).
		node("worker"+oscTitle, model.RoleWorker, func(n *model.Node) { n.EngineVersion = "20.10" + csiClear }).
		overlay("front"+bidiFlip, false).
		service("app"+csiClear, model.ModeReplicated, 2, func(s *model.SwarmService) { s.Image = "app:" + oscCopy }).
		task("app"+csiClear, 1, "manager-1", []string{"front" + bidiFlip}).
		task("app"+csiClear, 2, "worker"+oscTitle, []string{"front" + bidiFlip}, func(t *model.Task) {
			t.State, t.DesiredState = model.TaskRejected, model.TaskShutdown
			t.Err = "no such image: " + hostileAll
			t.Message = "starting" + rowForger
		}).c
	c.Events = []model.SwarmEvent{{Time: testNow, Type: "service", Action: "update", ActorID: "svc-app",
		Attributes: map[string]string{"name": "app" + oscTitle, "replicas.new": "3" + csiClear, "replicas.old": "2"}}}
	return c
}

// hostileProber answers a probe of the hostile topology: one target
// answers that should not, and the agent's error text is hostile too.
type hostileProber struct{ topo model.Topology }

func (p hostileProber) Probe(_ context.Context, id string, port int) (model.ProbeReport, error) {
	plan, err := p.topo.PlanProbe(id, "", port)
	if err != nil {
		return model.ProbeReport{}, err
	}
	var results []model.ProbeResult
	for i, tg := range plan.Targets {
		r := model.ProbeResult{Address: tg.Address, Outcome: model.OutcomeConnected, Millis: 0.4}
		if i%2 == 1 {
			r.Outcome, r.Error = model.OutcomeError, "dial: "+hostileAll
		}
		results = append(results, r)
	}
	rep := plan.Report(results, nil)
	rep.Elapsed = 500 * time.Millisecond
	rep.Note = "note " + oscCopy
	return rep, nil
}

type hostileTraffic struct{ *fakeTraffic }

func (hostileTraffic) Target() string { return "http://127.0.0.1:8080/" + oscTitle }

// rawView is the frame before Model.View's last pass (inert.Screen): the
// hostile tests check it, so they prove Update's inert.Value did the work
// and the safety net had nothing to catch.
func rawView(m *Model) string {
	return m.statusBar() + "\n" + m.renderBody()
}

// assertInert fails for anything in out a terminal would act on: with
// the ASCII profile lipgloss adds no escape sequence, so there must be no
// ESC at all, no other C0 control than the line feeds, no C1 control, no
// invisible format character (bidi controls among them), and valid UTF-8.
func assertInert(t *testing.T, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("output is not valid UTF-8")
	}
	for i, r := range out {
		switch {
		case r == '\n':
		case r < 0x20 || r == 0x7f, r >= 0x80 && r <= 0x9f:
			t.Errorf("control character %U at byte %d: %q", r, i, around(out, i))
		case unicode.Is(unicode.Cf, r) && r != '\u200d':
			t.Errorf("format character %U at byte %d: %q", r, i, around(out, i))
		}
	}
}

func around(s string, i int) string {
	return s[max(0, i-30):min(len(s), i+30)]
}

// checkHostileFrame renders the screen, checks it is inert before and
// after the last pass, and that it shows the escapes.
func checkHostileFrame(t *testing.T, hs *harness, want ...string) string {
	t.Helper()
	raw := rawView(hs.m)
	assertInert(t, raw)
	v := hs.view() // also checks every line fits the width
	if v != raw {
		t.Errorf("inert.Screen changed the frame: a string reached a pane without passing inert.Value")
	}
	// The grid lines up: a lane's rule fills the width and its node lines
	// are whole columns, so no escaped name is wider or narrower than it
	// was measured.
	for i, line := range strings.Split(hs.m.lanes.View(), "\n") {
		lw := ansi.StringWidth(line)
		switch {
		case line == "" || strings.HasPrefix(line, "columns "):
		case strings.Contains(line, "━━"):
			if lw != hs.m.lanes.width {
				t.Errorf("lane rule %d is %d cells, want %d: %q", i+1, lw, hs.m.lanes.width, line)
			}
		case lw%hs.m.lanes.colW != 0:
			t.Errorf("node line %d is %d cells, not whole %d-cell columns: %q", i+1, lw, hs.m.lanes.colW, line)
		}
	}
	for _, w := range want {
		if !strings.Contains(v, w) {
			t.Errorf("the screen does not show %q", w)
		}
	}
	return v
}

// deliver runs cmd and feeds back, one at a time, the messages keep
// accepts, following their own commands; other messages (ticks) are
// dropped.
func deliver(t *testing.T, hs *harness, cmd tea.Cmd, keep func(tea.Msg) bool) {
	t.Helper()
	for _, msg := range runCmd(t, cmd) {
		if keep(msg) {
			deliver(t, hs, hs.sendOnly(msg), keep)
		}
	}
}

func newHostileHarness(t *testing.T, w, h int, configure func(*Config)) *harness {
	t.Helper()
	hs := newHarnessWith(t, w, h, nil, func(cfg *Config) {
		cfg.EngineInfo.Version = "20.10" + oscTitle
		cfg.Registry = &fakeConnector{results: []error{errors.New("no registry")}}
		if configure != nil {
			configure(cfg)
		}
	})
	topo := hostileTopo()
	for id, c := range topo.Containers {
		hs.engine.details[id] = hostileDetails(c)
	}
	hs.snapshot(topo)
	hs.send(RegistryMsg{Registry: hostileRegistry()})
	evil := topo.Containers[ctrID("evil-1")]
	hs.event(model.Event{Type: model.EventContainer, Action: "exec_start: sh -c " + oscTitle, ActorID: ctrID("gone"),
		Attributes: map[string]string{"name": "gone" + csiClear + bidiFlip, "execID": "1"}})
	hs.event(model.Event{Type: model.EventContainer, Action: "die", ActorID: evil.ID, Container: &evil,
		Attributes: map[string]string{"name": "evil-1", "exitCode": "1" + oscCopy}})
	// The compose container with every trick in its labels and health.
	hs.press("right", "right")
	if c, _ := hs.m.lanes.Selected(); c.ID != evil.ID {
		t.Fatalf("selected %q, want evil-1", c.Name)
	}
	t.Cleanup(hs.m.Close)
	return hs
}

// hostileScreen is one screen of the hostile goldens: how topo is
// configured, and what a person did before looking.
type hostileScreen struct {
	name      string
	configure func(*Config)
	setup     func(t *testing.T, hs *harness)
	want      []string
}

// hostileScreens are every pane of the screen with hostile strings in
// everything it draws.
var hostileScreens = []hostileScreen{
	{name: "lanes_details_registry_log", want: []string{`\x1b[2J`, `\x1b]0;pwned\a`, `\u202e`}},
	{name: "help", setup: func(t *testing.T, hs *harness) { hs.press("?") }},
	{name: "details_zoomed", setup: func(t *testing.T, hs *harness) { hs.press("enter") }, want: []string{`\x1b]52;c;ZXZpbA==\a`}},
	{name: "registry_focused", setup: func(t *testing.T, hs *harness) {
		hs.press("tab")
		if hs.m.wide() {
			hs.press("tab")
		}
	}},
	{name: "matrix", setup: func(t *testing.T, hs *harness) { hs.press("m") }},
	{name: "isolation_and_probe",
		configure: func(cfg *Config) { cfg.Prober = hostileProber{hostileTopo()} },
		setup: func(t *testing.T, hs *harness) {
			deliver(t, hs, hs.sendOnly(keyRunes("p")), func(msg tea.Msg) bool { _, ok := msg.(ProbeDoneMsg); return ok })
			if _, ok := hs.m.probe.Report(); !ok {
				t.Fatalf("the probe did not report")
			}
		}},
	{name: "cluster",
		configure: func(cfg *Config) {
			cfg.Swarm = &fakeSwarm{}
			cfg.Cluster = make(chan model.Cluster)
		},
		setup: func(t *testing.T, hs *harness) {
			// Its command waits for the next snapshot: dropped.
			hs.sendOnly(ClusterUpdateMsg{Cluster: hostileCluster()})
			hs.press("w")
			if !hs.m.on(screenCluster) {
				t.Fatalf("w did not show the cluster view")
			}
			for range 3 {
				hs.press("right")
			}
		},
		want: []string{`\x1b[2J`}},
	{name: "demo_failed_and_traffic",
		configure: func(cfg *Config) {
			cfg.Demo = &fakeDeployer{
				steps: []DemoStep{
					{Key: "pull", Title: "pull evil/" + oscCopy, State: DemoStepDone, Detail: "pulled" + csiClear, Fraction: -1},
					{Key: "start", Title: "start web" + bidiFlip, State: DemoStepFailed, Err: errors.New("start: " + hostileAll), Fraction: -1},
				},
				err: errors.New("deploy: " + hostileAll + "\nsecond line"),
			}
			cfg.Traffic = hostileTraffic{&fakeTraffic{snaps: []TrafficSnapshot{{
				At: testNow, Rate: 20, PerSecond: 20, ErrorRate: 0.5, Errors: 10, TotalRequests: 20, TotalErrors: 10,
				Instances: []TrafficInstance{{"app" + oscTitle, 10}, {"app" + bidiFlip + "2", 10}},
				LastError: "502: " + hostileAll,
			}}}}
		},
		setup: func(t *testing.T, hs *harness) {
			deliver(t, hs, hs.sendOnly(keyRunes("D")), func(msg tea.Msg) bool {
				switch msg.(type) {
				case DemoStepMsg, DemoDoneMsg:
					return true
				}
				return false
			})
			if !hs.m.demo.Failed() {
				t.Fatalf("the demo operation did not fail")
			}
			// The traffic's first snapshot only: its next wait
			// blocks until the pane stops it.
			for _, msg := range runCmd(t, hs.sendOnly(keyRunes("g"))) {
				if _, ok := msg.(TrafficMsg); ok {
					hs.sendOnly(msg)
				}
			}
			if !hs.m.traffic.Running() {
				t.Fatalf("g did not start the traffic")
			}
		},
		want: []string{`\x1b]52;c;ZXZpbA==\a`}},
}

// TestHostileGolden: every pane of the screen with hostile strings in
// everything it draws. Regenerate with `go test ./ui -run TestHostileGolden -update`.
func TestHostileGolden(t *testing.T) {
	screens := hostileScreens
	for _, sc := range screens {
		for _, size := range goldenSizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size.w, size.h), func(t *testing.T) {
				hs := newHostileHarness(t, size.w, size.h, sc.configure)
				if sc.setup != nil {
					sc.setup(t, hs)
				}
				golden.RequireEqual(t, checkHostileFrame(t, hs, sc.want...))
			})
		}
	}
}

// TestHostileSnapshotText: `topo snapshot` prints the same lanes, inert.
func TestHostileSnapshotText(t *testing.T) {
	for _, w := range []int{80, 200} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			out := RenderSnapshot(hostileTopo(), NewStyles(DefaultTheme()), w, false)
			assertInert(t, out)
			for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if lw := len([]rune(line)); lw > w*2 {
					t.Errorf("line %d is absurdly long: %q", i+1, line)
				}
			}
			for _, want := range []string{`\x1b[2J`, `\u202e`, "数据库🚀"} {
				if !strings.Contains(out, want) {
					t.Errorf("the snapshot does not show %q", want)
				}
			}
			golden.RequireEqual(t, out)
		})
	}
}

// TestInertValueLeavesTheMessageAlone: Update makes a copy; the adapter's
// topology (shared with the next snapshot) keeps its raw values.
func TestInertValueLeavesTheMessageAlone(t *testing.T) {
	topo := hostileTopo()
	hs := newHarness(t, 200, 50, &topo)
	if got := topo.Containers[ctrID("evil-1")].Service(); got != "web"+csiClear+oscTitle {
		t.Errorf("the sender's topology changed: service %q", got)
	}
	if got := hs.m.topo.Containers[ctrID("evil-1")].Service(); got != `web\x1b[2J\x1b[H\x1b]0;pwned\a` {
		t.Errorf("the UI's topology holds %q", got)
	}
}

// TestScreenKeepsLipglossColours: the frame's last pass (inert.Screen)
// keeps every sequence lipgloss emits for styling, in every colour
// profile, so on a real terminal topo looks as it did; and with a hostile
// topology the coloured frame holds no other escape sequence.
func TestScreenKeepsLipglossColours(t *testing.T) {
	for name, p := range map[string]termenv.Profile{"ansi": termenv.ANSI, "ansi256": termenv.ANSI256, "truecolor": termenv.TrueColor} {
		t.Run(name, func(t *testing.T) {
			lipgloss.SetColorProfile(p)
			t.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) })
			topo := basicTopo()
			hs := newHarness(t, 200, 50, &topo)
			hs.press("?")
			raw := rawView(hs.m)
			if !strings.Contains(raw, "\x1b[") {
				t.Fatalf("the frame has no colour: the test checks nothing")
			}
			if v := hs.m.View(); v != raw {
				t.Errorf("inert.Screen changed a frame of topo's own styling")
			}

			hostile := newHostileHarness(t, 200, 50, nil)
			v := hostile.m.View()
			for i := 0; i < len(v); i++ {
				if v[i] != 0x1b {
					continue
				}
				j := i + 2
				for j < len(v) && (v[j] >= '0' && v[j] <= '9' || v[j] == ';') {
					j++
				}
				if v[i+1] != '[' || j >= len(v) || v[j] != 'm' {
					t.Fatalf("an escape sequence other than SGR reached the frame: %q", around(v, i))
				}
			}
		})
	}
}
