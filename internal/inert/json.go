package inert

import (
	"strings"
	"unicode/utf8"
)

// JSON escapes, in encoded JSON, the characters json.Marshal leaves raw
// that Text would escape: DEL, the C1 controls and the invisible format
// characters (bidi overrides among them) become \uXXXX. The document means
// the same (a decoder reads back the raw value) but no longer acts on a
// terminal it is printed to. JSON's structure is ASCII, so these can only
// be inside strings; json.Marshal has already escaped the C0 controls and
// replaced invalid UTF-8.
func JSON(doc []byte) []byte {
	var b strings.Builder
	start := 0
	for i := 0; i < len(doc); {
		c := doc[i]
		if c < utf8.RuneSelf && c != 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRune(doc[i:])
		if r == utf8.RuneError && size <= 1 || !unsafeRune(r, false) || r < 0x20 {
			i += size
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(doc) + 16)
		}
		b.Write(doc[start:i])
		if r > 0xffff {
			// JSON writes a rune beyond the BMP as a UTF-16 pair.
			r -= 0x10000
			writeHex(&b, `\u`, uint32(0xd800+(r>>10)), 4)
			writeHex(&b, `\u`, uint32(0xdc00+(r&0x3ff)), 4)
		} else {
			writeHex(&b, `\u`, uint32(r), 4)
		}
		i += size
		start = i
	}
	if start == 0 {
		return doc
	}
	b.Write(doc[start:])
	return []byte(b.String())
}
