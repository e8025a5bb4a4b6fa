// Package flowagent is the half of topo's observed traffic that runs on
// the engine: topo's own static binary in one long-lived FROM scratch
// container with the host's PID namespace. Given the host PIDs of
// container processes, it reads each one's /proc/<pid>/net/tcp and tcp6,
// which show the sockets of the process's whole network namespace, and
// prints the established connections and listening ports of every
// namespace once, as one JSON line.
//
// Protocol: `topo flow-agent --idle` is the container's PID 1 and does
// nothing; topo starts one `docker exec -i` of `topo flow-agent --serve`
// per topo process and writes a line of space-separated PIDs for each
// sample; the agent answers each line with one JSON Sample line. The exec
// ends when topo closes its input. One exec per topo (not one per sample)
// keeps a sample to a pipe round trip rather than three engine calls.
// Within one exec a namespace's tables are read again only when its TCP
// counters moved (see Reader): reading them is the agent's whole cost.
//
// What the kernel gives here: /proc/net/tcp has no byte counters (they are
// in tcp_info, reachable only with sock_diag netlink from inside the
// namespace, which would need CAP_SYS_ADMIN to setns); so the agent reports
// connections, and topo derives new connections per second from
// successive samples.
//
// It depends on the standard library only.
package flowagent

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Command is the hidden subcommand that runs the agent.
const Command = "flow-agent"

// IdleArgs is the command line of the agent container's own process.
func IdleArgs() []string { return []string{Command, "--idle"} }

// ServeArgs is the command line of the exec that answers samples.
func ServeArgs() []string { return []string{"/topo", Command, "--serve"} }

// Conn is one established TCP connection as its namespace sees it.
type Conn struct {
	Local  string `json:"local"`  // IP:port
	Remote string `json:"remote"` // IP:port
	// Inode is the socket's inode: the same connection seen again in
	// the next sample has the same one, a new connection a new one.
	Inode uint64 `json:"inode"`
}

// Namespace is the sockets of one network namespace.
type Namespace struct {
	// Key identifies the namespace: "net:[inode]" when the agent may
	// read /proc/<pid>/ns/net, otherwise "sockets:<lowest socket
	// inode>" (socket inodes are unique on the host, so two namespaces
	// never share one).
	Key  string `json:"key"`
	PIDs []int  `json:"pids"`
	// Listen are the listening ports ("IP:port"; 0.0.0.0 or :: for any).
	Listen []string `json:"listen,omitempty"`
	Conns  []Conn   `json:"conns,omitempty"`
	// Ended are connections closed within the last minute (TIME_WAIT,
	// kept by the side that closed first): a client that opens a
	// connection per request (nginx to its upstream) holds each for
	// milliseconds, so a sample a second would almost never see it
	// established. Their inode is 0: the socket is gone. A Reader
	// reports each once (see Reader.ended).
	Ended []Conn `json:"ended,omitempty"`
}

// Sample is the answer to one line of PIDs.
type Sample struct {
	Namespaces []Namespace `json:"namespaces"`
	// Errors are per PID: a process gone between topo's inspect and the
	// read is normal and only means its container stopped.
	Errors map[int]string `json:"errors,omitempty"`
}

// Main runs the agent with the arguments after the subcommand and returns
// the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 1 && args[0] == "--idle":
		// PID 1 of its container: the kernel ignores SIGTERM for it
		// unless it is handled, and the engine stops it with SIGTERM.
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		return 0
	case len(args) == 1 && args[0] == "--serve":
		if err := Serve("/proc", stdin, stdout); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", Command, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "usage: topo %s --serve | --idle\n", Command)
	return 2
}

// Serve answers each line of PIDs on in with one JSON Sample line on out,
// reading the tables under proc (a /proc, or a copy of one in tests).
func Serve(proc string, in io.Reader, out io.Writer) error {
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	enc := json.NewEncoder(out)
	r := NewReader(proc)
	for scanner.Scan() {
		var pids []int
		for _, f := range strings.Fields(scanner.Text()) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
				pids = append(pids, pid)
			}
		}
		if err := enc.Encode(r.Read(pids)); err != nil {
			return fmt.Errorf("write a sample: %w", err)
		}
	}
	return scanner.Err()
}

// Read takes one sample of the namespaces of pids, reading every table.
func Read(proc string, pids []int) Sample { return (&Reader{proc: proc}).Read(pids) }

