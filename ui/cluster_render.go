package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/topo-dev/topo/model"
)

// Drawing the cluster view: services, the node header, the overlay lanes
// and the lines about the selection.

// View draws the cluster.
func (v *ClusterView) View() string {
	if v.cache != "" {
		return v.cache
	}
	if v.width <= 0 || v.height <= 0 {
		return ""
	}
	var lines []string
	lines = append(lines, v.renderServices()...)
	lines = append(lines, v.renderNodeHeader()...)
	lines = append(lines, v.renderLanes()...)
	lines = append(lines, v.renderInfo()...)
	for i := range lines {
		lines[i] = ansiFit(lines[i], v.width)
	}
	v.cache = strings.Join(lines, "\n")
	return v.cache
}

func (v *ClusterView) renderServices() []string {
	s := v.styles
	h := v.servicesHeight()
	if len(v.services) == 0 {
		return []string{s.Muted.Render("no services: docker service create, or topo demo up --swarm")}
	}
	nameW := 14
	if v.width >= 120 {
		nameW = 24
	}
	var out []string
	for i := v.svcOffset; i < len(v.services) && len(out) < h; i++ {
		sv := v.services[i]
		selected := v.sel.kind == SelectService && v.sel.id == sv.ID
		marker := " "
		nameStyle := s.Bold
		if selected {
			marker = "▶"
			nameStyle = nameStyle.Inherit(s.Selected)
		}
		running, desired := v.cluster.Replicas(sv.ID)
		converging := v.cluster.ServiceConverging(sv.ID)
		replicas := fmt.Sprintf("%d/%d", running, desired)
		if p, ok := v.pending[sv.ID]; ok {
			replicas = fmt.Sprintf("%d/%d→%d", running, desired, p)
		}
		if sv.Global() {
			replicas = "global " + replicas
		}
		repStyle := s.Healthy
		switch {
		case running == 0 && desired > 0:
			repStyle = s.Failing
		case converging || running != desired:
			repStyle = s.Warning
		}
		status, statusStyle := updateWords(sv.UpdateState), s.Muted
		switch {
		case sv.UpdateState == model.UpdatePaused || sv.UpdateState == model.UpdateRollbackPaused:
			statusStyle = s.Failing
		case sv.Updating():
			statusStyle = s.Warning
		case converging:
			status, statusStyle = "converging", s.Warning
		}
		var ports []string
		for _, p := range sv.Ports {
			ports = append(ports, p.String())
		}
		// Ports before the image: at 80 columns the image is what gets
		// cut, and the tag matters less than where the service answers.
		line := marker + nameStyle.Render(fit(sv.DisplayName(), nameW)) + " " +
			repStyle.Render(fit(replicas, 12)) + " " + statusStyle.Render(fit(status, 16)) + " " +
			s.Muted.Render(fit(sv.EndpointMode, 5)) + " "
		if len(ports) > 0 {
			line += " " + s.Accent.Render(strings.Join(ports, ", ")) + " "
		}
		line += " " + sv.Image
		out = append(out, line)
	}
	if len(v.services) > h {
		more := len(v.services) - v.svcOffset - len(out)
		if more > 0 && len(out) > 0 {
			last := len(out) - 1
			out[last] = ansiFit(out[last], v.width-8) + s.Muted.Render(fmt.Sprintf(" +%d ↓", more))
		}
	}
	return out
}

// updateWords says a service's update state the way a person would.
func updateWords(state string) string {
	switch state {
	case "":
		return "steady"
	case model.UpdateCompleted:
		return "updated"
	case model.UpdatePaused:
		return "update paused"
	case model.UpdateRollbackStarted:
		return "rolling back"
	case model.UpdateRollbackPaused:
		return "rollback paused"
	case model.UpdateRollbackDone:
		return "rolled back"
	}
	return strings.ReplaceAll(state, "_", " ")
}

// nodeMark is a node's role as one symbol: ★ the leader, ◆ another
// manager, · a worker.
func nodeMark(n model.Node) string {
	switch {
	case n.Leader:
		return "★"
	case n.Role == model.RoleManager:
		return "◆"
	}
	return "·"
}

