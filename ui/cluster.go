package ui

import (
	"fmt"
	"sort"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// The cluster view: what a swarm manager knows, drawn the way the lanes
// draw one engine. From the top: one line per service (replicas, update
// status, image, endpoint, ports); a two-line header of node columns
// (role, leader, state, availability, engine); then one lane per overlay
// network spanning all the node columns, each task in its node's column of
// every lane it is attached to; and two lines about the selection. A node
// that is Down or drained says so in capitals with a symbol, so it reads
// the same in monochrome.

// Geometry of the cluster view, in cells.
const (
	// minNodeColumn fits a marker, a symbol, "web.12" and an IPv4.
	minNodeColumn   = 24
	maxNodeColumn   = 40
	nodeHeaderLines = 2
	infoLines       = 2
)

// ClusterSelectionKind is what kind of thing is selected.
type ClusterSelectionKind int

// The selectable things.
const (
	SelectNone ClusterSelectionKind = iota
	SelectService
	SelectNode
	SelectTask
)

// ClusterSelection is the selected service, node or task.
type ClusterSelection struct {
	Kind    ClusterSelectionKind
	Service model.SwarmService
	Node    model.Node
	Task    model.Task
}

type clusterItem struct {
	kind ClusterSelectionKind
	id   string
	// lane is the overlay network ID of a task item: a task on two
	// overlays is in two lanes, and each is its own item.
	lane string
	// section groups items for left/right: "s" services, "n" the node
	// header, else the lane's network ID.
	section string
	x, y    int
}

// ClusterView draws a swarm and owns its selection and scrolling.
type ClusterView struct {
	styles        Styles
	width, height int
	cluster       model.Cluster
	lanes         []model.ClusterLane
	nodes         []model.Node
	services      []model.SwarmService
	items         []clusterItem
	sel           clusterItem
	colOffset     int
	// lastCol is the node column of the last node or task selected.
	lastCol    int
	svcOffset  int
	lineOffset int
	// pending holds the replica counts asked for but not yet in a
	// snapshot, so + pressed twice quickly means two more, not one.
	pending map[string]uint64
	// prevTasks are the previous snapshot's tasks: a vanished selected
	// task is followed to its successor by service and slot.
	prevTasks map[string]model.Task
	keys      KeyMap
	cache     string
}

// NewClusterView returns an empty cluster view.
func NewClusterView(styles Styles) *ClusterView {
	return &ClusterView{styles: styles, pending: map[string]uint64{}, keys: DefaultKeyMap()}
}

// SetSize gives the view its size.
func (v *ClusterView) SetSize(w, h int) {
	if w != v.width || h != v.height {
		v.width, v.height = w, h
		v.relayout()
	}
}

// SetCluster replaces what the view shows, keeping the selection on the
// same thing, or on what replaced it (a rescheduled task's successor).
func (v *ClusterView) SetCluster(c model.Cluster) {
	v.prevTasks = make(map[string]model.Task, len(v.cluster.Tasks))
	for _, t := range v.cluster.Tasks {
		v.prevTasks[t.ID] = t
	}
	v.cluster = c
	for id, n := range v.pending {
		if s, ok := c.Service(id); !ok || s.Replicas == n {
			delete(v.pending, id)
		}
	}
	v.relayout()
}

// Cluster returns what the view shows.
func (v *ClusterView) Cluster() model.Cluster { return v.cluster }

// Init does nothing: the root starts the swarm watch.
func (v *ClusterView) Init() tea.Cmd { return nil }

// Update moves the selection on the arrow keys and takes cluster
// snapshots; everything else is the root's.
func (v *ClusterView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case ClusterUpdateMsg:
		v.SetCluster(msg.Cluster)
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, v.keys.Up):
			v.Move(model.Up)
		case key.Matches(msg, v.keys.Down):
			v.Move(model.Down)
		case key.Matches(msg, v.keys.Left):
			v.Move(model.Left)
		case key.Matches(msg, v.keys.Right):
			v.Move(model.Right)
		}
	}
	return nil
}

