package model_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/topo-dev/topo/model"
)

const anonName = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func vol(name string) model.Volume {
	return model.Volume{Name: name, Driver: "local", Anonymous: model.IsAnonymousVolume(name, nil)}
}

func withMounts(c model.Container, mounts ...model.Mount) model.Container {
	c.Mounts = mounts
	return c
}

func volMount(name, dest string, rw bool) model.Mount {
	return model.Mount{Type: model.MountVolume, Name: name, Destination: dest, ReadWrite: rw}
}

func bindMount(src, dest string, rw bool) model.Mount {
	return model.Mount{Type: model.MountBind, Source: src, Destination: dest, ReadWrite: rw}
}

// storageTopology: data shared by api (rw) and backup (ro), cache used by
// api alone, an anonymous volume of mongo, old unused, and two binds of
// the same host path.
func storageTopology() model.Topology {
	t := model.NewTopology()
	for _, name := range []string{"data", "cache", "old", anonName} {
		t.Volumes[name] = vol(name)
	}
	for _, c := range []model.Container{
		withMounts(fixCtr("c1", "api"), volMount("data", "/data", true), volMount("cache", "/cache", true), bindMount("/etc/app", "/etc/app", false)),
		withMounts(fixCtr("c2", "backup"), volMount("data", "/src", false), bindMount("/etc/app", "/cfg", false)),
		withMounts(fixCtr("c3", "mongo"), volMount(anonName, "/data/db", true)),
		withMounts(fixCtr("c4", "plain")),
	} {
		t.Containers[c.ID] = c
	}
	return t
}

