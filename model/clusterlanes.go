package model

import "sort"

// NoOverlay is the lane ID of tasks attached to no swarm network (host or
// bridge networking): they still have a node.
const NoOverlay = ""

// ClusterLane is one lane of the cluster view: an overlay network and, for
// every node, the tasks it runs on that network.
type ClusterLane struct {
	// Network is the overlay; its ID is NoOverlay for the lane of tasks
	// on no overlay network.
	Network OverlayNetwork
	// Groups has one entry per node, in the order of OrderedNodes, plus a
	// last one with NodeID "" when some tasks are not yet on a node.
	Groups []NodeGroup
}

// Count is the number of tasks in the lane.
func (l ClusterLane) Count() int {
	n := 0
	for _, g := range l.Groups {
		n += len(g.Tasks)
	}
	return n
}

// NodeGroup is the tasks of one node in one lane.
type NodeGroup struct {
	NodeID string
	Tasks  []Task
}

// OrderedNodes returns the nodes in screen order: managers first (the
// leader before the others), then workers, each by hostname.
func (c Cluster) OrderedNodes() []Node {
	nodes := append([]Node(nil), c.Nodes...)
	sort.SliceStable(nodes, func(i, j int) bool {
		a, b := nodes[i], nodes[j]
		if (a.Role == RoleManager) != (b.Role == RoleManager) {
			return a.Role == RoleManager
		}
		if a.Leader != b.Leader {
			return a.Leader
		}
		if a.Hostname != b.Hostname {
			return a.Hostname < b.Hostname
		}
		return a.ID < b.ID
	})
	return nodes
}

// OrderedNetworks returns the overlay lanes' networks: user overlays by
// name, then the ingress network.
func (c Cluster) OrderedNetworks() []OverlayNetwork {
	nets := append([]OverlayNetwork(nil), c.Networks...)
	sort.SliceStable(nets, func(i, j int) bool {
		if nets[i].Ingress != nets[j].Ingress {
			return !nets[i].Ingress
		}
		if nets[i].Name != nets[j].Name {
			return nets[i].Name < nets[j].Name
		}
		return nets[i].ID < nets[j].ID
	})
	return nets
}

// Unassigned reports whether some visible task has no node yet.
func (c Cluster) Unassigned() bool {
	for _, t := range c.VisibleTasks() {
		if t.NodeID == "" {
			return true
		}
	}
	return false
}

// Lanes places every visible task under its node in the lane of each
// overlay network it is attached to. Every overlay gets a lane, empty or
// not, and every lane has a group per node so node columns line up across
// lanes; tasks on no overlay get a last lane of their own.
func (c Cluster) Lanes() []ClusterLane {
	nodes := c.OrderedNodes()
	tasks := c.VisibleTasks()
	unassigned := false
	for _, t := range tasks {
		if t.NodeID == "" {
			unassigned = true
		}
	}
	newLane := func(n OverlayNetwork) ClusterLane {
		l := ClusterLane{Network: n, Groups: make([]NodeGroup, 0, len(nodes)+1)}
		for _, node := range nodes {
			l.Groups = append(l.Groups, NodeGroup{NodeID: node.ID})
		}
		if unassigned {
			l.Groups = append(l.Groups, NodeGroup{})
		}
		return l
	}
	group := make(map[string]int, len(nodes)+1)
	for i, n := range nodes {
		group[n.ID] = i
	}
	group[""] = len(nodes)

	var lanes []ClusterLane
	laneOf := map[string]int{}
	for _, n := range c.OrderedNetworks() {
		laneOf[n.ID] = len(lanes)
		lanes = append(lanes, newLane(n))
	}
	noOverlay := -1
	for _, t := range tasks {
		g, ok := group[t.NodeID]
		if !ok {
			// A node removed from the swarm while its tasks linger:
			// show them with the tasks not on a node.
			continue
		}
		placed := false
		for _, tn := range t.Networks {
			if li, ok := laneOf[tn.NetworkID]; ok {
				lanes[li].Groups[g].Tasks = append(lanes[li].Groups[g].Tasks, t)
				placed = true
			}
		}
		if !placed {
			if noOverlay < 0 {
				noOverlay = len(lanes)
				lanes = append(lanes, newLane(OverlayNetwork{Network: Network{ID: NoOverlay, Name: "no overlay network"}}))
			}
			lanes[noOverlay].Groups[g].Tasks = append(lanes[noOverlay].Groups[g].Tasks, t)
		}
	}
	return lanes
}

