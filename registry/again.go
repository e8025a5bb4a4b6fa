package registry

import (
	"errors"
	"time"

	"github.com/topo-dev/topo/model"
)

// How a look for the registries is repeated when a registry container was
// found but did not answer (a Consul still starting): after lookAgainFirst,
// doubling up to lookAgainMax, at most lookAgainLimit times in a row.
// Nothing else would trigger a new look when the Consul is the last
// container to start, as on a swarm, where the app's replicas may all run
// on other nodes.
const (
	lookAgainFirst = 500 * time.Millisecond
	lookAgainMax   = 5 * time.Second
	lookAgainLimit = 10
)

// LookAgain says how long to wait before looking for the registries again
// after the attempt-th look in a row (from 0) that ended in err, and false
// when not to: only a registry container that does not answer yet is worth
// another look on a timer; no registry at all waits for a container to
// start.
func LookAgain(attempt int, err error) (time.Duration, bool) {
	if !errors.Is(err, model.ErrRegistryNotAnswering) || attempt >= lookAgainLimit {
		return 0, false
	}
	return min(lookAgainFirst<<attempt, lookAgainMax), true
}
