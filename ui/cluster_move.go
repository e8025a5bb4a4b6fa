package ui

import "github.com/topo-dev/topo/model"

// Moving the selection in the cluster view: its items in reading order,
// arrows between lanes and columns, and scrolling to keep it in view.

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
