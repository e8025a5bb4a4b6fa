package ui

import (
	"fmt"
	"maps"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// This file is the replay (topo replay): the same model, fed with no engine
// and no registry by a player that sends a recording's entries at their
// recorded offsets, scaled by the speed, as the messages the live feeds
// send. The player owns a clock of its own, the recording's: ages, the
// demo's elapsed time and the status bar read it, so a moment of the replay
// draws as that moment did.

// Replay is a recording for the interface to play.
type Replay struct {
	// Start is the moment the offsets are measured from.
	Start   time.Time
	Entries []ReplayEntry
	// Stopped says where the recording ends before its file does (a torn
	// or corrupt line), for the replay bar, and StopReason says why, for
	// the event log; empty when it was read whole.
	Stopped    string
	StopReason string
	// Speed scales time (2 plays twice as fast); From is where to start.
	Speed float64
	From  time.Duration
}

// ReplayEntry is one entry of a recording.
type ReplayEntry struct {
	Offset time.Duration
	// Msg is what the live feed sent for it: EngineUpdateMsg, RegistryMsg,
	// ClusterUpdateMsg, DemoReplayMsg or TrafficReplayMsg.
	Msg tea.Msg
}

// DemoReplayMsg is one recorded report of a demo operation. The live panel
// starts an operation on a key and then takes its DemoStepMsg and
// DemoDoneMsg; a replay has no key, so the first report of an operation
// starts it, and the report goes on as the live message.
type DemoReplayMsg struct {
	Op      DemoOp
	Service string
	Delta   int
	// Exactly one of Step and Done is set.
	Step *DemoStep
	Done *DemoDoneMsg
}

// TrafficReplayMsg is one recorded snapshot of the traffic generator, or
// its end. The first snapshot of a run starts the pane, as g does live.
type TrafficReplayMsg struct {
	Target   string
	Snapshot *TrafficSnapshot
	Stopped  bool
	Err      error
}

// Speeds the replay can be set to with < and >.
const (
	minReplaySpeed = 1.0 / 64
	maxReplaySpeed = 1024
)

// player is the replay's position and clock.
type player struct {
	rec Replay
	// wall is the real clock, which paces the recorded one.
	wall func() time.Time
	// pos is how many entries are applied.
	pos int
	// at is the recording's clock (an offset) at anchor on the wall;
	// while playing it runs at speed from there.
	at      time.Duration
	anchor  time.Time
	playing bool
	speed   float64
	// applying says entries are being sent, each at its own moment,
	// applyAt: the clock reads it rather than the wall, which a tick
	// that comes late (at ×1024, a few milliseconds are seconds) would
	// put past the entries still to apply.
	applying bool
	applyAt  time.Duration
	// gen tells the pending tick from older ones, which a pause, a step
	// or a change of speed made obsolete.
	gen int
	// sawCluster says the recording so far holds a swarm: the cluster
	// view opens to it.
	sawCluster bool
	// opened says the registry panel was opened for the recording's
	// registry once: after that, c is the viewer's, also across a rebuild.
	opened bool
}

func newPlayer(rec Replay, wall func() time.Time) *player {
	if rec.Speed <= 0 {
		rec.Speed = 1
	}
	return &player{rec: rec, wall: wall, speed: min(max(rec.Speed, minReplaySpeed), maxReplaySpeed)}
}

// offset is the recording's clock now; it stops at the end.
func (p *player) offset() time.Duration {
	switch {
	case p.applying:
		return p.applyAt
	case !p.playing:
		return p.at
	}
	return min(p.at+time.Duration(float64(p.wall().Sub(p.anchor))*p.speed), max(p.duration(), p.at))
}

// now is the recorded moment the screen shows.
func (p *player) now() time.Time { return p.rec.Start.Add(p.offset()) }

// duration is the offset of the last entry.
func (p *player) duration() time.Duration {
	if n := len(p.rec.Entries); n > 0 {
		return p.rec.Entries[n-1].Offset
	}
	return 0
}

// hold stops the clock where it is.
func (p *player) hold(at time.Duration) {
	p.at, p.anchor, p.playing = at, p.wall(), false
	p.gen++
}

// run starts the clock from at.
func (p *player) run(at time.Duration) {
	p.at, p.anchor, p.playing = at, p.wall(), true
	p.gen++
}

// replayTickMsg says entries may be due; gen is the player's generation
// when it was scheduled.
type replayTickMsg struct{ gen int }

// startReplay applies the entries up to From and starts playing.
func (m *Model) startReplay() tea.Cmd {
	r := m.replay
	from := max(r.rec.From, 0)
	n := 0
	for n < len(r.rec.Entries) && r.rec.Entries[n].Offset <= from {
		n++
	}
	cmd := m.seek(n)
	r.run(from)
	return tea.Batch(cmd, m.schedule())
}

// schedule arms the tick for the next entry due, when playing.
func (m *Model) schedule() tea.Cmd {
	r := m.replay
	if !r.playing {
		return nil
	}
	if r.pos >= len(r.rec.Entries) {
		r.hold(r.duration())
		return nil
	}
	wait := time.Duration(float64(r.rec.Entries[r.pos].Offset-r.offset()) / r.speed)
	gen := r.gen
	return tea.Tick(max(wait, 0), func(time.Time) tea.Msg { return replayTickMsg{gen: gen} })
}

// replayTick applies the entries that are due.
func (m *Model) replayTick(msg replayTickMsg) tea.Cmd {
	r := m.replay
	if r == nil || msg.gen != r.gen || !r.playing {
		return nil
	}
	now := r.offset()
	end := r.pos
	for end < len(r.rec.Entries) && r.rec.Entries[end].Offset <= now {
		end++
	}
	return tea.Batch(m.play(r.pos, end), m.schedule())
}

// play sends entries [from, to) to the model. Engine updates in a row go
// as one batch, as the live watch sends those already waiting, so a fast
// replay draws a frame per batch rather than per event.
func (m *Model) play(from, to int) tea.Cmd {
	r := m.replay
	var cmds []tea.Cmd
	var batch []model.Update
	// The clock runs through the recorded moments, so every entry is
	// applied at the time it was live: ages, the last event's time and
	// the demo's elapsed time come out the same, at any speed, played or
	// rebuilt.
	r.applying = true
	defer func() { r.applying = false }()
	last := 0
	flush := func() {
		if len(batch) > 0 {
			r.applyAt = r.rec.Entries[last].Offset
		}
		switch len(batch) {
		case 0:
			return
		case 1:
			cmds = append(cmds, m.send(EngineUpdateMsg{Update: batch[0]}))
		default:
			cmds = append(cmds, m.send(EngineBatchMsg{Updates: batch}))
		}
		batch = nil
	}
	for i := from; i < to; i++ {
		msg := r.rec.Entries[i].Msg
		if msg == nil {
			continue
		}
		if u, ok := msg.(EngineUpdateMsg); ok {
			if snap := u.Update.Snapshot; snap != nil {
				// The model applies events to the maps it is given: a
				// copy, so the recording still holds what it recorded
				// when a step back plays it again. The values are never
				// changed in place (see connectRegistry).
				c := *snap
				c.Networks, c.Containers, c.Volumes = maps.Clone(snap.Networks), maps.Clone(snap.Containers), maps.Clone(snap.Volumes)
				u.Update.Snapshot = &c
			}
			batch, last = append(batch, u.Update), i
			continue
		}
		flush()
		r.applyAt = r.rec.Entries[i].Offset
		cmds = append(cmds, m.send(msg))
	}
	flush()
	r.pos = to
	return tea.Batch(cmds...)
}

func (m *Model) send(msg tea.Msg) tea.Cmd {
	_, cmd := m.Update(msg)
	return cmd
}

// seek rebuilds the state after the first n entries: from nothing, by
// playing them again, so a step back shows what playing forward showed.
// What the viewer chose (the screens open, the selection, the panel
// toggles) stays.
func (m *Model) seek(n int) tea.Cmd {
	r := m.replay
	m.topo = model.NewTopology()
	m.synced, m.stale, m.closed = false, nil, false
	m.lastEvent, m.lastWhat = time.Time{}, ""
	m.log = NewEventLog(m.styles)
	m.registry = NewRegistryPanel(m.styles, m.cfg.Now)
	m.registry.SetAbsent("no registry in the recording so far")
	m.regWatches = nil
	m.cluster = NewClusterView(m.styles)
	m.demo.reset()
	m.traffic.reset()
	r.pos, r.sawCluster = 0, false
	r.hold(0)
	if r.rec.StopReason != "" {
		m.log.Add(r.rec.Start, r.rec.StopReason, true)
	}
	m.lanes.SetTopology(m.topo)
	if m.width > 0 {
		m.resize()
	}
	// The commands of the entries played are dropped: they re-arm the
	// spinners of operations long over. One still running gets its tick.
	m.play(0, n)
	if m.width > 0 {
		m.resize()
	}
	m.updateKeys()
	if m.demo.Running() {
		return demoTick(m.demo.seq)
	}
	return nil
}

// replayed takes a message only a replay sends, and notices the live ones
// the replay must (a registry or a swarm first seen); done says the
// message is handled.
func (m *Model) replayed(msg tea.Msg) (cmd tea.Cmd, done bool) {
	r := m.replay
	switch msg := msg.(type) {
	case RegistryMsg:
		m.replayedRegistry(msg.Registry)
	case ClusterUpdateMsg:
		r.sawCluster = true
	case DemoReplayMsg:
		var tick tea.Cmd
		if !m.demo.Running() {
			m.demo.begin(msg.Op, msg.Service, demoTitle(msg.Op, msg.Service, msg.Delta))
			m.resize()
			m.updateKeys()
			tick = demoTick(m.demo.seq)
		}
		if msg.Step != nil {
			cmd = m.send(DemoStepMsg{Seq: m.demo.seq, Step: *msg.Step})
		} else if msg.Done != nil {
			d := *msg.Done
			d.Seq = m.demo.seq
			cmd = m.send(d)
		}
		return tea.Batch(tick, cmd), true
	case TrafficReplayMsg:
		if !m.traffic.Running() && !msg.Stopped {
			m.traffic.begin(msg.Target)
			m.resize()
		}
		if msg.Stopped {
			return m.send(TrafficStoppedMsg{Seq: m.traffic.seq, Err: msg.Err}), true
		}
		if msg.Snapshot != nil {
			return m.send(TrafficMsg{Seq: m.traffic.seq, Snapshot: *msg.Snapshot}), true
		}
		return nil, true
	}
	return nil, false
}

// replayedRegistry stands a watch for each registry the recording holds,
// one with nothing behind it, so the status bar and the panel's sections
// show it as they did live; the panel opens the first time, as it does
// once a registry is found.
func (m *Model) replayedRegistry(reg model.Registry) {
	for _, w := range m.regWatches {
		if w.Name == reg.Name {
			return
		}
	}
	m.regWatches = append(m.regWatches, regWatch{RegistryConn: RegistryConn{Name: reg.Name, Addr: reg.Addr, Source: reg.Source}})
	if r := m.replay; !r.opened {
		r.opened, m.showRegistry = true, true
		m.resize()
	}
}

// demoTitle is the panel's title for an operation, as its key gives it.
func demoTitle(op DemoOp, service string, delta int) string {
	switch op {
	case DemoSwarm:
		return "deploying the demo as swarm services"
	case DemoScale:
		if service == "" {
			service = "app"
		}
		return fmt.Sprintf("scaling %s %+d", service, delta)
	case DemoTeardown:
		return "tearing the demo down"
	}
	return "deploying the demo"
}
