package registry

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/topo-dev/topo/model"
)

// Options tune a watch. The zero value gives the defaults, which are what
// topo uses; tests and benchmarks shorten some.
type Options struct {
	// Coalesce is how long a change waits for others before a snapshot is
	// sent, so that a burst (a deploy registering 20 instances) becomes one
	// redraw. Default 30 ms.
	Coalesce time.Duration
	// MinInterval is the least time between two calls of one watcher.
	// Default 100 ms.
	MinInterval time.Duration
	// WaitTime bounds each blocking query. Default 60 s.
	WaitTime time.Duration
	// MaxBackoff caps the retry delay of the catalog watcher, which is the
	// one probing a Consul that is down; it bounds how late topo notices
	// that Consul is back. Default 1 s.
	MaxBackoff time.Duration
}

func (o Options) withDefaults() Options {
	if o.Coalesce <= 0 {
		o.Coalesce = 30 * time.Millisecond
	}
	if o.MinInterval <= 0 {
		o.MinInterval = 100 * time.Millisecond
	}
	if o.WaitTime <= 0 {
		o.WaitTime = 60 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Second
	}
	return o
}

const (
	// serviceMaxBackoff caps a service watcher's retries. It may be long:
	// when Consul comes back, the catalog watcher's reconnect wakes every
	// service watcher at once.
	serviceMaxBackoff = 5 * time.Second
	// maxHold bounds how long a snapshot waits for the first answer of a
	// service that just appeared, so a new service shows with its
	// instances rather than empty for a moment, and a failing one still
	// shows.
	maxHold = 250 * time.Millisecond
	// connectTimeout bounds the leader and agent/self calls.
	connectTimeout = 5 * time.Second
)

// Watch keeps the registry at target under watch until ctx ends. The
// returned channel delivers complete snapshots: a new one after each change
// (coalesced), and when an error starts, changes or ends. A reader that
// falls behind only misses intermediate snapshots: the channel holds the
// latest. It is closed once ctx has ended and every goroutine of the watch
// has returned.
//
// Watch fails only when no client can be built for the address; a Consul
// that is down or refuses is reported in the snapshots and retried.
func Watch(ctx context.Context, target Target, opts Options) (<-chan model.Registry, error) {
	client, closeIdle, hasToken, err := newClient(target, true)
	if err != nil {
		return nil, err
	}
	w := newWatcher(apiOf(client), target, opts)
	w.hasToken = hasToken
	w.tokenWithheld = target.TokenWithheld()
	go func() {
		w.run(ctx)
		closeIdle()
	}()
	return w.out, nil
}

// agentInfo is what topo reads once per (re)connect.
type agentInfo struct {
	leader, datacenter string
}

// update is one message from a watcher goroutine to the aggregator.
type update struct {
	catalog *result[map[string][]string]
	// service and id name the service watcher; id tells a cancelled
	// watcher's late message from its successor's.
	service string
	id      int
	health  *result[[]model.Instance]
	info    *agentInfo
}

type serviceWatch struct {
	id        int
	cancel    context.CancelFunc
	instances []model.Instance
	index     uint64
	have      bool
	err       error
}

// watcher is one watch: a catalog watcher, one watcher per service, and the
// aggregator goroutine that owns all the state below and builds snapshots.
type watcher struct {
	api      consulAPI
	target   Target
	opts     Options
	kick     *signal
	hasToken bool
	// tokenWithheld: the environment has a token that this agent, found
	// rather than named, is not sent; a refusal then says so.
	tokenWithheld bool

	updates chan update
	out     chan model.Registry
	wg      sync.WaitGroup

	// Owned by the aggregator (run).
	catalog      map[string][]string
	catalogIndex uint64
	catalogErr   error
	services     map[string]*serviceWatch
	nextID       int
	info         agentInfo
	errSince     time.Time
	lastOK       time.Time
	lastError    string
	published    bool
}

func newWatcher(c consulAPI, target Target, opts Options) *watcher {
	return &watcher{
		api:      c,
		target:   target,
		opts:     opts.withDefaults(),
		kick:     newSignal(),
		updates:  make(chan update),
		out:      make(chan model.Registry, 1),
		services: map[string]*serviceWatch{},
	}
}

func (w *watcher) run(ctx context.Context) {
	defer close(w.out)
	catalog := &blocking[map[string][]string]{
		minInterval: w.opts.MinInterval,
		waitTime:    w.opts.WaitTime,
		maxBackoff:  w.opts.MaxBackoff,
		fetch: func(q *api.QueryOptions) (map[string][]string, *api.QueryMeta, error) {
			services, meta, err := w.api.catalog.Services(q)
			for _, tags := range services {
				sort.Strings(tags)
			}
			return services, meta, err
		},
		equal:   func(a, b map[string][]string) bool { return maps.EqualFunc(a, b, slices.Equal) },
		connect: w.connect,
		send: func(ctx context.Context, r result[map[string][]string]) bool {
			return w.send(ctx, update{catalog: &r})
		},
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		catalog.run(ctx)
	}()

	var (
		timer      *time.Timer
		fire       <-chan time.Time
		dirtySince time.Time
		stopTimer  = func() {
			if timer != nil {
				timer.Stop()
			}
		}
	)
	defer stopTimer()
	for {
		select {
		case <-ctx.Done():
			// Every watcher's context derives from ctx, and every send
			// gives up when it ends, so this wait is short.
			for _, s := range w.services {
				s.cancel()
			}
			w.wg.Wait()
			return
		case u := <-w.updates:
			if !w.apply(ctx, u) || fire != nil {
				continue
			}
			dirtySince = time.Now()
			if timer == nil {
				timer = time.NewTimer(w.opts.Coalesce)
			} else {
				timer.Reset(w.opts.Coalesce)
			}
			fire = timer.C
		case <-fire:
			if w.pending() && time.Since(dirtySince) < maxHold {
				timer.Reset(w.opts.Coalesce)
				continue
			}
			fire = nil
			w.publish(w.snapshot())
		}
	}
}

