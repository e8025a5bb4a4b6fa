package model

import (
	"strconv"
	"strings"
	"time"
)

// Event is one engine event, as the adapter hands it over: the engine's own
// type, action and attributes, plus the fresh state of the object when the
// adapter could read it (it may have vanished since).
type Event struct {
	Time       time.Time         `json:"time"`
	Type       string            `json:"type"` // "container", "network" or "volume"
	Action     string            `json:"action"`
	ActorID    string            `json:"actor_id"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// Container is the container's state read after the event, when it
	// still existed. For network connect/disconnect it is the container
	// named by the event.
	Container *Container `json:"-"`
	// Network is the network's state read after a network create.
	Network *Network `json:"-"`
	// Volume is the volume's state read after a volume create.
	Volume *Volume `json:"-"`
}

// Event types.
const (
	EventContainer = "container"
	EventNetwork   = "network"
)

// healthPrefix starts the action of a health event: "health_status: healthy".
const healthPrefix = "health_status"

// BaseAction strips the detail the engine appends to some actions
// ("health_status: healthy", "exec_start: sh").
func (e Event) BaseAction() string {
	action, _, _ := strings.Cut(e.Action, ":")
	return strings.TrimSpace(action)
}

// Apply changes the topology as the event says. It is idempotent for a
// replayed event and tolerates events about objects it has never seen, so
// that a resync racing the event stream converges on the engine's state.
func (t *Topology) Apply(ev Event) {
	switch ev.Type {
	case EventContainer:
		t.applyContainer(ev)
	case EventNetwork:
		t.applyNetwork(ev)
	case EventVolume:
		t.applyVolume(ev)
	}
}

func (t *Topology) applyContainer(ev Event) {
	action := ev.BaseAction()
	if action == "destroy" {
		delete(t.Containers, ev.ActorID)
		return
	}
	if ev.Container != nil {
		t.Containers[ev.Container.ID] = *ev.Container
		return
	}
	c, known := t.Containers[ev.ActorID]
	if !known {
		if action != "create" && action != "start" {
			// Without its state we would invent a container; the next
			// event that carries state, or a resync, adds it.
			return
		}
		c = Container{ID: ev.ActorID, Created: ev.Time, State: StateCreated,
			Endpoints: map[string]Endpoint{}, Labels: map[string]string{}}
		for k, v := range ev.Attributes {
			switch k {
			case "name":
				c.Name = v
			case "image":
				c.Image = v
			default:
				c.Labels[k] = v
			}
		}
	}
	switch action {
	case "start", "unpause", "restart":
		c.State = StateRunning
		if action == "start" {
			c.StartedAt = ev.Time
		}
	case "die", "stop":
		c.State = StateExited
		if code, err := strconv.Atoi(ev.Attributes["exitCode"]); err == nil {
			c.ExitCode = code
		}
	case "pause":
		c.State = StatePaused
	case "rename":
		if name := ev.Attributes["name"]; name != "" {
			c.Name = strings.TrimPrefix(name, "/")
		}
	case healthPrefix:
		_, status, _ := strings.Cut(ev.Action, ":")
		c.Health = Health(strings.TrimSpace(status))
	}
	t.Containers[c.ID] = c
}

func (t *Topology) applyNetwork(ev Event) {
	switch ev.BaseAction() {
	case "create":
		if ev.Network != nil {
			t.Networks[ev.Network.ID] = *ev.Network
		} else if _, ok := t.Networks[ev.ActorID]; !ok {
			t.Networks[ev.ActorID] = Network{ID: ev.ActorID, Name: ev.Attributes["name"], Driver: ev.Attributes["type"]}
		}
	case "destroy":
		delete(t.Networks, ev.ActorID)
		for id, c := range t.Containers {
			if _, ok := c.Endpoints[ev.ActorID]; ok {
				t.Containers[id] = c.withoutEndpoint(ev.ActorID)
			}
		}
	case "connect":
		if ev.Container != nil {
			t.Containers[ev.Container.ID] = *ev.Container
			return
		}
		c, ok := t.Containers[ev.Attributes["container"]]
		if !ok {
			return
		}
		if _, attached := c.Endpoints[ev.ActorID]; attached {
			return
		}
		endpoints := make(map[string]Endpoint, len(c.Endpoints)+1)
		for k, v := range c.Endpoints {
			endpoints[k] = v
		}
		endpoints[ev.ActorID] = Endpoint{NetworkID: ev.ActorID, NetworkName: ev.Attributes["name"]}
		c.Endpoints = endpoints
		t.Containers[c.ID] = c
	case "disconnect":
		// The engine also sends disconnect when a container stops, while
		// the container stays configured on the network (and comes back
		// to it on start). The state read after the event tells the two
		// apart; without it, the event is taken at its word.
		if ev.Container != nil {
			t.Containers[ev.Container.ID] = *ev.Container
			return
		}
		if c, ok := t.Containers[ev.Attributes["container"]]; ok {
			t.Containers[c.ID] = c.withoutEndpoint(ev.ActorID)
		}
	}
}

// withoutEndpoint copies the endpoint map rather than mutating it, because
// Container values are shared between topology snapshots.
func (c Container) withoutEndpoint(networkID string) Container {
	endpoints := make(map[string]Endpoint, len(c.Endpoints))
	for k, v := range c.Endpoints {
		if k != networkID {
			endpoints[k] = v
		}
	}
	c.Endpoints = endpoints
	return c
}

// Describe renders the event as one short line for the event log.
func (e Event) Describe(t Topology) string {
	action := e.Action
	switch e.Type {
	case EventContainer:
		name := e.Attributes["name"]
		if c, ok := t.Containers[e.ActorID]; ok {
			name = c.DisplayName()
		} else if e.Container != nil {
			name = e.Container.DisplayName()
		}
		if name == "" {
			name = shortID(e.ActorID)
		}
		if e.BaseAction() == "die" && e.Attributes["exitCode"] != "" {
			return "die " + name + " (exit " + e.Attributes["exitCode"] + ")"
		}
		return action + " " + name
	case EventNetwork:
		network := e.Attributes["name"]
		if network == "" {
			network = shortID(e.ActorID)
		}
		switch e.BaseAction() {
		case "connect", "disconnect":
			cname := shortID(e.Attributes["container"])
			if c, ok := t.Containers[e.Attributes["container"]]; ok {
				cname = c.DisplayName()
			} else if e.Container != nil {
				cname = e.Container.DisplayName()
			}
			arrow := " → "
			if e.BaseAction() == "disconnect" {
				arrow = " ↛ "
			}
			return e.BaseAction() + " " + cname + arrow + network
		}
		return "network " + action + " " + network
	case EventVolume:
		return describeVolume(e, t)
	}
	return e.Type + " " + action
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Update is what the engine adapter's watch delivers: exactly one field is
// set.
type Update struct {
	// Snapshot is a full resync, after the first connect and every
	// reconnect; it replaces the topology.
	Snapshot *Topology
	// Event is one engine event, to apply to the current topology.
	Event *Event
	// Lost says the stream broke: the screen keeps the last state marked
	// stale while the adapter reconnects. Retry is when it next tries.
	Lost  error
	Retry time.Time
	// Refresh is a container's state read late, after an event of its
	// went without one (the engine held the container too long) and no
	// newer event of it came since; it is no event of its own.
	Refresh *Container
}

// Refresh replaces a container's state with one read after its latest
// event. A container the topology no longer holds stays gone: a late read
// must not bring back what a destroy removed.
func (t *Topology) Refresh(c Container) {
	if _, ok := t.Containers[c.ID]; ok {
		t.Containers[c.ID] = c
	}
}

// Action is something a person can do to a container.
type Action string

// The container actions.
const (
	ActionKill    Action = "kill"
	ActionStop    Action = "stop"
	ActionStart   Action = "start"
	ActionRestart Action = "restart"
)

// PastTense is the action's result word, for "killed web.1".
func (a Action) PastTense() string {
	switch a {
	case ActionKill:
		return "killed"
	case ActionStop:
		return "stopped"
	case ActionStart:
		return "started"
	case ActionRestart:
		return "restarted"
	}
	return string(a) + " done"
}
