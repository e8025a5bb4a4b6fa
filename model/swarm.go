package model

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file is the Swarm side of the domain: the nodes, services and tasks
// of a cluster as a manager reports them, and the pure functions the
// cluster view and the adapter's reconcile loop need (replicas, whether a
// service is still converging, which task sits under which node in which
// overlay lane).

// NodeRole is a node's role in the swarm.
type NodeRole string

// The roles.
const (
	RoleManager NodeRole = "manager"
	RoleWorker  NodeRole = "worker"
)

// NodeAvailability is whether the scheduler may place tasks on a node.
type NodeAvailability string

// The availabilities.
const (
	AvailabilityActive NodeAvailability = "active"
	AvailabilityPause  NodeAvailability = "pause"
	AvailabilityDrain  NodeAvailability = "drain"
)

// NodeState is what the managers know of a node's health (its heartbeat).
type NodeState string

// The node states.
const (
	NodeUnknown      NodeState = "unknown"
	NodeDown         NodeState = "down"
	NodeReady        NodeState = "ready"
	NodeDisconnected NodeState = "disconnected"
)

// Node is one machine of the swarm.
type Node struct {
	ID            string            `json:"id"`
	Hostname      string            `json:"hostname"`
	Role          NodeRole          `json:"role"`
	Leader        bool              `json:"leader,omitempty"`
	Reachability  string            `json:"manager_reachability,omitempty"` // managers only
	Availability  NodeAvailability  `json:"availability"`
	State         NodeState         `json:"state"`
	Message       string            `json:"message,omitempty"` // why it is down, from the managers
	Addr          string            `json:"addr,omitempty"`
	EngineVersion string            `json:"engine_version,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
}

// Up reports whether the managers hear the node's heartbeat.
func (n Node) Up() bool { return n.State == NodeReady }

// Schedulable reports whether new tasks may land on the node.
func (n Node) Schedulable() bool { return n.Up() && n.Availability == AvailabilityActive }

// ServiceMode is how a service decides its number of tasks.
type ServiceMode string

// The service modes.
const (
	ModeReplicated    ServiceMode = "replicated"
	ModeGlobal        ServiceMode = "global"
	ModeReplicatedJob ServiceMode = "replicated-job"
	ModeGlobalJob     ServiceMode = "global-job"
)

// Update states a service's UpdateStatus can be in.
const (
	UpdateUpdating        = "updating"
	UpdatePaused          = "paused"
	UpdateCompleted       = "completed"
	UpdateRollbackStarted = "rollback_started"
	UpdateRollbackPaused  = "rollback_paused"
	UpdateRollbackDone    = "rollback_completed"
)

// Endpoint modes of a service: a virtual IP load-balanced by IPVS, or DNS
// round robin over the tasks (the only one that works without IPVS).
const (
	EndpointVIP   = "vip"
	EndpointDNSRR = "dnsrr"
)

// LabelStackNamespace is the label `docker stack deploy` (and topo's demo
// deployer) puts on every object of a stack.
const LabelStackNamespace = "com.docker.stack.namespace"

// PublishedPort is a service port published on the swarm's nodes.
type PublishedPort struct {
	Target    uint16 `json:"target"`
	Published uint16 `json:"published,omitempty"`
	Protocol  string `json:"protocol"`
	// Mode is "ingress" (every node, through the routing mesh) or "host"
	// (only the nodes running a task).
	Mode string `json:"mode"`
}

// String renders the port the way `docker service ls` does.
func (p PublishedPort) String() string {
	s := strconv.Itoa(int(p.Target)) + "/" + p.Protocol
	if p.Published != 0 {
		s = "*:" + strconv.Itoa(int(p.Published)) + "->" + s
	}
	if p.Mode == "host" {
		s += " (host)"
	}
	return s
}

// VirtualIP is a service's address on one network (endpoint mode vip).
type VirtualIP struct {
	NetworkID string `json:"network_id"`
	Addr      string `json:"addr"`
}

// SwarmService is one swarm service.
type SwarmService struct {
	ID   string      `json:"id"`
	Name string      `json:"name"`
	Mode ServiceMode `json:"mode"`
	// Replicas is the desired count of a replicated service.
	Replicas      uint64            `json:"replicas,omitempty"`
	Image         string            `json:"image"`
	UpdateState   string            `json:"update_state,omitempty"`
	UpdateMessage string            `json:"update_message,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	EndpointMode  string            `json:"endpoint_mode,omitempty"`
	Ports         []PublishedPort   `json:"ports,omitempty"`
	VirtualIPs    []VirtualIP       `json:"virtual_ips,omitempty"`
	// Networks are the IDs of the networks the spec attaches tasks to.
	Networks  []string  `json:"networks,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Stack is the stack the service belongs to, if any.
func (s SwarmService) Stack() string { return s.Labels[LabelStackNamespace] }

// DisplayName drops the stack prefix that `docker stack` adds to every
// service name: the stack is named once, in the view's title.
func (s SwarmService) DisplayName() string {
	if st := s.Stack(); st != "" && strings.HasPrefix(s.Name, st+"_") && len(s.Name) > len(st)+1 {
		return s.Name[len(st)+1:]
	}
	return s.Name
}

// Global reports whether the service runs one task per eligible node.
func (s SwarmService) Global() bool { return s.Mode == ModeGlobal || s.Mode == ModeGlobalJob }

// Job reports whether the service runs to completion rather than forever.
func (s SwarmService) Job() bool { return s.Mode == ModeReplicatedJob || s.Mode == ModeGlobalJob }

// Updating reports whether a rolling update or rollback is in progress.
func (s SwarmService) Updating() bool {
	return s.UpdateState == UpdateUpdating || s.UpdateState == UpdateRollbackStarted
}

// TaskState is a task's state, as the swarm names it.
type TaskState string

// The task states, in the order a task goes through them.
const (
	TaskNew       TaskState = "new"
	TaskAllocated TaskState = "allocated"
	TaskPending   TaskState = "pending"
	TaskAssigned  TaskState = "assigned"
	TaskAccepted  TaskState = "accepted"
	TaskPreparing TaskState = "preparing"
	TaskReady     TaskState = "ready"
	TaskStarting  TaskState = "starting"
	TaskRunning   TaskState = "running"
	TaskComplete  TaskState = "complete"
	TaskShutdown  TaskState = "shutdown"
	TaskFailed    TaskState = "failed"
	TaskRejected  TaskState = "rejected"
	TaskRemove    TaskState = "remove"
	TaskOrphaned  TaskState = "orphaned"
)

var taskRank = map[TaskState]int{
	TaskNew: 0, TaskAllocated: 1, TaskPending: 2, TaskAssigned: 3, TaskAccepted: 4, TaskPreparing: 5,
	TaskReady: 6, TaskStarting: 7, TaskRunning: 8, TaskComplete: 9, TaskShutdown: 10, TaskFailed: 11,
	TaskRejected: 12, TaskRemove: 13, TaskOrphaned: 14,
}

// Terminal reports whether a task in this state will never run again.
func (s TaskState) Terminal() bool {
	r, ok := taskRank[s]
	return ok && r > taskRank[TaskRunning]
}

// Failed reports whether the state ends a task with an error.
func (s TaskState) Failed() bool { return s == TaskFailed || s == TaskRejected }

// TaskNetwork is a task's attachment to one network.
type TaskNetwork struct {
	NetworkID string `json:"network_id"`
	Name      string `json:"network"`
	// Addresses are in CIDR form, as the swarm gives them.
	Addresses []string `json:"addresses,omitempty"`
}

// IP is the first address without its prefix length.
func (n TaskNetwork) IP() string {
	if len(n.Addresses) == 0 {
		return ""
	}
	ip, _, _ := strings.Cut(n.Addresses[0], "/")
	return ip
}

// Task is one scheduled unit of a service: a container on a node.
type Task struct {
	ID        string `json:"id"`
	ServiceID string `json:"service_id"`
	// Slot numbers a replicated service's tasks; global tasks have 0 and
	// are told apart by node.
	Slot         int       `json:"slot,omitempty"`
	NodeID       string    `json:"node_id,omitempty"`
	DesiredState TaskState `json:"desired_state"`
	State        TaskState `json:"state"`
	Message      string    `json:"message,omitempty"`
	Err          string    `json:"error,omitempty"`
	ContainerID  string    `json:"container_id,omitempty"`
	ExitCode     int       `json:"exit_code,omitempty"`
	// Since is when the task entered its current state.
	Since    time.Time     `json:"since"`
	Created  time.Time     `json:"created"`
	Networks []TaskNetwork `json:"networks,omitempty"`
}

// Network returns the task's attachment to a network.
func (t Task) Network(id string) (TaskNetwork, bool) {
	for _, n := range t.Networks {
		if n.NetworkID == id {
			return n, true
		}
	}
	return TaskNetwork{}, false
}

// Leaving reports whether the swarm is stopping a task that still runs (or
// is still being prepared): a drain, a scale-down or a rolling update.
func (t Task) Leaving() bool {
	switch t.DesiredState {
	case TaskShutdown, TaskRemove, TaskOrphaned:
		return !t.State.Terminal()
	}
	return false
}

// ShortID is the 12-character ID the docker CLI shows.
func (t Task) ShortID() string { return shortID(t.ID) }

// OverlayNetwork is a swarm-scoped network: a lane of the cluster view.
type OverlayNetwork struct {
	Network
	// Ingress is the routing-mesh network that carries published ports.
	Ingress    bool `json:"ingress,omitempty"`
	Attachable bool `json:"attachable,omitempty"`
}

// SwarmObject is a secret or config: only its name is shown.
type SwarmObject struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SwarmEvent is one cluster event (node, service, network, secret, config),
// kept with the snapshot it caused so the event log can say what happened.
type SwarmEvent struct {
	Time       time.Time         `json:"time"`
	Type       string            `json:"type"`
	Action     string            `json:"action"`
	ActorID    string            `json:"actor_id"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Describe renders the event as one line for the event log, using the
// attributes the swarm adds to updates ("state.new", "replicas.old"...).
func (e SwarmEvent) Describe() string {
	name := e.Attributes["name"]
	if name == "" {
		name = shortID(e.ActorID)
	}
	a := e.Attributes
	switch {
	case e.Type == "node" && a["state.new"] != "":
		return "node " + name + " " + a["state.new"]
	case e.Type == "node" && a["availability.new"] != "":
		return "node " + name + " availability " + a["availability.new"]
	case e.Type == "service" && a["replicas.new"] != "":
		return "service " + name + " scaled " + a["replicas.old"] + "→" + a["replicas.new"]
	case e.Type == "service" && a["updatestate.new"] != "":
		return "service " + name + " update " + a["updatestate.new"]
	case e.Type == "service" && a["image.new"] != "":
		return "service " + name + " image " + a["image.new"]
	}
	return e.Type + " " + e.Action + " " + name
}

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

// NoOverlay is the lane ID of tasks attached to no swarm network (host or
// bridge networking): they still have a node.
const NoOverlay = ""

// ClusterLane is one lane of the cluster view: an overlay network and, for
// every node, the tasks it runs on that network.
type ClusterLane struct {
	// Network is the overlay; its ID is NoOverlay for the lane of tasks
	// on no overlay network.
	Network OverlayNetwork
	// Groups has one entry per node, in the order of OrderedNodes, plus a
	// last one with NodeID "" when some tasks are not yet on a node.
	Groups []NodeGroup
}

// Count is the number of tasks in the lane.
func (l ClusterLane) Count() int {
	n := 0
	for _, g := range l.Groups {
		n += len(g.Tasks)
	}
	return n
}

// NodeGroup is the tasks of one node in one lane.
type NodeGroup struct {
	NodeID string
	Tasks  []Task
}

// OrderedNodes returns the nodes in screen order: managers first (the
// leader before the others), then workers, each by hostname.
func (c Cluster) OrderedNodes() []Node {
	nodes := append([]Node(nil), c.Nodes...)
	sort.SliceStable(nodes, func(i, j int) bool {
		a, b := nodes[i], nodes[j]
		if (a.Role == RoleManager) != (b.Role == RoleManager) {
			return a.Role == RoleManager
		}
		if a.Leader != b.Leader {
			return a.Leader
		}
		if a.Hostname != b.Hostname {
			return a.Hostname < b.Hostname
		}
		return a.ID < b.ID
	})
	return nodes
}

// OrderedNetworks returns the overlay lanes' networks: user overlays by
// name, then the ingress network.
func (c Cluster) OrderedNetworks() []OverlayNetwork {
	nets := append([]OverlayNetwork(nil), c.Networks...)
	sort.SliceStable(nets, func(i, j int) bool {
		if nets[i].Ingress != nets[j].Ingress {
			return !nets[i].Ingress
		}
		if nets[i].Name != nets[j].Name {
			return nets[i].Name < nets[j].Name
		}
		return nets[i].ID < nets[j].ID
	})
	return nets
}

// Unassigned reports whether some visible task has no node yet.
func (c Cluster) Unassigned() bool {
	for _, t := range c.VisibleTasks() {
		if t.NodeID == "" {
			return true
		}
	}
	return false
}

// Lanes places every visible task under its node in the lane of each
// overlay network it is attached to. Every overlay gets a lane, empty or
// not, and every lane has a group per node so node columns line up across
// lanes; tasks on no overlay get a last lane of their own.
func (c Cluster) Lanes() []ClusterLane {
	nodes := c.OrderedNodes()
	tasks := c.VisibleTasks()
	unassigned := false
	for _, t := range tasks {
		if t.NodeID == "" {
			unassigned = true
		}
	}
	newLane := func(n OverlayNetwork) ClusterLane {
		l := ClusterLane{Network: n, Groups: make([]NodeGroup, 0, len(nodes)+1)}
		for _, node := range nodes {
			l.Groups = append(l.Groups, NodeGroup{NodeID: node.ID})
		}
		if unassigned {
			l.Groups = append(l.Groups, NodeGroup{})
		}
		return l
	}
	group := make(map[string]int, len(nodes)+1)
	for i, n := range nodes {
		group[n.ID] = i
	}
	group[""] = len(nodes)

	var lanes []ClusterLane
	laneOf := map[string]int{}
	for _, n := range c.OrderedNetworks() {
		laneOf[n.ID] = len(lanes)
		lanes = append(lanes, newLane(n))
	}
	noOverlay := -1
	for _, t := range tasks {
		g, ok := group[t.NodeID]
		if !ok {
			// A node removed from the swarm while its tasks linger:
			// show them with the tasks not on a node.
			continue
		}
		placed := false
		for _, tn := range t.Networks {
			if li, ok := laneOf[tn.NetworkID]; ok {
				lanes[li].Groups[g].Tasks = append(lanes[li].Groups[g].Tasks, t)
				placed = true
			}
		}
		if !placed {
			if noOverlay < 0 {
				noOverlay = len(lanes)
				lanes = append(lanes, newLane(OverlayNetwork{Network: Network{ID: NoOverlay, Name: "no overlay network"}}))
			}
			lanes[noOverlay].Groups[g].Tasks = append(lanes[noOverlay].Groups[g].Tasks, t)
		}
	}
	return lanes
}

// TasksOn returns the visible tasks of a node.
func (c Cluster) TasksOn(nodeID string) []Task {
	var out []Task
	for _, t := range c.VisibleTasks() {
		if t.NodeID == nodeID {
			out = append(out, t)
		}
	}
	return out
}

// ClusterExport is the cluster as `topo snapshot --json` and `topo swarm
// status --json` print it: sorted, with each service's counts worked out
// so scripts need not redo them.
type ClusterExport struct {
	ID       string               `json:"id"`
	Nodes    []Node               `json:"nodes"`
	Services []ExportSwarmService `json:"services"`
	Tasks    []ExportTask         `json:"tasks"`
	Networks []OverlayNetwork     `json:"networks"`
}

// ExportSwarmService is a service with its counts.
type ExportSwarmService struct {
	SwarmService
	Running    int  `json:"running"`
	Desired    int  `json:"desired"`
	Converging bool `json:"converging"`
}

// ExportTask is a task with the names a reader needs.
type ExportTask struct {
	Task
	Name     string `json:"name"`
	Service  string `json:"service"`
	Hostname string `json:"node,omitempty"`
}

// Export builds the exported form. Tasks are every task the manager
// listed (history included), so a script can see failures too.
func (c Cluster) Export() ClusterExport {
	out := ClusterExport{ID: c.ID, Nodes: c.OrderedNodes(), Services: []ExportSwarmService{}, Tasks: []ExportTask{},
		Networks: c.OrderedNetworks()}
	if out.Nodes == nil {
		out.Nodes = []Node{}
	}
	if out.Networks == nil {
		out.Networks = []OverlayNetwork{}
	}
	services := append([]SwarmService(nil), c.Services...)
	sort.Slice(services, func(i, j int) bool { return services[i].Name < services[j].Name })
	for _, s := range services {
		running, desired := c.Replicas(s.ID)
		out.Services = append(out.Services, ExportSwarmService{SwarmService: s, Running: running, Desired: desired, Converging: c.ServiceConverging(s.ID)})
	}
	tasks := append([]Task(nil), c.Tasks...)
	c.sortTasks(tasks)
	nodes := c.nodeIndex()
	for _, t := range tasks {
		s, _ := c.Service(t.ServiceID)
		out.Tasks = append(out.Tasks, ExportTask{Task: t, Name: c.TaskName(t), Service: s.Name, Hostname: nodes[t.NodeID].Hostname})
	}
	return out
}

// Elsewhere names the running tasks on other nodes than the local one, by
// container ID and by overlay address, for the registry's links: the
// registrator of each node registers its own node's tasks.
func (c Cluster) Elsewhere() Elsewhere {
	e := Elsewhere{ByID: map[string]string{}, ByIP: map[string]string{}}
	for _, t := range c.VisibleTasks() {
		if t.NodeID == c.LocalNodeID || t.State != TaskRunning {
			continue
		}
		d := c.TaskName(t)
		if n, ok := c.Node(t.NodeID); ok {
			d += " on " + n.Hostname
		}
		if t.ContainerID != "" {
			e.ByID[t.ContainerID] = d
		}
		for _, n := range t.Networks {
			if ip := n.IP(); ip != "" {
				e.ByIP[ip] = d
			}
		}
	}
	return e
}
