package model

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
)

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
