package model

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file holds network isolation as the topology states it (who can
// reach whom, and through which networks) and the comparison of that
// expectation with what a probe saw from inside a container.
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

// MatrixEntry is one row (and column) of the reachability matrix: a compose
// service with all its replicas, or a container outside compose.
type MatrixEntry struct {
	// Key is "project/service" for a service, the container ID otherwise.
	Key     string
	Label   string
	Service bool
	// Members are the container IDs, in replica order.
	Members []string
	side    side
}

// MatrixCell is the expectation between two entries.
type MatrixCell struct {
	// Self: the diagonal, an entry with itself.
	Self  bool
	Reach Reach
	Via   []string
}

// Matrix is the reachability of every service (or container) to every
// other. Cells are computed when asked for, so a screen of a 300-container
// matrix costs only the cells it shows.
type Matrix struct {
	Entries []MatrixEntry
	// Services reports whether any entry is a compose service.
	Services bool
	index    map[string]int
}

// Matrix groups the containers into compose services (containers outside
// compose stay on their own) and returns the matrix over them.
func (t Topology) Matrix() Matrix {
	m := Matrix{index: make(map[string]int, 2*len(t.Containers))}
	byKey := make(map[string]*MatrixEntry, len(t.Containers))
	var order []string
	names := map[string]map[string]bool{} // service name -> projects
	members := make(map[string][]Container, len(t.Containers))
	for _, c := range t.Containers {
		if isProbe(c) {
			continue
		}
		key, label, svc := c.ID, c.Name, false
		if s := c.Service(); s != "" {
			key, label, svc = c.Project()+"/"+s, s, true
			if names[s] == nil {
				names[s] = map[string]bool{}
			}
			names[s][c.Project()] = true
		}
		e, ok := byKey[key]
		if !ok {
			e = &MatrixEntry{Key: key, Label: label, Service: svc}
			byKey[key] = e
			order = append(order, key)
		}
		members[key] = append(members[key], c)
	}
	for _, key := range order {
		e := byKey[key]
		if e.Service && len(names[e.Label]) > 1 {
			e.Label = key
		}
		ms := members[key]
		sort.Slice(ms, func(i, j int) bool { return lessContainer(ms[i], ms[j]) })
		for _, c := range ms {
			e.Members = append(e.Members, c.ID)
		}
		if len(ms) == 1 {
			// Most rows are one container: its side is the row's.
			e.side = t.sideOf(ms[0])
		} else {
			e.side = t.serviceSide(ms)
		}
		m.Services = m.Services || e.Service
		m.Entries = append(m.Entries, *e)
	}
	sort.Slice(m.Entries, func(i, j int) bool {
		a, b := m.Entries[i], m.Entries[j]
		if a.Label != b.Label {
			return a.Label < b.Label
		}
		return a.Key < b.Key
	})
	for i, e := range m.Entries {
		m.index[e.Key] = i
		for _, id := range e.Members {
			m.index[id] = i
		}
	}
	return m
}

// serviceSide merges the sides of a service's replicas. They normally
// share one mode; when they do not, the most connected mode speaks for the
// row.
func (t Topology) serviceSide(ms []Container) side {
	out := side{nets: map[string]string{}}
	modes := map[NetMode]bool{}
	for _, c := range ms {
		s := t.sideOf(c)
		modes[s.mode] = true
		out.unknown = out.unknown || s.unknown
		out.bridged = out.bridged || s.bridged
		for id, n := range s.nets {
			out.nets[id] = n
		}
	}
	switch {
	case modes[NetModeNetworks]:
		out.mode = NetModeNetworks
	case modes[NetModeHost]:
		out.mode = NetModeHost
	default:
		out.mode = NetModeNone
	}
	return out
}

// Cell is the expectation from row's entry to col's.
func (m Matrix) Cell(row, col int) MatrixCell {
	if row == col {
		return MatrixCell{Self: true, Reach: Reachable}
	}
	r, via := judge(m.Entries[row].side, m.Entries[col].side)
	return MatrixCell{Reach: r, Via: via}
}

// Index finds the entry of a container ID or an entry key.
func (m Matrix) Index(ref string) (int, bool) {
	i, ok := m.index[ref]
	return i, ok
}

// Probing: a probe runs inside the subject's network namespace and opens a
// TCP connection to each address of every other container.

// PortSource says where a probed port came from.
type PortSource string

// The port sources.
const (
	PortExposed PortSource = "exposed"
	PortGiven   PortSource = "given"
	// PortFallback is tried on a container that exposes no TCP port: a
	// refusal still proves the network path, since the packet got there.
	PortFallback PortSource = "fallback"
)

// FallbackPort is probed on containers that expose no TCP port.
const FallbackPort = 80

// ProbeTarget is one address to try and what the topology expects of it.
type ProbeTarget struct {
	ContainerID string     `json:"container_id"`
	Name        string     `json:"name"`
	Network     string     `json:"network"`
	Address     string     `json:"address"`
	Port        int        `json:"port"`
	PortSource  PortSource `json:"port_source"`
	Expect      Reach      `json:"expect"`
	// Via names what carries the expected path: the shared network, or
	// "host".
	Via []string `json:"via,omitempty"`
}

// ExpectText is the expectation as a person reads it.
func (t ProbeTarget) ExpectText() string {
	if t.Expect == Reachable && len(t.Via) > 0 {
		return "reachable via " + strings.Join(t.Via, ", ")
	}
	if t.Expect == Isolated && t.Network != "" {
		return "isolated (" + t.Network + " not shared)"
	}
	return string(t.Expect)
}

// ProbeOutcome is what one TCP connection attempt did.
type ProbeOutcome string

// The outcomes.
const (
	// OutcomeConnected: the handshake completed.
	OutcomeConnected ProbeOutcome = "connected"
	// OutcomeRefused: the target (or a REJECT rule) answered with a reset
	// or an ICMP port-unreachable: the packet crossed the network.
	OutcomeRefused ProbeOutcome = "refused"
	// OutcomeTimeout: no answer at all: dropped on the way, which is how
	// Docker's isolation and a disabled inter-container communication look.
	OutcomeTimeout ProbeOutcome = "timeout"
	// OutcomeUnreachable: the kernel had no route (network none, an
	// IPv6 address from an IPv4-only namespace).
	OutcomeUnreachable ProbeOutcome = "unreachable"
	// OutcomeError: anything else; Error says what.
	OutcomeError ProbeOutcome = "error"
)

// PathOpen reports whether packets crossed the network.
func (o ProbeOutcome) PathOpen() bool { return o == OutcomeConnected || o == OutcomeRefused }

// ProbeResult is what the probe agent reports for one address; it is also
// the agent's JSON wire format.
type ProbeResult struct {
	Address string       `json:"address"`
	Outcome ProbeOutcome `json:"outcome"`
	Error   string       `json:"error,omitempty"`
	Millis  float64      `json:"ms"`
}

// Verdict compares a result with its expectation.
type Verdict string

// The verdicts; Mismatch says which ones contradict the topology.
const (
	VerdictReachable Verdict = "reachable as expected"
	VerdictIsolated  Verdict = "isolated as expected"
	// VerdictBlocked: expected reachable, nothing came back.
	VerdictBlocked Verdict = "MISMATCH: blocked"
	// VerdictNotListening: expected reachable, the network carried the
	// packet, but nothing listens on the port.
	VerdictNotListening Verdict = "MISMATCH: not listening"
	// VerdictLeak: expected isolated, yet the packet got through.
	VerdictLeak Verdict = "MISMATCH: reachable"
	// VerdictFailed: the attempt failed in a way that proves nothing.
	VerdictFailed Verdict = "MISMATCH: probe failed"
	// VerdictGone: the target stopped during the probe.
	VerdictGone Verdict = "target stopped"
	// VerdictSkipped: nothing to try (no address, or the same namespace).
	VerdictSkipped Verdict = "not probed"
	// VerdictObserved: no expectation to compare with.
	VerdictObserved Verdict = "observed"
)

// Mismatch reports whether the verdict contradicts the expectation.
func (v Verdict) Mismatch() bool { return strings.HasPrefix(string(v), "MISMATCH") }

// ProbeLine is one row of a probe report.
type ProbeLine struct {
	Target ProbeTarget `json:"target"`
	// Result is empty for a skipped target.
	Result  ProbeResult `json:"result"`
	Verdict Verdict     `json:"verdict"`
	Why     string      `json:"why,omitempty"`
}

// ResultText is the result as a person reads it: the outcome and how long
// it took, or "" for a target that was not probed.
func (l ProbeLine) ResultText() string {
	if l.Result.Outcome == "" {
		return ""
	}
	switch ms := l.Result.Millis; {
	case ms <= 0:
		return string(l.Result.Outcome)
	case ms < 10:
		return fmt.Sprintf("%s %.1f ms", l.Result.Outcome, ms)
	default:
		return fmt.Sprintf("%s %.0f ms", l.Result.Outcome, ms)
	}
}

// Judge compares one result with its target's expectation and says why in
// words a person acts on.
func Judge(t ProbeTarget, r ProbeResult) (Verdict, string) {
	port := strconv.Itoa(t.Port)
	switch {
	case r.Outcome == OutcomeError:
		return VerdictFailed, "the probe could not try: " + r.Error
	case t.Expect == ReachUnknown:
		return VerdictObserved, ""
	case t.Expect == Isolated && r.Outcome == OutcomeConnected:
		return VerdictLeak, "connected although no network is shared: a route or firewall rule bypasses Docker's isolation"
	case t.Expect == Isolated && r.Outcome == OutcomeRefused:
		return VerdictLeak, "the target answered (refused) although no network is shared: packets cross the isolation"
	case t.Expect == Isolated:
		return VerdictIsolated, ""
	case r.Outcome == OutcomeConnected:
		return VerdictReachable, ""
	case r.Outcome == OutcomeRefused && t.PortSource == PortFallback:
		return VerdictReachable, "port " + port + " refused, which proves the path: the container exposes no TCP port"
	case r.Outcome == OutcomeRefused:
		return VerdictNotListening, "the network carries the packet but nothing listens on " + port + " (or a firewall rejects it)"
	}
	why := "no answer: inter-container communication disabled on " + strings.Join(t.Via, ", ") +
		", a firewall dropping it, or the target is not up"
	if r.Outcome == OutcomeUnreachable {
		why = "no route to " + t.Address + ": " + r.Error
	}
	return VerdictBlocked, why
}

// ProbePlan is what a probe will try from one container.
type ProbePlan struct {
	Subject Container
	Mode    NetMode
	Targets []ProbeTarget
	// Skipped are the peers with nothing to try, as report lines.
	Skipped []ProbeLine
}

// Errors of PlanProbe, for errors.Is.
var (
	ErrNoContainer = errors.New("no such container")
	ErrNotRunning  = errors.New("not running")
)

// PlanProbe lists what a probe from the container from tries: every
// address of every other container (or of the container to), on each
// exposed TCP port, or on port when it is not 0.
func (t Topology) PlanProbe(from, to string, port int) (ProbePlan, error) {
	c, ok := t.FindContainer(from)
	if !ok {
		return ProbePlan{}, fmt.Errorf("probe from %q: %w: check the name with `topo snapshot`", from, ErrNoContainer)
	}
	if c.State != StateRunning && c.State != StatePaused {
		return ProbePlan{}, fmt.Errorf("probe from %s: %w (%s): it has no network namespace to probe from; start it first",
			c.DisplayName(), ErrNotRunning, c.State)
	}
	var only map[string]bool
	if to != "" {
		if only = t.findTargets(to); len(only) == 0 {
			return ProbePlan{}, fmt.Errorf("probe target %q: %w: name a container, a compose service, or service.N", to, ErrNoContainer)
		}
	}
	iso, _ := t.Isolation(c.ID)
	plan := ProbePlan{Subject: c, Mode: iso.Mode}
	me := t.sideOf(c)
	for _, peer := range iso.Peers {
		p := t.Containers[peer.ID]
		if only != nil && !only[p.ID] {
			continue
		}
		skip := func(why string) {
			plan.Skipped = append(plan.Skipped, ProbeLine{
				Target:  ProbeTarget{ContainerID: p.ID, Name: peer.Name, Expect: peer.Reach, Via: peer.Via},
				Verdict: VerdictSkipped, Why: why,
			})
		}
		switch {
		case peer.SameNamespace:
			skip("shares the network namespace: reachable on localhost")
			continue
		case !p.Running():
			skip(string(p.State) + ": no address to try")
			continue
		}
		owner, _, _ := t.namespace(p)
		before := len(plan.Targets)
		ports := probePorts(p, port)
		for _, netID := range sortedEndpointIDs(owner) {
			e := owner.Endpoints[netID]
			expect, via := t.expectOn(me, netID, e.NetworkName)
			for _, ip := range []string{e.IPv4, e.IPv6} {
				if ip == "" {
					continue
				}
				for _, pp := range ports {
					plan.Targets = append(plan.Targets, ProbeTarget{
						ContainerID: p.ID, Name: peer.Name, Network: e.NetworkName,
						Address: net.JoinHostPort(ip, strconv.Itoa(pp.port)), Port: pp.port, PortSource: pp.source,
						Expect: expect, Via: via,
					})
				}
			}
		}
		if len(plan.Targets) == before {
			switch m, _ := t.netMode(owner); m {
			case NetModeHost:
				skip("host network: no container address to try")
			case NetModeNone:
				skip("network none: no address, nothing can reach it")
			default:
				skip("no address on any network")
			}
		}
	}
	if only != nil && len(plan.Targets)+len(plan.Skipped) == 0 {
		return plan, fmt.Errorf("probe target %q: it is the container probed from: name another one", to)
	}
	return plan, nil
}

// findTargets finds the containers a target names: an ID, a name, a
// display name (service.N), or a compose service (all its replicas).
func (t Topology) findTargets(ref string) map[string]bool {
	if c, ok := t.FindContainer(ref); ok {
		return map[string]bool{c.ID: true}
	}
	out := map[string]bool{}
	for _, c := range t.Containers {
		if c.DisplayName() == ref {
			return map[string]bool{c.ID: true}
		}
		if c.Service() == ref {
			out[c.ID] = true
		}
	}
	return out
}

// expectOn is the expectation for an address on one network: only a
// shared network carries the packet (or the host's stack, for a local
// bridge).
func (t Topology) expectOn(me side, netID, netName string) (Reach, []string) {
	switch {
	case me.unknown:
		return ReachUnknown, nil
	case me.mode == NetModeNone:
		return Isolated, nil
	case me.mode == NetModeHost && netName == "host":
		return Reachable, []string{hostVia}
	case me.mode == NetModeHost && t.hostRoutes(netID):
		return Reachable, []string{hostVia}
	case me.mode == NetModeHost:
		return Isolated, nil
	}
	if _, ok := me.nets[netID]; ok {
		return Reachable, []string{netName}
	}
	for _, name := range me.nets {
		if name == netName {
			return Reachable, []string{netName}
		}
	}
	return Isolated, nil
}

type probePort struct {
	port   int
	source PortSource
}

func probePorts(c Container, port int) []probePort {
	if port > 0 {
		return []probePort{{port, PortGiven}}
	}
	var out []probePort
	seen := map[int]bool{}
	for _, p := range c.Ports {
		if (p.Protocol == "tcp" || p.Protocol == "") && p.Private > 0 && !seen[int(p.Private)] {
			seen[int(p.Private)] = true
			out = append(out, probePort{int(p.Private), PortExposed})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].port < out[j].port })
	if len(out) == 0 {
		return []probePort{{FallbackPort, PortFallback}}
	}
	return out
}

