package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/internal/tmuxtest"
	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/registry"
)

// A Consul published nowhere and on no network (as the demo's on a swarm
// overlay, seen from outside the swarm) is found and followed through the
// engine: the connector falls back to the tunnel, and the registry's data
// arrives through it.
func TestRegistryThroughTheEngineWhenNoAddressAnswers(t *testing.T) {
	consulImage := os.Getenv("TOPO_DEMO_IMAGE_CONSUL")
	if consulImage == "" {
		testenv.Missing(t, "TOPO_DEMO_IMAGE_CONSUL is not set: run `eval \"$(make -s test-images)\"` (make test does)")
	}
	env := dockertest.New(t)
	id := env.Run(t, dockertest.ContainerSpec{
		Suffix: "consul", Image: consulImage, Networks: []string{"none"}, Start: true,
		Labels: map[string]string{registry.LabelRole: registry.RoleRegistry},
	})
	engine, err := dial("")
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	tunnel := docker.NewTunnel(engine.sdk, tmuxtest.BuildTopo(t), env.Labels())
	defer tunnel.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Only this test's containers: the shared engine may run a Consul of
	// its own.
	all, err := engine.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	topo := model.NewTopology()
	for cid, c := range all.Containers {
		if strings.HasPrefix(c.Name, env.Prefix) {
			topo.Containers[cid] = c
		}
	}
	connector := registryConnector{tunnel: tunnel, ctx: ctx}
	var source string
	var updates <-chan model.Registry
	// The agent needs a moment after its start to answer.
	dockertest.Eventually(t, 0, func() (bool, string) {
		rcs, err := connector.Connect(ctx, topo)
		if err != nil {
			return false, err.Error()
		}
		if len(rcs) != 1 {
			return false, fmt.Sprintf("%d registries found, want the one", len(rcs))
		}
		source, updates = rcs[0].Source, rcs[0].Updates
		return true, ""
	})
	if !strings.Contains(source, "through the engine") {
		t.Errorf("registry source %q, want it found through the engine", source)
	}
	deadline := time.After(testenv.Patience(0))
	for {
		select {
		case r := <-updates:
			if _, ok := r.Service("consul"); ok && r.Live() {
				t.Logf("registry through the engine: %d services, leader %s", len(r.Services), r.Leader)
				return
			}
		case <-deadline:
			t.Fatalf("no live registry data through the tunnel to %s", id)
		}
	}
}
