package model_test

import (
	"maps"
	"strconv"

	"github.com/topo-dev/topo/model"
)

// Fixtures: a network named N has the ID "id-N", so tests can name lanes
// and still exercise the model's keying by ID.

func netID(name string) string { return "id-" + name }

func fixNet(name string) model.Network {
	return model.Network{ID: netID(name), Name: name, Driver: "bridge", Scope: "local", Subnets: []string{"172.30.0.0/16"}}
}

// fixCtr is a running container attached to the named networks, with an
// address in each.
func fixCtr(id, name string, nets ...string) model.Container {
	c := model.Container{ID: id, Name: name, Image: "img/" + name, State: model.StateRunning,
		Endpoints: map[string]model.Endpoint{}, Labels: map[string]string{}}
	for i, n := range nets {
		c.Endpoints[netID(n)] = model.Endpoint{NetworkID: netID(n), NetworkName: n, IPv4: "172.30.0." + strconv.Itoa(10+i)}
	}
	return c
}

// fixCompose is fixCtr with compose labels.
func fixCompose(id, project, service string, number int, nets ...string) model.Container {
	c := fixCtr(id, project+"-"+service+"-"+strconv.Itoa(number), nets...)
	c.Labels = map[string]string{
		model.LabelComposeProject: project,
		model.LabelComposeService: service,
		model.LabelComposeNumber:  strconv.Itoa(number),
	}
	return c
}

func fixTopo(nets []model.Network, ctrs ...model.Container) model.Topology {
	t := model.NewTopology()
	for _, n := range nets {
		t.Networks[n.ID] = n
	}
	for _, c := range ctrs {
		t.Containers[c.ID] = c
	}
	return t
}

func fixNets(names ...string) []model.Network {
	out := make([]model.Network, len(names))
	for i, n := range names {
		out[i] = fixNet(n)
	}
	return out
}

// deepClone copies a topology down to the maps inside each container, so a
// test can check that Apply never writes through a shared value.
func deepClone(t model.Topology) model.Topology {
	out := model.NewTopology()
	for id, n := range t.Networks {
		n.Labels = maps.Clone(n.Labels)
		out.Networks[id] = n
	}
	for id, c := range t.Containers {
		c.Labels = maps.Clone(c.Labels)
		c.Endpoints = maps.Clone(c.Endpoints)
		out.Containers[id] = c
	}
	for name, v := range t.Volumes {
		v.Labels = maps.Clone(v.Labels)
		out.Volumes[name] = v
	}
	return out
}

// shallowClone copies only the top-level maps, as a UI keeping the previous
// snapshot would: container values, and the maps inside them, are shared.
func shallowClone(t model.Topology) model.Topology {
	return model.Topology{Networks: maps.Clone(t.Networks), Containers: maps.Clone(t.Containers), Volumes: maps.Clone(t.Volumes)}
}
