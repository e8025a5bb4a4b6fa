package model

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
)

// This file holds observed traffic: the TCP connections the kernel's socket
// tables show for each container's network namespace, attributed to the
// containers at both ends, grouped per pair, and held against the
// isolation model of isolation.go.

// LabelBridge on a container says it is meant to relay between networks
// (a load balancer, a gateway): flows that cross networks through it are
// expected. Any other container that takes connections on one network and
// makes them on another, between containers that cannot reach each other,
// is flagged.
const LabelBridge = "topo.bridge"

// SocketTable is the socket table of one network namespace, as the flow
// agent read it.
type SocketTable struct {
	// Containers are the containers using the namespace, its owner first
	// (a container:<id> container shares its owner's table, and every
	// host-network container the host's).
	Containers []string
	// Listen are the listening addresses, "IP:port".
	Listen []string
	Conns  []SocketConn
	// Ended are connections closed within the last minute (TIME_WAIT,
	// in the table of the side that closed first): they count as new
	// when not seen before, so short connections (one per request)
	// show as a rate, but not in Conns.
	Ended []SocketConn
}

// SocketConn is one established connection, "IP:port" at each end.
type SocketConn struct {
	Local, Remote string
}

// FlowEnd is one end of a flow: a container, or an address outside.
type FlowEnd struct {
	// ID is the container's; empty for an address that is no container
	// of this engine ("outside").
	ID string `json:"id,omitempty"`
	// Name is the container's display name, or the outside address.
	Name string `json:"name"`
	// Network is the network whose address the end used, when known.
	Network string `json:"network,omitempty"`
}

// Outside reports whether the end is no container of this engine.
func (e FlowEnd) Outside() bool { return e.ID == "" }

// Flow is the connections from one client to one server port.
type Flow struct {
	Client FlowEnd `json:"client"`
	Server FlowEnd `json:"server"`
	Port   int     `json:"port"`
	Conns  int     `json:"conns"`
	// New is the number of connections not seen in the previous sample,
	// those opened and already closed since included.
	New int `json:"new"`
	// Flag says why the flow is held against the isolation model; empty
	// when it agrees.
	Flag string `json:"flag,omitempty"`
}

// Listener is a listening port of a container.
type Listener struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Addr string `json:"addr"`
	Port int    `json:"port"`
	// Used: some flow reached it in the sample.
	Used bool `json:"used"`
	// Outside: reachable from outside the engine's networks (published,
	// or on the host's network and not loopback only), or reached from
	// outside in the sample.
	Outside bool `json:"outside,omitempty"`
}

// FlowSample is one reading of every namespace.
type FlowSample struct {
	Flows     []Flow     `json:"flows"`
	Listeners []Listener `json:"listeners"`
	// Nodes is set on a swarm: which nodes the sample covers (nil: this
	// engine only).
	Nodes *FlowNodes `json:"nodes,omitempty"`
	// Seen names every connection of the sample, for the next one's New.
	Seen map[string]bool `json:"-"`
}

// Flagged counts the flows held against the isolation model.
func (s FlowSample) Flagged() int {
	n := 0
	for _, f := range s.Flows {
		if f.Flag != "" {
			n++
		}
	}
	return n
}

type addrOwner struct {
	id, network string
}

// connView is one connection as attributed so far: a side known only by
// address from one table can be named by the other side's table.
type connView struct {
	client, server FlowEnd
	port           int
	// ended: only seen closed (TIME_WAIT).
	ended bool
}

// Flows attributes the connections of tables to containers and groups
// them per client, server and port. prev is the previous sample's Seen
// (nil for the first sample: every connection then counts as new).
func (t Topology) Flows(tables []SocketTable, prev map[string]bool) FlowSample {
	ix := t.flowIndex()
	conns := map[string]*connView{}
	var order []string
	var listeners []Listener
	for _, tab := range tables {
		if len(tab.Containers) == 0 {
			continue
		}
		listening, ls := ix.listeners(tab)
		listeners = append(listeners, ls...)
		order = ix.attribute(tab, listening, conns, order)
	}
	s := group(conns, order, prev)
	t.holdAgainstIsolation(s.Flows)
	s.Listeners = t.judgeListeners(listeners, s.Flows)
	// slices, not sort.SliceStable: its reflection swapped every element
	// through a write barrier, a visible share of a sample a second.
	slices.SortStableFunc(s.Flows, func(a, b Flow) int {
		switch {
		case flowLess(a, b):
			return -1
		case flowLess(b, a):
			return 1
		}
		return 0
	})
	slices.SortStableFunc(s.Listeners, func(a, b Listener) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Addr, b.Addr))
	})
	return s
}

