package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/topo-dev/topo/internal/testenv"
)

// Golden files of the demo's panels are testdata/demo_*.golden and
// testdata/traffic_*.golden; regenerate with `go test ./ui -run 'Demo|Traffic' -update`.

var demoNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// prefixedTB names a golden file after a prefix rather than the test.
type prefixedTB struct {
	testing.TB
	name string
}

func (n prefixedTB) Name() string { return n.name }

// checkBox fails when the view is not exactly h lines of at most w cells.
func checkBox(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, want %d:\n%s", len(lines), h, view)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, lw, w, l)
		}
	}
}

// fakeDeployer plays back scripted steps, then returns; with hold set it
// waits for its context to end before returning, like an interrupted
// deploy.
type fakeDeployer struct {
	steps []DemoStep
	url   string
	count int
	err   error
	hold  bool
	calls []string
}

func (f *fakeDeployer) play(ctx context.Context, progress func(DemoStep)) error {
	for _, s := range f.steps {
		progress(s)
	}
	if f.hold {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.err
}

func (f *fakeDeployer) Up(ctx context.Context, progress func(DemoStep)) (string, error) {
	f.calls = append(f.calls, "up")
	return f.url, f.play(ctx, progress)
}

func (f *fakeDeployer) UpSwarm(ctx context.Context, progress func(DemoStep)) (string, error) {
	f.calls = append(f.calls, "up swarm")
	return f.url, f.play(ctx, progress)
}

func (f *fakeDeployer) ScaleBy(ctx context.Context, service string, delta int, progress func(DemoStep)) (int, error) {
	f.calls = append(f.calls, fmt.Sprintf("scale %s %+d", service, delta))
	return f.count, f.play(ctx, progress)
}

func (f *fakeDeployer) Project() string { return "topo-demo" }

func (f *fakeDeployer) Scalable(service string) bool { return service == "app" }

func (f *fakeDeployer) Down(ctx context.Context, progress func(DemoStep)) error {
	f.calls = append(f.calls, "down")
	return f.play(ctx, progress)
}

// demoStyles are plain-text styles: golden files hold no colour
// (main_test.go pins the ASCII profile for the whole package).
func demoStyles() Styles { return NewStyles(DefaultTheme()) }

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// drive feeds the panel its operation's messages until it ends.
func drive(t *testing.T, p *DemoPanel) []tea.Msg {
	t.Helper()
	var got []tea.Msg
	deadline := time.After(testenv.Patience(5 * time.Second))
	for p.Running() {
		msgc := make(chan tea.Msg, 1)
		go func() { msgc <- waitDemo(p.run)() }()
		select {
		case m := <-msgc:
			got = append(got, m)
			p.Update(m)
		case <-deadline:
			t.Fatal("the operation did not end in time")
		}
	}
	return got
}

var deploySteps = []DemoStep{
	{Key: "image consul", Title: "image hashicorp/consul:1.14.11", State: DemoStepDone, Detail: "present", Fraction: -1},
	{Key: "image mongo", Title: "pull mongo:7.0", State: DemoStepRunning, Detail: "12.1/40.3 MB", Fraction: 0.3},
	{Key: "image mongo", Title: "pull mongo:7.0", State: DemoStepDone, Detail: "pulled", Fraction: -1},
	{Key: "image self", Title: "image topo-self:0123456789ab (app, registrator)", State: DemoStepDone, Detail: "ready", Fraction: -1},
	{Key: "network front", Title: "network topo-demo_front", State: DemoStepDone, Detail: "created", Fraction: -1},
	{Key: "network back", Title: "network topo-demo_back", State: DemoStepDone, Detail: "created", Fraction: -1},
	{Key: "volume", Title: "volume topo-demo_mongo-data", State: DemoStepDone, Detail: "created", Fraction: -1},
	{Key: "container consul-1", Title: "topo-demo-consul-1", State: DemoStepDone, Detail: "created and started", Fraction: -1},
	{Key: "container mongo-1", Title: "topo-demo-mongo-1", State: DemoStepDone, Detail: "created and started", Fraction: -1},
	{Key: "container registrator-1", Title: "topo-demo-registrator-1", State: DemoStepDone, Detail: "created and started", Fraction: -1},
	{Key: "container app-1", Title: "topo-demo-app-1", State: DemoStepDone, Detail: "created and started", Fraction: -1},
	{Key: "container app-2", Title: "topo-demo-app-2", State: DemoStepDone, Detail: "created and started", Fraction: -1},
	{Key: "container lb-1", Title: "topo-demo-lb-1", State: DemoStepDone, Detail: "created and started", Fraction: -1},
	{Key: "wait registry", Title: "app instances passing in the registry", State: DemoStepDone, Detail: "2/2 passing", Fraction: -1},
	{Key: "wait lb", Title: "load balancer answers", State: DemoStepDone, Detail: "served by topo-demo-app-1", Fraction: -1},
}

const missingImageErr = "image mongo:7.0 (for mongo) is not on the engine and pulling it failed: the registry cannot be reached, is there no network? (dial tcp: lookup registry-1.docker.io: no such host); connect to the internet and run `topo demo images --pull` (before the talk), or point --image-mongo / TOPO_DEMO_IMAGE_MONGO at an image the engine has"

func TestDemoPanelGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		w, h int
		// setup leaves the panel in the state to draw.
		setup func(p *DemoPanel, c *clock)
	}{
		{"idle", 80, 4, func(p *DemoPanel, c *clock) {}},
		{"deploy_pulling", 80, 8, func(p *DemoPanel, c *clock) {
			p.Deploy(&fakeDeployer{hold: true})
			c.t = c.t.Add(2300 * time.Millisecond)
			for _, s := range deploySteps[:2] {
				p.Update(DemoStepMsg{Seq: p.seq, Step: s})
			}
			p.Update(DemoTickMsg{Seq: p.seq})
			p.Update(DemoTickMsg{Seq: p.seq})
		}},
		{"deploy_ready", 80, 18, func(p *DemoPanel, c *clock) {
			p.Deploy(&fakeDeployer{hold: true})
			for _, s := range deploySteps {
				p.Update(DemoStepMsg{Seq: p.seq, Step: s})
			}
			c.t = c.t.Add(7400 * time.Millisecond)
			p.Update(DemoDoneMsg{Seq: p.seq, Op: DemoDeploy, URL: "http://127.0.0.1:8080"})
		}},
		{"deploy_ready_small", 60, 6, func(p *DemoPanel, c *clock) {
			p.Deploy(&fakeDeployer{hold: true})
			for _, s := range deploySteps {
				p.Update(DemoStepMsg{Seq: p.seq, Step: s})
			}
			c.t = c.t.Add(7400 * time.Millisecond)
			p.Update(DemoDoneMsg{Seq: p.seq, Op: DemoDeploy, URL: "http://127.0.0.1:8080"})
		}},
		{"deploy_missing_image", 80, 10, func(p *DemoPanel, c *clock) {
			p.Deploy(&fakeDeployer{hold: true})
			p.Update(DemoStepMsg{Seq: p.seq, Step: deploySteps[0]})
			p.Update(DemoStepMsg{Seq: p.seq, Step: DemoStep{Key: "image mongo", Title: "pull mongo:7.0", State: DemoStepFailed, Err: errors.New(missingImageErr)}})
			c.t = c.t.Add(1200 * time.Millisecond)
			p.Update(DemoDoneMsg{Seq: p.seq, Op: DemoDeploy, Err: errors.New(missingImageErr)})
		}},
		{"scale_up", 80, 5, func(p *DemoPanel, c *clock) {
			p.Scale(&fakeDeployer{hold: true}, "", 1)
			p.Update(DemoStepMsg{Seq: p.seq, Step: DemoStep{Key: "container app-3", Title: "topo-demo-app-3", State: DemoStepDone, Detail: "created and started"}})
			p.Update(DemoStepMsg{Seq: p.seq, Step: DemoStep{Key: "scale app", Title: "scale app from 2 to 3", State: DemoStepDone, Detail: "3 instances"}})
			c.t = c.t.Add(900 * time.Millisecond)
			p.Update(DemoDoneMsg{Seq: p.seq, Op: DemoScale, Service: "app", Count: 3})
		}},
		{"teardown_cancelled", 80, 5, func(p *DemoPanel, c *clock) {
			p.Teardown(&fakeDeployer{hold: true})
			p.Update(DemoStepMsg{Seq: p.seq, Step: DemoStep{Key: "container lb-1", Title: "topo-demo-lb-1", State: DemoStepDone, Detail: "removed"}})
			p.Update(DemoStepMsg{Seq: p.seq, Step: DemoStep{Key: "container app-1", Title: "topo-demo-app-1", State: DemoStepRunning, Detail: "stopping", Fraction: -1}})
			c.t = c.t.Add(time.Second)
			p.Update(DemoDoneMsg{Seq: p.seq, Err: context.Canceled})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{demoNow}
			p := NewDemoPanel(demoStyles(), context.Background(), c.now)
			t.Cleanup(p.Cancel)
			p.SetSize(tc.w, tc.h)
			tc.setup(p, c)
			v := p.View()
			checkBox(t, v, tc.w, tc.h)
			golden.RequireEqual(prefixedTB{t, "demo_" + tc.name}, v)
		})
	}
}

