package docker

import (
	"context"

	"github.com/docker/docker/api/types/events"
)

// ScopeEvents narrows e's event stream to containers carrying label
// (key=value), so a test that must see no event but its own is not
// disturbed by the rest of the shared engine.
func ScopeEvents(e *Engine, label string) {
	e.api = scopedAPI{engineAPI: e.api, label: label}
}

type scopedAPI struct {
	engineAPI
	label string
}

func (s scopedAPI) Events(ctx context.Context, opts events.ListOptions) (<-chan events.Message, <-chan error) {
	opts.Filters = opts.Filters.Clone()
	opts.Filters.Add("label", s.label)
	return s.engineAPI.Events(ctx, opts)
}
