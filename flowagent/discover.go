package flowagent

import (
	"bytes"
	"os"
	"sort"
	"strconv"
)

// Discoverer finds the container processes of a node by itself, for the
// swarm mode (see Node): there topo cannot inspect a container on another
// node for its PID, and the agent has no Docker socket to ask.
//
// Each process's /proc/<pid>/cgroup names its container: every runtime
// topo meets puts the 64-hex container ID in the cgroup path
// (cgroupfs "/docker/<id>", systemd "docker-<id>.scope", nested engines
// "/docker/<node>/docker/<id>", whose last ID is the inner container's;
// under a private cgroup namespace the path is relative, "/../<id>", and
// the ID is still there). The file is world-readable, so no capability is
// needed. Processes without an ID (the node's own daemons) are skipped.
type Discoverer struct {
	proc string
	// known maps a PID to its container ID ("" for none), read once per
	// process: the cgroup of a running process does not change in
	// practice, and reading it anew for every process each second would
	// cost more than the sample itself on a busy node. A PID gone from
	// the listing is forgotten, so a reused PID is read again unless it
	// was reused within one listing interval.
	known map[int]string
}

// NewDiscoverer returns a Discoverer of the processes under proc (the
// host's /proc, mounted somewhere in the agent's container).
func NewDiscoverer(proc string) *Discoverer {
	return &Discoverer{proc: proc, known: map[int]string{}}
}

// Containers returns each container's lowest PID, by container ID. The
// lowest is kept because it is stable while the container runs (its first
// process, usually), so the Reader keeps its files from sample to sample.
func (d *Discoverer) Containers() (map[string]int, error) {
	dir, err := os.Open(d.proc)
	if err != nil {
		return nil, err
	}
	names, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return nil, err
	}
	seen := make(map[int]bool, len(names))
	out := map[string]int{}
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 {
			continue
		}
		seen[pid] = true
		id, ok := d.known[pid]
		if !ok {
			id = d.containerOf(pid)
			d.known[pid] = id
		}
		if id == "" {
			continue
		}
		if p, ok := out[id]; !ok || pid < p {
			out[id] = pid
		}
	}
	for pid := range d.known {
		if !seen[pid] {
			delete(d.known, pid)
		}
	}
	return out, nil
}

// containerOf reads the container ID of pid's cgroup, "" when none.
func (d *Discoverer) containerOf(pid int) string {
	data, err := os.ReadFile(d.proc + "/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return ""
	}
	return ContainerIDOfCgroup(data)
}

// ContainerIDOfCgroup returns the last 64-hex-digit run of a
// /proc/<pid>/cgroup text, "" when it has none. Every hierarchy of one
// process names the same container, so the first line holding an ID
// decides.
func ContainerIDOfCgroup(data []byte) string {
	for _, line := range bytes.Split(data, []byte("\n")) {
		if id := lastID(line); id != "" {
			return id
		}
	}
	return ""
}

func lastID(line []byte) string {
	found := ""
	run := 0
	for i := 0; i <= len(line); i++ {
		if i < len(line) && isLowerHex(line[i]) {
			run++
			continue
		}
		if run == 64 {
			found = string(line[i-64 : i])
		}
		run = 0
	}
	return found
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// sortedPIDs returns the PIDs of containers, in a stable order.
func sortedPIDs(containers map[string]int) []int {
	pids := make([]int, 0, len(containers))
	for _, pid := range containers {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	return pids
}
