package registry

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
)

// result is one outcome of a blocking query, sent to the aggregator.
type result[T any] struct {
	value   T
	index   uint64
	changed bool // value differs from the last one sent
	// filtered says ACLs hid part of the answer: with no token Consul
	// answers a catalog read with an empty list, not a 403.
	filtered bool
	// denyByDefault says the agent's ACL default policy is deny: with no
	// token, an empty answer then means "hidden", not "nothing there".
	denyByDefault bool
	err           error
}

// blocking runs one watcher: a loop of blocking queries on one endpoint,
// following consul-template's rules (watch/view.go):
//   - the query carries the last index and the caller's context;
//   - the same index back means no change;
//   - an index that went backwards (a new agent, a restored snapshot) resets
//     to 0 and the data is read again;
//   - a result equal to the last one is dropped;
//   - calls are at least minInterval apart, so a busy endpoint cannot turn
//     the watcher into a hot loop;
//   - errors back off exponentially up to maxBackoff.
type blocking[T any] struct {
	minInterval time.Duration
	waitTime    time.Duration
	maxBackoff  time.Duration
	// fetch performs the query.
	fetch func(q *api.QueryOptions) (T, *api.QueryMeta, error)
	equal func(a, b T) bool
	// connect, when set, runs before the first query and again after every
	// failure (the catalog watcher reads leader and datacenter there).
	connect func(ctx context.Context) error
	// kick, when set, cuts a backoff short: it fires when the catalog
	// watcher reconnects, so a service watcher resumes at once rather than
	// at the end of its own longer backoff.
	kick *signal
	// send hands a result to the aggregator; it returns false once ctx has
	// ended.
	send func(ctx context.Context, r result[T]) bool
}

const baseBackoff = 250 * time.Millisecond

func backoff(failures int, max time.Duration) time.Duration {
	d := baseBackoff
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

func (b *blocking[T]) run(ctx context.Context) {
	var (
		index     uint64
		last      T
		have      bool
		connected bool
		failures  int
		lastCall  time.Time
	)
	for {
		if !sleepUntil(ctx, lastCall.Add(b.minInterval), nil) {
			return
		}
		lastCall = time.Now()
		// Taken before the call, so a reconnect that happens while this
		// call fails is not missed by the backoff below.
		var kicked <-chan struct{}
		if b.kick != nil {
			kicked = b.kick.wait()
		}
		var err error
		if !connected && b.connect != nil {
			err = b.connect(ctx)
		}
		var (
			value T
			meta  *api.QueryMeta
		)
		if err == nil {
			q := (&api.QueryOptions{WaitIndex: index, WaitTime: b.waitTime}).WithContext(ctx)
			value, meta, err = b.fetch(q)
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			connected = false
			failures++
			// The agent that answers next may be a new one whose index is
			// lower than ours: a blocking query with our index would then
			// wait the full WaitTime before showing anything.
			index = 0
			if !b.send(ctx, result[T]{err: err}) {
				return
			}
			if !sleepUntil(ctx, time.Now().Add(backoff(failures, b.maxBackoff)), kicked) {
				return
			}
			continue
		}
		connected, failures = true, 0
		remote := meta.LastIndex
		acl := result[T]{filtered: meta.ResultsFilteredByACLs, denyByDefault: meta.DefaultACLPolicy == "deny"}
		if have && remote == index {
			// No change; the success is still reported, as it may end an
			// error the aggregator is showing.
			if !b.send(ctx, result[T]{value: last, index: remote, filtered: acl.filtered, denyByDefault: acl.denyByDefault}) {
				return
			}
			continue
		}
		if remote < index {
			index = 0
			continue
		}
		index = remote
		changed := !have || !b.equal(last, value)
		if changed {
			last, have = value, true
		}
		if !b.send(ctx, result[T]{value: last, index: remote, changed: changed, filtered: acl.filtered, denyByDefault: acl.denyByDefault}) {
			return
		}
	}
}

// sleepUntil waits until t, or until kick fires; false when ctx ended.
func sleepUntil(ctx context.Context, t time.Time, kick <-chan struct{}) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
	case <-kick:
	}
	return true
}

// signal is a broadcast that can fire many times: wait returns a channel
// closed by the next fire.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *signal) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.ch)
	s.ch = make(chan struct{})
}
