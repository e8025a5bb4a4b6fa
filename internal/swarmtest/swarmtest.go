// Package swarmtest gives tests a real multi-node Docker Swarm on one
// machine: node containers, each running its own Docker engine (Debian's
// docker.io, built offline into an image by debootstrap), on a private
// bridge the test creates, formed into a swarm of one manager and some
// workers, with the test's images loaded into every node. It never touches
// a swarm of the outer engine: everything it creates carries the test's
// dockertest label and goes at cleanup, and the inner swarm dies with its
// node containers (their engines keep their state in tmpfs).
package swarmtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/topo-dev/topo/internal/dockertest"
)

// innerPort is where each node's engine listens on the private bridge.
// Plain TCP without TLS is safe only because nothing but the host and the
// other nodes can reach that bridge.
const innerPort = 2375

// MTUs: the machine's interface has 1400, and VXLAN adds 50 bytes.
const (
	bridgeMTU  = "1400"
	OverlayMTU = "1350"
)

// LabelNode marks a node container with its role in the test swarm.
const LabelNode = "topo.swarmtest.node"

// Node is one node container and a client of the engine inside it.
type Node struct {
	Name        string // container name, also the node's hostname
	ContainerID string
	IP          string
	Host        string // tcp://IP:2375
	Manager     bool
	Client      *client.Client
}

// Cluster is a running test swarm.
type Cluster struct {
	Env *dockertest.Env
	// Nodes[0] is the manager.
	Nodes []*Node
	// ID is the swarm's cluster ID, recorded at init: Own checks it.
	ID      string
	Network string
	// Timings of the set-up, for the test's report.
	Timings map[string]time.Duration
	// engine shapes a lone engine node (StartEngine); zero for a swarm.
	engine EngineOptions
}

// Manager returns the manager node.
func (c *Cluster) Manager() *Node { return c.Nodes[0] }

// Options shape the swarm.
type Options struct {
	// Workers is the number of worker nodes (default 2).
	Workers int
	// ManagerOnly makes a one-node swarm: the manager and no worker.
	ManagerOnly bool
	// Images are outer-engine images to load into every node.
	Images []string
}

// Start builds (or reuses) the node image and brings up the swarm; it is
// torn down when the test ends. It skips the test when the node image
// cannot be built here.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	switch {
	case opts.ManagerOnly:
		opts.Workers = 0
	case opts.Workers == 0:
		opts.Workers = 2
	}
	c, img := newCluster(t, EngineOptions{})
	env := c.Env
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()

	// Let the engine pick the bridge's subnet from its own pools, which
	// are not 10.0.0.0/8, where the swarm puts its overlays.
	c.Network = env.Name("swarm")
	env.CreateNetwork(t, "swarm", map[string]string{"com.docker.network.driver.mtu": bridgeMTU})

	names := []string{env.Name("mgr")}
	for i := 1; i <= opts.Workers; i++ {
		names = append(names, env.Name(fmt.Sprintf("w%d", i)))
	}
	c.startEngines(ctx, t, img, names, start)
	c.Timings["engines up"] = time.Since(start)

	c.form(ctx, t)
	c.Timings["swarm formed"] = time.Since(start)
	c.loadImages(ctx, t, opts.Images)
	c.Timings["images loaded"] = time.Since(start)
	c.WaitForNodes(t, 30*time.Second, func(nodes []swarm.Node) (bool, string) {
		ready := 0
		for _, n := range nodes {
			if n.Status.State == swarm.NodeStateReady {
				ready++
			}
		}
		return ready == len(c.Nodes), fmt.Sprintf("%d of %d nodes ready", ready, len(c.Nodes))
	})
	c.Own(t)
	c.Timings["swarm up"] = time.Since(start)
	return c
}

