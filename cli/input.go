package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/charmbracelet/x/term"
)

// hangupInput is the terminal topo reads keys from. A read that ends for
// good (EOF, or EIO: the terminal hung up) calls gone. Bubble Tea v1 ends
// its input loop on EOF without a word, so a topo whose SIGHUP is ignored
// (nohup, some supervisors) ran on with no terminal at all: measured by
// scripts/faults.sh, still running 10 s after its tmux pane was killed.
//
// It embeds the *os.File so that Bubble Tea still sees a terminal (Fd for
// raw mode, Name for its cancelable reader).
type hangupInput struct {
	*os.File
	gone func()
	once sync.Once
}

func (h *hangupInput) Read(b []byte) (int, error) {
	n, err := h.File.Read(b)
	if n == 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.EIO)) {
		h.once.Do(h.gone)
	}
	return n, err
}

// openTerminalInput is stdin when it is a terminal, else the controlling
// terminal (/dev/tty), as Bubble Tea does by itself, so topo still reads
// keys with stdin closed or redirected. close releases what it opened.
func openTerminalInput() (f *os.File, close func(), err error) {
	if term.IsTerminal(os.Stdin.Fd()) {
		return os.Stdin, func() {}, nil
	}
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return nil, nil, fmt.Errorf("no terminal to read keys from (stdin is not one, and %w): run topo in a terminal, or use `topo snapshot` for a one-off picture", err)
	}
	return tty, func() { tty.Close() }, nil
}
