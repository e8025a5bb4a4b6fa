package docker

import (
	"context"
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
)

// Regression (issue 18): every event that went without state started a
// late read of its own, so a mass removal on a loaded engine (die,
// disconnect and stop of hundreds of containers, each read timing out)
// held hundreds of requests and goroutines for up to 10 s each. A
// container now has at most one late read in flight: its later events ask
// for one more once that one is back, and its destroy cancels it.
func TestLateReadsKeepOnePerContainerAndADestroyCancelsIt(t *testing.T) {
	api := &gatedAPI{
		gates:   map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})},
		reading: make(chan string, 16),
		read:    make(chan string, 16),
	}
	e := &Engine{api: api}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan lateRead)
	reads := newLateReads(e, ctx, out)
	stateless := func(id, action string) model.Event {
		return model.Event{Type: model.EventContainer, Action: action, ActorID: id}
	}
	within := testenv.Patience(30 * time.Second)
	expect := func(ch chan string, want string) {
		t.Helper()
		select {
		case id := <-ch:
			if id != want {
				t.Fatalf("a read of %s, want %s", id, want)
			}
		case <-time.After(within):
			t.Fatalf("no read of %s", want)
		}
	}

	for _, action := range []string{"die", "stop", "die", "stop"} {
		reads.after(stateless("a", action))
	}
	expect(api.reading, "a")
	select {
	case id := <-api.reading:
		t.Fatalf("a second read of %s began while the first was in flight", id)
	default:
	}
	if len(reads.inflight) != 1 || !reads.again["a"] {
		t.Fatalf("in flight %v, again %v: want one read of a, and one more asked for", reads.inflight, reads.again)
	}

	// The first read comes back stale (three events went out after the one
	// it was made for) and the one more read begins.
	api.gates["a"] <- struct{}{}
	first := <-out
	expect(api.read, "a")
	if reads.current(first) {
		t.Error("a read made before later events of its container was applied")
	}
	expect(api.reading, "a")
	api.gates["a"] <- struct{}{}
	second := <-out
	expect(api.read, "a")
	if !reads.current(second) || second.container == nil {
		t.Errorf("the read made after the last event was not applied: %+v", second)
	}
	if len(reads.inflight) != 0 || len(reads.again) != 0 {
		t.Errorf("after the reads: in flight %v, again %v; want nothing", reads.inflight, reads.again)
	}

	// A destroy cancels its container's read: the engine's call returns
	// without the gate ever opening.
	reads.after(stateless("b", "die"))
	expect(api.reading, "b")
	reads.after(model.Event{Type: model.EventContainer, Action: "destroy", ActorID: "b"})
	expect(api.read, "b")
	if len(reads.inflight) != 0 {
		t.Errorf("after the destroy: in flight %v, want nothing", reads.inflight)
	}
}
