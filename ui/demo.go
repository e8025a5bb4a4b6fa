package ui

import (
	"context"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// This file is the demo's deploy panel: the steps of a deploy, scale or
// teardown as they happen (✓ done, … running, ✗ failed), then the ready
// URL or the error. The work runs in demo/deploy, reached through the
// DemoDeployer interface; cli adapts the real deployer to it.

// DemoStepState is where one step stands.
type DemoStepState int

const (
	DemoStepRunning DemoStepState = iota
	DemoStepDone
	DemoStepFailed
)

// DemoStep is one progress report of an operation. Reports with the same
// Key update one line of the panel.
type DemoStep struct {
	Key    string
	Title  string
	State  DemoStepState
	Detail string
	// Fraction is a pull's progress from 0 to 1, or negative when unknown.
	Fraction float64
	Err      error
}

// DemoDeployer is what the panel asks of the demo's deployer. Each call
// reports its steps through progress, from the calling goroutine.
type DemoDeployer interface {
	// Up deploys the demo (or finishes a deploy), waits until it answers
	// and returns the load balancer's URL.
	Up(ctx context.Context, progress func(DemoStep)) (url string, err error)
	// UpSwarm deploys the demo as the services of a swarm stack (the
	// engine is a manager), waits until it answers and returns its URL.
	UpSwarm(ctx context.Context, progress func(DemoStep)) (url string, err error)
	// ScaleBy adds delta instances of service (removes, when negative)
	// and returns the new count.
	ScaleBy(ctx context.Context, service string, delta int, progress func(DemoStep)) (int, error)
	// Down removes the demo's containers and networks, keeping its data.
	Down(ctx context.Context, progress func(DemoStep)) error
	// Project is the compose project of the demo's containers: + and -
	// scale the selected container's service only when it is the demo's.
	Project() string
	// Scalable says whether + and - can scale a service of the demo;
	// for the others they scale the app.
	Scalable(service string) bool
}

// DemoOp names an operation of the panel.
type DemoOp string

const (
	DemoDeploy   DemoOp = "deploy"
	DemoSwarm    DemoOp = "deploy on the swarm"
	DemoScale    DemoOp = "scale"
	DemoTeardown DemoOp = "teardown"
)

// demoRunTimeout bounds one operation from the UI: a first deploy may pull
// three images over a conference network.
const demoRunTimeout = 10 * time.Minute

// demoTickEvery paces the spinner and the elapsed time.
const demoTickEvery = 100 * time.Millisecond

// DemoStepMsg carries one step of the running operation: produced by the
// command DemoPanel.Start returns and re-armed by DemoPanel.Update until
// the DemoDoneMsg. Seq tells a stale operation's messages from the
// current one's.
type DemoStepMsg struct {
	Seq  int
	Step DemoStep
}

// DemoDoneMsg says the operation ended: URL after a deploy, Count after a
// scale, Err when it failed. It comes from the same command as DemoStepMsg.
type DemoDoneMsg struct {
	Seq     int
	Op      DemoOp
	Service string
	URL     string
	Count   int
	Err     error
}

// DemoTickMsg advances the spinner while an operation runs; produced by
// DemoPanel.Start and re-armed by DemoPanel.Update.
type DemoTickMsg struct {
	Seq  int
	Time time.Time
}

// demoRun is one operation in flight: its messages arrive on ch, which
// the goroutine running it closes after the DemoDoneMsg.
type demoRun struct {
	seq int
	ch  chan tea.Msg
}

// runDemo starts op in a goroutine bound to ctx and returns the channel
// of its messages. A send gives up when ctx ends, so an operation whose
// panel is gone (topo quitting) cannot block on a reader that left.
func runDemo(ctx context.Context, d DemoDeployer, seq int, op DemoOp, service string, delta int) demoRun {
	ch := make(chan tea.Msg, 32)
	send := func(m tea.Msg) {
		select {
		case ch <- m:
		case <-ctx.Done():
		}
	}
	go func() {
		defer close(ch)
		progress := func(s DemoStep) { send(DemoStepMsg{Seq: seq, Step: s}) }
		done := DemoDoneMsg{Seq: seq, Op: op, Service: service}
		switch op {
		case DemoDeploy:
			done.URL, done.Err = d.Up(ctx, progress)
		case DemoSwarm:
			done.URL, done.Err = d.UpSwarm(ctx, progress)
		case DemoScale:
			done.Count, done.Err = d.ScaleBy(ctx, service, delta, progress)
		case DemoTeardown:
			done.Err = d.Down(ctx, progress)
		default:
			done.Err = fmt.Errorf("unknown demo operation %q", op)
		}
		send(done)
	}()
	return demoRun{seq: seq, ch: ch}
}

// waitDemo delivers the next message of an operation.
func waitDemo(r demoRun) tea.Cmd {
	return receive(r.ch, func(m tea.Msg) tea.Msg { return m },
		// Closed without a DemoDoneMsg: the context ended first.
		func() tea.Msg { return DemoDoneMsg{Seq: r.seq, Err: context.Canceled} })
}

func demoTick(seq int) tea.Cmd {
	return tea.Tick(demoTickEvery, func(t time.Time) tea.Msg { return DemoTickMsg{Seq: seq, Time: t} })
}

// DemoPanel shows the demo operation in progress, or the last one's
// outcome.
type DemoPanel struct {
	styles        Styles
	now           func() time.Time
	parent        context.Context
	width, height int

	seq     int
	run     demoRun
	cancel  context.CancelFunc
	running bool
	op      DemoOp
	service string
	title   string
	started time.Time
	ended   time.Time
	frame   int
	keys    []string
	steps   map[string]DemoStep
	done    *DemoDoneMsg
}

// NewDemoPanel returns an idle panel. Operations run under parent (topo's
// context, so quitting cancels them); now is the clock (tests pin it).
func NewDemoPanel(styles Styles, parent context.Context, now func() time.Time) *DemoPanel {
	if now == nil {
		now = time.Now
	}
	if parent == nil {
		parent = context.Background()
	}
	return &DemoPanel{styles: styles, now: now, parent: parent, steps: map[string]DemoStep{}}
}

// SetSize gives the panel its size.
func (p *DemoPanel) SetSize(w, h int) { p.width, p.height = w, h }

// Running reports whether an operation is under way; the root disables the
// demo keys meanwhile, so two operations never race.
func (p *DemoPanel) Running() bool { return p.running }

// Active reports whether the panel has anything to show.
func (p *DemoPanel) Active() bool { return p.running || p.done != nil }

// TornDown says whether the last operation was a teardown that finished.
func (p *DemoPanel) TornDown() bool {
	return p.done != nil && p.done.Err == nil && p.done.Op == DemoTeardown
}

// Failed says the last operation ended in an error, which must stay on
// screen until read.
func (p *DemoPanel) Failed() bool { return p.done != nil && p.done.Err != nil }

// Clear forgets a finished operation, so the root can hide the panel.
func (p *DemoPanel) Clear() {
	if !p.running {
		p.done, p.keys, p.steps, p.title = nil, nil, map[string]DemoStep{}, ""
	}
}

// Deploy starts `demo up` and returns the commands that deliver its
// progress.
func (p *DemoPanel) Deploy(d DemoDeployer) tea.Cmd {
	return p.start(d, DemoDeploy, "", 0)
}

// DeploySwarm starts `demo up --swarm`.
func (p *DemoPanel) DeploySwarm(d DemoDeployer) tea.Cmd {
	return p.start(d, DemoSwarm, "", 0)
}

// Scale adds delta instances of service (the app when service is empty).
func (p *DemoPanel) Scale(d DemoDeployer, service string, delta int) tea.Cmd {
	if service == "" {
		service = "app"
	}
	return p.start(d, DemoScale, service, delta)
}

// Teardown starts `demo down` (the data volume is kept).
func (p *DemoPanel) Teardown(d DemoDeployer) tea.Cmd {
	return p.start(d, DemoTeardown, "", 0)
}

func (p *DemoPanel) start(d DemoDeployer, op DemoOp, service string, delta int) tea.Cmd {
	if p.running || d == nil {
		return nil
	}
	p.begin(op, service, demoTitle(op, service, delta))
	ctx, cancel := context.WithTimeout(p.parent, demoRunTimeout)
	p.cancel = cancel
	p.run = runDemo(ctx, d, p.seq, op, service, delta)
	return tea.Batch(waitDemo(p.run), demoTick(p.seq))
}

// begin shows a new operation as running, with nothing reported yet; a
// replay begins the recorded ones this way, with no deployer behind them.
func (p *DemoPanel) begin(op DemoOp, service, title string) {
	p.seq++
	p.running, p.run = true, demoRun{seq: p.seq}
	p.op, p.service, p.title, p.started, p.frame = op, service, title, p.now(), 0
	p.keys, p.steps, p.done = nil, map[string]DemoStep{}, nil
}

// reset forgets every operation, for a replay that starts over. seq goes
// on counting, so ticks of the forgotten ones are told apart.
func (p *DemoPanel) reset() {
	p.Cancel()
	p.cancel, p.running, p.run, p.done = nil, false, demoRun{}, nil
	p.keys, p.steps, p.title = nil, map[string]DemoStep{}, ""
}

// Cancel stops the running operation between two steps; what it did
// stays done, and a later deploy finishes the job.
func (p *DemoPanel) Cancel() {
	if p.cancel != nil {
		p.cancel()
	}
}

// Update takes the operation's messages.
func (p *DemoPanel) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case DemoStepMsg:
		if msg.Seq != p.seq {
			return nil
		}
		p.addStep(msg.Step)
		return waitDemo(p.run)
	case DemoDoneMsg:
		if msg.Seq != p.seq || !p.running {
			return nil
		}
		if msg.Op == "" {
			msg.Op, msg.Service = p.op, p.service
		}
		p.running, p.ended, p.done = false, p.now(), &msg
		if p.cancel != nil {
			p.cancel()
			p.cancel = nil
		}
	case DemoTickMsg:
		if msg.Seq != p.seq || !p.running {
			return nil
		}
		p.frame++
		return demoTick(p.seq)
	}
	return nil
}

func (p *DemoPanel) addStep(s DemoStep) {
	if _, ok := p.steps[s.Key]; !ok {
		p.keys = append(p.keys, s.Key)
	}
	p.steps[s.Key] = s
}
