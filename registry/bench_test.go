package registry

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/topo-dev/topo/internal/consultest"
	"github.com/topo-dev/topo/model"
)

const (
	benchServices  = 100
	benchInstances = 5
)

// BenchmarkWatch measures the watch against a dev agent holding 100
// services x 5 instances (each on its own node, with one check):
//   - the heap the watch holds once it has everything (MB-heap), and how
//     much the process's resident set grew (MB-rss);
//   - the CPU it uses while nothing changes (%cpu-idle);
//   - for a check turning critical or passing, and for a new instance, the
//     time from Consul's write returning to the snapshot showing it
//     (ns/op is the mean; ms-median and ms-p90 are reported too).
//
// Changes go straight to the catalog (/v1/catalog/register on external
// nodes), so "Consul has it" is exactly when the write returns; agent
// registrations add the agent's asynchronous sync on top. Successive changes
// touch different services, as independent changes would: a change to the
// service just changed waits for MinInterval (100 ms) by design.
//
//	go test -run '^$' -bench BenchmarkWatch -benchtime 200x ./registry
func BenchmarkWatch(b *testing.B) {
	a := consultest.Start(b)
	c := a.Client()
	for s := range benchServices {
		for i := range benchInstances {
			catalogRegister(b, c, s, i, api.HealthPassing)
		}
	}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	rss0 := rssMB()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := Watch(ctx, Target{Addr: a.Addr, Source: "bench"}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var last model.Registry
	wait := func(what string, cond func(model.Registry) bool) {
		deadline := time.NewTimer(10 * time.Second)
		defer deadline.Stop()
		for !cond(last) {
			select {
			case last = <-ch:
			case <-deadline.C:
				b.Fatalf("%s: not seen within 10s (%d services, %d instances, error %q)",
					what, len(last.Services), last.InstanceCount(), last.Error)
			}
		}
	}
	wait("initial sync", func(r model.Registry) bool {
		return len(r.Services) == benchServices+1 && r.InstanceCount() == benchServices*benchInstances+1
	})
	b.Logf("initial sync of %d services, %d instances: %v", len(last.Services), last.InstanceCount(), time.Since(start))

	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	heap := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
	rss := rssMB() - rss0
	stacks := float64(int64(after.StackInuse)-int64(before.StackInuse)) / (1 << 20)
	b.Logf("held by the watch: heap %.2f MB, goroutine stacks %.2f MB, process RSS +%.1f MB (%d goroutines)",
		heap, stacks, rss, runtime.NumGoroutine())

	// Idle: the watch's own CPU over a quiet window (the agent is another
	// process and not counted).
	cpu0, wall0 := cpuTime(), time.Now()
	quiet := time.NewTimer(3 * time.Second)
	snapshots := 0
	for idle := true; idle; {
		select {
		case last = <-ch:
			snapshots++
		case <-quiet.C:
			idle = false
		}
	}
	idleCPU := 100 * float64(cpuTime()-cpu0) / float64(time.Since(wall0))
	b.Logf("idle: %.3f%% of a core over 3s, %d snapshots", idleCPU, snapshots)

	healthOf := func(r model.Registry, s, i int) model.CheckStatus {
		in, ok := r.Instance(benchNode(i) + "/" + benchID(s, i))
		if !ok {
			return ""
		}
		return in.Health()
	}
	b.Run("check", func(b *testing.B) {
		b.ReportMetric(heap, "MB-heap")
		b.ReportMetric(rss, "MB-rss")
		b.ReportMetric(idleCPU, "%cpu-idle")
		var lat []time.Duration
		for n := range b.N {
			s, i := n%benchServices, (n/benchServices)%benchInstances
			status := api.HealthCritical
			if healthOf(last, s, i) == model.CheckCritical {
				status = api.HealthPassing
			}
			catalogRegister(b, c, s, i, status)
			t0 := time.Now()
			wait("check "+status, func(r model.Registry) bool { return healthOf(r, s, i) == model.CheckStatus(status) })
			lat = append(lat, time.Since(t0))
		}
		reportLatency(b, lat)
	})
	b.Run("register", func(b *testing.B) {
		var lat []time.Duration
		for n := range b.N {
			s, i := n%benchServices, benchInstances+n/benchServices
			if _, ok := last.Instance(benchNode(i) + "/" + benchID(s, i)); ok {
				continue // registered by an earlier round of the benchmark
			}
			catalogRegister(b, c, s, i, api.HealthPassing)
			t0 := time.Now()
			wait("new instance", func(r model.Registry) bool { return healthOf(r, s, i) == model.CheckPassing })
			lat = append(lat, time.Since(t0))
		}
		reportLatency(b, lat)
	})
}

func benchNode(i int) string    { return fmt.Sprintf("bench-node-%d", i) }
func benchID(s, i int) string   { return fmt.Sprintf("svc-%03d-%d", s, i) }
func benchName(s int) string    { return fmt.Sprintf("svc-%03d", s) }
func benchAddr(s, i int) string { return fmt.Sprintf("10.%d.%d.%d", 100+i, s/250, s%250+1) }

// catalogRegister writes instance i of service s, on its own external node,
// with one check in the given status.
func catalogRegister(b testing.TB, c *api.Client, s, i int, status string) {
	b.Helper()
	_, err := c.Catalog().Register(&api.CatalogRegistration{
		Node:    benchNode(i),
		Address: fmt.Sprintf("10.99.0.%d", i+1),
		Service: &api.AgentService{
			ID: benchID(s, i), Service: benchName(s), Address: benchAddr(s, i), Port: 8080,
			Tags: []string{"bench"}, Meta: map[string]string{model.MetaContainerID: benchID(s, i)},
		},
		Check: &api.AgentCheck{
			Node: benchNode(i), CheckID: "http:" + benchID(s, i), Name: "http", Status: status,
			ServiceID: benchID(s, i), Output: "HTTP GET http://" + benchAddr(s, i) + ":8080/health: " + status,
		},
	}, nil)
	if err != nil {
		b.Fatalf("catalog register: %v", err)
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "ms-median")
	b.ReportMetric(ms(lat[len(lat)*9/10]), "ms-p90")
	b.ReportMetric(ms(lat[len(lat)-1]), "ms-max")
}

// rssMB is the resident set of this process (Linux; 0 elsewhere).
func rssMB() float64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(data), &size, &resident); err != nil {
		return 0
	}
	return float64(resident*int64(os.Getpagesize())) / (1 << 20)
}

// cpuTime is the user+system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
