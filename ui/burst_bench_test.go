package ui

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// burstEvents is the size of the burst BenchmarkEventBurst applies.
const burstEvents = 10_000

// BenchmarkEventBurst runs what topo runs, Bubble Tea's event loop with
// the on-demand renderer of third_party/bubbletea at topo's frame rate
// (60), on the set-up (300 containers over 5 networks, 200x50),
// fed through the watch's channel as main feeds it: a snapshot, then a
// burst of 10,000 start/die events as fast as the channel takes them.
// It reports (issue 18):
//
//   - first-frame-ms: from the program's start to the first frame drawn
//     with the snapshot (status "● live");
//   - event-screen-p50-ms, -p90-ms, -max-ms: from an event entering the
//     channel to the first frame drawn after the view that applied it;
//   - max-frame-gap-ms: the longest time between two frames while events
//     were waiting to be drawn;
//   - burst-ms: from the first event sent to the last one on screen;
//   - frames: how many frames the burst took;
//   - rss-MiB: the benchmark process's peak RSS (VmHWM; the test binary,
//     so an upper bound on topo's).
//
// The terminal is a writer that notes when each frame arrives. A frame is
// taken to show the events the view written just before it had applied;
// Bubble Tea writes the view right after View returns, so this errs by
// that instant at most. Run with -benchtime 1x: one iteration is a burst.
func BenchmarkEventBurst(b *testing.B) {
	var last burstResult
	for range b.N {
		last = runBurst(b, benchTopology(), burstEvents)
	}
	b.ReportMetric(ms(last.firstFrame), "first-frame-ms")
	b.ReportMetric(ms(last.p50), "event-screen-p50-ms")
	b.ReportMetric(ms(last.p90), "event-screen-p90-ms")
	b.ReportMetric(ms(last.max), "event-screen-max-ms")
	b.ReportMetric(ms(last.maxGap), "max-frame-gap-ms")
	b.ReportMetric(ms(last.burst), "burst-ms")
	b.ReportMetric(float64(last.frames), "frames")
	b.ReportMetric(peakRSSMiB(), "rss-MiB")
	// ns/op would be the whole run: the metrics above say more.
	b.ReportMetric(0, "ns/op")
}

