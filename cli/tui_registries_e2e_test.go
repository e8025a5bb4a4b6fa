package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/topo-dev/topo/internal/consultest"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// TestEndToEndTwoRegistries runs the real binary against two real Consul
// agents named with a repeated --consul, and reads the screen: a section
// per registry with its own services; the apps agent killed, its section
// and the summary say it is failing while infra's goes on showing what
// is registered after the kill. The terminal is tall enough for both
// sections beside the details.
func TestEndToEndTwoRegistries(t *testing.T) {
	apps, infra := consultest.Start(t), consultest.Start(t)
	registerTTL(t, apps.Client(), "e2eapp", "e2eapp-1", 8080)
	registerTTL(t, infra.Client(), "e2edb", "e2edb-1", 27017)
	bin := tmuxtest.BuildTopo(t)
	term := tmuxtest.Start(t, 200, 90, nil, bin, "--consul", "apps="+apps.Addr, "--consul", "infra="+infra.Addr)
	term.WaitFor(30*time.Second, "both registries live with their services", func(s string) bool {
		return strings.Contains(s, "2 registries  ● A apps  ● I infra") &&
			strings.Contains(s, "A e2eapp  1 instance") && strings.Contains(s, "I e2edb  1 instance")
	})

	apps.Stop()
	term.WaitFor(30*time.Second, "apps failing in the summary and in its section", func(s string) bool {
		return strings.Contains(s, "✗ A apps  ● I infra") && strings.Contains(s, "✗ failing for")
	})
	registerTTL(t, infra.Client(), "e2ecache", "e2ecache-1", 6379)
	screen := term.WaitFor(30*time.Second, "infra's service registered after apps died", func(s string) bool {
		return strings.Contains(s, "I e2ecache  1 instance")
	})
	if !strings.Contains(screen, "registries ✗ apps ● infra") {
		t.Errorf("the status bar does not give each registry's state:\n%s", screen)
	}
}

func registerTTL(t *testing.T, c *api.Client, name, id string, port int) {
	t.Helper()
	err := c.Agent().ServiceRegister(&api.AgentServiceRegistration{
		ID: id, Name: name, Address: "10.9.9.9", Port: port,
		Check: &api.AgentServiceCheck{CheckID: "ttl:" + id, Name: "ttl", TTL: "10m", Status: "passing"},
	})
	if err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
}
