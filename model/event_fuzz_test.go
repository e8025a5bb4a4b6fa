package model_test

import (
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/topo-dev/topo/model"
)

// fuzzBytes hands out the fuzzer's bytes one decision at a time; once they
// run out every decision is 0, so any input decodes to something.
type fuzzBytes struct{ b []byte }

func (f *fuzzBytes) next() byte {
	if len(f.b) == 0 {
		return 0
	}
	c := f.b[0]
	f.b = f.b[1:]
	return c
}

func (f *fuzzBytes) pick(n int) int { return int(f.next()) % n }

func (f *fuzzBytes) done() bool { return len(f.b) == 0 }

// A small pool of IDs and names, so that events keep hitting the same
// objects: a fuzzer choosing fresh IDs would never replay, destroy or
// reconnect anything.
var (
	fuzzNetNames  = []string{"front", "back", "bridge", "host", "none", "ingress"}
	fuzzCtrIDs    = []string{"c0", "c1", "c2", "0123456789abcdef0123"}
	fuzzCtrNames  = []string{"web", "api", "db", "web"}
	fuzzCtrEvents = []string{"create", "start", "restart", "die", "stop", "kill", "pause", "unpause",
		"rename", "destroy", "health_status: healthy", "health_status: unhealthy", "health_status",
		"exec_start: sh -c ls", "update", "oom", ""}
	fuzzNetEvents = []string{"create", "destroy", "connect", "disconnect", "remove", ""}
	fuzzStates    = []model.State{model.StateCreated, model.StateRunning, model.StatePaused,
		model.StateRestarting, model.StateRemoving, model.StateExited, model.StateDead}
)

// fuzzContainer is the state an adapter could have read: attached to some
// of the pool's networks, keyed by ID, or by name as the engine does for a
// created container that never started, or to a network nobody knows.
func fuzzContainer(f *fuzzBytes, id string) *model.Container {
	i := f.pick(len(fuzzCtrNames))
	c := model.Container{ID: id, Name: fuzzCtrNames[i], Image: "img", State: fuzzStates[f.pick(len(fuzzStates))],
		Labels: map[string]string{}, Endpoints: map[string]model.Endpoint{}}
	if f.next()%2 == 1 {
		// A swarm task, so that superseded attempts are exercised.
		c.Labels["com.docker.swarm.service.name"] = "app"
		c.Labels["com.docker.swarm.task.name"] = "app." + strconv.Itoa(f.pick(3)) + ".task" + id
	}
	if f.next()%2 == 1 {
		c.Labels[model.LabelComposeProject] = "shop"
		c.Labels[model.LabelComposeService] = c.Name
		c.Labels[model.LabelComposeNumber] = strconv.Itoa(f.pick(3))
	}
	mask := f.next()
	for n, name := range fuzzNetNames {
		if mask&(1<<n) == 0 {
			continue
		}
		key := netID(name)
		if mask&0x80 != 0 {
			key = name // created, never started: keyed by name
		}
		c.Endpoints[key] = model.Endpoint{NetworkID: key, NetworkName: name, IPv4: "172.30.0." + strconv.Itoa(n+2)}
	}
	if mask&0x40 != 0 {
		c.Endpoints["id-unknown"] = model.Endpoint{NetworkID: "id-unknown", NetworkName: "unknown"}
	}
	return &c
}

func fuzzNetwork(name string) model.Network {
	n := fixNet(name)
	switch name {
	case "host":
		n.Driver = "host"
	case "none":
		n.Driver = "null"
	case "ingress":
		n.Driver = "overlay"
	}
	return n
}

// fuzzEvent decodes one event from the fuzzer's bytes.
func fuzzEvent(f *fuzzBytes) model.Event {
	ev := model.Event{Time: evTime.Add(time.Duration(f.next()) * time.Second), Attributes: map[string]string{}}
	kind := f.next()
	if kind%3 == 2 {
		ev.Type = model.EventNetwork
		name := fuzzNetNames[f.pick(len(fuzzNetNames))]
		ev.Action = fuzzNetEvents[f.pick(len(fuzzNetEvents))]
		ev.ActorID = netID(name)
		if kind&0x10 == 0 {
			ev.Attributes["name"] = name
		}
		id := fuzzCtrIDs[f.pick(len(fuzzCtrIDs))]
		ev.Attributes["container"] = id
		switch f.pick(3) {
		case 1:
			ev.Container = fuzzContainer(f, id)
		case 2:
			n := fuzzNetwork(name)
			ev.Network = &n
		}
		return ev
	}
	if kind%3 == 1 {
		// Neither a container nor a network: a volume or an image.
		ev.Type = "volume"
	} else {
		ev.Type = model.EventContainer
	}
	ev.ActorID = fuzzCtrIDs[f.pick(len(fuzzCtrIDs))]
	ev.Action = fuzzCtrEvents[f.pick(len(fuzzCtrEvents))]
	if a := f.next(); a&1 != 0 {
		ev.Attributes["name"] = "/" + fuzzCtrNames[int(a>>1)%len(fuzzCtrNames)]
	}
	if a := f.next(); a&1 != 0 {
		ev.Attributes["exitCode"] = strconv.Itoa(int(a>>1) - 10)
	}
	if f.next()%2 == 1 {
		ev.Container = fuzzContainer(f, ev.ActorID)
	}
	return ev
}

