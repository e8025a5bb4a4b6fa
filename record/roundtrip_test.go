package record_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/record"
)

// TestRoundTripEqualsSync records a real engine's watch while a test
// changes it (a network, a container started, connected to a second
// network, stopped, another started), reads the file back, and checks the
// state at its end is what engine.Sync reads: the recording holds every
// change with what was read for it.
func TestRoundTripEqualsSync(t *testing.T) {
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	engine, err := docker.Connect("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	path := filepath.Join(t.TempDir(), "session.jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	w, err := record.NewWriter(f, "topo", "test", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	updates := make(chan model.Update, 256)
	go engine.Watch(ctx, updates)
	// live is what topo itself would hold: every update applied as the
	// interface applies it.
	var mu sync.Mutex
	live := model.NewTopology()
	go func() {
		for u := range updates {
			if err := w.Update(time.Now(), u); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			switch {
			case u.Snapshot != nil:
				live = *u.Snapshot
			case u.Event != nil:
				live.Apply(*u.Event)
			case u.Refresh != nil:
				live.Refresh(*u.Refresh)
			}
			mu.Unlock()
		}
	}()
	// mine is the test's share of a topology, as exported, so that other
	// work on the shared engine does not count.
	mine := func(topo model.Topology) model.Export {
		ex := topo.Export()
		var out model.Export
		for _, n := range ex.Networks {
			if strings.HasPrefix(n.Name, env.Prefix) {
				out.Networks = append(out.Networks, n)
			}
		}
		for _, c := range ex.Containers {
			if strings.HasPrefix(c.Name, env.Prefix) {
				out.Containers = append(out.Containers, c)
			}
		}
		return out
	}
	ended := func() record.State {
		rec, err := record.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return rec.End()
	}
	dockertest.Eventually(t, 20*time.Second, func() (bool, string) {
		return ended().Applied > 0, "no snapshot recorded"
	})

	front := env.CreateNetwork(t, "front", nil)
	back := env.CreateNetwork(t, "back", nil)
	a := env.Run(t, dockertest.ContainerSpec{Suffix: "a", Image: image, Networks: []string{front}, Start: true})
	if err := env.Client.NetworkConnect(ctx, back, a, nil); err != nil {
		t.Fatal(err)
	}
	timeout := 0
	if err := env.Client.ContainerStop(ctx, a, container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	env.Run(t, dockertest.ContainerSpec{Suffix: "b", Image: image, Networks: []string{back}, Start: true})

	dockertest.Eventually(t, 30*time.Second, func() (bool, string) {
		st := ended()
		synced, err := engine.Sync(ctx)
		if err != nil {
			return false, err.Error()
		}
		mu.Lock()
		liveJSON := exportJSON(mine(live), true)
		mu.Unlock()
		got, want := mine(st.Topology), mine(synced)
		if len(want.Containers) != 2 || len(want.Networks) != 2 {
			return false, "the engine does not show the test's objects yet"
		}
		// Compared as `topo snapshot --json` prints them: a nil and an
		// empty list are the same document.
		if g := exportJSON(got, true); g != liveJSON {
			return false, "recorded end differs from the state the watch built:\n got " + g + "\nlive " + liveJSON
		}
		// The watch inspects what changed, which fills the aliases that
		// Sync's listing does not read; the rest must agree.
		if g, w := exportJSON(got, false), exportJSON(want, false); g != w {
			return false, "recorded end differs from engine.Sync:\n got " + g + "\nwant " + w
		}
		return true, ""
	})

	rec, err := record.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	for _, e := range rec.Entries {
		if e.Update != nil && e.Update.Event != nil {
			events++
		}
	}
	if events < 5 {
		t.Fatalf("recorded %d events, want at least the 5 changes made", events)
	}
	t.Logf("recorded %d lines, %d bytes; %d events", rec.Lines, rec.Bytes, events)
}

func exportJSON(ex model.Export, aliases bool) string {
	if !aliases {
		var cs []model.ExportContainer
		for _, c := range ex.Containers {
			var nets []model.Endpoint
			for _, n := range c.Networks {
				n.Aliases = nil
				nets = append(nets, n)
			}
			c.Networks = nets
			cs = append(cs, c)
		}
		ex.Containers = cs
	}
	b, _ := json.Marshal(ex)
	return string(b)
}
