package ui

import (
	"context"
	"testing"
	"time"

	"github.com/topo-dev/topo/model"
)

// seeingConnector records how many containers the topology it was handed
// holds when the look for a registry runs.
type seeingConnector struct{ saw int }

func (s *seeingConnector) Connect(_ context.Context, topo model.Topology) ([]RegistryConn, error) {
	s.saw = len(topo.Containers)
	return nil, model.ErrRegistryNotAnswering
}

func (s *seeingConnector) LookAgain(int, error) (time.Duration, bool) { return 0, false }

// Regression: the look for a registry ran on its own goroutine over the
// model's own container map while Update applied events to it, a data race
// (and a fatal "concurrent map read and map write" waiting to happen) each
// time a container started with no registry found, as in a burst. The
// look must read the topology as it was when it was asked for.
func TestRegistryLookReadsItsOwnCopyOfTheTopology(t *testing.T) {
	topo := model.NewTopology()
	topo.Containers["a"] = model.Container{ID: "a", Name: "a"}
	conn := &seeingConnector{}
	cmd := connectRegistry(conn, topo)
	// What Update does meanwhile: an event applied to the same map.
	topo.Containers["b"] = model.Container{ID: "b", Name: "b"}
	cmd()
	if conn.saw != 1 {
		t.Errorf("the look saw %d containers, want the 1 there when it was asked for", conn.saw)
	}
}
