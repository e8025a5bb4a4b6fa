package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A frame read in pieces split inside an escape sequence and inside a
// character still gives the printed text whole.
func TestRecordKeepsTheTextOfSplitReads(t *testing.T) {
	frame := "\x1b[?1049h\x1b]0;topo\x07\x1b[2;1H\x1b[38;5;2m●\x1b[0m zprobe.3 \r\n\x1bP+q\x1b\\x"
	for cut := 1; cut < len(frame); cut++ {
		var tx text
		got := tx.printed([]byte(frame[:cut])) + tx.printed([]byte(frame[cut:]))
		if got != "● zprobe.3   x" {
			t.Fatalf("cut at %d: %q", cut, got)
		}
	}
}

func TestFindAndLast(t *testing.T) {
	var log bytes.Buffer
	clock := int64(100)
	in := &pieces{parts: []string{"\x1b[H◌ connecting", "● live │", " ● w1.4 ", "✖ zprobe.1", "later"}}
	if err := record(in, &log, func() int64 { clock += 10; return clock }); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, log.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	reads, err := load(path)
	if err != nil {
		t.Fatal(err)
	}
	if at, ok, _ := find(reads, "100", []string{"● live", `● w[0-9]\.[0-9]+ `}); !ok || at != 130 {
		t.Errorf("find both: %d %v, want 130 (the read that completed them)", at, ok)
	}
	if _, ok, _ := find(reads, "120", []string{"● live"}); ok {
		t.Errorf("find matched a read before SINCE")
	}
	if at, ok, _ := last(reads, "125", "145"); !ok || at != 140 {
		t.Errorf("last: %d %v, want 140", at, ok)
	}
	var out strings.Builder
	if err := run([]string{"last", path, "150", "160"}, nil, &out); err == nil {
		t.Errorf("last with no read in the window said %q, want an error", out.String())
	}
}

// pieces is a reader that returns one part per Read, as a pipe would.
type pieces struct{ parts []string }

func (p *pieces) Read(b []byte) (int, error) {
	if len(p.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.parts[0])
	p.parts = p.parts[1:]
	return n, nil
}