// flowIndex says who holds an address: a container's endpoint, a
// published port, or the host's side of one.
type flowIndex struct {
	t         Topology
	byIP      map[netip.Addr]addrOwner
	published map[int]string // public port -> container ID
	hostIPs   map[netip.Addr]bool
	subnets   []netip.Prefix
}

func (t Topology) flowIndex() *flowIndex {
	ix := &flowIndex{t: t, byIP: map[netip.Addr]addrOwner{}, published: map[int]string{}, hostIPs: map[netip.Addr]bool{}}
	for _, n := range t.Networks {
		for _, sn := range n.Subnets {
			if p, err := netip.ParsePrefix(sn); err == nil {
				ix.subnets = append(ix.subnets, p)
			}
		}
	}
	for _, c := range t.Containers {
		if isProbe(c) || !c.Running() {
			continue
		}
		for _, e := range c.Endpoints {
			for _, s := range []string{e.IPv4, e.IPv6} {
				if a, err := netip.ParseAddr(s); err == nil {
					ix.byIP[a.Unmap()] = addrOwner{c.ID, e.NetworkName}
				}
			}
		}
		for _, p := range c.Ports {
			if p.Public != 0 && p.Protocol == "tcp" {
				ix.published[int(p.Public)] = c.ID
				if a, err := netip.ParseAddr(p.HostIP); err == nil {
					ix.hostIPs[a.Unmap()] = true
				}
			}
		}
	}
	return ix
}

