package ui

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/topo-dev/topo/model"
)

// This file is network isolation on screen: an overlay for the lanes (what
// the selected container reaches, and through which network), the
// reachability matrix, and the live probe's results next to what the
// topology expects.

// Prober runs a live probe from inside a container's network namespace;
// main.go passes *docker.Prober and tests a fake.
type Prober interface {
	Probe(ctx context.Context, containerID string, port int) (model.ProbeReport, error)
}

// Marks readable without colour.
const (
	markReach    = "↔"
	markIsolated = "✕"
	markUnknown  = "?"
	markMismatch = "✗"
	markOK       = "✓"
	markSkipped  = "·"
)

// IsolationOverlay dims, in the lanes, every container the subject cannot
// reach and every lane it is not on; its legend names the shared networks.
// It implements Overlay, and Badge is a Badger.
type IsolationOverlay struct {
	styles Styles
	topo   model.Topology
	id     string
	iso    model.Isolation
	ok     bool
	// mismatched are the containers with a contradicting probe result
	// from the current subject.
	mismatched map[string]bool
}

// NewIsolationOverlay returns an overlay with no subject, which dims
// nothing.
func NewIsolationOverlay(styles Styles) *IsolationOverlay {
	return &IsolationOverlay{styles: styles, topo: model.NewTopology()}
}

// SetTopology recomputes the overlay for a changed topology.
func (o *IsolationOverlay) SetTopology(t model.Topology) {
	o.topo = t
	o.recompute()
}

// Select makes a container the subject; the probe marks of another
// subject are dropped.
func (o *IsolationOverlay) Select(id string) {
	if id != o.id {
		o.mismatched = nil
	}
	o.id = id
	o.recompute()
}

func (o *IsolationOverlay) recompute() {
	o.iso, o.ok = o.topo.Isolation(o.id)
}

// Subject returns the container whose reach is shown.
func (o *IsolationOverlay) Subject() (model.Container, bool) { return o.iso.Subject, o.ok }

// Isolation returns the computed expectations.
func (o *IsolationOverlay) Isolation() model.Isolation { return o.iso }

// SetReport marks the containers a probe from the subject found in
// contradiction with the topology.
func (o *IsolationOverlay) SetReport(r model.ProbeReport) {
	if r.SubjectID != o.id {
		return
	}
	o.mismatched = map[string]bool{}
	for _, l := range r.Lines {
		if l.Verdict.Mismatch() {
			o.mismatched[l.Target.ContainerID] = true
		}
	}
}

// DimContainer is true for what the subject cannot reach.
func (o *IsolationOverlay) DimContainer(c model.Container) bool {
	if !o.ok || c.ID == o.id || o.mismatched[c.ID] {
		return false
	}
	p, ok := o.iso.Peer(c.ID)
	return !ok || p.Reach == model.Isolated
}

// DimNetwork is true for the lanes the subject is not on.
func (o *IsolationOverlay) DimNetwork(n model.Network) bool {
	return o.ok && !o.iso.OnNetwork(n)
}

// Badge marks each node, so the overlay reads without colour too:
// ↔ reachable, ✕ isolated, ✗ a probe contradicted the expectation.
func (o *IsolationOverlay) Badge(c model.Container) string {
	if !o.ok || c.ID == o.id {
		return ""
	}
	if o.mismatched[c.ID] {
		return o.styles.Error.Render(markMismatch)
	}
	p, ok := o.iso.Peer(c.ID)
	switch {
	case !ok:
		return ""
	case p.Reach == model.Reachable:
		return o.styles.Healthy.Render(markReach)
	case p.Reach == model.Isolated:
		return o.styles.Muted.Render(markIsolated)
	}
	return o.styles.Warning.Render(markUnknown)
}

