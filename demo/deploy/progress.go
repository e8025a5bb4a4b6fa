package deploy

import (
	"fmt"
	"sync"
	"time"
)

// StepState is where one step of an operation stands.
type StepState int

const (
	// StepRunning: the step has begun.
	StepRunning StepState = iota
	// StepDone: the step did what it had to, or found it already done.
	StepDone
	// StepFailed: the step failed; Step.Err says why.
	StepFailed
)

func (s StepState) String() string {
	switch s {
	case StepRunning:
		return "running"
	case StepDone:
		return "done"
	case StepFailed:
		return "failed"
	}
	return fmt.Sprintf("StepState(%d)", int(s))
}

// Step is one report of an operation's progress. A step is reported at
// least twice, running then done or failed, under the same Key, so a panel
// replaces the line it shows for that key; a pull reports running many
// times as its Fraction grows.
type Step struct {
	// Key identifies the step within one operation ("network front",
	// "container app-2").
	Key string
	// Title says what the step does, for a person.
	Title string
	State StepState
	// Detail adds what happened ("already running", "12.1/40.3 MB").
	Detail string
	// Fraction is a pull's progress from 0 to 1, or -1 when unknown.
	Fraction float64
	// Err is why the step failed.
	Err error
	// At is when the report was made.
	At time.Time
}

// Progress receives the steps of an operation, one call at a time and in
// order; it must not block for long, since the operation waits for it.
type Progress func(Step)

// reporter turns an operation's calls into Steps and makes a Progress
// safe for the operation's own goroutines.
type reporter struct {
	mu sync.Mutex
	fn Progress
}

func newReporter(fn Progress) *reporter { return &reporter{fn: fn} }

func (r *reporter) emit(s Step) {
	if r == nil || r.fn == nil {
		return
	}
	if s.At.IsZero() {
		s.At = time.Now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn(s)
}

func (r *reporter) start(key, title string) {
	r.emit(Step{Key: key, Title: title, State: StepRunning, Fraction: -1})
}

func (r *reporter) progress(key, title, detail string, fraction float64) {
	r.emit(Step{Key: key, Title: title, State: StepRunning, Detail: detail, Fraction: fraction})
}

func (r *reporter) done(key, title, detail string) {
	r.emit(Step{Key: key, Title: title, State: StepDone, Detail: detail, Fraction: -1})
}

// fail reports err on the step and returns it, so call sites read
// `return r.fail(...)`.
func (r *reporter) fail(key, title string, err error) error {
	r.emit(Step{Key: key, Title: title, State: StepFailed, Err: err, Fraction: -1})
	return err
}
