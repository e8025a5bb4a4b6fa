// Package testenv decides what a test does when something it needs is
// missing. On a developer's machine it skips, saying what to install; under
// CI (CI set) it fails, because a test that cannot run there proves nothing
// and a green run with silent skips hides exactly the gap it should show.
//
// It imports only the standard library and testing, so every test helper
// (dockertest, consultest, swarmtest, tmuxtest) can use it.
package testenv

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// UnderCI reports whether the tests run under CI, where nothing may skip.
func UnderCI() bool { return os.Getenv("CI") != "" }

// Missing ends the test because a prerequisite is absent: a failure under
// CI, a skip elsewhere. The message says what is missing and how to get it.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if UnderCI() {
		t.Fatalf("prerequisite missing under CI (a skip is not allowed here): %s", msg)
	}
	t.Skip(msg)
}

// minPatience is the least a test waits for a condition before failing.
const minPatience = 30 * time.Second

// Patience turns the time a test means to wait for a condition into the
// time it does wait: at least 30 s. A deadline bounds a wait, it does not
// measure speed; on a loaded machine (the suite's own builds, other work on
// the two cores) a change that takes 100 ms when quiet can take seconds,
// and failing then says nothing about topo. How fast things are is what
// make bench measures.
func Patience(want time.Duration) time.Duration { return max(want, minPatience) }
