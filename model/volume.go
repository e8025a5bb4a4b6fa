package model

import (
	"sort"
	"strings"
	"time"
)

// Volume is one Docker volume: storage, a lane of its own kind.
type Volume struct {
	Name       string            `json:"name"`
	Driver     string            `json:"driver"`
	Scope      string            `json:"scope,omitempty"`
	Mountpoint string            `json:"mountpoint,omitempty"`
	Created    time.Time         `json:"created,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	// Anonymous says the engine named the volume itself (a VOLUME of an
	// image, or -v /path without a name): nobody chose its name, and it is
	// shown as anonymous rather than as 64 hex digits.
	Anonymous bool `json:"anonymous,omitempty"`
	// Usage is the engine's disk usage of the volume, read only on request
	// (it walks the volume's files: too slow for every sync); nil when
	// not asked.
	Usage *VolumeUsage `json:"usage,omitempty"`
}

// VolumeUsage is what `docker system df -v` reports for a volume; -1 means
// the driver does not say.
type VolumeUsage struct {
	Size     int64 `json:"size"`
	RefCount int64 `json:"ref_count"`
}

// LabelVolumeAnonymous is the label newer engines (API 1.42+) put on an
// anonymous volume; older ones only give it a random 64-hex name.
const LabelVolumeAnonymous = "com.docker.volume.anonymous"

// IsAnonymousVolume tells a volume the engine named from one a person
// named, by the engine's label or else its random 64-hex-digit name.
func IsAnonymousVolume(name string, labels map[string]string) bool {
	if _, ok := labels[LabelVolumeAnonymous]; ok {
		return true
	}
	if len(name) != 64 {
		return false
	}
	return strings.Trim(name, "0123456789abcdef") == ""
}

// Matches reports whether a volume matches a filter query as a container
// does: a case-insensitive substring of its name or of a label written as
// key=value.
func (v Volume) Matches(query string) bool {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" || strings.Contains(strings.ToLower(v.Name), q) {
		return true
	}
	for k, val := range v.Labels {
		if strings.Contains(strings.ToLower(k+"="+val), q) {
			return true
		}
	}
	return false
}

// Mount types, as the engine names them.
const (
	MountVolume = "volume"
	MountBind   = "bind"
	MountTmpfs  = "tmpfs"
)

// Mode is "rw" or "ro", as docker shows a mount.
func (m Mount) Mode() string {
	if m.ReadWrite {
		return "rw"
	}
	return "ro"
}

// EventVolume is the event type of volume create, destroy, mount and
// unmount.
const EventVolume = "volume"

// applyVolume keeps the volumes as the event says. Mount and unmount come
// when a container using the volume starts and stops: the container keeps
// the volume configured either way (its state says whether it runs), so a
// mount only fills in what the topology missed, a mount of a container read
// before its volume was created, and an unmount changes nothing drawn.
func (t *Topology) applyVolume(ev Event) {
	if t.Volumes == nil {
		t.Volumes = map[string]Volume{}
	}
	name := ev.ActorID
	switch ev.BaseAction() {
	case "create":
		if ev.Volume != nil {
			t.Volumes[ev.Volume.Name] = *ev.Volume
		} else if _, ok := t.Volumes[name]; !ok {
			t.Volumes[name] = Volume{Name: name, Driver: ev.Attributes["driver"], Created: ev.Time,
				Anonymous: IsAnonymousVolume(name, nil)}
		}
	case "destroy":
		delete(t.Volumes, name)
	case "mount":
		if _, ok := t.Volumes[name]; !ok {
			t.Volumes[name] = Volume{Name: name, Driver: ev.Attributes["driver"], Anonymous: IsAnonymousVolume(name, nil)}
		}
		c, ok := t.Containers[ev.Attributes["container"]]
		if !ok {
			return
		}
		dest := ev.Attributes["destination"]
		for _, m := range c.Mounts {
			if m.Type == MountVolume && m.Name == name && m.Destination == dest {
				return
			}
		}
		// Copy, as withoutEndpoint does: Container values are shared
		// between topology snapshots.
		mounts := append(append([]Mount(nil), c.Mounts...), Mount{Type: MountVolume, Name: name, Destination: dest,
			ReadWrite: ev.Attributes["read/write"] != "false"})
		c.Mounts = mounts
		t.Containers[c.ID] = c
	}
}

// sorted by name.
func (t Topology) UnusedVolumes() []Volume {
	used := map[string]bool{}
	for _, c := range t.Containers {
		for _, m := range c.Mounts {
			if m.Type == MountVolume {
				used[m.Name] = true
			}
		}
	}
	var out []Volume
	for name, v := range t.Volumes {
		if !used[name] {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// OrderedVolumes returns the volumes sorted by name, for the export.
func (t Topology) OrderedVolumes() []Volume {
	out := make([]Volume, 0, len(t.Volumes))
	for _, v := range t.Volumes {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// describeVolume renders a volume event for the event log, an anonymous
// volume by its short name.
func describeVolume(e Event, t Topology) string {
	name := e.ActorID
	if IsAnonymousVolume(name, nil) {
		name = "anonymous " + shortID(name)
	}
	switch e.BaseAction() {
	case "mount", "unmount":
		if e.Attributes["container"] == "" {
			break
		}
		cname := shortID(e.Attributes["container"])
		if c, ok := t.Containers[e.Attributes["container"]]; ok {
			cname = c.DisplayName()
		}
		return strings.TrimSpace(e.BaseAction() + " " + name + " → " + cname + " " + e.Attributes["destination"])
	}
	return strings.TrimSpace("volume " + e.Action + " " + name)
}

// WithVolumeUsage returns the topology with the sizes read on request
// (the docker adapter's VolumeUsage) set on its volumes. The volume map is
// copied, not written: topologies share it between snapshots.
func (t Topology) WithVolumeUsage(usage map[string]VolumeUsage) Topology {
	vols := make(map[string]Volume, len(t.Volumes))
	for name, v := range t.Volumes {
		if u, ok := usage[name]; ok {
			u := u
			v.Usage = &u
		}
		vols[name] = v
	}
	t.Volumes = vols
	return t
}
