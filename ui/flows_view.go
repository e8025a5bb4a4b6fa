package ui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/topo-dev/topo/model"
)

// This file draws the flows: the pane, the marks on the lanes' nodes, the
// details pane's lines and the event log's.

// endName is how a flow's end is written: outside addresses say so.
func endName(e model.FlowEnd) string {
	if e.Outside() {
		return "outside " + e.Name
	}
	return e.Name
}

// Badge is the mark after a node's address while flows are on: how many
// peers it talks with (⇄N), and ! when one of its flows is flagged.
func (p *FlowsPane) Badge(c model.Container) string {
	if !p.on || p.sample == nil {
		return ""
	}
	if p.badges == nil {
		p.badges = p.countPeers()
	}
	return p.badges[c.ID]
}

// countPeers draws every container's mark once per sample: the lanes ask
// for each node's at every drawing, and a busy engine has hundreds of
// flows.
func (p *FlowsPane) countPeers() map[string]string {
	peers := map[string]map[string]bool{}
	flagged := map[string]bool{}
	add := func(id string, peer model.FlowEnd, flag bool) {
		if id == "" {
			return
		}
		if peers[id] == nil {
			peers[id] = map[string]bool{}
		}
		peers[id][peer.ID+"|"+peer.Name] = true
		flagged[id] = flagged[id] || flag
	}
	for _, f := range p.sample.Flows {
		add(f.Client.ID, f.Server, f.Flag != "")
		add(f.Server.ID, f.Client, f.Flag != "")
	}
	out := make(map[string]string, len(peers))
	for id, ps := range peers {
		mark := "⇄" + strconv.Itoa(len(ps))
		if flagged[id] {
			out[id] = p.styles.Error.Render(mark + "!")
		} else {
			out[id] = p.styles.Accent.Render(mark)
		}
	}
	return out
}

