package dockertest

import (
	"sync"
	"testing"
)

var logTalkerImage struct {
	once sync.Once
	tag  string
	err  error
}

// LogTalkerImage builds (once per process, and once per content on the
// engine) a FROM scratch image of internal/logtalker, a container writing
// known lines on stdout and stderr, and returns its tag.
func LogTalkerImage(t testing.TB) string {
	t.Helper()
	logTalkerImage.once.Do(func() {
		logTalkerImage.tag, logTalkerImage.err = buildGoImage("topo-test/logtalker", "github.com/topo-dev/topo/internal/logtalker", nil)
	})
	if logTalkerImage.err != nil {
		t.Fatalf("build log talker image: %v", logTalkerImage.err)
	}
	return logTalkerImage.tag
}
