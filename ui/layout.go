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
}

type rect struct{ x, y, w, h int }

// screenLayout is where everything goes for the current size and panels.
type screenLayout struct {
	// lanes is the grid itself (below its title line).
	lanes rect
	// panels are placed in order; each rect includes its title line.
	panels []rect
	// beside says the panels stand in a column right of the lanes.
	beside bool
}

// narrowLanesShare is the part of the main area the lanes keep when panels
// stack below them: the topology is the point, the panels annotate it.
const narrowLanesShare = 0.55

// arrange computes the layout of the main area (between the status bar and
// the event log) for the visible side panels.
func (m *Model) arrange(panels []sidePanel) screenLayout {
	top := 1 // the status bar
	mainH := m.height - 1 - 1 - 1 - m.logHeight()
	var l screenLayout
	if len(panels) == 0 {
		l.lanes = rect{0, top + 1, m.width, mainH - 1}
		return l
	}
	if m.wide() {
		l.beside = true
		lanesW := m.width - sideWidth - 1
		l.lanes = rect{0, top + 1, lanesW, mainH - 1}
		l.panels = split(rect{lanesW + 1, top, sideWidth, mainH}, len(panels))
		return l
	}
	lanesH := max(7, int(float64(mainH)*narrowLanesShare))
	l.lanes = rect{0, top + 1, m.width, lanesH - 1}
	l.panels = split(rect{0, top + lanesH, m.width, mainH - lanesH}, len(panels))
	return l
}

// split stacks n panels in r, giving the remainder to the first.
func split(r rect, n int) []rect {
	each := r.h / n
	out := make([]rect, n)
	y := r.y
	for i := range out {
		h := each
		if i == 0 {
			h += r.h - each*n
		}
		out[i] = rect{r.x, y, r.w, h}
		y += h
	}
	return out
}

// renderPanels draws the side panels into their rects, as one block.
func (m *Model) renderPanels(panels []sidePanel, rects []rect, beside bool) string {
	var blocks []string
	for i, p := range panels {
		r := rects[i]
		body := lipgloss.NewStyle().Width(r.w).Height(r.h - 1).MaxHeight(r.h - 1).Render(p.body.View())
		blocks = append(blocks, m.title(p.title, p.pane, r.w)+"\n"+body)
	}
	block := strings.Join(blocks, "\n")
	if !beside {
		return block
	}
	total := 0
	for _, r := range rects {
		total += r.h
	}
	border := strings.TrimRight(strings.Repeat(m.styles.Muted.Render("│")+"\n", total), "\n")
	return lipgloss.JoinHorizontal(lipgloss.Top, border, block)
}