// ordered returns the flows with each client's flows together, clients in
// the order traffic passes them: outside first, then each container after
// those that connect to it (lb before app before mongo), so a path reads
// top to bottom.
func ordered(flows []model.Flow) []model.Flow {
	depth := map[string]int{}
	end := func(e model.FlowEnd) string { return e.ID + "|" + e.Name }
	for range len(flows) {
		changed := false
		for _, f := range flows {
			if d := depth[end(f.Client)] + 1; d > depth[end(f.Server)] && d <= len(flows) {
				depth[end(f.Server)] = d
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	out := append([]model.Flow(nil), flows...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if da, db := depth[end(a.Client)], depth[end(b.Client)]; da != db {
			return da < db
		}
		if endName(a.Client) != endName(b.Client) {
			return endName(a.Client) < endName(b.Client)
		}
		if a.Server.Name != b.Server.Name {
			return a.Server.Name < b.Server.Name
		}
		return a.Port < b.Port
	})
	return out
}

// Title is the pane's title: how many paths, and how many flagged ("!"
// carries it without colour).
func (p *FlowsPane) Title() string {
	if p.sample == nil {
		return "flows"
	}
	shown := p.shown()
	t := "flows · " + plural(len(shown), "path")
	if n := (model.FlowSample{Flows: shown}).Flagged(); n > 0 {
		t += fmt.Sprintf(" · ! %d flagged", n)
	}
	return t + " · " + p.scope()
}

// scope says whose flows the pane shows: this engine's only (the
// default), or every node's, with how many report.
func (p *FlowsPane) scope() string {
	if !p.swarm {
		return "this engine"
	}
	n := p.sample.Nodes
	if n == nil {
		return "every node"
	}
	total := len(n.Reporting) + len(n.Silent)
	return fmt.Sprintf("every node (%d of %d reporting)", len(n.Reporting), total)
}

// View draws exactly height lines of at most width cells: the flows
// grouped per client, then the listeners worth a look. Short of room the
// column headings go first, then the listeners share a line, then the
// last flows give way to a count.
func (p *FlowsPane) View() string {
	if p.width <= 0 || p.height <= 0 {
		return ""
	}
	s := p.styles
	if p.sample == nil {
		how := "one container of topo's binary reads the kernel's socket tables; f removes it"
		if p.swarm {
			how = "a global service of topo's binary reads each node's socket tables; f removes it"
		}
		return padLines([]string{s.Muted.Render("starting the agent…"), s.Muted.Render(how)}, p.height)
	}
	flows := ordered(p.shown())
	var lines []string
	if len(flows) == 0 {
		lines = append(lines, s.Muted.Render("no established TCP connection between containers"))
	} else {
		lines = p.rows(flows)
	}
	var tail []string
	if p.sample.Nodes != nil {
		// Already inert: Update makes every message so.
		for _, why := range p.sample.Nodes.Silent {
			tail = append(tail, s.Warning.Render("no flows from node "+why))
		}
	}
	tail = append(tail, p.listenerLines()...)
	if len(lines)+len(tail) > p.height && len(flows) > 0 {
		lines = lines[1:]
	}
	if len(lines)+len(tail) > p.height && len(tail) > 1 {
		tail = []string{strings.Join(tail, s.Muted.Render(" · "))}
	}
	if len(lines)+len(tail) > p.height {
		// The paths first: the listeners are for a taller pane.
		tail = nil
	}
	if room := p.height - len(tail); len(lines) > room && room >= 2 {
		// The busiest paths stay, in path order, and the flagged ones.
		kept := busiest(flows, room-1)
		lines = append(p.rows(kept)[1:], s.Muted.Render(fmt.Sprintf("… %d more (topo flows lists all)", len(flows)-len(kept))))
	}
	lines = append(lines, tail...)
	for i := range lines {
		lines[i] = clip(lines[i], p.width)
	}
	return padLines(lines, p.height)
}

// busiest keeps n of flows: the flagged ones, then those holding the most
// connections plus new ones a second, in their order: on a short pane
// consumers → lb → app → mongo outlast a watch's single connection.
func busiest(flows []model.Flow, n int) []model.Flow {
	if len(flows) <= n {
		return flows
	}
	score := func(f model.Flow) int {
		if f.Flag != "" {
			return 1 << 30
		}
		return f.Conns + f.New
	}
	idx := make([]int, len(flows))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return score(flows[idx[a]]) > score(flows[idx[b]]) })
	idx = idx[:max(n, 0)]
	sort.Ints(idx)
	out := make([]model.Flow, 0, len(idx))
	for _, i := range idx {
		out = append(out, flows[i])
	}
	return out
}

// Lines is how many lines the pane's content takes at any width: it
// takes no more room under the lanes than its paths need.
func (p *FlowsPane) Lines(int) int {
	if p.sample == nil {
		return 2
	}
	return 1 + max(1, len(p.shown())) + len(p.listenerLines())
}

// rows are the column headings and one line per flow: "! client → server:port
// conns new/s", the client written once per group.
func (p *FlowsPane) rows(flows []model.Flow) []string {
	s := p.styles
	srcW, dstW := 4, 4
	for _, f := range flows {
		srcW = max(srcW, len([]rune(endName(f.Client))))
		dstW = max(dstW, len([]rune(endName(f.Server)))+1+len(strconv.Itoa(f.Port)))
	}
	const numbers = 6 + 7 // " conns" and " new/s"
	avail := max(8, p.width-2-3-numbers)
	// The client keeps its whole name when the servers leave it room:
	// "outside 172.20.0.1" cut short names nobody.
	srcW = min(srcW, max(avail/2, avail-dstW))
	dstW = min(dstW, max(4, avail-srcW))
	out := []string{s.Muted.Render("  " + fit("from", srcW) + "   " + fit("to", dstW) + " conns  new/s")}
	last := ""
	for _, f := range flows {
		mark := "  "
		if f.Flag != "" {
			mark = s.Error.Render("!") + " "
		}
		src := endName(f.Client)
		shown := src
		if src == last {
			shown = ""
		}
		last = src
		rate := "     -"
		if r, ok := p.rate(f); ok {
			rate = fmt.Sprintf("%6.1f", r)
		}
		dst := fit(endName(f.Server)+":"+strconv.Itoa(f.Port), dstW)
		if f.Flag != "" {
			dst = s.Error.Render(dst)
		}
		out = append(out, mark+fit(shown, srcW)+s.Muted.Render(" → ")+dst+fmt.Sprintf(" %5d %s", f.Conns, rate))
	}
	return out
}

