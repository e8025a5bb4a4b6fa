package deploy

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
)

// Mode is how a project runs: as containers of one engine, or as the
// services of a Swarm stack. Scale, status and teardown find it out, so
// that a presenter never has to say it twice.
type Mode string

const (
	ModeNone   Mode = ""
	ModeEngine Mode = "containers"
	ModeSwarm  Mode = "swarm"
)

// DeployedMode says how the project is deployed: a swarm stack when the
// engine is a manager holding the stack's services or overlay networks
// (a deploy stopped halfway has networks only), containers when the
// engine holds the project's containers or networks, none otherwise.
func (d *Deployer) DeployedMode(ctx context.Context) (Mode, error) {
	manager, err := d.IsManager(ctx)
	if err != nil {
		return ModeNone, err
	}
	if manager {
		svcs, err := d.stackServices(ctx)
		if err != nil {
			return ModeNone, err
		}
		if has, err := d.hasNetworks(ctx, d.stackFilter()); err != nil || len(svcs) > 0 || has {
			return ModeSwarm, err
		}
	}
	byService, err := d.containers(ctx)
	if err != nil {
		return ModeNone, err
	}
	if has, err := d.hasNetworks(ctx, d.projectFilter()); err != nil || len(byService) > 0 || has {
		return ModeEngine, err
	}
	return ModeNone, nil
}

// hasNetworks says whether any network carries the labels f selects.
func (d *Deployer) hasNetworks(ctx context.Context, f filters.Args) (bool, error) {
	nets, err := d.api.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return false, fmt.Errorf("list networks: %w", err)
	}
	return len(nets) > 0, nil
}

// IsManager says whether the engine is a swarm manager, which is what
// deploying the demo as services needs.
func (d *Deployer) IsManager(ctx context.Context) (bool, error) {
	info, err := d.api.Info(ctx)
	if err != nil {
		return false, fmt.Errorf("ask the engine whether it is a swarm manager: %w", err)
	}
	return info.Swarm.ControlAvailable, nil
}

// URL is the load balancer's address as deployed: the port the running
// load balancer publishes (it may have been deployed with another
// --lb-port than these options say), or the options' address when there
// is none yet.
func (d *Deployer) URL(ctx context.Context) string {
	mode, err := d.DeployedMode(ctx)
	if err != nil {
		return d.LBURL()
	}
	if mode == ModeSwarm {
		svcs, err := d.stackServices(ctx)
		if err != nil {
			return d.SwarmURL()
		}
		return d.swarmLBURL(svcs)
	}
	if u, _ := d.engineLBURL(ctx); u != "" {
		return u
	}
	return d.LBURL()
}

// swarmHost is the manager's address as the client reaches it: the host of
// a tcp:// or ssh:// engine, loopback for a local socket.
func (d *Deployer) swarmHost() string {
	if h := d.remoteHost(); h != "" {
		return h
	}
	if u, err := url.Parse(d.api.DaemonHost()); err == nil && u.Scheme == "tcp" {
		if h, _, err := net.SplitHostPort(u.Host); err == nil {
			return h
		}
	}
	return "127.0.0.1"
}

// swarmLBURL is the address of the stack's load balancer: the port its
// service publishes, on the manager.
func (d *Deployer) swarmLBURL(svcs map[string]swarm.Service) string {
	if port := publishedPort(svcs[d.ServiceName(ServiceLB)], 80); port > 0 {
		return "http://" + net.JoinHostPort(d.swarmHost(), strconv.Itoa(port))
	}
	return d.SwarmURL()
}

// publishedPort is the port a service publishes for target, or 0.
func publishedPort(s swarm.Service, target uint32) int {
	if s.Spec.EndpointSpec == nil {
		return 0
	}
	for _, p := range s.Spec.EndpointSpec.Ports {
		if p.TargetPort == target && p.PublishedPort > 0 {
			return int(p.PublishedPort)
		}
	}
	return 0
}

// nodeHostnames maps the swarm's node IDs to their hostnames, which is
// how a person knows the nodes.
func (d *Deployer) nodeHostnames(ctx context.Context) (map[string]string, error) {
	nodes, err := d.swarm().NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list the swarm's nodes: %w", err)
	}
	hostname := make(map[string]string, len(nodes))
	for _, n := range nodes {
		hostname[n.ID] = n.Description.Hostname
	}
	return hostname, nil
}

// scaleSwarm sets the app service's replica count; Swarm starts and stops
// the tasks (the highest slots go first when scaling down).
func (d *Deployer) scaleSwarm(ctx context.Context, r *reporter, target func(have int) int) (int, error) {
	svcs, err := d.stackServices(ctx)
	if err != nil {
		return 0, err
	}
	name := d.ServiceName(ServiceApp)
	s, ok := svcs[name]
	if !ok {
		return 0, fmt.Errorf("stack %s has no service %s: run `topo demo up --swarm`", d.opts.Project, name)
	}
	rep := s.Spec.Mode.Replicated
	if rep == nil || rep.Replicas == nil {
		return 0, fmt.Errorf("service %s is not replicated: it cannot be scaled", name)
	}
	have := int(*rep.Replicas)
	want := target(have)
	key, title := "scale app", fmt.Sprintf("scale service %s from %d to %d replicas", name, have, want)
	if want == have {
		r.done(key, title, "nothing to do")
		return want, nil
	}
	r.start(key, title)
	n := uint64(want)
	rep.Replicas = &n
	if _, err := d.swarm().ServiceUpdate(ctx, s.ID, s.Version, s.Spec, swarm.ServiceUpdateOptions{}); err != nil {
		return have, r.fail(key, title, fmt.Errorf("update service %s: %w", name, err))
	}
	r.done(key, title, fmt.Sprintf("%d replicas asked; the swarm places them", want))
	return want, nil
}

