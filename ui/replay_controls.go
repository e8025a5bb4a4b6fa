package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// The replay's controls: its keys (pause, step, speed) and its bar, one
// line under the interface with the clock, the position, the speed and
// the state of the player.

// replayBar is the replay's line at the foot of the screen: the clock
// and the recording's length, the position, the speed, and whether it
// plays, is paused, or has ended (and where a damaged file stopped).
func (m *Model) replayBar() string {
	r := m.replay
	s := m.styles
	state := s.Healthy.Render("▶ playing")
	switch {
	case r.pos >= len(r.rec.Entries) && !r.playing:
		state = s.Muted.Render("■ end")
	case !r.playing:
		state = s.Warning.Render("‖ paused")
	}
	fields := []string{
		s.StatusBar.Render("replay"),
		state,
		replayClock(r.offset()) + " / " + replayClock(r.duration()),
		fmt.Sprintf("event %d of %d", r.pos, len(r.rec.Entries)),
		"speed " + speedText(r.speed),
	}
	if r.rec.Stopped != "" {
		// Before the position: where the file stops matters more.
		fields = append(fields[:3], append([]string{s.Error.Render(r.rec.Stopped)}, fields[3:]...)...)
	}
	sep := s.Muted.Render(" │ ")
	for n := len(fields); n > 1; n-- {
		bar := strings.Join(fields[:n], sep)
		if lipgloss.Width(bar) <= m.width {
			return bar
		}
	}
	return ansiFit(strings.Join(fields[:2], sep), m.width)
}

// replayClock writes an offset as m:ss.s (h:mm:ss past an hour).
func replayClock(d time.Duration) string {
	d = max(d, 0)
	if d >= time.Hour {
		return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d:%04.1f", int(d.Minutes()), d.Seconds()-float64(int(d.Minutes())*60))
}

func speedText(s float64) string {
	if s >= 1 {
		return fmt.Sprintf("×%g", s)
	}
	return fmt.Sprintf("×1/%g", 1/s)
}

// replayKey handles space, [, ], < and >; false for any other key.
func (m *Model) replayKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	r := m.replay
	k := m.keys
	switch {
	case r == nil:
		return nil, false
	case key.Matches(msg, k.Pause):
		if r.playing {
			r.hold(r.offset())
			return nil, true
		}
		if r.pos >= len(r.rec.Entries) {
			// At the end, play it again from the start.
			cmd := m.seek(0)
			r.run(0)
			return tea.Batch(cmd, m.schedule()), true
		}
		r.run(r.at)
		return m.schedule(), true
	case key.Matches(msg, k.StepForward):
		if r.pos >= len(r.rec.Entries) {
			r.hold(r.at)
			m.setFlash("replay: the end of the recording", false)
			return nil, true
		}
		r.hold(r.rec.Entries[r.pos].Offset)
		return m.play(r.pos, r.pos+1), true
	case key.Matches(msg, k.StepBack):
		if r.pos == 0 {
			r.hold(0)
			return nil, true
		}
		cmd := m.seek(r.pos - 1)
		at := time.Duration(0)
		if r.pos > 0 {
			at = r.rec.Entries[r.pos-1].Offset
		}
		r.hold(at)
		return cmd, true
	case key.Matches(msg, k.Slower), key.Matches(msg, k.Faster):
		speed := r.speed * 2
		if key.Matches(msg, k.Slower) {
			speed = r.speed / 2
		}
		at, playing := r.offset(), r.playing
		r.speed = min(max(speed, minReplaySpeed), maxReplaySpeed)
		if playing {
			r.run(at)
			return m.schedule(), true
		}
		r.hold(at)
		return nil, true
	}
	return nil, false
}
