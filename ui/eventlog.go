package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// maxLogEntries bounds the event log's memory on a busy engine.
const maxLogEntries = 500

type logEntry struct {
	at   time.Time
	text string
	bad  bool
	// repeats counts the identical entries that followed it within
	// repeatWindow, shown as ×N rather than as lines of their own.
	repeats int
}

// repeatWindow joins identical entries this close together: a swarm
// reports one node change as two node events, and a burst of the same
// line says less than one line with its count.
const repeatWindow = 2 * time.Second

// EventLog shows the latest engine events, newest at the bottom.
type EventLog struct {
	styles  Styles
	entries []logEntry
	// lines are the entries rendered for the current width: an event
	// renders its own line only, not the whole log again.
	lines    []string
	viewport viewport.Model
	// follow keeps the newest entry in view until the person scrolls up.
	follow bool
	width  int
	// stale says lines changed since the viewport was given them: Add
	// only marks it, so a burst of events joins the lines once, when the
	// log is next drawn or scrolled, not once per event.
	stale bool
}

// NewEventLog returns an empty log.
func NewEventLog(styles Styles) *EventLog {
	return &EventLog{styles: styles, viewport: viewport.New(0, 0), follow: true}
}

// SetSize gives the pane its size.
func (e *EventLog) SetSize(w, h int) {
	if w != e.width {
		e.lines = e.lines[:0]
		for _, en := range e.entries {
			e.lines = append(e.lines, e.render(en, w))
		}
	}
	e.width = w
	e.viewport.Width, e.viewport.Height = w, h
	e.refresh()
}

// Add appends an entry; bad entries (errors, deaths) stand out.
func (e *EventLog) Add(at time.Time, text string, bad bool) {
	if n := len(e.entries); n > 0 {
		last := &e.entries[n-1]
		if last.text == text && last.bad == bad && at.Sub(last.at) < repeatWindow {
			last.repeats++
			last.at = at
			e.lines[n-1] = e.render(*last, e.width)
			e.stale = true
			return
		}
	}
	en := logEntry{at: at, text: text, bad: bad}
	e.entries = append(e.entries, en)
	e.lines = append(e.lines, e.render(en, e.width))
	if len(e.entries) > maxLogEntries {
		e.entries = e.entries[len(e.entries)-maxLogEntries:]
		e.lines = e.lines[len(e.lines)-maxLogEntries:]
	}
	e.stale = true
}

// Update scrolls the log.
func (e *EventLog) Update(msg tea.Msg) tea.Cmd {
	e.sync()
	var cmd tea.Cmd
	e.viewport, cmd = e.viewport.Update(msg)
	e.follow = e.viewport.AtBottom()
	return cmd
}

// View renders the log.
func (e *EventLog) View() string {
	e.sync()
	return e.viewport.View()
}

// sync gives the viewport the lines added since it last had them.
func (e *EventLog) sync() {
	if e.stale {
		e.refresh()
	}
}

func (e *EventLog) render(en logEntry, width int) string {
	style := e.styles.Base
	if en.bad {
		style = e.styles.Failing
	}
	if en.repeats > 0 {
		count := fmt.Sprintf(" ×%d", en.repeats+1)
		text := ansi.Truncate(en.text, max(1, width-9-len([]rune(count))), "…")
		return e.styles.Muted.Render(en.at.Local().Format("15:04:05")) + " " + style.Render(text) + e.styles.Muted.Render(count)
	}
	return e.styles.Muted.Render(en.at.Local().Format("15:04:05")) + " " + style.Render(fit(en.text, max(1, width-9)))
}

func (e *EventLog) refresh() {
	e.stale = false
	content := strings.Join(e.lines, "\n")
	if len(e.entries) == 0 {
		content = e.styles.Muted.Render("no events yet: start or stop a container")
	}
	e.viewport.SetContent(content)
	if e.follow {
		e.viewport.GotoBottom()
	}
}
