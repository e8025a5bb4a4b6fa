package cli

import (
	"os"
	"testing"
)

// Regression: a terminal that hung up under topo (its reads at EOF) was
// taken silently, and a topo with SIGHUP ignored ran on with no terminal.
// The end of the input must call gone, once, and only at the end.
func TestInputAtItsEndSaysTheTerminalIsGone(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	gone := 0
	in := &hangupInput{File: r, gone: func() { gone++ }}
	if _, err := w.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := in.Read(buf); n != 1 || err != nil {
		t.Fatalf("Read = %d, %v; want the key", n, err)
	}
	if gone != 0 {
		t.Fatal("gone called while the terminal still answers")
	}
	w.Close()
	for range 2 {
		if n, err := in.Read(buf); n != 0 || err == nil {
			t.Fatalf("Read after the end = %d, %v", n, err)
		}
	}
	if gone != 1 {
		t.Errorf("gone called %d times at the end of the input, want 1", gone)
	}
}
