// Package tmuxtest drives a terminal program the way a person does: it runs
// it in a detached tmux session of a fixed size, types keys, and reads the
// screen back, so end-to-end tests check what is really drawn.
package tmuxtest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/testenv"
)

// Session is one program running in tmux.
type Session struct {
	t    testing.TB
	name string
}

// Start runs argv in a new tmux session of width×height with the given
// extra environment, and kills the session at cleanup.
func Start(t testing.TB, width, height int, env []string, argv ...string) *Session {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is not installed (scripts/ensure-engine.sh installs it): %v", err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	s := &Session{t: t, name: "topotest-" + hex.EncodeToString(b)}
	args := []string{"new-session", "-d", "-s", s.name, "-x", strconv.Itoa(width), "-y", strconv.Itoa(height)}
	// The pane is a person's terminal, not CI's: termenv turns colour off
	// whenever CI is set, which a test of the screen must not inherit.
	args = append(args, "-e", "CI=")
	for _, e := range env {
		args = append(args, "-e", e)
	}
	// Keep the pane after the program exits so a crash stays readable.
	args = append(args, strings.Join(quoteAll(argv), " ")+"; echo '[exited '$?']'; sleep 600")
	// The previous test's kill-session ends the tmux server when it held
	// the last session; a new session started while that server exits
	// fails with "server exited unexpectedly". Starting again after it is
	// gone works.
	for try := 1; ; try++ {
		cmd := exec.Command("tmux", args...)
		cmd.Env = append(os.Environ(), "TERM=xterm-256color")
		out, err := cmd.CombinedOutput()
		if err == nil {
			break
		}
		if try == 5 || !strings.Contains(string(out), "server exited unexpectedly") {
			t.Fatalf("tmux new-session: %v\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("screen at failure:\n%s", s.Capture())
		}
		_ = exec.Command("tmux", "kill-session", "-t", s.name).Run()
	})
	return s
}

func quoteAll(argv []string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return out
}

// Name is the tmux target of the session, for tmux commands of a test's
// own (display-message formats).
func (s *Session) Name() string { return s.name }

// Capture returns the screen as plain text.
func (s *Session) Capture() string {
	out, err := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).Output()
	if err != nil {
		return "capture-pane: " + err.Error()
	}
	return string(out)
}

// CaptureEscapes returns the screen with its colour and attribute escape
// sequences, as the terminal would draw it.
func (s *Session) CaptureEscapes() string {
	out, err := exec.Command("tmux", "capture-pane", "-p", "-e", "-t", s.name).Output()
	if err != nil {
		return "capture-pane: " + err.Error()
	}
	return string(out)
}

// PaneTitle is the title the program in the pane has set (OSC 0 or 2), or
// tmux's default (the host name) when it set none.
func (s *Session) PaneTitle() string {
	s.t.Helper()
	out, err := exec.Command("tmux", "display-message", "-p", "-t", s.name, "#{pane_title}").Output()
	if err != nil {
		s.t.Fatalf("tmux display-message: %v", err)
	}
	return strings.TrimSuffix(string(out), "\n")
}

// Send types keys, in tmux send-keys notation ("x", "Enter", "Escape").
func (s *Session) Send(keys ...string) {
	s.t.Helper()
	args := append([]string{"send-keys", "-t", s.name}, keys...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys %v: %v\n%s", keys, err, out)
	}
}

// Resize changes the terminal's size.
func (s *Session) Resize(width, height int) {
	s.t.Helper()
	if out, err := exec.Command("tmux", "resize-window", "-t", s.name, "-x", strconv.Itoa(width), "-y", strconv.Itoa(height)).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux resize-window: %v\n%s", err, out)
	}
}

// WaitFor waits until the screen satisfies cond, and returns that screen.
func (s *Session) WaitFor(within time.Duration, what string, cond func(screen string) bool) string {
	s.t.Helper()
	within = testenv.Patience(within)
	deadline := time.Now().Add(within)
	for {
		screen := s.Capture()
		if cond(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen did not show %s within %v; screen:\n%s", what, within, screen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitForText waits until the screen contains text.
func (s *Session) WaitForText(within time.Duration, text string) string {
	s.t.Helper()
	return s.WaitFor(within, strconv.Quote(text), func(screen string) bool { return strings.Contains(screen, text) })
}

var built struct {
	once sync.Once
	path string
	err  error
}

// BuildTopo builds the topo binary once per test process.
func BuildTopo(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "topo-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "topo")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", built.path, ".")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = &buildError{err: err, out: string(out)}
		}
	})
	if built.err != nil {
		t.Fatalf("build topo: %v", built.err)
	}
	return built.path
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }
