package docker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/topo-dev/topo/model"
)

// gatedAPI is an engine whose event stream the test feeds and whose
// container reads each wait for the test to release them.
type gatedAPI struct {
	engineAPI // nil: a call the test did not plan for panics
	msgs      chan events.Message
	errs      chan error
	gates     map[string]chan struct{}
	reading   chan string // a read has begun
	read      chan string // a read has returned
}

func (g *gatedAPI) Events(context.Context, events.ListOptions) (<-chan events.Message, <-chan error) {
	return g.msgs, g.errs
}

func (g *gatedAPI) ContainerList(context.Context, container.ListOptions) ([]container.Summary, error) {
	return nil, nil
}

func (g *gatedAPI) NetworkList(context.Context, network.ListOptions) ([]network.Summary, error) {
	return nil, nil
}

func (g *gatedAPI) VolumeList(context.Context, volume.ListOptions) (volume.ListResponse, error) {
	return volume.ListResponse{}, nil
}

func (g *gatedAPI) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	g.reading <- id
	defer func() { g.read <- id }()
	select {
	case <-g.gates[id]:
	case <-ctx.Done():
		return container.InspectResponse{}, ctx.Err()
	}
	return container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{ID: id, Name: "/" + id, State: &container.State{Status: "running", Running: true}},
		Config:            &container.Config{},
		NetworkSettings:   &container.NetworkSettings{},
	}, nil
}

// Regression: each event's container was read only after the previous
// event's read returned, so in a burst on a loaded engine the reads added
// up and the model fell 13 s behind the engine (scripts/faults.sh, 800
// events). The reads of a burst must be under way together, and the
// events still reach the model in the engine's order, whichever read
// returns first.
func TestWatchReadsABurstTogetherAndKeepsItsOrder(t *testing.T) {
	ids := []string{"c0", "c1", "c2"}
	g := &gatedAPI{
		msgs: make(chan events.Message), errs: make(chan error),
		gates:   map[string]chan struct{}{},
		reading: make(chan string, len(ids)), read: make(chan string, len(ids)),
	}
	for _, id := range ids {
		g.gates[id] = make(chan struct{})
	}
	out, next := watchGated(t, g)
	for i, id := range ids {
		// An unpause is read before it goes out (a start is not: see
		// TestWatchSendsAStartBeforeItsRead).
		g.msgs <- events.Message{Type: events.ContainerEventType, Action: events.ActionUnPause,
			Actor: events.Actor{ID: id, Attributes: map[string]string{"name": id}}, TimeNano: int64(i + 1)}
	}
	// Every read begins while none has returned: one after another, the
	// second would wait for the first's gate.
	began := map[string]bool{}
	for range ids {
		select {
		case id := <-g.reading:
			began[id] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("reads under way: %v; the others wait for them", began)
		}
	}
	// The later reads return first; nothing may leave before c0.
	for _, id := range []string{"c2", "c1"} {
		close(g.gates[id])
		if got := <-g.read; got != id {
			t.Fatalf("read of %s returned, want %s", got, id)
		}
	}
	select {
	case u := <-out:
		t.Fatalf("an event left before the first event's read returned: %+v", u.Event)
	default:
	}
	close(g.gates["c0"])
	for _, want := range ids {
		u := next(fmt.Sprintf("event of %s", want))
		if u.Event == nil || u.Event.ActorID != want {
			t.Fatalf("got %+v, want the event of %s", u, want)
		}
		if u.Event.Container == nil || u.Event.Container.State != model.StateRunning {
			t.Errorf("event of %s without its container's state", want)
		}
	}
}

// A start goes out as the event says it (running) without waiting for
// its container's read, which the engine answers only once it lets go of
// the container; the read then follows as a refresh of the same
// container.
func TestWatchSendsAStartBeforeItsRead(t *testing.T) {
	g := &gatedAPI{
		msgs: make(chan events.Message), errs: make(chan error),
		gates:   map[string]chan struct{}{"c0": make(chan struct{})},
		reading: make(chan string, 4), read: make(chan string, 4),
	}
	_, next := watchGated(t, g)
	g.msgs <- events.Message{Type: events.ContainerEventType, Action: events.ActionStart,
		Actor: events.Actor{ID: "c0", Attributes: map[string]string{"name": "c0"}}, TimeNano: 1}
	// The gate is shut: only an event that did not wait for the read
	// can arrive.
	u := next("start event")
	if u.Event == nil || u.Event.BaseAction() != "start" || u.Event.Container != nil {
		t.Fatalf("got %+v, want the start event without its container's state", u)
	}
	close(g.gates["c0"])
	u = next("the start's read, as a refresh")
	if u.Refresh == nil || u.Refresh.ID != "c0" || u.Refresh.State != model.StateRunning {
		t.Fatalf("got %+v, want a refresh of c0, running", u)
	}
}

// watchGated runs a watch of g until the test ends and takes its
// snapshot; next waits for the following update.
func watchGated(t *testing.T, g *gatedAPI) (<-chan model.Update, func(what string) model.Update) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	out := make(chan model.Update, 8)
	go (&Engine{api: g}).Watch(ctx, out)
	next := func(what string) model.Update {
		t.Helper()
		select {
		case u := <-out:
			return u
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s within 10 s", what)
		}
		return model.Update{}
	}
	if u := next("snapshot"); u.Snapshot == nil {
		t.Fatalf("first update is not the snapshot: %+v", u)
	}
	return out, next
}
