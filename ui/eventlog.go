package ui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
)

// maxLogEntries bounds the event log's memory on a busy engine.
const maxLogEntries = 500

type logEntry struct {
	at   time.Time
	text string
	bad  bool
}

// EventLog shows the latest engine events, newest at the bottom.
type EventLog struct {
	styles   Styles
	entries  []logEntry
	viewport viewport.Model
	// follow keeps the newest entry in view until the person scrolls up.
	follow bool
	width  int
}

// NewEventLog returns an empty log.
func NewEventLog(styles Styles) *EventLog {
	return &EventLog{styles: styles, viewport: viewport.New(0, 0), follow: true}
}

// SetSize gives the pane its size.
func (e *EventLog) SetSize(w, h int) {
	e.width = w
	e.viewport.Width, e.viewport.Height = w, h
	e.refresh()
}

// Add appends an entry; bad entries (errors, deaths) stand out.
func (e *EventLog) Add(at time.Time, text string, bad bool) {
	e.entries = append(e.entries, logEntry{at, text, bad})
	if len(e.entries) > maxLogEntries {
		e.entries = e.entries[len(e.entries)-maxLogEntries:]
	}
	e.refresh()
}

// Update scrolls the log.
func (e *EventLog) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	e.viewport, cmd = e.viewport.Update(msg)
	e.follow = e.viewport.AtBottom()
	return cmd
}

// View renders the log.
func (e *EventLog) View() string { return e.viewport.View() }

func (e *EventLog) refresh() {
	var b strings.Builder
	for i, en := range e.entries {
		if i > 0 {
			b.WriteByte('\n')
		}
		style := e.styles.Base
		if en.bad {
			style = e.styles.Failing
		}
		line := e.styles.Muted.Render(en.at.Local().Format("15:04:05")) + " " + style.Render(fit(en.text, max(1, e.width-9)))
		b.WriteString(line)
	}
	if len(e.entries) == 0 {
		b.WriteString(e.styles.Muted.Render("no events yet: start or stop a container"))
	}
	e.viewport.SetContent(b.String())
	if e.follow {
		e.viewport.GotoBottom()
	}
}
