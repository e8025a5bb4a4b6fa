package ui

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// This file is the flows pane: who talks to whom, read from the kernel's
// socket tables about once a second while the pane is shown (f), and held
// against the isolation model. Off, it makes no request at all. The
// sampling is a chain of commands, each started by the previous sample's
// message, so there is never more than one request in flight and turning
// flows off (a new seq) drops whatever is still on its way.

// flowInterval is the time from one sample's start to the next one's.
const flowInterval = time.Second

// flowSampleTimeout bounds one sample: the first builds the agent's image
// from topo's own binary (seconds on a warm engine, minutes on a cold one);
// later ones take milliseconds.
const flowSampleTimeout = 2 * time.Minute

// flowRateSamples is how many samples new connections per second are
// counted over: one second alone jumps between 0 and 2 for a client that
// opens one connection a second.
const flowRateSamples = 5

// FlowsMsg carries one sample, or why it failed; sampleFlows produces it
// and FlowsPane.Update asks for the next one.
type FlowsMsg struct {
	Seq    int
	Sample model.FlowSample
	// Start and At are when the request went out and when it came back.
	Start, At time.Time
	Err       error
}

// FlowsTickMsg says it is time for the next sample of run Seq.
type FlowsTickMsg struct{ Seq int }

// FlowsClosedMsg says the flow agent was removed after flows were turned
// off, or why it could not be.
type FlowsClosedMsg struct{ Err error }

// flowCounts is one sample's new connections per flow; news is nil for the
// first sample of a run, which has no "before" and only sets the clock.
type flowCounts struct {
	at   time.Time
	news map[string]int
}

// FlowsPane shows the flows of the latest sample and remembers which
// flagged flows were already reported.
type FlowsPane struct {
	styles        Styles
	parent        context.Context
	width, height int

	on     bool
	seq    int
	cancel context.CancelFunc
	sample *model.FlowSample
	// history is the latest samples' counts, oldest first.
	history []flowCounts
	// flagged are the flows whose flag was already logged in this run.
	flagged map[string]bool
	// used says a sample was ever asked for, so the agent may exist;
	// usedSwarm the same of the swarm's agents.
	used, usedSwarm bool
	// swarm: the flows of every node of the swarm (the run's scope, set
	// by Start), not of this engine only.
	swarm bool
	// drawn is what the latest sample drew (see signature): a sample
	// that draws the same asks for no drawing.
	drawn string
	// badges are the nodes' marks of the latest sample, drawn on first
	// use (see countPeers).
	badges map[string]string
	// match keeps the flows with an end it matches (the lanes' filter);
	// nil keeps all.
	match func(id string) bool
}

// SetFilter shows only the flows with an end match keeps; nil shows all.
func (p *FlowsPane) SetFilter(match func(id string) bool) { p.match = match }

// shown are the flows of the latest sample that the filter keeps.
func (p *FlowsPane) shown() []model.Flow {
	if p.match == nil {
		return p.sample.Flows
	}
	var out []model.Flow
	for _, f := range p.sample.Flows {
		if (!f.Client.Outside() && p.match(f.Client.ID)) || (!f.Server.Outside() && p.match(f.Server.ID)) {
			out = append(out, f)
		}
	}
	return out
}

// NewFlowsPane returns a pane that is off; samples run under parent
// (topo's context).
func NewFlowsPane(styles Styles, parent context.Context) *FlowsPane {
	if parent == nil {
		parent = context.Background()
	}
	return &FlowsPane{styles: styles, parent: parent}
}

// SetSize gives the pane its size.
func (p *FlowsPane) SetSize(w, h int) { p.width, p.height = w, h }

// On reports whether flows are being sampled.
func (p *FlowsPane) On() bool { return p.on }

// Used reports whether flows of this engine were ever turned on, so the
// agent may exist; UsedSwarm the same of every node's.
func (p *FlowsPane) Used() bool { return p.used }

// UsedSwarm reports whether flows of every node were ever turned on.
func (p *FlowsPane) UsedSwarm() bool { return p.usedSwarm }

// Swarm reports whether the flows shown are every node's.
func (p *FlowsPane) Swarm() bool { return p.swarm }

// Start turns sampling on and asks for the first sample of topo; swarm
// says src reads every node of the swarm.
func (p *FlowsPane) Start(src FlowSampler, topo model.Topology, swarm bool) tea.Cmd {
	if src == nil || p.on {
		return nil
	}
	p.seq++
	p.on, p.sample, p.history, p.flagged, p.drawn = true, nil, nil, map[string]bool{}, ""
	p.swarm = swarm
	if swarm {
		p.usedSwarm = true
	} else {
		p.used = true
	}
	return p.next(src, topo, nil)
}

// Stop turns sampling off: the request in flight is cancelled and its
// answer dropped. The returned command removes the agent.
func (p *FlowsPane) Stop(src FlowSampler) tea.Cmd {
	if !p.on {
		return nil
	}
	p.seq++
	p.on = false
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
	return closeFlows(src)
}

