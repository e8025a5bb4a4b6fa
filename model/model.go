// Package model is topo's domain: the networks and containers of one Docker
// engine, the events that change them, and the pure functions over them
// (applying an event, ordering lanes, laying containers out in columns,
// filtering). It imports the standard library only, so every rule about what
// the screen shows is testable without an engine or a terminal.
package model

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// State is a container's lifecycle state, as the engine names it.
type State string

// The states the engine reports.
const (
	StateCreated    State = "created"
	StateRunning    State = "running"
	StatePaused     State = "paused"
	StateRestarting State = "restarting"
	StateRemoving   State = "removing"
	StateExited     State = "exited"
	StateDead       State = "dead"
)

// Health is the result of a container's Docker health check; empty when the
// container has none.
type Health string

// The health values the engine reports.
const (
	HealthNone      Health = ""
	HealthStarting  Health = "starting"
	HealthHealthy   Health = "healthy"
	HealthUnhealthy Health = "unhealthy"
)

// Compose labels, read to group containers into services.
const (
	LabelComposeProject = "com.docker.compose.project"
	LabelComposeService = "com.docker.compose.service"
	LabelComposeNumber  = "com.docker.compose.container-number"
	LabelComposeOneoff  = "com.docker.compose.oneoff"
)

// Network is one Docker network: a lane on screen.
type Network struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Driver   string            `json:"driver"`
	Scope    string            `json:"scope"`
	Subnets  []string          `json:"subnets,omitempty"`
	Internal bool              `json:"internal,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// builtInRank orders the engine's own networks after every user network:
// the three every engine has, then the two a swarm node adds (the bridge
// its tasks reach the outside through, and the routing mesh), which hold
// no container a user runs and would take two lanes on every node.
func builtInRank(n Network) int {
	switch {
	case n.Name == "bridge":
		return 1
	case n.Name == "host":
		return 2
	case n.Name == "none":
		return 3
	case n.Name == "docker_gwbridge" && n.Driver == "bridge":
		return 4
	case n.Name == "ingress" && n.Driver == "overlay":
		return 5
	}
	return 0
}

// BuiltIn reports whether the engine made this network itself.
func (n Network) BuiltIn() bool { return builtInRank(n) > 0 }

// Endpoint is a container's attachment to one network.
type Endpoint struct {
	NetworkID   string   `json:"network_id"`
	NetworkName string   `json:"network"`
	IPv4        string   `json:"ipv4,omitempty"`
	IPv6        string   `json:"ipv6,omitempty"`
	Aliases     []string `json:"aliases,omitempty"`
}

// IP returns the address to show: IPv4 when there is one.
func (e Endpoint) IP() string {
	if e.IPv4 != "" {
		return e.IPv4
	}
	return e.IPv6
}

// Port is an exposed container port and, when published, its host side.
type Port struct {
	Private  uint16 `json:"private"`
	Public   uint16 `json:"public,omitempty"`
	Protocol string `json:"protocol"`
	HostIP   string `json:"host_ip,omitempty"`
}

// String renders the port the way `docker ps` does.
func (p Port) String() string {
	s := strconv.Itoa(int(p.Private)) + "/" + p.Protocol
	if p.Public == 0 {
		return s
	}
	host := p.HostIP
	if host == "" {
		host = "0.0.0.0"
	}
	return host + ":" + strconv.Itoa(int(p.Public)) + "->" + s
}

// Mount is a volume or bind mount of a container.
type Mount struct {
	Type        string `json:"type"`
	Name        string `json:"name,omitempty"`
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination"`
	ReadWrite   bool   `json:"rw"`
}

