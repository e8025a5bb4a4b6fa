package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/internal/inert"
)

// This file is the traffic pane: the demo's load generator seen live,
// requests per second per app instance as bars, the error rate and the
// latency, so that an audience sees load spread to a new instance and
// move off a killed one. The generator runs in demo/traffic, reached
// through TrafficSource; cli adapts it.

// TrafficInstance is one instance's share of the traffic.
type TrafficInstance struct {
	Name      string
	PerSecond float64
}

// TrafficSnapshot summarises the generator's recent window.
type TrafficSnapshot struct {
	At time.Time
	// Target is the URL the requests go to, when the source found it only
	// once running (the demo's deployed port, a swarm's manager).
	Target string
	// Rate is the target rate, PerSecond what was sent.
	Rate      float64
	PerSecond float64
	Instances []TrafficInstance
	ErrorRate float64
	P50, P95  time.Duration
	// Totals since the generator started.
	TotalRequests, TotalErrors int64
	// LastError is the latest failure, shown while errors happen.
	LastError string
	Errors    int
}

// TrafficSource runs a load generator until ctx ends, sending snapshots
// on out and closing it when done. Its error is for a generator that could
// not start (no load balancer address); failed requests are in the
// snapshots.
type TrafficSource interface {
	Run(ctx context.Context, out chan<- TrafficSnapshot) error
	// Target says where the traffic goes, for the pane's title.
	Target() string
}

// TrafficMsg carries one snapshot: produced by the command
// TrafficPane.Toggle returns and re-armed by TrafficPane.Update until
// TrafficStoppedMsg.
type TrafficMsg struct {
	Seq      int
	Snapshot TrafficSnapshot
}

// TrafficStoppedMsg says the generator ended: Err is nil when the pane
// stopped it.
type TrafficStoppedMsg struct {
	Seq int
	Err error
}

type trafficRun struct {
	seq  int
	ch   chan TrafficSnapshot
	errc chan error
}

func waitTraffic(r trafficRun) tea.Cmd {
	return receive(r.ch, func(s TrafficSnapshot) tea.Msg { return TrafficMsg{Seq: r.seq, Snapshot: s} },
		func() tea.Msg {
			err := <-r.errc
			if errors.Is(err, context.Canceled) {
				err = nil
			}
			return TrafficStoppedMsg{Seq: r.seq, Err: err}
		})
}

// TrafficPane shows the generator's snapshots.
type TrafficPane struct {
	styles        Styles
	parent        context.Context
	width, height int

	seq     int
	run     trafficRun
	cancel  context.CancelFunc
	running bool
	target  string
	snap    *TrafficSnapshot
	err     error
}

// NewTrafficPane returns a stopped pane; generators run under parent
// (topo's context, so quitting stops them).
func NewTrafficPane(styles Styles, parent context.Context) *TrafficPane {
	if parent == nil {
		parent = context.Background()
	}
	return &TrafficPane{styles: styles, parent: parent}
}

// SetSize gives the pane its size.
func (p *TrafficPane) SetSize(w, h int) { p.width, p.height = w, h }

// Running reports whether traffic is being sent.
func (p *TrafficPane) Running() bool { return p.running }

// Toggle starts the generator, or stops it when running; the returned
// command delivers its snapshots.
func (p *TrafficPane) Toggle(src TrafficSource) tea.Cmd {
	if p.running {
		p.Stop()
		return nil
	}
	if src == nil {
		return nil
	}
	p.seq++
	ctx, cancel := context.WithCancel(p.parent)
	p.cancel, p.running, p.err, p.snap, p.target = cancel, true, nil, nil, inert.Text(src.Target())
	r := trafficRun{seq: p.seq, ch: make(chan TrafficSnapshot, 1), errc: make(chan error, 1)}
	go func() { r.errc <- src.Run(ctx, r.ch) }()
	p.run = r
	return waitTraffic(r)
}

// begin shows a run as started with no generator behind it: a replay's,
// whose snapshots come from the recording.
func (p *TrafficPane) begin(target string) {
	p.seq++
	p.running, p.run, p.err, p.snap, p.target = true, trafficRun{seq: p.seq}, nil, nil, target
}

// reset forgets every run, for a replay that starts over.
func (p *TrafficPane) reset() {
	p.Stop()
	p.cancel, p.running, p.run, p.err, p.snap, p.target = nil, false, trafficRun{}, nil, nil, ""
}

// Stop ends the generator; its last snapshot stays on screen.
func (p *TrafficPane) Stop() {
	if p.cancel != nil {
		p.cancel()
	}
}

