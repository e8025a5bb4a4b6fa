package ui

import (
	"context"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// LogsStartedMsg says a log stream opened (or why it could not); Gen ties
// it to the pane's current stream, so one closed meanwhile is ignored.
type LogsStartedMsg struct {
	Gen   int
	Lines <-chan model.LogBatch
	Err   error
}

// LogsMsg carries one batch of a log stream.
type LogsMsg struct {
	Gen   int
	Batch model.LogBatch
}

// LogsEndedMsg says a log stream's channel closed.
type LogsEndedMsg struct{ Gen int }

// startLogs opens the stream; it runs on its own goroutine, since the
// adapter inspects the container first.
func startLogs(ctx context.Context, src LogSource, id string, gen int) tea.Cmd {
	return func() tea.Msg {
		ch, err := src.Logs(ctx, id, logTail)
		return LogsStartedMsg{Gen: gen, Lines: ch, Err: err}
	}
}

// waitForLogs takes the next batch after delay, and is re-armed after each
// (bubbletea's realtime pattern); it ends with ctx, so a closed pane leaves
// no goroutine waiting. (receive in deps.go has neither the pacing nor the
// context: the watches it serves live as long as the program.)
func waitForLogs(ctx context.Context, ch <-chan model.LogBatch, gen int, delay time.Duration) tea.Cmd {
	return func() tea.Msg {
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return LogsEndedMsg{Gen: gen}
			}
		}
		select {
		case b, ok := <-ch:
			if !ok {
				return LogsEndedMsg{Gen: gen}
			}
			for i := range b.Lines {
				b.Lines[i].Text = tidyLogText(b.Lines[i].Text)
			}
			return LogsMsg{Gen: gen, Batch: b}
		case <-ctx.Done():
			return LogsEndedMsg{Gen: gen}
		}
	}
}

// tidyLogText does to a raw line what a terminal would have done to it
// harmlessly: tabs become spaces to the next stop of 8, and colour (SGR)
// sequences go. Everything else a terminal would obey stays, for Update's
// sanitiser to show as text (see internal/inert): this only keeps a Go
// stack trace or a coloured logger readable rather than full of \t and
// \x1b[32m.
func tidyLogText(s string) string {
	if !strings.ContainsAny(s, "\t\x1b") {
		return s
	}
	var b strings.Builder
	col := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\t':
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case c == '\x1b' && i+1 < len(s) && s[i+1] == '[':
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';') {
				j++
			}
			if j < len(s) && s[j] == 'm' {
				i = j
				continue
			}
			b.WriteByte(c)
			col++
		default:
			b.WriteByte(c)
			// Continuation bytes of UTF-8 take no column of their own;
			// wide characters are rare enough in logs to count as one.
			if c < 0x80 || c >= 0xc0 {
				col++
			}
		}
	}
	return b.String()
}
