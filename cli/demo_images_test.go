package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/topo-dev/topo/internal/dockertest"
)

// TestDemoImagesPullOffline runs `topo demo images --pull` with two images
// that no registry can serve (their registry is a loopback port nothing
// listens on, so no traffic leaves the machine) and one the engine has: the
// command fails naming each missing image and the way out, and leaves no
// image or tag behind, while the present image keeps its ID.
func TestDemoImagesPullOffline(t *testing.T) {
	env := dockertest.New(t)
	present := dockertest.TestServerImage(t)
	ctx := context.Background()
	missingMongo := "127.0.0.1:1/" + env.Prefix + "/mongo:none"
	missingNginx := "127.0.0.1:1/" + env.Prefix + "/nginx:none"
	before, _, err := env.Client.ImageInspectWithRaw(ctx, present)
	if err != nil {
		t.Fatal(err)
	}

	out, err := runTopo(t, "demo", "images", "--pull", "--project", env.Prefix,
		"--image-consul", present, "--image-mongo", missingMongo, "--image-nginx", missingNginx)
	if err == nil {
		t.Fatalf("topo demo images --pull succeeded with unreachable images:\n%s", out)
	}
	for _, want := range []string{
		missingMongo, missingNginx, "pulling it failed", "the registry cannot be reached",
		"--image-mongo", "TOPO_DEMO_IMAGE_MONGO", "--image-nginx", "TOPO_DEMO_IMAGE_NGINX",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), present) {
		t.Errorf("the error names the image the engine has:\n%v", err)
	}
	// The table of images is not printed as if all were well.
	if strings.Contains(out, "SERVICES") {
		t.Errorf("a failed pull still printed the images table:\n%s", out)
	}

	for _, ref := range []string{missingMongo, missingNginx} {
		if _, _, err := env.Client.ImageInspectWithRaw(ctx, ref); !client.IsErrNotFound(err) {
			t.Errorf("after the failed pull the engine has %s (or cannot say): %v", ref, err)
		}
	}
	left, err := env.Client.ImageList(ctx, image.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("reference", "127.0.0.1:1/"+env.Prefix+"/*"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("the failed pull left %d images of the missing repositories: %+v", len(left), left)
	}
	after, _, err := env.Client.ImageInspectWithRaw(ctx, present)
	if err != nil || after.ID != before.ID {
		t.Errorf("the present image %s changed: %s → %s (%v)", present, before.ID, after.ID, err)
	}
}
