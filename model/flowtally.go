package model

import "strconv"

// FlowTally sums the samples of a watch (`topo flows --for`): every flow
// seen, with the most connections it held at once, the connections new
// after the first sample, and the flag of any sample; a listener is used
// when any sample used it.
type FlowTally struct {
	Samples   int        `json:"samples"`
	Seconds   float64    `json:"seconds"`
	Flows     []Flow     `json:"flows"`
	Listeners []Listener `json:"listeners"`
	// NewPerSecond is per flow, in Flows' order: New over Seconds
	// (absent after a single sample, which has no "before").
	NewPerSecond []float64 `json:"new_per_second,omitempty"`
	// Nodes is the last sample's, on a swarm.
	Nodes     *FlowNodes `json:"nodes,omitempty"`
	flows     map[string]int
	listeners map[string]int
}

// Add counts one sample, taken seconds after the first.
func (t *FlowTally) Add(s FlowSample, seconds float64) {
	if t.flows == nil {
		t.flows, t.listeners = map[string]int{}, map[string]int{}
	}
	first := t.Samples == 0
	t.Samples++
	t.Seconds = seconds
	t.Nodes = s.Nodes
	for _, f := range s.Flows {
		k := f.Client.ID + "|" + f.Client.Name + "|" + f.Server.ID + "|" + f.Server.Name + "|" + strconv.Itoa(f.Port)
		i, ok := t.flows[k]
		if !ok {
			i = len(t.Flows)
			t.flows[k] = i
			t.Flows = append(t.Flows, Flow{Client: f.Client, Server: f.Server, Port: f.Port})
			t.NewPerSecond = append(t.NewPerSecond, 0)
		}
		g := &t.Flows[i]
		g.Conns = max(g.Conns, f.Conns)
		if !first {
			g.New += f.New
		}
		if g.Flag == "" {
			g.Flag = f.Flag
		}
	}
	for _, l := range s.Listeners {
		k := l.ID + "|" + l.Addr
		i, ok := t.listeners[k]
		if !ok {
			t.listeners[k] = len(t.Listeners)
			t.Listeners = append(t.Listeners, l)
			continue
		}
		t.Listeners[i].Used = t.Listeners[i].Used || l.Used
		t.Listeners[i].Outside = t.Listeners[i].Outside || l.Outside
	}
	for i := range t.Flows {
		if t.Seconds > 0 {
			t.NewPerSecond[i] = float64(t.Flows[i].New) / t.Seconds
		}
	}
}

// Flagged counts the flows held against the isolation model.
func (t FlowTally) Flagged() int { return FlowSample{Flows: t.Flows}.Flagged() }