// grid renders a storage layout as text: one line per lane, a cell per
// column ("rw", "ro" or ".").
func grid(l model.StorageLayout) string {
	var b strings.Builder
	for i, lane := range l.Lanes {
		name := lane.Name
		if lane.Anonymous() {
			name = "(anonymous)"
		}
		b.WriteString(string(lane.Kind) + ":" + name)
		for c := range l.Columns {
			if m, ok := l.Cell(i, c); ok {
				b.WriteString(" " + m.Mode())
			} else {
				b.WriteString(" .")
			}
		}
		if lane.Unused() {
			b.WriteString(" unused")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestStorageLayout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    model.StorageOptions
		columns []string
		grid    string
	}{
		{
			name:    "volumes, anonymous after named, unused last",
			columns: []string{"api", "backup", "mongo"},
			grid: "volume:cache rw . .\n" +
				"volume:data rw ro .\n" +
				"volume:(anonymous) . . rw\n" +
				"volume:old . . . unused\n",
		},
		{
			name:    "binds grouped per host path when asked",
			opts:    model.StorageOptions{Binds: true},
			columns: []string{"api", "backup", "mongo"},
			grid: "volume:cache rw . .\n" +
				"volume:data rw ro .\n" +
				"volume:(anonymous) . . rw\n" +
				"bind:/etc/app ro ro .\n" +
				"volume:old . . . unused\n",
		},
		{
			name:    "a filter keeps its containers' lanes and drops unused ones",
			opts:    model.StorageOptions{Filter: "backup"},
			columns: []string{"backup"},
			grid:    "volume:data ro\n",
		},
		{
			name:    "a filter keeps the unused volumes it names",
			opts:    model.StorageOptions{Filter: "OL"},
			columns: nil,
			grid:    "volume:old unused\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topo := storageTopology()
			l := topo.StorageLayout(tc.opts)
			var names []string
			for _, id := range l.Columns {
				names = append(names, topo.Containers[id].Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.columns, ",") {
				t.Errorf("columns = %v, want %v", names, tc.columns)
			}
			if got := grid(l); got != tc.grid {
				t.Errorf("grid:\n%s\nwant:\n%s", got, tc.grid)
			}
		})
	}
}

func TestStorageLayoutMemberPathsAndModes(t *testing.T) {
	l := storageTopology().StorageLayout(model.StorageOptions{})
	for _, lane := range l.Lanes {
		if lane.Name != "data" {
			continue
		}
		want := []model.StorageMember{
			{ContainerID: "c1", Name: "api", Destination: "/data", ReadWrite: true},
			{ContainerID: "c2", Name: "backup", Destination: "/src", ReadWrite: false},
		}
		if len(lane.Members) != len(want) {
			t.Fatalf("data members = %+v", lane.Members)
		}
		for i := range want {
			if lane.Members[i] != want[i] {
				t.Errorf("member %d = %+v, want %+v", i, lane.Members[i], want[i])
			}
		}
		return
	}
	t.Fatal("no data lane")
}

func TestUnusedVolumes(t *testing.T) {
	got := storageTopology().UnusedVolumes()
	if len(got) != 1 || got[0].Name != "old" {
		t.Errorf("UnusedVolumes = %+v, want [old]", got)
	}
}

func TestIsAnonymousVolume(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   bool
	}{
		{anonName, nil, true},
		{"data", nil, false},
		{strings.ToUpper(anonName), nil, false},
		{anonName[:63], nil, false},
		{"named", map[string]string{model.LabelVolumeAnonymous: ""}, true},
	} {
		if got := model.IsAnonymousVolume(tc.name, tc.labels); got != tc.want {
			t.Errorf("IsAnonymousVolume(%q, %v) = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

func TestApplyVolumeEvents(t *testing.T) {
	created := vol("data")
	created.Labels = map[string]string{"k": "v"}
	for _, tc := range []struct {
		name  string
		start func() model.Topology
		ev    model.Event
		check func(t *testing.T, topo model.Topology)
	}{
		{
			name:  "create with state",
			start: model.NewTopology,
			ev:    model.Event{Type: "volume", Action: "create", ActorID: "data", Volume: &created},
			check: func(t *testing.T, topo model.Topology) {
				if topo.Volumes["data"].Labels["k"] != "v" {
					t.Errorf("volume = %+v", topo.Volumes["data"])
				}
			},
		},
		{
			name:  "create without state, anonymous, on a topology without the map",
			start: func() model.Topology { return model.Topology{Containers: map[string]model.Container{}} },
			ev:    model.Event{Type: "volume", Action: "create", ActorID: anonName, Attributes: map[string]string{"driver": "local"}},
			check: func(t *testing.T, topo model.Topology) {
				if v := topo.Volumes[anonName]; !v.Anonymous || v.Driver != "local" {
					t.Errorf("volume = %+v", v)
				}
			},
		},
		{
			name:  "destroy",
			start: storageTopology,
			ev:    model.Event{Type: "volume", Action: "destroy", ActorID: "old"},
			check: func(t *testing.T, topo model.Topology) {
				if _, ok := topo.Volumes["old"]; ok {
					t.Error("old still there")
				}
			},
		},
		{
			name:  "mount adds a mount the container lacked, read-only as the event says",
			start: storageTopology,
			ev: model.Event{Type: "volume", Action: "mount", ActorID: "old",
				Attributes: map[string]string{"container": "c4", "destination": "/old", "read/write": "false", "driver": "local"}},
			check: func(t *testing.T, topo model.Topology) {
				ms := topo.Containers["c4"].Mounts
				if len(ms) != 1 || ms[0] != volMount("old", "/old", false) {
					t.Errorf("mounts = %+v", ms)
				}
				if len(topo.UnusedVolumes()) != 0 {
					t.Errorf("unused = %+v", topo.UnusedVolumes())
				}
			},
		},
		{
			name:  "mount replayed changes nothing",
			start: storageTopology,
			ev: model.Event{Type: "volume", Action: "mount", ActorID: "data",
				Attributes: map[string]string{"container": "c1", "destination": "/data", "read/write": "true"}},
			check: func(t *testing.T, topo model.Topology) {
				if n := len(topo.Containers["c1"].Mounts); n != 3 {
					t.Errorf("c1 has %d mounts, want 3", n)
				}
			},
		},
		{
			name:  "unmount keeps the configured mount",
			start: storageTopology,
			ev: model.Event{Type: "volume", Action: "unmount", ActorID: "data",
				Attributes: map[string]string{"container": "c2"}},
			check: func(t *testing.T, topo model.Topology) {
				if n := len(topo.Containers["c2"].Mounts); n != 2 {
					t.Errorf("c2 has %d mounts, want 2", n)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topo := tc.start()
			before := shallowClone(topo)
			topo.Apply(tc.ev)
			tc.check(t, topo)
			// Container values are shared between snapshots: the one
			// before the event must not change.
			if c, ok := before.Containers["c4"]; ok && len(c.Mounts) != 0 {
				t.Errorf("Apply changed the earlier snapshot's container: %+v", c.Mounts)
			}
		})
	}
}

func TestExportKeepsOldFieldsAndAddsVolumes(t *testing.T) {
	topo := storageTopology()
	topo.Networks[netID("app")] = fixNet("app")
	data, err := json.Marshal(topo.Export())
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"networks", "containers", "volumes"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("export lacks %q: %s", key, data)
		}
	}
	var out struct {
		Volumes []struct {
			Name       string `json:"name"`
			Anonymous  bool   `json:"anonymous"`
			Unused     bool   `json:"unused"`
			Containers []struct {
				Name string `json:"name"`
				RW   bool   `json:"rw"`
			} `json:"containers"`
		} `json:"volumes"`
		Containers []struct {
			Name   string `json:"name"`
			Mounts []struct {
				Name        string `json:"name"`
				Destination string `json:"destination"`
				RW          bool   `json:"rw"`
			} `json:"mounts"`
		} `json:"containers"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, v := range out.Volumes {
		s := v.Name[:min(len(v.Name), 8)]
		if v.Anonymous {
			s += "(anon)"
		}
		if v.Unused {
			s += "(unused)"
		}
		for _, c := range v.Containers {
			s += " " + c.Name
			if !c.RW {
				s += ":ro"
			}
		}
		summary = append(summary, s)
	}
	want := "01234567(anon) mongo|cache api|data api backup:ro|old(unused)"
	if got := strings.Join(summary, "|"); got != want {
		t.Errorf("volumes = %q, want %q", got, want)
	}
	for _, c := range out.Containers {
		if c.Name == "backup" && (len(c.Mounts) != 2 || c.Mounts[0].Destination != "/src" || c.Mounts[0].RW) {
			t.Errorf("backup mounts = %+v", c.Mounts)
		}
	}
}

func TestWithVolumeUsageCopies(t *testing.T) {
	topo := storageTopology()
	sized := topo.WithVolumeUsage(map[string]model.VolumeUsage{"data": {Size: 4096, RefCount: 2}, "gone": {Size: 1}})
	if u := sized.Volumes["data"].Usage; u == nil || u.Size != 4096 || u.RefCount != 2 {
		t.Errorf("data usage = %+v", u)
	}
	if _, ok := sized.Volumes["gone"]; ok {
		t.Error("usage of a volume the topology lacks added it")
	}
	if topo.Volumes["data"].Usage != nil {
		t.Error("the original topology's volume was written")
	}
}
