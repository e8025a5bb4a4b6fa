package ansisvg

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestConvert(t *testing.T) {
	in := "\x1b[1;38;5;12m━━ lane\x1b[0m \x1b[92m●\x1b[0m a<&>\x01b\n\x1b[7mrev\x1b[27m \x1b[38;2;1;2;3mrgb\x1b[m"
	out := string(Convert(in, Options{}))
	if err := xml.Unmarshal([]byte(out), new(struct{})); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, out)
	}
	for _, want := range []string{
		`fill="` + DarkPalette.ANSI[12] + `" font-weight="bold">━━ lane</tspan>`, // 256-colour index of the 16
		`fill="` + DarkPalette.ANSI[10] + `">●</tspan>`,                          // bright 92
		`a&lt;&amp;&gt;b`, // escaped; a control character takes no cell and is dropped
		`<rect x="8.4" y="25.2" width="25.2" height="16.8" fill="#cccccc"/>`, // reverse video's background
		`fill="#010203">rgb`,
		`font-family="DejaVu Sans Mono, Menlo, Consolas, monospace"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
	// Columns: "━━ lane" is 7 cells, then a space, so ● is at column 8.
	if !strings.Contains(out, `<tspan x="75.6"`) {
		t.Errorf("● is not placed at column 8 (x=75.6):\n%s", out)
	}
	// The width comes from the widest line: 15 cells plus a cell each side.
	if !strings.Contains(out, `width="142.8"`) {
		t.Errorf("width is not 17 cells:\n%s", out)
	}
}
