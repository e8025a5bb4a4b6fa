package probeagent

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/topo-dev/topo/model"
)

// The attempts run at once: each of the first maxParallel attempts waits
// until all of them have started, which never happens if they run one
// after another (the hang guard then fails the test).
func TestDialRunsAttemptsConcurrently(t *testing.T) {
	addrs := make([]string, maxParallel*2)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", i+1) // never dialled: dial is the test's
	}
	var started sync.WaitGroup
	started.Add(maxParallel)
	allIn := make(chan struct{})
	go func() { started.Wait(); close(allIn) }()
	var mu sync.Mutex
	calls := 0
	done := make(chan []model.ProbeResult, 1)
	go func() {
		done <- dialAll(addrs, func(addr string) model.ProbeResult {
			mu.Lock()
			calls++
			first := calls <= maxParallel
			mu.Unlock()
			if first {
				started.Done()
				<-allIn
			}
			return model.ProbeResult{Address: addr, Outcome: model.OutcomeConnected}
		})
	}()
	select {
	case results := <-done:
		for i, r := range results {
			if r.Address != addrs[i] {
				t.Fatalf("result %d is for %s, want %s (results must keep the addresses' order)", i, r.Address, addrs[i])
			}
		}
	case <-time.After(time.Minute):
		t.Fatalf("the first %d attempts never ran at the same time", maxParallel)
	}
}
