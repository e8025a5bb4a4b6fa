package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// LogSource streams a container's logs: the last tail lines, then each new
// one, in batches, until ctx ends (which must end the request) or the
// output does (the channel closes).
type LogSource interface {
	Logs(ctx context.Context, id string, tail int) (<-chan model.LogBatch, error)
}

// Bounds of the logs pane, whatever the container writes.
const (
	// logTail is how far back the pane starts: a few screens.
	logTail = 500
	// maxLogRows and maxLogBytes bound the lines kept for scrolling back;
	// past either the oldest go. At 10,000 lines a second that is half a
	// second of a flood, and hours of an ordinary service.
	maxLogRows  = 5000
	maxLogBytes = 4 << 20
	// logFrame is the least time between two batches taken: the adapter
	// gathers what comes meanwhile into one batch, so a flood costs at most
	// 1/logFrame frames a second whatever its rate, and the lanes keep
	// their share of the loop. A person reads no faster.
	logFrame = 50 * time.Millisecond
)

// logRow is one kept line, or (gap > 0) the mark of lines dropped before
// the next: the adapter's, or the pane's own while paused.
type logRow struct {
	line model.LogLine
	gap  int
}

// LogsPane shows one container's logs, following them live: stdout and
// stderr marked, search, wrap, pause. It draws only the rows on screen
// from the lines it keeps, rather than a bubbles viewport holding them
// all: a viewport measures every line of its content on each change,
// which at 10,000 lines a second is the cost to avoid.
type LogsPane struct {
	styles        Styles
	width, height int
	parent        context.Context
	cancel        context.CancelFunc
	// gen numbers the streams opened; ctx and lines are the current one's.
	gen      int
	ctx      context.Context
	lines    <-chan model.LogBatch
	id, name string

	rows  []logRow
	base  int // the absolute number of rows[0]
	bytes int
	// bottom is the absolute number of the last row shown while not
	// following; follow keeps it on the newest.
	bottom int
	follow bool
	// paused holds new batches aside, so the rows on screen stand still.
	paused  bool
	waiting []logRow
	wrap    bool
	// state says where the stream is: "connecting…", "following",
	// "ended: …".
	state string
	ended bool

	searching bool
	search    textinput.Model
	query     string // lower case
	// match is the absolute number of the row of the current match, -1
	// for none; matches counts the kept rows that match.
	match   int
	matches int
	keys    LogKeys
}

// NewLogsPane returns a closed logs pane; streams it opens end with
// parent at the latest.
func NewLogsPane(styles Styles, parent context.Context) *LogsPane {
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "search these logs"
	return &LogsPane{styles: styles, parent: parent, search: in, match: -1, keys: DefaultLogKeys()}
}

// SetSize gives the pane its size, its status line included.
func (p *LogsPane) SetSize(w, h int) {
	p.width, p.height = w, h
	p.search.Width = max(10, w-len(p.search.Prompt)-30)
}

// Open starts following a container's logs, ending any stream open.
func (p *LogsPane) Open(src LogSource, c model.Container) tea.Cmd {
	p.Close()
	p.gen++
	ctx, cancel := context.WithCancel(p.parent)
	p.ctx, p.cancel, p.lines = ctx, cancel, nil
	p.id, p.name = c.ID, c.DisplayName()
	p.rows, p.base, p.bytes, p.bottom, p.waiting = nil, 0, 0, 0, nil
	p.follow, p.paused, p.ended = true, false, false
	p.match, p.matches, p.query = -1, 0, ""
	p.search.SetValue("")
	p.state = "connecting…"
	if src == nil {
		p.state, p.ended = "no log source", true
		return nil
	}
	return startLogs(ctx, src, c.ID, p.gen)
}

// Close ends the stream: its context is cancelled, which closes the
// request to the engine; messages of it still in flight are ignored.
func (p *LogsPane) Close() {
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
	p.gen++
	p.searching = false
	p.search.Blur()
}

// Searching says the search input has the keys.
func (p *LogsPane) Searching() bool { return p.searching }