// Container is one container: a node in every lane it is attached to.
type Container struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Image     string            `json:"image"`
	Command   string            `json:"command,omitempty"`
	State     State             `json:"state"`
	Health    Health            `json:"health,omitempty"`
	HealthLog string            `json:"health_log,omitempty"`
	ExitCode  int               `json:"exit_code,omitempty"`
	Created   time.Time         `json:"created"`
	StartedAt time.Time         `json:"started_at,omitempty"`
	Ports     []Port            `json:"ports,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	Mounts    []Mount           `json:"mounts,omitempty"`
	// ServiceEnv holds the container's SERVICE_* environment variables
	// (the registrator's settings, which it reads from labels or the
	// environment), and no other: the rest of the environment may hold
	// secrets. Only an inspect fills it.
	ServiceEnv map[string]string `json:"service_env,omitempty"`
	// NetworkMode is "host", "none", "container:<id>" or a network name.
	NetworkMode string `json:"network_mode,omitempty"`
	// Endpoints are keyed by network ID.
	Endpoints map[string]Endpoint `json:"endpoints,omitempty"`
	// Detailed is set once the adapter has inspected the container, which
	// is what fills the health log, start time and aliases.
	Detailed bool `json:"-"`
}

// Project is the compose project the container belongs to, if any.
func (c Container) Project() string { return c.Labels[LabelComposeProject] }

// Service is the compose service the container belongs to, if any.
func (c Container) Service() string { return c.Labels[LabelComposeService] }

// Number is the compose container number, 0 when absent.
func (c Container) Number() int {
	// Layout's sort calls this thousands of times, and parsing a missing
	// label would allocate strconv's error each time.
	s, ok := c.Labels[LabelComposeNumber]
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(s)
	return n
}

// DisplayName is the short name for a node: `service.N` for compose
// containers (the project is shown once, elsewhere), else the name.
func (c Container) DisplayName() string {
	svc := c.Service()
	if svc == "" {
		svc = c.Labels[labelSwarmService]
	}
	if svc == "" {
		return c.Name
	}
	if n := c.Number(); n > 0 {
		return svc + "." + strconv.Itoa(n)
	}
	if slot := c.swarmSlot(); slot != "" {
		return svc + "." + slot
	}
	return svc
}

// Labels the engine puts on the container of a swarm task. Each label
// topo reads is declared once, here or beside LabelComposeProject; the
// adapters and the demo use these names.
const (
	labelSwarmService  = "com.docker.swarm.service.name"
	labelSwarmTaskName = "com.docker.swarm.task.name"
	// LabelSwarmTaskID marks the containers of swarm tasks.
	LabelSwarmTaskID = "com.docker.swarm.task.id"
)

// SupersededTask says a stopped container is an earlier attempt of a swarm
// task that another container of this engine now runs (the same service
// and slot, or the same global service): the swarm never restarts a task's
// container but replaces it, and keeps the old one as history.
func (c Container) SupersededTask(runningTasks map[string]bool) bool {
	return !c.Running() && runningTasks[c.swarmTaskKey()]
}

// RunningSwarmTasks are the keys of the swarm tasks whose containers run
// on this engine, for SupersededTask.
func (t Topology) RunningSwarmTasks() map[string]bool {
	out := map[string]bool{}
	for _, c := range t.Containers {
		if k := c.swarmTaskKey(); k != "" && c.Running() {
			out[k] = true
		}
	}
	return out
}

// swarmTaskKey names a swarm task's place: service and slot, or the
// service alone for a global one (this engine is one node); empty for a
// container that is no task.
func (c Container) swarmTaskKey() string {
	svc := c.Labels[labelSwarmService]
	if svc == "" {
		return ""
	}
	return svc + "/" + c.swarmSlot()
}

// swarmSlot is the slot of a replicated swarm task's container, from its
// task name SERVICE.SLOT.TASKID; empty for a global task, whose middle
// part is a node ID, and for any other container.
func (c Container) swarmSlot() string {
	name := c.Labels[labelSwarmTaskName]
	if name == "" {
		return ""
	}
	rest := strings.TrimPrefix(name, c.Labels[labelSwarmService]+".")
	slot, _, ok := strings.Cut(rest, ".")
	if !ok || slot == "" || strings.Trim(slot, "0123456789") != "" {
		return ""
	}
	return slot
}

// ShortID is the 12-character ID the docker CLI shows.
func (c Container) ShortID() string {
	if len(c.ID) > 12 {
		return c.ID[:12]
	}
	return c.ID
}

// Running reports whether the container's processes are up (paused counts:
// it keeps its addresses).
func (c Container) Running() bool {
	return c.State == StateRunning || c.State == StatePaused || c.State == StateRestarting
}

// Topology is everything topo knows about one engine.
type Topology struct {
	Networks   map[string]Network   `json:"-"`
	Containers map[string]Container `json:"-"`
	// Volumes are keyed by name (a volume's only identity).
	Volumes map[string]Volume `json:"-"`
	// VolumesError says why the volumes could not be read (an engine
	// proxy refusing them): the lanes still draw, the storage view says so.
	VolumesError string `json:"-"`
}

// NewTopology returns an empty topology ready for Apply.
func NewTopology() Topology {
	return Topology{Networks: map[string]Network{}, Containers: map[string]Container{}, Volumes: map[string]Volume{}}
}

// FindContainer looks a container up by ID, ID prefix, or name.
func (t Topology) FindContainer(ref string) (Container, bool) {
	if c, ok := t.Containers[ref]; ok {
		return c, true
	}
	ref = strings.TrimPrefix(ref, "/")
	var found []Container
	for _, c := range t.Containers {
		if c.Name == ref {
			return c, true
		}
		if len(ref) >= 4 && strings.HasPrefix(c.ID, ref) {
			found = append(found, c)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return Container{}, false
}

// FindNetwork looks a network up by ID or name.
func (t Topology) FindNetwork(ref string) (Network, bool) {
	if n, ok := t.Networks[ref]; ok {
		return n, true
	}
	for _, n := range t.Networks {
		if n.Name == ref {
			return n, true
		}
	}
	return Network{}, false
}

// Counts returns the number of running containers and of all containers,
// a swarm task's superseded attempts left out.
func (t Topology) Counts() (running, total int) {
	// As in the lanes, a swarm task's earlier attempt that another
	// container now runs is history, not a container down.
	tasks := t.RunningSwarmTasks()
	for _, c := range t.Containers {
		if c.SupersededTask(tasks) {
			continue
		}
		total++
		if c.Running() {
			running++
		}
	}
	return running, total
}

// OrderedNetworks returns the lanes in screen order: user networks by name,
// then bridge, host and none; the built-in ones only when asked.
func (t Topology) OrderedNetworks(withBuiltIn bool) []Network {
	nets := make([]Network, 0, len(t.Networks))
	for _, n := range t.Networks {
		if !withBuiltIn && n.BuiltIn() {
			continue
		}
		nets = append(nets, n)
	}
	sort.Slice(nets, func(i, j int) bool {
		ri, rj := builtInRank(nets[i]), builtInRank(nets[j])
		if ri != rj {
			return ri < rj
		}
		if nets[i].Name != nets[j].Name {
			return nets[i].Name < nets[j].Name
		}
		return nets[i].ID < nets[j].ID
	})
	return nets
}

// Matches reports whether a container matches a filter query: a
// case-insensitive substring of its name, display name, image, or any label
// written as key=value.
func (c Container) Matches(query string) bool {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return true
	}
	if strings.Contains(strings.ToLower(c.Name), q) ||
		strings.Contains(strings.ToLower(c.DisplayName()), q) ||
		strings.Contains(strings.ToLower(c.Image), q) {
		return true
	}
	for k, v := range c.Labels {
		if strings.Contains(strings.ToLower(k+"="+v), q) {
			return true
		}
	}
	return false
}

// SharedNetworks returns the names of the networks both containers are
// attached to, sorted.
func SharedNetworks(a, b Container) []string {
	var shared []string
	for id, e := range a.Endpoints {
		if _, ok := b.Endpoints[id]; ok {
			shared = append(shared, e.NetworkName)
		}
	}
	sort.Strings(shared)
	return shared
}
