// Package record writes and reads recordings of what topo applies to its
// model: timestamped JSON lines, one per update, so that a rehearsal can be
// replayed with no engine, a bug report can carry what topo saw, and tests
// and benchmarks get deterministic input.
//
// The format is a header line (what wrote the file, the format version),
// then one line per update in the order topo received them: engine
// snapshots, engine events with the state read for them, late refreshes,
// losses of the stream, registry snapshots, swarm updates, and the demo's
// progress and traffic statistics as opaque JSON (their types belong to the
// interface, not the model). It imports the standard library and model only.
package record

import (
	"encoding/json"
	"time"

	"github.com/topo-dev/topo/model"
)

// FormatVersion is the version of the line format this package writes. A
// reader refuses a larger one rather than guess at fields it cannot know.
const FormatVersion = 1

// Kinds of line.
const (
	KindHeader   = "header"
	KindSnapshot = "snapshot"
	KindEvent    = "event"
	KindRefresh  = "refresh"
	KindLost     = "lost"
	KindRegistry = "registry"
	KindCluster  = "cluster"
	KindDemo     = "demo"
	KindTraffic  = "traffic"
)

// Header is the first line of a recording.
type Header struct {
	// Format is FormatVersion of the writer.
	Format int `json:"format"`
	// Writer names the program ("topo") and Version its version, so a
	// reader too old for the format can say which topo to use.
	Writer  string `json:"writer"`
	Version string `json:"version"`
	// Start is the moment offsets in the recording are measured from.
	Start time.Time `json:"start"`
	// Engine is what the writer said about the engine (the adapter's own
	// type, kept opaque here).
	Engine json.RawMessage `json:"engine,omitempty"`
}

// line is one line of the file. Exactly one of the payload fields is set,
// as Kind says.
type line struct {
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`

	Header *Header `json:"header,omitempty"`
	// Snapshot: the topology as lists, since model.Topology keeps its
	// maps out of JSON.
	Networks   []model.Network `json:"networks,omitempty"`
	Containers []Container     `json:"containers,omitempty"`
	// Volumes came with the storage lanes: a recording from before them
	// has none, and replays without storage as it was seen.
	Volumes      []model.Volume  `json:"volumes,omitempty"`
	VolumesError string          `json:"volumes_error,omitempty"`
	Event        *Event          `json:"event,omitempty"`
	Refresh      *Container      `json:"refresh,omitempty"`
	Lost         string          `json:"lost,omitempty"`
	Retry        time.Time       `json:"retry,omitzero"`
	Registry     *model.Registry `json:"registry,omitempty"`
	Cluster      *Cluster        `json:"cluster,omitempty"`
	Demo         json.RawMessage `json:"demo,omitempty"`
	Traffic      json.RawMessage `json:"traffic,omitempty"`
}

// Container is a model.Container with the fields the model keeps out of
// JSON.
type Container struct {
	model.Container
	Detailed bool `json:"detailed,omitempty"`
}

func wrapContainer(c model.Container) Container { return Container{Container: c, Detailed: c.Detailed} }

func (c Container) unwrap() model.Container {
	out := c.Container
	out.Detailed = c.Detailed
	return out
}

// Event is a model.Event with the state the adapter read for it, which the
// model keeps out of JSON.
type Event struct {
	model.Event
	Container *Container     `json:"container,omitempty"`
	Network   *model.Network `json:"network,omitempty"`
	Volume    *model.Volume  `json:"volume,omitempty"`
}

func wrapEvent(ev model.Event) *Event {
	out := &Event{Event: ev, Network: ev.Network, Volume: ev.Volume}
	if ev.Container != nil {
		c := wrapContainer(*ev.Container)
		out.Container = &c
	}
	return out
}

func (e Event) unwrap() model.Event {
	ev := e.Event
	ev.Network, ev.Volume = e.Network, e.Volume
	if e.Container != nil {
		c := e.Container.unwrap()
		ev.Container = &c
	}
	return ev
}

// Cluster is a model.Cluster with the fields the model keeps out of JSON.
type Cluster struct {
	model.Cluster
	Events []model.SwarmEvent `json:"events,omitempty"`
	Stale  string             `json:"stale,omitempty"`
	Retry  time.Time          `json:"retry,omitzero"`
}

func wrapCluster(c model.Cluster) *Cluster {
	out := &Cluster{Cluster: c, Events: c.Events, Retry: c.Retry}
	if c.Stale != nil {
		out.Stale = c.Stale.Error()
	}
	return out
}

func (c Cluster) unwrap() model.Cluster {
	out := c.Cluster
	out.Events, out.Retry = c.Events, c.Retry
	if c.Stale != "" {
		out.Stale = recordedError(c.Stale)
	}
	return out
}

// recordedError is an error as the recording kept it: its text.
type recordedError string

func (e recordedError) Error() string { return string(e) }
