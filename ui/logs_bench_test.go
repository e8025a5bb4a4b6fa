package ui

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/topo-dev/topo/model"
)

// BenchmarkLogsFlood is one frame of a container printing 10,000 lines a
// second with its logs open beside 300 containers at 200×50: a batch of
// the 500 lines one logFrame (50 ms) gathers, taken by Update (the
// sanitiser included) and the whole screen drawn. Its time per op is the
// frame time; twenty of them a second is what the flood costs the loop,
// the rest of which is the lanes'. "event" is an engine event arriving
// during the flood: what the lanes wait for it to show.
func BenchmarkLogsFlood(b *testing.B) {
	profiles(b, func(b *testing.B) {
		const perFrame = 10000 / int(time.Second/logFrame)
		open := func(b *testing.B) *harness {
			hs := benchHarness(b)
			hs.m.cfg.Logs = newFakeLogs()
			hs.m.updateKeys()
			hs.openLogs()
			return hs
		}
		batch := func(first int) model.LogBatch {
			lines := make([]model.LogLine, perFrame)
			for i := range lines {
				lines[i] = model.LogLine{Stream: model.StreamStdout, Time: testNow,
					Text: fmt.Sprintf("flood %d GET /api/orders?page=%d 200 12ms user-agent=bench", first+i, i)}
			}
			return model.LogBatch{Lines: lines}
		}
		b.Run("batch", func(b *testing.B) {
			hs := open(b)
			n := 0
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				hs.m.Update(LogsMsg{Gen: hs.m.logs.gen, Batch: batch(n)})
				n += perFrame
				_ = hs.m.View()
			}
			// CPU rather than wall time: on a shared machine the wall
			// clock counts other processes' turns. The share of a core
			// is what twenty frames a second of it cost.
			perOp := (cpuTime() - start) / time.Duration(b.N)
			b.ReportMetric(float64(perOp)/1e6, "cpu-ms/op")
			b.ReportMetric(100*float64(perOp)*float64(time.Second/logFrame)/float64(time.Second), "%core")
		})
		b.Run("event", func(b *testing.B) {
			hs := open(b)
			for i := range 10 {
				hs.m.Update(LogsMsg{Gen: hs.m.logs.gen, Batch: batch(i * perFrame)})
			}
			c := hs.m.topo.Containers[ctrID("container-001")]
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				ev := model.Event{Type: model.EventContainer, Action: "health_status: healthy", ActorID: c.ID, Time: testNow, Container: &c}
				hs.m.Update(EngineUpdateMsg{Update: model.Update{Event: &ev}})
				_ = hs.m.View()
			}
			b.ReportMetric(float64((cpuTime()-start)/time.Duration(b.N))/1e6, "cpu-ms/op")
		})
	})
}

// cpuTime is the CPU time the process has used, all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
