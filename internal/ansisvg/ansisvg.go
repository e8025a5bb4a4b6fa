// Package ansisvg turns text coloured with ANSI SGR sequences (what
// lipgloss draws for a terminal) into a standalone SVG picture of that
// terminal: monospace text in tspans, one per run of cells that share
// colours and attributes, each placed at its column so that the lanes line
// up whatever the font's fallback glyphs measure.
package ansisvg

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// Palette is the 16 ANSI colours (0–7 normal, 8–15 bright) plus the
// default foreground and background.
type Palette struct {
	ANSI       [16]string
	Foreground string
	Background string
}

// DarkPalette is a terminal's dark scheme (the xterm-like colours most
// dark themes use), which topo's theme is tuned for.
var DarkPalette = Palette{
	ANSI: [16]string{
		"#1e1e1e", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
		"#767676", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
	},
	Foreground: "#cccccc",
	Background: "#1e1e1e",
}

// Options size the picture.
type Options struct {
	Palette Palette
	// FontSize is in pixels; cells are 0.6 of it wide and 1.2 high, the
	// proportions of common monospace fonts.
	FontSize float64
	// Columns is the width in cells; 0 means the widest line.
	Columns int
}

type attrs struct {
	fg, bg              string // "" is the default
	bold, faint, italic bool
	underline, reverse  bool
	strike              bool
}

type run struct {
	col   int
	text  strings.Builder
	width int
	a     attrs
}

// Convert renders text (lines separated by \n, coloured with SGR
// sequences; other escape sequences are dropped) as an SVG document.
func Convert(text string, o Options) []byte {
	if o.FontSize == 0 {
		o.FontSize = 14
	}
	if o.Palette.Foreground == "" {
		o.Palette = DarkPalette
	}
	rows, widest := parseRuns(text, o.Palette)
	cols := o.Columns
	if cols == 0 {
		cols = widest
	}
	g := grid{cw: o.FontSize * 0.6, lh: o.FontSize * 1.2}
	width, height := float64(cols)*g.cw+2*g.cw, float64(len(rows))*g.lh+g.lh
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s">
<rect width="100%%" height="100%%" fill="%s"/>
`, num(width), num(height), num(width), num(height), o.Palette.Background)
	// Backgrounds first, so that text is drawn over them.
	for y, runs := range rows {
		for _, r := range runs {
			if _, bg := colours(r.a, o.Palette); bg != "" {
				fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>
`, num(g.x(r.col)), num(g.top(y)), num(float64(r.width)*g.cw), num(g.lh), bg)
			}
		}
	}
	fmt.Fprintf(&b, `<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="%s" xml:space="preserve">
`, num(o.FontSize))
	for y, runs := range rows {
		if len(runs) == 0 {
			continue
		}
		// The baseline sits about 0.8 of the font size below a cell's top.
		fmt.Fprintf(&b, `<text y="%s">`, num(g.top(y)+o.FontSize*0.95))
		for _, r := range runs {
			writeTspan(&b, r, g, o.Palette)
		}
		b.WriteString("</text>\n")
	}
	b.WriteString("</g>\n</svg>\n")
	return b.Bytes()
}

// grid is the size of a cell: its width and the line height.
type grid struct{ cw, lh float64 }

func (g grid) x(col int) float64 { return g.cw + float64(col)*g.cw }
func (g grid) top(y int) float64 { return g.lh/2 + float64(y)*g.lh }

// parseRuns splits each line into runs of cells that share attributes,
// and says how wide the widest line is.
func parseRuns(text string, p Palette) (rows [][]*run, widest int) {
	var cur attrs
	for _, ln := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		var runs []*run
		col := 0
		var r *run
		for i := 0; i < len(ln); {
			if ln[i] == 0x1b {
				n, params, final := parseCSI(ln[i:])
				if final == 'm' {
					cur = applySGR(cur, params, p)
					r = nil
				}
				i += n
				continue
			}
			ch, size := decodeRune(ln[i:])
			i += size
			w := runewidth.RuneWidth(ch)
			if w == 0 {
				continue
			}
			if r == nil {
				r = &run{col: col, a: cur}
				runs = append(runs, r)
			}
			r.text.WriteRune(ch)
			r.width += w
			col += w
		}
		widest = max(widest, col)
		rows = append(rows, runs)
	}
	return rows, widest
}

