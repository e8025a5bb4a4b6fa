package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/topo-dev/topo/model"
)

// replayFixture is a recording of basicTopo: the snapshot at 0.5 s, then
// one second apart: worker dies, a registry answers, web dies, a demo
// scale runs and ends, worker starts again, traffic reports.
func replayFixture() *Replay {
	topo := basicTopo()
	at := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	die := func(name string, s float64) tea.Msg {
		c := cloneContainer(topo.Containers[ctrID(name)])
		c.State, c.ExitCode = model.StateExited, 137
		ev := model.Event{Time: testNow.Add(at(s)), Type: model.EventContainer, Action: "die", ActorID: c.ID,
			Attributes: map[string]string{"name": name, "exitCode": "137"}, Container: &c}
		return EngineUpdateMsg{Update: model.Update{Event: &ev}}
	}
	start := func(name string, s float64) tea.Msg {
		c := cloneContainer(topo.Containers[ctrID(name)])
		ev := model.Event{Time: testNow.Add(at(s)), Type: model.EventContainer, Action: "start", ActorID: c.ID,
			Attributes: map[string]string{"name": name}, Container: &c}
		return EngineUpdateMsg{Update: model.Update{Event: &ev}}
	}
	reg := model.Registry{Addr: "127.0.0.1:8500", Source: "auto: container consul", Datacenter: "dc1", FetchedAt: testNow.Add(at(2.5)),
		Services: []model.Service{{Name: "web", Instances: []model.Instance{{ID: "web-1", Service: "web", Address: "10.1.0.2", Port: 80, Node: "n1"}}}}}
	snap := ui0(topo)
	return &Replay{
		Start: testNow,
		Speed: 1,
		Entries: []ReplayEntry{
			{Offset: at(0.5), Msg: EngineUpdateMsg{Update: model.Update{Snapshot: &snap}}},
			{Offset: at(1.5), Msg: die("worker", 1.5)},
			{Offset: at(2.5), Msg: RegistryMsg{Registry: reg}},
			{Offset: at(3.5), Msg: die("web", 3.5)},
			{Offset: at(4.5), Msg: DemoReplayMsg{Op: DemoScale, Service: "app", Delta: 1,
				Step: &DemoStep{Key: "app-3", Title: "start app #3", State: DemoStepRunning, Fraction: -1}}},
			{Offset: at(5.5), Msg: DemoReplayMsg{Op: DemoScale, Service: "app", Done: &DemoDoneMsg{Op: DemoScale, Service: "app", Count: 3}}},
			{Offset: at(6.5), Msg: start("worker", 6.5)},
			{Offset: at(7.5), Msg: TrafficReplayMsg{Target: "http://127.0.0.1:8080", Snapshot: &TrafficSnapshot{Rate: 20, PerSecond: 19.5,
				Instances: []TrafficInstance{{Name: "app-1", PerSecond: 10}, {Name: "app-2", PerSecond: 9.5}}}}},
		},
	}
}

// ui0 is a copy of a topology whose maps the replay may change.
func ui0(t model.Topology) model.Topology {
	out := model.NewTopology()
	for k, v := range t.Networks {
		out.Networks[k] = v
	}
	for k, v := range t.Containers {
		out.Containers[k] = cloneContainer(v)
	}
	return out
}

// newReplayHarness opens the interface on rec as topo replay does: no
// engine, read-only, the wall clock the harness's.
func newReplayHarness(t testing.TB, w, h int, rec *Replay) *harness {
	t.Helper()
	hs := &harness{t: t, now: testNow}
	hs.m = New(Config{
		EngineInfo: EngineInfo{Host: "unix:///var/run/docker.sock", Version: "20.10.24"},
		Now:        func() time.Time { return hs.now },
		Replay:     rec,
		ReadOnly:   true,
	})
	hs.m.Init() // applies what is due at From; the ticks are the test's to send
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	return hs
}

// tick lets wall time pass and delivers the player's pending tick.
func (hs *harness) tick(d time.Duration) {
	hs.now = hs.now.Add(d)
	hs.m.Update(replayTickMsg{gen: hs.m.replay.gen})
}