// FuzzApply applies arbitrary event sequences to a topology that starts
// with some networks and containers, and checks after every event what
// the screen relies on: Apply does not panic, is idempotent for a
// replayed event, never writes through a value an earlier snapshot
// shares; every lane a container is drawn on is a network of the
// topology it has an endpoint on; the counts of the status bar and of the
// lanes agree with the containers.
func FuzzApply(f *testing.F) {
	f.Add([]byte{})
	// create c0 with state on front, start it, connect it to back, destroy back.
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0b11, 1, 0, 0, 1, 0, 0, 2, 1, 1, 2, 0, 0, 2, 1, 1, 0, 0})
	f.Add([]byte("\x05\x02\x01\x03\x01\x01\x01\x01\x03\xff\x00\x02\x09\x02\x05\x01\x00\x00\x05\x00\x01\x01\x01\x01\x00\x81"))
	f.Add([]byte("swarm task superseded by its replacement: two containers, one slot"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fb := &fuzzBytes{b: data}
		topo := fixTopo(fixNets("front", "back"), fixCtr("c0", "web", "front"), fixCtr("c1", "api", "front", "back"))
		for step := 0; step < 64 && !fb.done(); step++ {
			ev := fuzzEvent(fb)
			before := deepClone(topo)
			shared := shallowClone(topo)
			shared.Apply(ev)
			if !reflect.DeepEqual(before, deepClone(topo)) {
				t.Fatalf("step %d: Apply(%s) wrote through a value the previous snapshot shares", step, describeFuzzEvent(ev))
			}
			topo = shared
			once := deepClone(topo)
			topo.Apply(ev)
			if !reflect.DeepEqual(once, topo) {
				t.Fatalf("step %d: Apply(%s) is not idempotent:\nonce  %+v\ntwice %+v", step, describeFuzzEvent(ev), once, topo)
			}
			if ev.Type == model.EventContainer && ev.BaseAction() != "destroy" && ev.Container != nil {
				if got := topo.Containers[ev.ActorID]; !reflect.DeepEqual(got, *ev.Container) {
					t.Fatalf("step %d: Apply(%s) did not take the state the event carried:\n got %+v\nwant %+v", step, describeFuzzEvent(ev), got, *ev.Container)
				}
			}
			checkTopologyInvariants(t, topo, describeFuzzEvent(ev))
		}
	})
}

func describeFuzzEvent(ev model.Event) string {
	return fmt.Sprintf("%s %q %s attrs=%v state=%v network=%v", ev.Type, ev.Action, ev.ActorID, ev.Attributes, ev.Container != nil, ev.Network != nil)
}

// checkTopologyInvariants checks the lanes and counts against the
// topology, with and without the built-in networks.
func checkTopologyInvariants(t *testing.T, topo model.Topology, after string) {
	t.Helper()
	running, total := topo.Counts()
	tasks := topo.RunningSwarmTasks()
	wantRunning, wantTotal := 0, 0
	for id, c := range topo.Containers {
		if id != c.ID {
			t.Fatalf("after %s: container %q is stored under %q", after, c.ID, id)
		}
		if c.SupersededTask(tasks) {
			continue
		}
		wantTotal++
		if c.Running() {
			wantRunning++
		}
	}
	if running != wantRunning || total != wantTotal || running > total {
		t.Fatalf("after %s: Counts() = %d/%d, want %d/%d", after, running, total, wantRunning, wantTotal)
	}
	for _, builtIn := range []bool{false, true} {
		l := topo.Layout(model.LayoutOptions{WithBuiltIn: builtIn})
		if len(l.Lanes) != len(topo.OrderedNetworks(builtIn)) {
			t.Fatalf("after %s: %d lanes for %d networks", after, len(l.Lanes), len(topo.OrderedNetworks(builtIn)))
		}
		if len(l.Columns) > total {
			t.Fatalf("after %s: %d columns for %d containers counted", after, len(l.Columns), total)
		}
		seen := map[string]bool{}
		attached := 0
		for col, id := range l.Columns {
			c, ok := topo.Containers[id]
			if !ok || seen[id] {
				t.Fatalf("after %s: column %d is container %q: unknown or drawn twice", after, col, id)
			}
			seen[id] = true
			first, last := l.Span(col)
			n := 0
			for lane, net := range l.Lanes {
				if !l.Attached(lane, col) {
					continue
				}
				n++
				if _, ok := topo.Networks[net.ID]; !ok {
					t.Fatalf("after %s: %s is drawn on lane %q, which is no network of the topology", after, id, net.Name)
				}
				_, byID := c.Endpoints[net.ID]
				e, byName := c.Endpoints[net.Name]
				if !byID && !(byName && e.NetworkID == net.Name) {
					t.Fatalf("after %s: %s is drawn on lane %q without an endpoint there: %v", after, id, net.Name, c.Endpoints)
				}
				if lane < first || lane > last {
					t.Fatalf("after %s: %s is on lane %d outside its span %d–%d", after, id, lane, first, last)
				}
			}
			if n == 0 || !l.Attached(first, col) || !l.Attached(last, col) {
				t.Fatalf("after %s: column %s has %d lanes and span %d–%d not both attached", after, id, n, first, last)
			}
			attached += n
		}
		perLane := 0
		for lane := range l.Lanes {
			perLane += l.LaneCount(lane)
		}
		if perLane != attached {
			t.Fatalf("after %s: lanes count %d nodes, columns %d", after, perLane, attached)
		}
		// Every counted container with an endpoint on a shown network is
		// drawn: nothing counted in the status bar is missing from the lanes.
		for id, c := range topo.Containers {
			if c.SupersededTask(tasks) || seen[id] {
				continue
			}
			for key, e := range c.Endpoints {
				for _, net := range l.Lanes {
					if net.ID == key || (e.NetworkID == key && e.NetworkName == key && net.Name == key) {
						t.Fatalf("after %s: %s has an endpoint on lane %q but is not drawn", after, id, net.Name)
					}
				}
			}
		}
	}
}
