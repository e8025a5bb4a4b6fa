package app

import (
	"context"
	"net/http"
	"time"
)

// limiter makes an instance's capacity a known number rather than a
// property of the machine's cores: at most cap(slots) requests are served
// at once, at most cap(queue) more wait for a slot, and any request beyond
// that is refused at once, so that overload shows as errors, never as a
// hang whose length depends on how busy the machine is.
type limiter struct {
	slots chan struct{}
	queue chan struct{}
}

func newLimiter(concurrency, queue int) *limiter {
	return &limiter{slots: make(chan struct{}, concurrency), queue: make(chan struct{}, queue)}
}

// acquire takes a slot, waiting in the queue if it has a free place, and
// returns the function that gives the slot back; ok is false when both the
// slots and the queue are full, or ctx ended while waiting.
func (l *limiter) acquire(ctx context.Context) (release func(), ok bool) {
	release = func() { <-l.slots }
	select {
	case l.slots <- struct{}{}:
		return release, true
	default:
	}
	select {
	case l.queue <- struct{}{}:
	default:
		return nil, false
	}
	defer func() { <-l.queue }()
	select {
	case l.slots <- struct{}{}:
		return release, true
	case <-ctx.Done():
		return nil, false
	}
}

// limit serves h within the limiter's slots, each request holding its slot
// for the service time (the search itself, in memory, takes microseconds), so that an instance serves at most
// concurrency/serviceTime requests a second whatever the machine. A
// request turned away gets 503, which the load balancer retries on another
// instance (proxy_next_upstream) before passing it to the client.
func (s *server) limit(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		release, ok := s.limiter.acquire(r.Context())
		if !ok {
			s.rejected.Add(1)
			w.Header().Set("Retry-After", "1")
			s.writeJSON(w, http.StatusServiceUnavailable, map[string]any{
				"error": "instance at capacity: add instances or send less traffic",
			})
			return
		}
		defer release()
		// The service time is spent before the answer, as real work would
		// be: a client sees each request take it, and under overload the
		// time spent queued adds to it, which the latency graph shows.
		s.cfg.sleep(r.Context(), s.cfg.ServiceTime)
		h(w, r)
	}
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
