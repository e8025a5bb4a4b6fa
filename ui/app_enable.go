package ui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/topo-dev/topo/model"
)

// Which keys apply now: a binding that does not apply in the current
// context is disabled, so help and the footer never list a dead key.

// updateKeys enables exactly the bindings that apply now.
func (m *Model) updateKeys() {
	c, ok := m.selected()
	// Help lists the keys of the normal mode: an engine event arriving
	// while it is open must not empty the list.
	normal := m.mode == modeNormal || m.mode == modeHelp
	canAct := normal && ok && m.busy[c.ID] == ""
	m.keys.Kill.SetEnabled(canAct && c.Running())
	m.keys.StopStart.SetEnabled(canAct)
	m.keys.Restart.SetEnabled(canAct)
	if ok && !c.Running() {
		m.keys.StopStart.SetHelp("s", "start")
	} else {
		m.keys.StopStart.SetHelp("s", "stop")
	}
	m.keys.Details.SetEnabled(normal && ok)
	m.keys.Focus.SetEnabled(normal && m.lanesScreen() != screenCluster && len(m.topo.Projects()) > 0)
	m.keys.Group.SetEnabled(normal && ok && model.ReplicaKey(c) != "" && m.lanesScreen() != screenCluster)
	if m.lanes.Grouped() {
		m.keys.Group.SetHelp("z", "open replicas")
	} else {
		m.keys.Group.SetHelp("z", "group replicas")
	}
	m.keys.Isolation.SetEnabled(normal && (ok || m.on(screenOverlay)))
	m.keys.Matrix.SetEnabled(normal && m.synced)
	m.keys.Probe.SetEnabled(normal && ok && c.Running() && m.cfg.Prober != nil && !m.probe.Running())
	m.keys.ClusterView.SetEnabled(normal && (m.cfg.Cluster != nil || (m.replay != nil && m.replay.sawCluster)))
	demoReady := normal && m.cfg.Demo != nil && !m.demo.Running() && m.lanesScreen() != screenCluster
	m.keys.Deploy.SetEnabled(demoReady)
	m.keys.Teardown.SetEnabled(demoReady)
	m.keys.ScaleUp.SetEnabled(demoReady)
	m.keys.ScaleDown.SetEnabled(demoReady)
	m.keys.Traffic.SetEnabled(normal && m.cfg.Traffic != nil)
	m.keys.Flows.SetEnabled(normal && m.cfg.Flows != nil)
	if m.flows.On() {
		m.keys.Flows.SetHelp("f", "flows off")
	} else {
		m.keys.Flows.SetHelp("f", "flows on")
	}
	m.updateStorageKeys(normal, ok)
	m.updateClusterKeys(normal)
	m.keys.Back.SetEnabled(normal)
	m.keys.SaveScreen.SetEnabled(normal && m.cfg.Screens != nil)
	for _, b := range []*key.Binding{&m.keys.Pause, &m.keys.StepBack, &m.keys.StepForward, &m.keys.Slower, &m.keys.Faster} {
		b.SetEnabled(normal && m.replay != nil)
	}
	if m.cfg.ReadOnly {
		// Help lists no key that could only be refused.
		for _, b := range []*key.Binding{&m.keys.Kill, &m.keys.StopStart, &m.keys.Restart, &m.keys.Deploy,
			&m.keys.ScaleUp, &m.keys.ScaleDown, &m.keys.Teardown, &m.keys.Traffic, &m.keys.Probe,
			&m.keys.RestartService, &m.keys.Drain} {
			b.SetEnabled(false)
		}
	}
	m.keys.Confirm.SetEnabled(m.mode == modeConfirm)
	m.keys.Deny.SetEnabled(m.mode == modeConfirm)
	if m.lanes.ShowsBuiltIn() {
		m.keys.BuiltIn.SetHelp("b", "hide built-in nets")
	} else {
		m.keys.BuiltIn.SetHelp("b", "show built-in nets")
	}
	// The logs pane, focused, takes the letters it uses: help lists its
	// meaning of them, not the lanes'.
	focused := m.logsFocused()
	m.keys.Log.setEnabled(normal && focused)
	if normal && focused {
		for _, b := range []*key.Binding{&m.keys.Filter, &m.keys.ClusterView, &m.keys.Probe, &m.keys.BuiltIn, &m.keys.Drain, &m.keys.Sizes} {
			b.SetEnabled(false)
		}
	}
}

// updateStorageKeys enables l, v and u, and names what v does next.
func (m *Model) updateStorageKeys(normal, selected bool) {
	// The swarm view has a selection of its own, of tasks across nodes.
	lanes := m.lanesScreen() != screenCluster
	m.keys.Logs.SetEnabled(normal && lanes && selected && m.cfg.Logs != nil)
	m.keys.Storage.SetEnabled(normal && lanes && m.synced)
	switch {
	case !m.on(screenStorage):
		m.keys.Storage.SetHelp("v", "storage lanes")
	case !m.storage.Binds():
		m.keys.Storage.SetHelp("v", "+ bind mounts")
	default:
		m.keys.Storage.SetHelp("v", "close storage")
	}
	m.keys.Sizes.SetEnabled(normal && m.storageShown() && m.cfg.Volumes != nil && !m.storage.sizing)
}

// updateClusterKeys enables the swarm keys where the cluster view's
// selection allows them, and says in help why x cannot kill a task of
// another node.
func (m *Model) updateClusterKeys(normal bool) {
	m.keys.Kill.SetHelp("x", "kill")
	if m.lanesScreen() != screenCluster {
		// + and - belong to the demo in the lanes.
		m.keys.RestartService.SetEnabled(false)
		m.keys.Drain.SetEnabled(false)
		return
	}
	_, scaleUp := m.cluster.ScaleBy(1)
	_, scaleDown := m.cluster.ScaleBy(-1)
	_, restart := m.cluster.RestartAction()
	drain, canDrain := m.cluster.AvailabilityAction()
	m.keys.ScaleUp.SetEnabled(normal && scaleUp)
	m.keys.ScaleDown.SetEnabled(normal && scaleDown)
	m.keys.RestartService.SetEnabled(normal && restart)
	m.keys.Drain.SetEnabled(normal && canDrain)
	if drain.Kind == ClusterActivate {
		m.keys.Drain.SetHelp("d", "activate node")
	} else {
		m.keys.Drain.SetHelp("d", "drain node")
	}
	_, _, canKill, why := m.cluster.KillTarget()
	m.keys.Kill.SetEnabled(normal && canKill)
	m.keys.StopStart.SetEnabled(false)
	m.keys.Restart.SetEnabled(false)
	if !canKill && why != "" {
		m.keys.Kill.SetHelp("x", "kill: "+why)
	}
}