// Update takes the generator's messages.
func (p *TrafficPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case TrafficMsg:
		if msg.Seq != p.seq {
			return nil
		}
		s := msg.Snapshot
		p.snap = &s
		if s.Target != "" {
			p.target = s.Target
		}
		return waitTraffic(p.run)
	case TrafficStoppedMsg:
		if msg.Seq != p.seq {
			return nil
		}
		p.running, p.err = false, msg.Err
		if p.cancel != nil {
			p.cancel()
			p.cancel = nil
		}
	}
	return nil
}

// View draws exactly height lines of at most width cells: a title, one bar
// per instance, then errors and latency.
func (p *TrafficPane) View() string {
	if p.width <= 0 || p.height <= 0 {
		return ""
	}
	s := p.styles
	var lines []string
	switch {
	case p.running:
		title := s.PaneTitle.Render("traffic") + s.Muted.Render(" → "+p.target)
		if p.snap != nil {
			title += s.Muted.Render(fmt.Sprintf(" · %.0f req/s", p.snap.Rate))
		}
		lines = append(lines, title)
	case p.err != nil:
		for _, l := range wordWrap("traffic stopped: "+p.err.Error()+" (g tries again)", p.width) {
			lines = append(lines, s.Error.Render(l))
		}
		if p.snap == nil {
			return padLines(lines, p.height)
		}
	case p.snap != nil:
		lines = append(lines, s.PaneTitle.Render("traffic")+s.Muted.Render(" off · g starts it again · last run:"))
	default:
		return padLines([]string{
			s.PaneTitle.Render("traffic") + s.Muted.Render(" off"),
			s.Muted.Render("g sends searches through the load balancer and shows who serves them"),
		}, p.height)
	}
	if p.snap == nil {
		lines = append(lines, s.Muted.Render("waiting for the first answers…"))
	} else {
		lines = append(lines, p.body(*p.snap)...)
	}
	for i := range lines {
		lines[i] = clip(lines[i], p.width)
	}
	if len(lines) > p.height && p.height >= 2 {
		// Keep the summary line: the bars are what gives first.
		summary := lines[len(lines)-1]
		lines = append(lines[:p.height-1], summary)
	}
	return padLines(lines, p.height)
}

// Lines is the height of the pane's content at width w: with room, every
// instance's row shows (see sizedPanel).
func (p *TrafficPane) Lines(w int) int {
	savedW, savedH := p.width, p.height
	p.width, p.height = w, 1<<10
	lines := strings.Split(strings.TrimRight(p.View(), " \n"), "\n")
	p.width, p.height = savedW, savedH
	return len(lines)
}

func (p *TrafficPane) body(snap TrafficSnapshot) []string {
	s := p.styles
	nameW := 4
	for _, in := range snap.Instances {
		nameW = max(nameW, len([]rune(in.Name)))
	}
	nameW = min(nameW, max(4, p.width/3))
	rateW := len(" 99.9/s")
	// Past 50 cells a bar reads no better and pushes the rate away.
	barW := min(50, max(1, p.width-nameW-rateW-2))
	// Bars are scaled to the target rate, so one instance taking all the
	// traffic fills its bar and two sharing it fill half each.
	scale := max(snap.Rate, snap.PerSecond, 1)
	var out []string
	if len(snap.Instances) == 0 {
		out = append(out, s.Warning.Render("no instance answered in the window"))
	}
	for _, in := range snap.Instances {
		n := min(barW, int(in.PerSecond/scale*float64(barW)+0.5))
		if in.PerSecond > 0 {
			n = max(n, 1)
		}
		bar := s.Healthy.Render(strings.Repeat("█", n)) + s.Muted.Render(strings.Repeat("·", barW-n))
		out = append(out, fit(in.Name, nameW)+" "+bar+" "+fmt.Sprintf("%5.1f/s", in.PerSecond))
	}
	errStyle := s.Healthy
	switch {
	case snap.ErrorRate >= 0.05:
		errStyle = s.Error
	case snap.ErrorRate > 0:
		errStyle = s.Warning
	}
	summary := errStyle.Render(fmt.Sprintf("errors %.1f%%", 100*snap.ErrorRate)) +
		fmt.Sprintf("  p50 %s  p95 %s  %.1f req/s", fmtLatency(snap.P50), fmtLatency(snap.P95), snap.PerSecond) +
		s.Muted.Render(fmt.Sprintf("  sent %d, failed %d", snap.TotalRequests, snap.TotalErrors))
	if snap.Errors > 0 && snap.LastError != "" {
		out = append(out, s.Failing.Render("last error: "+snap.LastError))
	}
	return append(out, summary)
}

func fmtLatency(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
