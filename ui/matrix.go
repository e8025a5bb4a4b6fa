package ui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/topo-dev/topo/model"
)

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