// Legend is one line naming what the subject reaches, grouped by the
// networks that carry it, and what it does not:
// "reaches: web.1 via front · isolated: mongo.1".
func (o *IsolationOverlay) Legend(width int) string {
	if !o.ok {
		return ansiFit(o.styles.Muted.Render("isolation: select a container"), width)
	}
	s := o.styles
	var groups []string
	byVia := map[string][]string{}
	var isolated, unknown []string
	isolatedInProject := 0
	// The subject's own compose project comes first: on stage that is the
	// application being shown, and a long line is cut at the end.
	peers := append([]model.Peer(nil), o.iso.Peers...)
	project := o.iso.Subject.Project()
	sort.SliceStable(peers, func(i, j int) bool {
		return o.projectOf(peers[i].ID) == project && o.projectOf(peers[j].ID) != project
	})
	for _, p := range peers {
		switch {
		case p.SameNamespace:
			byVia["its namespace"] = append(byVia["its namespace"], p.Name)
		case p.Reach == model.Reachable:
			// The project's own networks by their compose names (front,
			// not demo_front): the title already names the project.
			nets := make([]string, len(p.Via))
			for i, n := range p.Via {
				nets[i] = n
				if project != "" {
					nets[i] = strings.TrimPrefix(n, project+"_")
				}
			}
			via := strings.Join(nets, "+")
			byVia[via] = append(byVia[via], p.Name)
		case p.Reach == model.Isolated:
			isolated = append(isolated, p.Name)
			if project != "" && o.projectOf(p.ID) == project {
				isolatedInProject++
			}
		default:
			unknown = append(unknown, p.Name)
		}
	}
	vias := make([]string, 0, len(byVia))
	for via := range byVia {
		vias = append(vias, via)
	}
	sort.Strings(vias)
	for _, via := range vias {
		groups = append(groups, s.Healthy.Render(strings.Join(byVia[via], ", "))+s.Muted.Render(" via ")+s.LaneTitle.Render(via))
	}
	var parts []string
	reaches := s.Muted.Render("nothing")
	if len(groups) > 0 {
		reaches = strings.Join(groups, s.Muted.Render("; "))
	}
	subject := s.Bold.Render(o.iso.Subject.DisplayName())
	if tag := o.modeTag(); tag != "" {
		subject += " " + s.Warning.Render("("+tag+")")
	}
	parts = append(parts, subject+s.Bold.Render(" reaches: ")+reaches)
	if len(isolated) > 0 {
		// On a shared engine most isolated peers are other people's
		// containers: name the subject's own project's and count the rest,
		// so the line the audience reads ends with the application's.
		named, others := isolated, 0
		if project != "" && isolatedInProject > 0 {
			named, others = isolated[:isolatedInProject], len(isolated)-isolatedInProject
		}
		list := strings.Join(named, ", ")
		if others > 0 {
			list += fmt.Sprintf(" +%d elsewhere", others)
		}
		parts = append(parts, s.Bold.Render(fmt.Sprintf("isolated (%d): ", len(isolated)))+s.Muted.Render(list))
	}
	if len(unknown) > 0 {
		parts = append(parts, s.Bold.Render("unknown: ")+strings.Join(unknown, ", "))
	}
	line := strings.Join(parts, s.Muted.Render(" · "))
	if ansi.StringWidth(line) > width {
		line = ansi.Truncate(line, max(0, width), "…")
	}
	return line
}

// projectOf is the compose project of a peer container.
func (o *IsolationOverlay) projectOf(id string) string {
	return o.topo.Containers[id].Project()
}

// modeTag is a few words on a subject whose reach is not plain network
// membership; Isolation.Note has the full sentence.
func (o *IsolationOverlay) modeTag() string {
	var tags []string
	if !o.iso.Subject.Running() {
		tags = append(tags, string(o.iso.Subject.State)+": once it runs")
	}
	switch o.iso.Mode {
	case model.NetModeHost:
		tags = append(tags, "host network")
	case model.NetModeNone:
		tags = append(tags, "network none")
	case model.NetModeShared:
		if o.iso.OwnerName != "" {
			tags = append(tags, "in "+o.iso.OwnerName+"'s namespace")
		} else {
			tags = append(tags, "in an unknown namespace")
		}
	}
	return strings.Join(tags, ", ")
}

// ReachMatrix shows every compose service (or container, outside compose)
// against every other: each cell names the networks they share, or ✕ when
// they are isolated. Its selected row follows the lanes' selection.
type ReachMatrix struct {
	styles         Styles
	width, height  int
	m              model.Matrix
	sel            int
	rowOff, colOff int
	cache          string
	// cells holds rendered cell texts: a screen repeats a few dozen
	// distinct cells, and a lipgloss Render per cell was most of the
	// cost of a 300-container redraw.
	cells map[matrixCellKey]string
}

type matrixCellKey struct {
	kind model.Reach
	self bool
	text string
}

// invalidate drops the cached renderings, cells included.
func (r *ReachMatrix) invalidate() {
	r.cache = ""
	clear(r.cells)
}

// Matrix geometry, in cells.
const (
	matrixCellWidth  = 12
	matrixLabelWidth = 16
)

// NewReachMatrix returns an empty matrix.
func NewReachMatrix(styles Styles) *ReachMatrix {
	return &ReachMatrix{styles: styles, sel: -1, cells: map[matrixCellKey]string{}}
}

// SetSize gives the matrix its size.
func (r *ReachMatrix) SetSize(w, h int) {
	r.width, r.height = w, h
	r.clamp()
	r.cache = ""
}

// SetTopology rebuilds the matrix and keeps the selected row on the same
// service or container.
func (r *ReachMatrix) SetTopology(t model.Topology) {
	var key string
	if r.sel >= 0 && r.sel < len(r.m.Entries) {
		key = r.m.Entries[r.sel].Key
	}
	r.m = t.Matrix()
	r.sel = -1
	if i, ok := r.m.Index(key); ok && key != "" {
		r.sel = i
	}
	r.clamp()
	r.cache = ""
}

// Select puts the selection on the row of a container ID (or an entry
// key) and scrolls it, row and column, into view.
func (r *ReachMatrix) Select(ref string) bool {
	i, ok := r.m.Index(ref)
	if !ok {
		return false
	}
	if i != r.sel {
		r.sel = i
		r.rowOff = scrollTo(r.rowOff, i, r.visibleRows())
		r.colOff = scrollTo(r.colOff, i, r.visibleCols())
		r.cache = ""
	}
	return true
}

