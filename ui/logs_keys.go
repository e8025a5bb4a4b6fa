package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// The logs pane's own keys while it has the focus: search and its
// matches, pause, wrap, scrolling and following again.

// Key handles a key while the pane has the focus, and says whether it
// took it; the root handles the rest (esc closes the pane).
func (p *LogsPane) Key(msg tea.KeyMsg) (tea.Cmd, bool) {
	if p.searching {
		switch msg.String() {
		case "enter":
			p.searching = false
			p.search.Blur()
			p.setQuery(p.search.Value())
			p.jump(-1)
			return nil, true
		case "esc", "ctrl+c":
			p.searching = false
			p.search.Blur()
			p.search.SetValue("")
			p.setQuery("")
			return nil, true
		}
		var cmd tea.Cmd
		p.search, cmd = p.search.Update(msg)
		return cmd, true
	}
	k := p.keys
	switch {
	case key.Matches(msg, k.Search):
		p.searching = true
		return p.search.Focus(), true
	case key.Matches(msg, k.Older):
		p.jump(-1)
	case key.Matches(msg, k.Newer):
		p.jump(1)
	case key.Matches(msg, k.Wrap):
		p.wrap = !p.wrap
	case key.Matches(msg, k.Pause):
		p.setPaused(!p.paused)
	case key.Matches(msg, k.Follow):
		p.setPaused(false)
		p.follow, p.bottom = true, p.last()
	case key.Matches(msg, k.Scroll.Up):
		p.scroll(-1)
	case key.Matches(msg, k.Scroll.Down):
		p.scroll(1)
	case key.Matches(msg, k.Scroll.PageUp):
		p.scroll(-max(1, p.bodyHeight()-1))
	case key.Matches(msg, k.Scroll.PageDown):
		p.scroll(max(1, p.bodyHeight()-1))
	case key.Matches(msg, k.Scroll.HalfPageUp):
		p.scroll(-max(1, p.bodyHeight()/2))
	case key.Matches(msg, k.Scroll.HalfPageDown):
		p.scroll(max(1, p.bodyHeight()/2))
	case key.Matches(msg, k.Scroll.Left, k.Scroll.Right):
		// Nothing to move sideways to; not the lanes' selection either.
	default:
		return nil, false
	}
	return nil, true
}

func (p *LogsPane) setPaused(on bool) {
	if p.paused == on {
		return
	}
	p.paused = on
	if !on {
		waiting := p.waiting
		p.waiting = nil
		p.append(waiting)
	}
}

// scroll moves the bottom row shown by n rows; reaching the newest
// follows again.
func (p *LogsPane) scroll(n int) {
	if len(p.rows) == 0 {
		return
	}
	p.bottom = max(p.base, min(p.last(), p.bottom+n))
	p.follow = p.bottom == p.last()
}

func (p *LogsPane) setQuery(q string) {
	p.query = strings.ToLower(q)
	p.match, p.matches = -1, 0
	if p.query == "" {
		return
	}
	for _, r := range p.rows {
		if p.matchesRow(r) {
			p.matches++
		}
	}
}

// jump goes to the next match older (dir < 0) or newer than the current
// one (or than the bottom row, for the first), and stops following there.
func (p *LogsPane) jump(dir int) {
	if p.query == "" || len(p.rows) == 0 {
		return
	}
	from := p.match
	if from < 0 {
		from = p.bottom + 1
		if dir > 0 {
			from = p.bottom - 1
		}
	}
	for i := from + dir; i >= p.base && i <= p.last(); i += dir {
		if p.matchesRow(p.rows[i-p.base]) {
			p.match = i
			// The match mid-pane, with what followed it below; the pane
			// stays on it while lines come (G follows again).
			p.bottom = min(p.last(), i+p.bodyHeight()/2)
			p.follow = false
			return
		}
	}
}

// matchNumber is the current match's place among the kept matches,
// counted from the oldest.
func (p *LogsPane) matchNumber() int {
	if p.match < 0 {
		return 0
	}
	n := 0
	for _, r := range p.rows[:p.match-p.base+1] {
		if p.matchesRow(r) {
			n++
		}
	}
	return n
}
