package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/topo-dev/topo/model"
)

// anonVolume is an engine-named volume: 64 hex digits.
const anonVolume = "3f2a9c1b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"

func withMounts(ms ...model.Mount) func(*model.Container) {
	return func(c *model.Container) { c.Mounts = ms }
}

func volumeAt(name, dest string, rw bool) model.Mount {
	return model.Mount{Type: model.MountVolume, Name: name, Destination: dest, ReadWrite: rw}
}

// storageTopo: basicTopo's containers with volumes: shop-data shared by
// api (rw) and worker (ro), cache of web, an anonymous volume of db, a
// host path bind-mounted read-only into api and gateway, and two volumes
// no container mounts.
func storageTopo() model.Topology {
	conf := model.Mount{Type: model.MountBind, Source: "/srv/config", Destination: "/etc/app", ReadWrite: false}
	t := newTopo().builtIn().net("frontend").net("backend").net("data").net("spare").
		ctr("web", []string{"frontend"}, withMounts(volumeAt("cache", "/var/cache/nginx", true))).
		ctr("api", []string{"frontend", "backend", "data"}, withMounts(volumeAt("shop-data", "/data", true), conf)).
		ctr("gateway", []string{"frontend", "data"}, withMounts(conf)).
		ctr("proxy", []string{"backend", "frontend"}).
		ctr("worker", []string{"backend"}, withMounts(volumeAt("shop-data", "/import", false))).
		ctr("db", []string{"data"}, withMounts(volumeAt(anonVolume, "/var/lib/db", true))).
		ctr("legacy", []string{"bridge"}).
		build()
	for _, v := range []model.Volume{
		{Name: "shop-data", Driver: "local"},
		{Name: "cache", Driver: "local"},
		{Name: anonVolume, Driver: "local", Anonymous: true},
		{Name: "old-backups", Driver: "local"},
		{Name: "nfs-archive", Driver: "nfs"},
	} {
		v.Created = testNow.Add(-24 * 60 * 60e9)
		t.Volumes[v.Name] = v
	}
	return t
}

// fakeSizer is a fake of VolumeSizer counting its calls.
type fakeSizer struct {
	mu    sync.Mutex
	calls int
	err   error
}

func (f *fakeSizer) VolumeUsage(context.Context) (map[string]model.VolumeUsage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return map[string]model.VolumeUsage{
		"shop-data": {Size: 1_234_567_890, RefCount: 2}, "cache": {Size: 48_000, RefCount: 1},
		anonVolume: {Size: 512, RefCount: 1}, "old-backups": {Size: 7_500_000_000, RefCount: 0},
		"nfs-archive": {Size: -1, RefCount: -1},
	}, nil
}

func storageHarness(t testing.TB, w, h int) (*harness, *fakeSizer) {
	topo := storageTopo()
	sizer := &fakeSizer{}
	hs := newHarnessWith(t, w, h, &topo, func(c *Config) { c.Volumes = sizer })
	return hs, sizer
}

// storageGrid is what the storage view holds, lane by lane: each member
// as name:mode:destination, or "unused".
func storageGrid(s *StorageView) string {
	var b strings.Builder
	for _, l := range s.layout.Lanes {
		b.WriteString(laneLabel(l) + ":")
		if l.Unused() {
			b.WriteString(" unused")
		}
		for _, m := range l.Members {
			b.WriteString(" " + m.Name + ":" + m.Mode() + ":" + m.Destination)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestStorageGolden(t *testing.T) {
	for _, sc := range []struct {
		name  string
		setup func(hs *harness)
	}{
		{"volumes", func(hs *harness) { hs.press("v") }},
		{"with_bind_mounts_and_sizes", func(hs *harness) {
			hs.press("v", "v")
			for _, msg := range runCmd(t, hs.sendOnly(keyRunes("u"))) {
				hs.send(msg)
			}
		}},
		{"selection_moved_to_the_shared_volume_writer", func(hs *harness) { hs.press("v", "left") }},
		{"filtered", func(hs *harness) {
			hs.press("v")
			hs.sendOnly(keyRunes("/"))
			hs.typeText("o")
			hs.press("enter")
		}},
	} {
		for _, size := range goldenSizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size.w, size.h), func(t *testing.T) {
				hs, _ := storageHarness(t, size.w, size.h)
				sc.setup(hs)
				golden.RequireEqual(t, hs.view())
			})
		}
	}
}

