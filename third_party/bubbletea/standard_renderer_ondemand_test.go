package tea

// PATCH (topo, see PATCH.md): tests of the on-demand renderer. None of
// them measures time: the ceiling is set to an hour where a frame must not
// come from the timer, so a frame on screen proves its cause.

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an io.Writer the test reads while the renderer writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls out until it holds want, for at least 30 s on a loaded
// machine.
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%q never drawn; output: %q", want, out.String())
		}
		time.Sleep(time.Millisecond)
	}
}

func newTestRenderer(framerate time.Duration) (*standardRenderer, *syncBuffer) {
	out := &syncBuffer{}
	r := newRenderer(out, false, 60).(*standardRenderer)
	r.framerate = framerate
	return r, out
}

// The first frame, and the first change after a quiet interval, are drawn
// at once: with an hour between frames, only the leading edge can draw
// them.
func TestRendererDrawsFirstChangeAtOnce(t *testing.T) {
	r, out := newTestRenderer(time.Hour)
	r.lastRender = "" // nothing drawn yet
	r.start()
	defer r.kill()
	r.write("first frame")
	waitFor(t, out, "first frame")
}

// Views written inside one interval are one frame: with an hour between
// frames, the views after the first wait for the timer, each replacing the
// one before, and only the last is drawn (here by stop, which draws what
// is pending).
func TestRendererCoalescesABurst(t *testing.T) {
	r, out := newTestRenderer(time.Hour)
	r.start()
	r.write("view 0")
	waitFor(t, out, "view 0")
	for i := 1; i <= 100; i++ {
		r.write("view " + strings.Repeat("x", i))
	}
	if s := out.String(); strings.Contains(s, "view x") {
		t.Fatalf("a view of the burst was drawn inside the interval: %q", s)
	}
	r.stop()
	s := out.String()
	if !strings.Contains(s, "view "+strings.Repeat("x", 100)) {
		t.Fatalf("the burst's last view was not drawn: %q", s)
	}
	if strings.Count(s, "view x") != 1 {
		t.Fatalf("the burst took more than one frame: %q", s)
	}
}

// A change inside the interval is drawn when the interval ends (trailing
// edge), without any further write to wake the renderer.
func TestRendererDrawsTheTrailingFrame(t *testing.T) {
	r, out := newTestRenderer(20 * time.Millisecond)
	r.start()
	defer r.kill()
	r.write("one")
	waitFor(t, out, "one")
	r.write("two")
	waitFor(t, out, "two")
}

// Bubble Tea writes the view after every message; a view equal to the one
// on screen must not wake the renderer, so an idle program sleeps.
func TestRendererSleepsOnAnUnchangedView(t *testing.T) {
	r, _ := newTestRenderer(time.Hour)
	r.write("same")
	if len(r.wake) != 1 {
		t.Fatal("a new view did not wake the renderer")
	}
	<-r.wake
	if !r.flush() {
		t.Fatal("the new view was not drawn")
	}
	for i := 0; i < 10; i++ {
		r.write("same")
	}
	if len(r.wake) != 0 {
		t.Fatal("an unchanged view woke the renderer")
	}
	if r.flush() {
		t.Fatal("an unchanged view was drawn again")
	}
	// A repaint (resize, clear screen) empties the last frame: the same
	// view must then be drawn again.
	r.mtx.Lock()
	r.repaint()
	r.mtx.Unlock()
	r.write("same")
	if len(r.wake) != 1 {
		t.Fatal("a view after a repaint did not wake the renderer")
	}
}

// A program whose view never changes draws exactly one frame, however
// many messages it handles.
func TestProgramIdleDrawsOnce(t *testing.T) {
	out := &syncBuffer{}
	var in bytes.Buffer
	m := &testModel{}
	p := NewProgram(m, WithInput(&in), WithOutput(out), WithFPS(120))
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	waitFor(t, out, "success")
	for i := 0; i < 50; i++ {
		p.Send(struct{}{})
	}
	p.Quit()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "success"); n != 1 {
		t.Fatalf("an unchanged view was drawn %d times: %q", n, out.String())
	}
}
