package ui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/charmbracelet/bubbles/key"
	"github.com/topo-dev/topo/model"
)

// What the panes and screens do with the keys and clicks that reach them:
// the cluster view, the registry panel, storage, logs and flows.

// toggleFlows turns the flows on or off (f): off, the agent is removed.
// On a swarm manager it asks whose: this engine's (as anywhere else) or
// every node's, which starts an agent on each node.
func (m *Model) toggleFlows() tea.Cmd {
	if m.flows.On() {
		cmd := m.flows.Stop(m.flowSource())
		m.lanes.Invalidate()
		m.details.Refresh()
		m.resize()
		m.updateKeys()
		return cmd
	}
	if m.cfg.Swarm == nil || m.cfg.SwarmFlows == nil {
		return m.startFlows(false)
	}
	m.choose("Show the flows of:",
		pendingChoice{key: "e", label: "this engine only", run: func() tea.Cmd { return m.startFlows(false) }},
		pendingChoice{key: "s", label: "every node of the swarm (an agent per node, as a global service)", run: func() tea.Cmd { return m.startFlows(true) }},
	)
	return nil
}

// startFlows turns the flows on, of every node of the swarm or of this
// engine only.
func (m *Model) startFlows(swarm bool) tea.Cmd {
	var src FlowSampler = m.cfg.Flows
	if swarm {
		src = clusterFlows{src: m.cfg.SwarmFlows, cluster: m.cluster.Cluster()}
	}
	cmd := m.flows.Start(src, m.topo, swarm)
	if m.focus == paneRegistry && !m.registryShown() {
		m.focus = paneLanes
	}
	m.resize()
	m.updateKeys()
	return cmd
}

// flowSource is the sampler of the flows' scope: this engine's, or every
// node's, attributed to the cluster as the view holds it now.
func (m *Model) flowSource() FlowSampler {
	if !m.flows.Swarm() {
		return m.cfg.Flows
	}
	if m.cfg.SwarmFlows == nil {
		return nil
	}
	return clusterFlows{src: m.cfg.SwarmFlows, cluster: m.cluster.Cluster()}
}

// clusterKey handles keys while the cluster view is shown.
func (m *Model) clusterKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	run := func(a ClusterAction) tea.Cmd {
		if m.cfg.Swarm == nil {
			return nil
		}
		m.cluster.Pending(a)
		return RunClusterAction(m.cfg.Swarm, a)
	}
	act := func(a ClusterAction, ok bool) tea.Cmd {
		if !ok {
			return nil
		}
		if a.Confirm() {
			m.ask(a.Prompt(), func() tea.Cmd { return run(a) })
			return nil
		}
		return run(a)
	}
	if d, ok := m.direction(msg); ok {
		m.cluster.Move(d)
		m.updateKeys()
		return nil
	}
	switch {
	case key.Matches(msg, k.ScaleUp):
		return act(m.cluster.ScaleBy(1))
	case key.Matches(msg, k.ScaleDown):
		return act(m.cluster.ScaleBy(-1))
	case key.Matches(msg, k.RestartService):
		return act(m.cluster.RestartAction())
	case key.Matches(msg, k.Drain):
		return act(m.cluster.AvailabilityAction())
	case key.Matches(msg, k.Kill):
		id, name, ok, why := m.cluster.KillTarget()
		if !ok {
			m.setFlash(why, true)
			return nil
		}
		m.ask(fmt.Sprintf("Kill %s (%s)?", name, shortID(id)), func() tea.Cmd {
			return m.startAction(model.ActionKill, id, name)
		})
		return nil
	}
	return m.cluster.Update(msg)
}

// registryKey moves the registry panel's selection, and the lanes' with
// it: picking an instance picks its container.
func (m *Model) registryKey(msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Up):
		m.registry.Move(-1)
	case key.Matches(msg, m.keys.Down):
		m.registry.Move(1)
	default:
		return m.registry.Update(msg)
	}
	if id, ok := m.registry.Selected(); ok && m.lanes.Select(id) {
		return m.selectionChanged()
	}
	return nil
}

func (m *Model) handleMouse(msg tea.MouseMsg) tea.Cmd {
	if msg.Action != tea.MouseActionPress || msg.Button != tea.MouseButtonLeft || m.mode != modeNormal {
		return nil
	}
	x, y, w, h := m.lanesRect()
	if m.lanesScreen() == screenDetails || m.mode == modeHelp {
		return nil
	}
	if msg.X < x || msg.X >= x+w || msg.Y < y || msg.Y >= y+h {
		return nil
	}
	if m.storageShown() && m.lanesScreen() == screenStorage {
		if m.storage.HitTest(msg.X-x, msg.Y-y) {
			m.focus = paneLanes
			if c, ok := m.storage.Selected(); ok {
				m.lanes.Select(c.ID)
			}
			return m.selectionChanged()
		}
		return nil
	}
	if m.lanes.HitTest(msg.X-x, msg.Y-y) {
		m.focus = paneLanes
		return m.selectionChanged()
	}
	return nil
}

// cycleStorage is v: the storage lanes open on volumes, a second press adds
// the bind mounts (grouped per host path), a third closes them.
func (m *Model) cycleStorage() {
	switch {
	case !m.on(screenStorage):
		m.open(screenStorage)
	case !m.storage.Binds():
		m.storage.SetBinds(true)
	default:
		m.close(screenStorage)
	}
	m.updateKeys()
}

// openLogs is l: the selected container's logs, in a pane that takes the
// keys until tab or esc.
func (m *Model) openLogs() tea.Cmd {
	c, ok := m.selected()
	if !ok || m.cfg.Logs == nil {
		return nil
	}
	cmd := m.logs.Open(m.cfg.Logs, c)
	m.drop(screenLogs)
	m.open(screenLogs)
	m.focus = paneLogs
	m.updateKeys()
	return cmd
}
