package ui

import (
	"slices"
	"sort"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// panel is a pane that can stand beside the lanes (wide terminals) or
// below them (narrow ones): details, registry, traffic, probe results...
type panel interface {
	SetSize(w, h int)
	View() string
}

// sidePanel is a panel with its pane identity and title.
type sidePanel struct {
	pane  pane
	title string
	body  panel
	// table says the panel needs width more than height (the probe's
	// results): it goes under the lanes even when others stand beside.
	table bool
}

type rect struct{ x, y, w, h int }

// screenLayout is where everything goes for the current size and panels.
type screenLayout struct {
	// lanes is the grid itself (below its title line).
	lanes rect
	// panels are placed in order; each rect includes its title line.
	panels []rect
	// beside says the panels stand in a column right of the lanes;
	// under says, for each panel, that it is under the lanes instead.
	beside bool
	under  []bool
}

// narrowLanesShare is the part of the main area the lanes keep at least
// when panels stack below them and the lanes need more: the topology is the
// point, the panels annotate it.
const narrowLanesShare = 0.55

// panelMin is the least height of a panel under the lanes, its title
// included: below it a panel shows too little to read.
const panelMin = 4

// sizedPanel is a panel that knows how many lines its content takes at a
// width, so a short one (an empty registry) leaves the rest to the lanes.
type sizedPanel interface {
	Lines(w int) int
}

// arrange computes the layout of the main area (between the status bar and
// the event log) for the visible side panels. Under the lanes, the lanes
// get the rows they need first; panels get the rest, each no more than its
// content; when the lanes would not fit beside every panel at its least,
// the registry panel gives way (its state stays on the nodes' badges, and
// c brings it back). A panel given way has a rect of height 0.
func (m *Model) arrange(panels []sidePanel) screenLayout {
	top := 1 // the status bar
	mainH := m.mainHeight()
	l := screenLayout{beside: m.wide(), under: make([]bool, len(panels)), panels: make([]rect, len(panels))}
	lanesW := m.width
	var besideIdx, underIdx []int
	for i, p := range panels {
		if l.beside && !p.table {
			besideIdx = append(besideIdx, i)
		} else {
			l.under[i] = true
			underIdx = append(underIdx, i)
		}
	}
	// A failed demo operation's error says what to do, in full: its panel
	// gets twice the room of the others on its side.
	weights := func(idx []int) []int {
		w := make([]int, len(idx))
		for k, i := range idx {
			w[k] = 1
			if panels[i].pane == paneDemo && m.demo.Failed() {
				w[k] = 2
			}
			if panels[i].pane == paneFlows {
				// A line per path: the flows need the room the
				// summaries beside them do not, under the lanes most.
				w[k] = 2
				if !m.wide() {
					w[k] = 3
				}
			}
		}
		return w
	}
	if len(besideIdx) > 0 {
		lanesW = m.width - sideWidth - 1
		for k, r := range split(rect{lanesW + 1, top, sideWidth, mainH}, weights(besideIdx)) {
			l.panels[besideIdx[k]] = r
		}
	} else {
		l.beside = false
	}
	lanesH := mainH
	if len(underIdx) > 0 {
		underIdx = m.fitUnder(panels, underIdx, mainH, lanesW)
		heights := m.underHeights(panels, underIdx, weights(underIdx), mainH, lanesW)
		used := 0
		for _, h := range heights {
			used += h
		}
		lanesH = mainH - used
		y := top + lanesH
		for k, i := range underIdx {
			l.panels[i] = rect{0, y, lanesW, heights[k]}
			y += heights[k]
		}
	}
	l.lanes = rect{0, top + 1, lanesW, lanesH - 1}
	return l
}

// lanesNeed is the height the lanes block wants: its title, the isolation
// legend, and every lane on screen.
func (m *Model) lanesNeed() int {
	switch m.lanesScreen() {
	case screenMatrix, screenCluster:
		return m.mainHeight() // these fill what they get
	}
	return 1 + m.legendLines() + m.lanes.Need()
}

// panelWant is the height a panel wants, its title included.
func panelWant(p sidePanel, w int) int {
	if s, ok := p.body.(sizedPanel); ok {
		return 1 + s.Lines(w)
	}
	return 1 << 20
}

// fitUnder drops the registry panel when the lanes would not fit beside
// every panel at its least.
func (m *Model) fitUnder(panels []sidePanel, idx []int, mainH, w int) []int {
	least := 0
	for _, i := range idx {
		least += min(panelMin, panelWant(panels[i], w))
	}
	if m.lanesNeed() <= mainH-least {
		return idx
	}
	kept := idx[:0:0]
	for _, i := range idx {
		if panels[i].pane != paneRegistry {
			kept = append(kept, i)
		}
	}
	return kept
}

// underHeights shares the rows left by the lanes between the panels under
// them: a panel whose content is shorter than its share gets only its
// content; the others split the rest by weight.
func (m *Model) underHeights(panels []sidePanel, idx, weights []int, mainH, w int) []int {
	heights := make([]int, len(idx))
	if len(idx) == 0 {
		return heights
	}
	least, want := 0, 0
	for _, i := range idx {
		pw := panelWant(panels[i], w)
		least += min(panelMin, pw)
		want = min(1<<20, want+pw)
	}
	need := m.lanesNeed()
	lanesH := max(min(need, mainH-least), min(need, int(float64(mainH)*narrowLanesShare)), mainH-want)
	rest := max(0, mainH-lanesH)
	open := make([]bool, len(idx))
	for k := range open {
		open[k] = true
	}
	for changed := true; changed; {
		changed = false
		total := 0
		for k := range idx {
			if open[k] {
				total += weights[k]
			}
		}
		for k, i := range idx {
			if !open[k] || total == 0 {
				continue
			}
			if pw := panelWant(panels[i], w); pw <= rest*weights[k]/total {
				heights[k], open[k], changed = pw, false, true
				rest -= pw
				break
			}
		}
	}
	// Panels whose content is longer than their share but finite (the
	// traffic pane's rows, the registry's list) take it from the shortest,
	// leaving each other open panel its least; panels without an end (the
	// demo's steps) split what remains by weight.
	var finite []int
	for k, i := range idx {
		if open[k] && panelWant(panels[i], w) < 1<<20 {
			finite = append(finite, k)
		}
	}
	sort.SliceStable(finite, func(a, b int) bool {
		return panelWant(panels[idx[finite[a]]], w) < panelWant(panels[idx[finite[b]]], w)
	})
	for _, k := range finite {
		open[k] = false
		// The others' least: a failed demo's, by its weight, more.
		others := 0
		for o := range idx {
			if open[o] {
				others += panelMin * weights[o]
			}
		}
		pw := panelWant(panels[idx[k]], w)
		heights[k] = max(0, min(rest, max(min(pw, panelMin), min(pw, rest-others))))
		rest -= heights[k]
	}
	var openIdx, openW []int
	for k := range idx {
		if open[k] {
			openIdx, openW = append(openIdx, k), append(openW, weights[k])
		}
	}
	if len(openIdx) > 0 {
		for n, r := range split(rect{h: rest}, openW) {
			heights[openIdx[n]] = r.h
		}
	}
	return heights
}

// split stacks panels in r, each as high as its share of the weights,
// giving the remainder to the first.
func split(r rect, weights []int) []rect {
	total := 0
	for _, w := range weights {
		total += w
	}
	out := make([]rect, len(weights))
	used := 0
	for i, w := range weights {
		out[i].h = r.h * w / total
		used += out[i].h
	}
	out[0].h += r.h - used
	y := r.y
	for i := range out {
		out[i] = rect{r.x, y, r.w, out[i].h}
		y += out[i].h
	}
	return out
}

// renderPanels draws the panels of one side (under the lanes, or beside
// them) into their rects, as one block.
func (m *Model) renderPanels(panels []sidePanel, l screenLayout, under bool) string {
	var blocks []string
	total := 0
	for i, p := range panels {
		if l.under[i] != under {
			continue
		}
		r := l.panels[i]
		if r.h == 0 {
			continue // given way to the lanes
		}
		total += r.h
		body := lipgloss.NewStyle().Width(r.w).Height(r.h - 1).MaxHeight(r.h - 1).Render(p.body.View())
		blocks = append(blocks, m.title(p.title, p.pane, r.w)+"\n"+body)
	}
	block := strings.Join(blocks, "\n")
	if under || block == "" {
		return block
	}
	border := strings.TrimRight(strings.Repeat(m.styles.Muted.Render("│")+"\n", total), "\n")
	return lipgloss.JoinHorizontal(lipgloss.Top, border, block)
}

// cycleProject moves the focus to the next compose project or stack:
// all, then each in order, then all again. The presenter's choice stands
// from then on (no automatic focus).
func (m *Model) cycleProject() {
	projects := m.topo.Projects()
	next := ""
	if cur := m.lanes.Focus(); cur == "" {
		if len(projects) > 0 {
			next = projects[0]
		}
	} else if i := slices.Index(projects, cur); i >= 0 && i+1 < len(projects) {
		next = projects[i+1]
	}
	m.focusChosen = true
	m.lanes.SetFocus(next)
	m.resize()
}

// autoFocus focuses the lanes on the demo while it is deployed and the
// lanes cannot show everything, so the audience sees the demo whatever
// else runs on the laptop; a focus on a project that left is dropped.
func (m *Model) autoFocus() {
	projects := m.topo.Projects()
	if f := m.lanes.Focus(); f != "" && !slices.Contains(projects, f) {
		m.lanes.SetFocus("")
	}
	if m.focusChosen || m.cfg.Demo == nil {
		return
	}
	want := ""
	if demo := m.cfg.Demo.Project(); slices.Contains(projects, demo) {
		w := m.width
		if m.wide() {
			w -= sideWidth + 1
		}
		if !m.lanes.FitsUnfocused(w, m.mainHeight()-1-m.legendLines()) {
			want = demo
		}
	}
	m.lanes.SetFocus(want)
}

// laidOut reports whether a panel has room on screen now: the registry
// panel may have given way to the lanes.
func (m *Model) laidOut(p pane) bool {
	panels := m.visiblePanels()
	l := m.arrange(panels)
	for i, sp := range panels {
		if sp.pane == p {
			return l.panels[i].h > 0
		}
	}
	return false
}
