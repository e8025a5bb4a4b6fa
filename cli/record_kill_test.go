package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/tmuxtest"
	"github.com/topo-dev/topo/record"
)

// TestRecordKilledLeavesAReadableFile kills `topo record` (SIGKILL, no
// chance to clean up) while the engine changes, and reads the file: it
// plays up to its last complete line, the test's network in it.
func TestRecordKilledLeavesAReadableFile(t *testing.T) {
	env := dockertest.New(t)
	bin := tmuxtest.BuildTopo(t)
	path := filepath.Join(t.TempDir(), "killed.jsonl")
	cmd := exec.Command(bin, "record", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := func() int {
		data, _ := os.ReadFile(path)
		return bytes.Count(data, []byte("\n"))
	}
	dockertest.Eventually(t, 20*time.Second, func() (bool, string) {
		return lines() >= 2, "no snapshot recorded yet; stderr: " + stderr.String()
	})
	env.CreateNetwork(t, "killed", nil)
	dockertest.Eventually(t, 20*time.Second, func() (bool, string) {
		data, _ := os.ReadFile(path)
		return bytes.Contains(data, []byte(env.Name("killed"))), "the network's event is not recorded"
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	rec, err := record.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Stopped != nil && rec.Stopped.Line != rec.Lines+1 {
		t.Fatalf("stopped before the last line: %v", rec.Stopped)
	}
	if _, ok := rec.End().Topology.FindNetwork(env.Name("killed")); !ok {
		t.Fatal("the replayed state lacks the network created while recording")
	}
	out, err := runTopo(t, "snapshot", "--width", "120", "--from", path)
	if err != nil || !strings.Contains(out, env.Name("killed")) {
		t.Fatalf("snapshot --from the killed recording: %v\n%s", err, out)
	}
}
