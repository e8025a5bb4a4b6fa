package ui

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/record"
)

// replayEvents is the size of the replay burst.
const replayEvents = 10_000

// burstRecording writes a recording of benchTopology followed by
// replayEvents engine events, each with the state read for it, as the
// adapter sends them: stops and starts, health changes, disconnects and
// reconnects, and short-lived containers created and destroyed.
func burstRecording(tb testing.TB) []byte {
	tb.Helper()
	topo := benchTopology()
	var buf bytes.Buffer
	start := testNow
	w, err := record.NewWriter(&buf, "topo", "bench", start, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.Update(start, model.Update{Snapshot: &topo}); err != nil {
		tb.Fatal(err)
	}
	ids := make([]string, 0, len(topo.Containers))
	for _, n := range topo.OrderedNetworks(false) {
		for _, c := range topo.Containers {
			if _, ok := c.Endpoints[n.ID]; ok {
				ids = append(ids, c.ID)
			}
		}
	}
	cur := func(id string) model.Container { return cloneContainer(topo.Containers[id]) }
	nets := topo.OrderedNetworks(false)
	for i := range replayEvents {
		at := start.Add(time.Duration(i+1) * time.Millisecond)
		ev := model.Event{Time: at, Type: model.EventContainer}
		id := ids[i*7%len(ids)]
		switch i % 5 {
		case 0: // a stop, then (i%5==1) its start
			c := cur(id)
			c.State, c.ExitCode = model.StateExited, 137
			ev.Action, ev.ActorID, ev.Container = "die", id, &c
		case 1:
			id = ids[(i-1)*7%len(ids)]
			c := cur(id)
			c.State, c.StartedAt = model.StateRunning, at
			ev.Action, ev.ActorID, ev.Container = "start", id, &c
		case 2:
			c := cur(id)
			c.Health = model.HealthUnhealthy
			if i%2 == 0 {
				c.Health = model.HealthHealthy
			}
			ev.Action, ev.ActorID, ev.Container = "health_status: "+string(c.Health), id, &c
		case 3: // a short-lived container on one lane, created then destroyed
			n := nets[i%len(nets)]
			c := model.Container{ID: fmt.Sprintf("tmp%05d", i), Name: fmt.Sprintf("tmp-%05d", i), Image: "img",
				State: model.StateRunning, Created: at, StartedAt: at,
				Endpoints: map[string]model.Endpoint{n.ID: {NetworkID: n.ID, NetworkName: n.Name, IPv4: "10.9.0.2"}}}
			ev.Action, ev.ActorID, ev.Container = "start", c.ID, &c
		case 4:
			ev.Action, ev.ActorID = "destroy", fmt.Sprintf("tmp%05d", i-1)
		}
		if err := w.Update(at, model.Update{Event: &ev}); err != nil {
			tb.Fatal(err)
		}
	}
	return buf.Bytes()
}

// BenchmarkReplay10k replays the burst at full speed through the replay's
// player (topo replay): every entry stepped with ], which applies it as
// the message the live watch sends, and a frame drawn after each, so the
// worst case of one frame per event (a paced replay folds events due
// together into one frame). Reported: frames drawn per second, the longest
// frame, the heap the model holds at the end, and the recording's bytes
// per event.
func BenchmarkReplay10k(b *testing.B) {
	profiles(b, func(b *testing.B) {
		data := burstRecording(b)
		rec, err := record.Read(bytes.NewReader(data))
		if err != nil || rec.Stopped != nil || len(rec.Entries) != replayEvents+1 {
			b.Fatalf("read the burst: %v %v, %d entries", err, rec.Stopped, len(rec.Entries))
		}
		b.ReportAllocs()
		var longest time.Duration
		var frames int
		var elapsed time.Duration
		var heap uint64
		replay := &Replay{Start: rec.Header.Start, Speed: 1}
		for _, e := range rec.Entries {
			replay.Entries = append(replay.Entries, ReplayEntry{Offset: rec.Offset(e), Msg: EngineUpdateMsg{Update: *e.Update}})
		}
		step := keyRunes("]")
		for b.Loop() {
			hs := newReplayHarness(b, 200, 50, replay)
			hs.rkeys(" ") // paused: the steps are the only pace
			began := time.Now()
			for range replay.Entries {
				t0 := time.Now()
				hs.m.Update(step)
				_ = hs.m.View()
				longest = max(longest, time.Since(t0))
				frames++
			}
			elapsed += time.Since(began)
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			heap = max(heap, ms.HeapAlloc)
			runtime.KeepAlive(hs)
		}
		b.ReportMetric(float64(frames)/elapsed.Seconds(), "frames/s")
		b.ReportMetric(float64(longest.Microseconds())/1000, "longest-ms")
		b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(len(data)-int(rec.Entries[1].Offset))/replayEvents, "bytes/event")
	})
}
