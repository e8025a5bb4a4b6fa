package docker

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/network"

	"github.com/topo-dev/topo/model"
)

// Podman's Docker-compatible API (measured with Debian's podman 4.3) differs
// from Docker's in ways the lanes depend on; this file adapts them at the
// boundary, so nothing above the adapter knows which engine it reads:
//   - a container's endpoints carry the network's name where Docker gives
//     its ID (NetworkSettings.Networks[n].NetworkID is "n"), while lanes are
//     keyed by ID: endpoints are re-keyed by the network's ID;
//   - a network connect event names the container as its actor and not the
//     network: it becomes an update of that container, read afresh;
//   - a container's removal is "remove", not "destroy";
//   - network create and remove send no event at all: a new network's lane
//     appears with the next resync (after a reconnect), and a container on
//     it is drawn on its other lanes meanwhile. This is the one feature
//     Podman lacks for topo; the README's engines table says so.

// podmanComponent is how Podman names itself in the version's components.
const podmanComponent = "Podman Engine"

// isPodman says whether a version answer comes from Podman.
func isPodman(v types.Version) bool {
	for _, c := range v.Components {
		if c.Name == podmanComponent {
			return true
		}
	}
	return false
}

// networkIDs maps network names to IDs, learned from each Sync and, on a
// miss, from the engine; safe for the watcher and a Sync at once.
type networkIDs struct {
	mu   sync.Mutex
	byID map[string]string // name → ID
}

func (n *networkIDs) learn(nets []network.Summary) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.byID = make(map[string]string, len(nets))
	for _, nw := range nets {
		n.byID[nw.Name] = nw.ID
	}
}

func (n *networkIDs) lookup(name string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	id, ok := n.byID[name]
	return id, ok
}

func (n *networkIDs) add(name, id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byID == nil {
		n.byID = map[string]string{}
	}
	n.byID[name] = id
}

// isNetworkID is true for Docker's (and Podman's) 64-hex network IDs.
func isNetworkID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// networkLookupTimeout bounds the read of one network named by a
// container but not yet known (Podman sends no network create event).
const networkLookupTimeout = 2 * time.Second

// keyByNetworkID re-keys the endpoints that Podman keys by network name.
// Docker's endpoints already carry IDs and pass untouched, at no cost.
func (e *Engine) keyByNetworkID(ctx context.Context, c *model.Container) {
	if c == nil {
		return
	}
	for key, ep := range c.Endpoints {
		if isNetworkID(key) {
			continue
		}
		id, ok := e.netIDs.lookup(ep.NetworkName)
		if !ok {
			lctx, cancel := context.WithTimeout(ctx, networkLookupTimeout)
			n, err := e.api.NetworkInspect(lctx, ep.NetworkName, network.InspectOptions{})
			cancel()
			if err != nil || !isNetworkID(n.ID) {
				continue
			}
			id = n.ID
			e.netIDs.add(n.Name, n.ID)
		}
		delete(c.Endpoints, key)
		ep.NetworkID = id
		c.Endpoints[id] = ep
	}
}

// fromPodmanEvent turns Podman's spellings of events into Docker's. A
// Docker message passes unchanged: its connect events carry a
// "container" attribute and its removals are "destroy".
func fromPodmanEvent(m events.Message) events.Message {
	switch {
	case m.Type == events.ContainerEventType && m.Action == "remove":
		m.Action = events.ActionDestroy
	case m.Type == events.NetworkEventType && (m.Action == events.ActionConnect || m.Action == events.ActionDisconnect) && m.Actor.Attributes["container"] == "":
		// The actor is the container; which network is not said. Its
		// fresh state says it all.
		m.Type = events.ContainerEventType
		m.Action = events.ActionUpdate
	}
	return m
}