// statusSwarm is Status for a stack: each service's running and desired
// tasks, the tasks meant to run with their node and state, the stack's
// networks and volumes (the manager's), consul through the port it
// publishes on a manager, and one request through the load balancer.
func (d *Deployer) statusSwarm(ctx context.Context) (Status, error) {
	st := Status{Project: d.opts.Project, Mode: ModeSwarm, Deployed: true}
	svcs, err := d.stackServices(ctx)
	if err != nil {
		return st, err
	}
	st.LB.URL = d.swarmLBURL(svcs)
	tasks, err := d.swarm().TaskList(ctx, swarm.TaskListOptions{Filters: d.stackFilter()})
	if err != nil {
		return st, fmt.Errorf("list the tasks of stack %s: %w", d.opts.Project, err)
	}
	hostname, err := d.nodeHostnames(ctx)
	if err != nil {
		return st, err
	}
	byService := map[string][]swarm.Task{}
	for _, t := range tasks {
		if t.DesiredState == swarm.TaskStateRunning {
			byService[t.ServiceID] = append(byService[t.ServiceID], t)
		}
	}
	for _, short := range Services {
		s, ok := svcs[d.ServiceName(short)]
		if !ok {
			continue
		}
		ss := ServiceStatus{Name: short}
		list := byService[s.ID]
		sort.Slice(list, func(i, j int) bool {
			if list[i].Slot != list[j].Slot {
				return list[i].Slot < list[j].Slot
			}
			return hostname[list[i].NodeID] < hostname[list[j].NodeID]
		})
		if rep := s.Spec.Mode.Replicated; rep != nil && rep.Replicas != nil {
			ss.Desired = int(*rep.Replicas)
		} else {
			// Global: one task wanted on each eligible node, which is what
			// the swarm keeps desired-running.
			ss.Desired = len(list)
		}
		for _, t := range list {
			name := s.Spec.Name + "." + strconv.Itoa(t.Slot)
			if t.Slot == 0 {
				name = s.Spec.Name + "." + hostname[t.NodeID]
			}
			state := string(t.Status.State)
			if t.Status.State == swarm.TaskStateRunning {
				ss.Running++
			}
			status := t.Status.Message
			if t.Status.Err != "" {
				status += ": " + t.Status.Err
			}
			image := ""
			if t.Spec.ContainerSpec != nil {
				image = t.Spec.ContainerSpec.Image
			}
			ss.Containers = append(ss.Containers, ContainerState{
				Name: name, Number: t.Slot, State: state, Status: status, Image: image, Node: hostname[t.NodeID],
			})
		}
		st.Services = append(st.Services, ss)
	}
	if st.Networks, st.Volumes, err = d.objectNames(ctx, d.stackFilter()); err != nil {
		return st, err
	}
	if at, err := d.swarmConsul(ctx); err != nil {
		st.Registry.Error = err.Error()
	} else {
		d.registryStatusAt(ctx, at, &st.Registry)
	}
	if who, err := d.checkURL(ctx, st.LB.URL); err != nil {
		st.LB.Error = err.Error()
	} else {
		st.LB.Answers, st.LB.ServedBy = true, who
	}
	return st, nil
}

// swarmConsul is where this machine reads the stack's consul: its task's
// loopback through the engine. The service publishes no port (a dev agent
// without ACLs on the manager's network would let anyone register a fake
// app) and the overlay's addresses lead nowhere from outside the swarm; the
// task runs on a manager, the engine topo speaks to.
func (d *Deployer) swarmConsul(ctx context.Context) (registryAt, error) {
	if d.opts.Tunnel == nil {
		return registryAt{}, fmt.Errorf("consul of stack %s is published nowhere and this command has no tunnel through the engine to it", d.opts.Project)
	}
	list, err := d.api.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.swarm.service.name="+d.ServiceName(ServiceConsul)),
		filters.Arg("status", "running"),
	)})
	if err != nil {
		return registryAt{}, fmt.Errorf("list consul's task: %w", err)
	}
	if len(list) == 0 {
		return registryAt{}, fmt.Errorf("no running task of %s on this manager: `docker service ps %s` says why", d.ServiceName(ServiceConsul), d.ServiceName(ServiceConsul))
	}
	c := list[0]
	name := strings.TrimPrefix(firstName(c.Names), "/")
	at := registryAt{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(consulHTTP)), via: c.ID, name: name}
	conn, err := d.opts.Tunnel.Dial(ctx, c.ID, consulHTTP)
	if err != nil {
		return registryAt{}, fmt.Errorf("consul in %s through the engine: %w", name, err)
	}
	conn.Close()
	return at, nil
}

func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}
