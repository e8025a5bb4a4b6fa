package registry

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/consultest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
)

func TestParseConsulFlag(t *testing.T) {
	for _, tc := range []struct {
		in, name, addr string
		bad            bool
	}{
		{in: "127.0.0.1:8500", name: "127.0.0.1:8500", addr: "127.0.0.1:8500"},
		{in: "infra=10.0.0.5:8500", name: "infra", addr: "10.0.0.5:8500"},
		{in: "https://c.example:8501/?a=b", name: "https://c.example:8501/?a=b", addr: "https://c.example:8501/?a=b"},
		{in: "apps=https://c:8501", name: "apps", addr: "https://c:8501"},
		{in: "apps=", bad: true},
	} {
		got, err := ParseConsulFlag(tc.in)
		if tc.bad != (err != nil) || !tc.bad && (got.Name != tc.name || got.Addr != tc.addr || !got.Named) {
			t.Errorf("ParseConsulFlag(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func TestFindAllRepeatedFlag(t *testing.T) {
	got, err := FindAll(context.Background(), []string{"apps=127.0.0.1:1", "infra=127.0.0.1:2"}, model.NewTopology(), "", nil)
	if err != nil || len(got) != 2 || got[0].Name != "apps" || got[1].Addr != "127.0.0.1:2" {
		t.Errorf("FindAll = %+v, %v", got, err)
	}
	if _, err := FindAll(context.Background(), []string{"a=127.0.0.1:1", "a=127.0.0.1:2"}, model.NewTopology(), "", nil); err == nil {
		t.Error("two registries of one name accepted")
	}
}

// publishedConsul is a running Consul container of compose service svc
// whose HTTP port is published at addr.
func publishedConsul(t *testing.T, svc, addr string) model.Container {
	t.Helper()
	_, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	c := consulContainer("proj-"+svc+"-1", "topo/consul", model.StateRunning)
	c.Labels[model.LabelComposeService] = svc
	c.Ports = []model.Port{{Private: 8500, Public: uint16(port), Protocol: "tcp", HostIP: "127.0.0.1"}}
	return c
}

// TestTwoRegistriesFoundReadAndMismatchFlagged: two real Consul agents on
// different loopback ports, each published by a container of the
// topology, are both found by auto-detection (a third, answering nowhere,
// is not), both are watched with their own services, and a container
// registered in the one its label does not name is flagged.
func TestTwoRegistriesFoundReadAndMismatchFlagged(t *testing.T) {
	t.Setenv("CONSUL_HTTP_ADDR", "")
	apps, infra := consultest.Start(t), consultest.Start(t)
	topo := model.NewTopology()
	dead := publishedConsul(t, "old-consul", "127.0.0.1:1")
	for _, c := range []model.Container{publishedConsul(t, "apps", apps.Addr), publishedConsul(t, "infra", infra.Addr), dead} {
		topo.Containers[c.ID] = c
	}
	for id, registry := range map[string]string{"app1": "apps", "app2": "apps", "db": "infra"} {
		c := consulContainer(id, "app", model.StateRunning)
		c.ID = "c-" + id
		c.Labels[model.LabelRegistry] = registry
		topo.Containers[c.ID] = c
	}

	targets, err := FindAll(context.Background(), nil, topo, "", nil)
	if err != nil {
		t.Fatalf("FindAll: %v", err)
	}
	var names []string
	for _, tg := range targets {
		names = append(names, tg.Name+"@"+tg.Addr)
	}
	if want := []string{"apps@" + apps.Addr, "infra@" + infra.Addr}; !reflect.DeepEqual(names, want) {
		t.Fatalf("found %v, want %v", names, want)
	}

	register(t, apps.Client(), "app", "app1", "10.0.0.1", 8080, "passing")
	// app2 belongs in apps, by its label, but was registered in infra.
	register(t, infra.Client(), "app", "app2", "10.0.0.2", 8080, "passing")
	register(t, infra.Client(), "mongo", "db", "10.0.0.3", 27017, "passing")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	latest := make([]model.Registry, len(targets))
	type snap struct {
		i int
		r model.Registry
	}
	snaps := make(chan snap)
	for i, tg := range targets {
		ch, err := Watch(ctx, tg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for r := range ch {
				select {
				case snaps <- snap{i, r}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	has := func(r model.Registry, svc string) bool { _, ok := r.Service(svc); return ok }
	deadline := time.After(testenv.Patience(30 * time.Second))
	for !(has(latest[0], "app") && has(latest[1], "app") && has(latest[1], "mongo")) {
		select {
		case s := <-snaps:
			latest[s.i] = s.r
		case <-deadline:
			t.Fatalf("both registries not read within patience: apps %+v, infra %+v", latest[0].Services, latest[1].Services)
		}
	}
	if latest[0].ComposeService != "apps" || latest[1].ComposeService != "infra" {
		t.Errorf("snapshots do not say which compose service they were found in: %q, %q", latest[0].ComposeService, latest[1].ComposeService)
	}
	if latest[0].Name != "apps" || latest[1].Name != "infra" || !latest[0].Live() || !latest[1].Live() {
		t.Fatalf("sections: %q live=%v, %q live=%v", latest[0].Name, latest[0].Live(), latest[1].Name, latest[1].Live())
	}
	if has(latest[0], "mongo") {
		t.Error("apps holds infra's mongo: the watches are crossed")
	}

	links := model.Registries(latest).Link(topo)
	want := []model.Misplaced{{ContainerID: "c-app2", Expected: "apps", Known: true, RegisteredIn: []string{"infra"}, Missing: true}}
	if !reflect.DeepEqual(links.Misplaced, want) {
		t.Errorf("Misplaced = %+v, want %+v", links.Misplaced, want)
	}
	var in []string
	for _, id := range []string{"c-app1", "c-app2", "c-db"} {
		in = append(in, fmt.Sprintf("%s:%s", id, strings.Join(links.RegisteredIn[id], ",")))
	}
	if got := strings.Join(in, " "); got != "c-app1:apps c-app2:infra c-db:infra" {
		t.Errorf("registered in: %s", got)
	}
}

// TestOneRegistryStoppedOtherKeepsUpdating: each registry is watched on its
// own, so when one agent dies its snapshots say so (and keep its last
// data) while the other's go on showing what is registered after the
// death.
func TestOneRegistryStoppedOtherKeepsUpdating(t *testing.T) {
	apps, infra := consultest.Start(t), consultest.Start(t)
	targets, err := FindAll(context.Background(), []string{"apps=" + apps.Addr, "infra=" + infra.Addr}, model.NewTopology(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	register(t, apps.Client(), "app", "app1", "10.0.0.1", 8080, "passing")
	register(t, infra.Client(), "mongo", "db", "10.0.0.3", 27017, "passing")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type snap struct {
		i int
		r model.Registry
	}
	snaps := make(chan snap)
	for i, tg := range targets {
		ch, err := Watch(ctx, tg, Options{MaxBackoff: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for r := range ch {
				select {
				case snaps <- snap{i, r}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	latest := make([]model.Registry, len(targets))
	has := func(r model.Registry, svc string) bool { _, ok := r.Service(svc); return ok }
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.After(testenv.Patience(30 * time.Second))
		for !ok() {
			select {
			case s := <-snaps:
				latest[s.i] = s.r
			case <-deadline:
				t.Fatalf("%s not seen within patience: apps %+v, infra %+v", what, latest[0], latest[1])
			}
		}
	}
	waitFor("both registries live", func() bool {
		return latest[0].Live() && has(latest[0], "app") && latest[1].Live() && has(latest[1], "mongo")
	})

	apps.Stop()
	waitFor("apps failing", func() bool { return latest[0].Error != "" })
	if !strings.Contains(latest[0].Error, apps.Addr) || latest[0].Name != "apps" {
		t.Errorf("apps' error does not name its address: %q (name %q)", latest[0].Error, latest[0].Name)
	}
	if !has(latest[0], "app") {
		t.Error("apps' last data dropped when it failed: the section should keep it, with its age")
	}
	if latest[1].Error != "" {
		t.Errorf("infra failing with apps: %q", latest[1].Error)
	}

	// Registered after apps died: only an independent watch shows it.
	register(t, infra.Client(), "cache", "cache1", "10.0.0.4", 6379, "passing")
	waitFor("infra's new service", func() bool { return has(latest[1], "cache") })
	if !latest[1].Live() {
		t.Errorf("infra not live after apps died: %q", latest[1].Error)
	}
	if latest[0].Live() {
		t.Error("apps live again while stopped")
	}
}
