package swarmtest

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/swarm"

	"github.com/topo-dev/topo/internal/dockertest"
)

// TestStartFormsASwarmOfItsOwn: three engines in node containers, none of
// them the outer engine, form one swarm with one leading manager, and every
// node has the test image.
func TestStartFormsASwarmOfItsOwn(t *testing.T) {
	env := dockertest.New(t)
	outer, err := env.Client.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	img := dockertest.TestServerImage(t)
	c := Start(t, Options{Images: []string{img}})
	t.Logf("timings: %v", c.Timings)

	ctx := context.Background()
	nodes, err := c.Manager().Client.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 3 {
		t.Fatalf("%d nodes, want 3", len(nodes))
	}
	leaders := 0
	for _, n := range nodes {
		if n.ManagerStatus != nil && n.ManagerStatus.Leader {
			leaders++
			if n.Description.Hostname != c.Manager().Name {
				t.Errorf("leader is %s, want %s", n.Description.Hostname, c.Manager().Name)
			}
		}
	}
	if leaders != 1 {
		t.Errorf("%d leaders, want 1", leaders)
	}
	for _, n := range c.Nodes {
		imgs, err := n.Client.ImageList(ctx, imageListOptions(img))
		if err != nil || len(imgs) != 1 {
			t.Errorf("node %s: image %s not loaded (%v)", n.Name, img, err)
		}
		if !strings.HasPrefix(n.Host, "tcp://") {
			t.Errorf("node %s host %q", n.Name, n.Host)
		}
	}
	// The node engines must be the test's own: none of them is the outer
	// engine, whose swarm state another test may be changing meanwhile.
	for _, n := range c.Nodes {
		info, err := n.Client.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.ID == outer.ID {
			t.Errorf("node %s answers as the outer engine", n.Name)
		}
	}
	t.Logf("swarm up in %v", c.Timings["swarm up"])
}

func imageListOptions(ref string) image.ListOptions {
	return image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", ref))}
}
