package ui

import (
	"fmt"
	"strings"

	"github.com/topo-dev/topo/model"
)

// The cluster view's info box: what the selection (a node, a service, a
// task) is, in full.

// renderInfo is two lines about the selection: what the grid has no room
// for (a task's error, a node's message, a service's ports and VIPs).
func (v *ClusterView) renderInfo() []string {
	sel := v.Selected()
	var a, b string
	switch sel.Kind {
	case SelectService:
		a, b = v.serviceInfo(sel.Service)
	case SelectNode:
		a, b = v.nodeInfo(sel.Node)
	case SelectTask:
		a, b = v.taskInfo(sel.Task, sel.Node)
	default:
		a = v.styles.Muted.Render("↑/↓ services, nodes, tasks · ←/→ nodes")
	}
	return []string{a, b}
}

// serviceInfo: its mode, replicas and image; its endpoints, VIPs, ports
// and update message.
func (v *ClusterView) serviceInfo(sv model.SwarmService) (a, b string) {
	s := v.styles
	running, desired := v.cluster.Replicas(sv.ID)
	mode := fmt.Sprintf("%s %d/%d", sv.Mode, running, desired)
	a = s.Bold.Render(sv.Name) + s.Muted.Render(" · ") + mode + s.Muted.Render(" · image ") + sv.Image
	if sv.UpdateState != "" {
		a += s.Muted.Render(" · update ") + sv.UpdateState
	}
	var parts []string
	if sv.EndpointMode == model.EndpointDNSRR {
		parts = append(parts, "endpoint dnsrr (no virtual IP: names resolve to the tasks)")
	}
	for _, vip := range sv.VirtualIPs {
		name := shortID(vip.NetworkID)
		for _, n := range v.cluster.Networks {
			if n.ID == vip.NetworkID {
				name = n.Name
			}
		}
		parts = append(parts, "vip "+vip.Addr+" on "+name)
	}
	for _, p := range sv.Ports {
		parts = append(parts, "publishes "+p.String())
	}
	if sv.UpdateMessage != "" {
		parts = append(parts, sv.UpdateMessage)
	}
	b = s.Muted.Render(strings.Join(parts, " · "))
	return a, b
}

// nodeInfo: its role, state and address; its tasks, after its message
// when it is not ready.
func (v *ClusterView) nodeInfo(n model.Node) (a, b string) {
	s := v.styles
	a = s.Bold.Render(n.Hostname) + s.Muted.Render(" · ") + string(n.Role)
	if n.Leader {
		a += " (leader)"
	} else if n.Reachability != "" {
		a += " (" + n.Reachability + ")"
	}
	a += s.Muted.Render(" · ") + v.nodeStatus(n, v.width)
	if n.Addr != "" {
		a += s.Muted.Render(" · " + n.Addr)
	}
	var names []string
	for _, t := range v.cluster.TasksOn(n.ID) {
		names = append(names, v.cluster.TaskName(t))
	}
	b = fmt.Sprintf("%d tasks", len(names))
	if len(names) > 0 {
		b += ": " + strings.Join(names, ", ")
	}
	b = s.Muted.Render(b)
	if n.Message != "" && n.State != model.NodeReady {
		b = s.Error.Render(n.Message) + s.Muted.Render(" · ") + b
	}
	return a, b
}

// taskInfo: where it runs, its desired and current state; its addresses
// and container, after its error or message.
func (v *ClusterView) taskInfo(t model.Task, node model.Node) (a, b string) {
	s := v.styles
	host := "not on a node yet"
	if node.ID != "" {
		host = "on " + node.Hostname
	}
	a = s.Bold.Render(v.cluster.TaskName(t)) + s.Muted.Render(" "+host+" · desired ") + string(t.DesiredState) +
		s.Muted.Render(" · current ") + string(t.State)
	if !t.Since.IsZero() {
		a += s.Muted.Render(" since " + t.Since.UTC().Format("15:04:05"))
	}
	var addrs []string
	for _, n := range t.Networks {
		addrs = append(addrs, n.Name+" "+n.IP())
	}
	if t.ContainerID != "" {
		addrs = append(addrs, "container "+shortID(t.ContainerID))
	}
	b = s.Muted.Render(strings.Join(addrs, " · "))
	if t.Err != "" {
		b = s.Error.Render("error: "+t.Err) + "  " + b
	} else if t.Message != "" && t.State != model.TaskRunning {
		b = s.Warning.Render(t.Message) + "  " + b
	}
	return a, b
}
