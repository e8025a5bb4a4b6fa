package deploy

import (
	"context"
	"fmt"
	"strconv"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/topo-dev/topo/registry"
)

// Status is the project as the engine and its registry see it now.
type Status struct {
	Project string `json:"project"`
	// Mode is how the project runs: "containers" or "swarm".
	Mode     Mode            `json:"mode,omitempty"`
	Deployed bool            `json:"deployed"`
	Services []ServiceStatus `json:"services"`
	Networks []string        `json:"networks"`
	Volumes  []string        `json:"volumes"`
	Registry RegistryStatus  `json:"registry"`
	LB       LBStatus        `json:"lb"`
}

// ServiceStatus is one service: Desired counts its containers (scaling
// down removes them, so each one is wanted) and Running those running; a
// killed instance makes the two differ.
type ServiceStatus struct {
	Name       string           `json:"name"`
	Running    int              `json:"running"`
	Desired    int              `json:"desired"`
	Containers []ContainerState `json:"containers"`
}

// ContainerState is one container of a service.
type ContainerState struct {
	Name   string `json:"name"`
	Number int    `json:"number"`
	State  string `json:"state"`
	// Status is the engine's phrase ("Up 3 minutes (healthy)").
	Status string `json:"status"`
	Image  string `json:"image"`
	// Node is the swarm node that runs a task (swarm mode only).
	Node string `json:"node,omitempty"`
}

// RegistryStatus is what the demo's consul says, or why it could not be
// asked.
type RegistryStatus struct {
	Address  string            `json:"address,omitempty"`
	Error    string            `json:"error,omitempty"`
	Services []RegistryService `json:"services,omitempty"`
}

// RegistryService counts one registered service's instances by health.
type RegistryService struct {
	Name      string             `json:"name"`
	Passing   int                `json:"passing"`
	Warning   int                `json:"warning"`
	Critical  int                `json:"critical"`
	Instances []RegistryInstance `json:"instances"`
}

// LBStatus is the load balancer's address and whether it answered.
type LBStatus struct {
	URL string `json:"url"`
	// Reach says how to get to URL from this machine when the URL alone
	// does not: a remote engine's loopback.
	Reach    string `json:"reach,omitempty"`
	Answers  bool   `json:"answers"`
	ServedBy string `json:"served_by,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Status reads the project's containers, networks and volumes, asks its
// consul for the registered services' health and sends one request
// through the load balancer. Failing to reach consul or the load balancer
// is part of the status, not an error.
func (d *Deployer) Status(ctx context.Context) (Status, error) {
	mode, err := d.DeployedMode(ctx)
	if err != nil {
		return Status{Project: d.opts.Project}, err
	}
	if mode == ModeSwarm {
		return d.statusSwarm(ctx)
	}
	st := Status{Project: d.opts.Project, Mode: mode, LB: LBStatus{URL: d.LBURL()}}
	byService, err := d.containers(ctx)
	if err != nil {
		return st, err
	}
	for _, s := range servicesInOrder(byService) {
		ss := ServiceStatus{Name: s, Desired: len(byService[s])}
		for _, c := range byService[s] {
			if c.State == "running" {
				ss.Running++
			}
			ss.Containers = append(ss.Containers, ContainerState{Name: c.Name, Number: c.Number, State: c.State, Status: c.Status, Image: c.Image})
		}
		st.Services = append(st.Services, ss)
	}
	if st.Networks, st.Volumes, err = d.objectNames(ctx, d.projectFilter()); err != nil {
		return st, err
	}
	st.Deployed = len(byService) > 0 || len(st.Networks) > 0
	if !st.Deployed {
		st.Registry.Error = "not deployed"
		st.LB.Error = "not deployed"
		return st, nil
	}

	if u, reach := d.engineLBURL(ctx); u != "" {
		st.LB.URL, st.LB.Reach = u, reach
	}
	d.registryStatus(ctx, &st.Registry)
	if who, err := d.checkEngineLB(ctx, st.LB.URL); err != nil {
		st.LB.Error = err.Error()
	} else {
		st.LB.Answers, st.LB.ServedBy = true, who
	}
	return st, nil
}

// engineLBURL is the address the project's load balancer container
// publishes, which may differ from the options (deployed earlier with
// another --lb-port), and how to reach it from here (Reach); empty when
// there is none.
func (d *Deployer) engineLBURL(ctx context.Context) (u, reach string) {
	byService, err := d.containers(ctx)
	if err != nil {
		return "", ""
	}
	lb := first(byService[ServiceLB])
	if lb == nil {
		return "", ""
	}
	in, err := d.api.ContainerInspect(ctx, lb.ID)
	if err != nil || in.HostConfig == nil {
		return "", ""
	}
	for _, b := range in.HostConfig.PortBindings {
		if len(b) > 0 {
			if p, err := strconv.Atoi(b[0].HostPort); err == nil {
				return d.lbURL(b[0].HostIP, p), d.Reach(b[0].HostIP, p)
			}
		}
	}
	return "", ""
}

// objectNames lists the names of the networks and volumes f selects.
func (d *Deployer) objectNames(ctx context.Context, f filters.Args) (networks, volumes []string, err error) {
	nets, err := d.api.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, nil, fmt.Errorf("list networks: %w", err)
	}
	for _, n := range nets {
		networks = append(networks, n.Name)
	}
	vols, err := d.api.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return networks, nil, fmt.Errorf("list volumes: %w", err)
	}
	for _, v := range vols.Volumes {
		volumes = append(volumes, v.Name)
	}
	return networks, volumes, nil
}

func (d *Deployer) registryStatus(ctx context.Context, rs *RegistryStatus) {
	at, err := d.consulEndpoint(ctx)
	if err != nil {
		rs.Error = err.Error()
		return
	}
	d.registryStatusAt(ctx, at, rs)
}

// registryStatusAt asks the consul at at for the services' health, in one
// read of the catalog and each service's health.
func (d *Deployer) registryStatusAt(ctx context.Context, at registryAt, rs *RegistryStatus) {
	rs.Address = at.String()
	ctx, cancel := context.WithTimeout(ctx, statusReadTimeout*d.httpTimeout)
	defer cancel()
	reg, err := registry.ReadOnce(ctx, d.target(at))
	if err != nil {
		rs.Error = "ask consul: " + err.Error()
		return
	}
	for _, s := range reg.Services {
		n := s.Counts()
		// Maintenance is critical here, as in registryInstances.
		rs.Services = append(rs.Services, RegistryService{
			Name: s.Name, Instances: registryInstances(s.Instances),
			Passing: n.Passing, Warning: n.Warning, Critical: n.Critical + n.Maintenance,
		})
	}
}

// statusReadTimeout bounds the status's read of the registry, in
// httpTimeouts: one call for the catalog and one per service (the demo
// registers a few), each through the engine when consul is published
// nowhere.
const statusReadTimeout = 5
