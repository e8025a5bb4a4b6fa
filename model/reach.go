package model

import (
	"slices"
	"sort"
	"strings"
)

// This file holds network isolation as the topology states it: who can
// reach whom, and through which networks. matrix.go summarises it per
// service; probe.go and probeplan.go compare it with what a probe saw
// from inside a container.
//
// The rule Docker enforces on one host: containers on the same network
// reach each other; a packet from one bridge network to another is dropped
// by the DOCKER-ISOLATION chains, also when it is addressed to the other
// network's IP of a container that is on both. So an expectation is made
// per network address, not per container.

// LabelProbe marks topo's own short-lived probe containers. They live in
// another container's namespace for a second, so every view leaves them out.
const LabelProbe = "topo.probe"

// NetMode is how a container is attached to the network.
type NetMode string

// The network modes, as far as reachability is concerned.
const (
	// NetModeNetworks: attached to one or more Docker networks.
	NetModeNetworks NetMode = "networks"
	// NetModeHost: the host's own network stack.
	NetModeHost NetMode = "host"
	// NetModeNone: loopback only.
	NetModeNone NetMode = "none"
	// NetModeShared: another container's namespace (container:<id>).
	NetModeShared NetMode = "container"
)

// Reach is the expectation for a path between two containers.
type Reach string

// The expectations.
const (
	Reachable Reach = "reachable"
	Isolated  Reach = "isolated"
	// ReachUnknown: the topology cannot say (the namespace owner of a
	// container:<id> container is not known).
	ReachUnknown Reach = "unknown"
)

// hostVia names the host's stack where a shared network name would stand.
const hostVia = "host"

// side is one end of a path: the namespace's mode and networks.
type side struct {
	mode NetMode
	// nets maps network ID to name, without the "none" network.
	nets map[string]string
	// bridged: on a local bridge network, which the host has an interface
	// on, so the host's stack and this container reach each other.
	bridged bool
	unknown bool
}

func (t Topology) netMode(c Container) (NetMode, string) {
	m := c.NetworkMode
	switch {
	case m == "host":
		return NetModeHost, ""
	case m == "none":
		return NetModeNone, ""
	case strings.HasPrefix(m, "container:"):
		return NetModeShared, strings.TrimPrefix(m, "container:")
	case m == "" && len(c.Endpoints) == 1:
		// The list call of some engines leaves the mode out; the single
		// endpoint then names it.
		for _, e := range c.Endpoints {
			switch e.NetworkName {
			case "host":
				return NetModeHost, ""
			case "none":
				return NetModeNone, ""
			}
		}
	}
	return NetModeNetworks, ""
}

// namespace resolves a container:<id> container to the container whose
// namespace it uses (following a chain a few steps, never looping).
func (t Topology) namespace(c Container) (owner Container, mode NetMode, ok bool) {
	for range 4 {
		mode, ref := t.netMode(c)
		if mode != NetModeShared {
			return c, mode, true
		}
		next, found := t.FindContainer(ref)
		if !found {
			return c, NetModeShared, false
		}
		c = next
	}
	return c, NetModeShared, false
}

func (t Topology) sideOf(c Container) side {
	owner, mode, ok := t.namespace(c)
	s := side{mode: mode, nets: map[string]string{}, unknown: !ok}
	if !ok {
		return s
	}
	if mode == NetModeShared {
		s.mode = NetModeNetworks
	}
	for id, e := range owner.Endpoints {
		if e.NetworkName == "none" || e.NetworkName == "host" {
			continue
		}
		s.nets[id] = e.NetworkName
		if t.hostRoutes(id) {
			s.bridged = true
		}
	}
	return s
}

// hostRoutes reports whether the host has an interface on the network, so
// the host's stack reaches its containers directly: local bridges do,
// overlay and macvlan networks do not.
func (t Topology) hostRoutes(netID string) bool {
	n, ok := t.Networks[netID]
	if !ok {
		n, ok = t.FindNetwork(netID)
	}
	return !ok || n.Driver == "" || n.Driver == "bridge"
}