// Title names the pane and says where the stream is.
func (p *LogsPane) Title() string {
	state := p.state
	if strings.HasPrefix(state, "ended: ") {
		// The reason is the pane's last row; the title stays short.
		state = "ended"
	}
	t := "logs of " + p.name + " · " + state
	if p.paused {
		t = "logs of " + p.name + " · paused"
		lines, dropped := 0, 0
		for _, r := range p.waiting {
			if r.gap > 0 {
				dropped += r.gap
			} else {
				lines++
			}
		}
		switch {
		case dropped > 0:
			t += fmt.Sprintf(" (%d new, %d dropped)", lines, dropped)
		case lines > 0:
			t += fmt.Sprintf(" (%d new)", lines)
		}
	} else if !p.follow && !p.ended {
		t = "logs of " + p.name + " · scrolled back"
	}
	return t
}

// Update handles the stream's messages.
func (p *LogsPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case LogsStartedMsg:
		if msg.Gen != p.gen {
			return nil
		}
		if msg.Err != nil {
			p.state, p.ended = "error: "+msg.Err.Error(), true
			return nil
		}
		p.state, p.lines = "following", msg.Lines
		return waitForLogs(p.ctx, p.lines, p.gen, 0)
	case LogsMsg:
		if msg.Gen != p.gen {
			return nil
		}
		p.add(msg.Batch)
		if msg.Batch.Err != nil {
			p.state, p.ended = "ended: "+msg.Batch.Err.Error(), true
		}
		return waitForLogs(p.ctx, p.lines, p.gen, logFrame)
	case LogsEndedMsg:
		if msg.Gen != p.gen || p.ended {
			return nil
		}
		p.state, p.ended = "ended", true
	}
	return nil
}

// add keeps a batch: on screen, or aside while paused.
func (p *LogsPane) add(b model.LogBatch) {
	var rows []logRow
	if b.Dropped > 0 {
		rows = append(rows, logRow{gap: b.Dropped})
	}
	for _, l := range b.Lines {
		rows = append(rows, logRow{line: l})
	}
	if p.paused {
		p.waiting = append(p.waiting, rows...)
		if over := len(p.waiting) - maxLogRows; over > 0 {
			// The oldest waiting go, counted, as the adapter does.
			dropped := 0
			for _, r := range p.waiting[:over] {
				dropped += max(r.gap, 1)
			}
			rest := p.waiting[over:]
			if rest[0].gap > 0 {
				dropped += rest[0].gap
				rest = rest[1:]
			}
			p.waiting = append([]logRow{{gap: dropped}}, rest...)
		}
		return
	}
	p.append(rows)
}

func (p *LogsPane) append(rows []logRow) {
	for _, r := range rows {
		p.rows = append(p.rows, r)
		p.bytes += len(r.line.Text)
		if p.query != "" && p.matchesRow(r) {
			p.matches++
		}
	}
	// Trim by a quarter at a time, so a flood costs amortised O(1) a row.
	if len(p.rows) > maxLogRows+maxLogRows/4 || p.bytes > maxLogBytes {
		n := max(0, len(p.rows)-maxLogRows)
		left := p.bytes
		for _, r := range p.rows[:n] {
			left -= len(r.line.Text)
		}
		for n < len(p.rows)-1 && left > maxLogBytes*3/4 {
			left -= len(p.rows[n].line.Text)
			n++
		}
		p.trim(n)
	}
	if p.follow {
		p.bottom = p.last()
	}
}

// trim forgets the n oldest rows.
func (p *LogsPane) trim(n int) {
	for _, r := range p.rows[:n] {
		p.bytes -= len(r.line.Text)
		if p.query != "" && p.matchesRow(r) {
			p.matches--
		}
	}
	// A fresh slice, so the forgotten lines are not held by the array.
	p.rows = append([]logRow(nil), p.rows[n:]...)
	p.base += n
	p.bytes = max(p.bytes, 0)
	p.bottom = max(p.bottom, p.base)
	if p.match < p.base {
		p.match = -1
	}
}

// last is the absolute number of the newest row.
func (p *LogsPane) last() int { return p.base + len(p.rows) - 1 }

func (p *LogsPane) matchesRow(r logRow) bool {
	return r.gap == 0 && strings.Contains(strings.ToLower(r.line.Text), p.query)
}

func (p *LogsPane) bodyHeight() int { return max(1, p.height-1) }
