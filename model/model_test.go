package model_test

import (
	"reflect"
	"testing"

	"github.com/topo-dev/topo/model"
)

func laneNames(nets []model.Network) []string {
	out := make([]string, len(nets))
	for i, n := range nets {
		out[i] = n.Name
	}
	return out
}

func TestOrderedNetworks(t *testing.T) {
	topo := fixTopo(fixNets("none", "zeta", "host", "bridge", "alpha", "Beta", "mid"))
	// Two user networks may share a name (swarm scopes): the ID decides.
	twin := fixNet("alpha")
	twin.ID = "id-alpha-2"
	topo.Networks[twin.ID] = twin

	tests := []struct {
		name        string
		withBuiltIn bool
		want        []string
	}{
		{"user networks by name, then bridge, host, none", true, []string{"Beta", "alpha", "alpha", "mid", "zeta", "bridge", "host", "none"}},
		{"built-ins hidden on request", false, []string{"Beta", "alpha", "alpha", "mid", "zeta"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := topo.OrderedNetworks(tt.withBuiltIn)
			if names := laneNames(got); !reflect.DeepEqual(names, tt.want) {
				t.Errorf("lanes = %v, want %v", names, tt.want)
			}
			if got[1].ID != netID("alpha") || got[2].ID != "id-alpha-2" {
				t.Errorf("same-named networks not ordered by ID: %s, %s", got[1].ID, got[2].ID)
			}
		})
	}
	if got := model.NewTopology().OrderedNetworks(true); len(got) != 0 {
		t.Errorf("empty topology has lanes %v", got)
	}
}

func TestBuiltIn(t *testing.T) {
	for name, want := range map[string]bool{"bridge": true, "host": true, "none": true, "docker_gwbridge": true, "app_default": false, "bridged": false, "": false} {
		if got := fixNet(name).BuiltIn(); got != want {
			t.Errorf("BuiltIn(%q) = %v, want %v", name, got, want)
		}
	}
	// The swarm's routing mesh is an overlay named ingress; a user's
	// bridge of that name is the user's.
	mesh := fixNet("ingress")
	mesh.Driver, mesh.Scope = "overlay", "swarm"
	if !mesh.BuiltIn() || fixNet("ingress").BuiltIn() {
		t.Errorf("BuiltIn: the ingress overlay %v, a bridge named ingress %v; want true, false", mesh.BuiltIn(), fixNet("ingress").BuiltIn())
	}
}

func TestDisplayName(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"plain container", nil, "my-container"},
		{"compose replica", map[string]string{model.LabelComposeProject: "shop", model.LabelComposeService: "cart", model.LabelComposeNumber: "3"}, "cart.3"},
		{"compose service without number", map[string]string{model.LabelComposeService: "cart"}, "cart"},
		{"compose service with a bad number", map[string]string{model.LabelComposeService: "cart", model.LabelComposeNumber: "x"}, "cart"},
		{"number without service", map[string]string{model.LabelComposeNumber: "2"}, "my-container"},
		{"swarm replica of a stack with compose labels", map[string]string{model.LabelComposeService: "app",
			"com.docker.swarm.service.name": "demo_app", "com.docker.swarm.task.name": "demo_app.3.x0h2k9"}, "app.3"},
		{"swarm replica", map[string]string{"com.docker.swarm.service.name": "web", "com.docker.swarm.task.name": "web.12.x0h2k9"}, "web.12"},
		{"global swarm task: a node ID, not a slot", map[string]string{"com.docker.swarm.service.name": "agent",
			"com.docker.swarm.task.name": "agent.ra0w0o0c2faiogb4p3m3xw706.x0h2k9"}, "agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := model.Container{Name: "my-container", Labels: tt.labels}
			if got := c.DisplayName(); got != tt.want {
				t.Errorf("DisplayName = %q, want %q", got, tt.want)
			}
		})
	}
	c := fixCompose("c1", "shop", "cart", 3)
	if c.Project() != "shop" || c.Service() != "cart" || c.Number() != 3 {
		t.Errorf("compose accessors = %q %q %d", c.Project(), c.Service(), c.Number())
	}
	if n := (model.Container{}).Number(); n != 0 {
		t.Errorf("Number without label = %d", n)
	}
}

func TestMatches(t *testing.T) {
	c := fixCompose("c1", "shop", "cart", 2, "front")
	c.Image = "registry.local/Cart:1.4"
	c.Labels["tier"] = "backend"
	tests := []struct {
		query string
		want  bool
	}{
		{"", true},
		{"   ", true},
		{"shop-cart", true},  // name
		{"CART-2", true},     // name, any case
		{"cart.2", true},     // display name
		{"cart:1.4", true},   // image, any case
		{"registry", true},   // image
		{"tier=back", true},  // label key=value
		{"backend", true},    // label value
		{"tier", true},       // label key
		{"  backend ", true}, // trimmed
		{"frontend", false},
		{"front", false}, // a network name is not a match
		{"cart.3", false},
	}
	for _, tt := range tests {
		if got := c.Matches(tt.query); got != tt.want {
			t.Errorf("Matches(%q) = %v, want %v", tt.query, got, tt.want)
		}
	}
}

