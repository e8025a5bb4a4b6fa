package model

import (
	"reflect"
	"strconv"
	"testing"
	"time"
)

func TestInstanceHealth(t *testing.T) {
	tests := []struct {
		name   string
		checks []CheckStatus
		want   CheckStatus
	}{
		{"no checks is passing", nil, CheckPassing},
		{"all passing", []CheckStatus{CheckPassing, CheckPassing}, CheckPassing},
		{"warning wins over passing", []CheckStatus{CheckPassing, CheckWarning}, CheckWarning},
		{"critical wins over warning", []CheckStatus{CheckWarning, CheckCritical, CheckPassing}, CheckCritical},
		{"maintenance wins over critical", []CheckStatus{CheckCritical, CheckMaintenance}, CheckMaintenance},
		{"an unknown status ranks as critical", []CheckStatus{CheckWarning, "bogus"}, "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in Instance
			for _, s := range tt.checks {
				in.Checks = append(in.Checks, Check{Status: s})
			}
			if got := in.Health(); got != tt.want {
				t.Errorf("Health() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServiceCounts(t *testing.T) {
	inst := func(s ...CheckStatus) Instance {
		var in Instance
		for _, st := range s {
			in.Checks = append(in.Checks, Check{Status: st})
		}
		return in
	}
	s := Service{Instances: []Instance{
		inst(), inst(CheckPassing), inst(CheckWarning), inst(CheckPassing, CheckCritical),
		inst(CheckMaintenance), inst("bogus"),
	}}
	want := HealthCounts{Passing: 2, Warning: 1, Critical: 2, Maintenance: 1}
	if got := s.Counts(); got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}
}

func TestFirstLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"ok", "ok"},
		{"\n\n  HTTP GET http://x: 200 OK  \nbody\nmore", "HTTP GET http://x: 200 OK"},
		{"line1\r\nline2", "line1"},
	}
	for _, tt := range tests {
		if got := FirstLine(tt.in); got != tt.want {
			t.Errorf("FirstLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestInstanceAddress(t *testing.T) {
	tests := []struct {
		in   Instance
		want string
	}{
		{Instance{Address: "10.0.0.2", Port: 80, NodeAddress: "127.0.0.1"}, "10.0.0.2:80"},
		{Instance{NodeAddress: "127.0.0.1", Port: 8500}, "127.0.0.1:8500"},
		{Instance{Address: "fd00::2", Port: 80}, "[fd00::2]:80"},
		{Instance{Address: "10.0.0.2"}, "10.0.0.2"},
	}
	for _, tt := range tests {
		if got := tt.in.HostPort(); got != tt.want {
			t.Errorf("HostPort(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRegistryLookupsAndAges(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	r := Registry{
		FetchedAt: now.Add(-3 * time.Second),
		Services: []Service{
			{Name: "api", Instances: []Instance{{ID: "api-1", Node: "n1"}, {ID: "api-2", Node: "n1"}}},
			{Name: "web", Instances: []Instance{{ID: "web-1", Node: "n2"}}},
		},
	}
	if s, ok := r.Service("web"); !ok || s.Name != "web" {
		t.Errorf("Service(web) = %v, %v", s, ok)
	}
	if _, ok := r.Service("db"); ok {
		t.Error("Service(db) found a service that is not there")
	}
	if in, ok := r.Instance("n1/api-2"); !ok || in.ID != "api-2" {
		t.Errorf("Instance(n1/api-2) = %v, %v", in, ok)
	}
	if n := r.InstanceCount(); n != 3 {
		t.Errorf("InstanceCount() = %d, want 3", n)
	}
	if !r.Live() {
		t.Error("a fetched registry without error should be live")
	}
	if got := r.Age(now); got != 3*time.Second {
		t.Errorf("Age = %v, want 3s", got)
	}
	if got := r.ErrorAge(now); got != 0 {
		t.Errorf("ErrorAge without error = %v, want 0", got)
	}
	r.Error, r.ErrorSince = "connection refused", now.Add(-2*time.Second)
	if r.Live() {
		t.Error("a registry with an error should not be live")
	}
	if got := r.ErrorAge(now); got != 2*time.Second {
		t.Errorf("ErrorAge = %v, want 2s", got)
	}
	if (Registry{}).Live() || (Registry{}).Age(now) != 0 {
		t.Error("a registry that never answered is neither live nor aged")
	}
}

// linkTopology is a small engine: an app network, a web container on it
// running, a stopped one, a compose api container and a bridge container.
func linkTopology() Topology {
	t := NewTopology()
	t.Networks["n-app"] = Network{ID: "n-app", Name: "app", Subnets: []string{"172.20.0.0/16"}}
	t.Networks["n-bridge"] = Network{ID: "n-bridge", Name: "bridge", Subnets: []string{"172.17.0.0/16"}}
	add := func(id, name string, state State, ip string, labels map[string]string) {
		if labels == nil {
			labels = map[string]string{}
		}
		c := Container{ID: id, Name: name, State: state, Labels: labels, Endpoints: map[string]Endpoint{}}
		if ip != "" {
			c.Endpoints["n-app"] = Endpoint{NetworkID: "n-app", NetworkName: "app", IPv4: ip}
		}
		t.Containers[id] = c
	}
	add("aaaaaaaaaaaa1111", "web-1", StateRunning, "172.20.0.2", map[string]string{LabelServiceName: "web"})
	add("bbbbbbbbbbbb2222", "web-2", StateExited, "", map[string]string{LabelServiceName: "web"})
	add("cccccccccccc3333", "shop-api-1", StateRunning, "172.20.0.4",
		map[string]string{LabelComposeProject: "shop", LabelComposeService: "api"})
	add("dddddddddddd4444", "shop-api-2", StateRunning, "172.20.0.5",
		map[string]string{LabelComposeProject: "shop", LabelComposeService: "api"})
	add("eeeeeeeeeeee5555", "worker", StateRunning, "172.20.0.6", map[string]string{LabelServiceName: "jobs", LabelComposeService: "api"})
	add("ffffffffffff6666", "paused", StatePaused, "172.20.0.7", nil)
	return t
}

func TestLinkInstance(t *testing.T) {
	topo := linkTopology()
	tests := []struct {
		name string
		in   Instance
		want InstanceLink
	}{
		{
			name: "meta container_id, full ID",
			in:   Instance{ID: "anything", Meta: map[string]string{MetaContainerID: "aaaaaaaaaaaa1111"}},
			want: InstanceLink{ContainerID: "aaaaaaaaaaaa1111", By: MatchMeta},
		},
		{
			name: "meta container_id, short ID",
			in:   Instance{ID: "x", Meta: map[string]string{MetaContainerID: "aaaaaaaaaaaa"}},
			want: InstanceLink{ContainerID: "aaaaaaaaaaaa1111", By: MatchMeta},
		},
		{
			name: "meta wins over a conflicting address",
			in:   Instance{ID: "x", Address: "172.20.0.4", Meta: map[string]string{MetaContainerID: "aaaaaaaaaaaa1111"}},
			want: InstanceLink{ContainerID: "aaaaaaaaaaaa1111", By: MatchMeta},
		},
		{
			name: "meta names a container that is gone",
			in:   Instance{ID: "x", Address: "172.20.0.2", Meta: map[string]string{MetaContainerID: "9999999999999999"}},
			want: InstanceLink{By: MatchMeta, Stale: true, Why: "container 999999999999 is gone"},
		},
		{
			name: "meta names a stopped container",
			in:   Instance{ID: "x", Meta: map[string]string{MetaContainerID: "bbbbbbbbbbbb2222"}},
			want: InstanceLink{ContainerID: "bbbbbbbbbbbb2222", By: MatchMeta, Stale: true, Why: "container web-2 is exited"},
		},
		{
			name: "ID name:port",
			in:   Instance{ID: "web-1:8080"},
			want: InstanceLink{ContainerID: "aaaaaaaaaaaa1111", By: MatchID},
		},
		{
			name: "ID host:name:port:udp (gliderlabs)",
			in:   Instance{ID: "docker-host:shop-api-1:53:udp"},
			want: InstanceLink{ContainerID: "cccccccccccc3333", By: MatchID},
		},
		{
			name: "ID names a stopped container",
			in:   Instance{ID: "web-2:8080"},
			want: InstanceLink{ContainerID: "bbbbbbbbbbbb2222", By: MatchID, Stale: true, Why: "container web-2 is exited"},
		},
		{
			name: "ID with a non-numeric port is not a container name",
			in:   Instance{ID: "web-1:http"},
			want: InstanceLink{},
		},
		{
			name: "address on a network",
			in:   Instance{ID: "api-x", Address: "172.20.0.5", Port: 80},
			want: InstanceLink{ContainerID: "dddddddddddd4444", By: MatchAddress},
		},
		{
			name: "empty service address falls back to the node address",
			in:   Instance{ID: "api-y", NodeAddress: "172.20.0.4"},
			want: InstanceLink{ContainerID: "cccccccccccc3333", By: MatchAddress},
		},
		{
			name: "paused container is running for the registry",
			in:   Instance{ID: "p", Address: "172.20.0.7"},
			want: InstanceLink{ContainerID: "ffffffffffff6666", By: MatchAddress},
		},
		{
			name: "address in a docker subnet that no container has",
			in:   Instance{ID: "ghost", Address: "172.20.0.99"},
			want: InstanceLink{Stale: true, Why: "no container has 172.20.0.99 on network app"},
		},
		{
			name: "the gateway address is the host, not a stale container",
			in:   Instance{ID: "hostsvc", Address: "172.17.0.1"},
			want: InstanceLink{},
		},
		{
			name: "an address outside docker is just unmatched",
			in:   Instance{ID: "consul", NodeAddress: "127.0.0.1", Port: 8300},
			want: InstanceLink{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Node = "n1"
			tt.in.Service = "svc"
			r := Registry{Services: []Service{{Name: "svc", Instances: []Instance{tt.in}}}}
			got := r.Link(topo).Instances[tt.in.Key()]
			tt.want.Key, tt.want.Service, tt.want.InstanceID, tt.want.Health = tt.in.Key(), "svc", tt.in.ID, CheckPassing
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("link\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestLinkAmbiguousAddress(t *testing.T) {
	topo := linkTopology()
	// Two running containers with the same IP on two networks whose subnets
	// overlap: the service name breaks the tie, and without it there is no
	// guess.
	c := topo.Containers["dddddddddddd4444"]
	c.Endpoints = map[string]Endpoint{"n-app": {NetworkID: "n-app", IPv4: "172.20.0.4"}}
	topo.Containers[c.ID] = c
	for _, tt := range []struct{ service, want string }{{"api", ""}, {"nope", ""}} {
		r := Registry{Services: []Service{{Name: tt.service, Instances: []Instance{{ID: "i", Node: "n", Service: tt.service, Address: "172.20.0.4"}}}}}
		if got := r.Link(topo).Instances["n/i"].ContainerID; got != tt.want {
			t.Errorf("service %s: matched %q, want %q", tt.service, got, tt.want)
		}
	}
	c2 := topo.Containers["cccccccccccc3333"]
	c2.Labels = map[string]string{LabelServiceName: "web"}
	topo.Containers[c2.ID] = c2
	r := Registry{Services: []Service{{Name: "web", Instances: []Instance{{ID: "i", Node: "n", Service: "web", Address: "172.20.0.4"}}}}}
	if got := r.Link(topo).Instances["n/i"].ContainerID; got != c2.ID {
		t.Errorf("tie broken by service name: matched %q, want %q", got, c2.ID)
	}
}

func TestLinkStaleAndUnregistered(t *testing.T) {
	topo := linkTopology()
	r := Registry{Services: []Service{
		{Name: "api", Instances: []Instance{
			{ID: "shop-api-1:80", Service: "api", Node: "n", Checks: []Check{{Status: CheckWarning}}},
		}},
		{Name: "consul", Instances: []Instance{{ID: "consul", Service: "consul", Node: "n", NodeAddress: "127.0.0.1"}}},
		{Name: "web", Instances: []Instance{
			{ID: "web-1:8080", Service: "web", Node: "n", Checks: []Check{{Status: CheckCritical}}},
			{ID: "web-1:9090", Service: "web", Node: "n"},
			{ID: "web-2:8080", Service: "web", Node: "n"},
			{ID: "gone", Service: "web", Node: "n", Meta: map[string]string{MetaContainerID: "0123456789abcdef"}},
		}},
	}}
	l := r.Link(topo)

	var stale []string
	for _, s := range l.Stale {
		stale = append(stale, s.Key)
	}
	if want := []string{"n/gone", "n/web-2:8080"}; !reflect.DeepEqual(stale, want) {
		t.Errorf("stale = %v, want %v", stale, want)
	}
	// shop-api-2 is a running compose "api" container without an instance;
	// worker's SERVICE_NAME "jobs" overrides its compose service and jobs is
	// not registered; web-2 is stopped, so not expected in the registry.
	want := []Unregistered{{ContainerID: "dddddddddddd4444", Service: "api"}}
	if !reflect.DeepEqual(l.Unregistered, want) {
		t.Errorf("unregistered = %+v, want %+v", l.Unregistered, want)
	}
	if s, ok := l.UnregisteredService("dddddddddddd4444"); !ok || s != "api" {
		t.Errorf("UnregisteredService = %q, %v", s, ok)
	}
	if _, ok := l.UnregisteredService("aaaaaaaaaaaa1111"); ok {
		t.Error("web-1 is registered")
	}

	if got := l.ByContainer["aaaaaaaaaaaa1111"]; !reflect.DeepEqual(got, []string{"n/web-1:8080", "n/web-1:9090"}) {
		t.Errorf("web-1 instances = %v", got)
	}
	for _, tt := range []struct {
		id   string
		want CheckStatus
		ok   bool
	}{
		{"aaaaaaaaaaaa1111", CheckCritical, true},
		{"cccccccccccc3333", CheckWarning, true},
		{"bbbbbbbbbbbb2222", CheckPassing, true},
		{"dddddddddddd4444", "", false},
	} {
		if got, ok := l.ContainerHealth(tt.id); got != tt.want || ok != tt.ok {
			t.Errorf("ContainerHealth(%s) = %q, %v; want %q, %v", tt.id, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLinkEmpty(t *testing.T) {
	l := Registry{}.Link(NewTopology())
	if len(l.Instances) != 0 || len(l.Stale) != 0 || len(l.Unregistered) != 0 {
		t.Errorf("empty link = %+v", l)
	}
	if _, ok := l.ContainerHealth("x"); ok {
		t.Error("no health for an unknown container")
	}
}

// BenchmarkLink: 100 services x 5 instances against 300 containers, as on
// every engine event with the registry panel open.
func BenchmarkLink(b *testing.B) {
	topo := NewTopology()
	topo.Networks["n"] = Network{ID: "n", Name: "app", Subnets: []string{"10.1.0.0/16"}}
	for i := range 300 {
		id := strconv.Itoa(100000000000 + i)
		topo.Containers[id] = Container{ID: id, Name: "c" + strconv.Itoa(i), State: StateRunning,
			Endpoints: map[string]Endpoint{"n": {NetworkID: "n", IPv4: "10.1." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250+2)}}}
	}
	var r Registry
	for s := range 100 {
		svc := Service{Name: "svc" + strconv.Itoa(s)}
		for i := range 5 {
			n := s*5 + i
			svc.Instances = append(svc.Instances, Instance{ID: "i" + strconv.Itoa(n), Node: "n", Service: svc.Name,
				Address: "10.1." + strconv.Itoa(n/250) + "." + strconv.Itoa(n%250+2)})
		}
		r.Services = append(r.Services, svc)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Link(topo)
	}
}

// BenchmarkRegistriesLink is BenchmarkLink's registry split in two (the
// talk's two registries), each container naming one: the cost per engine
// event with several registries.
func BenchmarkRegistriesLink(b *testing.B) {
	topo := NewTopology()
	topo.Networks["n"] = Network{ID: "n", Name: "app", Subnets: []string{"10.1.0.0/16"}}
	for i := range 300 {
		id := strconv.Itoa(100000000000 + i)
		topo.Containers[id] = Container{ID: id, Name: "c" + strconv.Itoa(i), State: StateRunning,
			Labels:    map[string]string{LabelRegistry: "r" + strconv.Itoa(i%2)},
			Endpoints: map[string]Endpoint{"n": {NetworkID: "n", IPv4: "10.1." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250+2)}}}
	}
	rs := Registries{{Name: "r0"}, {Name: "r1"}}
	for s := range 100 {
		svc := Service{Name: "svc" + strconv.Itoa(s)}
		for i := range 5 {
			n := s*5 + i
			svc.Instances = append(svc.Instances, Instance{ID: "i" + strconv.Itoa(n), Node: "n", Service: svc.Name,
				Address: "10.1." + strconv.Itoa(n/250) + "." + strconv.Itoa(n%250+2)})
		}
		rs[s%2].Services = append(rs[s%2].Services, svc)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = rs.Link(topo)
	}
}

// TestLinkUnregisteredIgnoresOtherProjectsAndTheAgent is the regression for
// a second compose project's "app" containers, and the Consul container
// itself, being flagged unregistered because their service names match.
func TestLinkUnregisteredIgnoresOtherProjectsAndTheAgent(t *testing.T) {
	topo := linkTopology()
	add := func(id, project, service, ip string) {
		topo.Containers[id] = Container{ID: id, Name: project + "-" + service, State: StateRunning,
			Labels:    map[string]string{LabelComposeProject: project, LabelComposeService: service},
			Endpoints: map[string]Endpoint{"n-app": {NetworkID: "n-app", NetworkName: "app", IPv4: ip}}}
	}
	add("111111111111aaaa", "other", "api", "172.20.0.50")
	add("222222222222bbbb", "shop", "consul", "172.20.0.51")
	r := Registry{Services: []Service{
		{Name: "api", Instances: []Instance{{ID: "shop-api-1:80", Service: "api", Node: "n"}}},
		{Name: "consul", Instances: []Instance{{ID: "consul", Service: "consul", Node: "n", NodeAddress: "127.0.0.1"}}},
	}}
	l := r.Link(topo)
	for _, u := range l.Unregistered {
		if u.ContainerID == "111111111111aaaa" || u.ContainerID == "222222222222bbbb" {
			t.Errorf("%s flagged unregistered for %s", topo.Containers[u.ContainerID].Name, u.Service)
		}
	}
	if _, ok := l.UnregisteredService("dddddddddddd4444"); !ok {
		t.Error("shop-api-2, of the project whose api is registered, is no longer flagged")
	}
}

// The fuzzer found Link following map order when two containers of the
// topology share a name: the instance "shop-app-1:8080" linked to either.
func TestLinkByInstanceIDIsDeterministicWhenTwoContainersShareAName(t *testing.T) {
	topo := NewTopology()
	topo.Containers["c2"] = Container{ID: "c2", Name: "shop-app-1", State: StateExited}
	topo.Containers["c1"] = Container{ID: "c1", Name: "shop-app-1", State: StateRunning}
	topo.Containers["c0"] = Container{ID: "c0", Name: "shop-app-1", State: StateDead}
	reg := Registry{Services: []Service{{Name: "app", Instances: []Instance{{ID: "shop-app-1:8080", Service: "app", Node: "n1"}}}}}
	for range 20 {
		if got := reg.Link(topo).Instances["n1/shop-app-1:8080"]; got.ContainerID != "c1" || got.Stale {
			t.Fatalf("linked to %q (stale %v), want the running c1", got.ContainerID, got.Stale)
		}
	}
	delete(topo.Containers, "c1")
	for range 20 {
		if got := reg.Link(topo).Instances["n1/shop-app-1:8080"]; got.ContainerID != "c0" {
			t.Fatalf("linked to %q, want c0: of two stopped ones, the lower ID", got.ContainerID)
		}
	}
}

// The fuzzer found Link following map order when a short container ID in
// an instance's meta starts two task IDs on other nodes.
func TestLinkElsewhereIsDeterministicWhenAShortIDStartsTwoTasks(t *testing.T) {
	e := Elsewhere{ByID: map[string]string{
		"cccccccccccc4444": "app.2 on worker-2",
		"cccccccccccc3333": "app.1 on worker-1",
		"cccccccccccc5555": "app.3 on worker-3",
	}}
	reg := Registry{Services: []Service{{Name: "app", Instances: []Instance{{ID: "a:8080", Service: "app", Node: "n1",
		Meta: map[string]string{MetaContainerID: "cccccccccccc"}}}}}}
	for range 20 {
		got := reg.LinkElsewhere(NewTopology(), e).Instances["n1/a:8080"]
		if got.Elsewhere != "app.1 on worker-1" || got.Stale {
			t.Fatalf("linked elsewhere to %q (stale %v), want app.1 on worker-1, the lower ID, every time", got.Elsewhere, got.Stale)
		}
	}
}
