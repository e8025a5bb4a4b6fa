package model

// holdAgainstIsolation flags flows the isolation model forbids: between
// two containers it says cannot reach each other, or relayed across
// networks by a container not labelled as a bridge.
func (t Topology) holdAgainstIsolation(flows []Flow) {
	reach := func(a, b string) Reach {
		ca, okA := t.Containers[a]
		cb, okB := t.Containers[b]
		if !okA || !okB {
			return ReachUnknown
		}
		oa, _, _ := t.namespace(ca)
		ob, _, _ := t.namespace(cb)
		if oa.ID == ob.ID {
			return Reachable
		}
		r, _ := judge(t.sideOf(ca), t.sideOf(cb))
		return r
	}
	for i, f := range flows {
		if f.Client.Outside() || f.Server.Outside() {
			continue
		}
		if reach(f.Client.ID, f.Server.ID) == Isolated {
			flows[i].Flag = "isolation says " + f.Client.Name + " cannot reach " + f.Server.Name + " (no shared network)"
		}
	}
	for i, in := range flows {
		if in.Flag != "" || in.Client.Outside() || in.Server.Outside() {
			continue
		}
		relay := t.Containers[in.Server.ID]
		if relay.Labels[LabelBridge] != "" {
			continue
		}
		for j, out := range flows {
			if out.Client.ID != relay.ID || out.Server.Outside() || out.Server.ID == in.Client.ID {
				continue
			}
			if in.Server.Network == "" || out.Client.Network == "" || in.Server.Network == out.Client.Network {
				continue
			}
			if reach(in.Client.ID, out.Server.ID) != Isolated {
				continue
			}
			why := in.Client.Name + " reaches " + out.Server.Name + " across " + in.Server.Network + " → " + out.Client.Network +
				" through " + relay.DisplayName() + ", which is not labelled " + LabelBridge
			if flows[i].Flag == "" {
				flows[i].Flag = why
			}
			if flows[j].Flag == "" {
				flows[j].Flag = why
			}
		}
	}
}
