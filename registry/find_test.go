package registry

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/consultest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
)

func TestFindExplicitAddress(t *testing.T) {
	ctx := context.Background()
	t.Setenv("CONSUL_HTTP_ADDR", "127.0.0.9:8500")
	// Neither is probed: Consul may come up later, and the watch retries.
	got, err := Find(ctx, "127.0.0.1:1", model.NewTopology(), "", nil)
	if err != nil || got != (Target{Addr: "127.0.0.1:1", Source: "--consul 127.0.0.1:1", Named: true}) {
		t.Errorf("flag: %+v, %v", got, err)
	}
	got, err = Find(ctx, "", model.NewTopology(), "", nil)
	if err != nil || got != (Target{Addr: "127.0.0.9:8500", Source: "CONSUL_HTTP_ADDR 127.0.0.9:8500", Named: true}) {
		t.Errorf("env: %+v, %v", got, err)
	}
}

func consulContainer(name, image string, state model.State) model.Container {
	return model.Container{ID: name + "-id", Name: name, Image: image, State: state,
		Labels: map[string]string{}, Endpoints: map[string]model.Endpoint{}}
}

func TestFindDetectsPublishedPort(t *testing.T) {
	t.Setenv("CONSUL_HTTP_ADDR", "")
	a := consultest.Start(t)
	_, portText, _ := net.SplitHostPort(a.Addr)
	port, _ := strconv.Atoi(portText)

	topo := model.NewTopology()
	web := consulContainer("web", "nginx", model.StateRunning)
	web.Ports = []model.Port{{Private: 8500, Public: 1, Protocol: "tcp"}} // not Consul: ignored
	old := consulContainer("consul-old", "consul", model.StateExited)
	c := consulContainer("consul-1", "github.com/topo-dev/topo/consul:1.14.11", model.StateRunning)
	c.Ports = []model.Port{
		{Private: 8600, Public: 1, Protocol: "udp"},
		{Private: 8500, Public: uint16(port), Protocol: "tcp", HostIP: "0.0.0.0"},
	}
	// Nothing answers there (a loopback address, so no packet leaves the
	// machine): it must lose to the published port.
	c.Endpoints["n1"] = model.Endpoint{NetworkID: "n1", NetworkName: "app", IPv4: "127.0.0.2"}
	for _, x := range []model.Container{web, old, c} {
		topo.Containers[x.ID] = x
	}
	got, err := Find(context.Background(), "", topo, "", nil)
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	want := Target{Addr: "127.0.0.1:" + portText, Source: "auto: container consul-1 (published 127.0.0.1:" + portText + ")", Container: c.ID}
	if got != want {
		t.Errorf("Find = %+v, want %+v", got, want)
	}
}

func TestFindDetectsNetworkIP(t *testing.T) {
	t.Setenv("CONSUL_HTTP_ADDR", "")
	// A container's IP is dialled on 8500, so the agent needs that port: on
	// its own loopback address it cannot clash with a Consul on 127.0.0.1.
	const ip = "127.0.0.23"
	l, err := net.Listen("tcp", ip+":8500")
	if err != nil {
		testenv.Missing(t, "%s:8500 is not free here (%v): stop what listens there", ip, err)
	}
	l.Close()
	consultest.Start(t, consultest.WithClientAddr(ip), consultest.WithHTTPPort(8500))

	topo := model.NewTopology()
	kv := consulContainer("kv", "example/kv", model.StateRunning)
	kv.Labels[LabelRole] = RoleRegistry
	kv.Endpoints["n2"] = model.Endpoint{NetworkID: "n2", NetworkName: "infra", IPv4: ip}
	topo.Containers[kv.ID] = kv
	other := consulContainer("a-consul-lookalike", "consul", model.StateRunning)
	other.Endpoints["n2"] = model.Endpoint{NetworkID: "n2", NetworkName: "infra", IPv4: "192.0.2.2"}
	topo.Containers[other.ID] = other

	got, err := Detect(context.Background(), topo, DefaultProbeTimeout, "", nil)
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	want := Target{Addr: ip + ":8500", Source: "auto: container kv (" + ip + ":8500 on network infra)", Container: kv.ID}
	if got != want {
		t.Errorf("Detect = %+v, want %+v", got, want)
	}
}

func TestFindNoRegistry(t *testing.T) {
	t.Setenv("CONSUL_HTTP_ADDR", "")
	_, err := Find(context.Background(), "", model.NewTopology(), "", nil)
	if !errors.Is(err, ErrNoRegistry) || err.Error() != "no registry: start one, or name it with --consul ADDR or CONSUL_HTTP_ADDR" {
		t.Errorf("empty engine: %v", err)
	}

	// A Consul container that does not answer: closed published port, and
	// an address that drops packets.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	topo := model.NewTopology()
	c := consulContainer("consul", "consul", model.StateRunning)
	c.Ports = []model.Port{{Private: 8500, Public: uint16(closed), Protocol: "tcp", HostIP: "127.0.0.1"}}
	c.Endpoints["n"] = model.Endpoint{NetworkID: "n", NetworkName: "app", IPv4: "192.0.2.3"}
	topo.Containers[c.ID] = c
	_, err = Detect(context.Background(), topo, 200*time.Millisecond, "", nil)
	if !errors.Is(err, ErrNoRegistry) {
		t.Fatalf("unreachable container: %v", err)
	}
	for _, want := range []string{"none answered", "127.0.0.1:" + strconv.Itoa(closed) + ": connect: connection refused", "192.0.2.3:8500: no answer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q should contain %q", err, want)
		}
	}
}

// A remote engine's port published on all interfaces is dialled at the
// engine's host, not at this machine's loopback; one bound to an address
// keeps it.
func TestCandidatesDialRemoteEngineAtItsHost(t *testing.T) {
	topo := model.NewTopology()
	c := consulContainer("consul-1", "consul", model.StateRunning)
	c.Ports = []model.Port{{Private: 8500, Public: 8500, Protocol: "tcp", HostIP: "0.0.0.0"}}
	b := consulContainer("consul-2", "consul", model.StateRunning)
	b.Ports = []model.Port{{Private: 8500, Public: 18500, Protocol: "tcp", HostIP: "192.0.2.7"}}
	topo.Containers[c.ID], topo.Containers[b.ID] = c, b
	var got []string
	for _, cand := range candidates(registryContainers(topo), "10.9.8.7") {
		got = append(got, cand.addr)
	}
	want := []string{"10.9.8.7:8500", "192.0.2.7:18500"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("candidates for a remote engine = %v, want %v", got, want)
	}
	if a := candidates(registryContainers(topo), "")[0].addr; a != "127.0.0.1:8500" {
		t.Errorf("for a local engine the wildcard is dialled at %s, want 127.0.0.1:8500", a)
	}
}

// A refused address is reachable: that Consul is starting, and the tunnel
// through the engine is not tried for it (it would reach the same closed
// port and leave a container behind for nothing).
func TestARefusedProbeCountsAsReachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = probe(context.Background(), addr, DefaultProbeTimeout)
	if err == nil || !anyRefused([]error{err}) {
		t.Errorf("probe of a closed port: %v; anyRefused must see the refusal", err)
	}
}
