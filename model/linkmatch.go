package model

import (
	"net/netip"
	"strconv"
	"strings"
)

// preferByName says whether a should win a name over b.
func preferByName(a, b Container) bool {
	if a.Running() != b.Running() {
		return a.Running()
	}
	return a.ID < b.ID
}

func linkInstance(in Instance, t Topology, idx topologyIndex, e Elsewhere) InstanceLink {
	link := InstanceLink{Key: in.Key(), Service: in.Service, InstanceID: in.ID, Health: in.Health()}
	claim := func(c Container, by MatchKind) InstanceLink {
		link.ContainerID, link.By = c.ID, by
		if !c.Running() {
			link.Stale = true
			link.Why = "container " + c.Name + " is " + string(c.State)
		}
		return link
	}
	if id := in.Meta[MetaContainerID]; id != "" {
		if c, ok := containerByID(t, id); ok {
			return claim(c, MatchMeta)
		}
		if d, ok := e.byID(id); ok {
			link.By, link.Elsewhere = MatchMeta, d
			return link
		}
		link.By, link.Stale = MatchMeta, true
		link.Why = "container " + shortID(id) + " is gone"
		return link
	}
	for _, name := range namesFromInstanceID(in.ID) {
		if id, ok := idx.byName[name]; ok {
			return claim(t.Containers[id], MatchID)
		}
	}
	addr := in.EffectiveAddress()
	if addr == "" {
		return link
	}
	var running, stopped []Container
	for i, id := range idx.byIP[addr] {
		if i > 0 && idx.byIP[addr][i-1] == id {
			continue
		}
		if c := t.Containers[id]; c.Running() {
			running = append(running, c)
		} else {
			stopped = append(stopped, c)
		}
	}
	switch {
	case len(running) == 1:
		return claim(running[0], MatchAddress)
	case len(running) > 1:
		// The same IP on two networks with overlapping subnets: only the
		// service name can tell them apart, and if it cannot, no guess.
		var named []Container
		for _, c := range running {
			if ServiceNameOf(c) == in.Service {
				named = append(named, c)
			}
		}
		if len(named) == 1 {
			return claim(named[0], MatchAddress)
		}
		return link
	case len(stopped) == 1:
		return claim(stopped[0], MatchAddress)
	}
	if d, ok := e.ByIP[addr]; ok {
		link.By, link.Elsewhere = MatchAddress, d
		return link
	}
	if network, ok := dockerSubnetOf(t, addr); ok {
		link.Stale = true
		link.Why = "no container has " + addr + " on network " + network
	}
	return link
}

// containerByID finds a container by its full ID, or by a prefix of at least
// 12 characters (the short ID a registrator may have written).
func containerByID(t Topology, id string) (Container, bool) {
	if c, ok := t.Containers[id]; ok {
		return c, true
	}
	if len(id) < 12 {
		return Container{}, false
	}
	var found []Container
	for cid, c := range t.Containers {
		if strings.HasPrefix(cid, id) {
			found = append(found, c)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return Container{}, false
}

// namesFromInstanceID reads the container names an instance ID may carry:
// "<name>:<port>", "<host>:<name>:<port>" and either with a ":udp" suffix.
// Both the part before the port and its last colon-separated segment are
// candidates, longest first, because a container name may not contain a
// colon but a host name prefix is optional.
func namesFromInstanceID(id string) []string {
	id = strings.TrimSuffix(id, ":udp")
	i := strings.LastIndexByte(id, ':')
	if i <= 0 {
		return nil
	}
	if _, err := strconv.ParseUint(id[i+1:], 10, 16); err != nil {
		return nil
	}
	prefix := id[:i]
	names := []string{prefix}
	if j := strings.LastIndexByte(prefix, ':'); j >= 0 && j+1 < len(prefix) {
		names = append(names, prefix[j+1:])
	}
	return names
}

// dockerSubnetOf finds a network of the topology whose subnet holds addr.
// The subnet's first host address is skipped: Docker gives it to the
// gateway, which is the host, and a service registered there is not a
// container's.
func dockerSubnetOf(t Topology, addr string) (string, bool) {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return "", false
	}
	for _, n := range t.OrderedNetworks(true) {
		for _, s := range n.Subnets {
			prefix, err := netip.ParsePrefix(s)
			if err != nil || !prefix.Contains(ip) {
				continue
			}
			if ip == prefix.Masked().Addr().Next() {
				continue
			}
			return n.Name, true
		}
	}
	return "", false
}