// rkeys presses keys in a replay, dropping the commands: the player's
// ticks are real timers, which the tests stand in for with tick.
func (hs *harness) rkeys(keys ...string) {
	for _, k := range keys {
		hs.sendOnly(keyRunes(k))
	}
}

func (hs *harness) logText() string {
	var out []string
	for _, e := range hs.m.log.entries {
		out = append(out, e.text)
	}
	return strings.Join(out, "\n")
}

// TestReplayDeliversEntriesInOrderAtTheirOffsets: the player sends each
// entry once its offset has passed on the recording's clock (the wall's,
// times the speed), in the recorded order, as the live messages: the
// lanes, the registry panel, the demo and traffic panels follow.
func TestReplayDeliversEntriesInOrderAtTheirOffsets(t *testing.T) {
	hs := newReplayHarness(t, 200, 50, replayFixture())
	r := hs.m.replay
	if r.pos != 0 || hs.m.synced {
		t.Fatalf("before 0.5 s: %d entries applied, synced=%v", r.pos, hs.m.synced)
	}
	hs.tick(600 * time.Millisecond)
	if r.pos != 1 || len(hs.m.topo.Containers) != 7 {
		t.Fatalf("at 0.6 s: %d entries applied, %d containers", r.pos, len(hs.m.topo.Containers))
	}
	hs.rkeys(">") // speed ×2: one wall second is two recorded ones
	hs.tick(time.Second)
	if r.pos != 3 {
		t.Fatalf("at 2.6 s: %d entries applied, want 3", r.pos)
	}
	if c := hs.m.topo.Containers[ctrID("worker")]; c.Running() {
		t.Errorf("worker still running after its recorded death")
	}
	if !hs.m.showRegistry || !strings.Contains(hs.view(), "registry ● auto: container consul") || !strings.Contains(hs.view(), "● recorded") {
		t.Errorf("the recorded registry is not shown:\n%s", hs.view())
	}
	hs.tick(3 * time.Second) // to 8.6 s: everything
	if r.pos != len(r.rec.Entries) || r.playing {
		t.Fatalf("at the end: pos %d of %d, playing=%v", r.pos, len(r.rec.Entries), r.playing)
	}
	log := hs.logText()
	worker, web, again := strings.Index(log, "die worker"), strings.Index(log, "die web"), strings.Index(log, "start worker")
	if worker < 0 || web < 0 || again < 0 || !(worker < web && web < again) {
		t.Errorf("the log is not in the recorded order:\n%s", log)
	}
	if !hs.m.traffic.Running() || hs.m.traffic.snap == nil || hs.m.traffic.target != "http://127.0.0.1:8080" {
		t.Errorf("traffic pane: running=%v snap=%v target=%q", hs.m.traffic.Running(), hs.m.traffic.snap, hs.m.traffic.target)
	}
	if hs.m.demo.done == nil || hs.m.demo.done.Count != 3 || hs.m.demo.title != "scaling app +1" {
		t.Errorf("demo panel: %+v, title %q", hs.m.demo.done, hs.m.demo.title)
	}
	if v := hs.view(); !strings.Contains(v, "■ end") || !strings.Contains(v, "event 8 of 8") {
		t.Errorf("the replay bar does not say the end:\n%s", v)
	}
}

