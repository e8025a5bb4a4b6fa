package docker

import (
	"context"
	"errors"
	"reflect"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/topo-dev/topo/model"
)

// sameCluster compares what a snapshot shows, not how it was delivered.
func sameCluster(a, b model.Cluster) bool {
	a.Events, a.Stale, a.Retry = nil, nil, time.Time{}
	b.Events, b.Stale, b.Retry = nil, nil, time.Time{}
	return reflect.DeepEqual(a, b)
}

// Watch follows the cluster until ctx ends, sending a snapshot after the
// first read and after every change. Node, service, network, secret and
// config events re-read what they touch; tasks have no events of their
// own, so node and service events re-list them too, as do start and die
// of a task container on the manager's own node. While some service
// converges the tasks are re-listed on a timer (see ReconcileEvery);
// otherwise the only request open is the event stream, so an idle cluster
// costs no requests at all. When the manager stops answering, Watch sends
// the last snapshot with Stale set, reconnects with capped backoff and
// re-reads everything.
//
// Watch returns ErrSwarmWorker or ErrNotSwarm at once when the engine is
// not a manager; otherwise it returns nil when ctx ends. It closes out.
func (s *Swarm) Watch(ctx context.Context, out chan<- model.Cluster) error {
	defer close(out)
	if _, err := s.role(ctx); errors.Is(err, ErrSwarmWorker) || errors.Is(err, ErrNotSwarm) {
		return err
	}
	send := func(c model.Cluster) bool {
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var last model.Cluster
	backoff := minBackoff
	for ctx.Err() == nil {
		err := s.session(ctx, &last, send, &backoff)
		if ctx.Err() != nil {
			return nil
		}
		stale := last
		stale.Events, stale.Stale, stale.Retry = nil, err, time.Now().Add(backoff)
		if !send(stale) {
			return nil
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil
		}
		backoff = min(backoff*2, maxBackoff)
	}
	return nil
}

// watchedSwarmEvents are the event types the cluster view follows;
// container events matter only for swarm tasks on the manager's node.
var watchedSwarmEvents = []events.Type{
	events.NodeEventType, events.ServiceEventType, events.NetworkEventType,
	events.SecretEventType, events.ConfigEventType, events.ContainerEventType,
}

const labelTaskID = model.LabelSwarmTaskID

// session runs one connection: subscribe, read everything, then follow.
func (s *Swarm) session(ctx context.Context, last *model.Cluster, send func(model.Cluster) bool, backoff *time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	info, err := s.role(ctx)
	if err != nil {
		return err
	}
	f := filters.NewArgs()
	for _, t := range watchedSwarmEvents {
		f.Add("type", string(t))
	}
	// Subscribe before reading, so a change between the two is both in
	// the read and on the stream: re-reading it is harmless, missing it
	// would leave the screen wrong until the next event.
	msgs, errs := s.api.Events(ctx, events.ListOptions{Filters: f})
	cl, err := s.read(ctx, info, allParts)
	if err != nil {
		return err
	}
	if !send(cl) {
		return ctx.Err()
	}
	*last = cl
	*backoff = minBackoff
	fw := &swarmFollow{s: s, ctx: ctx, cl: cl, last: last, send: send, interval: s.ReconcileEvery, lastChange: time.Now()}
	fw.arm()
	for {
		select {
		case m := <-msgs:
			fw.note(m)
		case <-fw.coalesce:
			fw.coalesce = nil
			which := fw.dirty
			fw.dirty = 0
			if err := fw.refresh(which); err != nil {
				return err
			}
		case <-fw.reconcile:
			if err := fw.refresh(partTasks); err != nil {
				return err
			}
		case err := <-errs:
			if err == nil {
				err = errStreamClosed
			}
			return s.explainIfDown(err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// swarmFollow is what a session keeps between events: the cluster as last
// sent, what events made stale, and when to look again.
type swarmFollow struct {
	s    *Swarm
	ctx  context.Context
	cl   model.Cluster
	last *model.Cluster
	send func(model.Cluster) bool

	dirty     parts
	pending   []model.SwarmEvent
	coalesce  <-chan time.Time
	reconcile <-chan time.Time
	interval  time.Duration
	// lastChange is when a refresh last found something new: a
	// convergence that still moves is followed closely.
	lastChange time.Time
	// followUntil keeps re-listing for a while after a task's container
	// started or died here (see taskFollowFor).
	followUntil time.Time
}

// note takes an event: what it makes stale is read again once the
// coalescing window closes.
func (f *swarmFollow) note(m events.Message) {
	which, ev := classifySwarmEvent(m)
	if ev != nil {
		f.pending = append(f.pending, *ev)
	}
	if m.Type == events.ContainerEventType && which != 0 {
		f.followUntil = time.Now().Add(taskFollowFor)
	}
	f.dirty |= which
	if f.dirty != 0 && f.coalesce == nil {
		f.coalesce = time.After(coalesceWindow)
	}
}

// arm sets the reconcile timer: closely while the cluster converges and
// still moves, backing off while it converges without moving, and not at
// all when it is settled (unless a task's container just changed here).
func (f *swarmFollow) arm() {
	f.reconcile = nil
	if !f.cl.Converging() {
		f.interval = f.s.ReconcileEvery
		if time.Now().Before(f.followUntil) {
			f.reconcile = time.After(f.interval)
		}
		return
	}
	if time.Since(f.lastChange) < f.s.ReconcilePatience {
		f.interval = f.s.ReconcileEvery
	} else {
		f.interval = min(f.interval*2, f.s.ReconcileMax)
	}
	f.reconcile = time.After(f.interval)
}

// refresh re-reads which, sends the result when it differs (or when there
// are events to report) and re-arms the reconcile timer.
func (f *swarmFollow) refresh(which parts) error {
	next, err := f.s.readInto(f.ctx, f.cl, which)
	if err != nil {
		return err
	}
	changed := !sameCluster(f.cl, next)
	next.Events, f.pending = f.s.ownEvents(f.pending), nil
	if changed || len(next.Events) > 0 {
		if !f.send(next) {
			return f.ctx.Err()
		}
	}
	if changed {
		f.lastChange = time.Now()
	}
	f.cl = next
	*f.last = f.cl
	f.arm()
	return nil
}

// classifySwarmEvent says which lists an event makes stale, and turns a
// cluster event into the model's form for the event log.
func classifySwarmEvent(m events.Message) (parts, *model.SwarmEvent) {
	ev := &model.SwarmEvent{Type: string(m.Type), Action: string(m.Action), ActorID: m.Actor.ID, Attributes: m.Actor.Attributes}
	ev.Time = time.Unix(0, m.TimeNano)
	if m.TimeNano == 0 {
		ev.Time = time.Unix(m.Time, 0)
	}
	switch m.Type {
	case events.NodeEventType:
		return partNodes | partTasks, ev
	case events.ServiceEventType:
		return partServices | partTasks, ev
	case events.NetworkEventType:
		if m.Scope != "swarm" {
			return 0, nil
		}
		return partNetworks, ev
	case events.SecretEventType:
		return partSecrets, ev
	case events.ConfigEventType:
		return partConfigs, ev
	case events.ContainerEventType:
		if m.Actor.Attributes[labelTaskID] == "" {
			return 0, nil
		}
		switch m.Action {
		case events.ActionStart, events.ActionDie:
			return partTasks, nil
		}
	}
	return 0, nil
}
