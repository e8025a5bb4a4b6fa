package model

import (
	"sort"
	"strings"
)

// Conventions shared with the registrator (demo/registrator), which is what
// ties an instance to its container without guessing.
const (
	// MetaContainerID is the instance meta key holding the container's ID.
	MetaContainerID = "container_id"
	// LabelServiceName names the service a container should be registered
	// as (gliderlabs/registrator's SERVICE_NAME, here read from labels).
	LabelServiceName = "SERVICE_NAME"
)

// MatchKind says how an instance was tied to a container.
type MatchKind string

// The ways an instance is matched, most trusted first.
const (
	MatchNone MatchKind = ""
	// MatchMeta: the instance's meta container_id is the container's ID.
	MatchMeta MatchKind = "meta"
	// MatchID: the instance ID is "<container name>:<port>" (optionally
	// preceded by "<host>:", as gliderlabs/registrator writes it).
	MatchID MatchKind = "id"
	// MatchAddress: the instance's address is the container's IP on one of
	// its networks.
	MatchAddress MatchKind = "address"
)

// InstanceLink ties one registered instance to the container behind it.
type InstanceLink struct {
	Key        string `json:"key"`
	Service    string `json:"service"`
	InstanceID string `json:"instance_id"`
	// ContainerID is empty when no container matched, or when the one the
	// instance names is gone.
	ContainerID string      `json:"container_id,omitempty"`
	By          MatchKind   `json:"by,omitempty"`
	Health      CheckStatus `json:"health"`
	// Stale marks an instance whose container is gone or not running: the
	// registry still hands out an address nobody answers on.
	Stale bool `json:"stale,omitempty"`
	// Why says, for a person, why the instance is stale.
	Why string `json:"why,omitempty"`
	// Elsewhere names the swarm task behind the instance when it runs on
	// another node than the engine topo reads ("app.1 on worker-2"): not
	// in the topology, and not stale either.
	Elsewhere string `json:"elsewhere,omitempty"`
}

// Elsewhere names the containers that run out of the topology's sight:
// the tasks of a swarm on other nodes than the engine topo reads. An
// instance the registrator registered from another node links to them
// instead of being called stale.
type Elsewhere struct {
	// ByID and ByIP map a container ID and each of its addresses to how
	// the task is called ("app.1 on worker-2").
	ByID map[string]string
	ByIP map[string]string
}

func (e Elsewhere) byID(id string) (string, bool) {
	if d, ok := e.ByID[id]; ok {
		return d, true
	}
	if len(id) < 12 {
		return "", false
	}
	// Two tasks elsewhere whose IDs share the short one: either is truly
	// elsewhere, so the lower full ID is named, whatever the map's order.
	best, found := "", ""
	for full, d := range e.ByID {
		if strings.HasPrefix(full, id) && (best == "" || full < best) {
			best, found = full, d
		}
	}
	return found, best != ""
}

// Unregistered is a running container that belongs to a registered service
// but has no instance in the registry.
type Unregistered struct {
	ContainerID string `json:"container_id"`
	Service     string `json:"service"`
}

// Links is the result of matching a registry against a topology.
type Links struct {
	// Instances are keyed by Instance.Key.
	Instances map[string]InstanceLink `json:"instances"`
	// ByContainer lists, per container ID, the keys of its instances.
	ByContainer map[string][]string `json:"by_container"`
	// Stale and Unregistered are sorted by service, then instance or
	// container ID.
	Stale        []InstanceLink `json:"stale,omitempty"`
	Unregistered []Unregistered `json:"unregistered,omitempty"`
}

// ContainerHealth is the registry health of a container, for its badge: the
// worst of its instances' health.
func (l Links) ContainerHealth(containerID string) (CheckStatus, bool) {
	keys := l.ByContainer[containerID]
	if len(keys) == 0 {
		return "", false
	}
	h := CheckPassing
	for _, k := range keys {
		h = WorseStatus(h, l.Instances[k].Health)
	}
	return h, true
}

// UnregisteredService returns the registered service a container belongs to
// but is not registered in, if any.
func (l Links) UnregisteredService(containerID string) (string, bool) {
	for _, u := range l.Unregistered {
		if u.ContainerID == containerID {
			return u.Service, true
		}
	}
	return "", false
}

// Link matches every instance of the registry to a container of the
// topology and finds the two mismatches a viewer should notice: stale
// registrations and unregistered containers.
//
// An instance is only called stale on evidence that it belonged to a
// container: its meta or ID names one, or its address lies in a Docker
// network's subnet. Instances of things that never ran in a container (the
// Consul agent itself, a service on the host) are simply left unmatched.
func (r Registry) Link(t Topology) Links { return r.LinkElsewhere(t, Elsewhere{}) }

