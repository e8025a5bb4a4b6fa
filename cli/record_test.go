package cli

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/record"
	"github.com/topo-dev/topo/ui"
)

type fakeDemo struct{ ui.DemoDeployer }

func (fakeDemo) Up(ctx context.Context, progress func(ui.DemoStep)) (string, error) {
	progress(ui.DemoStep{Key: "lb", Title: "start the load balancer", State: ui.DemoStepDone})
	return "http://127.0.0.1:8080", nil
}

type fakeTraffic struct{}

func (fakeTraffic) Target() string { return "lb" }

func (fakeTraffic) Run(ctx context.Context, out chan<- ui.TrafficSnapshot) error {
	defer close(out)
	out <- ui.TrafficSnapshot{Rate: 20, PerSecond: 19.5, TotalRequests: 40}
	return errors.New("stopped")
}

// TestRecordTeesEveryFeed: --record passes every feed on unchanged and in
// order, and the file holds each of them.
func TestRecordTeesEveryFeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	rec, err := openRecording(path, "dev", docker.Info{Host: "unix:///x.sock"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	updates := make(chan model.Update, 4)
	clusters := make(chan model.Cluster, 4)
	cfg := ui.Config{Updates: updates, Cluster: clusters, Demo: fakeDemo{}, Traffic: fakeTraffic{}}
	rec.wrap(ctx, &cfg)

	topo := model.NewTopology()
	topo.Networks["n"] = model.Network{ID: "n", Name: "front"}
	updates <- model.Update{Snapshot: &topo}
	updates <- model.Update{Event: &model.Event{Type: "container", Action: "destroy", ActorID: "gone"}}
	close(updates)
	clusters <- model.Cluster{ID: "swarm1", Stale: errors.New("manager lost")}
	for _, want := range []string{"snapshot", "event"} {
		select {
		case u := <-cfg.Updates:
			if (want == "snapshot") != (u.Snapshot != nil) {
				t.Fatalf("got %+v, want a %s", u, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the tee did not pass the %s on", want)
		}
	}
	if c := <-cfg.Cluster; c.ID != "swarm1" {
		t.Fatalf("cluster = %+v", c)
	}
	if url, err := cfg.Demo.Up(ctx, func(ui.DemoStep) {}); err != nil || url == "" {
		t.Fatalf("Up = %q, %v", url, err)
	}
	out := make(chan ui.TrafficSnapshot, 1)
	if err := cfg.Traffic.Run(ctx, out); err == nil || err.Error() != "stopped" {
		t.Fatalf("Run = %v", err)
	}
	if s, ok := <-out; !ok || s.TotalRequests != 40 {
		t.Fatalf("traffic snapshot = %+v, %v", s, ok)
	}
	if _, ok := <-out; ok {
		t.Fatal("the traffic channel was not closed after the source ended")
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	r, err := record.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range r.Entries {
		kinds = append(kinds, e.Kind)
	}
	got := strings.Join(kinds, " ")
	for _, k := range []string{"snapshot", "event", "cluster", "demo", "traffic"} {
		if !strings.Contains(got, k) {
			t.Errorf("the recording lacks a %s line: %s", k, got)
		}
	}
	end := r.End()
	if end.Cluster == nil || end.Cluster.Stale == nil || end.Cluster.Stale.Error() != "manager lost" {
		t.Errorf("cluster as recorded = %+v", end.Cluster)
	}
	if !strings.Contains(string(end.Demo), `"done":true`) || !strings.Contains(string(r.Header.Engine), "x.sock") {
		t.Errorf("demo = %s, engine = %s", end.Demo, r.Header.Engine)
	}
}
