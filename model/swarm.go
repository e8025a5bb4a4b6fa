package model

import (
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