// listenerLines say which listening ports nobody used in the sample and
// which are reachable from outside the engine's networks.
func (p *FlowsPane) listenerLines() []string {
	s := p.styles
	var unused, outside []string
	for _, l := range p.sample.Listeners {
		if p.match != nil && !p.match(l.ID) {
			continue
		}
		name := l.Name + ":" + strconv.Itoa(l.Port)
		if l.Outside {
			outside = append(outside, name)
		}
		if !l.Used {
			unused = append(unused, name)
		}
	}
	var out []string
	if len(outside) > 0 {
		out = append(out, s.Warning.Render("from outside: ")+strings.Join(dedupe(outside), ", "))
	}
	if len(unused) > 0 {
		out = append(out, s.Muted.Render("unused: ")+strings.Join(dedupe(unused), ", "))
	}
	return out
}

// dedupe drops repeats, keeping the first of each (a port listened on
// over IPv4 and IPv6 is one port to a person).
func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range list {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// DetailLines are the details pane's flows of container id: whom it talks
// to, who talks to it, and its listening ports; none while flows are off.
func (p *FlowsPane) DetailLines(id string) []string {
	if !p.on {
		return nil
	}
	s := p.styles
	if p.sample == nil {
		return []string{s.PaneTitle.Render("flows"), s.Muted.Render("  reading the socket tables…")}
	}
	line := func(arrow string, f model.Flow, peer string) string {
		l := "  " + arrow + " " + peer + " " + s.Muted.Render(plural(f.Conns, "conn"))
		if r, ok := p.rate(f); ok && r > 0 {
			l += s.Muted.Render(fmt.Sprintf(" · %.1f new/s", r))
		}
		if f.Flag != "" {
			l = s.Error.Render("!") + l[1:] + s.Error.Render(" — "+f.Flag)
		}
		return l
	}
	var to, from []string
	for _, f := range ordered(p.sample.Flows) {
		if f.Client.ID == id {
			to = append(to, line("→", f, endName(f.Server)+":"+strconv.Itoa(f.Port)))
		}
		if f.Server.ID == id {
			from = append(from, line("←", f, endName(f.Client)+" (to :"+strconv.Itoa(f.Port)+")"))
		}
	}
	var out []string
	out = append(out, s.PaneTitle.Render("talks to"))
	if len(to) == 0 {
		to = []string{s.Muted.Render("  nobody now")}
	}
	out = append(out, to...)
	out = append(out, s.PaneTitle.Render("talked to by"))
	if len(from) == 0 {
		from = []string{s.Muted.Render("  nobody now")}
	}
	out = append(out, from...)
	var listens []string
	seen := map[int]bool{}
	for _, l := range p.sample.Listeners {
		if l.ID != id || seen[l.Port] {
			continue
		}
		seen[l.Port] = true
		what := s.Muted.Render("in use")
		switch {
		case !l.Used && l.Outside:
			what = s.Warning.Render("reachable from outside") + s.Muted.Render(", unused")
		case l.Outside:
			what = s.Warning.Render("reachable from outside")
		case !l.Used:
			what = s.Muted.Render("unused")
		}
		listens = append(listens, "  :"+strconv.Itoa(l.Port)+" "+what)
	}
	if len(listens) > 0 {
		out = append(out, s.PaneTitle.Render("listens"))
		out = append(out, listens...)
	}
	return out
}

// flagLine is the event log's line for a newly flagged flow.
func flagLine(f model.Flow) string {
	return fmt.Sprintf("flow ! %s → %s:%d: %s", endName(f.Client), endName(f.Server), f.Port, f.Flag)
}
