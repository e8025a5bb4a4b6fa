package registry

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/topo-dev/topo/internal/consultest"
	"github.com/topo-dev/topo/model"
)

// ReadOnce gives what a watch would: every service but consul's own, with
// its instances' checks, maintenance told from failing.
func TestReadOnce(t *testing.T) {
	a := consultest.Start(t)
	c := a.Client()
	register(t, c, "web", "web-2", "10.1.0.2", 8080, api.HealthCritical)
	register(t, c, "web", "web-1", "10.1.0.1", 8080, api.HealthPassing)
	register(t, c, "db", "db-1", "10.1.0.3", 27017, api.HealthPassing)
	if err := c.Agent().EnableServiceMaintenance("db-1", "backup"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reg, err := ReadOnce(ctx, Target{Name: "r", Addr: a.Addr})
	if err != nil {
		t.Fatalf("ReadOnce: %v", err)
	}
	var names []string
	health := map[string]model.CheckStatus{}
	for _, s := range reg.Services {
		names = append(names, s.Name)
		for _, in := range s.Instances {
			health[in.ID] = in.Health()
		}
	}
	if len(names) != 2 || names[0] != "db" || names[1] != "web" {
		t.Errorf("services %v, want [db web] (consul left out)", names)
	}
	want := map[string]model.CheckStatus{"web-1": model.CheckPassing, "web-2": model.CheckCritical, "db-1": model.CheckMaintenance}
	for id, st := range want {
		if health[id] != st {
			t.Errorf("%s is %q, want %q (all: %v)", id, health[id], st, health)
		}
	}
	if web, _ := reg.Service("web"); len(web.Instances) != 2 || web.Instances[0].ID != "web-1" || web.Instances[0].Meta[model.MetaContainerID] != "c-web-1" {
		t.Errorf("web: %+v", web)
	}
	if reg.Name != "r" || reg.Addr != a.Addr || reg.LastIndex == 0 {
		t.Errorf("registry %q at %q index %d", reg.Name, reg.Addr, reg.LastIndex)
	}

	list, err := ReadService(ctx, Target{Addr: a.Addr}, "web")
	if err != nil || len(list) != 2 || list[1].ID != "web-2" || list[1].Health() != model.CheckCritical {
		t.Errorf("ReadService(web) = %+v, %v", list, err)
	}
}

// tunnelTo dials addr whatever container and port it is asked for, and
// records what it was asked.
type tunnelTo struct {
	addr  string
	mu    sync.Mutex
	asked []string
}

func (f *tunnelTo) Dial(ctx context.Context, id string, port int) (net.Conn, error) {
	f.mu.Lock()
	f.asked = append(f.asked, net.JoinHostPort(id, strconv.Itoa(port)))
	f.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, "tcp", f.addr)
}

// A target inside a container is read through the tunnel, at the port of
// its address, as the watch reads it.
func TestReadServiceThroughTunnel(t *testing.T) {
	a := consultest.Start(t)
	register(t, a.Client(), "web", "web-1", "10.1.0.1", 8080, api.HealthWarning)
	tun := &tunnelTo{addr: a.Addr}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := ReadService(ctx, Target{Addr: loopbackConsul, Through: "consul-task", Tunnel: tun}, "web")
	if err != nil || len(list) != 1 || list[0].Health() != model.CheckWarning {
		t.Fatalf("ReadService through the tunnel = %+v, %v", list, err)
	}
	tun.mu.Lock()
	defer tun.mu.Unlock()
	if len(tun.asked) == 0 || tun.asked[0] != "consul-task:8500" {
		t.Errorf("tunnel asked for %v, want consul-task:8500", tun.asked)
	}
}
