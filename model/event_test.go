package model_test

import (
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/topo-dev/topo/model"
)

var evTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func ctrEvent(action, id string, attrs map[string]string, state *model.Container) model.Event {
	return model.Event{Time: evTime, Type: model.EventContainer, Action: action, ActorID: id, Attributes: attrs, Container: state}
}

func netEvent(action, netName, containerID string, state *model.Container) model.Event {
	attrs := map[string]string{"name": netName, "type": "bridge"}
	if containerID != "" {
		attrs["container"] = containerID
	}
	return model.Event{Time: evTime, Type: model.EventNetwork, Action: action, ActorID: netID(netName), Attributes: attrs, Container: state}
}

func ptr[T any](v T) *T { return &v }

// with returns c changed by f, leaving c alone.
func with(c model.Container, f func(*model.Container)) model.Container {
	c.Labels = maps.Clone(c.Labels)
	c.Endpoints = maps.Clone(c.Endpoints)
	f(&c)
	return c
}

func TestApply(t *testing.T) {
	nets := fixNets("back", "front")
	web := fixCtr("c1", "web", "front")
	stopped := with(web, func(c *model.Container) { c.State = model.StateExited; c.ExitCode = 137 })
	bridged := fixCtr("c1", "web", "front", "back")
	fresh := with(web, func(c *model.Container) { c.Detailed = true; c.Command = "/app"; c.Health = model.HealthHealthy })

	tests := []struct {
		name   string
		before model.Topology
		ev     model.Event
		want   model.Topology
	}{
		// Container events carrying the state the adapter read.
		{"create with state adds the container", fixTopo(nets), ctrEvent("create", "c1", nil, ptr(web)), fixTopo(nets, web)},
		{"start with state replaces the container", fixTopo(nets, stopped), ctrEvent("start", "c1", nil, ptr(fresh)), fixTopo(nets, fresh)},
		{"die with state replaces the container", fixTopo(nets, web), ctrEvent("die", "c1", map[string]string{"exitCode": "137"}, ptr(stopped)), fixTopo(nets, stopped)},
		{"rename with state takes the new name", fixTopo(nets, web), ctrEvent("rename", "c1", map[string]string{"name": "api", "oldName": "/web"},
			ptr(with(web, func(c *model.Container) { c.Name = "api" }))), fixTopo(nets, with(web, func(c *model.Container) { c.Name = "api" }))},
		{"state about an unknown container adds it", fixTopo(nets), ctrEvent("update", "c1", nil, ptr(web)), fixTopo(nets, web)},
		{"destroy removes even with state", fixTopo(nets, web), ctrEvent("destroy", "c1", nil, ptr(web)), fixTopo(nets)},

		// Container events alone: the object vanished before it could be read.
		{"create without state builds the container from attributes", fixTopo(nets),
			ctrEvent("create", "c9", map[string]string{"name": "job", "image": "busybox", "tier": "batch"}, nil),
			fixTopo(nets, model.Container{ID: "c9", Name: "job", Image: "busybox", State: model.StateCreated, Created: evTime,
				Labels: map[string]string{"tier": "batch"}, Endpoints: map[string]model.Endpoint{}})},
		{"create without state of a known container keeps it", fixTopo(nets, web), ctrEvent("create", "c1", map[string]string{"name": "web"}, nil), fixTopo(nets, web)},
		{"start without state of an unknown container adds it running", fixTopo(nets),
			ctrEvent("start", "c9", map[string]string{"name": "job", "image": "busybox"}, nil),
			fixTopo(nets, model.Container{ID: "c9", Name: "job", Image: "busybox", State: model.StateRunning, Created: evTime, StartedAt: evTime,
				Labels: map[string]string{}, Endpoints: map[string]model.Endpoint{}})},
		{"start without state", fixTopo(nets, stopped), ctrEvent("start", "c1", nil, nil),
			fixTopo(nets, with(stopped, func(c *model.Container) { c.State = model.StateRunning; c.StartedAt = evTime }))},
		{"restart without state", fixTopo(nets, stopped), ctrEvent("restart", "c1", nil, nil),
			fixTopo(nets, with(stopped, func(c *model.Container) { c.State = model.StateRunning }))},
		{"die without state records the exit code", fixTopo(nets, web), ctrEvent("die", "c1", map[string]string{"exitCode": "137"}, nil), fixTopo(nets, stopped)},
		{"stop without state", fixTopo(nets, web), ctrEvent("stop", "c1", nil, nil),
			fixTopo(nets, with(web, func(c *model.Container) { c.State = model.StateExited }))},
		{"kill without state changes nothing until die", fixTopo(nets, web), ctrEvent("kill", "c1", map[string]string{"signal": "9"}, nil), fixTopo(nets, web)},
		{"pause without state", fixTopo(nets, web), ctrEvent("pause", "c1", nil, nil),
			fixTopo(nets, with(web, func(c *model.Container) { c.State = model.StatePaused }))},
		{"unpause without state", fixTopo(nets, with(web, func(c *model.Container) { c.State = model.StatePaused })), ctrEvent("unpause", "c1", nil, nil), fixTopo(nets, web)},
		{"rename without state", fixTopo(nets, web), ctrEvent("rename", "c1", map[string]string{"name": "/api", "oldName": "/web"}, nil),
			fixTopo(nets, with(web, func(c *model.Container) { c.Name = "api" }))},
		{"rename without a new name keeps the old", fixTopo(nets, web), ctrEvent("rename", "c1", map[string]string{}, nil), fixTopo(nets, web)},
		{"health_status healthy without state", fixTopo(nets, web), ctrEvent("health_status: healthy", "c1", nil, nil),
			fixTopo(nets, with(web, func(c *model.Container) { c.Health = model.HealthHealthy }))},
		{"health_status unhealthy without state", fixTopo(nets, fresh), ctrEvent("health_status: unhealthy", "c1", nil, nil),
			fixTopo(nets, with(fresh, func(c *model.Container) { c.Health = model.HealthUnhealthy }))},
		{"destroy without state", fixTopo(nets, web), ctrEvent("destroy", "c1", nil, nil), fixTopo(nets)},
		{"an unhandled action changes nothing", fixTopo(nets, web), ctrEvent("exec_start: sh -c true", "c1", nil, nil), fixTopo(nets, web)},

		// Events about containers never seen, without state: nothing is invented.
		{"die of an unknown container", fixTopo(nets, web), ctrEvent("die", "c9", map[string]string{"exitCode": "1"}, nil), fixTopo(nets, web)},
		{"rename of an unknown container", fixTopo(nets, web), ctrEvent("rename", "c9", map[string]string{"name": "x"}, nil), fixTopo(nets, web)},
		{"health of an unknown container", fixTopo(nets, web), ctrEvent("health_status: healthy", "c9", nil, nil), fixTopo(nets, web)},
		{"pause of an unknown container", fixTopo(nets, web), ctrEvent("pause", "c9", nil, nil), fixTopo(nets, web)},
		{"destroy of an unknown container", fixTopo(nets, web), ctrEvent("destroy", "c9", nil, nil), fixTopo(nets, web)},
		{"an event of another type", fixTopo(nets, web), model.Event{Type: "volume", Action: "destroy", ActorID: "c1"}, fixTopo(nets, web)},

		// Network events.
		{"network create with state", fixTopo(nets), model.Event{Type: model.EventNetwork, Action: "create", ActorID: netID("db"), Network: ptr(fixNet("db"))},
			fixTopo(append(fixNets("back", "front"), fixNet("db")))},
		{"network create without state uses the attributes", fixTopo(nets), netEvent("create", "db", "", nil),
			fixTopo(append(fixNets("back", "front"), model.Network{ID: netID("db"), Name: "db", Driver: "bridge"}))},
		{"network create without state keeps a known network", fixTopo(nets), model.Event{Type: model.EventNetwork, Action: "create", ActorID: netID("front"),
			Attributes: map[string]string{"name": "front"}}, fixTopo(nets)},
		{"network destroy removes the lane and its endpoints", fixTopo(nets, bridged), netEvent("destroy", "back", "", nil), fixTopo(fixNets("front"), web)},
		{"network destroy of an unknown network", fixTopo(nets, web), netEvent("destroy", "db", "", nil), fixTopo(nets, web)},
		{"connect with state", fixTopo(nets, web), netEvent("connect", "back", "c1", ptr(bridged)), fixTopo(nets, bridged)},
		{"connect without state adds an endpoint without address", fixTopo(nets, web), netEvent("connect", "back", "c1", nil),
			fixTopo(nets, with(web, func(c *model.Container) {
				c.Endpoints[netID("back")] = model.Endpoint{NetworkID: netID("back"), NetworkName: "back"}
			}))},
		{"connect without state keeps a known endpoint's address", fixTopo(nets, bridged), netEvent("connect", "back", "c1", nil), fixTopo(nets, bridged)},
		{"connect of an unknown container without state", fixTopo(nets, web), netEvent("connect", "back", "c9", nil), fixTopo(nets, web)},
		{"disconnect with state", fixTopo(nets, bridged), netEvent("disconnect", "back", "c1", ptr(web)), fixTopo(nets, web)},
		{"disconnect without state", fixTopo(nets, bridged), netEvent("disconnect", "back", "c1", nil), fixTopo(nets, web)},
		// A stopping container is disconnected yet stays configured on
		// the network: the state read after the event says so.
		{"disconnect with state still on the network keeps it", fixTopo(nets, bridged), netEvent("disconnect", "back", "c1", ptr(bridged)), fixTopo(nets, bridged)},
		{"disconnect of an unknown container", fixTopo(nets, web), netEvent("disconnect", "back", "c9", nil), fixTopo(nets, web)},
		{"disconnect of a network the container is not on", fixTopo(nets, web), netEvent("disconnect", "back", "c1", nil), fixTopo(nets, web)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := deepClone(tt.before)
			got := shallowClone(tt.before)
			got.Apply(tt.ev)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("after Apply:\n got %+v\nwant %+v", got, tt.want)
			}
			// A UI may still hold the previous snapshot: Apply must not
			// write through the values it shares with it.
			if !reflect.DeepEqual(tt.before, orig) {
				t.Errorf("Apply changed the previous snapshot:\n got %+v\nwant %+v", tt.before, orig)
			}
			// A replayed event (resubscribing with since) is harmless.
			got.Apply(tt.ev)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("after applying twice:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// A container's whole life without enrichment, as when every inspection
// races its removal, still tracks the engine's states.
func TestApplyLifecycleWithoutState(t *testing.T) {
	topo := fixTopo(fixNets("front"))
	steps := []struct {
		ev    model.Event
		state model.State
		name  string
	}{
		{ctrEvent("create", "c1", map[string]string{"name": "web", "image": "img"}, nil), model.StateCreated, "web"},
		{netEvent("connect", "front", "c1", nil), model.StateCreated, "web"},
		{ctrEvent("start", "c1", nil, nil), model.StateRunning, "web"},
		{ctrEvent("pause", "c1", nil, nil), model.StatePaused, "web"},
		{ctrEvent("unpause", "c1", nil, nil), model.StateRunning, "web"},
		{ctrEvent("rename", "c1", map[string]string{"name": "api"}, nil), model.StateRunning, "api"},
		{ctrEvent("kill", "c1", map[string]string{"signal": "15"}, nil), model.StateRunning, "api"},
		{ctrEvent("die", "c1", map[string]string{"exitCode": "0"}, nil), model.StateExited, "api"},
		{ctrEvent("stop", "c1", nil, nil), model.StateExited, "api"},
		{ctrEvent("start", "c1", nil, nil), model.StateRunning, "api"},
		{ctrEvent("restart", "c1", nil, nil), model.StateRunning, "api"},
	}
	for i, s := range steps {
		topo.Apply(s.ev)
		c, ok := topo.Containers["c1"]
		if !ok {
			t.Fatalf("step %d (%s): container missing", i, s.ev.Action)
		}
		if c.State != s.state || c.Name != s.name {
			t.Fatalf("step %d (%s): state %q name %q, want %q %q", i, s.ev.Action, c.State, c.Name, s.state, s.name)
		}
	}
	if _, ok := topo.Containers["c1"].Endpoints[netID("front")]; !ok {
		t.Errorf("connect without state did not attach the container: %+v", topo.Containers["c1"].Endpoints)
	}
	topo.Apply(ctrEvent("destroy", "c1", nil, nil))
	if len(topo.Containers) != 0 {
		t.Errorf("destroy left %v", topo.Containers)
	}
}

// A resync racing the stream: the snapshot already holds the effect of the
// events that are then replayed, and the result is the snapshot.
func TestApplyReplayAfterSnapshotConverges(t *testing.T) {
	snapshot := fixTopo(fixNets("back", "front"), fixCtr("c1", "api", "front", "back"))
	replay := []model.Event{
		ctrEvent("create", "c1", map[string]string{"name": "web"}, nil),
		netEvent("connect", "front", "c1", nil),
		netEvent("connect", "back", "c1", nil),
		{Type: model.EventNetwork, Action: "create", ActorID: netID("back"), Attributes: map[string]string{"name": "back"}},
	}
	got := deepClone(snapshot)
	for _, ev := range replay {
		got.Apply(ev)
	}
	if !reflect.DeepEqual(got, snapshot) {
		t.Errorf("replay changed the snapshot:\n got %+v\nwant %+v", got, snapshot)
	}
}

func TestBaseAction(t *testing.T) {
	for action, want := range map[string]string{
		"start":                  "start",
		"health_status: healthy": "health_status",
		"exec_start: sh -c ls":   "exec_start",
		"":                       "",
	} {
		if got := (model.Event{Action: action}).BaseAction(); got != want {
			t.Errorf("BaseAction(%q) = %q, want %q", action, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	topo := fixTopo(fixNets("front"), fixCtr("c1", "web", "front"), fixCompose("c2", "shop", "cart", 2, "front"))
	long := "0123456789abcdef0123"
	tests := []struct {
		name string
		ev   model.Event
		want string
	}{
		{"known container", ctrEvent("start", "c1", nil, nil), "start web"},
		{"compose container by service.N", ctrEvent("stop", "c2", nil, nil), "stop cart.2"},
		{"die with its exit code", ctrEvent("die", "c1", map[string]string{"exitCode": "137"}, nil), "die web (exit 137)"},
		{"health keeps its status", ctrEvent("health_status: unhealthy", "c1", nil, nil), "health_status: unhealthy web"},
		{"removed container by its name attribute", ctrEvent("destroy", "gone", map[string]string{"name": "old"}, nil), "destroy old"},
		{"unknown container by its state", ctrEvent("create", "c9", nil, ptr(fixCompose("c9", "shop", "db", 1))), "create db.1"},
		{"nameless container by short ID", ctrEvent("destroy", long, nil, nil), "destroy 0123456789ab"},
		{"network create", netEvent("create", "back", "", nil), "network create back"},
		{"network destroy without a name", model.Event{Type: model.EventNetwork, Action: "destroy", ActorID: long}, "network destroy 0123456789ab"},
		{"connect", netEvent("connect", "front", "c1", nil), "connect web → front"},
		{"disconnect", netEvent("disconnect", "front", "c2", nil), "disconnect cart.2 ↛ front"},
		{"connect of an unknown container by its state", netEvent("connect", "front", "c9", ptr(fixCtr("c9", "db", "front"))), "connect db → front"},
		{"connect of an unknown container by short ID", netEvent("connect", "front", long, nil), "connect 0123456789ab → front"},
		{"other type", model.Event{Type: "volume", Action: "mount"}, "volume mount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ev.Describe(topo); got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
		})
	}
}