func TestDemoPanelRunsAnOperationToItsEnd(t *testing.T) {
	f := &fakeDeployer{steps: deploySteps, url: "http://127.0.0.1:8080"}
	p := NewDemoPanel(demoStyles(), context.Background(), nil)
	p.SetSize(80, 20)
	if cmd := p.Deploy(f); cmd == nil {
		t.Fatal("Deploy returned no command")
	}
	if !p.Running() || !p.Active() {
		t.Fatal("the panel is not running after Deploy")
	}
	if cmd := p.Teardown(f); cmd != nil {
		t.Error("a second operation started while the first runs")
	}
	msgs := drive(t, p)
	if len(msgs) != len(deploySteps)+1 {
		t.Errorf("%d messages, want %d steps and the end", len(msgs), len(deploySteps))
	}
	for i, m := range msgs[:len(msgs)-1] {
		if sm, ok := m.(DemoStepMsg); !ok || sm.Step != deploySteps[i] {
			t.Errorf("message %d is %#v, want step %q in order", i, m, deploySteps[i].Title)
		}
	}
	if v := p.View(); !strings.Contains(v, "ready: http://127.0.0.1:8080") || strings.Contains(v, "…") && strings.Contains(v, "pull mongo") {
		t.Errorf("view after the deploy:\n%s", v)
	}
	if strings.Join(f.calls, ",") != "up" {
		t.Errorf("calls %v", f.calls)
	}

	// The next operation replaces the last one's steps.
	f2 := &fakeDeployer{count: 3}
	p.Scale(f2, "", 1)
	drive(t, p)
	if strings.Join(f2.calls, ",") != "scale app +1" {
		t.Errorf("calls %v, want the app scaled by +1 when no service is given", f2.calls)
	}
	if v := p.View(); !strings.Contains(v, "app: 3 instances") || strings.Contains(v, "topo-demo-consul-1") {
		t.Errorf("view after the scale:\n%s", v)
	}
	p.Clear()
	if p.Active() {
		t.Error("Clear left the panel active")
	}
}

