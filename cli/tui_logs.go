package cli

import (
	"context"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/model"
)

// logSource gives the TUI's logs pane the engine's log stream: the pane
// asks for a tail and follows; the adapter's options stay on this side.
type logSource struct{ engine *docker.Engine }

func (s logSource) Logs(ctx context.Context, id string, tail int) (<-chan model.LogBatch, error) {
	return s.engine.Logs(ctx, id, docker.LogOptions{Tail: tail})
}
