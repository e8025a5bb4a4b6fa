package cli

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/model"
)

// TestSnapshotJSONHasVolumesBesideTheOldFields: `topo snapshot --json`
// lists a volume with the container mounting it read-only, an unused one
// as unused, and the container's mounts, while the fields scripts already
// read keep their names.
func TestSnapshotJSONHasVolumesBesideTheOldFields(t *testing.T) {
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	ctx := context.Background()
	used, unused := env.Name("used"), env.Name("unused")
	for _, name := range []string{used, unused} {
		if _, err := env.Client.VolumeCreate(ctx, volume.CreateOptions{Name: name, Labels: env.Labels()}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := env.Client.ContainerCreate(ctx, &container.Config{Image: image, Labels: env.Labels()},
		&container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: used, Target: "/data", ReadOnly: true}}},
		nil, nil, env.Name("reader"))
	if err != nil {
		t.Fatal(err)
	}

	out, err := runTopo(t, "snapshot", "--json")
	if err != nil {
		t.Fatalf("topo snapshot --json: %v\n%s", err, out)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	for _, key := range []string{"networks", "containers", "volumes"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("snapshot lacks %q", key)
		}
	}
	var snap model.Export
	if err := json.Unmarshal([]byte(out), &snap); err != nil {
		t.Fatal(err)
	}
	vols := map[string]model.ExportVolume{}
	for _, v := range snap.Volumes {
		vols[v.Name] = v
	}
	if v, ok := vols[used]; !ok || v.Unused || len(v.Containers) != 1 || v.Containers[0].ContainerID != resp.ID ||
		v.Containers[0].ReadWrite || v.Containers[0].Destination != "/data" || v.Driver != "local" {
		t.Errorf("volume %s = %+v, %v; want mounted read-only at /data by the reader", used, v, ok)
	}
	if v, ok := vols[unused]; !ok || !v.Unused || len(v.Containers) != 0 {
		t.Errorf("volume %s = %+v, %v; want unused", unused, v, ok)
	}
	for _, c := range snap.Containers {
		if c.ID != resp.ID {
			continue
		}
		if len(c.Mounts) != 1 || c.Mounts[0].Name != used || c.Mounts[0].Mode() != "ro" {
			t.Errorf("reader's mounts = %+v", c.Mounts)
		}
		if c.Networks == nil {
			t.Error("reader's networks field gone")
		}
		return
	}
	t.Errorf("the reader %s is not in the snapshot", resp.ID)
}
