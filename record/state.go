package record

import (
	"encoding/json"
	"time"

	"github.com/topo-dev/topo/model"
)

// State is what topo's model held at one moment of a recording.
type State struct {
	// At is the moment, Offset its distance from the start, Applied how
	// many entries it took.
	At       time.Time
	Offset   time.Duration
	Applied  int
	Topology model.Topology
	// Lost is the engine stream's loss at that moment ("" while live).
	Lost     string
	Registry *model.Registry
	Cluster  *model.Cluster
	// Demo and Traffic are the latest reports of each.
	Demo    json.RawMessage
	Traffic json.RawMessage
}

// Player applies a recording's entries in order, one at a time, as topo
// applied them when it recorded.
type Player struct {
	rec   *Recording
	next  int
	state State
}

// NewPlayer starts at the beginning of rec: an empty topology.
func NewPlayer(rec *Recording) *Player {
	return &Player{rec: rec, state: State{At: rec.Header.Start, Topology: model.NewTopology()}}
}

// Done reports whether every entry was applied.
func (p *Player) Done() bool { return p.next >= len(p.rec.Entries) }

// Next is the entry Step would apply; false at the end.
func (p *Player) Next() (Entry, bool) {
	if p.Done() {
		return Entry{}, false
	}
	return p.rec.Entries[p.next], true
}

// Step applies the next entry and returns it.
func (p *Player) Step() (Entry, bool) {
	e, ok := p.Next()
	if !ok {
		return e, false
	}
	p.next++
	s := &p.state
	s.At, s.Offset, s.Applied = e.At, p.rec.Offset(e), p.next
	switch {
	case e.Update != nil:
		u := e.Update
		switch {
		case u.Snapshot != nil:
			// A copy, so that replaying again starts from the recorded
			// state and not one events have changed since. The values
			// are shared safely: Apply replaces a container, never
			// changes one in place (see withoutEndpoint).
			s.Topology = cloneTopology(*u.Snapshot)
			s.Lost = ""
		case u.Event != nil:
			s.Topology.Apply(*u.Event)
		case u.Refresh != nil:
			s.Topology.Refresh(*u.Refresh)
		case u.Lost != nil:
			s.Lost = u.Lost.Error()
		}
	case e.Registry != nil:
		s.Registry = e.Registry
	case e.Cluster != nil:
		s.Cluster = e.Cluster
	case e.Demo != nil:
		s.Demo = e.Demo
	case e.Traffic != nil:
		s.Traffic = e.Traffic
	}
	return e, true
}

// State is the state after the entries applied so far.
func (p *Player) State() State { return p.state }

// StateAt replays the recording up to offset at from its start: every
// entry at or before it. A moment past the end gives the end state; a
// negative one the end too (no --at).
func (r *Recording) StateAt(at time.Duration) State {
	p := NewPlayer(r)
	for {
		e, ok := p.Next()
		if !ok || (at >= 0 && r.Offset(e) > at) {
			break
		}
		p.Step()
	}
	return p.State()
}

// End is the state after every entry.
func (r *Recording) End() State { return r.StateAt(-1) }

func cloneTopology(t model.Topology) model.Topology {
	out := model.Topology{
		Networks:     make(map[string]model.Network, len(t.Networks)),
		Containers:   make(map[string]model.Container, len(t.Containers)),
		Volumes:      make(map[string]model.Volume, len(t.Volumes)),
		VolumesError: t.VolumesError,
	}
	for k, v := range t.Volumes {
		out.Volumes[k] = v
	}
	for k, v := range t.Networks {
		out.Networks[k] = v
	}
	for k, v := range t.Containers {
		out.Containers[k] = v
	}
	return out
}
