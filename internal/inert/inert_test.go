package inert

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

func TestTextEscapesWhatATerminalWouldObey(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain ascii is kept", "web-1 (api)", "web-1 (api)"},
		{"csi clear screen", "a\x1b[2Jb", `a\x1b[2Jb`},
		{"osc title ended by bel", "\x1b]0;pwned\x07", `\x1b]0;pwned\a`},
		{"osc 52 clipboard", "\x1b]52;c;ZXZpbA==\x07", `\x1b]52;c;ZXZpbA==\a`},
		{"osc ended by st", "\x1b]0;t\x1b\\", `\x1b]0;t\x1b\`},
		{"dcs apc pm sos", "\x1bPq\x1b_a\x1b^b\x1bXc", `\x1bPq\x1b_a\x1b^b\x1bXc`},
		{"bel backspace cr tab lf", "a\a\b\r\t\nz", `a\a\b\r\t\nz`},
		{"nul and other c0", "\x00\x01\x1f", `\x00\x01\x1f`},
		{"del", "a\x7fb", `a\x7fb`},
		{"c1 csi as a rune", "a\u009b2J", `a\u009b2J`},
		{"c1 nel", "\u0085", `\u0085`},
		{"raw c1 byte is invalid utf-8", "a\x9bb", `a\x9bb`},
		{"invalid utf-8", "ok\xff\xfe", `ok\xff\xfe`},
		{"truncated rune", "ab\xe6\x97", `ab\xe6\x97`},
		{"bidi override", "abc\u202etxt.exe", `abc\u202etxt.exe`},
		{"bidi embeddings and pop", "\u202a\u202b\u202c\u202d", `\u202a\u202b\u202c\u202d`},
		{"bidi isolates", "\u2066\u2067\u2068\u2069", `\u2066\u2067\u2068\u2069`},
		{"bidi marks", "a\u200eb\u200fc\u061cd", `a\u200eb\u200fc\u061cd`},
		{"zero width space and bom", "ad\u200bmin\ufeff", `ad\u200bmin\ufeff`},
		{"line and paragraph separators", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"format character beyond the bmp", "a\U000110bdb", `a\U000110bdb`},
		{"cjk is kept", "数据库服务器", "数据库服务器"},
		{"emoji with zwj and skin tone kept", "👩🏽\u200d💻 dev", "👩🏽\u200d💻 dev"},
		{"flag of england keeps its tags", "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"},
		{"combining mark after a letter kept", "cafe\u0301", "cafe\u0301"},
		{"leading combining mark escaped", "\u0301abc", `\u0301abc`},
		{"leading zwj escaped", "\u200dx", `\u200dx`},
		{"mark after an escape escaped", "e\x1b\u0301", `e\x1b\u0301`},
		{"trailing prepend letter escaped", "a\u0d4e", `a\u0d4e`},
		{"trailing zwj escaped", "👩\u200d", `👩\u200d`},
		{"prepend letter before a letter kept", "\u0d4eക", "\u0d4eക"},
		{"leading skin tone escaped", "\U0001f3fbx", `\U0001f3fbx`},
		{"zwnj inside persian kept", "می\u200cخواهم", "می\u200cخواهم"},
		{"backslash kept", `C:\x1b`, `C:\x1b`},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in); got != tc.want {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := IsInert(tc.in); got != (tc.in == tc.want) {
				t.Errorf("IsInert(%q) = %v, want %v", tc.in, got, tc.in == tc.want)
			}
		})
	}
}

// TestTextKeepsTheGridAligned: what views measure with ansi.StringWidth is
// what the terminal draws, also next to the view's own text. Raw, a CSI
// measures 0 cells (ansi skips it as a sequence) and a leading combining
// mark fuses with the cell before it.
func TestTextKeepsTheGridAligned(t *testing.T) {
	for _, in := range []string{
		"\x1b[2Jweb", "\x1b]0;pwned\x07api", "a\u0d4e", "a\U000111c2", "e\x1b\u0301", "日本語\x1b[31m", "🚀\u202erocket", "\u0301x", "a\bb", "naïve\u200b",
	} {
		out := Text(in)
		w := ansi.StringWidth(out)
		if got := ansi.StringWidth("│ " + out + " │"); got != w+4 {
			t.Errorf("%q: %q is %d cells alone but adds %d between rails", in, out, w, got-4)
		}
		if raw := ansi.StringWidth(in); strings.ContainsAny(in, "\x1b\b") && raw == w {
			t.Errorf("%q: the test expects the raw width (%d) to be wrong", in, raw)
		}
	}
}

func TestScreenKeepsSGRAndLineFeedsOnly(t *testing.T) {
	frame := "\x1b[1;38;5;14mtopo\x1b[0m ok\n\x1b[2Jgone\x1b]0;t\x07 \u202e|\x1b[m"
	want := "\x1b[1;38;5;14mtopo\x1b[0m ok\n" + `\x1b[2Jgone\x1b]0;t\a \u202e|` + "\x1b[m"
	if got := Screen(frame); got != want {
		t.Errorf("Screen = %q, want %q", got, want)
	}
	clean := "\x1b[31mrøde\x1b[0m  e\u0301\n│ 数据 │"
	if got := Screen(clean); got != clean {
		t.Errorf("Screen changed a clean frame: %q", got)
	}
}

func TestJSONEscapesWhatMarshalLeavesRaw(t *testing.T) {
	doc := []byte("{\"name\":\"a\u202eb\x7f\u009b\U000110bd👩\u200d💻\"}")
	want := `{"name":"a\u202eb\u007f\u009b\ud804\udcbd👩` + "\u200d" + `💻"}`
	if got := string(JSON(doc)); got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
	if got := JSON([]byte(`{"a":"b"}`)); string(got) != `{"a":"b"}` {
		t.Errorf("JSON changed a clean document: %s", got)
	}
}

type inner struct {
	Name   string
	Labels map[string]string
	Tags   []string
	Err    error
	hidden string
}

type kind string

type outer struct {
	Kind  kind
	Ptr   *inner
	Again *inner
	Val   inner
	Any   any
	Ch    chan int
	Fn    func()
	Bytes []byte
	Arr   [2]string
}

func TestValueMakesEveryStringInertWithoutTouchingTheOriginal(t *testing.T) {
	errRaw := errors.New("no such container \x1b[2J")
	wrapped := fmt.Errorf("inspect: %w", errRaw)
	in := &inner{Name: "web\x07", Labels: map[string]string{"k\x1b": "v\u202e", "ok": "ok"}, Tags: []string{"a", "b\r"}, Err: wrapped, hidden: "\x1b"}
	o := outer{Kind: "k\x1b", Ptr: in, Again: in, Val: *in, Any: inner{Name: "\x1b"}, Bytes: []byte("\x1b"), Arr: [2]string{"x", "\x1b"}}
	got := Value(o)

	if got.Kind != `k\x1b` || got.Ptr.Name != `web\a` || got.Val.Name != `web\a` || got.Any.(inner).Name != `\x1b` || got.Arr[1] != `\x1b` {
		t.Errorf("strings not made inert: %+v", got)
	}
	if got.Ptr.Labels[`k\x1b`] != `v\u202e` || got.Ptr.Labels["ok"] != "ok" || got.Ptr.Tags[1] != `b\r` {
		t.Errorf("map or slice not made inert: %+v", got.Ptr)
	}
	if got.Ptr != got.Again {
		t.Errorf("one pointer reached twice became two copies")
	}
	if got.Ptr.Err.Error() != `inspect: no such container \x1b[2J` || !errors.Is(got.Ptr.Err, errRaw) {
		t.Errorf("error: %q, errors.Is %v", got.Ptr.Err, errors.Is(got.Ptr.Err, errRaw))
	}
	if got.Ptr.hidden != "\x1b" || string(got.Bytes) != "\x1b" {
		t.Errorf("unexported fields and bytes are not text: got %q, %q", got.Ptr.hidden, got.Bytes)
	}
	if in.Name != "web\x07" || in.Labels["k\x1b"] != "v\u202e" || in.Tags[1] != "b\r" || o.Kind != "k\x1b" || o.Arr[1] != "\x1b" {
		t.Errorf("the original changed: %+v %+v", in, o)
	}
}

func TestValueSharesCleanParts(t *testing.T) {
	labels := map[string]string{"a": "b"}
	in := &inner{Name: "web", Labels: labels}
	o := outer{Ptr: in, Val: inner{Name: "\x1b", Labels: labels}}
	got := Value(o)
	if got.Ptr != in {
		t.Errorf("a clean pointer was copied")
	}
	got.Val.Labels["c"] = "d"
	if labels["c"] != "d" {
		t.Errorf("a clean map was copied")
	}
	var nilErr error
	if Value(nilErr) != nil || Err(nil) != nil {
		t.Errorf("nil error changed")
	}
	if clean := fs.ErrNotExist; Value(clean) != clean {
		t.Errorf("a clean error was wrapped")
	}
}

func TestValueEndsOnACycle(t *testing.T) {
	type node struct {
		Name string
		Next *node
	}
	a := &node{Name: "\x1b"}
	a.Next = a
	got := Value(a)
	if got.Name != `\x1b` {
		t.Errorf("Name = %q", got.Name)
	}
}

// FuzzText: whatever comes in, what goes out is valid UTF-8 with no
// control character, no bidi or other invisible format character, is its
// own Text, and measures the same alone as between a view's rails. The
// seed corpus (testdata/fuzz/FuzzText) runs as a normal test.
func FuzzText(f *testing.F) {
	for _, s := range []string{"web-1", "\x1b[2J", "\x1b]0;pwned\x07", "\x1b]52;c;ZXZpbA==\x07", "a\rb\bc", "\u202eabc", "\u0301", "数据\u200d", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Text(%q) = %q is not valid UTF-8", s, out)
		}
		for i, r := range out {
			if r < 0x20 || (r >= 0x7f && r <= 0x9f) || bidi(r) || r == '\u2028' || r == '\u2029' || r == '\ufeff' || r == '\u200b' {
				t.Fatalf("Text(%q) = %q holds %U at %d", s, out, r, i)
			}
		}
		if again := Text(out); again != out {
			t.Fatalf("Text is not stable: Text(%q) = %q, Text of that = %q", s, out, again)
		}
		if (out == s) != IsInert(s) {
			t.Fatalf("IsInert(%q) = %v but Text changed it: %v", s, IsInert(s), out != s)
		}
		w := ansi.StringWidth(out)
		if got := ansi.StringWidth("│ " + out + " │"); got != w+4 {
			t.Fatalf("Text(%q) = %q is %d cells alone, %d between rails", s, out, w, got-4)
		}
		if got := ansi.StringWidth("数" + out + "🚀"); got != w+4 {
			t.Fatalf("Text(%q) = %q is %d cells alone, %d between wide neighbours", s, out, w, got-4)
		}
		if Screen(out) != out {
			t.Fatalf("Screen changed inert text %q to %q", out, Screen(out))
		}
	})
}

func bidi(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}
