package ui

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/topo-dev/topo/model"
)

// probeRunTimeout bounds a probe from the UI; the first one builds the
// probe image from topo's own binary, which takes a few seconds.
const probeRunTimeout = 2 * time.Minute

// probeTickEvery paces the progress display.
const probeTickEvery = 100 * time.Millisecond

// ProbeDoneMsg carries the result of a probe: produced by the command
// ProbeView.Start returns (RunProbe). Seq tells a stale result from the
// current one.
type ProbeDoneMsg struct {
	Seq         int
	ContainerID string
	Report      model.ProbeReport
	Err         error
}

// ProbeTickMsg advances the progress display while a probe runs; produced
// by ProbeView.Start and re-armed by ProbeView.Update until the probe ends.
type ProbeTickMsg struct {
	Seq  int
	Time time.Time
}

// RunProbe is the command that runs one probe through the adapter and
// answers with a ProbeDoneMsg. ctx lets the view cancel it.
func RunProbe(ctx context.Context, pr Prober, seq int, containerID string, port int) tea.Cmd {
	return func() tea.Msg {
		rep, err := pr.Probe(ctx, containerID, port)
		return ProbeDoneMsg{Seq: seq, ContainerID: containerID, Report: rep, Err: err}
	}
}

func probeTick(seq int) tea.Cmd {
	return tea.Tick(probeTickEvery, func(t time.Time) tea.Msg { return ProbeTickMsg{Seq: seq, Time: t} })
}

// ProbeView shows a probe: its progress while it runs, then each result
// next to its expectation, mismatches first and highlighted.
type ProbeView struct {
	styles        Styles
	now           func() time.Time
	width, height int

	seq    int
	cancel context.CancelFunc
	// inflight is closed when the probe command returns, that is once the
	// prober has removed its container; Close waits on it.
	inflight  chan struct{}
	running   bool
	subject   string
	subjectID string
	started   time.Time
	frame     int
	report    *model.ProbeReport
	err       error
	offset    int
	// first says which targets to list before the others (after the
	// mismatches): the subject's own application, on stage.
	first func(containerID string) bool
}

// SetFirst sets which targets are listed first, after the mismatches.
func (p *ProbeView) SetFirst(first func(containerID string) bool) { p.first = first }

// NewProbeView returns an idle probe view; now is the clock (tests pin it).
func NewProbeView(styles Styles, now func() time.Time) *ProbeView {
	if now == nil {
		now = time.Now
	}
	return &ProbeView{styles: styles, now: now}
}

// SetSize gives the view its size.
func (p *ProbeView) SetSize(w, h int) { p.width, p.height = w, h }

// Start probes from container c (on port, or its peers' exposed ports when
// 0) and returns the commands to run: the probe and the progress ticks. A
// probe still running is cancelled first.
func (p *ProbeView) Start(pr Prober, c model.Container, port int) tea.Cmd {
	p.Cancel()
	p.seq++
	p.subject, p.subjectID = c.DisplayName(), c.ID
	p.report, p.offset = nil, 0
	if pr == nil {
		p.running, p.err = false, errors.New("probing is not available: topo was started without a Docker engine to run the probe on")
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeRunTimeout)
	p.cancel, p.running = cancel, true
	p.started, p.frame, p.err = p.now(), 0, nil
	inflight := make(chan struct{})
	p.inflight = inflight
	run := RunProbe(ctx, pr, p.seq, c.ID, port)
	return tea.Batch(func() tea.Msg {
		defer close(inflight)
		return run()
	}, probeTick(p.seq))
}

// Close cancels a running probe and waits, at most wait, for the prober to
// remove its container. Call it after the program has quit: the process
// would otherwise exit with the probe container still there.
func (p *ProbeView) Close(wait time.Duration) {
	p.Cancel()
	if p.inflight == nil {
		return
	}
	select {
	case <-p.inflight:
	case <-time.After(wait):
	}
}

// Cancel stops a running probe; the prober removes its container and the
// view shows the probe as cancelled when its ProbeDoneMsg arrives.
func (p *ProbeView) Cancel() {
	if p.cancel != nil {
		p.cancel()
	}
}

// Running reports whether a probe is under way.
func (p *ProbeView) Running() bool { return p.running }

// Report returns the last probe's report, if it finished.
func (p *ProbeView) Report() (model.ProbeReport, bool) {
	if p.report == nil {
		return model.ProbeReport{}, false
	}
	return *p.report, true
}

// Update takes the probe's messages and scrolls the results.
func (p *ProbeView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case ProbeDoneMsg:
		if msg.Seq != p.seq {
			return nil
		}
		p.running = false
		if p.cancel != nil {
			p.cancel()
			p.cancel = nil
		}
		if msg.Err != nil {
			p.err = msg.Err
			return nil
		}
		rep := msg.Report
		// Mismatches first: on a small screen they are what must show.
		sort.SliceStable(rep.Lines, func(i, j int) bool {
			return rep.Lines[i].Verdict.Mismatch() && !rep.Lines[j].Verdict.Mismatch()
		})
		p.report = &rep
	case ProbeTickMsg:
		if msg.Seq != p.seq || !p.running {
			return nil
		}
		p.frame++
		return probeTick(p.seq)
	case tea.KeyMsg:
		switch msg.String() {
		case "up", "k":
			p.offset--
		case "down", "j":
			p.offset++
		case "pgup":
			p.offset -= p.height
		case "pgdown", " ":
			p.offset += p.height
		case "home", "g":
			p.offset = 0
		}
		p.offset = max(0, min(p.offset, len(p.lines())-(p.height-1)))
	}
	return nil
}

