package ui

import (
	"strings"

	"github.com/topo-dev/topo/internal/inert"
	"github.com/topo-dev/topo/model"
)

// RenderSnapshot draws the lanes once, for `topo snapshot`: every lane and
// every node, in bands of as many columns as fit the width, with no
// selection. Its strings are made inert first, as Model.Update does for
// the screen (see internal/inert); the output is checked once more.
func RenderSnapshot(t model.Topology, styles Styles, width int, withBuiltIn bool) string {
	t = inert.Value(t)
	l := NewLanes(styles)
	l.opts.WithBuiltIn = withBuiltIn
	l.width, l.height = width, 1<<20
	l.topo = t
	l.layout = t.Layout(l.opts)
	l.expand = true // a snapshot lists every container
	l.regroup()
	// Printed, not fitted: every band has the columns' usual width.
	l.colW = columnWidth
	l.lane, l.col = -1, -1
	if len(l.layout.Lanes) == 0 {
		return "no networks\n"
	}
	var bands []string
	vis := l.visibleColumns()
	for l.colOffset = 0; ; l.colOffset += vis {
		var lines []string
		for ln := range l.layout.Lanes {
			lines = append(lines, l.renderLane(ln)...)
		}
		for i := range lines {
			lines[i] = strings.TrimRight(lines[i], " ")
		}
		bands = append(bands, strings.Join(lines, "\n"))
		if l.colOffset+vis >= len(l.cols) {
			break
		}
	}
	return inert.Screen(strings.Join(bands, "\n\n")) + "\n"
}