func scrollTo(off, i, visible int) int {
	if i < off {
		return i
	}
	if i >= off+visible {
		return i - visible + 1
	}
	return off
}

func (r *ReachMatrix) visibleRows() int { return max(1, r.height-2) }

func (r *ReachMatrix) labelWidth() int { return min(matrixLabelWidth, max(8, r.width/4)) }

func (r *ReachMatrix) visibleCols() int {
	return max(1, (r.width-r.labelWidth()-1)/matrixCellWidth)
}

func (r *ReachMatrix) clamp() {
	n := len(r.m.Entries)
	r.rowOff = max(0, min(r.rowOff, n-r.visibleRows()))
	r.colOff = max(0, min(r.colOff, n-r.visibleCols()))
}

// Update scrolls: ↑/↓ rows, ←/→ columns (l is the logs), pgup/pgdown a
// page, home/end.
func (r *ReachMatrix) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	rows, cols := r.rowOff, r.colOff
	switch k.String() {
	case "up", "k":
		r.rowOff--
	case "down", "j":
		r.rowOff++
	case "left", "h":
		r.colOff--
	case "right":
		r.colOff++
	case "pgup":
		r.rowOff -= r.visibleRows()
	case "pgdown", " ":
		r.rowOff += r.visibleRows()
	case "home", "g":
		r.rowOff, r.colOff = 0, 0
	case "end", "G":
		r.rowOff = len(r.m.Entries)
	}
	r.clamp()
	if rows != r.rowOff || cols != r.colOff {
		r.cache = ""
	}
	return nil
}

// View draws exactly height lines of at most width cells: the column
// labels, the rows, and a line with the key and the scroll position.
func (r *ReachMatrix) View() string {
	if r.cache != "" {
		return r.cache
	}
	s := r.styles
	n := len(r.m.Entries)
	if n == 0 {
		r.cache = padLines([]string{s.Muted.Render("no containers")}, r.height)
		return r.cache
	}
	lw, cols := r.labelWidth(), r.visibleCols()
	lastCol := min(n, r.colOff+cols)
	var header strings.Builder
	header.WriteString(strings.Repeat(" ", lw) + s.Muted.Render("│"))
	for j := r.colOff; j < lastCol; j++ {
		// The last cell of each label is a gap, so that the selected
		// column's marker never runs into its neighbour's name.
		label := fit(" "+r.m.Entries[j].Label, matrixCellWidth-1) + " "
		style := s.Bold
		if j == r.sel {
			label, style = fit("▼"+r.m.Entries[j].Label, matrixCellWidth-1)+" ", s.Selected
		}
		header.WriteString(style.Render(label))
	}
	// Rows and header are built to fit: label, rule, and whole cells.
	lines := []string{header.String()}
	lastRow := min(n, r.rowOff+r.visibleRows())
	for i := r.rowOff; i < lastRow; i++ {
		lines = append(lines, r.renderRow(i, lw, lastCol))
	}
	hint := fmt.Sprintf("%s isolated · cells: shared networks · rows %d–%d of %d · cols %d–%d · ↑↓←→",
		markIsolated, r.rowOff+1, lastRow, n, r.colOff+1, lastCol)
	body := padLines(lines, r.height-1)
	r.cache = body + "\n" + s.Muted.Render(fit(hint, r.width))
	return r.cache
}

func (r *ReachMatrix) renderRow(i, lw, lastCol int) string {
	s := r.styles
	e := r.m.Entries[i]
	marker := " "
	labelStyle := s.Base
	if i == r.sel {
		marker = "▶"
		labelStyle = s.Selected
	}
	var b strings.Builder
	b.WriteString(marker + labelStyle.Render(fit(e.Label, lw-1)) + s.Muted.Render("│"))
	for j := r.colOff; j < lastCol; j++ {
		b.WriteString(r.cell(r.m.Cell(i, j)))
	}
	return b.String()
}

func (r *ReachMatrix) cell(c model.MatrixCell) string {
	key := matrixCellKey{kind: c.Reach, self: c.Self}
	if c.Reach == model.Reachable && !c.Self {
		key.text = strings.Join(c.Via, ",")
	}
	if out, ok := r.cells[key]; ok {
		return out
	}
	s := r.styles
	text, style := key.text, s.LaneTitle
	switch {
	case c.Self:
		text, style = "self", s.Muted
	case c.Reach == model.Isolated:
		text, style = markIsolated, s.Muted
	case c.Reach != model.Reachable:
		text, style = markUnknown, s.Warning
	}
	out := " " + style.Render(fit(text, matrixCellWidth-1))
	if len(r.cells) > 4096 {
		clear(r.cells) // bounded: cells are few, network names are not
	}
	r.cells[key] = out
	return out
}

// padLines joins lines and pads (or cuts) them to exactly h lines.
func padLines(lines []string, h int) string {
	h = max(0, h)
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

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
