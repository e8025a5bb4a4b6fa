//go:build swarmbench

// The 100-task swarm benchmark takes minutes, so it is built only with
// -tags swarmbench (make bench-swarm): a normal test run neither runs nor
// skips it.

package docker_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/swarmtest"
	"github.com/topo-dev/topo/internal/tmuxtest"
	"github.com/topo-dev/topo/model"
)

// TestSwarmHundredTasksBenchmark measures the performance targets
// against a real three-node swarm running 100 tasks: the first read (what
// the first frame waits for), new tasks reaching topo after they run, a
// drain reaching topo after the engine moved the tasks, and the idle cost.
// It takes a few minutes: make bench-swarm runs it (-tags swarmbench).
func TestSwarmHundredTasksBenchmark(t *testing.T) {
	img := dockertest.TestServerImage(t)
	cl := swarmtest.Start(t, swarmtest.Options{Images: []string{img}})
	front := cl.CreateOverlay(t, cl.Env.Name("front"))
	proxy := newCountingProxy(t, cl.Manager().Host)
	sw := docker.NewSwarm(connectTest(t, proxy.host()))
	obs := startObserver(t, cl.Manager().Host)
	w := startClusterWatch(t, sw)
	ctx := context.Background()

	spec := cl.ServiceSpec(cl.Env.Name("app"), img, 100, front)
	start := time.Now()
	appID := cl.CreateService(t, spec)
	w.waitFor(t, 5*time.Minute, "100/100", settled(appID, 100))
	t.Logf("100 tasks running after %v", time.Since(start).Round(time.Second))

	var reads []time.Duration
	for range 5 {
		s := time.Now()
		c, err := sw.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		reads = append(reads, time.Since(s))
		if len(c.VisibleTasks()) < 100 {
			t.Fatalf("read %d visible tasks", len(c.VisibleTasks()))
		}
	}
	sort.Slice(reads, func(i, j int) bool { return reads[i] < reads[j] })
	t.Logf("first read with 100 tasks: median %v, max %v", reads[2].Round(time.Millisecond), reads[4].Round(time.Millisecond))

	w.waitFor(t, 10*time.Second, "nothing converging", func(c model.Cluster) (bool, string) { return !c.Converging(), "converging" })
	quiet := time.NewTimer(2 * time.Second)
	for waiting := true; waiting; {
		select {
		case <-proxy.seen:
			quiet.Reset(2 * time.Second)
		case <-quiet.C:
			waiting = false
		}
	}
	obs.pause.Store(true)
	before := proxy.requests.Load()
	// A measurement window, not a wait for a condition: the count is
	// whatever arrived in it.
	idle := time.NewTimer(5 * time.Second)
	<-idle.C
	t.Logf("idle API requests with 100 tasks: %d in 5 s", proxy.requests.Load()-before)
	obs.pause.Store(false)

	c, _ := w.waitFor(t, 5*time.Second, "settled", settled(appID, 100))
	worst, added, whole := scaleAndTimeNewTasks(t, sw, w, c, appID, 110, 2*time.Minute)
	t.Logf("scale 100→110: new tasks out of topo's swarm watch (its update channel; the screen follows within one frame) at most %v after running (%d new), whole scale %v", worst.Round(time.Millisecond), added, whole.Round(time.Millisecond))

	start = time.Now()
	if err := sw.SetAvailability(ctx, cl.Nodes[1].Name, model.AvailabilityDrain); err != nil {
		t.Fatal(err)
	}
	drained := func(c model.Cluster) (bool, string) {
		ok, desc := settled(appID, 110)(c)
		_, _, perNode, _ := serviceState(c, appID)
		return ok && perNode[cl.Nodes[1].Name] == 0, desc
	}
	_, at := w.waitFor(t, 3*time.Minute, "drained", drained)
	t.Logf("drain with ~37 tasks to move: out of topo's swarm watch (its update channel) after %v: %s", at.Sub(start).Round(time.Millisecond), obs.behind(start, at, drained))

	// The first frame in a real terminal, pointed at the manager: the
	// lanes (as soon as the engine is read), then the cluster view with
	// every task, w pressed at the first frame.
	bin := tmuxtest.BuildTopo(t)
	var lanes, cluster []time.Duration
	for range 5 {
		start := time.Now()
		term := tmuxtest.Start(t, 200, 50, []string{"DOCKER_HOST=" + cl.Manager().Host}, bin)
		term.WaitForText(10*time.Second, "● live")
		lanes = append(lanes, time.Since(start))
		term.Send("w")
		term.WaitForText(10*time.Second, "110/110")
		cluster = append(cluster, time.Since(start))
		term.Send("q")
		term.WaitForText(10*time.Second, "[exited 0]")
	}
	median := func(ds []time.Duration) time.Duration {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2].Round(time.Millisecond)
	}
	t.Logf("first frame in tmux 200x50 with 110 tasks: lanes median %v (max %v); cluster view with every task median %v (max %v)",
		median(lanes), lanes[len(lanes)-1].Round(time.Millisecond), median(cluster), cluster[len(cluster)-1].Round(time.Millisecond))
}
