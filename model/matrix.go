package model

import "sort"

// MatrixEntry is one row (and column) of the reachability matrix: a compose
// service with all its replicas, or a container outside compose.
type MatrixEntry struct {
	// Key is "project/service" for a service, the container ID otherwise.
	Key     string
	Label   string
	Service bool
	// Members are the container IDs, in replica order.
	Members []string
	side    side
}

// MatrixCell is the expectation between two entries.
type MatrixCell struct {
	// Self: the diagonal, an entry with itself.
	Self  bool
	Reach Reach
	Via   []string
}

// Matrix is the reachability of every service (or container) to every
// other. Cells are computed when asked for, so a screen of a 300-container
// matrix costs only the cells it shows.
type Matrix struct {
	Entries []MatrixEntry
	// Services reports whether any entry is a compose service.
	Services bool
	index    map[string]int
}

// Matrix groups the containers into compose services (containers outside
// compose stay on their own) and returns the matrix over them.
func (t Topology) Matrix() Matrix {
	m := Matrix{index: make(map[string]int, 2*len(t.Containers))}
	byKey := make(map[string]*MatrixEntry, len(t.Containers))
	var order []string
	names := map[string]map[string]bool{} // service name -> projects
	members := make(map[string][]Container, len(t.Containers))
	for _, c := range t.Containers {
		if isProbe(c) {
			continue
		}
		key, label, svc := c.ID, c.Name, false
		if s := c.Service(); s != "" {
			key, label, svc = c.Project()+"/"+s, s, true
			if names[s] == nil {
				names[s] = map[string]bool{}
			}
			names[s][c.Project()] = true
		}
		e, ok := byKey[key]
		if !ok {
			e = &MatrixEntry{Key: key, Label: label, Service: svc}
			byKey[key] = e
			order = append(order, key)
		}
		members[key] = append(members[key], c)
	}
	for _, key := range order {
		e := byKey[key]
		if e.Service && len(names[e.Label]) > 1 {
			e.Label = key
		}
		ms := members[key]
		sort.Slice(ms, func(i, j int) bool { return lessContainer(ms[i], ms[j]) })
		for _, c := range ms {
			e.Members = append(e.Members, c.ID)
		}
		if len(ms) == 1 {
			// Most rows are one container: its side is the row's.
			e.side = t.sideOf(ms[0])
		} else {
			e.side = t.serviceSide(ms)
		}
		m.Services = m.Services || e.Service
		m.Entries = append(m.Entries, *e)
	}
	sort.Slice(m.Entries, func(i, j int) bool {
		a, b := m.Entries[i], m.Entries[j]
		if a.Label != b.Label {
			return a.Label < b.Label
		}
		return a.Key < b.Key
	})
	for i, e := range m.Entries {
		m.index[e.Key] = i
		for _, id := range e.Members {
			m.index[id] = i
		}
	}
	return m
}

// serviceSide merges the sides of a service's replicas. They normally
// share one mode; when they do not, the most connected mode speaks for the
// row.
func (t Topology) serviceSide(ms []Container) side {
	out := side{nets: map[string]string{}}
	modes := map[NetMode]bool{}
	for _, c := range ms {
		s := t.sideOf(c)
		modes[s.mode] = true
		out.unknown = out.unknown || s.unknown
		out.bridged = out.bridged || s.bridged
		for id, n := range s.nets {
			out.nets[id] = n
		}
	}
	switch {
	case modes[NetModeNetworks]:
		out.mode = NetModeNetworks
	case modes[NetModeHost]:
		out.mode = NetModeHost
	default:
		out.mode = NetModeNone
	}
	return out
}

// Cell is the expectation from row's entry to col's.
func (m Matrix) Cell(row, col int) MatrixCell {
	if row == col {
		return MatrixCell{Self: true, Reach: Reachable}
	}
	r, via := judge(m.Entries[row].side, m.Entries[col].side)
	return MatrixCell{Reach: r, Via: via}
}

// Index finds the entry of a container ID or an entry key.
func (m Matrix) Index(ref string) (int, bool) {
	i, ok := m.index[ref]
	return i, ok
}
