package flowagent

import (
	"bytes"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Reader takes samples, reading a namespace's socket tables again only
// when something in it may have opened or closed a connection.
//
// Why: /proc/<pid>/net/tcp walks the host's whole established-connection
// hash table (one table for every namespace, sized by memory), 1 to 5 ms
// of kernel time per file here depending on load, so the two files of 70
// namespaces once a second cost half a core. So each sample asks two
// cheaper questions first, each namespace once however many of the asked
// PIDs share it:
//
//  1. Did any packet cross any of its interfaces (net/dev, lo included)?
//     A connection cannot open or close without one: the SYN, FIN or RST is
//     a packet. Most containers are idle most seconds (measured on 300
//     containers, 100 holding connections: 4 % of namespace-seconds moved,
//     keepalives every 15 s and ARP broadcasts), so usually the answer is
//     no and nothing else is read.
//  2. If so, did its TCP connection counters move (net/snmp: ActiveOpens,
//     PassiveOpens, CurrEstab, EstabResets)? Data and keepalives move
//     packets but not these.
//
// Only then are the tables read. Each answer is recorded before the next
// file is read, so an event between two reads moves the earlier file for
// the next sample, and is seen one sample later at the latest.
//
// The two small files are kept open and read again from offset 0 (a
// pread: the kernel makes the text anew for every read at offset 0): the
// path lookup of an open and the close cost three to five times the read
// itself (net/snmp: 50 µs opened and read, 10 µs read through a kept
// file). A kept file holds its namespace, not its process: read after the
// process ended, it shows the namespace the file keeps alive (its lo
// alone). So a process's end is watched apart (see exited), and the files
// of a namespace are closed as soon as no asked process is in it.
//
// What the counters miss, bounded by FullEvery: a connection whose peer
// closed and whose process has not yet (CLOSE_WAIT still counts in
// CurrEstab) is shown until the process closes it; one open counted
// before the last read that is established exactly as another closes; a
// close whose packets the namespace's own firewall drops before its
// interface. A listening port moves no counter either: a container's first
// sample reads its tables whole, which is when most ports open; one opened
// later shows at the first connection to it, or within FullEvery.
// (Reading net/sockstat{,6}, whose sockets in use would show it, doubled
// the agent's cost per container and sample when each read was an open.)
type Reader struct {
	proc string
	// FullEvery bounds how long a table is reused; 0 reads every time.
	FullEvery time.Duration
	// RefreshesPerSample caps the tables read in one sample only
	// because they are older than FullEvery. The namespaces of a
	// sampling's first sample would otherwise all expire together and
	// stall one sample (300 namespaces: 0.6 to 3 s) every FullEvery;
	// capped, they spread over the following samples.
	RefreshesPerSample int
	refreshes          int // left in this sample
	// Reads counts the table reads, CounterReads the reads of net/snmp,
	// for tests and measurements.
	Reads, CounterReads int
	// ended are the closed connections (TIME_WAIT) of the last sample:
	// each is reported once, in the first sample that sees it closed,
	// not in every sample of the minute the kernel keeps it. On an
	// engine with traffic they outnumber the established ones several
	// times, and topo only counts the new ones anyway.
	ended map[string]bool

	// pidfd: processes are watched through pidfds (the real /proc only:
	// the PIDs of a copy are not processes).
	pidfd bool
	procs map[int]*process
	// spaces are the namespaces of procs, by the inode of their net/dev
	// (each namespace has its own /proc/net entries, so two PIDs whose
	// net/dev has one inode are in one namespace, and the kept file
	// keeps the namespace, hence the inode, from being reused).
	spaces map[uint64]*space
	buf    []byte
}

// process is an asked PID the Reader keeps files for.
type process struct {
	pidfd int32 // -1: none, its directory is checked instead
	space *space
	ino   uint64 // the key of space in Reader.spaces; 0: a space of its own
}

// space is one network namespace: its kept files and last tables.
type space struct {
	refs     int
	dev      *os.File // nil: unreadable, then the gate always opens
	snmp     *os.File // nil: unreadable, then the tables are always read
	gate     []byte   // net/dev as last read
	counters [4]uint64
	counted  bool // counters hold a read
	read     bool // the fields below hold a table read
	at       time.Time
	key      string
	ns       Namespace // built from the tables, PIDs left empty
}

// NewReader returns a Reader of the tables under proc that reuses a
// table for about five minutes while its namespace stands still: a
// namespace's two tables cost 2 to 10 ms of kernel time here (more under
// load), so the refresh of 300 namespaces averages 0.2 to 1 % of a core.
func NewReader(proc string) *Reader {
	return &Reader{
		proc: proc, FullEvery: 5 * time.Minute, RefreshesPerSample: 2, ended: map[string]bool{},
		pidfd: proc == "/proc", procs: map[int]*process{}, spaces: map[uint64]*space{},
		buf: make([]byte, 16<<10),
	}
}

// Close closes the files the Reader keeps.
func (r *Reader) Close() {
	for pid := range r.procs {
		r.forget(pid)
	}
}

// Read takes one sample of the namespaces of pids.
func (r *Reader) Read(pids []int) Sample {
	s := Sample{Namespaces: []Namespace{}}
	fail := func(pid int, err error) {
		if s.Errors == nil {
			s.Errors = map[int]string{}
		}
		s.Errors[pid] = err.Error()
	}
	asked := make(map[int]bool, len(pids))
	for _, pid := range pids {
		asked[pid] = true
	}
	for pid := range r.procs {
		if !asked[pid] {
			r.forget(pid) // its container stopped or is no longer asked for
		}
	}
	for pid, err := range r.exited() {
		r.forget(pid)
		fail(pid, err)
	}
	for _, pid := range pids {
		if _, ok := r.procs[pid]; !ok && s.Errors[pid] == "" {
			if err := r.watch(pid); err != nil {
				fail(pid, err)
			}
		}
	}
	r.refreshes = r.RefreshesPerSample
	index := map[string]int{}
	done := map[*space]bool{}
	for _, pid := range pids {
		p, ok := r.procs[pid]
		if !ok {
			continue
		}
		sp := p.space
		if !done[sp] {
			// A failed read leaves the namespace to its next PID.
			if err := r.refresh(sp, r.proc+"/"+strconv.Itoa(pid)); err != nil {
				r.forget(pid)
				fail(pid, err)
				continue
			}
			done[sp] = true
		}
		if i, ok := index[sp.key]; ok {
			s.Namespaces[i].PIDs = append(s.Namespaces[i].PIDs, pid)
			continue
		}
		ns := sp.ns
		ns.PIDs = []int{pid}
		index[sp.key] = len(s.Namespaces)
		s.Namespaces = append(s.Namespaces, ns)
	}
	if r.ended != nil {
		now := make(map[string]bool, len(r.ended))
		for i := range s.Namespaces {
			ns := &s.Namespaces[i]
			var fresh []Conn
			for _, c := range ns.Ended {
				key := c.Local + ">" + c.Remote
				if !r.ended[key] {
					fresh = append(fresh, c)
				}
				now[key] = true
			}
			ns.Ended = fresh
		}
		r.ended = now
	}
	return s
}

// refresh reads the tables of sp (through the process at base) when its
// gate or its counters moved, or its tables are older than FullEvery.
func (r *Reader) refresh(sp *space, base string) error {
	fresh := sp.read && sp.counted && r.FullEvery > 0
	if fresh && time.Since(sp.at) >= r.FullEvery && r.refreshes > 0 {
		r.refreshes--
		fresh = false
	}
	if sp.dev != nil {
		n, err := r.readAt(sp.dev)
		if err == nil && fresh && bytes.Equal(sp.gate, r.buf[:n]) {
			return nil
		}
		if err == nil {
			sp.gate = append(sp.gate[:0], r.buf[:n]...)
		} else {
			sp.gate = sp.gate[:0]
		}
	}
	var counters [4]uint64
	counted := false
	if sp.snmp != nil {
		r.CounterReads++
		if n, err := r.readAt(sp.snmp); err == nil {
			counters, counted = tcpCounters(r.buf[:n])
		}
		if counted && fresh && counters == sp.counters {
			return nil
		}
	}
	socks, err := r.tables(base)
	if err != nil {
		sp.read = false // the gate just read no longer vouches for the last tables
		return err
	}
	sp.counters, sp.counted = counters, counted
	sp.read, sp.at = true, time.Now()
	sp.key = nsKey(base, socks)
	sp.ns = namespace(sp.key, socks)
	return nil
}

// readAt reads all of f from offset 0 into r.buf: one pread, into a
// buffer kept from sample to sample.
func (r *Reader) readAt(f *os.File) (int, error) {
	for {
		n, err := f.ReadAt(r.buf, 0)
		if n == len(r.buf) {
			// More than the buffer (a host's net/dev with many
			// interfaces): a larger one, kept for next time.
			r.buf = make([]byte, 2*len(r.buf))
			continue
		}
		if err == io.EOF {
			err = nil
		}
		return n, err
	}
}

// tables reads /proc/<pid>/net/tcp and tcp6 of the process at base.
func (r *Reader) tables(base string) ([]socket, error) {
	r.Reads++
	var socks []socket
	for _, name := range []string{"tcp", "tcp6"} {
		f, err := os.Open(base + "/net/" + name)
		if err != nil {
			// A kernel without IPv6 has no tcp6: only tcp's
			// absence means the process is gone.
			if name == "tcp" {
				return nil, err
			}
			continue
		}
		got, err := parseTable(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		socks = append(socks, got...)
	}
	return socks, nil
}

// namespace sorts the sockets of one namespace into its answer.
func namespace(key string, socks []socket) Namespace {
	ns := Namespace{Key: key}
	for _, sk := range socks {
		switch sk.state {
		case stateEstablished:
			ns.Conns = append(ns.Conns, Conn{Local: sk.local, Remote: sk.remote, Inode: sk.inode})
		case stateTimeWait:
			ns.Ended = append(ns.Ended, Conn{Local: sk.local, Remote: sk.remote})
		case stateListen:
			ns.Listen = append(ns.Listen, sk.local)
		}
	}
	sort.Strings(ns.Listen)
	return ns
}

// nsKey names the namespace of the process at base. Reading the link
// /proc/<pid>/ns/net is a ptrace-mode read: refused to an agent without
// CAP_SYS_PTRACE when the target holds capabilities the agent lacks (any
// container's root does), and the agent keeps no capability. The socket
// inodes then stand in: unique on the host, so one namespace's table
// names it. A namespace with no socket at all is keyed by its PID alone,
// which can only split it, never merge two: it has no connection to
// attribute either way.
func nsKey(base string, socks []socket) string {
	if link, err := os.Readlink(base + "/ns/net"); err == nil {
		return link
	}
	var lowest uint64
	for _, sk := range socks {
		if sk.inode != 0 && (lowest == 0 || sk.inode < lowest) {
			lowest = sk.inode
		}
	}
	if lowest == 0 {
		return "pid:" + strings.TrimPrefix(base[strings.LastIndex(base, "/"):], "/")
	}
	return "sockets:" + strconv.FormatUint(lowest, 10)
}