// TestReplayStepsAndRebuilds: ] applies the next entry and pauses; [
// rebuilds the state before the last one from the start, so the screen is
// the one playing forward drew, log included.
func TestReplayStepsAndRebuilds(t *testing.T) {
	hs := newReplayHarness(t, 120, 40, replayFixture())
	r := hs.m.replay
	hs.rkeys("]", "]", "]")
	if r.pos != 3 || r.playing {
		t.Fatalf("after ] ] ]: pos %d playing %v", r.pos, r.playing)
	}
	before := hs.view()
	hs.rkeys("]")
	if hs.m.topo.Containers[ctrID("web")].Running() {
		t.Fatal("] did not apply web's death")
	}
	hs.rkeys("[")
	if r.pos != 3 || !hs.m.topo.Containers[ctrID("web")].Running() {
		t.Fatalf("[ did not rebuild the state before web died: pos %d", r.pos)
	}
	if after := hs.view(); after != before {
		t.Errorf("stepping back does not redraw the screen of that moment:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	hs.rkeys("c", "[")
	if hs.m.showRegistry {
		t.Error("a step back opened the registry panel the viewer closed")
	}
	hs.rkeys("c", "[", "[", "[", "[")
	if r.pos != 0 || hs.m.synced || len(hs.m.topo.Containers) != 0 {
		t.Errorf("[ past the start: pos %d, synced %v", r.pos, hs.m.synced)
	}
	// Space plays on from where it stands.
	hs.rkeys(" ")
	if !r.playing {
		t.Fatal("space did not play")
	}
	hs.rkeys(" ")
	if r.playing {
		t.Fatal("space did not pause")
	}
}

// TestReplaySpeedKeysHalveAndDouble, within the bounds.
func TestReplaySpeedKeysHalveAndDouble(t *testing.T) {
	hs := newReplayHarness(t, 120, 40, replayFixture())
	hs.rkeys(">", ">")
	if hs.m.replay.speed != 4 {
		t.Errorf("> > from ×1: speed %g", hs.m.replay.speed)
	}
	for range 20 {
		hs.rkeys("<")
	}
	if hs.m.replay.speed != minReplaySpeed {
		t.Errorf("< ×20: speed %g, want the floor %g", hs.m.replay.speed, minReplaySpeed)
	}
	if v := hs.view(); !strings.Contains(v, "speed ×1/64") {
		t.Errorf("the bar does not say the speed:\n%s", v)
	}
}

// TestReplayRefusesEngineKeys: every key that acts on an engine says
// "replay: read-only" and does nothing: no question, no operation, on the
// lanes and in the swarm view alike; help lists none of them.
func TestReplayRefusesEngineKeys(t *testing.T) {
	for _, k := range []string{"x", "s", "r", "D", "+", "=", "-", "T", "p", "R", "d", "g"} {
		t.Run(k, func(t *testing.T) {
			hs := newReplayHarness(t, 120, 40, replayFixture())
			hs.rkeys("]", "]") // web selected, a stopped worker
			hs.rkeys(k)
			if hs.m.mode != modeNormal || hs.m.demo.Running() || hs.m.traffic.Running() || hs.m.on(screenProbe) {
				t.Fatalf("%s acted: mode %v, demo %v, traffic %v", k, hs.m.mode, hs.m.demo.Running(), hs.m.traffic.Running())
			}
			if !hs.m.flash.bad || hs.m.flash.text != "replay: read-only" {
				t.Errorf("%s: footer says %q", k, hs.m.flash.text)
			}
			if !strings.Contains(hs.view(), "replay: read-only") {
				t.Errorf("%s: not on screen", k)
			}
		})
	}
	hs := newReplayHarness(t, 120, 40, replayFixture())
	hs.rkeys("]", "?")
	help := hs.view()
	for _, word := range []string{"kill", "stop/start", "deploy the demo", "tear the demo down", "traffic on/off", "probe reachability"} {
		if strings.Contains(help, word) {
			t.Errorf("help lists %q in a replay:\n%s", word, help)
		}
	}
	for _, word := range []string{"pause/play", "previous event", "next event", "half speed", "double speed"} {
		if !strings.Contains(help, word) {
			t.Errorf("help lacks %q in a replay:\n%s", word, help)
		}
	}
}

// TestLiveHelpHasNoReplayKeys: the replay's keys are disabled live.
func TestLiveHelpHasNoReplayKeys(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.press("]")
	if hs.m.flash.text != "" {
		t.Errorf("] did something live: %q", hs.m.flash.text)
	}
	hs.press("?")
	if v := hs.view(); strings.Contains(v, "pause/play") || strings.Contains(v, "previous event") {
		t.Errorf("live help lists the replay's keys:\n%s", v)
	}
}

// TestReplayStartsFrom: --from applies every entry up to that moment at
// once, and the clock starts there.
func TestReplayStartsFrom(t *testing.T) {
	rec := replayFixture()
	rec.From = 4 * time.Second
	hs := newReplayHarness(t, 120, 40, rec)
	if hs.m.replay.pos != 4 || hs.m.topo.Containers[ctrID("web")].Running() {
		t.Fatalf("--from 4s: pos %d", hs.m.replay.pos)
	}
	if v := hs.view(); !strings.Contains(v, "0:04.0 / 0:07.5") {
		t.Errorf("the bar's clock does not start at --from:\n%s", v)
	}
}

// TestReplayFromPastTheEnd: --from past every entry applies them all
// before the terminal has given its size (the demo and traffic panels lay
// themselves out on the way), and the replay stands at its end.
func TestReplayFromPastTheEnd(t *testing.T) {
	rec := replayFixture()
	rec.From = time.Minute
	hs := newReplayHarness(t, 80, 24, rec)
	if hs.m.replay.pos != len(rec.Entries) || hs.m.replay.playing {
		t.Fatalf("--from past the end: pos %d, playing %v", hs.m.replay.pos, hs.m.replay.playing)
	}
	v := hs.view()
	if !strings.Contains(v, "■ end") || !strings.Contains(v, "event 8 of 8") {
		t.Errorf("not at the end:\n%s", v)
	}
}

// TestReplayClusterViewOpensOnARecordedSwarm: w works once the recording
// holds a swarm (there is no swarm adapter in a replay), and its keys that
// act on the swarm are refused like the others.
func TestReplayClusterViewOpensOnARecordedSwarm(t *testing.T) {
	rec := replayFixture()
	rec.Entries = append(rec.Entries[:2:2], append([]ReplayEntry{{Offset: 1600 * time.Millisecond,
		Msg: ClusterUpdateMsg{Cluster: model.Cluster{ID: "swarm1abcdef0123"}}}}, rec.Entries[2:]...)...)
	hs := newReplayHarness(t, 120, 40, rec)
	hs.rkeys("]", "w")
	if hs.m.lanesScreen() == screenCluster {
		t.Fatal("w opened a cluster view before the recording held a swarm")
	}
	hs.rkeys("]", "]", "w")
	if hs.m.lanesScreen() != screenCluster || !strings.Contains(hs.view(), "Cluster swarm1abcdef") {
		t.Fatalf("w did not open the recorded swarm:\n%s", hs.view())
	}
	hs.rkeys("+")
	if hs.m.flash.text != "replay: read-only" {
		t.Errorf("+ in the cluster view: %q", hs.m.flash.text)
	}
	// A step back to before the swarm keeps the view the viewer opened,
	// empty, and a step forward fills it again.
	hs.rkeys("[", "[", "]", "]")
	if !strings.Contains(hs.view(), "Cluster swarm1abcdef") {
		t.Errorf("the cluster view lost the swarm after stepping back and forth:\n%s", hs.view())
	}
}

// TestReplayTwoRecordedRegistries: each registry of the recording gets
// its section and its mark in the status bar, as live.
func TestReplayTwoRecordedRegistries(t *testing.T) {
	rec := replayFixture()
	infra := model.Registry{Name: "infra", Addr: "10.9.0.2:8500", Source: "auto: container infra-consul", FetchedAt: testNow}
	rec.Entries = append(rec.Entries[:3:3], append([]ReplayEntry{{Offset: 2600 * time.Millisecond, Msg: RegistryMsg{Registry: infra}}}, rec.Entries[3:]...)...)
	hs := newReplayHarness(t, 200, 50, rec)
	hs.rkeys("]", "]", "]")
	if len(hs.m.regWatches) != 1 {
		t.Fatalf("after the first registry: %d watches", len(hs.m.regWatches))
	}
	hs.rkeys("]", "]")
	if len(hs.m.regWatches) != 2 || !strings.Contains(hs.view(), "registries ●") || !strings.Contains(hs.view(), "● infra") {
		t.Errorf("two recorded registries: %d watches\n%s", len(hs.m.regWatches), hs.view())
	}
	hs.rkeys("[", "[")
	if len(hs.m.regWatches) != 1 {
		t.Errorf("a step back to before the second registry keeps %d watches", len(hs.m.regWatches))
	}
}

// TestReplayLateTickKeepsRecordedMoments is the regression for a demo
// panel saying "-11.0 s": at ×1024 a tick a few milliseconds late is
// seconds of the recording, and entries were applied at the late moment,
// after the recording's end, rather than at their own.
func TestReplayLateTickKeepsRecordedMoments(t *testing.T) {
	hs := newReplayHarness(t, 120, 40, replayFixture())
	for range 10 {
		hs.rkeys(">")
	}
	hs.tick(time.Minute) // a minute late at ×1024
	if got, want := hs.m.demo.started, testNow.Add(4500*time.Millisecond); !got.Equal(want) {
		t.Errorf("the demo operation began at %v, want its recorded %v", got, want)
	}
	if d := hs.m.demo.ended.Sub(hs.m.demo.started); d != time.Second {
		t.Errorf("the operation took %v, recorded 1s", d)
	}
	if v := hs.view(); !strings.Contains(v, "0:07.5 / 0:07.5") {
		t.Errorf("the clock ran past the end:\n%s", v)
	}
}

// TestReplayFlashKeepsWallTime: a message in the footer goes after its
// time on the wall, even while the replay's clock stands still.
func TestReplayFlashKeepsWallTime(t *testing.T) {
	hs := newReplayHarness(t, 120, 40, replayFixture())
	hs.rkeys("]", "x")
	hs.now = hs.now.Add(flashFor + time.Second)
	hs.sendOnly(TickMsg(hs.now))
	if hs.m.flash.text != "" {
		t.Errorf("the footer still says %q with the replay paused", hs.m.flash.text)
	}
}

// TestReplayCutRecordingSaysWhere: a recording read up to a damaged line
// says where it stops on the bar and why in the log.
func TestReplayCutRecordingSaysWhere(t *testing.T) {
	rec := replayFixture()
	rec.Stopped = "recording stops at line 9"
	rec.StopReason = "the recording stops at line 9 (byte offset 5120): the line is incomplete"
	hs := newReplayHarness(t, 80, 24, rec)
	v := hs.view()
	if !strings.Contains(v, "recording stops at line 9") || !strings.Contains(v, "byte offset 5120") {
		t.Errorf("the screen does not say where the recording stops:\n%s", v)
	}
}

// TestReplayBarGolden is the replay's screen at 80×24, paused after the
// third entry, with the recording cut.
func TestReplayBarGolden(t *testing.T) {
	rec := replayFixture()
	rec.Stopped = "recording stops at line 10"
	hs := newReplayHarness(t, 80, 24, rec)
	hs.rkeys("]", "]", "]")
	golden.RequireEqual(t, hs.view())
}

type fakeScreens struct {
	got   string
	width int
	err   error
}

func (f *fakeScreens) SaveScreen(screen string, width int) (string, error) {
	f.got, f.width = screen, width
	return "/tmp/topo-1.svg", f.err
}

// TestSaveScreenKey: e hands the screen to the saver in colour, whatever
// the terminal's profile (the tests' is no colour), says where it went,
// and the next frame is drawn as before.
func TestSaveScreenKey(t *testing.T) {
	topo := basicTopo()
	saver := &fakeScreens{}
	hs := newHarnessWith(t, 100, 30, &topo, func(c *Config) { c.Screens = saver })
	_, cmd := hs.m.Update(keyRunes("e"))
	msgs := runCmd(t, cmd)
	if len(msgs) != 1 {
		t.Fatalf("e gave %d messages", len(msgs))
	}
	if !strings.Contains(saver.got, "\x1b[") || !strings.Contains(saver.got, "worker") || saver.width != 100 {
		t.Errorf("the saved screen is not the coloured screen (width %d):\n%q", saver.width, saver.got)
	}
	hs.send(msgs[0])
	after := hs.view()
	if strings.Contains(after, "\x1b[") {
		t.Errorf("the terminal's frame is in colour after e")
	}
	if !strings.Contains(after, "saved the screen to /tmp/topo-1.svg") {
		t.Errorf("the footer does not say where:\n%s", after)
	}
	saver.err = errors.New("permission denied")
	_, cmd = hs.m.Update(keyRunes("e"))
	for _, msg := range runCmd(t, cmd) {
		hs.send(msg)
	}
	if !hs.m.flash.bad || !strings.Contains(hs.m.flash.text, "permission denied") {
		t.Errorf("a failed save says %q", hs.m.flash.text)
	}
}
