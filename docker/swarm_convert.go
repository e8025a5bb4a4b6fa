package docker

import (
	"strings"

	"github.com/docker/docker/api/types/swarm"
	"github.com/topo-dev/topo/model"
)

// Conversions from the SDK's swarm types.

func fromSwarmNode(n swarm.Node) model.Node {
	out := model.Node{
		ID: n.ID, Hostname: n.Description.Hostname, Role: model.NodeRole(n.Spec.Role),
		Availability: model.NodeAvailability(n.Spec.Availability), State: model.NodeState(n.Status.State),
		Message: n.Status.Message, Addr: n.Status.Addr, EngineVersion: n.Description.Engine.EngineVersion,
		Labels: n.Spec.Labels,
	}
	if m := n.ManagerStatus; m != nil {
		out.Leader = m.Leader
		out.Reachability = string(m.Reachability)
	}
	return out
}

func fromSwarmService(s swarm.Service) model.SwarmService {
	out := model.SwarmService{
		ID: s.ID, Name: s.Spec.Name, Labels: s.Spec.Labels, UpdatedAt: s.UpdatedAt,
		EndpointMode: string(s.Endpoint.Spec.Mode),
	}
	switch m := s.Spec.Mode; {
	case m.Global != nil:
		out.Mode = model.ModeGlobal
	case m.ReplicatedJob != nil:
		out.Mode = model.ModeReplicatedJob
	case m.GlobalJob != nil:
		out.Mode = model.ModeGlobalJob
	default:
		out.Mode = model.ModeReplicated
		if m.Replicated != nil && m.Replicated.Replicas != nil {
			out.Replicas = *m.Replicated.Replicas
		}
	}
	if out.EndpointMode == "" && s.Spec.EndpointSpec != nil {
		out.EndpointMode = string(s.Spec.EndpointSpec.Mode)
	}
	if out.EndpointMode == "" {
		out.EndpointMode = model.EndpointVIP
	}
	if cs := s.Spec.TaskTemplate.ContainerSpec; cs != nil {
		// The digest the swarm pins is noise on screen: the tag says
		// which image a person asked for.
		out.Image, _, _ = strings.Cut(cs.Image, "@")
	}
	if u := s.UpdateStatus; u != nil {
		out.UpdateState, out.UpdateMessage = string(u.State), u.Message
	}
	ports := s.Endpoint.Ports
	if len(ports) == 0 && s.Spec.EndpointSpec != nil {
		ports = s.Spec.EndpointSpec.Ports
	}
	for _, p := range ports {
		mode := string(p.PublishMode)
		if mode == "" {
			mode = string(swarm.PortConfigPublishModeIngress)
		}
		out.Ports = append(out.Ports, model.PublishedPort{Target: uint16(p.TargetPort), Published: uint16(p.PublishedPort), Protocol: string(p.Protocol), Mode: mode})
	}
	for _, v := range s.Endpoint.VirtualIPs {
		out.VirtualIPs = append(out.VirtualIPs, model.VirtualIP{NetworkID: v.NetworkID, Addr: v.Addr})
	}
	for _, n := range s.Spec.TaskTemplate.Networks {
		out.Networks = append(out.Networks, n.Target)
	}
	return out
}

func fromSwarmTask(t swarm.Task) model.Task {
	out := model.Task{
		ID: t.ID, ServiceID: t.ServiceID, Slot: t.Slot, NodeID: t.NodeID,
		DesiredState: model.TaskState(t.DesiredState), State: model.TaskState(t.Status.State),
		Message: t.Status.Message, Err: t.Status.Err, Since: t.Status.Timestamp, Created: t.CreatedAt,
	}
	if cs := t.Status.ContainerStatus; cs != nil {
		out.ContainerID, out.ExitCode = cs.ContainerID, cs.ExitCode
	}
	for _, a := range t.NetworksAttachments {
		out.Networks = append(out.Networks, model.TaskNetwork{NetworkID: a.Network.ID, Name: a.Network.Spec.Name, Addresses: a.Addresses})
	}
	return out
}
