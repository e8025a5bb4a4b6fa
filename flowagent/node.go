package flowagent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"
)

// The swarm mode: `topo flow-agent --node PROC` is the process of each
// task of topo's global flow service, one per node. It cannot be told
// PIDs (topo reaches no container of another node), so it finds the
// node's container processes itself (Discoverer) and prints what it reads
// to its standard output, which the node's engine keeps as the task's log
// and the manager gathers from every node (docker service logs): topo
// reads them all from the manager.
//
// Output: a sample is zero or more namespace lines then one end line, all
// with the sample's Seq. Only namespaces that changed since the previous
// sample are printed, every namespace each FullEvery (so a reader that
// joins late, or lost a line, is whole again soon): an idle node costs
// one short line a second in its log, not its whole table. A namespace of
// many connections is cut into lines of at most chunkConns connections,
// since engines split log lines longer than 16 KiB into pieces.

// NodeLine is one line of the swarm mode's output.
type NodeLine struct {
	// Node is the swarm node's ID (the service sets it in the task's
	// environment from a template).
	Node string `json:"node"`
	Seq  uint64 `json:"seq"`
	// NS is a namespace that changed, or a further chunk of its
	// connections (the same Key again within one Seq).
	NS *Namespace `json:"ns,omitempty"`
	// End closes the sample: Lines is how many namespace lines it had
	// (a reader that counted fewer lost some and drops the sample), and
	// Keys lists every namespace the node holds now (one no longer
	// listed is gone).
	End   bool     `json:"end,omitempty"`
	Lines int      `json:"lines,omitempty"`
	Keys  []string `json:"keys,omitempty"`
	Full  bool     `json:"full,omitempty"`
}

// NodeEnv is the environment variable that names the node to the agent.
const NodeEnv = "TOPO_FLOW_NODE"

// NodeArgs is the command line of a task of topo's flow service, reading
// the host's processes under proc.
func NodeArgs(proc string) []string { return []string{Command, "--node", proc} }

// chunkConns bounds the connections of one line: about 100 bytes each,
// so a line stays well under the 16 KiB at which engines split log lines.
const chunkConns = 64

// nodeFullEvery is how often every namespace is printed again.
const nodeFullEvery = 5 * time.Second

// NodeWriter prints the samples of one node.
type NodeWriter struct {
	node     string
	disc     *Discoverer
	reader   *Reader
	enc      *json.Encoder
	seq      uint64
	lastFull time.Time
	last     map[string][]byte // key -> the namespace as last printed
}

// NewNodeWriter returns a writer of the node's samples to out, reading
// the processes under proc.
func NewNodeWriter(node, proc string, out io.Writer) *NodeWriter {
	return &NodeWriter{node: node, disc: NewDiscoverer(proc), reader: NewReader(proc),
		enc: json.NewEncoder(out), last: map[string][]byte{}}
}

// Close closes the files the writer keeps.
func (w *NodeWriter) Close() { w.reader.Close() }

// Write takes one sample and prints it.
func (w *NodeWriter) Write() error {
	containers, err := w.disc.Containers()
	if err != nil {
		return fmt.Errorf("list the node's processes: %w", err)
	}
	byPID := make(map[int]string, len(containers))
	for id, pid := range containers {
		byPID[pid] = id
	}
	s := w.reader.Read(sortedPIDs(containers))
	w.seq++
	full := time.Since(w.lastFull) >= nodeFullEvery
	if full {
		w.lastFull = time.Now()
	}
	end := NodeLine{Node: w.node, Seq: w.seq, End: true, Full: full, Keys: []string{}}
	now := map[string][]byte{}
	for _, ns := range s.Namespaces {
		for _, pid := range ns.PIDs {
			ns.Containers = append(ns.Containers, byPID[pid])
		}
		sort.Strings(ns.Containers)
		ns.PIDs = nil
		data, err := json.Marshal(ns)
		if err != nil {
			return err
		}
		now[ns.Key] = data
		end.Keys = append(end.Keys, ns.Key)
		if !full && bytes.Equal(w.last[ns.Key], data) {
			continue
		}
		n, err := w.print(ns)
		if err != nil {
			return err
		}
		end.Lines += n
	}
	w.last = now
	sort.Strings(end.Keys)
	return w.enc.Encode(end)
}

// print writes ns in lines of at most chunkConns connections (the
// established and the ended together), and says how many.
func (w *NodeWriter) print(ns Namespace) (int, error) {
	conns, ended := ns.Conns, ns.Ended
	lines := 0
	for first := true; first || len(conns) > 0 || len(ended) > 0; first = false {
		part := Namespace{Key: ns.Key}
		if first {
			part.Containers, part.Listen = ns.Containers, ns.Listen
		}
		n := min(len(conns), chunkConns)
		part.Conns, conns = conns[:n], conns[n:]
		m := min(len(ended), chunkConns-n)
		part.Ended, ended = ended[:m], ended[m:]
		if err := w.enc.Encode(NodeLine{Node: w.node, Seq: w.seq, NS: &part}); err != nil {
			return lines, err
		}
		lines++
	}
	return lines, nil
}

// runNode prints a sample every interval until SIGTERM (the engine's stop)
// or a write fails.
func runNode(proc string, out io.Writer, interval time.Duration) error {
	w := NewNodeWriter(os.Getenv(NodeEnv), proc, out)
	defer w.Close()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := w.Write(); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
	}
}
