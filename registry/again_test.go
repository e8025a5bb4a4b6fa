package registry

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/topo-dev/topo/model"
)

// A registry that does not answer yet is looked for again with a growing
// delay, a ceiling and a limit; no registry at all is not.
func TestLookAgainBacksOffAndStops(t *testing.T) {
	notYet := fmt.Errorf("no registry (%w: 10.0.0.2:8500: connection refused)", model.ErrRegistryNotAnswering)
	var last time.Duration
	tries := 0
	for attempt := 0; ; attempt++ {
		delay, ok := LookAgain(attempt, notYet)
		if !ok {
			break
		}
		if delay < last || delay > lookAgainMax {
			t.Errorf("attempt %d: delay %v after %v: want growing, at most %v", attempt, delay, last, lookAgainMax)
		}
		last = delay
		tries++
	}
	if tries != lookAgainLimit || last != lookAgainMax {
		t.Errorf("%d looks again, the last after %v; want %d, the last after %v", tries, last, lookAgainLimit, lookAgainMax)
	}
	if _, ok := LookAgain(0, errors.New("no registry: start one")); ok {
		t.Error("no registry container at all: looked for again on a timer")
	}
	if _, ok := LookAgain(0, nil); ok {
		t.Error("a look that found its registries: looked for again")
	}
}