// hostSide says whether a is the host's side of a published port, as a
// container dials it: an address of a network's subnet that no container
// holds (the bridge's gateway), loopback (a host-network client), or the
// port's own host IP. The host's other addresses are not known here: a
// client dialling the host's public address sees the port's container as
// outside.
func (ix *flowIndex) hostSide(a netip.Addr) bool {
	if a.IsLoopback() || a.IsUnspecified() || ix.hostIPs[a] {
		return true
	}
	for _, p := range ix.subnets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (ix *flowIndex) end(id, network string) FlowEnd {
	if c, ok := ix.t.Containers[id]; ok {
		return FlowEnd{ID: id, Name: c.DisplayName(), Network: network}
	}
	return FlowEnd{ID: id, Name: id, Network: network}
}

// listeners reads a table's listening sockets: the set to tell servers
// by, and those others could use (loopback ones nobody else can).
func (ix *flowIndex) listeners(tab SocketTable) (map[string]bool, []Listener) {
	owner := tab.Containers[0]
	listening := map[string]bool{}
	var out []Listener
	for _, l := range tab.Listen {
		ap, err := netip.ParseAddrPort(l)
		if err != nil {
			continue
		}
		listening[l] = true
		if ap.Addr().IsUnspecified() {
			listening[anyAddr(int(ap.Port()))] = true
		}
		if ap.Addr().IsLoopback() {
			continue // nobody else can use it: neither unused nor exposed
		}
		out = append(out, Listener{ID: owner, Name: ix.end(owner, "").Name, Addr: l, Port: int(ap.Port())})
	}
	return listening, out
}

// attribute names both ends of a table's connections and adds them to
// conns, keyed so that the two tables of one connection meet; it returns
// order with the new keys appended.
func (ix *flowIndex) attribute(tab SocketTable, listening map[string]bool, conns map[string]*connView, order []string) []string {
	owner := tab.Containers[0]
	all := tab.Conns
	if len(tab.Ended) > 0 {
		all = append(append([]SocketConn(nil), tab.Conns...), tab.Ended...)
	}
	for i, sc := range all {
		ended := i >= len(tab.Conns)
		local, err1 := netip.ParseAddrPort(sc.Local)
		remote, err2 := netip.ParseAddrPort(sc.Remote)
		if err1 != nil || err2 != nil || local.Addr().IsLoopback() {
			// Loopback stays inside one namespace: no flow between
			// containers.
			continue
		}
		here := ix.end(owner, ix.byIP[local.Addr().Unmap()].network)
		if o, ok := ix.byIP[local.Addr().Unmap()]; ok && o.id != owner && !contains(tab.Containers, o.id) {
			// A stale address now someone else's: still ours.
			here.Network = ""
		}
		isServer := listening[sc.Local] || listening[anyAddr(int(local.Port()))]
		var there FlowEnd
		if o, ok := ix.byIP[remote.Addr().Unmap()]; ok {
			there = ix.end(o.id, o.network)
		} else if id, ok := ix.published[int(remote.Port())]; ok && !isServer && ix.hostSide(remote.Addr().Unmap()) {
			there = ix.end(id, "")
		} else {
			there = FlowEnd{Name: remote.Addr().Unmap().String()}
		}
		// One key per connection from either end's table: the agent
		// already spells a v4-mapped address as IPv4.
		v := connView{client: here, server: there, port: int(remote.Port()), ended: ended}
		key := local.String() + ">" + remote.String()
		if isServer {
			v = connView{client: there, server: here, port: int(local.Port()), ended: ended}
			key = remote.String() + ">" + local.String()
		}
		if got, ok := conns[key]; ok {
			if got.client.Outside() && !v.client.Outside() {
				got.client = v.client
			}
			if got.server.Outside() && !v.server.Outside() {
				got.server = v.server
			}
			got.ended = got.ended && v.ended
			continue
		}
		conns[key] = &v
		order = append(order, key)
	}
	return order
}

// group counts the connections per client, server and port, in the order
// they were first seen.
func group(conns map[string]*connView, order []string, prev map[string]bool) FlowSample {
	s := FlowSample{Flows: []Flow{}, Listeners: []Listener{}, Seen: make(map[string]bool, len(conns))}
	groups := map[string]int{}
	for _, key := range order {
		v := conns[key]
		s.Seen[key] = true
		if v.ended && prev[key] {
			// Closed and counted already: no flow of its own.
			continue
		}
		g := v.client.ID + "|" + v.client.Name + "|" + v.server.ID + "|" + v.server.Name + "|" + strconv.Itoa(v.port)
		i, ok := groups[g]
		if !ok {
			i = len(s.Flows)
			groups[g] = i
			s.Flows = append(s.Flows, Flow{Client: v.client, Server: v.server, Port: v.port})
		}
		if !v.ended {
			s.Flows[i].Conns++
		}
		if !prev[key] {
			s.Flows[i].New++
		}
	}
	return s
}

// judgeListeners says of each listener whether anyone used it and
// whether it is reachable from outside (published, on the host's
// network, or used by a client that is no container).
func (t Topology) judgeListeners(listeners []Listener, flows []Flow) []Listener {
	out := []Listener{}
	for _, l := range listeners {
		c := t.Containers[l.ID]
		for _, p := range c.Ports {
			if int(p.Private) == l.Port && p.Public != 0 {
				l.Outside = true
			}
		}
		if mode, _ := t.netMode(c); mode == NetModeHost {
			l.Outside = true
		}
		for _, f := range flows {
			if f.Server.ID == l.ID && f.Port == l.Port {
				l.Used = true
				if f.Client.Outside() {
					l.Outside = true
				}
			}
		}
		out = append(out, l)
	}
	return out
}

// anyAddr keys a wildcard listener on port in a table's listening set.
func anyAddr(port int) string { return "*:" + strconv.Itoa(port) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func flowLess(a, b Flow) bool {
	if a.Client.Name != b.Client.Name {
		return a.Client.Name < b.Client.Name
	}
	if a.Server.Name != b.Server.Name {
		return a.Server.Name < b.Server.Name
	}
	return a.Port < b.Port
}
