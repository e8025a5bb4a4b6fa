package cli

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/record"
	"github.com/topo-dev/topo/ui"
)

type scaleDemo struct{ fakeDemo }

func (scaleDemo) ScaleBy(ctx context.Context, service string, delta int, progress func(ui.DemoStep)) (int, error) {
	progress(ui.DemoStep{Key: "s", Title: "scale " + service, State: ui.DemoStepRunning, Fraction: -1})
	return 3, context.Canceled
}

// TestReplayEntriesAreTheLiveMessages: what --record wrote of each feed
// comes back as the message that feed sends the interface, in order: the
// demo's operations with their kind, service and delta, the traffic's
// snapshots with their target and the run's end, a cancellation as one.
func TestReplayEntriesAreTheLiveMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	rec, err := openRecording(path, "dev", docker.Info{Host: "unix:///x.sock"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	updates := make(chan model.Update, 1)
	cfg := ui.Config{Updates: updates, Demo: scaleDemo{}, Traffic: fakeTraffic{}}
	rec.wrap(ctx, &cfg)
	topo := model.NewTopology()
	updates <- model.Update{Snapshot: &topo}
	<-cfg.Updates
	if _, err := cfg.Demo.Up(ctx, func(ui.DemoStep) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Demo.ScaleBy(ctx, "app", -1, func(ui.DemoStep) {}); err != context.Canceled {
		t.Fatalf("ScaleBy = %v", err)
	}
	out := make(chan ui.TrafficSnapshot, 1)
	_ = cfg.Traffic.Run(ctx, out)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := record.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries := replayEntries(r)
	if len(entries) != len(r.Entries) {
		t.Fatalf("%d entries from %d lines", len(entries), len(r.Entries))
	}
	var msgs []any
	for _, e := range entries {
		msgs = append(msgs, e.Msg)
	}
	if u, ok := msgs[0].(ui.EngineUpdateMsg); !ok || u.Update.Snapshot == nil {
		t.Fatalf("entry 1 = %#v, want the snapshot", msgs[0])
	}
	step, ok := msgs[1].(ui.DemoReplayMsg)
	if !ok || step.Op != ui.DemoDeploy || step.Step == nil || step.Step.State != ui.DemoStepDone || step.Step.Key != "lb" {
		t.Errorf("entry 2 = %#v, want the deploy's step", msgs[1])
	}
	if up, ok := msgs[2].(ui.DemoReplayMsg); !ok || up.Done == nil || up.Done.URL != "http://127.0.0.1:8080" {
		t.Errorf("entry 3 = %#v, want the deploy's end", msgs[2])
	}
	scale, ok := msgs[3].(ui.DemoReplayMsg)
	if !ok || scale.Op != ui.DemoScale || scale.Service != "app" || scale.Delta != -1 || scale.Step == nil || scale.Step.Fraction != -1 {
		t.Errorf("entry 4 = %#v, want the scale's step", msgs[3])
	}
	if end, ok := msgs[4].(ui.DemoReplayMsg); !ok || end.Done == nil || end.Done.Err != context.Canceled || end.Done.Count != 3 {
		t.Errorf("entry 5 = %#v, want the scale cancelled", msgs[4])
	}
	if s, ok := msgs[5].(ui.TrafficReplayMsg); !ok || s.Snapshot == nil || s.Target != "lb" || s.Snapshot.TotalRequests != 40 {
		t.Errorf("entry 6 = %#v, want the traffic's snapshot", msgs[5])
	}
	if s, ok := msgs[6].(ui.TrafficReplayMsg); !ok || !s.Stopped || s.Err == nil || s.Err.Error() != "stopped" {
		t.Errorf("entry 7 = %#v, want the traffic's end with its error", msgs[6])
	}
}