func sortedEndpointIDs(c Container) []string {
	ids := make([]string, 0, len(c.Endpoints))
	for id := range c.Endpoints {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := c.Endpoints[ids[i]], c.Endpoints[ids[j]]
		if a.NetworkName != b.NetworkName {
			return a.NetworkName < b.NetworkName
		}
		return ids[i] < ids[j]
	})
	return ids
}

// Addresses are the distinct addresses to dial, in plan order.
func (p ProbePlan) Addresses() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range p.Targets {
		if !seen[t.Address] {
			seen[t.Address] = true
			out = append(out, t.Address)
		}
	}
	return out
}

// ProbeReport is a probe's outcome: every target with its result and
// verdict, then the peers that were skipped.
type ProbeReport struct {
	SubjectID string        `json:"subject_id"`
	Subject   string        `json:"subject"`
	Mode      NetMode       `json:"mode"`
	Lines     []ProbeLine   `json:"lines"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	// Note is a sentence about the whole probe (the subject stopped
	// meanwhile), or "".
	Note string `json:"note,omitempty"`
}

// Report judges the agent's results against the plan. stillRunning, when
// not nil, says whether a target still runs after the probe: a target that
// stopped meanwhile explains its own silence instead of counting as a
// mismatch.
func (p ProbePlan) Report(results []ProbeResult, stillRunning func(id string) bool) ProbeReport {
	byAddr := make(map[string]ProbeResult, len(results))
	for _, r := range results {
		byAddr[r.Address] = r
	}
	rep := ProbeReport{SubjectID: p.Subject.ID, Subject: p.Subject.DisplayName(), Mode: p.Mode}
	for _, t := range p.Targets {
		r, ok := byAddr[t.Address]
		if !ok {
			r = ProbeResult{Address: t.Address, Outcome: OutcomeError, Error: "the agent did not report this address"}
		}
		v, why := Judge(t, r)
		if (v.Mismatch() || v == VerdictObserved) && !r.Outcome.PathOpen() && stillRunning != nil && !stillRunning(t.ContainerID) {
			v, why = VerdictGone, "stopped or removed during the probe"
		}
		rep.Lines = append(rep.Lines, ProbeLine{Target: t, Result: r, Verdict: v, Why: why})
	}
	rep.Lines = append(rep.Lines, p.Skipped...)
	return rep
}

// Mismatches counts the lines that contradict the topology.
func (r ProbeReport) Mismatches() int {
	n := 0
	for _, l := range r.Lines {
		if l.Verdict.Mismatch() {
			n++
		}
	}
	return n
}

// Probed counts the lines that were tried.
func (r ProbeReport) Probed() int {
	n := 0
	for _, l := range r.Lines {
		if l.Verdict != VerdictSkipped {
			n++
		}
	}
	return n
}

// Summary is the report in one line.
func (r ProbeReport) Summary() string {
	count := map[Verdict]int{}
	for _, l := range r.Lines {
		count[l.Verdict]++
	}
	probed, bad := r.Probed(), r.Mismatches()
	s := fmt.Sprintf("%d addresses probed from %s: %d as expected", probed, r.Subject,
		count[VerdictReachable]+count[VerdictIsolated])
	if bad == 1 {
		s += ", 1 MISMATCH"
	} else if bad > 1 {
		s += fmt.Sprintf(", %d MISMATCHES", bad)
	}
	if n := count[VerdictGone]; n > 0 {
		s += fmt.Sprintf(", %d stopped meanwhile", n)
	}
	if n := count[VerdictObserved]; n > 0 {
		s += fmt.Sprintf(", %d without expectation", n)
	}
	if n := count[VerdictSkipped]; n > 0 {
		s += fmt.Sprintf(", %d not probed", n)
	}
	if r.Elapsed > 0 {
		s += fmt.Sprintf(" (%.1f s)", r.Elapsed.Seconds())
	}
	return s
}
