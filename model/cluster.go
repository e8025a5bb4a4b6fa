package model

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Cluster is everything topo knows about a swarm, read from a manager. A
// value is a snapshot: the adapter builds a new one for every change, so the
// UI may keep it without copying.
type Cluster struct {
	ID string `json:"id"`
	// LocalNodeID is the node of the engine topo talks to: only its
	// tasks' containers can be acted on through this engine.
	LocalNodeID string           `json:"local_node_id"`
	Nodes       []Node           `json:"nodes"`
	Services    []SwarmService   `json:"services"`
	Tasks       []Task           `json:"tasks"`
	Networks    []OverlayNetwork `json:"networks"`
	Secrets     []SwarmObject    `json:"secrets,omitempty"`
	Configs     []SwarmObject    `json:"configs,omitempty"`

	// Events are the cluster events folded into this snapshot since the
	// previous one.
	Events []SwarmEvent `json:"-"`
	// Stale is set when the manager stopped answering: the rest is the
	// last state read, and Retry is when the adapter next tries.
	Stale error     `json:"-"`
	Retry time.Time `json:"-"`
}

// ErrSwarmWorker is what topo says when pointed at a worker: workers know
// nothing of the cluster beyond their own tasks.
var ErrSwarmWorker = errors.New("this engine is a swarm worker: point topo at a manager (docker node ls on a manager)")