// writeTspan writes one run of text with its colour and attributes;
// blank runs are left to the background.
func writeTspan(b *bytes.Buffer, r *run, g grid, p Palette) {
	s := r.text.String()
	if strings.TrimSpace(s) == "" {
		return
	}
	fg, _ := colours(r.a, p)
	fmt.Fprintf(b, `<tspan x="%s" fill="%s"`, num(g.x(r.col)), fg)
	if r.a.bold {
		b.WriteString(` font-weight="bold"`)
	}
	if r.a.italic {
		b.WriteString(` font-style="italic"`)
	}
	if r.a.faint {
		b.WriteString(` fill-opacity="0.6"`)
	}
	switch {
	case r.a.underline && r.a.strike:
		b.WriteString(` text-decoration="underline line-through"`)
	case r.a.underline:
		b.WriteString(` text-decoration="underline"`)
	case r.a.strike:
		b.WriteString(` text-decoration="line-through"`)
	}
	b.WriteString(">")
	xmlEscape(b, s)
	b.WriteString("</tspan>")
}

func colours(a attrs, p Palette) (fg, bg string) {
	fg, bg = a.fg, a.bg
	if a.reverse {
		fg, bg = bg, fg
		if fg == "" {
			fg = p.Background
		}
		if bg == "" {
			bg = p.Foreground
		}
	}
	if fg == "" {
		fg = p.Foreground
	}
	return fg, bg
}

// num prints a coordinate to a hundredth of a pixel, without float noise.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }

// parseCSI reads an escape sequence at the start of s: its length, its
// parameters and its final byte (0 for anything but a CSI).
func parseCSI(s string) (n int, params []int, final byte) {
	if len(s) < 2 || s[1] != '[' {
		// ESC and one more byte (or a lone ESC): drop it.
		return min(2, len(s)), nil, 0
	}
	i := 2
	for i < len(s) && (s[i] < 0x40 || s[i] > 0x7e) {
		i++
	}
	if i == len(s) {
		return i, nil, 0
	}
	for _, p := range strings.Split(strings.ReplaceAll(s[2:i], ":", ";"), ";") {
		v, err := strconv.Atoi(p)
		if err != nil {
			v = 0
		}
		params = append(params, v)
	}
	return i + 1, params, s[i]
}

func applySGR(a attrs, ps []int, p Palette) attrs {
	if len(ps) == 0 {
		return attrs{}
	}
	for i := 0; i < len(ps); i++ {
		v := ps[i]
		switch {
		case v == 0:
			a = attrs{}
		case v == 1:
			a.bold = true
		case v == 2:
			a.faint = true
		case v == 3:
			a.italic = true
		case v == 4:
			a.underline = true
		case v == 7:
			a.reverse = true
		case v == 9:
			a.strike = true
		case v == 22:
			a.bold, a.faint = false, false
		case v == 23:
			a.italic = false
		case v == 24:
			a.underline = false
		case v == 27:
			a.reverse = false
		case v == 29:
			a.strike = false
		case v >= 30 && v <= 37:
			a.fg = p.ANSI[v-30]
		case v >= 90 && v <= 97:
			a.fg = p.ANSI[v-90+8]
		case v == 39:
			a.fg = ""
		case v >= 40 && v <= 47:
			a.bg = p.ANSI[v-40]
		case v >= 100 && v <= 107:
			a.bg = p.ANSI[v-100+8]
		case v == 49:
			a.bg = ""
		case v == 38 || v == 48:
			c, used := extended(ps[i+1:], p)
			i += used
			if v == 38 {
				a.fg = c
			} else {
				a.bg = c
			}
		}
	}
	return a
}

// extended reads the colour after 38 or 48: 5;N (256 colours) or 2;R;G;B.
func extended(ps []int, p Palette) (string, int) {
	if len(ps) >= 2 && ps[0] == 5 {
		return colour256(ps[1], p), 2
	}
	if len(ps) >= 4 && ps[0] == 2 {
		return fmt.Sprintf("#%02x%02x%02x", clamp(ps[1]), clamp(ps[2]), clamp(ps[3])), 4
	}
	return "", len(ps)
}

func clamp(v int) int { return min(max(v, 0), 255) }

func colour256(n int, p Palette) string {
	switch {
	case n < 0 || n > 255:
		return ""
	case n < 16:
		return p.ANSI[n]
	case n < 232:
		n -= 16
		level := func(v int) int {
			if v == 0 {
				return 0
			}
			return 55 + v*40
		}
		return fmt.Sprintf("#%02x%02x%02x", level(n/36), level(n/6%6), level(n%6))
	default:
		g := 8 + (n-232)*10
		return fmt.Sprintf("#%02x%02x%02x", g, g, g)
	}
}

// decodeRune reads one rune; a byte that is not UTF-8 is U+FFFD.
func decodeRune(s string) (rune, int) { return utf8.DecodeRuneInString(s) }

// xmlEscape writes s as XML character data. Characters XML 1.0 forbids
// (the C0 controls but tab, and U+FFFE/FFFF) become U+FFFD, so a document
// is well-formed whatever the text held.
func xmlEscape(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\t' || r >= 0x20 && r != 0xFFFE && r != 0xFFFF && !(r >= 0xD800 && r <= 0xDFFF):
			b.WriteRune(r)
		default:
			b.WriteRune('\uFFFD')
		}
	}
}