func TestDemoPanelIgnoresStaleMessages(t *testing.T) {
	p := NewDemoPanel(demoStyles(), context.Background(), nil)
	p.SetSize(80, 10)
	p.Deploy(&fakeDeployer{hold: true})
	defer p.Cancel()
	old := p.seq - 1
	p.Update(DemoStepMsg{Seq: old, Step: DemoStep{Key: "x", Title: "from an older operation"}})
	p.Update(DemoDoneMsg{Seq: old, Op: DemoDeploy, URL: "http://old"})
	if !p.Running() || strings.Contains(p.View(), "older operation") || strings.Contains(p.View(), "http://old") {
		t.Errorf("a stale message changed the panel:\n%s", p.View())
	}
	if cmd := p.Update(DemoTickMsg{Seq: old}); cmd != nil {
		t.Error("a stale tick re-armed itself")
	}
}

// TestDemoPanelCancel: cancelling stops the deployer through its context
// and the panel says so.
func TestDemoPanelCancel(t *testing.T) {
	p := NewDemoPanel(demoStyles(), context.Background(), nil)
	p.SetSize(80, 10)
	p.Deploy(&fakeDeployer{hold: true, steps: deploySteps[:3]})
	p.Cancel()
	drive(t, p)
	if v := p.View(); !strings.Contains(v, "deploy cancelled") {
		t.Errorf("view after cancel:\n%s", v)
	}
}

// TestDemoOperationEndsWithItsParent: when topo quits (its context ends)
// and nobody reads the panel's messages any more, the operation's
// goroutine still ends.
func TestDemoOperationEndsWithItsParent(t *testing.T) {
	parent, quit := context.WithCancel(context.Background())
	p := NewDemoPanel(demoStyles(), parent, nil)
	many := make([]DemoStep, 200) // more than the channel holds
	for i := range many {
		many[i] = DemoStep{Key: fmt.Sprint(i), Title: "step"}
	}
	p.Deploy(&fakeDeployer{steps: many, hold: true})
	quit()
	deadline := time.After(testenv.Patience(2 * time.Second))
	for {
		select {
		case _, open := <-p.run.ch:
			if !open {
				return
			}
		case <-deadline:
			t.Fatal("the operation's goroutine did not end after its parent context")
		}
	}
}