// Update takes the sampler's messages and returns the next command, the
// flows newly flagged by this sample, and whether what the flows draw
// (panel, marks, details) changed.
func (p *FlowsPane) Update(msg tea.Msg, src FlowSampler, topo model.Topology) (tea.Cmd, []model.Flow, bool) {
	switch msg := msg.(type) {
	case FlowsMsg:
		if msg.Seq != p.seq || !p.on {
			return nil, nil, false
		}
		if p.cancel != nil {
			p.cancel()
			p.cancel = nil
		}
		if msg.Err != nil {
			// Stopped, not retried every second: a sample that failed
			// (no image could be built, the engine refused the agent)
			// would fail the same way. f tries again.
			return p.Stop(src), nil, true
		}
		s := msg.Sample
		counts := flowCounts{at: msg.At}
		if p.sample != nil {
			counts.news = map[string]int{}
			for _, f := range s.Flows {
				counts.news[flowKey(f)] += f.New
			}
		}
		p.history = append(p.history, counts)
		if len(p.history) > flowRateSamples {
			p.history = p.history[len(p.history)-flowRateSamples:]
		}
		p.sample, p.badges = &s, nil
		var flagged []model.Flow
		for _, f := range s.Flows {
			if k := flowKey(f); f.Flag != "" && !p.flagged[k] {
				p.flagged[k] = true
				flagged = append(flagged, f)
			}
		}
		drawn := p.signature()
		changed := drawn != p.drawn
		p.drawn = drawn
		wait := max(flowInterval-msg.At.Sub(msg.Start), flowInterval/10)
		seq := p.seq
		return tea.Tick(wait, func(time.Time) tea.Msg { return FlowsTickMsg{Seq: seq} }), flagged, changed
	case FlowsTickMsg:
		if msg.Seq != p.seq || !p.on {
			return nil, nil, false
		}
		var prev map[string]bool
		if p.sample != nil {
			prev = p.sample.Seen
		}
		return p.next(src, topo, prev), nil, false
	}
	return nil, nil, false
}

// signature is everything of the latest sample that is drawn: the flows
// the filter shows with their counts, flags and rates as shown, and the
// listeners. (Filtered out, the flows of other work on a shared engine
// change every second and would redraw a screen that does not show them.)
func (p *FlowsPane) signature() string {
	var b strings.Builder
	for _, f := range p.shown() {
		r, ok := p.rate(f)
		fmt.Fprintf(&b, "%s %d %t %.1f %s\n", flowKey(f), f.Conns, ok, r, f.Flag)
	}
	for _, l := range p.sample.Listeners {
		if p.match != nil && !p.match(l.ID) {
			continue
		}
		fmt.Fprintf(&b, "%s %s %t %t\n", l.ID, l.Addr, l.Used, l.Outside)
	}
	return b.String()
}

// next asks for one sample of topo.
func (p *FlowsPane) next(src FlowSampler, topo model.Topology, prev map[string]bool) tea.Cmd {
	ctx, cancel := context.WithTimeout(p.parent, flowSampleTimeout)
	p.cancel = cancel
	// The command runs on a goroutine of its own while Update goes on
	// applying events to the model's maps in place: it gets maps of its
	// own (their values are never changed in place).
	topo = model.Topology{Networks: maps.Clone(topo.Networks), Containers: maps.Clone(topo.Containers)}
	seq := p.seq
	return func() tea.Msg {
		start := time.Now()
		s, err := src.Sample(ctx, topo, prev)
		if err != nil {
			err = fmt.Errorf("read the flows: %w", err)
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				err = fmt.Errorf("read the flows: no answer within %v (is the engine overloaded?): %w", flowSampleTimeout, err)
			}
		}
		return FlowsMsg{Seq: seq, Sample: s, Start: start, At: time.Now(), Err: err}
	}
}

func closeFlows(src FlowSampler) tea.Cmd {
	if src == nil {
		return nil
	}
	return func() tea.Msg { return FlowsClosedMsg{Err: src.Close()} }
}

// flowKey names a flow across samples.
func flowKey(f model.Flow) string {
	return f.Client.ID + "|" + f.Client.Name + "|" + f.Server.ID + "|" + f.Server.Name + "|" + strconv.Itoa(f.Port)
}

// rate is the flow's new connections per second over the kept samples,
// and whether there is a "before" to count them against.
func (p *FlowsPane) rate(f model.Flow) (float64, bool) {
	if len(p.history) < 2 {
		return 0, false
	}
	span := p.history[len(p.history)-1].at.Sub(p.history[0].at).Seconds()
	if span <= 0 {
		return 0, false
	}
	k := flowKey(f)
	n := 0
	for _, c := range p.history[1:] {
		n += c.news[k]
	}
	return float64(n) / span, true
}
