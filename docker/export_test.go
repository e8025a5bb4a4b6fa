package docker

import (
	"context"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/client"
)

// ScopeEvents narrows e's event stream with one more filter (key=value,
// as `docker events --filter`), so a test sees its own events only and is
// not disturbed by the rest of the shared engine.
func ScopeEvents(e *Engine, key, value string) {
	e.api = scopedAPI{engineAPI: e.api, key: key, value: value}
}

type scopedAPI struct {
	engineAPI
	key, value string
}

func (s scopedAPI) Events(ctx context.Context, opts events.ListOptions) (<-chan events.Message, <-chan error) {
	opts.Filters = opts.Filters.Clone()
	opts.Filters.Add(s.key, s.value)
	return s.engineAPI.Events(ctx, opts)
}

// SlowReads makes every container inspect of e take at least d longer, as
// on a loaded machine.
func SlowReads(e *Engine, d time.Duration) {
	e.api = slowAPI{engineAPI: e.api, delay: d}
}

type slowAPI struct {
	engineAPI
	delay time.Duration
}

func (s slowAPI) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return container.InspectResponse{}, ctx.Err()
	}
	return s.engineAPI.ContainerInspect(ctx, id)
}

// HoldReads makes every container inspect of e wait until the returned
// release is called (or the read's context ends), as when the engine holds
// a container's lock through a long start. reads reports how many reads
// were made so far.
func HoldReads(e *Engine) (release func(), reads func() int) {
	h := &heldAPI{engineAPI: e.api, released: make(chan struct{})}
	e.api = h
	var once sync.Once
	return func() { once.Do(func() { close(h.released) }) }, h.count
}

type heldAPI struct {
	engineAPI
	released chan struct{}
	mu       sync.Mutex
	n        int
}

func (h *heldAPI) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

func (h *heldAPI) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	h.mu.Lock()
	h.n++
	h.mu.Unlock()
	select {
	case <-h.released:
	case <-ctx.Done():
		return container.InspectResponse{}, ctx.Err()
	}
	return h.engineAPI.ContainerInspect(ctx, id)
}

// HideListedByID makes every container list filtered by ID come back
// empty, as a list that lags the engine: the only other way an event's
// state arrives is then the late read.
func HideListedByID(e *Engine) {
	e.api = hiddenListAPI{engineAPI: e.api}
}

type hiddenListAPI struct{ engineAPI }

func (h hiddenListAPI) ContainerList(ctx context.Context, opts container.ListOptions) ([]container.Summary, error) {
	if opts.Filters.Contains("id") {
		return nil, nil
	}
	return h.engineAPI.ContainerList(ctx, opts)
}

// SDK is the client an engine wraps, for tests that set up what topo
// itself would not do through the engine (build images, start agents).
func SDK(e *Engine) *client.Client { return e.sdk }
