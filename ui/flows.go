package ui

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
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
	// used says a sample was ever asked for, so the agent may exist.
	used bool
	// drawn is what the latest sample drew (see signature): a sample
	// that draws the same asks for no drawing.
	drawn string
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

// Used reports whether flows were ever turned on, so the agent may exist.
func (p *FlowsPane) Used() bool { return p.used }

// Start turns sampling on and asks for the first sample of topo.
func (p *FlowsPane) Start(src FlowSampler, topo model.Topology) tea.Cmd {
	if src == nil || p.on {
		return nil
	}
	p.seq++
	p.on, p.used, p.sample, p.history, p.flagged, p.drawn = true, true, nil, nil, map[string]bool{}, ""
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
		p.sample = &s
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
// with their counts, flags and rates as shown, and the listeners.
func (p *FlowsPane) signature() string {
	var b strings.Builder
	for _, f := range p.sample.Flows {
		r, ok := p.rate(f)
		fmt.Fprintf(&b, "%s %d %t %.1f %s\n", flowKey(f), f.Conns, ok, r, f.Flag)
	}
	for _, l := range p.sample.Listeners {
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

// endName is how a flow's end is written: outside addresses say so.
func endName(e model.FlowEnd) string {
	if e.Outside() {
		return "outside " + e.Name
	}
	return e.Name
}

// Badge is the mark after a node's address while flows are on: how many
// peers it talks with (⇄N), and ! when one of its flows is flagged.
func (p *FlowsPane) Badge(c model.Container) string {
	if !p.on || p.sample == nil {
		return ""
	}
	peers := map[string]bool{}
	flagged := false
	for _, f := range p.sample.Flows {
		var peer model.FlowEnd
		switch c.ID {
		case f.Client.ID:
			peer = f.Server
		case f.Server.ID:
			peer = f.Client
		default:
			continue
		}
		peers[peer.ID+"|"+peer.Name] = true
		flagged = flagged || f.Flag != ""
	}
	if len(peers) == 0 {
		return ""
	}
	mark := "⇄" + strconv.Itoa(len(peers))
	if flagged {
		return p.styles.Error.Render(mark + "!")
	}
	return p.styles.Accent.Render(mark)
}

// ordered returns the flows with each client's flows together, clients in
// the order traffic passes them: outside first, then each container after
// those that connect to it (lb before app before mongo), so a path reads
// top to bottom.
func ordered(flows []model.Flow) []model.Flow {
	depth := map[string]int{}
	end := func(e model.FlowEnd) string { return e.ID + "|" + e.Name }
	for range len(flows) {
		changed := false
		for _, f := range flows {
			if d := depth[end(f.Client)] + 1; d > depth[end(f.Server)] && d <= len(flows) {
				depth[end(f.Server)] = d
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	out := append([]model.Flow(nil), flows...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if da, db := depth[end(a.Client)], depth[end(b.Client)]; da != db {
			return da < db
		}
		if endName(a.Client) != endName(b.Client) {
			return endName(a.Client) < endName(b.Client)
		}
		if a.Server.Name != b.Server.Name {
			return a.Server.Name < b.Server.Name
		}
		return a.Port < b.Port
	})
	return out
}

// Title is the pane's title: how many paths, and how many flagged ("!"
// carries it without colour).
func (p *FlowsPane) Title() string {
	if p.sample == nil {
		return "flows"
	}
	shown := p.shown()
	t := "flows · " + countOf(len(shown), "path")
	if n := (model.FlowSample{Flows: shown}).Flagged(); n > 0 {
		t += fmt.Sprintf(" · ! %d flagged", n)
	}
	return t + " · this engine"
}

// View draws exactly height lines of at most width cells: the flows
// grouped per client, then the listeners worth a look. Short of room the
// column headings go first, then the listeners share a line, then the
// last flows give way to a count.
func (p *FlowsPane) View() string {
	if p.width <= 0 || p.height <= 0 {
		return ""
	}
	s := p.styles
	if p.sample == nil {
		return padLines([]string{
			s.Muted.Render("starting the agent…"),
			s.Muted.Render("one container of topo's binary reads the kernel's socket tables; f removes it"),
		}, p.height)
	}
	flows := ordered(p.shown())
	var lines []string
	if len(flows) == 0 {
		lines = append(lines, s.Muted.Render("no established TCP connection between containers"))
	} else {
		lines = p.rows(flows)
	}
	tail := p.listenerLines()
	if len(lines)+len(tail) > p.height && len(flows) > 0 {
		lines = lines[1:]
	}
	if len(lines)+len(tail) > p.height && len(tail) > 1 {
		tail = []string{strings.Join(tail, s.Muted.Render(" · "))}
	}
	if len(lines)+len(tail) > p.height {
		// The paths first: the listeners are for a taller pane.
		tail = nil
	}
	if room := p.height - len(tail); len(lines) > room && room >= 2 {
		hidden := len(lines) - room + 1
		lines = append(lines[:room-1], s.Muted.Render(fmt.Sprintf("… %d more (topo flows lists all)", hidden)))
	}
	lines = append(lines, tail...)
	for i := range lines {
		lines[i] = ansiTruncate(lines[i], p.width)
	}
	return padLines(lines, p.height)
}

// rows are the column headings and one line per flow: "! client → server:port
// conns new/s", the client written once per group.
func (p *FlowsPane) rows(flows []model.Flow) []string {
	s := p.styles
	srcW, dstW := 4, 4
	for _, f := range flows {
		srcW = max(srcW, len([]rune(endName(f.Client))))
		dstW = max(dstW, len([]rune(endName(f.Server)))+1+len(strconv.Itoa(f.Port)))
	}
	const numbers = 6 + 7 // " conns" and " new/s"
	avail := max(8, p.width-2-3-numbers)
	// The client keeps its whole name when the servers leave it room:
	// "outside 172.20.0.1" cut short names nobody.
	srcW = min(srcW, max(avail/2, avail-dstW))
	dstW = min(dstW, max(4, avail-srcW))
	out := []string{s.Muted.Render("  " + fit("from", srcW) + "   " + fit("to", dstW) + " conns  new/s")}
	last := ""
	for _, f := range flows {
		mark := "  "
		if f.Flag != "" {
			mark = s.Error.Render("!") + " "
		}
		src := endName(f.Client)
		shown := src
		if src == last {
			shown = ""
		}
		last = src
		rate := "     -"
		if r, ok := p.rate(f); ok {
			rate = fmt.Sprintf("%6.1f", r)
		}
		dst := fit(endName(f.Server)+":"+strconv.Itoa(f.Port), dstW)
		if f.Flag != "" {
			dst = s.Error.Render(dst)
		}
		out = append(out, mark+fit(shown, srcW)+s.Muted.Render(" → ")+dst+fmt.Sprintf(" %5d %s", f.Conns, rate))
	}
	return out
}

// listenerLines say which listening ports nobody used in the sample and
// which are reachable from outside the engine's networks.
func (p *FlowsPane) listenerLines() []string {
	s := p.styles
	var unused, outside []string
	for _, l := range p.sample.Listeners {
		if p.match != nil && !p.match(l.ID) {
			continue
		}
		name := l.Name + ":" + strconv.Itoa(l.Port)
		if l.Outside {
			outside = append(outside, name)
		}
		if !l.Used {
			unused = append(unused, name)
		}
	}
	var out []string
	if len(outside) > 0 {
		out = append(out, s.Warning.Render("from outside: ")+strings.Join(dedupe(outside), ", "))
	}
	if len(unused) > 0 {
		out = append(out, s.Muted.Render("unused: ")+strings.Join(dedupe(unused), ", "))
	}
	return out
}

// dedupe drops repeats from a sorted list (a port listened on over IPv4
// and IPv6 is one port to a person).
func dedupe(list []string) []string {
	var out []string
	for _, x := range list {
		if len(out) == 0 || out[len(out)-1] != x {
			out = append(out, x)
		}
	}
	return out
}

// DetailLines are the details pane's flows of container id: whom it talks
// to, who talks to it, and its listening ports; none while flows are off.
func (p *FlowsPane) DetailLines(id string) []string {
	if !p.on {
		return nil
	}
	s := p.styles
	if p.sample == nil {
		return []string{s.PaneTitle.Render("flows"), s.Muted.Render("  reading the socket tables…")}
	}
	line := func(arrow string, f model.Flow, peer string) string {
		l := "  " + arrow + " " + peer + " " + s.Muted.Render(countOf(f.Conns, "conn"))
		if r, ok := p.rate(f); ok && r > 0 {
			l += s.Muted.Render(fmt.Sprintf(" · %.1f new/s", r))
		}
		if f.Flag != "" {
			l = s.Error.Render("!") + l[1:] + s.Error.Render(" — "+f.Flag)
		}
		return l
	}
	var to, from []string
	for _, f := range ordered(p.sample.Flows) {
		if f.Client.ID == id {
			to = append(to, line("→", f, endName(f.Server)+":"+strconv.Itoa(f.Port)))
		}
		if f.Server.ID == id {
			from = append(from, line("←", f, endName(f.Client)+" (to :"+strconv.Itoa(f.Port)+")"))
		}
	}
	var out []string
	out = append(out, s.PaneTitle.Render("talks to"))
	if len(to) == 0 {
		to = []string{s.Muted.Render("  nobody now")}
	}
	out = append(out, to...)
	out = append(out, s.PaneTitle.Render("talked to by"))
	if len(from) == 0 {
		from = []string{s.Muted.Render("  nobody now")}
	}
	out = append(out, from...)
	var listens []string
	seen := map[int]bool{}
	for _, l := range p.sample.Listeners {
		if l.ID != id || seen[l.Port] {
			continue
		}
		seen[l.Port] = true
		what := s.Muted.Render("in use")
		switch {
		case !l.Used && l.Outside:
			what = s.Warning.Render("reachable from outside") + s.Muted.Render(", unused")
		case l.Outside:
			what = s.Warning.Render("reachable from outside")
		case !l.Used:
			what = s.Muted.Render("unused")
		}
		listens = append(listens, "  :"+strconv.Itoa(l.Port)+" "+what)
	}
	if len(listens) > 0 {
		out = append(out, s.PaneTitle.Render("listens"))
		out = append(out, listens...)
	}
	return out
}

// flagLine is the event log's line for a newly flagged flow.
func flagLine(f model.Flow) string {
	return fmt.Sprintf("flow ! %s → %s:%d: %s", endName(f.Client), endName(f.Server), f.Port, f.Flag)
}
