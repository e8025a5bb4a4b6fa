package swarmtest

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
)

// What a test does on its swarm once it runs: wait for the nodes, make
// overlays and services, kill a node.

// WaitForNodes waits until cond holds for the manager's node list.
func (c *Cluster) WaitForNodes(t testing.TB, within time.Duration, cond func([]swarm.Node) (bool, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	why := ""
	err := poll(ctx, func() (bool, error) {
		nodes, err := c.Manager().Client.NodeList(ctx, swarm.NodeListOptions{})
		if err != nil {
			return false, err
		}
		var ok bool
		ok, why = cond(nodes)
		return ok, nil
	})
	if err != nil {
		t.Fatalf("swarm nodes: not within %v: %s (%v)", within, why, err)
	}
}

// CreateOverlay creates an attachable overlay network on the swarm,
// labelled as the test's, and returns its ID.
func (c *Cluster) CreateOverlay(t testing.TB, name string) string {
	t.Helper()
	resp, err := c.Manager().Client.NetworkCreate(context.Background(), name, network.CreateOptions{
		Driver: "overlay", Attachable: true, Labels: c.Env.Labels(),
		Options: map[string]string{"com.docker.network.driver.mtu": OverlayMTU},
	})
	if err != nil {
		t.Fatalf("create overlay %s: %v", name, err)
	}
	return resp.ID
}

// ServiceSpec is a replicated service of image on networks that works on
// this kernel: DNS round robin, because without IPVS a virtual IP does
// not answer.
func (c *Cluster) ServiceSpec(name, image string, replicas uint64, networks ...string) swarm.ServiceSpec {
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: name, Labels: c.Env.Labels()},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: image, Labels: c.Env.Labels()},
			// Fast restarts keep a rescheduling test short.
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, Delay: durationPtr(200 * time.Millisecond)},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
	for _, n := range networks {
		spec.TaskTemplate.Networks = append(spec.TaskTemplate.Networks, swarm.NetworkAttachmentConfig{Target: n})
	}
	return spec
}

func durationPtr(d time.Duration) *time.Duration { return &d }

// CreateService creates a service on the swarm without asking a registry
// for the image's digest (there is none) and returns its ID.
func (c *Cluster) CreateService(t testing.TB, spec swarm.ServiceSpec) string {
	t.Helper()
	resp, err := c.Manager().Client.ServiceCreate(context.Background(), spec, swarm.ServiceCreateOptions{QueryRegistry: false})
	if err != nil {
		t.Fatalf("create service %s: %v", spec.Name, err)
	}
	return resp.ID
}

// Kill kills a node container, as a machine lost: its engine stops without
// telling the managers anything.
func (c *Cluster) Kill(t testing.TB, n *Node) {
	t.Helper()
	c.Own(t)
	if err := c.Env.Client.ContainerKill(context.Background(), n.ContainerID, "KILL"); err != nil {
		t.Fatalf("kill swarm node %s: %v", n.Name, err)
	}
}

// Node finds a node by name.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}