// nodeStatus is the second header line of a node column: what needs
// attention in capitals first, and the engine version if it fits w.
func (v *ClusterView) nodeStatus(n model.Node, w int) string {
	s := v.styles
	var parts []string
	switch n.State {
	case model.NodeReady:
		parts = append(parts, s.Healthy.Render("ready"))
	case model.NodeDown:
		parts = append(parts, s.Error.Render("✖ DOWN"))
	default:
		parts = append(parts, s.Warning.Render("? "+strings.ToUpper(string(n.State))))
	}
	switch n.Availability {
	case model.AvailabilityActive:
		parts = append(parts, s.Muted.Render("active"))
	case model.AvailabilityDrain:
		parts = append(parts, s.Warning.Bold(true).Render("⏏ DRAIN"))
	default:
		parts = append(parts, s.Warning.Bold(true).Render("‖ "+strings.ToUpper(string(n.Availability))))
	}
	line := strings.Join(parts, s.Muted.Render(" · "))
	if version := strings.SplitN(n.EngineVersion, "+", 2)[0]; version != "" {
		if with := line + s.Muted.Render(" · "+version); ansi.StringWidth(with) <= w {
			line = with
		}
	}
	return line
}

func (v *ClusterView) renderNodeHeader() []string {
	s := v.styles
	cw := v.columnWidth()
	var top, bottom strings.Builder
	first, last := v.colOffset, min(v.columnCount(), v.colOffset+v.visibleColumns())
	for col := first; col < last; col++ {
		sep := s.Muted.Render("│")
		if col == first {
			sep = " "
		}
		if col >= len(v.nodes) {
			top.WriteString(padTo(sep+" "+s.Warning.Render("(no node yet)"), cw))
			bottom.WriteString(padTo(sep+" "+s.Muted.Render("pending placement"), cw))
			continue
		}
		n := v.nodes[col]
		selected := v.sel.kind == SelectNode && v.sel.id == n.ID
		marker := " "
		nameStyle := s.Bold
		if n.State == model.NodeDown {
			nameStyle = s.Failing.Bold(true)
		}
		if selected {
			marker = "▶"
			nameStyle = nameStyle.Inherit(s.Selected)
		}
		name := n.Hostname
		if n.ID == v.cluster.LocalNodeID {
			name += " *"
		}
		top.WriteString(padTo(sep+marker+nodeMark(n)+" "+nameStyle.Render(fit(name, cw-5)), cw))
		bottom.WriteString(padTo(sep+"  "+ansi.Truncate(v.nodeStatus(n, cw-3), cw-3, "…"), cw))
	}
	return []string{top.String(), bottom.String()}
}

func (v *ClusterView) renderLanes() []string {
	var all []string
	for _, l := range v.lanes {
		all = append(all, v.renderLaneHeader(l))
		rows := laneLines(l) - 1
		for r := 0; r < rows; r++ {
			all = append(all, v.renderLaneRow(l, r))
		}
	}
	h := v.lanesHeight()
	if len(v.lanes) == 0 {
		all = []string{v.styles.Muted.Render("no overlay networks")}
	}
	end := min(len(all), v.lineOffset+h)
	visible := append([]string(nil), all[min(v.lineOffset, end):end]...)
	if v.lineOffset > 0 && len(visible) > 0 {
		visible[0] = ansiFit(visible[0], v.width-3) + v.styles.Muted.Render(" ↑")
	}
	if end < len(all) && len(visible) > 0 {
		last := len(visible) - 1
		visible[last] = ansiFit(visible[last], v.width-3) + v.styles.Muted.Render(" ↓")
	}
	for len(visible) < h {
		visible = append(visible, "")
	}
	return visible
}