// spinnerFrames are the status bar's spinner's (bubbles' MiniDot), so the
// probe and demo panels, which advance them on their own ticks, turn alike.
var spinnerFrames = spinner.MiniDot.Frames

// View draws exactly height lines of at most width cells.
func (p *ProbeView) View() string {
	s := p.styles
	var head []string
	switch {
	case p.running:
		elapsed := p.now().Sub(p.started).Seconds()
		head = []string{
			s.Accent.Render(spinnerFrames[p.frame%len(spinnerFrames)]) + " " +
				s.Bold.Render("probing from "+p.subject) + s.Muted.Render(fmt.Sprintf(" · %.1f s", elapsed)),
			s.Muted.Render("a probe container joins " + p.subject + "'s network namespace and dials every address at once"),
		}
	case p.err != nil:
		what := "probe from " + p.subject + " failed"
		if errors.Is(p.err, context.Canceled) {
			what = "probe from " + p.subject + " cancelled"
		}
		head = append([]string{s.Error.Render(what)}, wordWrap(p.err.Error(), p.width)...)
	case p.report != nil:
		style := s.Healthy
		if p.report.Mismatches() > 0 {
			style = s.Error
		}
		head = []string{style.Render(p.report.Summary())}
		if p.report.Note != "" {
			head = append(head, s.Warning.Render(p.report.Note))
		}
	default:
		head = []string{s.Muted.Render("no probe yet: select a container and press p")}
	}
	for i := range head {
		if ansi.StringWidth(head[i]) > p.width {
			head[i] = ansi.Truncate(head[i], max(0, p.width), "…")
		}
	}
	body := p.lines()
	room := max(0, p.height-len(head))
	start := min(p.offset, max(0, len(body)-room))
	body = body[start:min(len(body), start+room)]
	return padLines(append(head, body...), p.height)
}

// probeResultText is a line's result as the table shows it. A refusal
// under "reachable" says why it counts: the target's kernel answered, so
// the path is open even though nothing listens on that port.
func probeResultText(l model.ProbeLine) string {
	if l.Result.Outcome == model.OutcomeRefused && !l.Verdict.Mismatch() && l.Result.Outcome.PathOpen() {
		return l.ResultText() + " (path open)"
	}
	return l.ResultText()
}

// lines renders the report's table, one or two lines per result.
func (p *ProbeView) lines() []string {
	if p.report == nil || p.running {
		return nil
	}
	s := p.styles
	nameW, addrW, expW, resW := p.columns()
	row := func(mark, name, addr, exp, res string) string {
		return mark + " " + fit(name, nameW) + "  " + fit(addr, addrW) + "  " + fit(exp, expW) + "  " + fit(res, resW)
	}
	out := []string{s.Muted.Render(row(" ", "TARGET", "ADDRESS", "EXPECTED", "RESULT"))}
	ordered := append([]model.ProbeLine(nil), p.report.Lines...)
	rank := func(l model.ProbeLine) int {
		switch {
		case l.Verdict.Mismatch():
			return 0
		case p.first != nil && p.first(l.Target.ContainerID):
			return 1
		}
		return 2
	}
	sort.SliceStable(ordered, func(i, j int) bool { return rank(ordered[i]) < rank(ordered[j]) })
	for _, l := range ordered {
		addr, res := l.Target.Address, probeResultText(l)
		if addr == "" {
			addr = "-"
		}
		switch {
		case l.Verdict.Mismatch():
			out = append(out, s.Error.Render(row(markMismatch, l.Target.Name, addr, l.Target.ExpectText(), res)))
			for _, w := range wordWrap(string(l.Verdict)+" — "+l.Why, max(1, p.width-4)) {
				// A word longer than the line is cut, not drawn past the
				// panel's edge.
				out = append(out, s.Error.Render("    "+clip(w, max(1, p.width-4))))
			}
		case l.Verdict == model.VerdictSkipped, l.Verdict == model.VerdictGone:
			out = append(out, s.Muted.Render(row(markSkipped, l.Target.Name, addr, l.Target.ExpectText(), string(l.Verdict)+": "+l.Why)))
		default:
			out = append(out, s.Healthy.Render(markOK)+s.Base.Render(row("", l.Target.Name, addr, l.Target.ExpectText(), res)))
		}
	}
	return out
}

// columns sizes the table to its content, then, when the terminal is too
// narrow, takes room from the expectation first (its start says reachable
// or isolated), then the name, then the address; the result column takes
// what is left.
func (p *ProbeView) columns() (nameW, addrW, expW, resW int) {
	nameW, addrW, expW, resW = len("TARGET"), len("ADDRESS"), len("EXPECTED"), len("RESULT")
	for _, l := range p.report.Lines {
		nameW = max(nameW, ansi.StringWidth(l.Target.Name))
		addrW = max(addrW, ansi.StringWidth(l.Target.Address))
		expW = max(expW, ansi.StringWidth(l.Target.ExpectText()))
		resW = max(resW, ansi.StringWidth(probeResultText(l)))
	}
	nameW, addrW, expW, resW = min(nameW, 20), min(addrW, 42), min(expW, 34), min(resW, 18)
	avail := p.width - 2 - 6 // the mark and the column gaps
	for _, c := range []struct {
		w     *int
		floor int
	}{{&expW, 12}, {&nameW, 8}, {&addrW, 15}} {
		if over := nameW + addrW + expW + resW - avail; over > 0 {
			*c.w = max(c.floor, *c.w-over)
		}
	}
	resW = max(4, avail-nameW-addrW-expW)
	return nameW, addrW, expW, resW
}

// Prober runs a live probe from inside a container's network namespace;
// cli passes *docker.Prober and tests a fake.
type Prober interface {
	Probe(ctx context.Context, containerID string, port int) (model.ProbeReport, error)
}
