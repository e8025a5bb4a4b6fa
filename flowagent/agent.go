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
	for scanner.Scan() {
		var pids []int
		for _, f := range strings.Fields(scanner.Text()) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
				pids = append(pids, pid)
			}
		}
		if err := enc.Encode(Read(proc, pids)); err != nil {
			return fmt.Errorf("write a sample: %w", err)
		}
	}
	return scanner.Err()
}

// Read takes one sample of the namespaces of pids.
func Read(proc string, pids []int) Sample {
	s := Sample{Namespaces: []Namespace{}}
	index := map[string]int{}
	for _, pid := range pids {
		base := proc + "/" + strconv.Itoa(pid)
		var socks []socket
		var firstErr error
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
		key := nsKey(base, socks)
		i, ok := index[key]
		if ok {
			s.Namespaces[i].PIDs = append(s.Namespaces[i].PIDs, pid)
			continue
		}
		ns := Namespace{Key: key, PIDs: []int{pid}}
		for _, sk := range socks {
			switch sk.state {
			case stateEstablished:
				ns.Conns = append(ns.Conns, Conn{Local: sk.local, Remote: sk.remote, Inode: sk.inode})
			case stateListen:
				ns.Listen = append(ns.Listen, sk.local)
			}
		}
		sort.Strings(ns.Listen)
		index[key] = len(s.Namespaces)
		s.Namespaces = append(s.Namespaces, ns)
	}
	return s
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