// TestStorageOpensCyclesAndPops: v opens the volumes, v again adds the bind
// mounts, v a third time closes; esc pops it wherever it is in the cycle,
// and the lanes are back.
func TestStorageOpensCyclesAndPops(t *testing.T) {
	hs, _ := storageHarness(t, 120, 40)
	hs.press("v")
	if hs.m.lanesScreen() != screenStorage {
		t.Fatalf("v: the lanes' area shows %v, want storage", hs.m.lanesScreen())
	}
	want := "cache: web:rw:/var/cache/nginx\n" +
		"shop-data: api:rw:/data worker:ro:/import\n" +
		"anonymous 3f2a9c1b2d4e: db:rw:/var/lib/db\n" +
		"nfs-archive: unused\n" +
		"old-backups: unused\n"
	if got := storageGrid(hs.m.storage); got != want {
		t.Errorf("storage lanes:\n%s\nwant:\n%s", got, want)
	}
	hs.press("v")
	if got := storageGrid(hs.m.storage); !strings.Contains(got, "bind /srv/config: api:ro:/etc/app gateway:ro:/etc/app\n") {
		t.Errorf("second v: no bind lane of /srv/config with api and gateway:\n%s", got)
	}
	hs.press("v")
	if hs.m.on(screenStorage) {
		t.Errorf("third v left the storage open: %v", hs.m.screens)
	}
	hs.press("v", "v", "esc")
	if hs.m.on(screenStorage) || hs.m.lanesScreen() != 0 {
		t.Errorf("esc did not pop the storage: %v", hs.m.screens)
	}
	hs.press("v")
	if hs.m.storage.Binds() {
		t.Errorf("storage opened again with the bind mounts of last time")
	}
}

// TestStorageSelectionDrivesDetailsAndActions: the storage opens on the
// lanes' selection; moving there selects containers, the details follow,
// x asks about the storage's selection, and esc returns to the lanes on
// the same container.
func TestStorageSelectionDrivesDetailsAndActions(t *testing.T) {
	hs, _ := storageHarness(t, 200, 50)
	if got := hs.selected(); got != "worker" {
		t.Fatalf("the lanes start on %q, want worker", got)
	}
	hs.press("v")
	if c, _ := hs.m.selected(); c.Name != "worker" || hs.m.storage.selLane != "shop-data" {
		t.Fatalf("storage opened on %q in %q, want worker in shop-data", c.Name, hs.m.storage.selLane)
	}
	hs.press("left")
	c, ok := hs.m.selected()
	if !ok || c.Name != "api" {
		t.Fatalf("left in shop-data selected %q, want api", c.Name)
	}
	if hs.m.details.container.Name != "api" {
		t.Errorf("details show %q, want api", hs.m.details.container.Name)
	}
	hs.press("x")
	if hs.m.mode != modeConfirm || !strings.Contains(hs.m.pending.prompt, "api") {
		t.Errorf("x in storage asks %q, want about api", hs.m.pending.prompt)
	}
	hs.press("n")
	hs.press("up")
	if c, _ := hs.m.selected(); c.Name != "web" {
		t.Errorf("up from api selected %q, want web (cache's nearest member)", c.Name)
	}
	hs.press("esc")
	if got := hs.selected(); got != "web" {
		t.Errorf("back on the lanes the selection is %q, want web", got)
	}
}

