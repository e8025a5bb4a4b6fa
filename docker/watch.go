package docker

import (
	"context"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/topo-dev/topo/model"
)

// watchedEvents are the engine events that change the lanes; the rest
// (exec, attach, top...) would only cost inspections.
var watchedEvents = map[events.Type][]string{
	events.ContainerEventType: {"create", "start", "restart", "die", "kill", "stop", "destroy", "remove", "rename", "pause", "unpause", "health_status", "update"},
	events.NetworkEventType:   {"create", "destroy", "connect", "disconnect"},
	events.VolumeEventType:    {"create", "destroy", "mount", "unmount"},
}

// Backoff bounds for reconnecting to the event stream.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Watch follows the engine until ctx ends: it subscribes to events, then
// reads a full snapshot, then forwards each event enriched with the current
// state of its object. When the stream breaks it reports Lost, retries with
// capped exponential backoff, and on success resubscribes with `since` set
// to the last event seen (so the event log misses nothing) and resyncs. The
// channel is closed when Watch returns.
func (e *Engine) Watch(ctx context.Context, out chan<- model.Update) {
	defer close(out)
	send := func(u model.Update) bool {
		select {
		case out <- u:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var since time.Time
	backoff := minBackoff
	for ctx.Err() == nil {
		err := e.stream(ctx, &since, send, &backoff)
		if ctx.Err() != nil {
			return
		}
		retry := time.Now().Add(backoff)
		if !send(model.Update{Lost: err, Retry: retry}) {
			return
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// stream runs one connection of the event stream and returns why it ended.
func (e *Engine) stream(ctx context.Context, last *time.Time, send func(model.Update) bool, backoff *time.Duration) error {
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Subscribe before listing: an event that lands between the two is
	// then both in the snapshot and on the stream, and applying it twice
	// is harmless, where missing it would not be.
	msgs, errs := e.api.Events(streamCtx, eventOptions(last))
	topo, err := e.Sync(streamCtx)
	if err != nil {
		return err
	}
	if !send(model.Update{Snapshot: &topo}) {
		return ctx.Err()
	}
	*backoff = minBackoff
	var streamErr error
	pending := e.readAhead(streamCtx, msgs, errs, &streamErr)
	return e.forward(ctx, streamCtx, pending, &streamErr, last, send)
}

// eventOptions asks for the events topo follows, from where the last
// connection left off.
func eventOptions(last *time.Time) events.ListOptions {
	f := filters.NewArgs()
	for typ, actions := range watchedEvents {
		f.Add("type", string(typ))
		for _, a := range actions {
			f.Add("event", a)
		}
	}
	opts := events.ListOptions{Filters: f}
	if !last.IsZero() {
		opts.Since = strconv.FormatInt(last.Unix(), 10)
	} else {
		// Nothing seen yet: a break before the first event must still
		// resume from here, or the events of the gap never reach the
		// log. (The local clock stands in for the engine's; a second's
		// overlap only replays events, which Apply tolerates.)
		*last = time.Now().Add(-time.Second)
	}
	return opts
}

// readAhead starts each event's read of its container at once, beside
// the reads of the events before it, and hands the reads on in the
// engine's order. Read one after another, a burst queued behind them:
// measured with ~20 events a second on a loaded engine
// (scripts/faults.sh), each read near its bound put the model 13 s behind
// the engine. Now an event waits for no read but its own and those of
// earlier events still running. The last event of a container is read
// after it happened, so whatever order the reads finish in, the model ends
// current. The channel closes when the stream ends; *streamErr says why,
// written before the close.
func (e *Engine) readAhead(ctx context.Context, msgs <-chan events.Message, errs <-chan error, streamErr *error) <-chan chan model.Event {
	pending := make(chan chan model.Event, enrichInFlight)
	go func() {
		defer close(pending)
		for {
			select {
			case m := <-msgs:
				done := make(chan model.Event, 1)
				select {
				case pending <- done: // full: the reads in flight set the pace
				case <-ctx.Done():
					return
				}
				go func() { done <- e.enrich(ctx, m) }()
			case err := <-errs:
				if err == nil {
					err = errStreamClosed
				}
				*streamErr = e.explainIfDown(err)
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return pending
}

// forward sends each event as its read completes, in the engine's order,
// and the late reads of events that went without state. It returns why
// the stream ended.
func (e *Engine) forward(ctx, streamCtx context.Context, pending <-chan chan model.Event, streamErr *error, last *time.Time, send func(model.Update) bool) error {
	// An event whose read timed out goes without state; its container is
	// then read again off the stream, with a longer bound, and the result
	// applied only if no newer event of that container went out meanwhile
	// (it carried its own state, or scheduled its own late read). Without
	// it, a connect on a loaded engine left its lane's address empty for
	// good: no later event carries it.
	late := make(chan lateRead)
	reads := newLateReads(e, streamCtx, late)
	refresh := func(r lateRead) bool {
		if !reads.current(r) || r.container == nil {
			return true
		}
		return send(model.Update{Refresh: r.container})
	}
	for {
		var done chan model.Event
		select {
		case d, ok := <-pending:
			if !ok {
				// streamErr was written before pending closed.
				if *streamErr != nil {
					return *streamErr
				}
				return ctx.Err()
			}
			done = d
		case r := <-late:
			if !refresh(r) {
				return ctx.Err()
			}
			continue
		case <-ctx.Done():
			return ctx.Err()
		}
		ev, ok := e.awaitRead(ctx, done, late, refresh)
		if !ok {
			return ctx.Err()
		}
		if ev.Time.After(*last) {
			*last = ev.Time
		}
		reads.after(ev)
		if !send(model.Update{Event: &ev}) {
			return ctx.Err()
		}
	}
}

// awaitRead waits for one event's read, handing on the late reads that
// arrive meanwhile; false when ctx ended or a send failed.
func (e *Engine) awaitRead(ctx context.Context, done <-chan model.Event, late <-chan lateRead, refresh func(lateRead) bool) (model.Event, bool) {
	for {
		select {
		case ev := <-done:
			return ev, true
		case r := <-late:
			if !refresh(r) {
				return model.Event{}, false
			}
		case <-ctx.Done():
			return model.Event{}, false
		}
	}
}

// enrichInFlight bounds the events read at once: enough for a burst whose
// reads each wait their full bound (1 s for a disconnect) at a few dozen
// events a second, without a read per event of a storm.
const enrichInFlight = 64

type streamError string

func (e streamError) Error() string { return string(e) }

const errStreamClosed = streamError("the engine closed the event stream")

// enrichTimeout bounds the read of an event's container. The engine holds
// a container's lock while it starts, restarts or reaps it, and an inspect
// waits for that lock: unbounded, one such read held every later event for
// the whole operation (0.3-0.6 s on a small machine). Past the bound the
// event goes without state, which Apply handles, and a later event of the
// same operation (start, die, stop) carries it.
const enrichTimeout = 100 * time.Millisecond

// disconnectTimeout is longer: the engine disconnects a stopping container
// yet keeps it configured on the network, only the read tells the two
// apart, and it must wait for the engine to finish reaping the container.
const disconnectTimeout = time.Second

// enrich turns an SDK event into a model event carrying the fresh state of
// the container or network it names, so the model can apply it exactly. A
// failed read (the object vanished since) leaves the state out and the
// model applies what the event itself says.
func (e *Engine) enrich(ctx context.Context, m events.Message) model.Event {
	m = fromPodmanEvent(m)
	ev := model.Event{
		Time: time.Unix(0, m.TimeNano), Type: string(m.Type), Action: string(m.Action),
		ActorID: m.Actor.ID, Attributes: m.Actor.Attributes,
	}
	if m.TimeNano == 0 {
		ev.Time = time.Unix(m.Time, 0)
	}
	inspect := func(id string, bound time.Duration) {
		ctx, cancel := context.WithTimeout(ctx, bound)
		defer cancel()
		if c, err := e.api.ContainerInspect(ctx, id); err == nil {
			mc := fromInspect(c)
			e.keyByNetworkID(ctx, &mc)
			ev.Container = &mc
		}
	}
	switch m.Type {
	case events.ContainerEventType:
		switch ev.BaseAction() {
		case "destroy", "kill":
			// A kill changes nothing the lanes show (die follows, with the
			// exit code), and its inspect would wait for the process to die.
		case "start", "die":
			// The event says what the lanes show first (running; exited
			// with its code), and goes out at once: the engine holds the
			// container's lock around both for tens of milliseconds more
			// (measured: a start's inspect answered 105 ms after the event
			// on a loaded engine), and every later event waited behind
			// the read. The read follows as a late read (latereads.go),
			// which fills in addresses and health.
		default:
			inspect(m.Actor.ID, enrichTimeout)
		}
	case events.NetworkEventType:
		switch ev.BaseAction() {
		case "create":
			if n, err := e.api.NetworkInspect(ctx, m.Actor.ID, network.InspectOptions{}); err == nil {
				mn := fromNetwork(n)
				ev.Network = &mn
			}
		case "connect":
			inspect(m.Actor.Attributes["container"], enrichTimeout)
			if ev.Container == nil {
				ev.Container = e.listed(ctx, m.Actor.Attributes["container"], m.Actor.ID)
			}
		case "disconnect":
			inspect(m.Actor.Attributes["container"], disconnectTimeout)
		}
	case events.VolumeEventType:
		// Mount and unmount say all the model needs in their attributes;
		// only a create brings a volume whose labels and driver the lane
		// shows.
		if ev.BaseAction() == "create" {
			ev.Volume = e.inspectVolume(ctx, m.Actor.ID)
		}
	}
	return ev
}

// listed reads a container from the engine's list, which never waits for
// the container's lock but may lag the event. A connect to a running
// container is the last event of its change, so when its inspect timed out
// only this read can bring the new address; it is used only if it already
// shows that address.
func (e *Engine) listed(ctx context.Context, containerID, networkID string) *model.Container {
	list, err := e.api.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("id", containerID))})
	if err != nil || len(list) != 1 {
		return nil
	}
	c := fromSummary(list[0])
	e.keyByNetworkID(ctx, &c)
	if ep, ok := c.Endpoints[networkID]; !ok || ep.IP() == "" {
		return nil
	}
	return &c
}
