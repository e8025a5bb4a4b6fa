package cli

import (
	"errors"
	"io"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// panicky panics in Update on its first message.
type panicky struct{ inCmd bool }

type boom struct{}

func (p panicky) Init() tea.Cmd {
	if p.inCmd {
		return func() tea.Msg { panic("a command panicked") }
	}
	return func() tea.Msg { return boom{} }
}

func (p panicky) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if _, ok := msg.(boom); ok {
		panic("update panicked")
	}
	return p, nil
}

func (p panicky) View() string { return "" }

// TestAPanicIsNotACleanExit: Bubble Tea catches a panic, in Update or in a
// command, and returns it as "program was killed"; topo ended such a crash
// with exit status 0, as if the user had quit.
func TestAPanicIsNotACleanExit(t *testing.T) {
	for _, inCmd := range []bool{false, true} {
		prog := tea.NewProgram(panicky{inCmd: inCmd}, tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithoutSignalHandler())
		_, err := prog.Run()
		if err == nil {
			t.Fatalf("inCmd=%v: Run returned no error after a panic", inCmd)
		}
		if exit := programExit(err); exit == nil {
			t.Errorf("inCmd=%v: a panic (%v) ends topo cleanly", inCmd, err)
		}
	}
	for _, clean := range []error{nil, tea.ErrProgramKilled} {
		if exit := programExit(clean); exit != nil {
			t.Errorf("programExit(%v) = %v, want a clean end", clean, exit)
		}
	}
	if exit := programExit(errors.New("read /dev/tty: input/output error")); exit == nil {
		t.Error("a terminal error ends topo cleanly")
	}
}