// TasksOn returns the visible tasks of a node.
func (c Cluster) TasksOn(nodeID string) []Task {
	var out []Task
	for _, t := range c.VisibleTasks() {
		if t.NodeID == nodeID {
			out = append(out, t)
		}
	}
	return out
}

// ClusterExport is the cluster as `topo snapshot --json` and `topo swarm
// status --json` print it: sorted, with each service's counts worked out
// so scripts need not redo them.
type ClusterExport struct {
	ID       string               `json:"id"`
	Nodes    []Node               `json:"nodes"`
	Services []ExportSwarmService `json:"services"`
	Tasks    []ExportTask         `json:"tasks"`
	Networks []OverlayNetwork     `json:"networks"`
}

// ExportSwarmService is a service with its counts.
type ExportSwarmService struct {
	SwarmService
	Running    int  `json:"running"`
	Desired    int  `json:"desired"`
	Converging bool `json:"converging"`
}

// ExportTask is a task with the names a reader needs.
type ExportTask struct {
	Task
	Name     string `json:"name"`
	Service  string `json:"service"`
	Hostname string `json:"node,omitempty"`
}

// Export builds the exported form. Tasks are every task the manager
// listed (history included), so a script can see failures too.
func (c Cluster) Export() ClusterExport {
	out := ClusterExport{ID: c.ID, Nodes: c.OrderedNodes(), Services: []ExportSwarmService{}, Tasks: []ExportTask{},
		Networks: c.OrderedNetworks()}
	if out.Nodes == nil {
		out.Nodes = []Node{}
	}
	if out.Networks == nil {
		out.Networks = []OverlayNetwork{}
	}
	services := append([]SwarmService(nil), c.Services...)
	sort.Slice(services, func(i, j int) bool { return services[i].Name < services[j].Name })
	for _, s := range services {
		running, desired := c.Replicas(s.ID)
		out.Services = append(out.Services, ExportSwarmService{SwarmService: s, Running: running, Desired: desired, Converging: c.ServiceConverging(s.ID)})
	}
	tasks := append([]Task(nil), c.Tasks...)
	c.sortTasks(tasks)
	nodes := c.nodeIndex()
	for _, t := range tasks {
		s, _ := c.Service(t.ServiceID)
		out.Tasks = append(out.Tasks, ExportTask{Task: t, Name: c.TaskName(t), Service: s.Name, Hostname: nodes[t.NodeID].Hostname})
	}
	return out
}

// Elsewhere names the running tasks on other nodes than the local one, by
// container ID and by overlay address, for the registry's links: the
// registrator of each node registers its own node's tasks.
func (c Cluster) Elsewhere() Elsewhere {
	e := Elsewhere{ByID: map[string]string{}, ByIP: map[string]string{}}
	for _, t := range c.VisibleTasks() {
		if t.NodeID == c.LocalNodeID || t.State != TaskRunning {
			continue
		}
		d := c.TaskName(t)
		if n, ok := c.Node(t.NodeID); ok {
			d += " on " + n.Hostname
		}
		if t.ContainerID != "" {
			e.ByID[t.ContainerID] = d
		}
		for _, n := range t.Networks {
			if ip := n.IP(); ip != "" {
				e.ByIP[ip] = d
			}
		}
	}
	return e
}
