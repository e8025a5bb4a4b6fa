package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/topo-dev/topo/model"
)

// This file is network isolation on screen: an overlay for the lanes (what
// the selected container reaches, and through which network), the
// reachability matrix, and the live probe's results next to what the
// topology expects.

// Marks readable without colour.
const (
	markReach    = "↔"
	markIsolated = "✕"
	markUnknown  = "?"
	markMismatch = "✗"
	markOK       = "✓"
	markSkipped  = "·"
)

// IsolationOverlay dims, in the lanes, every container the subject cannot
// reach and every lane it is not on; its legend names the shared networks.
// It implements Overlay, and Badge is a Badger.
type IsolationOverlay struct {
	styles Styles
	topo   model.Topology
	id     string
	iso    model.Isolation
	ok     bool
	// mismatched are the containers with a contradicting probe result
	// from the current subject.
	mismatched map[string]bool
}

// NewIsolationOverlay returns an overlay with no subject, which dims
// nothing.
func NewIsolationOverlay(styles Styles) *IsolationOverlay {
	return &IsolationOverlay{styles: styles, topo: model.NewTopology()}
}

// SetTopology recomputes the overlay for a changed topology.
func (o *IsolationOverlay) SetTopology(t model.Topology) {
	o.topo = t
	o.recompute()
}

// Select makes a container the subject; the probe marks of another
// subject are dropped.
func (o *IsolationOverlay) Select(id string) {
	if id != o.id {
		o.mismatched = nil
	}
	o.id = id
	o.recompute()
}

func (o *IsolationOverlay) recompute() {
	o.iso, o.ok = o.topo.Isolation(o.id)
}

// Subject returns the container whose reach is shown.
func (o *IsolationOverlay) Subject() (model.Container, bool) { return o.iso.Subject, o.ok }

// Isolation returns the computed expectations.
func (o *IsolationOverlay) Isolation() model.Isolation { return o.iso }

// SetReport marks the containers a probe from the subject found in
// contradiction with the topology.
func (o *IsolationOverlay) SetReport(r model.ProbeReport) {
	if r.SubjectID != o.id {
		return
	}
	o.mismatched = map[string]bool{}
	for _, l := range r.Lines {
		if l.Verdict.Mismatch() {
			o.mismatched[l.Target.ContainerID] = true
		}
	}
}

// DimContainer is true for what the subject cannot reach.
func (o *IsolationOverlay) DimContainer(c model.Container) bool {
	if !o.ok || c.ID == o.id || o.mismatched[c.ID] {
		return false
	}
	p, ok := o.iso.Peer(c.ID)
	return !ok || p.Reach == model.Isolated
}

// DimNetwork is true for the lanes the subject is not on.
func (o *IsolationOverlay) DimNetwork(n model.Network) bool {
	return o.ok && !o.iso.OnNetwork(n)
}

// Badge marks each node, so the overlay reads without colour too:
// ↔ reachable, ✕ isolated, ✗ a probe contradicted the expectation.
func (o *IsolationOverlay) Badge(c model.Container) string {
	if !o.ok || c.ID == o.id {
		return ""
	}
	if o.mismatched[c.ID] {
		return o.styles.Error.Render(markMismatch)
	}
	p, ok := o.iso.Peer(c.ID)
	switch {
	case !ok:
		return ""
	case p.Reach == model.Reachable:
		return o.styles.Healthy.Render(markReach)
	case p.Reach == model.Isolated:
		return o.styles.Muted.Render(markIsolated)
	}
	return o.styles.Warning.Render(markUnknown)
}

