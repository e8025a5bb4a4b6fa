package model_test

import (
	"maps"
	"reflect"
	"sort"
	"strconv"
	"testing"

	"github.com/topo-dev/topo/model"
)

// Pools for FuzzLink, small so that names, IDs and addresses collide: two
// containers on one address, a short ID two full IDs start with, an
// instance ID naming a container of another service.
var (
	linkIDs = []string{
		"aaaaaaaaaaaa1111111111111111", "aaaaaaaaaaaa2222222222222222", "bbbbbbbbbbbb", "c1", "c2",
	}
	linkMetaIDs = []string{"", "aaaaaaaaaaaa1111111111111111", "aaaaaaaaaaaa", "bbbbbbbbbbbb", "c1",
		"cccccccccccc3333", "aaaa", "cccccccccccc"}
	linkNames    = []string{"shop-app-1", "shop-app-2", "shop-db-1", "consul", "app"}
	linkIPs      = []string{"", "172.30.0.2", "172.30.0.3", "10.1.0.2", "172.30.0.1", "fd00::2", "192.168.9.9", "not-an-ip"}
	linkServices = []string{"app", "consul", "db", "web"}
	linkNodes    = []string{"n1", "n2"}
)

func fuzzLinkInputs(fb *fuzzBytes) (model.Topology, model.Registry, model.Elsewhere) {
	topo := fixTopo([]model.Network{
		{ID: "id-front", Name: "front", Subnets: []string{"172.30.0.0/16", "fd00::/64"}},
		{ID: "id-back", Name: "back", Subnets: []string{"10.1.0.0/24", "bogus"}},
	})
	for n := fb.pick(len(linkIDs) + 1); n > 0; n-- {
		id := linkIDs[fb.pick(len(linkIDs))]
		c := model.Container{ID: id, Name: linkNames[fb.pick(len(linkNames))],
			State:  fuzzStates[fb.pick(len(fuzzStates))],
			Labels: map[string]string{}, Endpoints: map[string]model.Endpoint{}}
		switch fb.pick(4) {
		case 1:
			c.Labels[model.LabelServiceName] = linkServices[fb.pick(len(linkServices))]
		case 2:
			c.Labels[model.LabelComposeProject] = []string{"shop", "blog"}[fb.pick(2)]
			c.Labels[model.LabelComposeService] = linkServices[fb.pick(len(linkServices))]
		}
		for _, net := range []string{"id-front", "id-back"} {
			if fb.next()%2 == 1 {
				c.Endpoints[net] = model.Endpoint{NetworkID: net, IPv4: linkIPs[fb.pick(len(linkIPs))], IPv6: linkIPs[fb.pick(len(linkIPs))]}
			}
		}
		topo.Containers[id] = c
	}
	var reg model.Registry
	keys := map[string]bool{}
	for n := fb.pick(8); n > 0; n-- {
		in := model.Instance{
			Service:     linkServices[fb.pick(len(linkServices))],
			Node:        linkNodes[fb.pick(len(linkNodes))],
			Address:     linkIPs[fb.pick(len(linkIPs))],
			NodeAddress: linkIPs[fb.pick(len(linkIPs))],
			Port:        8080,
		}
		name := linkNames[fb.pick(len(linkNames))]
		switch fb.pick(5) {
		case 0:
			in.ID = name + ":8080"
		case 1:
			in.ID = "host:" + name + ":8080"
		case 2:
			in.ID = name + ":8080:udp"
		case 3:
			in.ID = name + ":99999"
		default:
			in.ID = name + "-" + strconv.Itoa(fb.pick(4))
		}
		if id := linkMetaIDs[fb.pick(len(linkMetaIDs))]; id != "" {
			in.Meta = map[string]string{model.MetaContainerID: id}
		}
		in.Checks = []model.Check{{Status: []model.CheckStatus{model.CheckPassing, model.CheckCritical, model.CheckMaintenance, "bogus"}[fb.pick(4)]}}
		// Consul keeps a service ID unique per agent: a second
		// registration of the same ID replaces the first.
		if keys[in.Key()] {
			continue
		}
		keys[in.Key()] = true
		i := sort.Search(len(reg.Services), func(i int) bool { return reg.Services[i].Name >= in.Service })
		if i == len(reg.Services) || reg.Services[i].Name != in.Service {
			reg.Services = append(reg.Services, model.Service{})
			copy(reg.Services[i+1:], reg.Services[i:])
			reg.Services[i] = model.Service{Name: in.Service}
		}
		reg.Services[i].Instances = append(reg.Services[i].Instances, in)
	}
	for i := range reg.Services {
		sort.Slice(reg.Services[i].Instances, func(a, b int) bool {
			return reg.Services[i].Instances[a].Key() < reg.Services[i].Instances[b].Key()
		})
	}
	e := model.Elsewhere{ByID: map[string]string{}, ByIP: map[string]string{}}
	for n := fb.pick(3); n > 0; n-- {
		e.ByID[[]string{"cccccccccccc3333", "cccccccccccc4444", "dddd"}[fb.pick(3)]] = "app." + strconv.Itoa(n) + " on worker-2"
		e.ByIP[linkIPs[fb.pick(len(linkIPs))]] = "app." + strconv.Itoa(n) + " on worker-2"
	}
	return topo, reg, e
}

