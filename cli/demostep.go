package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/charmbracelet/x/term"
	"github.com/topo-dev/topo/demo/deploy"
	"github.com/topo-dev/topo/internal/inert"
	"github.com/topo-dev/topo/ui"
)

// stepPrinter prints an operation's steps as lines: one per finished step,
// and on a terminal a line rewritten in place while a pull progresses.
type stepPrinter struct {
	out  io.Writer
	tty  bool
	live bool // a progress line is on screen, unterminated
}

func newStepPrinter(out io.Writer) *stepPrinter {
	p := &stepPrinter{out: out}
	if f, ok := out.(*os.File); ok {
		p.tty = term.IsTerminal(f.Fd())
	}
	return p
}

func (p *stepPrinter) print(s deploy.Step) {
	s = inert.Value(s) // titles and details name images and containers
	switch s.State {
	case deploy.StepRunning:
		if !p.tty || s.Fraction < 0 {
			return
		}
		fmt.Fprintf(p.out, "\r\033[K… %s %s %s", s.Title, ui.ProgressBar(s.Fraction, 20), s.Detail)
		p.live = true
	case deploy.StepDone:
		p.endLive()
		line := "✓ " + s.Title
		if s.Detail != "" {
			line += "  " + s.Detail
		}
		fmt.Fprintln(p.out, line)
	case deploy.StepFailed:
		p.endLive()
		fmt.Fprintf(p.out, "✗ %s: %v\n", s.Title, s.Err)
	}
}

func (p *stepPrinter) endLive() {
	if p.live {
		fmt.Fprint(p.out, "\r\033[K")
		p.live = false
	}
}

func (p *stepPrinter) flush() { p.endLive() }
