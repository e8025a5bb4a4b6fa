package cli

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// TestEndToEndRegistryPanelAndBadge runs a Consul container, the
// registrator (topo's own binary in its image) and a service container, and
// checks on the real screen that the instance appears in the registry panel
// and its node carries the registry badge.
func TestEndToEndRegistryPanelAndBadge(t *testing.T) {
	consulImage := os.Getenv("TOPO_DEMO_IMAGE_CONSUL")
	if consulImage == "" {
		testenv.Missing(t, "TOPO_DEMO_IMAGE_CONSUL is not set: run `eval \"$(make -s test-images)\"` (make test does)")
	}
	env := dockertest.New(t)
	bin := tmuxtest.BuildTopo(t)
	ctx := context.Background()
	selfImage, err := docker.SelfImage(ctx, env.Client, bin)
	if err != nil {
		t.Fatal(err)
	}
	netName := env.Name("reg")
	env.CreateNetwork(t, "reg", nil)

	consulName := env.Name("consul")
	consulID := env.Run(t, dockertest.ContainerSpec{Suffix: "consul", Image: consulImage, Networks: []string{netName}, Start: true})
	inspect, err := env.Client.ContainerInspect(ctx, consulID)
	if err != nil {
		t.Fatal(err)
	}
	consulAddr := inspect.NetworkSettings.Networks[netName].IPAddress + ":8500"

	registrator, err := env.Client.ContainerCreate(ctx, &container.Config{
		Image:  selfImage,
		Cmd:    []string{"registrator", "--consul", consulName + ":8500", "--network", netName, "--label", dockertest.LabelKey + "=" + env.Prefix},
		Labels: env.Labels(),
	}, &container.HostConfig{
		NetworkMode: container.NetworkMode(netName),
		Mounts:      []mount.Mount{{Type: mount.TypeBind, Source: "/var/run/docker.sock", Target: "/var/run/docker.sock", ReadOnly: true}},
	}, nil, nil, env.Name("registrator"))
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.ContainerStart(ctx, registrator.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}

	// The engine is shared with other work that may run its own Consul, so
	// the registry is named rather than auto-detected (registry/find_test
	// covers detection).
	term := tmuxtest.Start(t, 200, 50, nil, bin, "--consul", consulAddr)
	term.WaitForText(10*time.Second, "--consul "+consulAddr)
	// Show only this test's containers, so its node is on screen.
	term.Send("/")
	term.Send("-l", env.Prefix)
	term.Send("Enter")
	term.WaitForText(5*time.Second, "filter “"+env.Prefix+"”")

	env.Run(t, dockertest.ContainerSpec{
		Suffix: "svc", Image: dockertest.TestServerImage(t), Networks: []string{netName}, Start: true,
		Env: []string{"SERVICE_NAME=e2esvc", "SERVICE_PORT=8080", "SERVICE_CHECK_HTTP=/health", "SERVICE_CHECK_INTERVAL=1s"},
		Labels: map[string]string{
			"com.docker.compose.project": env.Prefix, "com.docker.compose.service": "e2esvc",
			"com.docker.compose.container-number": "1",
		},
	})
	term.WaitFor(20*time.Second, "the instance in the panel and the passing badge on its node", func(s string) bool {
		return strings.Contains(s, "e2esvc  1 instance") && strings.Contains(s, "R✓")
	})
}
