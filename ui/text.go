package ui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/topo-dev/topo/internal/inert"
)

// The text helpers every component uses: one of each, so that cutting,
// counting and folding read alike in every pane.

// clip cuts styled text to w cells, marking the cut with an ellipsis.
func clip(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// plural counts a noun: "1 node", "3 nodes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// wrap folds lines longer than w cells onto the next lines, keeping each
// line's indentation. (lipgloss's word wrap moves a long unbreakable word,
// such as a URL, to its own line and leaves the indent behind as a blank
// line.)
func wrap(s string, w int) string {
	if w <= 0 {
		return s
	}
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if ansi.StringWidth(line) <= w {
			out = append(out, line)
			continue
		}
		body := strings.TrimLeft(line, " ")
		indent := line[:len(line)-len(body)]
		if len(indent) >= w/2 {
			indent = ""
		}
		for _, part := range strings.Split(ansi.Wrap(body, w-len(indent), ""), "\n") {
			out = append(out, indent+part)
		}
	}
	return strings.Join(out, "\n")
}

// wordWrap breaks prose into lines of at most w cells at spaces, unlike
// wrap, which also breaks long words: a word longer than the line is left
// whole for clip to mark. nil when there is no room at all.
func wordWrap(s string, w int) []string {
	if w <= 0 {
		return nil
	}
	return strings.Split(ansi.Wordwrap(s, w, " "), "\n")
}

// firstLine is the first line of inert text: its line breaks are already
// the visible escape.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, inert.LineBreak)
	return s
}

// fit truncates plain text to w cells with an ellipsis and pads it to
// exactly w, so columns line up with any name, unicode included.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
}

// fitAddr fits an address to w cells keeping its end, which tells the
// nodes of a lane apart, and cutting whole leading parts (172.23.0.3 →
// …0.3); anything else is fitted as text.
func fitAddr(s string, w int) string {
	if ansi.StringWidth(s) <= w || !isAddr(s) {
		return fit(s, w)
	}
	for rest := s; ; {
		i := strings.IndexAny(rest, ".:")
		if i < 0 {
			return fit(s, w)
		}
		rest = strings.TrimLeft(rest[i+1:], ".:")
		if cut := "…" + rest; ansi.StringWidth(cut) <= w {
			return fit(cut, w)
		}
	}
}

// isAddr reports whether s is an IP address: digits, hex, dots, colons.
func isAddr(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdefABCDEF.:") == "" && strings.ContainsAny(s, ".:")
}

// padTo pads styled text to w cells.
func padTo(s string, w int) string {
	return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
}
