// Package inert turns text that topo did not write into text a terminal
// only shows. Container names and labels, health-check output, registry
// tags and check output, swarm task errors and event attributes are chosen
// by whoever built an image, started a container or answers on a port; a
// terminal obeys whatever control characters reach it, so drawn raw they
// could clear topo's screen (CSI 2J), set the terminal's title (OSC 0),
// write the presenter's clipboard (OSC 52), or make one row look like
// another (a bidi override, a carriage return, backspaces).
//
// Text is the one function that decides what is inert: every control
// character, every format character that can reorder or hide text, and
// every byte that is not UTF-8 becomes a visible escape such as \x1b or
// \u202e. Everything else (letters of any script, wide characters, emoji,
// combining marks) is kept as it is, so names stay readable and
// lipgloss/ansi widths stay right.
//
// Where it is applied, so that a view cannot forget it:
//
//   - ui.Model.Update passes every message through Value before any pane
//     sees it, and New passes the Config's strings through Text: every
//     string a pane holds is already inert, whichever field it draws, and
//     a new pane or a new message type needs nothing of its own. The UI
//     thus keeps display copies; IDs are hex and addresses plain, so what
//     it sends back to the adapters (an ID to kill, a topology to find
//     Consul in) is unchanged. RenderSnapshot (the text of `topo
//     snapshot`) does the same with its topology, and the CLI's tables
//     with what they print.
//   - Screen is a last pass over the finished frame that keeps lipgloss's
//     colour sequences (SGR) and makes anything else inert: a safety net for
//     a string that reached a pane some other way, never the main path
//     (a string caught only there would still be inert but could shift the
//     grid, because its width was measured before).
//
// Raw values stay where they are data, not text on a terminal: in the
// model and the adapters, and in the --json outputs, where encoding/json
// escapes the C0 controls and JSON (below) the DEL, C1 and format
// characters it leaves raw, so a decoder reads back the raw value.
//
// The package is internal/ rather than in ui/ because the CLI's own text
// output (snapshot, demo and swarm commands) draws the same strings without
// the terminal interface, and rather than in model/ because the domain keeps
// raw values and knows nothing of terminals. It imports the standard
// library only.
package inert

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text returns s with everything a terminal would act on, or that would
// make the text lie about itself, replaced by a visible escape:
//
//   - C0 controls and DEL: \a \b \t \n \v \f \r by name, the rest as \xNN
//     (ESC is \x1b, so an escape sequence shows as \x1b[2J and does nothing);
//   - C1 controls (U+0080–U+009F), which some terminals obey like ESC
//     sequences: \u009b;
//   - invisible format characters, among them the bidi embeddings,
//     overrides, isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E,
//     U+200F, U+061C), zero-width spaces and the byte-order mark, and the
//     line and paragraph separators: \u202e. The zero-width joiner and
//     non-joiner and the emoji tag characters are kept: emoji and scripts
//     need them and they move nothing;
//   - a byte that is not part of valid UTF-8: \xff;
//   - a combining mark (or joiner) at the very start or right after an
//     escape, which would otherwise fuse with whatever is drawn before it
//     and shift the grid by a cell: \u0301; likewise a letter that joins
//     what follows it (a Unicode Prepend) at the very end.
//
// Strings with nothing to escape are returned unchanged, without copying.
func Text(s string) string {
	i := firstUnsafe(s)
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	escape(&b, s[i:], i == 0)
	return b.String()
}

// escape writes s to b as Text does; atStart says s begins the text, where
// a combining mark has nothing of its own to combine with. A mark right
// after an escape has no base either (it would sit on the escape's last
// letter), so it is escaped too.
func escape(b *strings.Builder, s string, atStart bool) {
	noBase := atStart
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			writeHex(b, `\x`, uint32(s[i]), 2)
			noBase = true
		case unsafeRune(r, noBase) || (i+size == len(s) && prepends(r)):
			writeEscape(b, r)
			noBase = true
		default:
			b.WriteString(s[i : i+size])
			noBase = false
		}
		i += size
	}
}

// IsInert reports whether Text would return s unchanged.
func IsInert(s string) bool { return firstUnsafe(s) == len(s) }

// firstUnsafe is the byte offset of the first thing Text escapes, or
// len(s): printable ASCII, the overwhelming case, is checked a byte at a
// time without decoding.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			return i
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size <= 1) || unsafeRune(r, i == 0) || (i+size == len(s) && prepends(r)) {
			return i
		}
		i += size
	}
	return len(s)
}

const (
	zeroWidthNonJoiner = '\u200c'
	zeroWidthJoiner    = '\u200d'
)

// unsafeRune says whether a valid rune is escaped; first says it starts
// the string.
func unsafeRune(r rune, first bool) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r < utf8.RuneSelf:
		return false
	case r == '\u2028', r == '\u2029':
		return true
	case r == zeroWidthJoiner, r == zeroWidthNonJoiner:
		return first
	case r >= 0xe0020 && r <= 0xe007f:
		// Tag characters spell the subdivision flags (🏴 + tags); on
		// their own they are invisible but reorder nothing.
		return first
	case unicode.Is(unicode.Cf, r):
		return true
	case first && extendsPrevious(r):
		return true
	}
	return false
}

// extendsPrevious says whether r joins the grapheme before it: combining
// marks, variation selectors and the emoji skin-tone modifiers.
func extendsPrevious(r rune) bool {
	return unicode.Is(unicode.M, r) || (r >= 0x1f3fb && r <= 0x1f3ff)
}

// prepends says whether r joins the grapheme after it (Unicode's Prepend
// characters that are letters, the others being format characters escaped
// anyway; and the zero-width joiner). At the end of a string it would fuse
// with the view's next cell.
func prepends(r rune) bool {
	switch {
	case r == zeroWidthJoiner:
		// Joins an emoji drawn next to the string.
		return true
	case r == 0x0d4e, r == 0x111c2, r == 0x111c3, r == 0x1193f, r == 0x11941,
		r == 0x11a3a, r >= 0x11a84 && r <= 0x11a89, r == 0x11d46, r == 0x11f02:
		return true
	}
	return false
}

// names are the C0 controls Go and C write with a letter.
var names = map[rune]string{'\a': `\a`, '\b': `\b`, '\t': `\t`, '\n': `\n`, '\v': `\v`, '\f': `\f`, '\r': `\r`}

func writeEscape(b *strings.Builder, r rune) {
	switch {
	case names[r] != "":
		b.WriteString(names[r])
	case r < 0x80:
		writeHex(b, `\x`, uint32(r), 2)
	case r <= 0xffff:
		writeHex(b, `\u`, uint32(r), 4)
	default:
		writeHex(b, `\U`, uint32(r), 8)
	}
}

func writeHex(b *strings.Builder, prefix string, v uint32, digits int) {
	const hex = "0123456789abcdef"
	b.WriteString(prefix)
	for shift := (digits - 1) * 4; shift >= 0; shift -= 4 {
		b.WriteByte(hex[(v>>shift)&0xf])
	}
}

// LineBreak is how Text shows a line feed, for a view that shows only the
// first line of a multi-line value (a health check's output).
const LineBreak = `\n`

// FirstLine is the first non-empty line of a string Text has made inert,
// trimmed.
func FirstLine(s string) string {
	for _, line := range strings.Split(s, LineBreak) {
		if line = strings.TrimSpace(strings.TrimSuffix(line, `\r`)); line != "" {
			return line
		}
	}
	return ""
}
