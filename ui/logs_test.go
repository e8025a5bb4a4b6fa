package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/topo-dev/topo/model"
)

// fakeLogs is a fake of LogSource: every stream it opens reads the one
// channel the test writes, and it keeps each stream's context, so a test
// can see it cancelled.
type fakeLogs struct {
	mu   sync.Mutex
	ch   chan model.LogBatch
	ctxs []context.Context
	ids  []string
	tail int
}

func newFakeLogs() *fakeLogs { return &fakeLogs{ch: make(chan model.LogBatch, 64)} }

func (f *fakeLogs) Logs(ctx context.Context, id string, tail int) (<-chan model.LogBatch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctxs, f.ids, f.tail = append(f.ctxs, ctx), append(f.ids, id), tail
	return f.ch, nil
}

func (f *fakeLogs) stream(i int) (context.Context, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ctxs[i], f.ids[i]
}

// logsHarness is basicTopo at w×h with the fake log source.
func logsHarness(t testing.TB, w, h int) (*harness, *fakeLogs) {
	topo := basicTopo()
	logs := newFakeLogs()
	hs := newHarnessWith(t, w, h, &topo, func(c *Config) { c.Logs = logs })
	return hs, logs
}

// openLogs presses l and delivers the stream's opening as Bubble Tea
// would; it returns the command waiting for the first batch.
func (hs *harness) openLogs() tea.Cmd {
	hs.t.Helper()
	var next tea.Cmd
	for _, msg := range runCmd(hs.t, hs.sendOnly(keyRunes("l"))) {
		if started, ok := msg.(LogsStartedMsg); ok {
			next = hs.sendOnly(started)
		}
	}
	if next == nil {
		hs.t.Fatal("l opened no log stream")
	}
	return next
}

// feedLogs writes a batch to the fake's channel, runs the waiting command and
// delivers what it took; it returns the command waiting for the next.
func (hs *harness) feedLogs(f *fakeLogs, next tea.Cmd, b model.LogBatch) tea.Cmd {
	hs.t.Helper()
	f.ch <- b
	msgs := runCmd(hs.t, next)
	if len(msgs) != 1 {
		hs.t.Fatalf("the log wait gave %d messages", len(msgs))
	}
	return hs.sendOnly(msgs[0])
}

// logLines numbers n lines from first: odd ones on stdout ("out N"), even
// ones on stderr ("err N"), a second apart.
func logLines(first, n int) []model.LogLine {
	out := make([]model.LogLine, n)
	for i := range out {
		k := first + i
		l := model.LogLine{Stream: model.StreamStdout, Time: testNow.Add(time.Duration(k) * time.Second), Text: fmt.Sprintf("out %d", k)}
		if k%2 == 0 {
			l.Stream, l.Text = model.StreamStderr, fmt.Sprintf("err %d", k)
		}
		out[i] = l
	}
	return out
}

// goldenLogLines are what the goldens show: both streams, a long line, a
// Go stack trace's tab, a coloured logger, and a line that tries to clear
// the screen and retitle the terminal.
func goldenLogLines() []model.LogLine {
	lines := logLines(1, 6)
	at := testNow.Add(7 * time.Second)
	for _, text := range []string{
		"GET /api/orders?page=2 200 12ms " + strings.Repeat("a-long-query-parameter-value-", 8) + "end",
		"\tmain.main()",
		"\x1b[32mINFO\x1b[0m listening on :8080",
		"\x1b[2J\x1b]0;pwned\x07 still inert",
	} {
		lines = append(lines, model.LogLine{Stream: model.StreamStdout, Time: at, Text: text})
		at = at.Add(time.Second)
	}
	return lines
}

func TestLogsGolden(t *testing.T) {
	for _, sc := range []struct {
		name  string
		setup func(hs *harness, f *fakeLogs, next tea.Cmd)
	}{
		{"following", func(hs *harness, f *fakeLogs, next tea.Cmd) {}},
		{"searched_and_wrapped", func(hs *harness, f *fakeLogs, next tea.Cmd) {
			hs.press("/")
			hs.typeText("ERR 4")
			hs.press("enter", "w")
		}},
		{"paused_with_lines_waiting_and_a_gap", func(hs *harness, f *fakeLogs, next tea.Cmd) {
			hs.press("p")
			hs.feedLogs(f, next, model.LogBatch{Lines: logLines(20, 3), Dropped: 1200})
		}},
		{"help_lists_the_pane_keys", func(hs *harness, f *fakeLogs, next tea.Cmd) { hs.press("?") }},
		{"ended", func(hs *harness, f *fakeLogs, next tea.Cmd) {
			close(f.ch)
			for _, msg := range runCmd(t, next) {
				hs.sendOnly(msg)
			}
		}},
	} {
		for _, size := range goldenSizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size.w, size.h), func(t *testing.T) {
				hs, f := logsHarness(t, size.w, size.h)
				next := hs.openLogs()
				next = hs.feedLogs(f, next, model.LogBatch{Lines: goldenLogLines()})
				sc.setup(hs, f, next)
				v := hs.view()
				if strings.Contains(v, "\x1b") {
					t.Errorf("an escape character reached the screen: %q", v)
				}
				golden.RequireEqual(t, v)
			})
		}
	}
}

