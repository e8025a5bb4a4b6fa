package registry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/topo-dev/topo/internal/testenv"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		max  time.Duration
		want []time.Duration
	}{
		{time.Second, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, time.Second, time.Second}},
		{5 * time.Second, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}},
		{100 * time.Millisecond, []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}},
	}
	for _, tt := range tests {
		for i, want := range tt.want {
			if got := backoff(i+1, tt.max); got != want {
				t.Errorf("backoff(%d, %v) = %v, want %v", i+1, tt.max, got, want)
			}
		}
	}
}

// TestBlockingRules drives the loop with a scripted fetch (our own function
// type, not an imitation of Consul) through every rule: same index, equal
// data, index going backwards, error, and the minimum interval.
func TestBlockingRules(t *testing.T) {
	type answer struct {
		index uint64
		value string
		err   error
	}
	script := []answer{
		{index: 5, value: "a"},       // first answer: sent as changed
		{index: 5, value: "a"},       // same index: no change
		{index: 7, value: "a"},       // new index, equal data: dropped
		{index: 9, value: "b"},       // changed
		{index: 3, value: "c"},       // backwards: reset, not sent
		{index: 4, value: "c"},       // read again from 0: changed
		{err: errors.New("refused")}, // error: sent, index reset
		{index: 4, value: "c"},       // from 0 again: equal data
	}
	wantWaitIndex := []uint64{0, 5, 5, 7, 9, 0, 4, 0}
	type sent struct {
		value   string
		index   uint64
		changed bool
		err     bool
	}
	wantSent := []sent{
		{"a", 5, true, false}, {"a", 5, false, false}, {"a", 7, false, false}, {"b", 9, true, false},
		{"c", 4, true, false}, {"", 0, false, true}, {"c", 4, false, false},
	}

	const minInterval = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		calls   []time.Time
		indexes []uint64
		got     []sent
	)
	kick := newSignal()
	b := &blocking[string]{
		minInterval: minInterval,
		waitTime:    time.Minute,
		maxBackoff:  time.Minute, // only the kick can end this backoff in time
		kick:        kick,
		fetch: func(q *api.QueryOptions) (string, *api.QueryMeta, error) {
			calls = append(calls, time.Now())
			indexes = append(indexes, q.WaitIndex)
			if len(calls) > len(script) {
				// Past the script: block like a query with nothing new.
				<-q.Context().Done()
				return "", nil, q.Context().Err()
			}
			a := script[len(calls)-1]
			if a.err != nil {
				return "", nil, a.err
			}
			return a.value, &api.QueryMeta{LastIndex: a.index}, nil
		},
		equal: func(a, b string) bool { return a == b },
		send: func(ctx context.Context, r result[string]) bool {
			got = append(got, sent{r.value, r.index, r.changed, r.err != nil})
			if r.err != nil {
				kick.fire()
			}
			if len(got) == len(wantSent) {
				cancel()
			}
			return ctx.Err() == nil
		},
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.run(ctx)
	}()
	select {
	case <-done:
	case <-time.After(testenv.Patience(5 * time.Second)):
		t.Fatalf("loop did not end with its context; sent %+v", got)
	}

	if len(indexes) < len(wantWaitIndex) {
		t.Fatalf("WaitIndex per call = %v, want %v", indexes, wantWaitIndex)
	}
	for i, want := range wantWaitIndex {
		if indexes[i] != want {
			t.Errorf("call %d: WaitIndex %d, want %d (all: %v)", i, indexes[i], want, indexes)
		}
	}
	if len(got) != len(wantSent) {
		t.Fatalf("sent %+v, want %+v", got, wantSent)
	}
	for i := range wantSent {
		if got[i] != wantSent[i] {
			t.Errorf("send %d = %+v, want %+v", i, got[i], wantSent[i])
		}
	}
	for i := 1; i < len(calls); i++ {
		if gap := calls[i].Sub(calls[i-1]); gap < minInterval {
			t.Errorf("calls %d and %d only %v apart, want at least %v", i-1, i, gap, minInterval)
		}
	}
}

func TestSignalFiresEveryWaiter(t *testing.T) {
	s := newSignal()
	w1, w2 := s.wait(), s.wait()
	s.fire()
	for _, w := range []<-chan struct{}{w1, w2} {
		select {
		case <-w:
		default:
			t.Error("a waiter was not woken")
		}
	}
	select {
	case <-s.wait():
		t.Error("a new wait should not see the past fire")
	default:
	}
}