// Title names the view for its pane title: the cluster, its size, the
// stack when every service belongs to one, and the node columns shown
// when they do not all fit.
func (v *ClusterView) Title() string {
	c := v.cluster
	t := fmt.Sprintf("cluster %s · %s · %s", shortID(c.ID), plural(len(c.Nodes), "node"), plural(len(c.Services), "service"))
	if st := v.stack(); st != "" {
		t += " · stack " + st
	}
	if cols, vis := v.columnCount(), v.visibleColumns(); cols > vis {
		t += fmt.Sprintf(" · nodes %d–%d of %d ←/→", v.colOffset+1, min(cols, v.colOffset+vis), cols)
	}
	if c.Stale != nil {
		t += " · STALE"
	}
	return t
}

// stack is the stack shared by every service, if there is one.
func (v *ClusterView) stack() string {
	st := ""
	for i, s := range v.services {
		if i == 0 {
			st = s.Stack()
		} else if s.Stack() != st {
			return ""
		}
	}
	return st
}

func (v *ClusterView) relayout() {
	v.cache = ""
	v.nodes = v.cluster.OrderedNodes()
	v.lanes = v.cluster.Lanes()
	v.services = append(v.services[:0], v.cluster.Services...)
	sort.Slice(v.services, func(i, j int) bool { return v.services[i].Name < v.services[j].Name })
	prev := v.sel
	v.buildItems()
	if it, ok := v.find(prev); ok {
		v.sel = it
	} else if it, ok := v.successor(prev); ok {
		v.sel = it
	} else if it, ok := v.nearest(prev); ok {
		v.sel = it
	} else {
		v.sel = clusterItem{}
	}
	v.scrollToSelection()
}

// servicesHeight is the lines the services list gets: all of them when
// they fit in a quarter of the view, else a quarter, scrolled.
func (v *ClusterView) servicesHeight() int {
	if len(v.services) == 0 {
		return 1 // "no services"
	}
	return min(len(v.services), max(2, v.height/4))
}

// lanesHeight is the lines left for the lanes.
func (v *ClusterView) lanesHeight() int {
	return max(1, v.height-v.servicesHeight()-nodeHeaderLines-infoLines)
}

func (v *ClusterView) columnCount() int {
	n := len(v.nodes)
	if len(v.lanes) > 0 && len(v.lanes[0].Groups) > n {
		n++ // the tasks not yet on a node
	}
	return max(1, n)
}

// visibleColumns is how many node columns fit side by side.
func (v *ClusterView) visibleColumns() int {
	return max(1, min(v.columnCount(), v.width/minNodeColumn))
}

// columnWidth shares the width between the visible node columns, up to a
// width past which wider columns only spread the tasks apart.
func (v *ClusterView) columnWidth() int {
	return max(minNodeColumn, min(maxNodeColumn, v.width/v.visibleColumns()))
}

// laneLines is the height of a lane: its rule, and as many rows as its
// busiest node column has tasks.
func laneLines(l model.ClusterLane) int {
	rows := 0
	for _, g := range l.Groups {
		rows = max(rows, len(g.Tasks))
	}
	return 1 + rows
}

// Selected returns the selection.
func (v *ClusterView) Selected() ClusterSelection {
	switch v.sel.kind {
	case SelectService:
		if s, ok := v.cluster.Service(v.sel.id); ok {
			return ClusterSelection{Kind: SelectService, Service: s}
		}
	case SelectNode:
		if n, ok := v.cluster.Node(v.sel.id); ok {
			return ClusterSelection{Kind: SelectNode, Node: n}
		}
	case SelectTask:
		if t, ok := v.cluster.Task(v.sel.id); ok {
			s, _ := v.cluster.Service(t.ServiceID)
			n, _ := v.cluster.Node(t.NodeID)
			return ClusterSelection{Kind: SelectTask, Task: t, Service: s, Node: n}
		}
	}
	return ClusterSelection{}
}

// selectedService is the selected service, or the selected task's.
func (v *ClusterView) selectedService() (model.SwarmService, bool) {
	sel := v.Selected()
	switch sel.Kind {
	case SelectService, SelectTask:
		return sel.Service, sel.Service.ID != ""
	}
	return model.SwarmService{}, false
}
