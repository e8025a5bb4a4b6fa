package inert

import (
	"strings"
	"unicode/utf8"
)

// Screen makes a finished frame inert but for what the program itself
// puts there: line feeds between its lines and lipgloss's colour and
// style sequences (SGR: ESC [ digits ; : m). Everything else, including
// any other escape sequence, is escaped as Text does. It is the safety net
// behind Value, not a replacement: a hostile SGR that reached a frame only
// changes colours, and a string escaped only here was measured before its
// escapes made it wider.
func Screen(frame string) string {
	if !needsScreen(frame) {
		return frame
	}
	var b strings.Builder
	b.Grow(len(frame) + 16)
	for len(frame) > 0 {
		i := strings.IndexAny(frame, "\x1b\n")
		if i < 0 {
			escapeWithin(&b, frame)
			break
		}
		escapeWithin(&b, frame[:i])
		frame = frame[i:]
		if frame[0] == '\n' {
			b.WriteByte('\n')
			frame = frame[1:]
			continue
		}
		if n := sgrLen(frame); n > 0 {
			b.WriteString(frame[:n])
			frame = frame[n:]
			continue
		}
		b.WriteString(`\x1b`)
		frame = frame[1:]
	}
	return b.String()
}

// needsScreen is the fast path of Screen: a frame of printable text, line
// feeds and SGR sequences is returned as it is.
func needsScreen(frame string) bool {
	for i := 0; i < len(frame); {
		c := frame[i]
		switch {
		case c == '\n' || (c >= 0x20 && c < 0x7f):
			i++
		case c == 0x1b:
			n := sgrLen(frame[i:])
			if n == 0 {
				return true
			}
			i += n
		case c < utf8.RuneSelf:
			return true
		default:
			r, size := utf8.DecodeRuneInString(frame[i:])
			if (r == utf8.RuneError && size <= 1) || unsafeRune(r, false) {
				return true
			}
			i += size
		}
	}
	return false
}

// escapeWithin escapes a run of a frame that holds no ESC or line feed;
// a combining mark there follows something the frame drew, so it stays.
func escapeWithin(b *strings.Builder, s string) {
	escape(b, s, false)
}

// sgrLen is the length of the SGR sequence s starts with, or 0.
func sgrLen(s string) int {
	if len(s) < 3 || s[0] != 0x1b || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s); i++ {
		switch c := s[i]; {
		case c == 'm':
			return i + 1
		case (c >= '0' && c <= '9') || c == ';' || c == ':':
		default:
			return 0
		}
	}
	return 0
}
