package model

import "sort"

// The storage grid: volumes (and bind mounts when asked) as lanes, and the
// containers that mount them in columns, as Layout does for networks.

// StorageKind tells volume lanes from bind-mount lanes.
type StorageKind string

// The kinds of storage lane.
const (
	StorageVolume StorageKind = "volume"
	StorageBind   StorageKind = "bind"
)

// StorageMember is a container as seen from one storage lane: where it
// mounts it and how.
type StorageMember struct {
	ContainerID string `json:"id"`
	Name        string `json:"name"`
	Destination string `json:"destination"`
	ReadWrite   bool   `json:"rw"`
}

// Mode is "rw" or "ro".
func (m StorageMember) Mode() string { return Mount{ReadWrite: m.ReadWrite}.Mode() }

// StorageLane is one row of the storage view: a volume, or a host path
// bind-mounted into containers.
type StorageLane struct {
	Kind StorageKind `json:"kind"`
	// Name is the volume's name, or the host path of a bind mount.
	Name string `json:"name"`
	// Volume is set for a volume lane the engine listed; a volume lane
	// without it names a volume a container mounts that the topology has
	// not read yet.
	Volume  *Volume         `json:"volume,omitempty"`
	Members []StorageMember `json:"containers"`
}

// Unused says no container mounts the volume: it outlived its containers
// (or never had one), and `docker volume prune` would take it.
func (l StorageLane) Unused() bool { return len(l.Members) == 0 }

// Anonymous says the lane is a volume the engine named.
func (l StorageLane) Anonymous() bool {
	if l.Volume != nil {
		return l.Volume.Anonymous
	}
	return l.Kind == StorageVolume && IsAnonymousVolume(l.Name, nil)
}

// StorageOptions choose what the storage grid shows.
type StorageOptions struct {
	// Binds adds a lane per host path bind-mounted into any container.
	Binds bool
	// Filter keeps only containers that Match it (and the lanes they
	// use), and the unused volumes that match it themselves.
	Filter string
}

// StorageLayout places volumes on a grid as Layout places networks: one
// row per volume (or bind-mounted host path), one column per container
// mounting any of them, shared by every row, so a volume two containers
// share shows both in their own columns. Lanes in use come first, named
// volumes before anonymous ones, then by name; unused volumes last.
type StorageLayout struct {
	Lanes []StorageLane
	// Columns holds container IDs in column order.
	Columns []string
	colOf   map[string]int
}

// Column returns the column of a container, or -1.
func (s StorageLayout) Column(id string) int {
	if c, ok := s.colOf[id]; ok {
		return c
	}
	return -1
}

// Cell says whether the container of column col mounts lane's storage,
// and how.
func (s StorageLayout) Cell(lane, col int) (StorageMember, bool) {
	if lane < 0 || lane >= len(s.Lanes) || col < 0 || col >= len(s.Columns) {
		return StorageMember{}, false
	}
	id := s.Columns[col]
	for _, m := range s.Lanes[lane].Members {
		if m.ContainerID == id {
			return m, true
		}
	}
	return StorageMember{}, false
}

// StorageLayout computes the storage grid.
func (t Topology) StorageLayout(opts StorageOptions) StorageLayout {
	out := StorageLayout{Lanes: orderStorageLanes(t.storageLanes(opts), opts), colOf: map[string]int{}}
	for i, id := range storageColumns(out.Lanes) {
		out.Columns = append(out.Columns, id)
		out.colOf[id] = i
	}
	return out
}

// storageLanes gathers every volume, and with opts.Binds every bind
// mount's host path, with the containers that mount it.
func (t Topology) storageLanes(opts StorageOptions) map[string]*StorageLane {
	lanes := map[string]*StorageLane{}
	key := func(kind StorageKind, name string) string { return string(kind) + "\x00" + name }
	for name, v := range t.Volumes {
		v := v
		lanes[key(StorageVolume, name)] = &StorageLane{Kind: StorageVolume, Name: name, Volume: &v}
	}
	running := t.RunningSwarmTasks()
	for _, c := range t.Containers {
		if !c.Matches(opts.Filter) || c.SupersededTask(running) {
			continue
		}
		for _, m := range c.Mounts {
			var k string
			var kind StorageKind
			var name string
			switch {
			case m.Type == MountVolume && m.Name != "":
				kind, name = StorageVolume, m.Name
			case m.Type == MountBind && opts.Binds && m.Source != "":
				kind, name = StorageBind, m.Source
			default:
				continue
			}
			k = key(kind, name)
			l := lanes[k]
			if l == nil {
				l = &StorageLane{Kind: kind, Name: name}
				lanes[k] = l
			}
			l.Members = append(l.Members, StorageMember{ContainerID: c.ID, Name: c.Name, Destination: m.Destination, ReadWrite: m.ReadWrite})
		}
	}
	return lanes
}

// orderStorageLanes keeps the lanes the filter shows and orders them:
// used before unused, volumes before bind mounts, named before
// anonymous, then by name; members by name.
func orderStorageLanes(lanes map[string]*StorageLane, opts StorageOptions) []StorageLane {
	var out []StorageLane
	for _, l := range lanes {
		if l.Unused() && (l.Volume == nil || !l.Volume.Matches(opts.Filter)) {
			continue
		}
		sort.Slice(l.Members, func(i, j int) bool {
			a, b := l.Members[i], l.Members[j]
			if a.Name != b.Name {
				return a.Name < b.Name
			}
			if a.ContainerID != b.ContainerID {
				return a.ContainerID < b.ContainerID
			}
			return a.Destination < b.Destination
		})
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Unused() != b.Unused() {
			return !a.Unused()
		}
		if a.Kind != b.Kind {
			return a.Kind == StorageVolume
		}
		if a.Anonymous() != b.Anonymous() {
			return !a.Anonymous()
		}
		return a.Name < b.Name
	})
	return out
}

// storageColumns orders the containers as Layout does: by first lane,
// then last lane, then name, so a volume's users stand together and one
// using two volumes stands between their groups.
func storageColumns(lanes []StorageLane) []string {
	type placed struct {
		id, name    string
		first, last int
	}
	seen := map[string]*placed{}
	var cols []*placed
	for i, l := range lanes {
		for _, m := range l.Members {
			p := seen[m.ContainerID]
			if p == nil {
				p = &placed{id: m.ContainerID, name: m.Name, first: i}
				seen[m.ContainerID] = p
				cols = append(cols, p)
			}
			p.last = i
		}
	}
	sort.SliceStable(cols, func(i, j int) bool {
		a, b := cols[i], cols[j]
		if a.first != b.first {
			return a.first < b.first
		}
		if a.last != b.last {
			return a.last < b.last
		}
		if a.name != b.name {
			return a.name < b.name
		}
		return a.id < b.id
	})
	ids := make([]string, len(cols))
	for i, p := range cols {
		ids[i] = p.id
	}
	return ids
}

// UnusedVolumes are the volumes no container of the topology mounts,
