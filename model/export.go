package model

import "sort"

// Export is the topology as `topo snapshot --json` prints it: networks with
// their members and containers with their networks, both sorted, so that
// scripts can read either side without joining.
type Export struct {
	Networks   []ExportNetwork   `json:"networks"`
	Containers []ExportContainer `json:"containers"`
	// Volumes came later: added beside the old fields, which keep their
	// names and shape.
	Volumes []ExportVolume `json:"volumes"`
}

// ExportVolume is a volume and the containers mounting it; Unused says
// none does.
type ExportVolume struct {
	Volume
	Unused     bool            `json:"unused"`
	Containers []StorageMember `json:"containers"`
}

// ExportNetwork is a network and the containers attached to it.
type ExportNetwork struct {
	Network
	Containers []ExportMember `json:"containers"`
}

// ExportMember is a container as seen from one network.
type ExportMember struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	IPv4 string `json:"ipv4,omitempty"`
	IPv6 string `json:"ipv6,omitempty"`
}

// ExportContainer is a container and the networks it is attached to.
type ExportContainer struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Service  string     `json:"service,omitempty"`
	Project  string     `json:"project,omitempty"`
	Image    string     `json:"image"`
	State    State      `json:"state"`
	Health   Health     `json:"health,omitempty"`
	Ports    []Port     `json:"ports,omitempty"`
	Networks []Endpoint `json:"networks"`
	Mounts   []Mount    `json:"mounts,omitempty"`
}

// Export builds the exported form of the topology.
func (t Topology) Export() Export {
	out := Export{Networks: []ExportNetwork{}, Containers: []ExportContainer{}}
	for _, n := range t.OrderedNetworks(true) {
		en := ExportNetwork{Network: n, Containers: []ExportMember{}}
		for _, c := range t.Containers {
			if ep, ok := c.Endpoints[n.ID]; ok {
				en.Containers = append(en.Containers, ExportMember{ID: c.ID, Name: c.Name, IPv4: ep.IPv4, IPv6: ep.IPv6})
			}
		}
		sort.Slice(en.Containers, func(i, j int) bool { return en.Containers[i].Name < en.Containers[j].Name })
		out.Networks = append(out.Networks, en)
	}
	for _, c := range t.Containers {
		ec := ExportContainer{ID: c.ID, Name: c.Name, Service: c.Service(), Project: c.Project(), Image: c.Image,
			State: c.State, Health: c.Health, Ports: c.Ports, Networks: []Endpoint{}, Mounts: c.Mounts}
		for _, ep := range c.Endpoints {
			ec.Networks = append(ec.Networks, ep)
		}
		sort.Slice(ec.Networks, func(i, j int) bool { return ec.Networks[i].NetworkName < ec.Networks[j].NetworkName })
		out.Containers = append(out.Containers, ec)
	}
	sort.Slice(out.Containers, func(i, j int) bool { return out.Containers[i].Name < out.Containers[j].Name })
	out.Volumes = []ExportVolume{}
	members := map[string][]StorageMember{}
	for _, l := range t.StorageLayout(StorageOptions{}).Lanes {
		members[l.Name] = l.Members
	}
	for _, v := range t.OrderedVolumes() {
		ev := ExportVolume{Volume: v, Containers: members[v.Name]}
		if ev.Containers == nil {
			ev.Containers = []StorageMember{}
		}
		ev.Unused = len(ev.Containers) == 0
		out.Volumes = append(out.Volumes, ev)
	}
	return out
}
