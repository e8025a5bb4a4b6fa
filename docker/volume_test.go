package docker_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/model"
)

// storageOf describes the watched topology's lane for volume name: its
// members as name:mode:destination, or "unused", or "absent".
func storageOf(topo model.Topology, name string) string {
	for _, l := range topo.StorageLayout(model.StorageOptions{}).Lanes {
		if l.Kind != model.StorageVolume || l.Name != name {
			continue
		}
		if l.Unused() {
			return "unused"
		}
		var parts []string
		for _, m := range l.Members {
			parts = append(parts, m.Name+":"+m.Mode()+":"+m.Destination)
		}
		return strings.Join(parts, " ")
	}
	return "absent"
}

// TestVolumesSharedAndUnusedLiveThroughCreateMountRemove: a volume two
// containers share (one read-only) and one no container uses appear with
// the right members and modes, from events alone, and follow container
// and volume removal; a fresh sync agrees.
func TestVolumesSharedAndUnusedLiveThroughCreateMountRemove(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	ctx := context.Background()
	netName := env.Name("net")
	env.CreateNetwork(t, "net", nil)
	e := connectTest(t, "")
	w := startWatch(t, e, env.Prefix)
	w.waitFor(t, 5*time.Second, "first snapshot", func(w *watcher) (bool, string) {
		return w.snapshots == 1, "no snapshot"
	})

	shared, unused := env.Name("shared"), env.Name("unused")
	for _, name := range []string{shared, unused} {
		if _, err := env.Client.VolumeCreate(ctx, volume.CreateOptions{Name: name, Labels: env.Labels()}); err != nil {
			t.Fatalf("create volume %s: %v", name, err)
		}
	}
	w.waitFor(t, 10*time.Second, "both volumes, unused, from their create events", func(w *watcher) (bool, string) {
		a, b := storageOf(w.topo, shared), storageOf(w.topo, unused)
		v := w.topo.Volumes[shared]
		return a == "unused" && b == "unused" && v.Labels[dockertest.LabelKey] == env.Prefix,
			fmt.Sprintf("shared=%s unused=%s labels=%v", a, b, v.Labels)
	})

	run := func(suffix string, readOnly bool, dest string) string {
		t.Helper()
		labels := env.Labels()
		resp, err := env.Client.ContainerCreate(ctx, &container.Config{Image: image, Labels: labels},
			&container.HostConfig{NetworkMode: container.NetworkMode(netName), Mounts: []mount.Mount{
				{Type: mount.TypeVolume, Source: shared, Target: dest, ReadOnly: readOnly},
			}}, nil, nil, env.Name(suffix))
		if err != nil {
			t.Fatalf("create %s: %v", suffix, err)
		}
		if err := env.Client.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
			t.Fatalf("start %s: %v", suffix, err)
		}
		return resp.ID
	}
	run("writer", false, "/data")
	readerID := run("reader", true, "/backup")
	want := env.Name("reader") + ":ro:/backup " + env.Name("writer") + ":rw:/data"
	w.waitFor(t, 10*time.Second, "shared volume with both containers and their modes", func(w *watcher) (bool, string) {
		got := storageOf(w.topo, shared)
		return got == want && storageOf(w.topo, unused) == "unused", "shared=" + got + " unused=" + storageOf(w.topo, unused)
	})
	w.waitFor(t, 10*time.Second, "the engine's mount event of the shared volume applied", func(w *watcher) (bool, string) {
		ev, _, ok := w.eventApplied(func(ev model.Event) bool {
			return ev.Type == model.EventVolume && ev.BaseAction() == "mount" && ev.ActorID == shared
		})
		return ok, fmt.Sprintf("no mount event yet (%+v)", ev)
	})

	fresh, err := e.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := storageOf(fresh, shared); got != want {
		t.Errorf("fresh sync: shared = %s, want %s", got, want)
	}
	if got := storageOf(fresh, unused); got != "unused" {
		t.Errorf("fresh sync: unused = %s", got)
	}
	var unusedNames []string
	for _, v := range fresh.UnusedVolumes() {
		if strings.HasPrefix(v.Name, env.Prefix) {
			unusedNames = append(unusedNames, v.Name)
		}
	}
	if strings.Join(unusedNames, ",") != unused {
		t.Errorf("UnusedVolumes (ours) = %v, want [%s]", unusedNames, unused)
	}

	if err := env.Client.ContainerRemove(ctx, readerID, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, 10*time.Second, "the reader gone from the shared volume", func(w *watcher) (bool, string) {
		got := storageOf(w.topo, shared)
		return got == env.Name("writer")+":rw:/data", got
	})
	if err := env.Client.VolumeRemove(ctx, unused, false); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, 10*time.Second, "the unused volume gone on its destroy event", func(w *watcher) (bool, string) {
		got := storageOf(w.topo, unused)
		return got == "absent", got
	})

	usage, err := e.VolumeUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := usage[shared]; !ok || u.RefCount != 1 {
		t.Errorf("VolumeUsage[%s] = %+v, %v; want a reference count of 1 (the writer)", shared, u, ok)
	}
}

// TestSyncDrawsWhenTheEngineRefusesVolumes: behind a socket proxy that
// refuses the volume API, a sync still reads networks and containers and
// says why the volumes are missing.
func TestSyncDrawsWhenTheEngineRefusesVolumes(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	netID := env.CreateNetwork(t, "net", nil)
	proxy := newFilterProxy(t, "/volumes")
	e := connectTest(t, "tcp://"+proxy.addr)
	topo, err := e.Sync(context.Background())
	if err != nil {
		t.Fatalf("Sync behind a proxy refusing volumes: %v", err)
	}
	if _, ok := topo.Networks[netID]; !ok {
		t.Error("the test's network is missing")
	}
	if !strings.Contains(topo.VolumesError, "volumes not read") || len(topo.Volumes) != 0 {
		t.Errorf("VolumesError = %q, %d volumes", topo.VolumesError, len(topo.Volumes))
	}
}