// Legend is one line naming what the subject reaches, grouped by the
// networks that carry it, and what it does not:
// "reaches: web.1 via front · isolated: mongo.1".
func (o *IsolationOverlay) Legend(width int) string {
	if !o.ok {
		return ansiFit(o.styles.Muted.Render("isolation: select a container"), width)
	}
	s := o.styles
	var groups []string
	project := o.iso.Subject.Project()
	byVia, isolated, unknown, isolatedInProject := o.sortPeers(project)
	vias := make([]string, 0, len(byVia))
	for via := range byVia {
		vias = append(vias, via)
	}
	sort.Strings(vias)
	for _, via := range vias {
		groups = append(groups, s.Healthy.Render(strings.Join(byVia[via], ", "))+s.Muted.Render(" via ")+s.LaneTitle.Render(via))
	}
	var parts []string
	reaches := s.Muted.Render("nothing")
	if len(groups) > 0 {
		reaches = strings.Join(groups, s.Muted.Render("; "))
	}
	subject := s.Bold.Render(o.iso.Subject.DisplayName())
	if tag := o.modeTag(); tag != "" {
		subject += " " + s.Warning.Render("("+tag+")")
	}
	parts = append(parts, subject+s.Bold.Render(" reaches: ")+reaches)
	if len(isolated) > 0 {
		// On a shared engine most isolated peers are other people's
		// containers: name the subject's own project's and count the rest,
		// so the line the audience reads ends with the application's.
		named, others := isolated, 0
		if project != "" && isolatedInProject > 0 {
			named, others = isolated[:isolatedInProject], len(isolated)-isolatedInProject
		}
		list := strings.Join(named, ", ")
		if others > 0 {
			list += fmt.Sprintf(" +%d elsewhere", others)
		}
		parts = append(parts, s.Bold.Render(fmt.Sprintf("isolated (%d): ", len(isolated)))+s.Muted.Render(list))
	}
	if len(unknown) > 0 {
		parts = append(parts, s.Bold.Render("unknown: ")+strings.Join(unknown, ", "))
	}
	line := strings.Join(parts, s.Muted.Render(" · "))
	if ansi.StringWidth(line) > width {
		line = ansi.Truncate(line, max(0, width), "…")
	}
	return line
}

// sortPeers sorts the subject's peers by how it reaches them: by the
// networks that carry it (or its own namespace), isolated (counting those
// of its own project, which come first), or unknown.
func (o *IsolationOverlay) sortPeers(project string) (byVia map[string][]string, isolated, unknown []string, isolatedInProject int) {
	byVia = map[string][]string{}
	// The subject's own compose project comes first: on stage that is the
	// application being shown, and a long line is cut at the end.
	peers := append([]model.Peer(nil), o.iso.Peers...)
	sort.SliceStable(peers, func(i, j int) bool {
		return o.projectOf(peers[i].ID) == project && o.projectOf(peers[j].ID) != project
	})
	for _, p := range peers {
		switch {
		case p.SameNamespace:
			byVia["its namespace"] = append(byVia["its namespace"], p.Name)
		case p.Reach == model.Reachable:
			// The project's own networks by their compose names (front,
			// not demo_front): the title already names the project.
			nets := make([]string, len(p.Via))
			for i, n := range p.Via {
				nets[i] = n
				if project != "" {
					nets[i] = strings.TrimPrefix(n, project+"_")
				}
			}
			via := strings.Join(nets, "+")
			byVia[via] = append(byVia[via], p.Name)
		case p.Reach == model.Isolated:
			isolated = append(isolated, p.Name)
			if project != "" && o.projectOf(p.ID) == project {
				isolatedInProject++
			}
		default:
			unknown = append(unknown, p.Name)
		}
	}
	return byVia, isolated, unknown, isolatedInProject
}

// projectOf is the compose project of a peer container.
func (o *IsolationOverlay) projectOf(id string) string {
	return o.topo.Containers[id].Project()
}

// modeTag is a few words on a subject whose reach is not plain network
// membership; Isolation.Note has the full sentence.
func (o *IsolationOverlay) modeTag() string {
	var tags []string
	if !o.iso.Subject.Running() {
		tags = append(tags, string(o.iso.Subject.State)+": once it runs")
	}
	switch o.iso.Mode {
	case model.NetModeHost:
		tags = append(tags, "host network")
	case model.NetModeNone:
		tags = append(tags, "network none")
	case model.NetModeShared:
		if o.iso.OwnerName != "" {
			tags = append(tags, "in "+o.iso.OwnerName+"'s namespace")
		} else {
			tags = append(tags, "in an unknown namespace")
		}
	}
	return strings.Join(tags, ", ")
}
