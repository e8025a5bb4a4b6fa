package ui

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"topo/model"
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

// plural counts a noun: "1 node", "3 nodes".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
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

// buildItems lays out every selectable thing on a virtual grid: services
// at lines 0..S-1, the node header at line S, then the lanes.
func (v *ClusterView) buildItems() {
	v.items = v.items[:0]
	for i, s := range v.services {
		v.items = append(v.items, clusterItem{kind: SelectService, id: s.ID, section: "s", x: -1, y: i})
	}
	y := len(v.services)
	for i, n := range v.nodes {
		v.items = append(v.items, clusterItem{kind: SelectNode, id: n.ID, section: "n", x: i, y: y})
	}
	y++
	for _, l := range v.lanes {
		y++ // the lane's rule
		for col, g := range l.Groups {
			for row, t := range g.Tasks {
				v.items = append(v.items, clusterItem{kind: SelectTask, id: t.ID, lane: l.Network.ID, section: "l:" + l.Network.ID, x: col, y: y + row})
			}
		}
		y += laneLines(l) - 1
	}
}

func (v *ClusterView) find(it clusterItem) (clusterItem, bool) {
	if it.kind == SelectNone {
		return clusterItem{}, false
	}
	for _, c := range v.items {
		if c.kind == it.kind && c.id == it.id && c.lane == it.lane {
			return c, true
		}
	}
	return clusterItem{}, false
}

// successor finds the task that replaced a vanished selected task: same
// service and slot (or node, for a global service), same lane.
func (v *ClusterView) successor(prev clusterItem) (clusterItem, bool) {
	if prev.kind != SelectTask {
		return clusterItem{}, false
	}
	old, ok := v.prevTasks[prev.id]
	if !ok {
		return clusterItem{}, false
	}
	for _, it := range v.items {
		if it.kind != SelectTask || it.lane != prev.lane {
			continue
		}
		t, _ := v.cluster.Task(it.id)
		if t.ServiceID == old.ServiceID && ((old.Slot > 0 && t.Slot == old.Slot) || (old.Slot == 0 && t.NodeID == old.NodeID)) {
			return it, true
		}
	}
	return clusterItem{}, false
}

