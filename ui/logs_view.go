package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/topo-dev/topo/model"
)

// The gutter of a row: the time, then the stream (stderr named, stdout
// blank), so the two read apart without colour.
const logGutter = 13

// View draws the status line and the rows that fit above the bottom row.
func (p *LogsPane) View() string {
	if p.width <= 0 || p.height <= 0 {
		return ""
	}
	h := p.bodyHeight()
	var rows []string
	if len(p.rows) > 0 {
		for i := p.bottom; i >= p.base && len(rows) < h; i-- {
			r := p.renderRow(p.rows[i-p.base], i == p.match)
			for j := len(r) - 1; j >= 0 && len(rows) < h; j-- {
				rows = append(rows, r[j])
			}
		}
	}
	if len(rows) == 0 {
		rows = append(rows, p.styles.Muted.Render(p.emptyText()))
	}
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	if p.ended && p.follow && len(p.rows) > 0 && len(rows) == h {
		// The end of the output is news: it takes the top row rather than
		// hide below.
		rows = append(rows[1:], p.styles.Muted.Render(ansiFit("— "+p.state, p.width)))
	} else if p.ended && len(p.rows) > 0 && len(rows) < h {
		rows = append(rows, p.styles.Muted.Render(ansiFit("— "+p.state, p.width)))
	}
	return p.statusLine() + "\n" + strings.Join(rows, "\n")
}

func (p *LogsPane) emptyText() string {
	switch {
	case p.ended:
		return "no output: " + p.state
	case p.state == "connecting…":
		return "reading the logs…"
	}
	return "no output yet: waiting for the container to write"
}

// statusLine is the search input while typing, else the search's state
// and the pane's keys.
func (p *LogsPane) statusLine() string {
	s := p.styles
	if p.searching {
		return ansiFit(p.search.View()+s.Muted.Render("  enter find · esc clear"), p.width)
	}
	found := ""
	if p.query != "" {
		found = fmt.Sprintf("“%s”: %d kept", p.search.Value(), p.matches)
		if n := p.matchNumber(); n > 0 {
			found = fmt.Sprintf("“%s”: %d of %d", p.search.Value(), n, p.matches)
		}
	}
	wrapHint := "w wrap"
	if p.wrap {
		wrapHint = "w unwrap"
	}
	pause := "p pause"
	if p.paused {
		pause = "p resume"
	}
	// Keys in order of need; the last go first when the line is too
	// short for all (esc closes every screen, so it is known).
	hints := []string{"/ search", "n/N match", wrapHint, pause, "G follow", "esc close"}
	for {
		line := strings.Join(hints, " · ")
		if found != "" {
			line = found + " · " + line
		}
		if len(hints) == 1 || ansi.StringWidth(line) <= p.width {
			if found == "" {
				return ansiFit(s.Muted.Render(line), p.width)
			}
			return ansiFit(s.Accent.Render(found)+s.Muted.Render(strings.TrimPrefix(line, found)), p.width)
		}
		hints = hints[:len(hints)-1]
	}
}

// renderRow draws one kept row as one screen row, or several when wrapped.
func (p *LogsPane) renderRow(r logRow, current bool) []string {
	s := p.styles
	if r.gap > 0 {
		return []string{s.Warning.Render(ansiFit(fmt.Sprintf("⋯ %d lines dropped: the container writes faster than they are shown", r.gap), p.width))}
	}
	stamp := "        "
	if !r.line.Time.IsZero() {
		stamp = r.line.Time.Local().Format("15:04:05")
	}
	stream := "   "
	if r.line.Stream == model.StreamStderr {
		stream = s.Failing.Render("err")
	}
	mark := " "
	if current {
		mark = s.Accent.Render("▶")
	}
	gutter := s.Muted.Render(stamp) + mark + stream + " "
	textW := max(1, p.width-logGutter)
	text := r.line.Text
	if r.line.Cut {
		text += "…"
	}
	if !p.wrap {
		return []string{gutter + p.highlight(ansi.Truncate(text, textW, "…"))}
	}
	parts := strings.Split(ansi.Hardwrap(text, textW, true), "\n")
	out := make([]string, len(parts))
	pad := strings.Repeat(" ", logGutter)
	for i, part := range parts {
		g := pad
		if i == 0 {
			g = gutter
		}
		out[i] = g + p.highlight(part)
	}
	return out
}

// highlight marks the search's matches in plain (already inert) text.
func (p *LogsPane) highlight(text string) string {
	if p.query == "" {
		return text
	}
	lower := strings.ToLower(text)
	if len(lower) != len(text) {
		// Case folding changed byte offsets: no marks rather than wrong ones.
		return text
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, p.query)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		b.WriteString(text[:i])
		b.WriteString(p.styles.Selected.Render(text[i : i+len(p.query)]))
		text, lower = text[i+len(p.query):], lower[i+len(p.query):]
	}
}
