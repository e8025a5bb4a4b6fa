package deploy

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/topo-dev/topo/demo/traffic"
	"github.com/topo-dev/topo/internal/dockertest"
)

// BenchmarkDemoOnStage times what a presenter waits for, with the images
// present, on the real engine:
//
//	up-s          up --wait until every instance is healthy and the LB answers (target ≤ 15 s)
//	plus-s        + until the new instance serves a request through the LB (≤ 3 s)
//	kill-lb-s     kill under 10 req/s until the LB's last error (≤ 3 s; 0 when none)
//	kill-reg-s    kill until the registry no longer lists the instance (≤ 3 s)
//	down-s        down --volumes (≤ 5 s)
//
// Run with: go test ./demo/deploy -run '^$' -bench DemoOnStage -benchtime 3x
func BenchmarkDemoOnStage(b *testing.B) {
	d, env := newTestDeployer(b)
	ctx := context.Background()
	// topo's own image is built once per binary, before the talk.
	if _, err := d.ensureSelfImage(ctx, nil); err != nil {
		b.Fatal(err)
	}
	var up, plus, killLB, killReg, down time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := d.Up(ctx, UpOptions{Wait: true}, nil); err != nil {
			b.Fatalf("up: %v", err)
		}
		up += time.Since(start)

		start = time.Now()
		n, err := d.ScaleBy(ctx, ServiceApp, 1, nil)
		if err != nil {
			b.Fatalf("+: %v", err)
		}
		newest := d.ContainerName(ServiceApp, n)
		waitServedByAll(b, d, 30*time.Second, newest)
		plus += time.Since(start)

		lb, reg := benchKill(b, d, env, newest)
		killLB += lb
		killReg += reg

		start = time.Now()
		if err := d.Down(ctx, true, nil); err != nil {
			b.Fatalf("down: %v", err)
		}
		down += time.Since(start)
		consulAddrs.Lock()
		delete(consulAddrs.m, d) // the next up starts another consul
		consulAddrs.Unlock()
	}
	per := func(total time.Duration) float64 { return total.Seconds() / float64(b.N) }
	b.ReportMetric(per(up), "up-s")
	b.ReportMetric(per(plus), "plus-s")
	b.ReportMetric(per(killLB), "kill-lb-s")
	b.ReportMetric(per(killReg), "kill-reg-s")
	b.ReportMetric(per(down), "down-s")
	b.ReportMetric(0, "ns/op")
}

// benchKill kills victim under traffic and returns how long after the
// kill the load balancer last failed (0: never) and when the registry
// stopped listing it.
func benchKill(b *testing.B, d *Deployer, env *dockertest.Env, victim string) (lastErr, dropped time.Duration) {
	b.Helper()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	snaps := make(chan traffic.Snapshot, 1)
	go func() {
		// 10 req/s: on a shared 2-core test machine FerretDB's regex scans
		// saturate near 20, and the benchmark is about failover, not
		// about the database's capacity.
		_ = traffic.Run(ctx, traffic.Config{URL: d.LBURL(), Rate: 10, Timeout: 5 * time.Second, Interval: 100 * time.Millisecond,
			Client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 40}}}, snaps)
	}()
	var last traffic.Snapshot
	for s := range snaps {
		if last = s; s.TotalRequests >= 20 {
			break
		}
	}
	// Timed from when the engine has killed it (see TestDemoLifecycle).
	if err := env.Client.ContainerKill(context.Background(), victim, "KILL"); err != nil {
		b.Fatal(err)
	}
	killed := time.Now()
	for {
		asked := time.Since(killed)
		if _, still := registered(b, d)[victim]; !still {
			dropped = asked
			break
		}
		if asked > 30*time.Second {
			b.Fatalf("%s still registered 30 s after the kill", victim)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Traffic for 4 s after the kill tells whether errors went on past 3 s.
	for s := range snaps {
		if last = s; s.At.After(killed.Add(4 * time.Second)) {
			break
		}
	}
	stop()
	for range snaps {
	}
	if !last.LastErrorAt.IsZero() && last.LastErrorAt.After(killed) {
		lastErr = last.LastErrorAt.Sub(killed)
	}
	b.Logf("kill of %s: %d requests, %d failed (last: %s), p95 %v", victim, last.TotalRequests, last.TotalErrors, last.LastError, last.P95)
	return lastErr, dropped
}
