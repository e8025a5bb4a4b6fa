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
	s := v.styles
	sel := v.Selected()
	var a, b string
	switch sel.Kind {
	case SelectService:
		sv := sel.Service
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
	case SelectNode:
		n := sel.Node
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
	case SelectTask:
		t := sel.Task
		host := "not on a node yet"
		if sel.Node.ID != "" {
			host = "on " + sel.Node.Hostname
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
	default:
		a = s.Muted.Render("↑/↓ services, nodes, tasks · ←/→ nodes")
	}
	return []string{a, b}
}