// TestLogsOpenFollowAndCloseCancels: l opens the selected container's
// logs (a tail, then following) with the keys on the pane; each batch
// shows at the bottom; esc closes it, and closing cancels the stream's
// context, so the adapter ends the request and the waiting command
// returns rather than hang.
func TestLogsOpenFollowAndCloseCancels(t *testing.T) {
	hs, f := logsHarness(t, 120, 40)
	next := hs.openLogs()
	ctx, id := f.stream(0)
	if id != ctrID("worker") || f.tail <= 0 {
		t.Errorf("l streamed %s with tail %d, want worker's last lines", id, f.tail)
	}
	if !hs.m.on(screenLogs) || hs.m.focus != paneLogs {
		t.Fatalf("after l: screens %v, focus %v; want the logs focused", hs.m.screens, hs.m.focus)
	}
	next = hs.feedLogs(f, next, model.LogBatch{Lines: logLines(1, 50)})
	if v := hs.view(); !strings.Contains(v, "err 50") || strings.Contains(v, "out 1 ") {
		t.Errorf("after 50 lines the pane does not end on the newest:\n%s", v)
	}
	next = hs.feedLogs(f, next, model.LogBatch{Lines: logLines(51, 2)})
	if v := hs.view(); !strings.Contains(v, "err 52") {
		t.Errorf("a followed line is not shown:\n%s", v)
	}
	hs.press("down")
	if got := hs.selected(); got != "worker" {
		t.Errorf("an arrow in the logs moved the lanes' selection to %q", got)
	}

	hs.press("esc")
	if hs.m.on(screenLogs) || hs.m.focus != paneLanes {
		t.Errorf("esc left screens %v, focus %v", hs.m.screens, hs.m.focus)
	}
	if ctx.Err() == nil {
		t.Fatal("closing the logs did not cancel the stream's context")
	}
	// The wait under way ends with the context, and what it says is
	// dropped: it belongs to a stream closed.
	msgs := runCmd(t, next)
	if len(msgs) != 1 {
		t.Fatalf("the wait gave %v", msgs)
	}
	if _, ok := msgs[0].(LogsEndedMsg); !ok {
		t.Errorf("the wait after close gave %T, want LogsEndedMsg", msgs[0])
	}
	if cmd := hs.sendOnly(msgs[0]); cmd != nil {
		t.Errorf("a closed stream's end re-armed a wait")
	}
	if cmd := hs.sendOnly(LogsMsg{Gen: hs.m.logs.gen - 1, Batch: model.LogBatch{Lines: logLines(99, 1)}}); cmd != nil {
		t.Errorf("a batch of a closed stream re-armed a wait")
	}
}

// TestLogsOfAnotherContainerEndTheFirst: l on another container (after tab
// back to the lanes) ends the first stream and shows the second.
func TestLogsOfAnotherContainerEndTheFirst(t *testing.T) {
	hs, f := logsHarness(t, 200, 50)
	next := hs.openLogs()
	hs.feedLogs(f, next, model.LogBatch{Lines: logLines(1, 5)})
	hs.press("/")
	hs.typeText("out")
	hs.press("enter")
	first, _ := f.stream(0)
	for hs.m.focus != paneLanes {
		hs.press("tab")
	}
	hs.press("right")
	hs.openLogs()
	if first.Err() == nil {
		t.Error("the first stream is still open")
	}
	if p := hs.m.logs; p.query != "" || p.search.Value() != "" || len(p.rows) != 0 {
		t.Errorf("the second stream kept the first's search %q or its %d rows", p.search.Value(), len(p.rows))
	}
	if _, id := f.stream(1); id != ctrID(hs.selected()) || !strings.Contains(hs.m.logs.Title(), "logs of "+hs.selected()) {
		t.Errorf("second stream of %s, title %q; want %s", id, hs.m.logs.Title(), hs.selected())
	}
}