// BenchmarkEventBurstScale is BenchmarkEventBurst at 100, 300 and 1,000
// containers (the same 5 networks, every fifth container on two), to show
// how each cost grows with the engine's size.
func BenchmarkEventBurstScale(b *testing.B) {
	for _, n := range []int{100, 300, 1000} {
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			var last burstResult
			for range b.N {
				last = runBurst(b, scaledTopology(n), burstEvents)
			}
			b.ReportMetric(ms(last.firstFrame), "first-frame-ms")
			b.ReportMetric(ms(last.p50), "event-screen-p50-ms")
			b.ReportMetric(ms(last.maxGap), "max-frame-gap-ms")
			b.ReportMetric(ms(last.burst), "burst-ms")
			b.ReportMetric(peakRSSMiB(), "rss-MiB")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// scaledTopology is benchTopology's shape at n containers; container-001
// (the burst's) is always there.
func scaledTopology(n int) model.Topology {
	b := newTopo().builtIn()
	for i := range 5 {
		b.net(fmt.Sprintf("net%d", i))
	}
	for i := range n {
		nets := []string{fmt.Sprintf("net%d", i%5)}
		if i%5 == 0 {
			nets = append(nets, fmt.Sprintf("net%d", (i/5+1)%5))
		}
		b.ctr(fmt.Sprintf("container-%03d", i), nets)
	}
	return b.build()
}

type burstResult struct {
	firstFrame, p50, p90, max, maxGap, burst time.Duration
	frames                                   int
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// frameLog is the terminal: it notes each write's time and how many events
// the view written before it had applied.
type frameLog struct {
	mu      sync.Mutex
	viewed  *atomic.Int64 // events applied by the latest view returned
	live    time.Time     // first frame saying "● live"
	times   []time.Time
	applied []int64
}

func (f *frameLog) Write(p []byte) (int, error) {
	now := time.Now()
	n := f.viewed.Load()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.live.IsZero() && bytes.Contains(p, []byte("● live")) {
		f.live = now
	}
	f.times = append(f.times, now)
	f.applied = append(f.applied, n)
	return len(p), nil
}

// countingModel counts the engine events Update applied and notes, after
// each View, how many the view shows.
type countingModel struct {
	*Model
	applied int64
	viewed  *atomic.Int64
}

func (c *countingModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch u := msg.(type) {
	case EngineUpdateMsg:
		if u.Update.Event != nil {
			c.applied++
		}
	case EngineBatchMsg:
		for _, u := range u.Updates {
			if u.Event != nil {
				c.applied++
			}
		}
	}
	_, cmd := c.Model.Update(msg)
	return c, cmd
}

func (c *countingModel) View() string {
	v := c.Model.View()
	c.viewed.Store(c.applied)
	return v
}

func runBurst(b *testing.B, topo model.Topology, events int) burstResult {
	b.Helper()
	updates := make(chan model.Update, 256) // as main makes it
	viewed := &atomic.Int64{}
	out := &frameLog{viewed: viewed}
	m := &countingModel{Model: New(Config{Updates: updates}), viewed: viewed}
	p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(out), tea.WithFPS(60),
		tea.WithoutSignalHandler())

	// The events: container-001 (on net1) started and died in turn, each
	// death with its own exit code, so that every view differs from the
	// one before it (the log's last line) and must reach the screen.
	c := topo.Containers[ctrID("container-001")]
	running := c
	evs := make([]model.Update, events)
	t0 := time.Now()
	for i := range evs {
		ev := model.Event{Time: t0.Add(time.Duration(i) * time.Microsecond), Type: model.EventContainer, ActorID: c.ID,
			Action: "start", Container: &running, Attributes: map[string]string{"name": c.Name}}
		if i%2 == 1 {
			exited := c
			exited.State, exited.ExitCode = model.StateExited, i
			ev.Action, ev.Container = "die", &exited
			ev.Attributes = map[string]string{"name": c.Name, "exitCode": strconv.Itoa(i)}
		}
		evs[i] = model.Update{Event: &ev}
	}
	sent := make([]time.Time, events)

	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := p.Run()
		done <- err
	}()
	p.Send(tea.WindowSizeMsg{Width: 200, Height: 50})
	updates <- model.Update{Snapshot: &topo}
	waitUntil(b, func() bool { out.mu.Lock(); defer out.mu.Unlock(); return !out.live.IsZero() })
	for i, u := range evs {
		updates <- u
		sent[i] = time.Now()
	}
	waitUntil(b, func() bool {
		out.mu.Lock()
		defer out.mu.Unlock()
		return len(out.applied) > 0 && out.applied[len(out.applied)-1] >= int64(events)
	})
	p.Quit()
	if err := <-done; err != nil {
		b.Fatal(err)
	}

	out.mu.Lock()
	defer out.mu.Unlock()
	r := burstResult{firstFrame: out.live.Sub(start)}
	lat := make([]time.Duration, events)
	f := 0
	first := -1
	for k := range events {
		for out.applied[f] < int64(k+1) {
			f++
		}
		if first < 0 {
			first = f
		}
		lat[k] = out.times[f].Sub(sent[k])
	}
	r.frames = f - first + 1
	r.burst = out.times[f].Sub(sent[0])
	// Frames while events were waiting: from the first event sent to the
	// frame that showed the last.
	prev := sent[0]
	for i := first; i <= f; i++ {
		r.maxGap = max(r.maxGap, out.times[i].Sub(prev))
		prev = out.times[i]
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r.p50, r.p90, r.max = lat[len(lat)/2], lat[len(lat)*9/10], lat[len(lat)-1]
	return r
}

// waitUntil polls cond for up to 5 minutes (a burst on a loaded machine).
func waitUntil(b *testing.B, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatal("the burst never reached the screen")
		}
		time.Sleep(time.Millisecond)
	}
}

// peakRSSMiB reads VmHWM of this process (Linux); 0 elsewhere.
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

var _ io.Writer = (*frameLog)(nil)