// rebuilt copies a topology into fresh maps filled in another order, so
// that a result depending on map order shows up as a difference.
func rebuilt(t model.Topology) model.Topology {
	out := model.NewTopology()
	ids := make([]string, 0, len(t.Containers))
	for id := range t.Containers {
		ids = append(ids, id)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	for _, id := range ids {
		c := t.Containers[id]
		c.Endpoints = maps.Clone(c.Endpoints)
		c.Labels = maps.Clone(c.Labels)
		out.Containers[id] = c
	}
	maps.Copy(out.Networks, t.Networks)
	return out
}

// FuzzLink matches arbitrary registries against arbitrary topologies and
// checks that it does not panic, that every link names a container that
// exists (or none), that the indexes agree with the links, and that the
// result does not depend on map order.
func FuzzLink(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{2, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 3, 0, 0, 1, 1, 0, 0, 0, 0})
	f.Add([]byte("two containers share an address; a short ID names two; an instance names a container by its name"))
	f.Fuzz(func(t *testing.T, data []byte) {
		topo, reg, e := fuzzLinkInputs(&fuzzBytes{b: data})
		l := reg.LinkElsewhere(topo, e)
		if len(l.Instances) != reg.InstanceCount() {
			t.Fatalf("%d links for %d instances", len(l.Instances), reg.InstanceCount())
		}
		stale := 0
		for key, link := range l.Instances {
			if key != link.Key {
				t.Fatalf("link %q stored under %q", link.Key, key)
			}
			if link.Stale {
				stale++
			}
			if link.ContainerID == "" {
				continue
			}
			if _, ok := topo.Containers[link.ContainerID]; !ok {
				t.Fatalf("instance %s links to container %q, which does not exist", key, link.ContainerID)
			}
			if link.By == model.MatchNone || link.Elsewhere != "" {
				t.Fatalf("instance %s links to %s by %q and elsewhere %q", key, link.ContainerID, link.By, link.Elsewhere)
			}
			if !contains(l.ByContainer[link.ContainerID], key) {
				t.Fatalf("instance %s links to %s, which does not list it: %v", key, link.ContainerID, l.ByContainer[link.ContainerID])
			}
		}
		for id, keys := range l.ByContainer {
			if _, ok := topo.Containers[id]; !ok {
				t.Fatalf("ByContainer lists %q, which does not exist", id)
			}
			if !sort.StringsAreSorted(keys) {
				t.Fatalf("ByContainer[%s] not sorted: %v", id, keys)
			}
			for _, k := range keys {
				if l.Instances[k].ContainerID != id {
					t.Fatalf("ByContainer[%s] lists %s, which links to %q", id, k, l.Instances[k].ContainerID)
				}
			}
		}
		if len(l.Stale) != stale {
			t.Fatalf("%d stale listed, %d links stale", len(l.Stale), stale)
		}
		for _, u := range l.Unregistered {
			c, ok := topo.Containers[u.ContainerID]
			if !ok || !c.Running() {
				t.Fatalf("unregistered %q: not a running container of the topology", u.ContainerID)
			}
			for _, k := range l.ByContainer[u.ContainerID] {
				if l.Instances[k].Service == u.Service {
					t.Fatalf("%s is called unregistered in %s but %s is its instance", u.ContainerID, u.Service, k)
				}
			}
		}
		// Go orders map iteration at random: a few runs over a copy filled
		// in another order catch a result that depends on it.
		for range 3 {
			if again := reg.LinkElsewhere(rebuilt(topo), e); !reflect.DeepEqual(l, again) {
				t.Fatalf("Link is not deterministic:\nfirst  %+v\nsecond %+v", l, again)
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