// LinkElsewhere is Link for an engine that is one node of a swarm: an
// instance whose container or address is a task on another node (e) is
// linked to that task rather than called stale.
func (r Registry) LinkElsewhere(t Topology, e Elsewhere) Links {
	return r.linkIndexed(t, indexTopology(t), e)
}

// linkIndexed is LinkElsewhere over an index of t made once for every
// registry (see Registries.LinkElsewhere).
func (r Registry) linkIndexed(t Topology, idx topologyIndex, e Elsewhere) Links {
	l := Links{Instances: make(map[string]InstanceLink, r.InstanceCount()), ByContainer: map[string][]string{}}
	for _, s := range r.Services {
		for _, in := range s.Instances {
			link := linkInstance(in, t, idx, e)
			l.Instances[link.Key] = link
			if link.ContainerID != "" {
				l.ByContainer[link.ContainerID] = append(l.ByContainer[link.ContainerID], link.Key)
			}
			if link.Stale {
				l.Stale = append(l.Stale, link)
			}
		}
	}
	for id := range l.ByContainer {
		sort.Strings(l.ByContainer[id])
	}
	sort.Slice(l.Stale, func(i, j int) bool {
		if l.Stale[i].Service != l.Stale[j].Service {
			return l.Stale[i].Service < l.Stale[j].Service
		}
		return l.Stale[i].Key < l.Stale[j].Key
	})
	// A compose service name alone is weak evidence (every project has an
	// "app"), so it counts only where an instance of the same service is a
	// container of the same project.
	projects := map[string]map[string]bool{}
	for _, link := range l.Instances {
		if c, ok := t.Containers[link.ContainerID]; ok && c.Project() != "" {
			if projects[link.Service] == nil {
				projects[link.Service] = map[string]bool{}
			}
			projects[link.Service][c.Project()] = true
		}
	}
	for _, c := range t.Containers {
		if !c.Running() {
			continue
		}
		name := ServiceNameOf(c)
		// The agent registers itself as "consul"; its own container is
		// not an instance that is missing.
		if name == "" || name == consulSelfService {
			continue
		}
		if _, registered := r.Service(name); !registered {
			continue
		}
		if c.Labels[LabelServiceName] == "" && !projects[name][c.Project()] {
			continue
		}
		found := false
		for _, k := range l.ByContainer[c.ID] {
			if l.Instances[k].Service == name {
				found = true
				break
			}
		}
		if !found {
			l.Unregistered = append(l.Unregistered, Unregistered{ContainerID: c.ID, Service: name})
		}
	}
	sort.Slice(l.Unregistered, func(i, j int) bool {
		a, b := l.Unregistered[i], l.Unregistered[j]
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.ContainerID < b.ContainerID
	})
	return l
}

// consulSelfService is the service every Consul agent registers for itself.
const consulSelfService = "consul"

// ServiceNameOf is the service a container says it belongs to: its
// SERVICE_NAME label, which overrides (as for the registrator), else its
// compose service.
func ServiceNameOf(c Container) string {
	if name := c.Labels[LabelServiceName]; name != "" {
		return name
	}
	return c.Service()
}

// topologyIndex finds containers by name and by address without a scan per
// instance: Link runs on every engine event, with hundreds of instances. It
// holds IDs, not Container values, which are large to copy.
type topologyIndex struct {
	byName map[string]string
	byIP   map[string][]string
}

func indexTopology(t Topology) topologyIndex {
	idx := topologyIndex{byName: make(map[string]string, len(t.Containers)), byIP: make(map[string][]string, len(t.Containers))}
	for id, c := range t.Containers {
		// Names are unique on an engine, but a topology may briefly hold
		// two containers of one name (a rename or re-create whose other
		// half has not arrived): the running one, then the lower ID, wins,
		// so the match does not follow map order.
		if other, dup := idx.byName[c.Name]; !dup || preferByName(c, t.Containers[other]) {
			idx.byName[c.Name] = id
		}
		for _, e := range c.Endpoints {
			for _, ip := range [2]string{e.IPv4, e.IPv6} {
				// A container has the same IP once, unless two of its
				// networks overlap; then it is listed twice, harmlessly.
				if ip != "" {
					idx.byIP[ip] = append(idx.byIP[ip], id)
				}
			}
		}
	}
	return idx
}
