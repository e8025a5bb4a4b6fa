package flowagent

import (
	"sort"
	"time"
)

// Gather puts the lines of every node's agent (NodeLine, in the order
// each node printed them) back together into each node's namespaces, on
// topo's side.
type Gather struct {
	nodes map[string]*gathered
}

// gathered is one node's state.
type gathered struct {
	seq     uint64
	pending map[string]*Namespace // the sample being read
	lines   int
	current map[string]Namespace  // by key, Ended moved to ended
	keys    []string              // of the last complete sample
	ended   map[string]*Namespace // by key: Ended since the last Take
	at      time.Time             // when the last complete sample arrived
}

// NodeState is what one node's agent last said.
type NodeState struct {
	Namespaces []Namespace
	// At is when its last whole sample arrived.
	At time.Time
	// Whole: every namespace the node listed is known (false until a
	// reader that joined late has seen each one printed).
	Whole bool
}

// NewGather returns an empty Gather.
func NewGather() *Gather { return &Gather{nodes: map[string]*gathered{}} }

// Add takes one line, read at now.
func (g *Gather) Add(l NodeLine, now time.Time) {
	n := g.nodes[l.Node]
	if n == nil {
		n = &gathered{current: map[string]Namespace{}, ended: map[string]*Namespace{}}
		g.nodes[l.Node] = n
	}
	if l.Seq != n.seq {
		// A new sample (or the agent restarted, its Seq from 1 again):
		// what was pending of the last one is incomplete.
		n.seq, n.pending, n.lines = l.Seq, map[string]*Namespace{}, 0
	}
	switch {
	case l.NS != nil:
		n.lines++
		if p, ok := n.pending[l.NS.Key]; ok {
			p.Conns = append(p.Conns, l.NS.Conns...)
			p.Ended = append(p.Ended, l.NS.Ended...)
		} else {
			ns := *l.NS
			n.pending[ns.Key] = &ns
		}
	case l.End:
		if l.Lines != n.lines {
			// A line was lost: this sample's changes are dropped,
			// and the next full one makes the node whole again.
			n.pending = map[string]*Namespace{}
			return
		}
		n.commit(l.Keys, now)
	}
}

func (n *gathered) commit(keys []string, now time.Time) {
	for key, ns := range n.pending {
		if len(ns.Ended) > 0 {
			// Kept with the namespace's containers and ports: the
			// namespace may be gone by the next Take (its container
			// stopped), and its ended connections still count.
			e := n.ended[key]
			if e == nil {
				e = &Namespace{Key: key}
				n.ended[key] = e
			}
			e.Containers, e.Listen = ns.Containers, ns.Listen
			e.Ended = append(e.Ended, ns.Ended...)
		}
		ns.Ended = nil
		n.current[key] = *ns
	}
	listed := make(map[string]bool, len(keys))
	for _, k := range keys {
		listed[k] = true
	}
	for k := range n.current {
		if !listed[k] {
			delete(n.current, k)
		}
	}
	n.keys, n.at = keys, now
	n.pending = map[string]*Namespace{}
}

// Take returns each node's state, by node ID, the connections ended since
// the previous Take included once.
func (g *Gather) Take() map[string]NodeState {
	out := make(map[string]NodeState, len(g.nodes))
	for id, n := range g.nodes {
		if n.at.IsZero() {
			continue
		}
		st := NodeState{At: n.at, Whole: true}
		for _, k := range n.keys {
			ns, ok := n.current[k]
			if !ok {
				st.Whole = false
				continue
			}
			if e := n.ended[k]; e != nil {
				ns.Ended = e.Ended
				delete(n.ended, k)
			}
			st.Namespaces = append(st.Namespaces, ns)
		}
		for _, e := range n.ended {
			st.Namespaces = append(st.Namespaces, *e) // of a namespace gone since
		}
		n.ended = map[string]*Namespace{}
		sort.Slice(st.Namespaces, func(i, j int) bool { return st.Namespaces[i].Key < st.Namespaces[j].Key })
		out[id] = st
	}
	return out
}