// TestLogsSearchPauseWrapAndScroll: / finds a line and stops following
// there, n and N walk the matches; p holds new lines aside (the rows stand
// still) until p again; w wraps a long line; G follows again.
func TestLogsSearchPauseWrapAndScroll(t *testing.T) {
	hs, f := logsHarness(t, 120, 40)
	next := hs.openLogs()
	next = hs.feedLogs(f, next, model.LogBatch{Lines: logLines(1, 200)})

	hs.press("/")
	if !hs.m.logs.Searching() {
		t.Fatal("/ in the logs did not start a search")
	}
	if hs.m.mode == modeFilter {
		t.Fatal("/ in the logs opened the lanes' filter")
	}
	hs.typeText("out 1")
	hs.press("enter")
	p := hs.m.logs
	// "out 1", "out 11", "out 13", ..., "out 199": the newest first.
	if p.matches != 56 || p.rows[p.match-p.base].line.Text != "out 199" || p.follow {
		t.Fatalf("search: %d matches, at %q, follow %v; want 56, out 199, not following", p.matches, p.rows[p.match-p.base].line.Text, p.follow)
	}
	hs.press("n")
	if got := p.rows[p.match-p.base].line.Text; got != "out 197" {
		t.Errorf("n went to %q, want out 197", got)
	}
	hs.press("N", "N")
	if got := p.rows[p.match-p.base].line.Text; got != "out 199" {
		t.Errorf("N N went to %q, want out 199 (no newer)", got)
	}
	if v := hs.view(); !strings.Contains(v, "56 of 56") {
		t.Errorf("the status line does not count the matches:\n%s", v)
	}

	hs.press("G")
	if !p.follow {
		t.Error("G did not follow again")
	}
	hs.press("p")
	before := hs.view()
	next = hs.feedLogs(f, next, model.LogBatch{Lines: logLines(201, 3)})
	if v := hs.view(); strings.Contains(v, "out 201") || !strings.Contains(hs.m.logs.Title(), "paused (3 new)") {
		t.Errorf("paused, a new line showed or the title lacks the count: %q\n%s", hs.m.logs.Title(), v)
	}
	if after := hs.view(); logRowsOf(after) != logRowsOf(before) {
		t.Errorf("paused, the rows moved")
	}
	hs.press("p")
	if v := hs.view(); !strings.Contains(v, "out 203") {
		t.Errorf("resumed, the lines held are not shown:\n%s", v)
	}

	long := strings.Repeat("x", 300) + " the end"
	hs.feedLogs(f, next, model.LogBatch{Lines: []model.LogLine{{Stream: model.StreamStdout, Time: testNow, Text: long}}})
	if v := hs.view(); strings.Contains(v, "the end") {
		t.Errorf("unwrapped, a 300-character line was shown whole")
	}
	hs.press("w")
	if v := hs.view(); !strings.Contains(v, "the end") {
		t.Errorf("wrapped, the end of a long line is not shown:\n%s", v)
	}
	hs.press("up")
	if p.follow {
		t.Error("scrolling up still follows")
	}
	hs.press("down")
	if !p.follow {
		t.Error("scrolling back to the newest line does not follow again")
	}
}

// logRowsOf is the logs pane's rows in a screen (the lines with a time).
func logRowsOf(v string) string {
	var rows []string
	for _, line := range strings.Split(v, "\n") {
		if strings.HasPrefix(line, "15:") {
			rows = append(rows, line)
		}
	}
	return strings.Join(rows, "\n")
}

// TestLogsKeepBoundedLines: a flood is kept to the last maxLogRows lines
// (a quarter more at most), in order, and the adapter's dropped lines are
// marked where they were lost.
func TestLogsKeepBoundedLines(t *testing.T) {
	hs, f := logsHarness(t, 120, 40)
	next := hs.openLogs()
	total := 0
	for i := range 20 {
		b := model.LogBatch{Lines: logLines(total+1, 1000)}
		if i == 10 {
			b.Dropped = 500
		}
		total += 1000
		next = hs.feedLogs(f, next, b)
		if n := len(hs.m.logs.rows); n > maxLogRows+maxLogRows/4 {
			t.Fatalf("after %d lines the pane keeps %d rows", total, n)
		}
	}
	rows := hs.m.logs.rows
	if last := rows[len(rows)-1].line.Text; last != "err 20000" {
		t.Errorf("the newest row is %q, want err 20000", last)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].gap == 0 && rows[i-1].gap == 0 && rows[i].line.Time.Before(rows[i-1].line.Time) {
			t.Fatalf("rows out of order at %d: %q after %q", i, rows[i].line.Text, rows[i-1].line.Text)
		}
	}
	gaps := 0
	for _, r := range rows {
		gaps += r.gap
	}
	if total-len(rows)+gaps < 0 || hs.m.logs.base+len(rows) != total+1 {
		t.Errorf("kept %d rows from %d, %d lines marked dropped", len(rows), hs.m.logs.base, gaps)
	}
}

