package ui

import (
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

// narrowLanesShare is the part of the main area the lanes keep when panels
// stack below them: the topology is the point, the panels annotate it.
const narrowLanesShare = 0.55

// arrange computes the layout of the main area (between the status bar and
// the event log) for the visible side panels.
func (m *Model) arrange(panels []sidePanel) screenLayout {
	top := 1 // the status bar
	mainH := m.height - 1 - 1 - 1 - m.logHeight()
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
		lanesH = max(7, int(float64(mainH)*narrowLanesShare))
		for k, r := range split(rect{0, top + lanesH, lanesW, mainH - lanesH}, weights(underIdx)) {
			l.panels[underIdx[k]] = r
		}
	}
	l.lanes = rect{0, top + 1, lanesW, lanesH - 1}
	return l
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