// Node finds a node by ID.
func (c Cluster) Node(id string) (Node, bool) {
	for _, n := range c.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// Service finds a service by ID.
func (c Cluster) Service(id string) (SwarmService, bool) {
	for _, s := range c.Services {
		if s.ID == id {
			return s, true
		}
	}
	return SwarmService{}, false
}

// Task finds a task by ID.
func (c Cluster) Task(id string) (Task, bool) {
	for _, t := range c.Tasks {
		if t.ID == id {
			return t, true
		}
	}
	return Task{}, false
}

// FindService looks a service up by ID, unique ID prefix, name, or name
// without its stack prefix.
func (c Cluster) FindService(ref string) (SwarmService, bool) {
	var found []SwarmService
	for _, s := range c.Services {
		if s.ID == ref || s.Name == ref {
			return s, true
		}
		if s.DisplayName() == ref || (len(ref) >= 4 && strings.HasPrefix(s.ID, ref)) {
			found = append(found, s)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return SwarmService{}, false
}

// FindNode looks a node up by ID, unique ID prefix or hostname.
func (c Cluster) FindNode(ref string) (Node, bool) {
	var found []Node
	for _, n := range c.Nodes {
		if n.ID == ref {
			return n, true
		}
		if n.Hostname == ref || (len(ref) >= 4 && strings.HasPrefix(n.ID, ref)) {
			found = append(found, n)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return Node{}, false
}

// TaskName is how a task is called on screen: service.slot for replicated
// tasks (as `docker service ps` does), the service name for global ones,
// which the node column already tells apart.
func (c Cluster) TaskName(t Task) string {
	name := shortID(t.ServiceID)
	if s, ok := c.Service(t.ServiceID); ok {
		name = s.DisplayName()
	}
	if t.Slot > 0 {
		return name + "." + strconv.Itoa(t.Slot)
	}
	return name
}

// nodeDown reports whether a task's node is known to be down: its tasks'
// states are frozen at what the node last reported until it returns.
func (c Cluster) nodeDown(nodes map[string]Node, id string) bool {
	n, ok := nodes[id]
	return ok && n.State == NodeDown
}

func (c Cluster) nodeIndex() map[string]Node {
	idx := make(map[string]Node, len(c.Nodes))
	for _, n := range c.Nodes {
		idx[n.ID] = n
	}
	return idx
}

// Replicas returns the running and desired task counts of a service, as
// `docker service ls` shows them. A task on a node that is down is not
// counted as running, whatever its last reported state: the swarm is
// already replacing it. A global service's desired count is the nodes that
// are up and should run one of its tasks.
func (c Cluster) Replicas(serviceID string) (running, desired int) {
	s, _ := c.Service(serviceID)
	nodes := c.nodeIndex()
	wanted := map[string]bool{}
	for _, t := range c.Tasks {
		if t.ServiceID != serviceID || c.nodeDown(nodes, t.NodeID) {
			continue
		}
		if t.DesiredState == TaskRunning && t.State == TaskRunning {
			running++
		}
		if s.Global() && t.DesiredState == TaskRunning {
			wanted[t.NodeID] = true
		}
	}
	if s.Global() {
		return running, len(wanted)
	}
	return running, int(s.Replicas)
}

// ServiceConverging reports whether the swarm is still moving a service
// towards its spec: an update in progress, fewer or more tasks running
// than desired, or a task on its way up or down. Tasks on nodes that are
// down are left out: they cannot change until the node returns, and its
// return is an event. A paused update is not converging: nothing moves
// until a person acts.
func (c Cluster) ServiceConverging(serviceID string) bool {
	s, ok := c.Service(serviceID)
	if !ok {
		return false
	}
	if s.Updating() {
		return true
	}
	nodes := c.nodeIndex()
	for _, t := range c.Tasks {
		if t.ServiceID != serviceID || c.nodeDown(nodes, t.NodeID) {
			continue
		}
		if t.Leaving() {
			return true
		}
		if t.DesiredState == TaskRunning && t.State != TaskRunning && !t.State.Terminal() {
			return true
		}
	}
	if s.Job() {
		return false
	}
	running, desired := c.Replicas(serviceID)
	return running != desired
}

// Converging reports whether any service is converging: the adapter's
// reconcile loop re-lists tasks only while this holds, because tasks have
// no events of their own.
func (c Cluster) Converging() bool {
	for _, s := range c.Services {
		if c.ServiceConverging(s.ID) {
			return true
		}
	}
	return false
}

// VisibleTasks are the tasks worth drawing: those meant to run, those
// still running while the swarm stops them (they are visibly leaving), and
// for a slot (or a global service's node) with nothing running, its latest
// failure, so the error that keeps it down is on screen. The rest is
// history (`docker service ps` shows it).
func (c Cluster) VisibleTasks() []Task {
	type slotKey struct {
		service, node string
		slot          int
	}
	key := func(t Task) slotKey {
		if t.Slot > 0 {
			return slotKey{service: t.ServiceID, slot: t.Slot}
		}
		return slotKey{service: t.ServiceID, node: t.NodeID}
	}
	running := map[slotKey]bool{}
	lastFailure := map[slotKey]Task{}
	var out []Task
	for _, t := range c.Tasks {
		k := key(t)
		if t.State == TaskRunning && t.DesiredState == TaskRunning {
			running[k] = true
		}
		if t.State.Failed() {
			if prev, ok := lastFailure[k]; !ok || t.Since.After(prev.Since) {
				lastFailure[k] = t
			}
		}
		if t.DesiredState == TaskRunning || !t.State.Terminal() {
			out = append(out, t)
		}
	}
	for k, t := range lastFailure {
		if !running[k] && t.DesiredState != TaskRunning {
			out = append(out, t)
		}
	}
	c.sortTasks(out)
	return out
}

// sortTasks orders tasks by service name, slot, then those meant to run
// before those leaving, then newest first.
func (c Cluster) sortTasks(tasks []Task) {
	names := make(map[string]string, len(c.Services))
	for _, s := range c.Services {
		names[s.ID] = s.Name
	}
	sort.SliceStable(tasks, func(i, j int) bool {
		a, b := tasks[i], tasks[j]
		if names[a.ServiceID] != names[b.ServiceID] {
			return names[a.ServiceID] < names[b.ServiceID]
		}
		if a.ServiceID != b.ServiceID {
			return a.ServiceID < b.ServiceID
		}
		if a.Slot != b.Slot {
			return a.Slot < b.Slot
		}
		if ra, rb := a.DesiredState == TaskRunning, b.DesiredState == TaskRunning; ra != rb {
			return ra
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return a.ID < b.ID
	})
}