// TestStorageLiveThroughVolumeAndMountEvents: a volume created appears
// unused, a container mounting it moves it up with its member, and its
// destroy takes the lane away, all from events while the view is open.
func TestStorageLiveThroughVolumeAndMountEvents(t *testing.T) {
	hs, _ := storageHarness(t, 120, 40)
	hs.press("v")
	hs.event(model.Event{Type: model.EventVolume, Action: "create", ActorID: "fresh",
		Volume: &model.Volume{Name: "fresh", Driver: "local"}, Attributes: map[string]string{"driver": "local"}})
	if got := storageGrid(hs.m.storage); !strings.Contains(got, "fresh: unused\n") {
		t.Errorf("after create, no unused lane fresh:\n%s", got)
	}
	hs.event(model.Event{Type: model.EventVolume, Action: "mount", ActorID: "fresh", Attributes: map[string]string{
		"container": ctrID("proxy"), "destination": "/cache", "read/write": "false", "driver": "local"}})
	if got := storageGrid(hs.m.storage); !strings.Contains(got, "fresh: proxy:ro:/cache\n") {
		t.Errorf("after mount, fresh is not mounted read-only by proxy:\n%s", got)
	}
	hs.event(model.Event{Type: model.EventVolume, Action: "destroy", ActorID: "old-backups"})
	if got := storageGrid(hs.m.storage); strings.Contains(got, "old-backups") {
		t.Errorf("after destroy, old-backups is still there:\n%s", got)
	}
}

// TestStorageSizesAreReadOnceOnRequest: nothing reads sizes until u; u
// reads them once and the lanes show them; a failure says so in the title.
func TestStorageSizesAreReadOnceOnRequest(t *testing.T) {
	hs, sizer := storageHarness(t, 200, 50)
	hs.press("v")
	if sizer.calls != 0 {
		t.Fatalf("opening the storage read the sizes %d times", sizer.calls)
	}
	if strings.Contains(hs.view(), "1.23 GB") {
		t.Fatalf("a size is shown before u")
	}
	msgs := runCmd(t, hs.sendOnly(keyRunes("u")))
	if !hs.m.storage.sizing || hs.m.keys.Sizes.Enabled() {
		t.Errorf("while reading, the title does not say so or u is still offered")
	}
	for _, msg := range msgs {
		hs.send(msg)
	}
	if sizer.calls != 1 {
		t.Errorf("u read the sizes %d times, want once", sizer.calls)
	}
	v := hs.view()
	for _, want := range []string{"shop-data local · 2 containers · 1.23 GB", "old-backups local · 7.50 GB · unused", "sizes of 15:09:26"} {
		if !strings.Contains(v, want) {
			t.Errorf("after u the screen lacks %q:\n%s", want, v)
		}
	}
	sizer.err = errors.New("read volume sizes (docker system df): permission denied")
	for _, msg := range runCmd(t, hs.sendOnly(keyRunes("u"))) {
		hs.send(msg)
	}
	if v := hs.view(); !strings.Contains(v, "sizes: read volume sizes") {
		t.Errorf("a failed read is not in the title:\n%s", v)
	}
}

// TestStorageMouseClickSelectsTheMember: a click in the storage lanes
// selects the container drawn there, not the lanes' node hidden below.
func TestStorageMouseClickSelectsTheMember(t *testing.T) {
	hs, _ := storageHarness(t, 200, 50)
	hs.press("v")
	// Status bar, title, then cache's lane (header and web), then
	// shop-data's: api in the second column, worker in the third.
	hs.send(tea.MouseMsg{X: 45, Y: 6, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if c, _ := hs.m.selected(); c.Name != "worker" {
		t.Errorf("a click on worker in shop-data selected %q", c.Name)
	}
	hs.send(tea.MouseMsg{X: 25, Y: 6, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if c, _ := hs.m.selected(); c.Name != "api" || hs.selected() != "api" {
		t.Errorf("a click on api selected %q in storage, %q on the lanes", c.Name, hs.selected())
	}
}

// TestStorageDrawsHostilePathsInert: a host path and a mount path may
// hold anything a file name can, escape sequences included: the storage
// lanes show them as text.
func TestStorageDrawsHostilePathsInert(t *testing.T) {
	topo := newTopo().net("n").ctr("app", []string{"n"}, withMounts(
		model.Mount{Type: model.MountBind, Source: "/srv/\x1b[2J\x1b]0;pwned\x07", Destination: "/in\x1b[31m", ReadWrite: true})).build()
	hs := newHarness(t, 120, 40, &topo)
	hs.press("v", "v")
	v := hs.view()
	if strings.Contains(v, "\x1b") {
		t.Fatalf("an escape character reached the screen: %q", v)
	}
	if !strings.Contains(v, `bind /srv/\x1b[2J\x1b]0;pwned\a`) || !strings.Contains(v, `rw /in\x1b[31m`) {
		t.Errorf("the hostile paths are not shown as text:\n%s", v)
	}
}