// On a swarm manager D asks which way to deploy and runs nothing before
// the answer; s deploys the stack, e the containers, esc neither. On a
// plain engine D deploys the containers at once.
func TestDeployAsksSwarmOrContainersOnAManager(t *testing.T) {
	for _, tc := range []struct {
		name    string
		swarm   bool
		answer  string
		want    string
		flashed string
	}{
		{name: "swarm services", swarm: true, answer: "s", want: "up swarm"},
		{name: "containers", swarm: true, answer: "e", want: "up"},
		{name: "cancelled", swarm: true, answer: "esc", want: "", flashed: "cancelled: nothing was done"},
		{name: "no swarm: no question", want: "up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeDeployer{url: "http://127.0.0.1:8080"}
			hs := newHarnessWith(t, 80, 24, nil, func(c *Config) {
				c.Demo = f
				if tc.swarm {
					c.Swarm = &fakeSwarm{}
				}
			})
			hs.press("D")
			if tc.swarm {
				lines := strings.Split(hs.view(), "\n")
				footer := lines[len(lines)-1]
				if !strings.Contains(footer, "Deploy the demo as: s swarm services  e containers on this engine  esc cancel") {
					t.Fatalf("footer after D on a manager: %q", footer)
				}
				if len(f.calls) != 0 {
					t.Fatalf("D ran %v before the presenter answered", f.calls)
				}
				hs.press(tc.answer)
			}
			if got := strings.Join(f.calls, "|"); got != tc.want {
				t.Errorf("calls %q, want %q", got, tc.want)
			}
			if tc.flashed != "" && !strings.Contains(hs.view(), tc.flashed) {
				t.Errorf("the screen does not say %q:\n%s", tc.flashed, hs.view())
			}
		})
	}
}

// A narrow terminal cuts a long question, never the keys that answer it.
func TestConfirmKeepsItsAnswersOnANarrowTerminal(t *testing.T) {
	for _, swarm := range []bool{false, true} {
		hs := newHarnessWith(t, 60, 24, nil, func(c *Config) {
			c.Demo = &fakeDeployer{}
			if swarm {
				c.Swarm = &fakeSwarm{}
			}
		})
		want := "y yes  n no"
		hs.press("T")
		if swarm {
			hs.press("n") // nothing is asked yet: T asks itself
			hs.press("esc")
			hs.press("D")
			want = "esc cancel"
		}
		lines := strings.Split(hs.view(), "\n")
		footer := strings.TrimRight(lines[len(lines)-1], " ")
		if !strings.HasSuffix(footer, want) || !strings.Contains(footer, "…") {
			t.Errorf("swarm %v: footer at 60 columns %q: want the question cut (…) and %q kept", swarm, footer, want)
		}
	}
}

// A swarm deploy ends with its URL like a container deploy; an error too
// long for a small panel is shown from its start, where it says what
// failed, and the cut is marked.
func TestDemoPanelSwarmOutcomeAndALongErrorInASmallPanel(t *testing.T) {
	p := NewDemoPanel(demoStyles(), context.Background(), nil)
	p.SetSize(60, 10)
	f := &fakeDeployer{url: "http://10.0.0.2:8080"}
	p.DeploySwarm(f)
	drive(t, p)
	if v := p.View(); !strings.Contains(v, "ready: http://10.0.0.2:8080") || strings.Join(f.calls, ",") != "up swarm" {
		t.Errorf("calls %v; view after a swarm deploy:\n%s", f.calls, v)
	}

	p.SetSize(60, 3)
	long := errors.New("images missing on nodes: topo-self:1 on w1, w2. Copy each (`docker save IMAGE | docker -H NODE load`, or push it to a registry the nodes reach), then deploy again: swarm nodes do not share images")
	p.DeploySwarm(&fakeDeployer{err: long})
	drive(t, p)
	lines := strings.Split(p.View(), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "failed: images missing on nodes") || !strings.HasSuffix(strings.TrimRight(lines[2], " "), "…") {
		t.Errorf("a long error in 3 lines:\n%s", strings.Join(lines, "\n"))
	}
}