// newCluster is a cluster of no node yet with the node image built (or
// reused); the nodes' clients are closed when the test ends. engine shapes
// a lone engine node (StartEngine); zero for a swarm.
func newCluster(t testing.TB, engine EngineOptions) (*Cluster, string) {
	t.Helper()
	env := dockertest.New(t)
	img := NodeImage(t, env.Client)
	c := &Cluster{Env: env, Timings: map[string]time.Duration{}, engine: engine}
	t.Cleanup(func() {
		for _, n := range c.Nodes {
			if n.Client != nil {
				n.Client.Close()
			}
		}
	})
	return c, img
}

// startEngines starts a node per name, the first the manager, and waits
// until every node's engine answers.
func (c *Cluster) startEngines(ctx context.Context, t testing.TB, img string, names []string, start time.Time) {
	t.Helper()
	for i, name := range names {
		c.Nodes = append(c.Nodes, c.startNode(ctx, t, img, name, i == 0))
	}
	c.Timings["nodes started"] = time.Since(start)
	var wg sync.WaitGroup
	errs := make([]error, len(c.Nodes))
	for i, n := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = waitForEngine(ctx, n)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// form makes the first node a swarm's manager and joins the others to it
// as workers.
func (c *Cluster) form(ctx context.Context, t testing.TB) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(c.Nodes))
	mgr := c.Manager()
	if _, err := mgr.Client.SwarmInit(ctx, swarm.InitRequest{
		ListenAddr: "0.0.0.0:2377", AdvertiseAddr: mgr.IP,
		// A 1 s heartbeat makes a lost node Down in about 3 s instead of
		// about 15 s.
		Spec: swarm.Spec{Dispatcher: swarm.DispatcherConfig{HeartbeatPeriod: time.Second}},
	}); err != nil {
		t.Fatalf("swarm init on %s: %v", mgr.Name, err)
	}
	sw, err := mgr.Client.SwarmInspect(ctx)
	if err != nil {
		t.Fatalf("swarm inspect on %s: %v", mgr.Name, err)
	}
	c.ID = sw.ID
	for i, n := range c.Nodes[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.Client.SwarmJoin(ctx, swarm.JoinRequest{
				ListenAddr: "0.0.0.0:2377", AdvertiseAddr: n.IP,
				RemoteAddrs: []string{mgr.IP + ":2377"}, JoinToken: sw.JoinTokens.Worker,
			})
			if errs[i] != nil {
				errs[i] = fmt.Errorf("swarm join of %s: %w", n.Name, errs[i])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (c *Cluster) startNode(ctx context.Context, t testing.TB, img, name string, manager bool) *Node {
	t.Helper()
	labels := c.Env.Labels()
	labels[LabelNode] = "worker"
	if manager {
		labels[LabelNode] = "manager"
	}
	resp, err := c.Env.Client.ContainerCreate(ctx, &container.Config{
		Image: img, Hostname: name, Labels: labels,
		Cmd: c.engine.dockerdArgs(),
	}, &container.HostConfig{
		NetworkMode: container.NetworkMode(c.Network),
		// --privileged is refused here (the outer engine lacks
		// CAP_SYS_RESOURCE); this is everything else it would grant.
		CapAdd:      []string{"ALL"},
		CapDrop:     []string{"SYS_RESOURCE"},
		SecurityOpt: []string{"seccomp=unconfined", "apparmor=unconfined"},
		// What the CLI's systempaths=unconfined sends: no masked or
		// read-only paths under /proc and /sys (empty, not absent).
		MaskedPaths:   []string{},
		ReadonlyPaths: []string{},
		Resources:     container.Resources{DeviceCgroupRules: []string{"a *:* rwm"}},
		// The inner engine's state must not sit on the container's own
		// (overlay) filesystem; tmpfs is fast and goes with the node.
		Tmpfs: map[string]string{"/run": "", "/var/lib/docker": "exec"},
	}, nil, nil, name)
	if err != nil {
		t.Fatalf("create swarm node %s: %v", name, err)
	}
	if err := c.engine.copyFiles(ctx, c.Env.Client, resp.ID); err != nil {
		t.Fatalf("copy files into node %s: %v", name, err)
	}
	if err := c.Env.Client.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start swarm node %s: %v", name, err)
	}
	ins, err := c.Env.Client.ContainerInspect(ctx, resp.ID)
	if err != nil {
		t.Fatalf("inspect swarm node %s: %v", name, err)
	}
	ep := ins.NetworkSettings.Networks[c.Network]
	if ep == nil || ep.IPAddress == "" {
		t.Fatalf("swarm node %s has no address on %s", name, c.Network)
	}
	if ip, err := netip.ParseAddr(ep.IPAddress); err == nil && netip.MustParsePrefix("10.0.0.0/8").Contains(ip) {
		t.Fatalf("the node bridge got %s, inside 10.0.0.0/8 where the swarm puts its overlays: configure the engine's default-address-pools elsewhere", ep.IPAddress)
	}
	host := fmt.Sprintf("tcp://%s:%d", ep.IPAddress, c.engine.port())
	cli, err := client.NewClientWithOpts(append(c.engine.clientOpts(), client.WithHost(host), client.WithAPIVersionNegotiation())...)
	if err != nil {
		t.Fatal(err)
	}
	return &Node{Name: name, ContainerID: resp.ID, IP: ep.IPAddress, Host: host, Manager: manager, Client: cli}
}

// poll calls cond every 50 ms until it holds or ctx ends.
func poll(ctx context.Context, cond func() (bool, error)) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		last = err
		select {
		case <-tick.C:
		case <-ctx.Done():
			if last == nil {
				last = ctx.Err()
			}
			return last
		}
	}
}

