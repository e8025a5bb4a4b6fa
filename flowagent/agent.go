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
// Within one exec a namespace's tables are read again only when its
// packets and then its TCP counters moved (see Reader): reading the tables
// is most of the agent's cost.
//
// What the kernel gives here: /proc/net/tcp has no byte counters (they are
// in tcp_info, reachable only with sock_diag netlink from inside the
// namespace, which would need CAP_SYS_ADMIN to setns); so the agent reports
// connections, and topo derives new connections per second from
// successive samples.
//
// On a swarm, topo reaches no container of another node: there the agent
// runs in the swarm mode instead (node.go), one task of a global service
// per node, finding the node's container processes by itself.
//
// It depends on the standard library only.
package flowagent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	PIDs []int  `json:"pids,omitempty"`
	// Containers are the IDs of the containers in the namespace, in
	// the swarm mode (NodeLine), where the agent finds them itself.
	Containers []string `json:"containers,omitempty"`
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
	// Same says the namespace is as this exec's last answer sent it:
	// only its key is sent (see elide).
	Same bool `json:"same,omitempty"`
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
	case len(args) == 2 && args[0] == "--node":
		if err := runNode(args[1], stdout, time.Second); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", Command, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "usage: topo %s --serve | --idle | --node PROC\n", Command)
	return 2
}

// Serve answers each line of PIDs on in with one JSON Sample line on out,
// reading the tables under proc (a /proc, or a copy of one in tests).
func Serve(proc string, in io.Reader, out io.Writer) error {
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	enc := json.NewEncoder(out)
	r := NewReader(proc)
	defer r.Close()
	var sent map[string][]byte
	for scanner.Scan() {
		var pids []int
		for _, f := range strings.Fields(scanner.Text()) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
				pids = append(pids, pid)
			}
		}
		s := r.Read(pids)
		s.Namespaces, sent = elide(s.Namespaces, sent)
		if err := enc.Encode(s); err != nil {
			return fmt.Errorf("write a sample: %w", err)
		}
	}
	return scanner.Err()
}

// elide replaces each namespace that is as the last answer sent it by its
// key alone (Same), and returns what this answer sends, for the next.
// Most namespaces are idle most seconds: at 300 containers, decoding the
// whole answer every second was a tenth of topo's CPU with flows on. One
// with ended connections is always sent whole, since those are reported
// once.
func elide(nss []Namespace, last map[string][]byte) ([]Namespace, map[string][]byte) {
	sent := make(map[string][]byte, len(nss))
	out := make([]Namespace, len(nss))
	for i, ns := range nss {
		out[i] = ns
		b, err := json.Marshal(ns)
		if err != nil {
			continue
		}
		sent[ns.Key] = b
		if len(ns.Ended) == 0 && last[ns.Key] != nil && bytes.Equal(b, last[ns.Key]) {
			out[i] = Namespace{Key: ns.Key, Same: true}
		}
	}
	return out, sent
}

// Read takes one sample of the namespaces of pids, reading every table.
func Read(proc string, pids []int) Sample {
	r := NewReader(proc)
	defer r.Close()
	r.FullEvery = 0
	return r.Read(pids)
}
