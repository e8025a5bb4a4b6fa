package model

import (
	"sort"
	"strings"
)

// Labels that name the registry a container expects to be registered in,
// when topo follows several (the talk's advice: one registry for the
// micro-services, another for the infrastructure). topo.registry is
// topo's own; SERVICE_REGISTRY follows the registrator's SERVICE_*
// convention for a container that already carries SERVICE_NAME. The value
// is a registry's Name.
const (
	LabelRegistry        = "topo.registry"
	LabelServiceRegistry = "SERVICE_REGISTRY"
)

// LabelRole and RoleRegistry mark a container as a service registry
// whatever its image (topo.role=registry), for topo's auto-detection.
const (
	LabelRole    = "topo.role"
	RoleRegistry = "registry"
)

// LooksLikeRegistry says a container may be a Consul agent: labelled as
// the registry, or with consul in its image or name. Auto-detection probes
// those; the UI looks again when one starts.
func LooksLikeRegistry(c Container) bool {
	return c.Labels[LabelRole] == RoleRegistry ||
		strings.Contains(strings.ToLower(c.Image), "consul") ||
		strings.Contains(strings.ToLower(c.Name), "consul")
}

// ExpectedRegistry is the registry a container says it belongs in, or "":
// its topo.registry label, else SERVICE_REGISTRY as a label, else in its
// environment (as the registrator reads its settings, label first).
func ExpectedRegistry(c Container) string {
	for _, v := range []string{c.Labels[LabelRegistry], c.Labels[LabelServiceRegistry], c.ServiceEnv[LabelServiceRegistry]} {
		if r := strings.TrimSpace(v); r != "" {
			return r
		}
	}
	return ""
}

// Registries is every registry topo follows, each a section with its own
// state (one may be live while another is down), in the order they were
// named or found.
type Registries []Registry

// Misplaced is a container registered in a registry other than the one it
// names: an application instance in the infrastructure's registry, say.
type Misplaced struct {
	ContainerID string `json:"container_id"`
	// Expected is the registry the container's label names; Known says
	// topo follows a registry of that name.
	Expected string `json:"expected"`
	Known    bool   `json:"known"`
	// RegisteredIn are the other registries holding it, sorted.
	RegisteredIn []string `json:"registered_in"`
	// Missing says it is not in the expected registry at all, only
	// elsewhere (a wrong registration rather than an extra one).
	Missing bool `json:"missing"`
}

// RegistryLinks is the result of matching every registry against one
// topology.
type RegistryLinks struct {
	// ByRegistry holds each registry's own Links, by registry name.
	ByRegistry map[string]Links `json:"by_registry"`
	// RegisteredIn lists, per container ID, the names of the registries
	// holding an instance of it, sorted: what its badge says.
	RegisteredIn map[string][]string `json:"registered_in"`
	// Misplaced are sorted by container ID.
	Misplaced []Misplaced `json:"misplaced,omitempty"`
}

// Names are the registries' names in order.
func (rs Registries) Names() []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

// Link matches each registry against the topology and flags containers
// registered in a registry other than the one their label names. A
// container that names no registry is never flagged: with one registry,
// or without the label, there is nothing to expect.
func (rs Registries) Link(t Topology) RegistryLinks { return rs.LinkElsewhere(t, Elsewhere{}) }

// LinkElsewhere is Link for an engine that is one node of a swarm (see
// Registry.LinkElsewhere).
func (rs Registries) LinkElsewhere(t Topology, e Elsewhere) RegistryLinks {
	out := RegistryLinks{ByRegistry: make(map[string]Links, len(rs)), RegisteredIn: map[string][]string{}}
	idx := indexTopology(t)
	for _, r := range rs {
		l := r.linkIndexed(t, idx, e)
		out.ByRegistry[r.Name] = l
		for id := range l.ByContainer {
			out.RegisteredIn[id] = append(out.RegisteredIn[id], r.Name)
		}
	}
	// A container registered in one registry is not "unregistered" in
	// another that holds its service, nor is one that names another
	// registry: it is where it belongs, or flagged as misplaced. (With
	// one registry, its own Links stand as they are.)
	for name, l := range out.ByRegistry {
		if len(rs) < 2 {
			break
		}
		kept := l.Unregistered[:0:0]
		for _, u := range l.Unregistered {
			want, known := rs.Expected(t.Containers[u.ContainerID])
			if len(out.RegisteredIn[u.ContainerID]) > 0 || (known && want != name) {
				continue
			}
			kept = append(kept, u)
		}
		l.Unregistered = kept
		out.ByRegistry[name] = l
	}
	ids := make([]string, 0, len(out.RegisteredIn))
	for id := range out.RegisteredIn {
		sort.Strings(out.RegisteredIn[id])
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c, ok := t.Containers[id]
		if !ok {
			continue
		}
		label := ExpectedRegistry(c)
		if label == "" {
			continue
		}
		want, known := rs.Expected(c)
		var elsewhere []string
		in := false
		for _, name := range out.RegisteredIn[id] {
			if name == want {
				in = true
			} else {
				elsewhere = append(elsewhere, name)
			}
		}
		if len(elsewhere) == 0 {
			continue
		}
		out.Misplaced = append(out.Misplaced, Misplaced{ContainerID: id, Expected: want, Known: known,
			RegisteredIn: elsewhere, Missing: !in})
	}
	return out
}

// Expected is the name of the registry a container names, and whether
// topo follows it: the registry of that Name, else the one found in a
// container of the container's own compose project and of that compose
// service (each project's infra-consul is its own). It returns the label's
// value, unknown, when none matches; "" when the container names none.
func (rs Registries) Expected(c Container) (string, bool) {
	want := ExpectedRegistry(c)
	if want == "" {
		return "", false
	}
	for _, r := range rs {
		if r.Name == want {
			return r.Name, true
		}
	}
	if p := c.Project(); p != "" {
		for _, r := range rs {
			if r.ComposeService == want && r.ComposeProject == p {
				return r.Name, true
			}
		}
	}
	return want, false
}

// MisplacedIn returns the flag for a container, if it is misplaced.
func (l RegistryLinks) MisplacedIn(containerID string) (Misplaced, bool) {
	for _, m := range l.Misplaced {
		if m.ContainerID == containerID {
			return m, true
		}
	}
	return Misplaced{}, false
}
