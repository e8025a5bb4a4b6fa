package docker

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/topo-dev/topo/model"
)

func fromNetwork(n network.Inspect) model.Network {
	out := model.Network{ID: n.ID, Name: n.Name, Driver: n.Driver, Scope: n.Scope, Internal: n.Internal, Labels: n.Labels}
	for _, cfg := range n.IPAM.Config {
		if cfg.Subnet != "" {
			out.Subnets = append(out.Subnets, cfg.Subnet)
		}
	}
	return out
}

func fromEndpoints(settings map[string]*network.EndpointSettings) map[string]model.Endpoint {
	out := make(map[string]model.Endpoint, len(settings))
	for name, es := range settings {
		if es == nil {
			continue
		}
		id := es.NetworkID
		if id == "" {
			// A created, never started container has no network ID yet
			// on old engines; the name still places it in its lane.
			id = name
		}
		out[id] = model.Endpoint{
			NetworkID: id, NetworkName: name, IPv4: es.IPAddress, IPv6: es.GlobalIPv6Address,
			Aliases: es.Aliases,
		}
	}
	return out
}

func fromPorts(ports []container.Port) []model.Port {
	out := make([]model.Port, 0, len(ports))
	seen := map[model.Port]bool{}
	for _, p := range ports {
		mp := model.Port{Private: p.PrivatePort, Public: p.PublicPort, Protocol: p.Type, HostIP: p.IP}
		// The engine lists a published port once per host address family;
		// one line each is what a person wants to read.
		if mp.HostIP == "::" {
			mp.HostIP = "0.0.0.0"
		}
		if seen[mp] {
			continue
		}
		seen[mp] = true
		out = append(out, mp)
	}
	sortPorts(out)
	return out
}

func sortPorts(ports []model.Port) {
	sort.Slice(ports, func(i, j int) bool {
		if ports[i].Private != ports[j].Private {
			return ports[i].Private < ports[j].Private
		}
		return ports[i].Public < ports[j].Public
	})
}

func fromMounts(mounts []container.MountPoint) []model.Mount {
	out := make([]model.Mount, 0, len(mounts))
	for _, m := range mounts {
		out = append(out, model.Mount{Type: string(m.Type), Name: m.Name, Source: m.Source, Destination: m.Destination, ReadWrite: m.RW})
	}
	return out
}

// healthFromStatus reads the health the list call only gives inside its
// human status text, e.g. "Up 3 minutes (healthy)".
func healthFromStatus(status string) model.Health {
	switch {
	case strings.Contains(status, "(healthy)"):
		return model.HealthHealthy
	case strings.Contains(status, "(unhealthy)"):
		return model.HealthUnhealthy
	case strings.Contains(status, "(health: starting)"):
		return model.HealthStarting
	}
	return model.HealthNone
}

// exitCodeFromStatus reads the exit code the list call only gives inside
// its status text, e.g. "Exited (137) 2 seconds ago".
func exitCodeFromStatus(status string) int {
	rest, ok := strings.CutPrefix(status, "Exited (")
	if !ok {
		return 0
	}
	code, _, _ := strings.Cut(rest, ")")
	n, _ := strconv.Atoi(code)
	return n
}

func fromSummary(c container.Summary) model.Container {
	name := ""
	if len(c.Names) > 0 {
		name = strings.TrimPrefix(c.Names[0], "/")
	}
	out := model.Container{
		ID: c.ID, Name: name, Image: c.Image, Command: c.Command, State: model.State(c.State),
		Health: healthFromStatus(c.Status), ExitCode: exitCodeFromStatus(c.Status), Created: time.Unix(c.Created, 0), Ports: fromPorts(c.Ports),
		Labels: c.Labels, Mounts: fromMounts(c.Mounts), NetworkMode: c.HostConfig.NetworkMode,
	}
	if c.NetworkSettings != nil {
		out.Endpoints = fromEndpoints(c.NetworkSettings.Networks)
	}
	return out
}

func fromInspect(c container.InspectResponse) model.Container {
	out := model.Container{ID: c.ID, Name: strings.TrimPrefix(c.Name, "/"), Detailed: true}
	if c.Config != nil {
		out.Image = c.Config.Image
		out.Labels = c.Config.Labels
		out.ServiceEnv = serviceEnv(c.Config.Env)
		cmd := append([]string{}, c.Config.Entrypoint...)
		cmd = append(cmd, c.Config.Cmd...)
		out.Command = strings.Join(cmd, " ")
		for p := range c.Config.ExposedPorts {
			out.Ports = append(out.Ports, model.Port{Private: uint16(p.Int()), Protocol: p.Proto()})
		}
	}
	if created, err := time.Parse(time.RFC3339Nano, c.Created); err == nil {
		out.Created = created
	}
	if c.State != nil {
		out.State = model.State(c.State.Status)
		out.ExitCode = c.State.ExitCode
		if started, err := time.Parse(time.RFC3339Nano, c.State.StartedAt); err == nil && started.Year() > 1 {
			out.StartedAt = started
		}
		if h := c.State.Health; h != nil {
			out.Health = model.Health(h.Status)
			if len(h.Log) > 0 {
				out.HealthLog = strings.TrimSpace(h.Log[len(h.Log)-1].Output)
			}
		}
	}
	if c.HostConfig != nil {
		out.NetworkMode = string(c.HostConfig.NetworkMode)
	}
	if c.NetworkSettings != nil {
		out.Endpoints = fromEndpoints(c.NetworkSettings.Networks)
		// Published ports replace the exposed-only entries they publish.
		published := map[uint16]bool{}
		var ports []model.Port
		for p, bindings := range c.NetworkSettings.Ports {
			for _, b := range bindings {
				public, _ := strconv.ParseUint(b.HostPort, 10, 16)
				mp := model.Port{Private: uint16(p.Int()), Public: uint16(public), Protocol: p.Proto(), HostIP: b.HostIP}
				if mp.HostIP == "::" {
					continue
				}
				ports = append(ports, mp)
				published[mp.Private] = true
			}
		}
		for _, p := range out.Ports {
			if !published[p.Private] {
				ports = append(ports, p)
			}
		}
		out.Ports = ports
	}
	sortPorts(out.Ports)
	out.Mounts = fromMounts(c.Mounts)
	return out
}

// serviceEnv keeps the SERVICE_* variables of an environment and drops
// the rest, which may hold secrets topo has no business holding.
func serviceEnv(env []string) map[string]string {
	var out map[string]string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "SERVICE_") {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out
}