func waitForEngine(ctx context.Context, n *Node) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := poll(ctx, func() (bool, error) {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		defer pcancel()
		_, err := n.Client.Ping(pctx)
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("the engine in swarm node %s did not answer on %s within 60 s: %v (docker logs %s)", n.Name, n.Host, err, n.Name)
	}
	return nil
}

// loadImages copies outer-engine images into every node: one save, loaded
// into the nodes in parallel.
func (c *Cluster) loadImages(ctx context.Context, t testing.TB, images []string) {
	t.Helper()
	for _, ref := range images {
		rc, err := c.Env.Client.ImageSave(ctx, []string{ref})
		if err != nil {
			t.Fatalf("docker save %s: %v", ref, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("docker save %s: %v", ref, err)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(c.Nodes))
		for i, n := range c.Nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := n.Client.ImageLoad(ctx, bytes.NewReader(data), client.ImageLoadWithQuiet(true))
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil {
					errs[i] = fmt.Errorf("load %s into %s: %w", ref, n.Name, err)
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Own proves the swarm at the manager's address is this test's before a
// test acts on it: the address belongs to a container the test made and
// labelled, the engine there reports the cluster ID recorded at init, and
// the swarm has no node but the test's.
func (c *Cluster) Own(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mgr := c.Manager()
	ins, err := c.Env.Client.ContainerInspect(ctx, mgr.ContainerID)
	if err != nil {
		t.Fatalf("own swarm: inspect %s: %v", mgr.Name, err)
	}
	if ins.Config.Labels[dockertest.LabelKey] != c.Env.Prefix || ins.NetworkSettings.Networks[c.Network] == nil ||
		ins.NetworkSettings.Networks[c.Network].IPAddress != mgr.IP {
		t.Fatalf("own swarm: %s at %s is not this test's manager container", mgr.Name, mgr.IP)
	}
	info, err := mgr.Client.Info(ctx)
	if err != nil {
		t.Fatalf("own swarm: info of %s: %v", mgr.Host, err)
	}
	if info.Swarm.Cluster == nil || info.Swarm.Cluster.ID != c.ID {
		t.Fatalf("own swarm: %s reports another cluster than %s", mgr.Host, c.ID)
	}
	nodes, err := mgr.Client.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		t.Fatalf("own swarm: node ls on %s: %v", mgr.Host, err)
	}
	ours := map[string]bool{}
	for _, n := range c.Nodes {
		ours[n.Name] = true
	}
	for _, n := range nodes {
		if !ours[n.Description.Hostname] {
			t.Fatalf("own swarm: node %s (%s) is not one of the test's", n.Description.Hostname, n.ID)
		}
	}
}
