package cli

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// The renderer draws on demand (issue 18, third_party/bubbletea): these
// drive the real binary in a real terminal to show it neither drops the
// last frame of a burst of resizes nor leaves the terminal changed on
// the way out.

// statusLine is the first line of the screen: the status bar.
func statusLine(screen string) string {
	line, _, _ := strings.Cut(screen, "\n")
	return line
}

// TestResizeStormDrawsTheFinalSize: a storm of resizes, each a new view,
// coalesces into frames at the frame rate; the last size must still be
// drawn when the storm stops, with no message after it to wake the
// renderer. Below 120 columns the status bar counts "N/M up", from 120
// "N/M running", so the bar says which width the last frame was laid out
// for. (The renderer's own tests prove the last view is drawn without a
// later write; here the status clock's next change would also draw it, so
// this proves the size, not the moment.)
func TestResizeStormDrawsTheFinalSize(t *testing.T) {
	bin := tmuxtest.BuildTopo(t)
	term := tmuxtest.Start(t, 200, 50, nil, bin)
	term.WaitForText(testenv.Patience(10*time.Second), "● live")

	storm := func(last string, w, h int) {
		for i := range 30 {
			if i%2 == 0 {
				term.Resize(100, 30)
			} else {
				term.Resize(200, 50)
			}
		}
		term.Resize(w, h)
		term.WaitFor(testenv.Patience(5*time.Second), "the status bar laid out for "+strconv.Itoa(w)+" columns", func(s string) bool {
			bar := statusLine(s)
			return strings.Contains(bar, last) && len(strings.Split(strings.TrimRight(s, "\n"), "\n")) <= h
		})
	}
	storm(" up", 110, 30)
	storm(" running", 180, 45)
	storm(" up", 100, 30)
}

// TestTerminalIsRestoredOnEveryExit quits topo each way it can be quit
// from outside (q, ctrl+c, SIGTERM) and checks what the terminal is left
// with: the main screen, no mouse reporting, the cursor shown, and the
// line discipline back in cooked mode (icanon, echo).
func TestTerminalIsRestoredOnEveryExit(t *testing.T) {
	bin := tmuxtest.BuildTopo(t)
	for _, exit := range []string{"q", "ctrl+c", "SIGTERM"} {
		t.Run(exit, func(t *testing.T) {
			// After topo, the shell prints the tty's modes: a terminal
			// left raw would print -icanon -echo.
			script := "'" + bin + "'; rc=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo; exit $rc"
			term := tmuxtest.Start(t, 120, 40, nil, "sh", "-c", script)
			term.WaitForText(testenv.Patience(10*time.Second), "● live")
			if got := paneFlags(t, term); got != "alt=1 mouse=1 cursor=0" {
				t.Fatalf("while running the pane is %q, want the alternate screen, mouse reporting and the cursor hidden", got)
			}
			switch exit {
			case "q":
				term.Send("q")
			case "ctrl+c":
				term.Send("C-c")
			case "SIGTERM":
				pid := topoPID(t, term)
				if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			}
			screen := term.WaitForText(testenv.Patience(10*time.Second), "[exited ")
			if !strings.Contains(screen, "icanon echo") {
				t.Errorf("the tty was not put back in cooked mode after %s:\n%s", exit, screen)
			}
			if got := paneFlags(t, term); got != "alt=0 mouse=0 cursor=1" {
				t.Errorf("after %s the pane is %q, want the main screen, no mouse reporting and the cursor shown", exit, got)
			}
		})
	}
}

// paneFlags reads what the program in the pane has set the terminal to.
func paneFlags(t *testing.T, term *tmuxtest.Session) string {
	t.Helper()
	out, err := exec.Command("tmux", "display-message", "-p", "-t", term.Name(),
		"alt=#{alternate_on} mouse=#{?#{||:#{mouse_any_flag},#{mouse_button_flag}},1,0} cursor=#{cursor_flag}").Output()
	if err != nil {
		t.Fatalf("tmux display-message: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// topoPID finds topo among the descendants of the pane's shell.
func topoPID(t *testing.T, term *tmuxtest.Session) int {
	t.Helper()
	out, err := exec.Command("tmux", "display-message", "-p", "-t", term.Name(), "#{pane_pid}").Output()
	if err != nil {
		t.Fatalf("tmux display-message: %v", err)
	}
	queue := []string{strings.TrimSpace(string(out))}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if comm, err := os.ReadFile("/proc/" + pid + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "topo" {
			n, err := strconv.Atoi(pid)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		kids, _ := exec.Command("pgrep", "-P", pid).Output() // exit 1: no children
		queue = append(queue, strings.Fields(string(kids))...)
	}
	t.Fatal("no topo process under the pane's shell")
	return 0
}