// judge is the one rule behind the overlay, the matrix and the probe.
func judge(a, b side) (Reach, []string) {
	switch {
	case a.unknown || b.unknown:
		return ReachUnknown, nil
	case a.mode == NetModeNone || b.mode == NetModeNone:
		return Isolated, nil
	case a.mode == NetModeHost && b.mode == NetModeHost:
		return Reachable, []string{hostVia}
	case a.mode == NetModeHost && b.bridged, b.mode == NetModeHost && a.bridged:
		return Reachable, []string{hostVia}
	case a.mode == NetModeHost || b.mode == NetModeHost:
		return Isolated, nil
	}
	var via []string
	for id, name := range a.nets {
		if _, ok := b.nets[id]; ok {
			via = append(via, name)
		}
	}
	if len(via) == 0 {
		return Isolated, nil
	}
	sort.Strings(via)
	return Reachable, slices.Compact(via)
}

func isProbe(c Container) bool { return c.Labels[LabelProbe] != "" }

// Peer is another container as the selected one sees it.
type Peer struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Reach   Reach    `json:"reach"`
	Via     []string `json:"via,omitempty"`
	Running bool     `json:"running"`
	// SameNamespace: one uses the other's network namespace, so they
	// share every address, loopback included.
	SameNamespace bool `json:"same_namespace,omitempty"`
}

// Isolation is what one container can reach, for the overlay and its
// legend.
type Isolation struct {
	Subject Container
	Mode    NetMode
	// Owner is the container whose namespace the subject uses, when its
	// mode is container:<id>, and OwnerName its display name.
	Owner     string
	OwnerName string
	// Peers are every other container, by display name.
	Peers []Peer
	lanes map[string]bool
	index map[string]int
}

// Isolation computes what the container id can reach. It works for a
// stopped container too: it shows what the container reaches when it runs.
func (t Topology) Isolation(id string) (Isolation, bool) {
	c, ok := t.Containers[id]
	if !ok {
		return Isolation{}, false
	}
	iso := Isolation{Subject: c, lanes: map[string]bool{}, index: map[string]int{}}
	iso.Mode, _ = t.netMode(c)
	owner, _, _ := t.namespace(c)
	if iso.Mode == NetModeShared && owner.ID != c.ID {
		iso.Owner, iso.OwnerName = owner.ID, owner.DisplayName()
	}
	for netID, e := range owner.Endpoints {
		iso.lanes[netID] = true
		iso.lanes["name:"+e.NetworkName] = true
	}
	me := t.sideOf(c)
	for _, p := range t.Containers {
		if p.ID == c.ID || isProbe(p) {
			continue
		}
		peer := Peer{ID: p.ID, Name: p.DisplayName(), Running: p.Running()}
		if po, _, _ := t.namespace(p); po.ID == owner.ID {
			peer.SameNamespace, peer.Reach = true, Reachable
		} else {
			peer.Reach, peer.Via = judge(me, t.sideOf(p))
		}
		iso.Peers = append(iso.Peers, peer)
	}
	sort.Slice(iso.Peers, func(i, j int) bool {
		a, b := iso.Peers[i], iso.Peers[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	for i, p := range iso.Peers {
		iso.index[p.ID] = i
	}
	return iso, true
}

// Peer returns what the subject expects of one other container.
func (iso Isolation) Peer(id string) (Peer, bool) {
	i, ok := iso.index[id]
	if !ok {
		return Peer{}, false
	}
	return iso.Peers[i], true
}

// OnNetwork reports whether the subject (or the namespace it uses) is
// attached to the network.
func (iso Isolation) OnNetwork(n Network) bool {
	return iso.lanes[n.ID] || iso.lanes["name:"+n.Name]
}

// Note is one sentence about a subject whose reach is not plain network
// membership, or "" when it is.
func (iso Isolation) Note() string {
	name := iso.Subject.DisplayName()
	var note string
	switch iso.Mode {
	case NetModeHost:
		note = name + " uses the host's network: it reaches containers on local bridges through the host"
	case NetModeNone:
		note = name + " has network none: loopback only, it reaches no other container"
	case NetModeShared:
		owner := iso.OwnerName
		if owner == "" {
			owner = strings.TrimPrefix(iso.Subject.NetworkMode, "container:")
			if len(owner) > 12 {
				owner = owner[:12]
			}
			note = name + " uses the network namespace of " + owner + ", which topo does not know: its reach is unknown"
			break
		}
		note = name + " uses the network namespace of " + owner + ": it reaches what that container reaches"
	}
	if !iso.Subject.Running() {
		stopped := name + " is " + string(iso.Subject.State) + ": this is what it reaches once it runs"
		if note == "" {
			return stopped
		}
		return stopped + "; " + strings.TrimPrefix(note, name+" ")
	}
	return note
}