// Reader takes samples, reading a namespace's socket tables again only
// when its TCP counters moved.
//
// Why: /proc/<pid>/net/tcp walks the host's whole established-connection
// hash table (one table for every namespace, sized by memory: hundreds of
// thousands of buckets), about 4 ms of kernel time per file here, so the two
// files of 70 namespaces once a second cost half a core. /proc/<pid>/net/snmp is
// per namespace and cheap. A connection enters ESTABLISHED only after an
// open was counted (ActiveOpens, PassiveOpens) and raises CurrEstab; it
// leaves by our close (CurrEstab falls) or a reset (EstabResets). While
// those stand still the table read last time still holds, with two
// exceptions, both bounded by FullEvery: a connection whose peer closed and
// whose process has not yet (CLOSE_WAIT still counts in CurrEstab) is shown
// until the process closes it, and one open counted before the last read
// that is established exactly as another closes. Keepalives and data do
// not move these counters (segment counts would: every 15 s per idle Go
// connection), so a namespace that only holds connections costs nothing.
// A listening port moves no counter either: a container's first sample
// reads its tables whole, which is when most ports open; one opened later
// shows at the first connection to it, or within FullEvery. (Reading
// net/sockstat{,6}, whose sockets in use would show it, doubled the
// agent's cost per container and sample.)
type Reader struct {
	proc  string
	cache map[int]cached
	// FullEvery bounds how long a table is reused; 0 reads every time.
	FullEvery time.Duration
	// Reads counts the table reads, for tests and measurements.
	Reads int
	// ended are the closed connections (TIME_WAIT) of the last sample:
	// each is reported once, in the first sample that sees it closed,
	// not in every sample of the minute the kernel keeps it. On an
	// engine with traffic they outnumber the established ones several
	// times, and topo only counts the new ones anyway.
	ended map[string]bool
}

type cached struct {
	counters string
	socks    []socket
	at       time.Time
}

// NewReader returns a Reader of the tables under proc that reuses a
// table for up to five minutes while its namespace's connections stand
// still: each namespace's read costs about 8 ms of kernel time here, so
// the refresh of 300 namespaces averages under 1 % of a core.
func NewReader(proc string) *Reader {
	return &Reader{proc: proc, cache: map[int]cached{}, FullEvery: 5 * time.Minute, ended: map[string]bool{}}
}

// Read takes one sample of the namespaces of pids.
func (r *Reader) Read(pids []int) Sample {
	s := Sample{Namespaces: []Namespace{}}
	index := map[string]int{}
	seen := map[int]bool{}
	for _, pid := range pids {
		seen[pid] = true
		base := r.proc + "/" + strconv.Itoa(pid)
		counters := ""
		if r.cache != nil && r.FullEvery > 0 {
			counters = tcpCounters(base)
		}
		if c, ok := r.cache[pid]; ok && counters != "" && c.counters == counters && time.Since(c.at) < r.FullEvery {
			s.add(index, base, pid, c.socks)
			continue
		}
		var socks []socket
		var firstErr error
		r.Reads++
		for _, name := range []string{"tcp", "tcp6"} {
			f, err := os.Open(base + "/net/" + name)
			if err != nil {
				// A kernel without IPv6 has no tcp6: only tcp's
				// absence means the process is gone.
				if name == "tcp" {
					firstErr = err
				}
				continue
			}
			got, err := parseTable(f)
			f.Close()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			socks = append(socks, got...)
		}
		if firstErr != nil {
			if s.Errors == nil {
				s.Errors = map[int]string{}
			}
			s.Errors[pid] = firstErr.Error()
			continue
		}
		if r.cache != nil && counters != "" {
			r.cache[pid] = cached{counters: counters, socks: socks, at: time.Now()}
		}
		s.add(index, base, pid, socks)
	}
	for pid := range r.cache {
		if !seen[pid] {
			delete(r.cache, pid) // its container stopped or is no longer asked for
		}
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

// add puts the sockets of pid into the sample, once per namespace.
func (s *Sample) add(index map[string]int, base string, pid int, socks []socket) {
	key := nsKey(base, socks)
	if i, ok := index[key]; ok {
		s.Namespaces[i].PIDs = append(s.Namespaces[i].PIDs, pid)
		return
	}
	ns := Namespace{Key: key, PIDs: []int{pid}}
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
	index[key] = len(s.Namespaces)
	s.Namespaces = append(s.Namespaces, ns)
}

// tcpCounters returns the connection counters of the namespace of the
// process at base (from /proc/<pid>/net/snmp), "" when unreadable.
func tcpCounters(base string) string {
	data, err := os.ReadFile(base + "/net/snmp")
	if err != nil {
		return ""
	}
	var names, values []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "Tcp:") {
			continue
		}
		if names == nil {
			names = strings.Fields(line)
		} else {
			values = strings.Fields(line)
			break
		}
	}
	if len(values) != len(names) {
		return ""
	}
	var out []string
	for i, n := range names {
		switch n {
		case "ActiveOpens", "PassiveOpens", "CurrEstab", "EstabResets":
			out = append(out, values[i])
		}
	}
	if len(out) != 4 {
		return ""
	}
	return strings.Join(out, " ")
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