// nearest picks the item closest to where the selection was, so a vanished
// selection does not jump across the screen.
func (v *ClusterView) nearest(prev clusterItem) (clusterItem, bool) {
	if len(v.items) == 0 {
		return clusterItem{}, false
	}
	if prev.kind == SelectNone {
		// First snapshot: start on the first task, where the action is,
		// else the first service.
		for _, it := range v.items {
			if it.kind == SelectTask {
				return it, true
			}
		}
		return v.items[0], true
	}
	best, bestD := v.items[0], -1
	for _, it := range v.items {
		d := abs(it.y-prev.y)*100 + abs(it.x-prev.x)
		if bestD < 0 || d < bestD {
			best, bestD = it, d
		}
	}
	return best, true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Move moves the selection: up and down to the nearest line with
// something on it (services, the node header, task rows), left and right
// to the next node column within the same lane or header.
func (v *ClusterView) Move(d model.Direction) {
	cur := v.sel
	if cur.x < 0 {
		// From the services list, come back down to the node column
		// the selection last was in.
		cur.x = v.lastCol
	}
	var best clusterItem
	found := false
	better := func(it clusterItem) bool {
		if !found {
			return true
		}
		switch d {
		case model.Up:
			if it.y != best.y {
				return it.y > best.y
			}
		case model.Down:
			if it.y != best.y {
				return it.y < best.y
			}
		case model.Left:
			if it.x != best.x {
				return it.x > best.x
			}
			return abs(it.y-cur.y) < abs(best.y-cur.y)
		case model.Right:
			if it.x != best.x {
				return it.x < best.x
			}
			return abs(it.y-cur.y) < abs(best.y-cur.y)
		}
		return colDist(it.x, cur.x) < colDist(best.x, cur.x)
	}
	for _, it := range v.items {
		ok := false
		switch d {
		case model.Up:
			ok = it.y < cur.y
		case model.Down:
			ok = it.y > cur.y
		case model.Left:
			ok = it.section == cur.section && it.x < cur.x
		case model.Right:
			ok = it.section == cur.section && it.x > cur.x
		}
		if ok && better(it) {
			best, found = it, true
		}
	}
	if !found {
		return
	}
	v.sel = best
	if best.x >= 0 {
		v.lastCol = best.x
	}
	v.cache = ""
	v.scrollToSelection()
}

// colDist measures across columns; services (x -1) are near every column.
func colDist(a, b int) int {
	if a < 0 || b < 0 {
		return 0
	}
	return abs(a - b)
}

func (v *ClusterView) scrollToSelection() {
	vis := v.visibleColumns()
	if v.sel.x >= 0 && (v.sel.kind == SelectNode || v.sel.kind == SelectTask) {
		if v.sel.x < v.colOffset {
			v.colOffset = v.sel.x
		} else if v.sel.x >= v.colOffset+vis {
			v.colOffset = v.sel.x - vis + 1
		}
	}
	v.colOffset = max(0, min(v.colOffset, v.columnCount()-vis))
	sh := v.servicesHeight()
	if v.sel.kind == SelectService {
		if v.sel.y < v.svcOffset {
			v.svcOffset = v.sel.y
		} else if v.sel.y >= v.svcOffset+sh {
			v.svcOffset = v.sel.y - sh + 1
		}
	}
	v.svcOffset = max(0, min(v.svcOffset, len(v.services)-sh))
	lh := v.lanesHeight()
	if v.sel.kind == SelectTask {
		line := v.sel.y - len(v.services) - 1 // within the lanes block
		// Keep the lane's rule in view with its first row.
		top := line
		if top > 0 && !v.hasItemAt(v.sel.y-1) {
			top--
		}
		if top < v.lineOffset {
			v.lineOffset = top
		} else if line >= v.lineOffset+lh {
			v.lineOffset = line - lh + 1
		}
	}
	total := 0
	for _, l := range v.lanes {
		total += laneLines(l)
	}
	v.lineOffset = max(0, min(v.lineOffset, total-lh))
}

func (v *ClusterView) hasItemAt(y int) bool {
	for _, it := range v.items {
		if it.y == y {
			return true
		}
	}
	return false
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

// ClusterActionKind is what a cluster action does.
type ClusterActionKind int

// The cluster actions.
const (
	ClusterScale ClusterActionKind = iota
	ClusterRestart
	ClusterDrain
	ClusterActivate
)

// ClusterAction is a request of the cluster view to the swarm: the root
// confirms it when Confirm says so, then runs it with RunClusterAction.
type ClusterAction struct {
	Kind ClusterActionKind
	// ID is the service's or node's ID; Name is what a person calls it.
	ID, Name string
	Replicas uint64
	// Tasks is how many tasks the action moves, for the prompt.
	Tasks int
}

// Confirm says whether the action needs a yes first: restart and drain
// move every task; a scale step is small and undone by the other key.
func (a ClusterAction) Confirm() bool { return a.Kind != ClusterScale }

// Prompt is the confirmation question.
func (a ClusterAction) Prompt() string {
	switch a.Kind {
	case ClusterRestart:
		return fmt.Sprintf("Restart %s: replace its %d tasks, rolling?", a.Name, a.Tasks)
	case ClusterDrain:
		return fmt.Sprintf("Drain %s: move its %d tasks to other nodes?", a.Name, a.Tasks)
	case ClusterActivate:
		return fmt.Sprintf("Activate %s: let tasks be placed on it again?", a.Name)
	}
	return fmt.Sprintf("Scale %s to %d?", a.Name, a.Replicas)
}

// Done is the result line once the swarm accepted the action.
func (a ClusterAction) Done() string {
	switch a.Kind {
	case ClusterRestart:
		return "restarting " + a.Name + ": tasks are being replaced"
	case ClusterDrain:
		return "draining " + a.Name
	case ClusterActivate:
		return "activated " + a.Name
	}
	return fmt.Sprintf("scaled %s to %d", a.Name, a.Replicas)
}

// ScaleBy is the scale action for + (delta 1) or - (delta -1) on the
// selected service or the selected task's service. It is not ok for a
// global service or below zero. The count starts from any scale still on
// its way, so repeated presses add up.
func (v *ClusterView) ScaleBy(delta int) (ClusterAction, bool) {
	s, ok := v.selectedService()
	if !ok || s.Mode != model.ModeReplicated {
		return ClusterAction{}, false
	}
	cur := s.Replicas
	if p, ok := v.pending[s.ID]; ok {
		cur = p
	}
	if delta < 0 && cur < uint64(-delta) {
		return ClusterAction{}, false
	}
	n := uint64(int64(cur) + int64(delta))
	return ClusterAction{Kind: ClusterScale, ID: s.ID, Name: s.DisplayName(), Replicas: n}, true
}

// RestartAction is the rolling restart of the selected service (or the
// selected task's).
func (v *ClusterView) RestartAction() (ClusterAction, bool) {
	s, ok := v.selectedService()
	if !ok || s.Job() {
		return ClusterAction{}, false
	}
	_, desired := v.cluster.Replicas(s.ID)
	return ClusterAction{Kind: ClusterRestart, ID: s.ID, Name: s.DisplayName(), Tasks: desired}, true
}

// AvailabilityAction drains the selected node when it is active, else
// activates it.
func (v *ClusterView) AvailabilityAction() (ClusterAction, bool) {
	sel := v.Selected()
	if sel.Kind != SelectNode {
		return ClusterAction{}, false
	}
	n := sel.Node
	if n.Availability != model.AvailabilityActive {
		return ClusterAction{Kind: ClusterActivate, ID: n.ID, Name: n.Hostname}, true
	}
	return ClusterAction{Kind: ClusterDrain, ID: n.ID, Name: n.Hostname, Tasks: len(v.cluster.TasksOn(n.ID))}, true
}

// KillTarget is the container x would kill: only a task on the node of
// the engine topo talks to has a container topo can reach. Otherwise why
// says so, for the help and the footer.
func (v *ClusterView) KillTarget() (containerID, name string, ok bool, why string) {
	sel := v.Selected()
	if sel.Kind != SelectTask {
		return "", "", false, "select a task to kill its container"
	}
	t := sel.Task
	name = v.cluster.TaskName(t)
	switch {
	case t.NodeID != v.cluster.LocalNodeID:
		local, _ := v.cluster.Node(v.cluster.LocalNodeID)
		return "", name, false, fmt.Sprintf("%s runs on %s: topo talks to %s's engine and can kill only its containers", name, sel.Node.Hostname, local.Hostname)
	case t.ContainerID == "" || t.State != model.TaskRunning:
		return "", name, false, fmt.Sprintf("%s has no running container (%s)", name, t.State)
	}
	return t.ContainerID, name, true, ""
}

// Pending records a scale the root sent, so the view shows it and the next
// press counts from it.
func (v *ClusterView) Pending(a ClusterAction) {
	if a.Kind == ClusterScale {
		v.pending[a.ID] = a.Replicas
		v.cache = ""
	}
}

// Forget drops a pending scale that failed.
func (v *ClusterView) Forget(a ClusterAction) {
	if a.Kind == ClusterScale {
		delete(v.pending, a.ID)
		v.cache = ""
	}
}

// SwarmEngine is what the cluster view asks of the swarm adapter; main.go
// passes *docker.Swarm and tests a fake.
type SwarmEngine interface {
	Scale(ctx context.Context, service string, replicas uint64) error
	Restart(ctx context.Context, service string) error
	SetAvailability(ctx context.Context, node string, a model.NodeAvailability) error
}

// ClusterUpdateMsg carries one snapshot of the swarm watch.
type ClusterUpdateMsg struct{ Cluster model.Cluster }

// ClusterClosedMsg says the swarm watch ended.
type ClusterClosedMsg struct{}

// WaitForCluster waits for the next snapshot of the swarm watch; re-arm it
// after every ClusterUpdateMsg so snapshots arrive one at a time, in order.
func WaitForCluster(ch <-chan model.Cluster) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		c, ok := <-ch
		if !ok {
			return ClusterClosedMsg{}
		}
		return ClusterUpdateMsg{Cluster: c}
	}
}

// ClusterActionDoneMsg carries the result of a cluster action.
type ClusterActionDoneMsg struct {
	Action ClusterAction
	Err    error
}

// RunClusterAction runs an action against the swarm.
func RunClusterAction(e SwarmEngine, a ClusterAction) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		var err error
		switch a.Kind {
		case ClusterScale:
			err = e.Scale(ctx, a.ID, a.Replicas)
		case ClusterRestart:
			err = e.Restart(ctx, a.ID)
		case ClusterDrain:
			err = e.SetAvailability(ctx, a.ID, model.AvailabilityDrain)
		case ClusterActivate:
			err = e.SetAvailability(ctx, a.ID, model.AvailabilityActive)
		}
		return ClusterActionDoneMsg{Action: a, Err: err}
	}
}

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
