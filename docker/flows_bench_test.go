//go:build flowsbench

// The flows benchmark starts dozens of containers, so it is built only
// with -tags flowsbench: a normal test run neither runs nor skips it.
//
//	go test -tags flowsbench -count=1 -run TestFlowsBenchmark -v ./docker
//	TOPO_FLOWS_BENCH_N=50 (containers; half servers, half clients holding 4 connections each)
//	TOPO_FLOWS_BENCH_IDLE=0 (more containers holding no connection: issue 14's 300 are N=100 IDLE=200)

package docker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/model"
)

// TestFlowsBenchmark measures the targets at a modest scale: the
// agent's CPU at one sample a second, topo's own CPU for the same (the
// topology read plus the sample, as `topo flows --for` does), and the time
// from a connection being made to the first sample that shows it.
func TestFlowsBenchmark(t *testing.T) {
	n, idle := 50, 0
	if s := os.Getenv("TOPO_FLOWS_BENCH_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("TOPO_FLOWS_BENCH_IDLE"); s != "" {
		idle, _ = strconv.Atoi(s)
	}
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	netID := env.CreateNetwork(t, "bench", nil)
	ctx := context.Background()
	var mu sync.Mutex
	var created []string
	// Removed several at a time before the env's own cleanup, which
	// removes one at a time within a minute: 300 containers took longer
	// here, and the rest were left behind.
	t.Cleanup(func() {
		sem := make(chan struct{}, 8)
		var wg sync.WaitGroup
		mu.Lock()
		defer mu.Unlock()
		for _, id := range created {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				_ = env.Client.ContainerRemove(context.Background(), id, container.RemoveOptions{Force: true})
			}()
		}
		wg.Wait()
	})
	start := func(suffix string, envs ...string) (string, error) {
		labels := env.Labels()
		c, err := env.Client.ContainerCreate(ctx, &container.Config{Image: image, Env: envs, Labels: labels},
			&container.HostConfig{NetworkMode: container.NetworkMode(netID)}, nil, nil, env.Name(suffix))
		if err != nil {
			return "", err
		}
		mu.Lock()
		created = append(created, c.ID)
		mu.Unlock()
		return c.ID, env.Client.ContainerStart(ctx, c.ID, container.StartOptions{})
	}
	errs := make(chan error, n/2+idle)
	sem := make(chan struct{}, 8)
	for i := range n / 2 {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := start(fmt.Sprintf("srv%d", i)); err != nil {
				errs <- err
				return
			}
			_, err := start(fmt.Sprintf("cli%d", i), "CONNECT="+env.Name(fmt.Sprintf("srv%d", i))+":8080", "CONNECTIONS=4", "LISTEN=8081")
			errs <- err
		}()
	}
	for i := range idle {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_, err := start(fmt.Sprintf("idle%d", i))
			errs <- err
		}()
	}
	for range n/2 + idle {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	e := connectTest(t, "")
	flows := docker.NewFlows(docker.SDK(e), probeAgentBinary(t), env.Labels())
	t.Cleanup(func() { flows.Close() })
	selfCPU := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var prev map[string]bool
	// syncCPU is this process's CPU during the topology reads: the
	// headless command's share, which the TUI (passing its live model)
	// does not pay.
	var syncCPU time.Duration
	sample := func() (model.FlowSample, time.Duration) {
		s, c := time.Now(), selfCPU()
		topo, err := e.Sync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		syncCPU += selfCPU() - c
		fs, err := flows.Sample(ctx, topo, prev)
		if err != nil {
			t.Fatal(err)
		}
		prev = fs.Seen
		return fs, time.Since(s)
	}
	ours := func(fs model.FlowSample) int {
		c := 0
		for _, f := range fs.Flows {
			if len(f.Client.Name) > len(env.Prefix) && f.Client.Name[:len(env.Prefix)] == env.Prefix {
				c += f.Conns
			}
		}
		return c
	}
	dockertest.Eventually(t, 30*time.Second, func() (bool, string) {
		fs, _ := sample()
		return ours(fs) == n/2*4, fmt.Sprintf("%d of %d connections", ours(fs), n/2*4)
	})
	running := 0
	if list, err := docker.SDK(e).ContainerList(ctx, container.ListOptions{}); err == nil {
		running = len(list)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("%d test containers (%d holding %d connections) among %d running on the engine; load %s", n+idle, n, n/2*4, running, load)

	agentCPU := func() uint64 {
		st, err := docker.SDK(e).ContainerStatsOneShot(ctx, docker.FlowAgent(flows))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Body.Close()
		var v container.StatsResponse
		if err := json.NewDecoder(st.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v.CPUStats.CPUUsage.TotalUsage
	}
	const rounds = 30
	syncCPU = 0
	a0, s0, w0 := agentCPU(), selfCPU(), time.Now()
	var durs []time.Duration
	for range rounds {
		_, d := sample()
		durs = append(durs, d)
		time.Sleep(time.Second - d)
	}
	a1, s1, wall, sync1 := agentCPU(), selfCPU(), time.Since(w0), syncCPU
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	t.Logf("agent CPU at 1 sample/s: %.2f %% of a core", 100*float64(a1-a0)/float64(wall.Nanoseconds()))
	t.Logf("topo CPU at 1 sample/s (topology read + sample): %.2f %% of a core, of which the topology read %.2f %%", 100*float64(s1-s0)/float64(wall.Nanoseconds()), 100*float64(sync1)/float64(wall.Nanoseconds()))
	t.Logf("one sample (topology read + agent round trip + attribution): median %v, max %v",
		durs[len(durs)/2].Round(time.Millisecond), durs[len(durs)-1].Round(time.Millisecond))

	// Latency: this process connects to a server (its address on the
	// test's own network) and samples once a second, as topo does; the
	// flow is on screen at the first sample that shows it.
	in, err := env.Client.ContainerInspect(ctx, env.Name("srv0"))
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(in.NetworkSettings.Networks[env.Name("bench")].IPAddress, "8080")
	var lat []time.Duration
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := range 5 {
		<-tick.C
		sample()
		// Connect at different points of the sampling second.
		time.Sleep(time.Duration(i)*200*time.Millisecond + 50*time.Millisecond)
		dialed := time.Now()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		local := c.LocalAddr().(*net.TCPAddr).IP.String()
		for seen := false; !seen; {
			<-tick.C
			fs, _ := sample()
			for _, f := range fs.Flows {
				if f.Client.Outside() && f.Client.Name == local && f.Server.Name == env.Name("srv0") {
					seen = true
				}
			}
			if time.Since(dialed) > 30*time.Second {
				t.Fatal("the host's connection never showed")
			}
		}
		lat = append(lat, time.Since(dialed))
		c.Close()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("connection to flow in a sample (sampling once a second): median %v, max %v", lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
}
