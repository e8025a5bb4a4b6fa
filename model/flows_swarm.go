package model

// This file holds observed traffic on a swarm: every node's agent reads
// its node's namespaces (see flowagent's swarm mode), and the flows are
// attributed to the cluster's tasks rather than to one engine's containers.

// FlowNodes says, on a swarm, which nodes a flow sample covers.
type FlowNodes struct {
	// Reporting are the hostnames of the nodes whose agent's tables
	// the sample holds.
	Reporting []string `json:"reporting"`
	// Silent are the nodes up that should report and do not, each as
	// "hostname: why".
	Silent []string `json:"silent,omitempty"`
}

// FlowTopology is the cluster's running tasks as containers, for
// Topology.Flows: each task's container (its ID as the node's engine
// knows it, which the agents report) with the task's addresses on its
// networks, named "service.slot@node" so that a flow says where each end
// runs. The tasks of skip (topo's own agent service) are left out.
func (c Cluster) FlowTopology(skip string) Topology {
	t := NewTopology()
	for _, n := range c.Networks {
		t.Networks[n.ID] = n.Network
	}
	nodes := c.nodeIndex()
	for _, task := range c.Tasks {
		if task.State != TaskRunning || task.ContainerID == "" || task.ServiceID == skip {
			continue
		}
		host := nodes[task.NodeID].Hostname
		if host == "" {
			host = shortID(task.NodeID)
		}
		ctr := Container{ID: task.ContainerID, Name: c.TaskName(task) + "@" + host, State: StateRunning,
			Endpoints: map[string]Endpoint{}}
		for _, tn := range task.Networks {
			ctr.Endpoints[tn.NetworkID] = Endpoint{NetworkID: tn.NetworkID, NetworkName: tn.Name, IPv4: tn.IP()}
		}
		t.Containers[ctr.ID] = ctr
	}
	return t
}
