package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/topo-dev/topo/model"
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
	case EngineDescribedMsg:
		return m.described(msg), true
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

// applyUpdates applies the watch's updates in order, then lays the panes
// out once for all of them.
func (m *Model) applyUpdates(us ...model.Update) tea.Cmd {
	changed := false
	for _, u := range us {
		if m.applyUpdate(u) {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	m.lanes.SetTopology(m.topo)
	m.registry.SetTopology(m.topo)
	m.autoFocus()
	m.markGone()
	m.noteMisplaced()
	// The overlay and the matrix are computed over every container: only
	// while shown, not on every event of an engine nobody is inspecting.
	if m.on(screenOverlay) {
		m.overlay.SetTopology(m.topo)
	}
	if m.on(screenMatrix) {
		m.matrix.SetTopology(m.topo)
	}
	// The lanes' need and the panels' content may have changed: lay the
	// screen out again.
	m.resize()
	if m.on(screenStorage) {
		m.storage.SetTopology(m.topo)
	}
	cmds := []tea.Cmd{m.selectionChanged(), m.askDescription()}
	for _, u := range us {
		if u.Lost == nil {
			cmds = append(cmds, m.maybeFindRegistry(u))
		}
	}
	return tea.Batch(cmds...)
}

// applyUpdate applies one update to the model's topology, status and log,
// and says whether the topology may have changed.
func (m *Model) applyUpdate(u model.Update) bool {
	now := m.cfg.Now()
	switch {
	case u.Snapshot != nil:
		m.topo = *u.Snapshot
		if m.stale != nil {
			m.log.Add(now, "reconnected: resynced the whole topology", false)
		}
		m.synced, m.stale = true, nil
		m.lastEvent, m.lastWhat = now, "synced"

	case u.Event != nil:
		ev := *u.Event
		// Describe before applying, while a destroyed container still
		// has its name.
		line := ev.Describe(m.topo)
		// A network event names its container only by ID: topo's own
		// (the flow agent joining network none) is known by its labels.
		own := ev.Attributes[model.LabelProbe] != "" ||
			m.topo.Containers[ev.Attributes["container"]].Labels[model.LabelProbe] != ""
		m.topo.Apply(ev)
		m.lastEvent, m.lastWhat = now, "last event"
		// topo's own probe containers come and go with every probe; the
		// log is for what the audience changed.
		if !own {
			m.log.Add(ev.Time, line, isBadEvent(ev))
		}
	case u.Refresh != nil:
		m.topo.Refresh(*u.Refresh)
	case u.Lost != nil:
		if m.stale == nil {
			m.log.Add(now, "lost the engine: "+u.Lost.Error(), true)
		}
		m.stale, m.retryAt = u.Lost, u.Retry
		return false
	}
	return true
}

func isBadEvent(ev model.Event) bool {
	switch ev.BaseAction() {
	case "kill", "oom":
		return true
	case "die":
		return ev.Attributes["exitCode"] != "0"
	case "health_status":
		return strings.Contains(ev.Action, string(model.HealthUnhealthy))
	}
	return false
}

// flowsUpdate hands the sampler's messages to the flows pane, and logs
// each newly flagged flow once and a sample that failed.
func (m *Model) flowsUpdate(msg tea.Msg) tea.Cmd {
	wasOn := m.flows.On()
	cmd, flagged, changed := m.flows.Update(msg, m.flowSource(), m.topo)
	if got, ok := msg.(FlowsMsg); ok && wasOn && !m.flows.On() && got.Err != nil {
		m.log.Add(m.cfg.Now(), "flows off: "+got.Err.Error()+" (f tries again)", true)
		m.setFlash("flows off: "+got.Err.Error(), true)
		m.resize()
		m.updateKeys()
		m.bodyDirty = true
	}
	for _, f := range flagged {
		m.log.Add(m.cfg.Now(), flagLine(f), true)
		m.bodyDirty = true
	}
	if changed {
		// Under the lanes the pane is as high as its paths need.
		m.resize()
		m.lanes.Invalidate()
		m.details.Refresh()
		m.bodyDirty = true
	}
	return cmd
}
