package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/topo-dev/topo/internal/testenv"
)

// fakeTraffic sends its snapshots, then waits for its context, as the real
// generator does; err makes it fail at once instead.
type fakeTraffic struct {
	snaps []TrafficSnapshot
	err   error
}

func (f *fakeTraffic) Target() string { return "http://127.0.0.1:8080" }

func (f *fakeTraffic) Run(ctx context.Context, out chan<- TrafficSnapshot) error {
	defer close(out)
	if f.err != nil {
		return f.err
	}
	for _, s := range f.snaps {
		select {
		case out <- s:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	<-ctx.Done()
	return ctx.Err()
}

var (
	twoInstances = TrafficSnapshot{
		At: demoNow, Rate: 20, PerSecond: 20,
		Instances:     []TrafficInstance{{"app-1", 10.3}, {"app-2", 9.7}},
		P50:           3200 * time.Microsecond,
		P95:           12 * time.Millisecond,
		TotalRequests: 1234,
	}
	afterKill = TrafficSnapshot{
		At: demoNow, Rate: 20, PerSecond: 19.3,
		Instances: []TrafficInstance{{"app-1", 9.7}, {"app-2", 1.3}, {"app-3", 6.7}},
		ErrorRate: 0.083, Errors: 5,
		P50: 4 * time.Millisecond, P95: 310 * time.Millisecond,
		TotalRequests: 2480, TotalErrors: 5,
		LastError: "502 Bad Gateway",
	}
	nobody = TrafficSnapshot{At: demoNow, Rate: 20, PerSecond: 20, ErrorRate: 1, Errors: 60, TotalRequests: 60, TotalErrors: 60,
		LastError: `Get "http://127.0.0.1:8080/search?q=go": dial tcp 127.0.0.1:8080: connect: connection refused`}
)

func TestTrafficPaneGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		w, h  int
		setup func(p *TrafficPane)
	}{
		{"off", 80, 4, func(p *TrafficPane) {}},
		{"waiting", 80, 4, func(p *TrafficPane) { p.Toggle(&fakeTraffic{}) }},
		{"two_instances", 80, 4, func(p *TrafficPane) {
			p.Toggle(&fakeTraffic{})
			p.Update(TrafficMsg{Seq: p.seq, Snapshot: twoInstances})
		}},
		{"failover", 80, 6, func(p *TrafficPane) {
			p.Toggle(&fakeTraffic{})
			p.Update(TrafficMsg{Seq: p.seq, Snapshot: afterKill})
		}},
		{"failover_narrow_short", 40, 3, func(p *TrafficPane) {
			p.Toggle(&fakeTraffic{})
			p.Update(TrafficMsg{Seq: p.seq, Snapshot: afterKill})
		}},
		{"no_instance_answers", 80, 5, func(p *TrafficPane) {
			p.Toggle(&fakeTraffic{})
			p.Update(TrafficMsg{Seq: p.seq, Snapshot: nobody})
		}},
		{"stopped_keeps_last", 80, 4, func(p *TrafficPane) {
			p.Toggle(&fakeTraffic{})
			p.Update(TrafficMsg{Seq: p.seq, Snapshot: twoInstances})
			p.Update(TrafficStoppedMsg{Seq: p.seq})
		}},
		{"failed_to_start", 80, 3, func(p *TrafficPane) {
			p.Toggle(&fakeTraffic{})
			p.Update(TrafficStoppedMsg{Seq: p.seq, Err: errors.New(`load balancer URL "127.0.0.1" is not an http:// address such as http://127.0.0.1:8080`)})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewTrafficPane(demoStyles(), context.Background())
			t.Cleanup(p.Stop)
			p.SetSize(tc.w, tc.h)
			tc.setup(p)
			v := p.View()
			checkBox(t, v, tc.w, tc.h)
			golden.RequireEqual(prefixedTB{t, "traffic_" + tc.name}, v)
		})
	}
}

// nextMsg runs a command with a deadline.
func nextMsg(t *testing.T, cmd tea.Cmd) tea.Msg {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command to run")
	}
	c := make(chan tea.Msg, 1)
	go func() { c <- cmd() }()
	select {
	case m := <-c:
		return m
	case <-time.After(testenv.Patience(3 * time.Second)):
		t.Fatal("the command delivered nothing in time")
		return nil
	}
}

func TestTrafficPaneToggle(t *testing.T) {
	p := NewTrafficPane(demoStyles(), context.Background())
	p.SetSize(80, 6)
	src := &fakeTraffic{snaps: []TrafficSnapshot{twoInstances, afterKill}}
	cmd := p.Toggle(src)
	if !p.Running() {
		t.Fatal("not running after the first toggle")
	}
	for _, want := range []TrafficSnapshot{twoInstances, afterKill} {
		m, ok := nextMsg(t, cmd).(TrafficMsg)
		if !ok || m.Snapshot.TotalRequests != want.TotalRequests {
			t.Fatalf("got %#v, want the snapshot with %d requests", m, want.TotalRequests)
		}
		cmd = p.Update(m)
	}
	if !strings.Contains(p.View(), "app-3") {
		t.Errorf("view lacks the latest snapshot:\n%s", p.View())
	}
	if p.Toggle(src) != nil {
		t.Error("stopping returned a command")
	}
	m, ok := nextMsg(t, cmd).(TrafficStoppedMsg)
	if !ok || m.Err != nil {
		t.Fatalf("after stopping got %#v, want TrafficStoppedMsg without error", m)
	}
	p.Update(m)
	if p.Running() || !strings.Contains(p.View(), "last run") {
		t.Errorf("after stopping: running %v\n%s", p.Running(), p.View())
	}
}

func TestTrafficPaneSourceFails(t *testing.T) {
	p := NewTrafficPane(demoStyles(), context.Background())
	p.SetSize(80, 4)
	cmd := p.Toggle(&fakeTraffic{err: errors.New("no load balancer URL")})
	m, ok := nextMsg(t, cmd).(TrafficStoppedMsg)
	if !ok || m.Err == nil {
		t.Fatalf("got %#v, want TrafficStoppedMsg with the error", m)
	}
	p.Update(m)
	if p.Running() || !strings.Contains(p.View(), "traffic stopped: no load balancer URL") {
		t.Errorf("view:\n%s", p.View())
	}
}

func TestTrafficPaneIgnoresStaleRuns(t *testing.T) {
	p := NewTrafficPane(demoStyles(), context.Background())
	p.SetSize(80, 4)
	p.Toggle(&fakeTraffic{})
	defer p.Stop()
	if cmd := p.Update(TrafficMsg{Seq: p.seq - 1, Snapshot: afterKill}); cmd != nil || strings.Contains(p.View(), "app-3") {
		t.Error("a snapshot of an earlier run was shown")
	}
	p.Update(TrafficStoppedMsg{Seq: p.seq - 1, Err: errors.New("old")})
	if !p.Running() {
		t.Error("an earlier run's end stopped the current one")
	}
}
