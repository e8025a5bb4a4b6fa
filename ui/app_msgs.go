package ui

import (
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
)

// The messages the root model takes besides keys: what the feeds send as
// the engine, the registries and the swarm change, and what the
// operations a key started say as they go and end.

// feedMsg takes what the engine, the registries and the swarm send as
// they change.
func (m *Model) feedMsg(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case EngineUpdateMsg:
		return tea.Batch(m.applyUpdates(msg.Update), waitForUpdate(m.cfg.Updates)), true
	case EngineBatchMsg:
		return tea.Batch(m.applyUpdates(msg.Updates...), waitForUpdate(m.cfg.Updates)), true
	case EngineClosedMsg:
		m.closed = true
		return nil, true
	case RegistryConnectedMsg:
		cmd := m.registryConnected(msg)
		// The registry panel's height follows its content (see arrange).
		m.resize()
		return cmd, true
	case registryRetryMsg:
		return m.retryRegistry(), true
	case RegistryMsg:
		cmd := m.registrySnapshot(msg)
		m.resize()
		return cmd, true
	case RegistryClosedMsg:
		return nil, true
	case ClusterUpdateMsg:
		m.cluster.SetCluster(msg.Cluster)
		m.registry.SetElsewhere(msg.Cluster.Elsewhere())
		for _, ev := range msg.Cluster.Events {
			m.log.Add(m.cfg.Now(), ev.Describe(), false)
		}
		m.updateKeys()
		return WaitForCluster(m.cfg.Cluster), true
	}
	return nil, false
}

// resultMsg takes what the operations a key started say as they go and
// when they end: probes, the demo, traffic, actions, logs, reads.
func (m *Model) resultMsg(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case ScreenSavedMsg:
		if msg.Err != nil {
			m.setFlash("the screen was not saved: "+msg.Err.Error(), true)
		} else {
			m.setFlash("saved the screen to "+msg.Path, false)
		}
		return nil, true
	case ProbeDoneMsg:
		cmd := m.probe.Update(msg)
		if report, ok := m.probe.Report(); ok && msg.Err == nil {
			m.overlay.SetReport(report)
			m.lanes.Invalidate()
		}
		return cmd, true
	case ProbeTickMsg:
		return m.probe.Update(msg), true
	case DemoStepMsg, DemoTickMsg:
		return m.demo.Update(msg), true
	case DemoDoneMsg:
		return m.demoDone(msg), true
	case TrafficMsg, TrafficStoppedMsg:
		cmd := m.traffic.Update(msg)
		m.resize()
		return cmd, true
	case FlowsMsg, FlowsTickMsg:
		return m.flowsUpdate(msg), true
	case FlowsClosedMsg:
		if msg.Err != nil {
			m.log.Add(m.cfg.Now(), "flows: "+msg.Err.Error(), true)
		}
		return nil, true
	case ClusterActionDoneMsg:
		if msg.Err != nil {
			m.cluster.Forget(msg.Action)
			m.setFlash(msg.Err.Error(), true)
		} else {
			m.setFlash(msg.Action.Done(), false)
		}
		return nil, true
	case LogsStartedMsg, LogsMsg, LogsEndedMsg:
		return m.logs.Update(msg), true
	case VolumeUsageMsg:
		m.storage.SetUsage(msg.Usage, msg.At, msg.Err)
		m.updateKeys()
		return nil, true
	case InspectedMsg:
		m.details.SetInspection(msg.Container, msg.Err)
		return nil, true
	case ActionDoneMsg:
		delete(m.busy, msg.ID)
		m.updateKeys()
		if msg.Err != nil {
			m.setFlash(msg.Err.Error(), true)
		} else {
			m.setFlash(msg.Action.PastTense()+" "+msg.Name, false)
		}
		return nil, true
	case spinner.TickMsg:
		if len(m.busy) == 0 {
			return nil, true
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return cmd, true
	}
	return nil, false
}

// demoDone ends a demo operation: its outcome in the log, and after a
// teardown no traffic to the load balancer that is gone.
func (m *Model) demoDone(msg DemoDoneMsg) tea.Cmd {
	cmd := m.demo.Update(msg)
	m.demoDoneAt = m.cfg.Now()
	switch {
	case msg.Err != nil:
		m.log.Add(m.cfg.Now(), "demo: "+msg.Err.Error(), true)
	case msg.URL != "":
		// The log keeps the address once the panel makes room.
		m.log.Add(m.cfg.Now(), "demo ready: "+msg.URL, false)
	}
	if m.demo.TornDown() && m.traffic.Running() {
		// Its load balancer is gone: every request would fail.
		m.traffic.Stop()
		m.log.Add(m.cfg.Now(), "traffic stopped: the demo is gone", false)
	}
	m.resize()
	m.updateKeys()
	return cmd
}

// clockTick redraws what counts with the clock, once a second.
func (m *Model) clockTick() tea.Cmd {
	if m.flash.text != "" && m.wall().Sub(m.flash.at) > flashFor {
		m.flash = flash{}
		m.bodyDirty = true
	}
	for _, name := range m.registry.Names() {
		if r, ok := m.registry.Registry(name); ok && r.Error != "" {
			// "failing for 11s" counts with the clock.
			m.bodyDirty = true
		}
	}
	if m.detailsVisible() && m.details.Tick() {
		// "running for 5m02s" counts with the clock.
		m.bodyDirty = true
	}
	if shown := m.demoPanelShown(); shown != m.demoShown {
		// A finished demo operation's panel just gave way.
		m.resize()
		m.bodyDirty = true
	}
	return tick()
}
