package swarmtest

import (
	"context"
	"os"
	"testing"

	"github.com/topo-dev/topo/internal/dockertest"
)

// TestNodeImageIsBuilt: the node image exists after NodeImage and carries
// the test-image label. scripts/faults.sh runs this test to get the image
// without knowing how its tag is made: with TOPO_NODE_IMAGE_OUT set, the
// tag is written to that file.
func TestNodeImageIsBuilt(t *testing.T) {
	env := dockertest.New(t)
	tag := NodeImage(t, env.Client)
	ins, _, err := env.Client.ImageInspectWithRaw(context.Background(), tag)
	if err != nil {
		t.Fatalf("inspect the node image %s: %v", tag, err)
	}
	if ins.Config == nil || ins.Config.Labels["topo.test-image"] != "1" {
		t.Errorf("node image %s lacks the label topo.test-image=1", tag)
	}
	if out := os.Getenv("TOPO_NODE_IMAGE_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(tag+"\n"), 0o644); err != nil {
			t.Fatalf("write the node image tag to %s: %v", out, err)
		}
	}
}
