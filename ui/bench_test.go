package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/topo-dev/topo/model"
)

// The performance setup (benchTopology: 300 containers over 5
// networks, every fifth on two) on a 200×50 terminal. Target: one render
// ≤ 5 ms. `make bench` runs these; tests never assert timings.
//
// Each runs in monochrome (the golden files' profile, where lipgloss skips
// styling) and in 256 colours (tmux's TERM), where every style costs escape
// sequences: the second is what a person's terminal gets.

// profiles runs fn under each colour profile, restoring the tests' ASCII.
func profiles(b *testing.B, fn func(b *testing.B)) {
	for _, p := range []struct {
		name    string
		profile termenv.Profile
	}{{"ascii", termenv.Ascii}, {"ansi256", termenv.ANSI256}} {
		b.Run(p.name, func(b *testing.B) {
			lipgloss.SetColorProfile(p.profile)
			b.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) })
			fn(b)
		})
	}
}

func benchHarness(b *testing.B) *harness {
	b.Helper()
	topo := benchTopology()
	hs := newHarness(b, 200, 50, &topo)
	// A log full of entries, as after a long session.
	for i := range maxLogEntries {
		hs.m.log.Add(testNow, fmt.Sprintf("start container-%03d", i%300), false)
	}
	return hs
}

// BenchmarkLanesView renders the lanes grid from scratch (the cache
// dropped), as after any topology, selection or size change.
func BenchmarkLanesView(b *testing.B) {
	profiles(b, func(b *testing.B) {
		hs := benchHarness(b)
		b.ReportAllocs()
		for b.Loop() {
			hs.m.lanes.Invalidate()
			_ = hs.m.lanes.View()
		}
	})
}

// BenchmarkView renders the whole screen: "grid" with the lanes re-rendered
// (a frame after a change), "tick" with the lanes cached (the once-a-second
// status refresh).
func BenchmarkView(b *testing.B) {
	profiles(b, func(b *testing.B) {
		b.Run("grid", func(b *testing.B) {
			hs := benchHarness(b)
			b.ReportAllocs()
			for b.Loop() {
				// What a message that changed the lanes costs: the
				// whole screen drawn again.
				hs.m.lanes.Invalidate()
				hs.m.bodyDirty = true
				_ = hs.m.View()
			}
		})
		b.Run("tick", func(b *testing.B) {
			hs := benchHarness(b)
			b.ReportAllocs()
			for b.Loop() {
				_ = hs.m.View()
			}
		})
	})
}

// BenchmarkRenderSnapshot is `topo snapshot --width 200`.
func BenchmarkRenderSnapshot(b *testing.B) {
	profiles(b, func(b *testing.B) {
		topo := benchTopology()
		styles := NewStyles(DefaultTheme())
		b.ReportAllocs()
		for b.Loop() {
			_ = RenderSnapshot(topo, styles, 200, true)
		}
	})
}

// BenchmarkEventToFrame is the work between one engine event and the next
// frame: Update with the event (apply, log line, re-layout), then View.
func BenchmarkEventToFrame(b *testing.B) {
	profiles(b, func(b *testing.B) {
		hs := benchHarness(b)
		c := hs.m.topo.Containers[ctrID("container-042")]
		running, exited := c, c
		exited.State, exited.ExitCode = model.StateExited, 0
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			ev := model.Event{Time: testNow.Add(time.Duration(i) * time.Millisecond), Type: model.EventContainer, ActorID: c.ID,
				Action: "start", Container: &running, Attributes: map[string]string{"name": c.Name}}
			if i%2 == 1 {
				ev.Action, ev.Container = "die", &exited
				ev.Attributes = map[string]string{"name": c.Name, "exitCode": "0"}
			}
			hs.m.Update(EngineUpdateMsg{Update: model.Update{Event: &ev}})
			_ = hs.m.View()
			i++
		}
	})
}

// Identical entries close together are one line with a count; the same
// text later, or another in between, is a line of its own.
func TestEventLogJoinsRepeats(t *testing.T) {
	log := NewEventLog(NewStyles(DefaultTheme()))
	log.SetSize(80, 8)
	log.Add(testNow, "node update worker-1", false)
	log.Add(testNow.Add(100*time.Millisecond), "node update worker-1", false)
	log.Add(testNow.Add(200*time.Millisecond), "node update worker-1", false)
	log.Add(testNow.Add(300*time.Millisecond), "node update worker-2", false)
	log.Add(testNow.Add(10*time.Second), "node update worker-2", false)
	lines := strings.Split(strings.TrimRight(ansi.Strip(log.View()), " \n"), "\n")
	var got []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			got = append(got, l[9:])
		}
	}
	want := []string{"node update worker-1 ×3", "node update worker-2", "node update worker-2"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("log lines %q, want %q", got, want)
	}
}

// Regression: every event re-rendered all 500 lines of the event log
// (~4,000 allocations and most of an event's cost at 300 containers); an
// event now renders its own line only.
func TestEventLogAddRendersOnlyTheNewLine(t *testing.T) {
	log := NewEventLog(NewStyles(DefaultTheme()))
	log.SetSize(200, 8)
	for i := range maxLogEntries {
		log.Add(testNow, fmt.Sprintf("start container-%03d", i), false)
	}
	n := 0
	allocs := testing.AllocsPerRun(20, func() {
		n++ // a new line each time, not a repeat of the last
		log.Add(testNow, fmt.Sprintf("die container-%03d (exit 0)", n), true)
	})
	if allocs > 100 {
		t.Errorf("one Add to a full log allocates %.0f times: it re-renders the whole log", allocs)
	}
	if got := strings.Count(log.View(), "container-"); got == 0 {
		t.Errorf("the log shows no entries:\n%s", log.View())
	}
}