// TestTidyLogText: tabs to spaces, colour sequences gone, anything else a
// terminal would obey left for the sanitiser.
func TestTidyLogText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                         "plain",
		"\tat main.go:12":               "        at main.go:12",
		"ab\tc":                         "ab      c",
		"\x1b[1;32mOK\x1b[0m done":      "OK done",
		"\x1b[2J\x1b]0;title\x07 stays": "\x1b[2J\x1b]0;title\x07 stays",
	} {
		if got := tidyLogText(in); got != want {
			t.Errorf("tidyLogText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRightIsTheArrowOnly: l no longer moves right (it is the logs); the
// arrow does.
func TestRightIsTheArrowOnly(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.press("l")
	if got := hs.selected(); got != "worker" {
		t.Errorf("l moved the selection to %q", got)
	}
	hs.press("right")
	if got := hs.selected(); got != "proxy" {
		t.Errorf("right moved the selection to %q, want proxy", got)
	}
}

// TestNoKeyBoundTwice: in each context (the lanes, the storage lanes, the
// logs pane with the keys, a question asked), no key is bound to two
// enabled bindings, so help never offers one key for two things.
func TestNoKeyBoundTwice(t *testing.T) {
	hs, _ := logsHarness(t, 120, 40)
	hs.m.cfg.Volumes = &fakeSizer{}
	check := func(context string) {
		t.Helper()
		hs.m.updateKeys()
		seen := map[string]string{}
		bindings := []key.Binding{hs.m.keys.Confirm, hs.m.keys.Deny}
		for _, col := range hs.m.keys.FullHelp() {
			bindings = append(bindings, col...)
		}
		for _, b := range bindings {
			if !b.Enabled() {
				continue
			}
			for _, k := range b.Keys() {
				if other, ok := seen[k]; ok {
					t.Errorf("%s: %q is bound to %q and %q", context, k, other, b.Help().Desc)
				}
				seen[k] = b.Help().Desc
			}
		}
	}
	check("lanes")
	hs.press("v")
	check("storage lanes")
	hs.press("esc")
	hs.openLogs()
	check("logs pane")
	hs.press("tab")
	check("logs open, lanes focused")
	hs.press("x")
	check("a question")
}

// TestLogsZoomedTabStaysOnWhatIsShown: on a narrow terminal the logs
// cover the lanes and the panels, so tab moves between the logs and the
// event log only, never to a pane out of sight.
func TestLogsZoomedTabStaysOnWhatIsShown(t *testing.T) {
	hs, _ := logsHarness(t, 80, 24)
	hs.openLogs()
	if hs.m.lanesScreen() != screenLogs {
		t.Fatalf("at 80×24 the logs are not zoomed: %v", hs.m.lanesScreen())
	}
	hs.press("tab")
	if hs.m.focus != paneLog {
		t.Errorf("tab from the zoomed logs focused %v, want the event log", hs.m.focus)
	}
	hs.press("tab")
	if hs.m.focus != paneLogs {
		t.Errorf("tab from the event log focused %v, want the logs", hs.m.focus)
	}
}

// TestScreenOverZoomedLogsTakesTheKeys: on a narrow terminal, v over the
// zoomed logs shows the storage lanes, and the arrows move there rather
// than scroll logs out of sight; esc brings the logs back.
func TestScreenOverZoomedLogsTakesTheKeys(t *testing.T) {
	topo := storageTopo()
	logs := newFakeLogs()
	hs := newHarnessWith(t, 80, 24, &topo, func(c *Config) { c.Logs = logs })
	hs.openLogs()
	hs.press("v")
	if hs.m.lanesScreen() != screenStorage || hs.m.focus != paneLanes {
		t.Fatalf("v over the zoomed logs: showing %v, focus %v", hs.m.lanesScreen(), hs.m.focus)
	}
	hs.press("left")
	if c, _ := hs.m.selected(); c.Name != "api" {
		t.Errorf("left in the storage lanes selected %q, want api", c.Name)
	}
	hs.press("esc")
	if hs.m.lanesScreen() != screenLogs || hs.m.focus != paneLogs {
		t.Errorf("esc did not bring the logs back with the keys: %v, focus %v", hs.m.lanesScreen(), hs.m.focus)
	}
}
