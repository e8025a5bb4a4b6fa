package main

import (
	"strings"
	"testing"
	"time"

	"topo/internal/dockertest"
	"topo/internal/swarmtest"
	"topo/internal/tmuxtest"
)

// TestEndToEndClusterView points the real binary at the manager of a real
// three-node swarm (Docker-in-Docker on a private bridge): `w` shows the
// nodes and a service's tasks spread over them, and a node whose engine
// dies is shown DOWN on screen.
func TestEndToEndClusterView(t *testing.T) {
	img := dockertest.TestServerImage(t)
	cl := swarmtest.Start(t, swarmtest.Options{Images: []string{img}})
	bin := tmuxtest.BuildTopo(t)
	front := cl.CreateOverlay(t, cl.Env.Name("front"))
	web := cl.Env.Name("web")
	cl.CreateService(t, cl.ServiceSpec(web, img, 6, front))

	term := tmuxtest.Start(t, 200, 50, []string{"DOCKER_HOST=" + cl.Manager().Host}, bin)
	term.WaitForText(10*time.Second, "● live")
	term.Send("w")
	term.WaitFor(60*time.Second, "three nodes and the service's six tasks running", func(s string) bool {
		for _, n := range cl.Nodes {
			if !strings.Contains(s, n.Name) {
				return false
			}
		}
		return strings.Contains(s, "6/6") && strings.Contains(s, web)
	})

	lost := cl.Nodes[2]
	cl.Kill(t, lost)
	term.WaitFor(30*time.Second, lost.Name+" shown DOWN", func(s string) bool {
		return strings.Contains(s, "✖ DOWN")
	})
	term.Send("q")
	term.WaitForText(10*time.Second, "[exited 0]")
}
