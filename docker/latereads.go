package docker

import (
	"context"
	"time"

	"github.com/topo-dev/topo/model"
)

// lateReadTimeout bounds a late read: long enough for the engine to
// finish the start or stop that held the container, short enough that a
// stuck engine does not keep goroutines.
const lateReadTimeout = 10 * time.Second

// lateRead is a container's state read after its event went without.
type lateRead struct {
	id        string
	seq       uint64
	container *model.Container
}

// lateReads keeps at most one late read per container in flight. A burst
// of events without state (a mass removal on a loaded engine: die,
// disconnect and stop of hundreds of containers, each read timing out)
// used to start a read per event, each holding a request and a goroutine
// for up to lateReadTimeout; now a container's later events only ask for
// one more read once the one in flight is back, and its destroy cancels it.
// Used by the stream loop's goroutine only.
type lateReads struct {
	engine *Engine
	ctx    context.Context
	out    chan<- lateRead
	// seq counts each container's events: a read is applied only if no
	// event of its container went out after the one it was made for.
	seq      map[string]uint64
	inflight map[string]context.CancelFunc
	again    map[string]bool
}

func newLateReads(e *Engine, ctx context.Context, out chan<- lateRead) *lateReads {
	return &lateReads{engine: e, ctx: ctx, out: out, seq: map[string]uint64{},
		inflight: map[string]context.CancelFunc{}, again: map[string]bool{}}
}

// after notes an event that went out, and reads its container late when
// the event carried no state.
func (l *lateReads) after(ev model.Event) {
	if ev.Type == model.EventContainer && ev.BaseAction() == "destroy" {
		if cancel, ok := l.inflight[ev.ActorID]; ok {
			cancel()
			delete(l.inflight, ev.ActorID)
		}
		delete(l.again, ev.ActorID)
		delete(l.seq, ev.ActorID)
		return
	}
	id := stateOf(ev)
	if id == "" {
		return
	}
	l.seq[id]++
	if ev.Container != nil {
		return
	}
	if _, busy := l.inflight[id]; busy {
		l.again[id] = true
		return
	}
	l.start(id)
}

func (l *lateReads) start(id string) {
	ctx, cancel := context.WithCancel(l.ctx)
	l.inflight[id] = cancel
	go l.engine.readLate(ctx, id, l.seq[id], l.out)
}

// current takes a finished read back, starts the one its container's
// later events asked for, and says whether r is still the newest word on
// its container.
func (l *lateReads) current(r lateRead) bool {
	if cancel, ok := l.inflight[r.id]; ok {
		cancel()
		delete(l.inflight, r.id)
	}
	if l.again[r.id] {
		delete(l.again, r.id)
		l.start(r.id)
		return false
	}
	s, known := l.seq[r.id]
	return known && s == r.seq
}

// stateOf names the container whose state an event's read would carry,
// or "" for an event that carries none by design (a destroy, a kill, a
// network's own events).
func stateOf(ev model.Event) string {
	switch {
	case ev.Type == model.EventContainer && ev.BaseAction() != "destroy" && ev.BaseAction() != "kill":
		return ev.ActorID
	case ev.Type == model.EventNetwork && (ev.BaseAction() == "connect" || ev.BaseAction() == "disconnect"):
		return ev.Attributes["container"]
	}
	return ""
}

// readLate reads container id and hands the result to the stream loop,
// unless the stream ended meanwhile.
func (e *Engine) readLate(ctx context.Context, id string, seq uint64, out chan<- lateRead) {
	rctx, cancel := context.WithTimeout(ctx, lateReadTimeout)
	defer cancel()
	r := lateRead{id: id, seq: seq}
	if c, err := e.api.ContainerInspect(rctx, id); err == nil {
		mc := fromInspect(c)
		e.keyByNetworkID(rctx, &mc)
		r.container = &mc
	}
	select {
	case out <- r:
	case <-ctx.Done():
	}
}