func TestSharedNetworks(t *testing.T) {
	a := fixCtr("a", "a", "front", "back", "db")
	tests := []struct {
		name string
		b    model.Container
		want []string
	}{
		{"sorted by name", fixCtr("b", "b", "db", "front", "other"), []string{"db", "front"}},
		{"none shared", fixCtr("b", "b", "other"), nil},
		{"no networks", model.Container{ID: "b"}, nil},
		{"itself", a, []string{"back", "db", "front"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := model.SharedNetworks(a, tt.b); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SharedNetworks = %v, want %v", got, tt.want)
			}
			if got := model.SharedNetworks(tt.b, a); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SharedNetworks reversed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFindContainer(t *testing.T) {
	topo := fixTopo(nil,
		fixCtr("abcdef0123456789", "web", "front"),
		fixCtr("abcd99", "api", "front"),
		fixCtr("9999aaaa", "db", "front"))
	tests := []struct {
		ref    string
		wantID string
	}{
		{"abcdef0123456789", "abcdef0123456789"},
		{"web", "abcdef0123456789"},
		{"/web", "abcdef0123456789"},
		{"abcde", "abcdef0123456789"},
		{"9999", "9999aaaa"},
		{"abcd", ""}, // ambiguous prefix
		{"999", ""},  // prefix too short
		{"nope", ""},
	}
	for _, tt := range tests {
		c, ok := topo.FindContainer(tt.ref)
		if ok != (tt.wantID != "") || c.ID != tt.wantID {
			t.Errorf("FindContainer(%q) = %q, %v; want %q", tt.ref, c.ID, ok, tt.wantID)
		}
	}
	if n, ok := fixTopo(fixNets("front")).FindNetwork("front"); !ok || n.ID != netID("front") {
		t.Errorf("FindNetwork by name = %+v, %v", n, ok)
	}
	if n, ok := fixTopo(fixNets("front")).FindNetwork(netID("front")); !ok || n.Name != "front" {
		t.Errorf("FindNetwork by ID = %+v, %v", n, ok)
	}
	if _, ok := fixTopo(fixNets("front")).FindNetwork("back"); ok {
		t.Error("FindNetwork found a missing network")
	}
}

func TestCountsAndRunning(t *testing.T) {
	var ctrs []model.Container
	want := map[model.State]bool{
		model.StateCreated: false, model.StateRunning: true, model.StatePaused: true, model.StateRestarting: true,
		model.StateRemoving: false, model.StateExited: false, model.StateDead: false,
	}
	running := 0
	for state, isRunning := range want {
		c := fixCtr(string(state), string(state), "front")
		c.State = state
		if c.Running() != isRunning {
			t.Errorf("%s: Running() = %v", state, c.Running())
		}
		if isRunning {
			running++
		}
		ctrs = append(ctrs, c)
	}
	r, total := fixTopo(nil, ctrs...).Counts()
	if r != running || total != len(want) {
		t.Errorf("Counts = %d, %d; want %d, %d", r, total, running, len(want))
	}
}

func TestSmallValues(t *testing.T) {
	ports := map[model.Port]string{
		{Private: 8080, Protocol: "tcp"}:                                  "8080/tcp",
		{Private: 53, Public: 5353, Protocol: "udp"}:                      "0.0.0.0:5353->53/udp",
		{Private: 80, Public: 8000, Protocol: "tcp", HostIP: "127.0.0.1"}: "127.0.0.1:8000->80/tcp",
	}
	for p, want := range ports {
		if got := p.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", p, got, want)
		}
	}
	if ip := (model.Endpoint{IPv4: "10.0.0.2", IPv6: "fd00::2"}).IP(); ip != "10.0.0.2" {
		t.Errorf("IP prefers IPv4: %q", ip)
	}
	if ip := (model.Endpoint{IPv6: "fd00::2"}).IP(); ip != "fd00::2" {
		t.Errorf("IP falls back to IPv6: %q", ip)
	}
	if id := (model.Container{ID: "0123456789abcdef"}).ShortID(); id != "0123456789ab" {
		t.Errorf("ShortID = %q", id)
	}
	if id := (model.Container{ID: "abc"}).ShortID(); id != "abc" {
		t.Errorf("ShortID of a short ID = %q", id)
	}
}