// renderLaneHeader is a lane's rule with its title: the overlay, its
// subnet and task count; the ingress lane also lists what it publishes.
func (v *ClusterView) renderLaneHeader(l model.ClusterLane) string {
	s := v.styles
	n := l.Network
	meta := ""
	switch {
	case n.ID == model.NoOverlay:
		meta = "host or bridge networking"
	case n.Ingress:
		meta = "routing mesh"
		var pub []string
		for _, sv := range v.services {
			for _, p := range sv.Ports {
				if p.Mode != "host" && p.Published != 0 {
					pub = append(pub, fmt.Sprintf(":%d→%s", p.Published, sv.DisplayName()))
				}
			}
		}
		if len(pub) > 0 {
			meta += " · publishes " + strings.Join(pub, ", ")
		}
	default:
		meta = n.Driver
		if len(n.Subnets) > 0 {
			meta += " " + strings.Join(n.Subnets, ",")
		}
	}
	switch c := l.Count(); c {
	case 0:
		meta += " · empty"
	case 1:
		meta += " · 1 task"
	default:
		meta += fmt.Sprintf(" · %d tasks", c)
	}
	title := " " + n.Name + " "
	text := fit(title+meta+" ", max(0, v.width-5))
	text = strings.TrimRight(text, " ") + " "
	tw := min(ansi.StringWidth(title), ansi.StringWidth(text))
	rest := max(0, v.width-3-ansi.StringWidth(text))
	return s.LaneRule.Render("━━━") + s.LaneTitle.Render(ansi.Truncate(text, tw, "")) +
		s.Muted.Render(ansi.TruncateLeft(text, tw, "")) + s.LaneRule.Render(strings.Repeat("━", rest))
}

// renderLaneRow draws row r of a lane: the r-th task of each node column.
func (v *ClusterView) renderLaneRow(l model.ClusterLane, r int) string {
	s := v.styles
	cw := v.columnWidth()
	var b strings.Builder
	first, last := v.colOffset, min(len(l.Groups), v.colOffset+v.visibleColumns())
	for col := first; col < last; col++ {
		sep := s.Muted.Render("│")
		if col == first {
			sep = " "
		}
		g := l.Groups[col]
		if r >= len(g.Tasks) {
			b.WriteString(padTo(sep, cw))
			continue
		}
		b.WriteString(padTo(sep+v.renderTask(l, g, g.Tasks[r], cw-1), cw))
	}
	return b.String()
}

// taskLook is a task's symbol, short state text and style: readable
// without colour, so a projector in monochrome shows the same.
func (v *ClusterView) taskLook(t model.Task) (sym, text string, style, textStyle lipgloss.Style) {
	s := v.styles
	node, _ := v.cluster.Node(t.NodeID)
	switch {
	case t.NodeID != "" && node.State == model.NodeDown && !t.State.Terminal():
		return "?", "node down", s.Failing, s.Failing
	case t.Leaving():
		return "↓", "leaving", s.Warning, s.Warning
	case t.State == model.TaskRunning:
		return "●", "", s.Healthy, s.Base
	case t.State.Failed():
		return "✖", string(t.State), s.Failing, s.Failing
	case t.State == model.TaskComplete:
		return "✓", "complete", s.Muted, s.Muted
	case t.State.Terminal():
		return "○", string(t.State), s.Muted, s.Muted
	}
	return "◐", string(t.State), s.Warning, s.Warning
}

func (v *ClusterView) renderTask(l model.ClusterLane, g model.NodeGroup, t model.Task, w int) string {
	s := v.styles
	selected := v.sel.kind == SelectTask && v.sel.id == t.ID && v.sel.lane == l.Network.ID
	marker := " "
	sym, text, symStyle, textStyle := v.taskLook(t)
	nameStyle := s.Base
	if svc, ok := v.cluster.Service(t.ServiceID); ok {
		nameStyle = v.serviceStyle(svc)
	}
	if selected {
		marker = "▶"
		nameStyle = nameStyle.Inherit(s.Selected)
	}
	if text == "" {
		if tn, ok := t.Network(l.Network.ID); ok && tn.IP() != "" {
			text = tn.IP()
		}
	}
	addrW := max(7, min(15, w-3-10))
	nameW := max(1, w-3-addrW)
	return marker + symStyle.Render(sym) + " " + nameStyle.Render(fit(v.cluster.TaskName(t), nameW)) + " " + textStyle.Render(fit(text, addrW-1))
}

// serviceStyle colours a service's tasks alike, as the lanes colour a
// compose service's containers.
func (v *ClusterView) serviceStyle(sv model.SwarmService) lipgloss.Style {
	return v.styles.Service(model.Container{Labels: map[string]string{
		model.LabelComposeProject: sv.Stack(), model.LabelComposeService: sv.Name,
	}})
}