// send hands an update to the aggregator unless ctx (the watcher's) ends.
func (w *watcher) send(ctx context.Context, u update) bool {
	select {
	case w.updates <- u:
		return true
	case <-ctx.Done():
		return false
	}
}

// connect reads leader and datacenter, once per (re)connect of the catalog
// watcher, and wakes the service watchers out of their backoff.
func (w *watcher) connect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	q := (&api.QueryOptions{}).WithContext(ctx)
	leader, err := w.api.status.LeaderWithQueryOptions(q)
	if err != nil {
		return err
	}
	var self struct {
		Config struct{ Datacenter string }
	}
	// agent/self needs agent:read, which a catalog-reading token may lack:
	// then the datacenter stays unknown, and nothing else suffers.
	if _, err := w.api.raw.Query("/v1/agent/self", &self, q); err != nil && !isPermission(err) {
		return err
	}
	if !w.send(ctx, update{info: &agentInfo{leader: leader, datacenter: self.Config.Datacenter}}) {
		return ctx.Err()
	}
	w.kick.fire()
	return nil
}

// apply folds an update into the state and reports whether a snapshot is
// due.
func (w *watcher) apply(ctx context.Context, u update) bool {
	before := w.errorText()
	changed := false
	switch {
	case u.info != nil:
		changed = *u.info != w.info
		w.info = *u.info
	case u.catalog != nil:
		r := u.catalog
		if r.err != nil {
			w.catalogErr = explain("the catalog", w.target.Addr, r.err)
			break
		}
		w.catalogErr = nil
		switch {
		case r.filtered:
			w.catalogErr = hidden("the catalog", w.target.Addr, "some entries hidden by ACLs")
		case r.denyByDefault && !w.hasToken && len(r.value) == 0:
			// Consul 1.14 does not flag a filtered catalog; an agent
			// always lists itself as service consul, so an empty
			// catalog under default-deny without a token is hidden.
			why := "ACLs deny by default and no token is set"
			if w.tokenWithheld {
				why = "ACLs deny by default and no token is sent"
			}
			w.catalogErr = hidden("the catalog", w.target.Addr, why)
		}
		w.lastOK = time.Now()
		w.catalogIndex = r.index
		if r.changed {
			w.catalog = r.value
			w.reconcile(ctx)
			changed = true
		}
	case u.health != nil:
		s, ok := w.services[u.service]
		if !ok || s.id != u.id {
			return false
		}
		r := u.health
		if r.err != nil {
			s.err = explain(fmt.Sprintf("the health of service %q", u.service), w.target.Addr, r.err)
			break
		}
		s.err = nil
		if r.filtered {
			s.err = hidden(fmt.Sprintf("the health of service %q", u.service), w.target.Addr, "some entries hidden by ACLs")
		}
		w.lastOK = time.Now()
		s.index = r.index
		if r.changed || !s.have {
			s.instances, s.have = r.value, true
			changed = true
		}
	}
	after := w.errorText()
	if after != "" && before == "" {
		w.errSince = time.Now()
	}
	return changed || after != before || (!w.published && after != "")
}

// reconcile starts a watcher for each new service of the catalog and stops
// the watchers of services that left it.
func (w *watcher) reconcile(ctx context.Context) {
	for name, s := range w.services {
		if _, ok := w.catalog[name]; !ok {
			s.cancel()
			delete(w.services, name)
		}
	}
	for name := range w.catalog {
		if _, ok := w.services[name]; !ok {
			w.startService(ctx, name)
		}
	}
}

func (w *watcher) startService(ctx context.Context, name string) {
	ctx, cancel := context.WithCancel(ctx)
	w.nextID++
	id := w.nextID
	w.services[name] = &serviceWatch{id: id, cancel: cancel}
	b := &blocking[[]model.Instance]{
		minInterval: w.opts.MinInterval,
		waitTime:    w.opts.WaitTime,
		maxBackoff:  max(serviceMaxBackoff, w.opts.MaxBackoff),
		kick:        w.kick,
		fetch: func(q *api.QueryOptions) ([]model.Instance, *api.QueryMeta, error) {
			entries, meta, err := w.api.health.Service(name, "", false, q)
			if err != nil {
				return nil, nil, err
			}
			return toInstances(entries), meta, nil
		},
		equal: func(a, b []model.Instance) bool { return reflect.DeepEqual(a, b) },
		send: func(ctx context.Context, r result[[]model.Instance]) bool {
			return w.send(ctx, update{service: name, id: id, health: &r})
		},
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		b.run(ctx)
	}()
}

// pending reports whether a service has appeared and not answered yet.
func (w *watcher) pending() bool {
	for _, s := range w.services {
		if !s.have && s.err == nil {
			return true
		}
	}
	return false
}
